"""The real Zhuhai data (../shared/data/zhuhai) through the whole pipeline."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from scipy.spatial import cKDTree

from equiserve import run_report
from equiserve.config import RegionsConfig, SourceSpec
from equiserve.errors import DataQualityWarning
from equiserve.geo import parse_crs
from equiserve.regions import load_regions

pytestmark = pytest.mark.realdata

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "zhuhai" / "study.toml"
CENSUS_2020_TOTAL = 2_439_585  # 珠海市, 7th census (SOURCES.md section 4)


@pytest.fixture(scope="module")
def zhuhai_run(zhuhai_data, tmp_path_factory) -> Path:
    """Run examples/zhuhai/study.toml with its data paths pointed at the fixture's folder."""
    folder = tmp_path_factory.mktemp("zhuhai")
    text = EXAMPLE.read_text(encoding="utf-8").replace("../../../shared/data/zhuhai",
                                                       zhuhai_data.as_posix())
    config = folder / "study.toml"
    config.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        run_report(config, folder / "out")
    return folder / "out"


def test_census_population_is_conserved(zhuhai_run):
    s = pd.read_csv(zhuhai_run / "summary.csv")
    study = s[(s["level"] == "study") & (s["layer"] == "schools")].iloc[0]
    assert study["population"] == pytest.approx(CENSUS_2020_TOTAL, rel=1e-6)
    regions = s[(s["level"] == "region") & (s["layer"] == "schools")].set_index("name")
    assert regions.loc["斗门区", "population"] == pytest.approx(608_899, rel=1e-6)
    assert regions.loc["金湾区", "population"] == pytest.approx(446_369, rel=1e-6)
    assert regions.loc["香洲区", "population"] == pytest.approx(1_384_317, rel=1e-6)


def test_bus_stops_by_street_are_never_nearer_than_straight_line(zhuhai_run, zhuhai_data):
    """Stops read with GDAL's OSM driver (not osmnx), straight distances by brute force:
    a walk along streets (plus the legs to and from them) is never shorter."""
    stops = pyogrio.read_dataframe(zhuhai_data / "osm" / "zhuhai.osm", layer="points")
    stops = stops[stops["highway"] == "bus_stop"].to_crs(32649)
    cells = gpd.read_file(zhuhai_run / "coverage.gpkg", layer="cells")
    cent = shapely.centroid(cells.geometry.values)
    cx, cy = shapely.get_x(cent), shapely.get_y(cent)
    fx, fy = stops.geometry.x.to_numpy(), stops.geometry.y.to_numpy()
    d = np.empty(len(cx))
    for i in range(0, len(cx), 5000):  # chunks of all-pairs distances
        sl = slice(i, i + 5000)
        d[sl] = np.hypot(cx[sl, None] - fx[None, :], cy[sl, None] - fy[None, :]).min(axis=1)
    walk = cells["dist_bus_stops_m"].to_numpy()
    assert (walk >= d - 1e-3).all()
    s = pd.read_csv(zhuhai_run / "summary.csv")
    row = s[(s["level"] == "study") & (s["layer"] == "bus_stops")].iloc[0]
    assert row["facilities"] == len(stops)
    assert row["distance_method"] == "network_walk"
    straight_covered = cells["population"].to_numpy()[d <= 500].sum()
    assert 0 < row["covered_population"] <= straight_covered
    # only central Xiangzhou has streets here: the rest is reported unreachable
    assert row["unreachable_population"] > 0.9 * row["population"]
    notes = pd.read_csv(zhuhai_run / "data_quality.csv")
    assert notes["message"].str.contains("farther than the snapping limit").any()


def test_west_has_no_facility_data_and_says_so(zhuhai_run):
    s = pd.read_csv(zhuhai_run / "summary.csv")
    west = s[(s["level"] == "group") & (s["name"] == "west")]
    assert (west["facilities"] == 0).all() and (west["coverage_pct"] == 0).all()
    html = (zhuhai_run / "report.html").read_text(encoding="utf-8")
    assert "data gap, not a measured gap" in html


def test_gcj02_regions_land_on_wgs84_regions(zhuhai_data):
    """Reading the GCJ-02 boundaries with crs = "GCJ-02" lands within 5 m of the WGS84 file."""
    b = zhuhai_data / "boundaries"

    def vertices(path: Path, crs: str | None) -> np.ndarray:
        spec = SourceSpec(path=path, key="regions",
                          crs=None if crs is None else parse_crs(crs, "regions.crs"))
        regions = load_regions(RegionsConfig(spec, name_field="district_name",
                                             group_map={"香洲区": "east", "斗门区": "west",
                                                        "金湾区": "west",
                                                        "澳门大学横琴校区": "east"}),
                               crs=None)
        assert regions.crs.to_epsg() == 32649  # UTM zone chosen from the data
        return shapely.get_coordinates(regions.gdf.geometry.values)

    wgs = vertices(b / "zhuhai_districts_amap_wgs84.geojson", None)
    gcj = vertices(b / "zhuhai_districts_amap_gcj02.geojson", "GCJ-02")
    raw = vertices(b / "zhuhai_districts_amap_gcj02.geojson", None)
    tree = cKDTree(wgs)
    assert np.median(tree.query(gcj)[0]) < 5.0
    assert np.median(tree.query(raw)[0]) > 300.0  # unconverted: hundreds of metres off


def test_scorecard_on_real_data(zhuhai_run):
    card = pd.read_csv(zhuhai_run / "equity.csv")
    groups = card[(card["layer"] == "bus_stops") & (card["level"] == "group")]
    assert set(groups["name"]) == {"east", "west"}
    ind = pd.read_csv(zhuhai_run / "equity_indices.csv").set_index(
        ["layer", "measure", "index"])["value"]
    # coverage yes/no over the three districts: between + within groups = total
    total = float(ind[("bus_stops", "covered", "theil")])
    parts = float(ind[("bus_stops", "covered", "theil_between_groups")]) + float(
        ind[("bus_stops", "covered", "theil_within_groups")])
    assert total == pytest.approx(parts, rel=1e-12)
    life = card[(card["layer"] == "life_circle") & (card["level"] == "study")].iloc[0]
    assert 0 <= life["coverage_pct"] < 5
