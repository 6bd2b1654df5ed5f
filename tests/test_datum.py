"""Layers declared WGS84 whose numbers are GCJ-02 or BD-09 are found and named
(equiserve.inputs.datum), on real Zhuhai data.

* Regions: the same district shapes are in ../shared/data/zhuhai/boundaries in WGS84
  and in GCJ-02 (Amap). Read as WGS84, the GCJ-02 file is about 600 m off the
  OpenStreetMap street network, which is WGS84 by definition.
* Points: the bus stops of the OSM extract (read here with osmnx, not equiserve), written
  to CSV as they are, shifted to GCJ-02 and to BD-09 with the published formulas.

The figures in the warning are checked against an independent measurement: GeoPandas'
sjoin_nearest from the stops to the osmnx street edges.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from equiserve.cli import app
from equiserve.crs import bd09_from_wgs84, gcj02_from_wgs84
from equiserve.errors import DataQualityWarning
from equiserve.study import Study

pytestmark = pytest.mark.realdata

GROUPS = ('{ "香洲区" = "east", "斗门区" = "west", "金湾区" = "west", '
          '"澳门大学横琴校区" = "east" }')


def _study(folder: Path, zhuhai: Path, regions: str, stops: str | None, osm: str,
           regions_crs: str = "", stops_crs: str = "") -> Path:
    census = pd.read_csv(Path(__file__).resolve().parents[1] / "examples" / "zhuhai"
                         / "census_2020.csv")
    census.to_csv(folder / "census.csv", index=False)
    layer = "" if stops is None else f"""
[layers.bus_stops]
kind = "bus_stop"
source = "{stops}"
{stops_crs}
standard = {{ mode = "walk", distance_m = 500 }}
"""
    osm_layer = "" if stops is not None else f"""
[layers.osm_stops]
kind = "bus_stop"
source = "{zhuhai.as_posix()}/osm/{osm}"
osm_tags = {{ highway = ["bus_stop"] }}
standard = {{ mode = "walk", distance_m = 500 }}
"""
    path = folder / "study.toml"
    path.write_text(f"""[study]
name = "datum check"
[regions]
source = "{zhuhai.as_posix()}/boundaries/{regions}"
{regions_crs}
name_field = "district_name"
group_map = {GROUPS}
[population]
type = "census"
table = "census.csv"
key_field = "key"
region_key_field = "district_adcode"
value_field = "population"
cell_size_m = 2000
[network]
source = "{zhuhai.as_posix()}/osm/{osm}"
{layer}{osm_layer}""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stops(zhuhai_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The extract's bus stops as CSV: true WGS84, shifted to GCJ-02 and to BD-09."""
    import osmnx as ox

    folder = tmp_path_factory.mktemp("stops")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ox.features_from_xml(zhuhai_data / "osm" / "map.osm",
                                 tags={"highway": ["bus_stop"]})
    g = g[g.geom_type == "Point"]
    lon, lat = g.geometry.x.to_numpy(), g.geometry.y.to_numpy()
    out = {}
    for name, (x, y) in {"wgs84": (lon, lat), "gcj02": gcj02_from_wgs84(lon, lat),
                         "bd09": bd09_from_wgs84(lon, lat)}.items():
        out[name] = folder / f"stops_{name}.csv"
        pd.DataFrame({"name": g["name"].fillna("stop").to_numpy(), "lon": x, "lat": y}
                     ).to_csv(out[name], index=False)
    return out


def _datum_notes(path: Path) -> list[tuple[str, str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(path)
    return [(n.subject, n.message) for n in study.notes
            if n.level == "warning" and "look like" in n.message]


@pytest.mark.parametrize("kind,datum", [("gcj02", "GCJ-02"), ("bd09", "BD-09")])
def test_points_in_a_chinese_datum_declared_wgs84_are_named(tmp_path, zhuhai_data, stops,
                                                            kind, datum):
    path = _study(tmp_path, zhuhai_data, "zhuhai_districts_amap_wgs84.geojson",
                  stops[kind].as_posix(), "map.osm")
    found = _datum_notes(path)
    assert [s for s, _ in found] == ["layers.bus_stops"]
    msg = found[0][1]
    assert f"look like {datum} numbers" in msg
    assert msg.endswith(f'set crs = "{datum}" in [layers.bus_stops]')
    corrected, declared = (float(v.replace(",", "")) for v in re.search(
        r"is ([\d,]+) m read as .* but ([\d,]+) m as declared", msg).groups())
    assert corrected < 15 and declared > max(2 * corrected, corrected + 15)  # fixed


def test_the_figures_match_an_independent_measurement(tmp_path, zhuhai_data, stops):
    """The median distance to the streets, declared and corrected, by sjoin_nearest on
    the osmnx walk network of the same extract."""
    import osmnx as ox

    path = _study(tmp_path, zhuhai_data, "zhuhai_districts_amap_wgs84.geojson",
                  stops["gcj02"].as_posix(), "map.osm")
    msg = _datum_notes(path)[0][1]
    corrected, declared = (float(v.replace(",", "")) for v in re.search(
        r"is ([\d,]+) m read as GCJ-02 but ([\d,]+) m as declared", msg).groups())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ox.graph_from_xml(zhuhai_data / "osm" / "map.osm", simplify=False,
                                  retain_all=True)
    edges = ox.graph_to_gdfs(graph, nodes=False).reset_index(drop=True).to_crs(32649)
    edges = edges[edges["highway"].notna()]  # osmnx reads every way (buildings too)

    def median_distance(csv: Path) -> float:
        df = pd.read_csv(csv)
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)
        joined = gpd.sjoin_nearest(pts.to_crs(32649), edges[["geometry"]],
                                   distance_col="d")
        return float(joined.groupby(level=0)["d"].min().median())

    assert declared == pytest.approx(median_distance(stops["gcj02"]), abs=3)
    assert corrected == pytest.approx(median_distance(stops["wgs84"]), abs=3)


@pytest.mark.parametrize("kind,crs", [("wgs84", ""), ("gcj02", 'crs = "GCJ-02"'),
                                      ("bd09", 'crs = "BD-09"')])
def test_points_read_in_their_datum_raise_nothing(tmp_path, zhuhai_data, stops, kind, crs):
    path = _study(tmp_path, zhuhai_data, "zhuhai_districts_amap_wgs84.geojson",
                  stops[kind].as_posix(), "map.osm", stops_crs=crs)
    assert _datum_notes(path) == []


def test_gcj02_regions_declared_wgs84_are_named(tmp_path, zhuhai_data):
    path = _study(tmp_path, zhuhai_data, "zhuhai_districts_amap_gcj02.geojson", None,
                  "*.osm")
    found = _datum_notes(path)
    assert [s for s, _ in found] == ["regions"]
    msg = found[0][1]
    assert "look like GCJ-02 numbers" in msg and msg.endswith('set crs = "GCJ-02" in [regions]')
    # the street nodes outside the districts: 0 read as GCJ-02, some as declared
    assert re.search(r"is 0\.00 % read as GCJ-02 but 0\.[1-9]\d % as declared", msg)


@pytest.mark.parametrize("regions,crs", [("zhuhai_districts_amap_wgs84.geojson", ""),
                                         ("zhuhai_districts_amap_gcj02.geojson",
                                          'crs = "GCJ-02"')])
def test_regions_read_in_their_datum_raise_nothing(tmp_path, zhuhai_data, regions, crs):
    path = _study(tmp_path, zhuhai_data, regions, None, "*.osm", regions_crs=crs)
    assert _datum_notes(path) == []


def test_the_report_prints_the_warning(tmp_path, zhuhai_data, stops):
    path = _study(tmp_path, zhuhai_data, "zhuhai_districts_amap_wgs84.geojson",
                  stops["gcj02"].as_posix(), "map.osm")
    result = CliRunner().invoke(app, ["report", str(path), "--out", str(tmp_path / "out"),
                                      "--offline"])
    assert result.exit_code == 0, result.output
    assert "note: layers.bus_stops: the coordinates look like GCJ-02" in result.output
    dq = pd.read_csv(tmp_path / "out" / "data_quality.csv")
    assert dq["message"].str.contains('set crs = "GCJ-02" in \\[layers.bus_stops\\]').any()




def test_candidate_sites_in_gcj02_are_named(tmp_path, zhuhai_data, stops):
    path = _study(tmp_path, zhuhai_data, "zhuhai_districts_amap_wgs84.geojson",
                  stops["wgs84"].as_posix(), "map.osm")
    args = ["sites", str(path), "--layer", "bus_stops", "--count", "2", "--offline"]
    result = CliRunner().invoke(app, [*args, "--candidates", str(stops["gcj02"]),
                                      "--out", str(tmp_path / "gcj")])
    assert result.exit_code == 0, result.output
    assert ("note: candidates: the coordinates look like GCJ-02 numbers" in result.output
            and "run again with --candidates-crs GCJ-02" in result.output)
    # shifted off the coast, a GCJ-02 site outside every region is refused with the hint
    coast = pd.read_csv(stops["gcj02"])
    coast.loc[len(coast)] = ["offshore", 113.62, 22.17]  # at sea east of Hengqin
    coast.to_csv(tmp_path / "coast.csv", index=False)
    result = CliRunner().invoke(app, [*args, "--candidates", str(tmp_path / "coast.csv"),
                                      "--out", str(tmp_path / "coast")])
    assert result.exit_code == 2, result.output
    assert "outside every region" in result.output and "--candidates-crs GCJ-02" in result.output
    result = CliRunner().invoke(app, [*args, "--candidates", str(stops["gcj02"]),
                                      "--candidates-crs", "GCJ-02",
                                      "--out", str(tmp_path / "ok")])
    assert result.exit_code == 0, result.output
    assert "look like" not in result.output
