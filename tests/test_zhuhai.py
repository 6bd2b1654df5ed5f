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
from equiserve.crs import parse_crs
from equiserve.errors import DataQualityWarning
from equiserve.inputs.regions import load_regions

pytestmark = pytest.mark.realdata

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "zhuhai" / "study.toml"
CENSUS_2020_TOTAL = 2_439_585  # 珠海市, 7th census (SOURCES.md section 4)
ISLANDS_2020 = 4_929  # 万山海洋开发试验区
XIANGZHOU_WHOLE_2020 = 1_384_317  # derived whole-district row


@pytest.fixture(scope="module")
def zhuhai_run(zhuhai_example, tmp_path_factory) -> Path:
    """Run examples/zhuhai/study.toml with its data paths pointed at the fixture's folder."""
    folder = tmp_path_factory.mktemp("zhuhai")
    config = zhuhai_example / "study.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        run_report(config, folder / "out", cells="polygons")  # cell areas are read below
    return folder / "out"


def test_census_table_is_the_shared_figures(zhuhai_data):
    """examples/zhuhai/census_2020.csv only rearranges the shared census figures."""
    shared = pd.read_csv(zhuhai_data / "population" / "zhuhai_population_by_district.csv")
    c2020 = shared[shared["reference_date"] == "2020-11-01"].set_index("area_name")[
        "population"]
    ours = pd.read_csv(EXAMPLE.parent / "census_2020.csv").set_index("key")["population"]
    assert ours["440403"] == c2020["斗门区"] and ours["440404"] == c2020["金湾区"]
    assert ours["wanshan"] == c2020["万山海洋开发试验区"] == ISLANDS_2020
    assert ours["440402"] + ours["wanshan"] == c2020["香洲区(行政区全域)"] == (
        c2020["珠海市"] - c2020["斗门区"] - c2020["金湾区"])
    assert ours.sum() == CENSUS_2020_TOTAL


def test_census_population_is_conserved(zhuhai_run):
    s = pd.read_csv(zhuhai_run / "summary.csv")
    study = s[(s["level"] == "study") & (s["layer"] == "schools")].iloc[0]
    assert study["population"] == pytest.approx(CENSUS_2020_TOTAL, rel=1e-6)
    regions = s[(s["level"] == "region") & (s["layer"] == "schools")].set_index("name")
    assert regions.loc["斗门区", "population"] == pytest.approx(608_899, rel=1e-6)
    assert regions.loc["金湾区", "population"] == pytest.approx(446_369, rel=1e-6)
    assert regions.loc["香洲区", "population"] == pytest.approx(
        XIANGZHOU_WHOLE_2020 - ISLANDS_2020, rel=1e-6)
    assert regions.loc["万山群岛", "population"] == pytest.approx(ISLANDS_2020, rel=1e-6)
    groups = s[(s["level"] == "group") & (s["layer"] == "schools")].set_index("name")
    assert list(groups.index) == ["east", "west", "island"]


def test_islands_are_the_offshore_parts_of_xiangzhou(zhuhai_run, zhuhai_data):
    """The split region holds the gazetteer's Wanshan islands, not Hengqin or 淇澳."""
    regions = gpd.read_file(zhuhai_run / "coverage.gpkg", layer="regions").to_crs(4326)
    regions = regions.set_index("region")
    places = pd.read_csv(zhuhai_data / "gazetteer" / "zhuhai_places.csv").set_index("name_zh")
    isles = regions.loc["万山群岛", "geometry"]
    for name in ("桂山岛", "担杆岛", "外伶仃岛"):
        pt = shapely.Point(places.loc[name, ["lon", "lat"]].to_numpy(float))
        assert isles.distance(pt) < 0.01, name  # within ~1 km (island centre points)
    for name in ("横琴岛", "翠香街道", "唐家湾镇"):
        pt = shapely.Point(places.loc[name, ["lon", "lat"]].to_numpy(float))
        assert regions.loc["香洲区", "geometry"].contains(pt), name
    area = regions.to_crs(32649).area / 1e6
    assert 95 < area["万山群岛"] < 110  # 58 offshore parts, ~100 km²


def test_population_follows_the_settlement_formula(zhuhai_run, zhuhai_data):
    """Census spread with settlement weights, recomputed independently: within each
    region, people per cell = total x area x (floor + sum of Gaussians) / its sum."""
    cells = gpd.read_file(zhuhai_run / "coverage.gpkg", layer="cells",
                          columns=["population", "region"])
    places = pd.read_csv(zhuhai_data / "gazetteer" / "zhuhai_places.csv")
    towns = places[places["kind"].isin(["town", "subdistrict"])]
    assert len(towns) == 18
    xy = gpd.GeoSeries.from_xy(towns["lon"], towns["lat"], crs=4326).to_crs(cells.crs)
    c = cells.geometry.centroid
    d2 = (c.x.to_numpy()[:, None] - xy.x.to_numpy()[None]) ** 2 + (
        c.y.to_numpy()[:, None] - xy.y.to_numpy()[None]) ** 2
    sigma, floor = 2500.0, 0.02
    kernel = np.where(d2 <= (5 * sigma) ** 2, np.exp(-d2 / (2 * sigma ** 2)), 0.0).sum(axis=1)
    weight = cells.area.to_numpy() * (floor + kernel)
    totals = cells.groupby("region")["population"].transform("sum").to_numpy()
    share = weight / pd.Series(weight).groupby(cells["region"].to_numpy()).transform(
        "sum").to_numpy()
    # cells with no people are not stored, so compare where the formula gives people
    np.testing.assert_allclose(cells["population"], totals * share, rtol=1e-6)


def test_bus_stops_by_street_are_never_nearer_than_straight_line(zhuhai_run, zhuhai_data):
    """Stops read with GDAL's OSM driver (not osmnx), straight distances by brute force:
    a walk along streets (plus the legs to and from them) is never shorter."""
    files = ["zhuhai.osm", "bicycle.osm", "bicycle2.osm", "map.osm", "map0.osm", "map1.osm"]
    stops = pd.concat([pyogrio.read_dataframe(zhuhai_data / "osm" / f, layer="points")
                       for f in files], ignore_index=True)
    stops = stops[stops["highway"] == "bus_stop"].drop_duplicates("osm_id").to_crs(32649)
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
    assert row["unreachable_population"] > 0.8 * row["population"]
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
        regions = load_regions(RegionsConfig(source=spec, name_field="district_name",
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
    assert set(groups["name"]) == {"east", "west", "island"}
    ind = pd.read_csv(zhuhai_run / "equity_indices.csv").set_index(
        ["layer", "measure", "index"])["value"]
    # coverage yes/no over the three districts: between + within groups = total
    total = float(ind[("bus_stops", "covered", "theil")])
    parts = float(ind[("bus_stops", "covered", "theil_between_groups")]) + float(
        ind[("bus_stops", "covered", "theil_within_groups")])
    assert total == pytest.approx(parts, rel=1e-12)
    life = card[(card["layer"] == "life_circle") & (card["level"] == "study")].iloc[0]
    assert 0 <= life["coverage_pct"] < 5


PLAN = EXAMPLE.parent / "plan2017.toml"


@pytest.fixture(scope="module")
def plan_run(zhuhai_example, tmp_path_factory) -> Path:
    """`equiserve scenario` on the Zhuhai study with the 2017 plan, through the CLI."""
    from typer.testing import CliRunner

    from equiserve.cli import app

    out = tmp_path_factory.mktemp("plan2017") / "out"
    r = CliRunner().invoke(app, ["scenario", str(zhuhai_example / "study.toml"), "--plan",
                                 str(zhuhai_example / "plan2017.toml"), "--out", str(out),
                                 "--offline"])
    assert r.exit_code == 0, r.output
    return out


def test_plan2017_places_what_the_gazetteer_knows(plan_run, zhuhai_data):
    changes = pd.read_csv(plan_run / "scenario_changes.csv")
    places = pd.read_csv(zhuhai_data / "gazetteer" / "zhuhai_places.csv").set_index("name_zh")
    schools = changes[changes["layer"] == "schools"].set_index("name")
    assert len(schools) == 12
    # the three the gazetteer knows were open by 2022 and are in the OSM data already
    assert set(schools.index[schools["status"] == "already in baseline"]) == {
        "凤凰中学", "中山大学附属中学", "中山大学附属小学"}
    assert (schools["status"] != "placed").all()
    assert (schools["status"] == "unplaced").sum() == 9
    art = changes[changes["layer"] == "culture"].set_index("name")
    assert len(art) == 7 and (art["status"] == "placed at a proxy").all()
    for name, town in [("井岸市民艺术中心", "井岸镇"), ("美平市民艺术中心", "平沙镇"),
                       ("北山市民艺术中心", "南屏镇")]:
        assert art.loc[name, "matched_name"] == town
        assert art.loc[name, ["lon", "lat"]].tolist() == pytest.approx(
            places.loc[town, ["lon", "lat"]].tolist(), abs=1e-9)
        assert art.loc[name, "precision"].startswith("proxy for ")
    assert set(art.loc[["井岸市民艺术中心", "红旗市民艺术中心", "美平市民艺术中心"],
                       "region"]) <= {"斗门区", "金湾区"}


def test_plan2017_targets(plan_run):
    t = pd.read_csv(plan_run / "scenario_targets.csv").set_index("label")
    schools = t.loc["new primary and secondary schools"]
    assert (schools["targeted"], schools["already_in_baseline"], schools["unplaced"],
            schools["missing"]) == (12, 3, 9, 0)
    assert t.loc["citizen art centres", "placed_at_proxy"] == 7
    assert t.loc["citizen art centres in the west (红旗, 井岸, 美平)", "status"].startswith("met")
    assert t.loc["community sports parks", "missing"] == 10
    hosp = t.loc["hospital projects"]  # the gazetteer's one hospital is in the study already
    assert (hosp["already_in_baseline"], hosp["unplaced"]) == (1, 4)
    assert t.loc["new-energy buses", "status"].startswith("not tracked")
    assert "no layer 'elderly_care'" in t.loc[
        "elderly-care centres (翠香社区, 湾仔社区, 白藤街道)", "status"]


def test_plan2017_before_and_after(plan_run):
    comp = pd.read_csv(plan_run / "scenario_summary.csv")
    cov = comp[(comp["table"] == "summary") & (comp["figure"] == "coverage_pct")]
    art = cov[cov["layer"] == "culture"].set_index("name")
    assert art.loc["west", "baseline"] == 0 and art.loc["west", "plan"] > 0
    assert art.loc["study", "change"] > 0 and art.loc["island", "change"] == 0
    # people newly within the standard, by region, equal the gain in covered people
    gain = comp[(comp["table"] == "summary") & (comp["layer"] == "culture")
                & (comp["figure"] == "covered_population") & (comp["level"] == "region")]
    assert gain.set_index("name")["change"].sum() == pytest.approx(
        art.loc["study", "change"] / 100 * CENSUS_2020_TOTAL, rel=1e-6)
    # people: the same population before and after
    pop = comp[(comp["table"] == "summary") & (comp["figure"] == "population")]
    assert np.allclose(pop["change"], 0)
    html = (plan_run / "scenario_report.html").read_text(encoding="utf-8")
    assert "Scenario: 2017 equalisation plan" in html and "data gap" in html
    assert (plan_run / "scenario_map.html").stat().st_size < 30e6


def test_forecast_on_real_data(zhuhai_example, zhuhai_data):
    """examples/zhuhai's [forecast]: 2024 totals are the statistics bureau's year-end
    estimates (read here from the shared table), 2025 and 2030 the census grown at the
    2020 -> 2024 rate, the islands held."""
    from equiserve import Study
    from equiserve.scenario.forecast import run_forecast

    shared = pd.read_csv(zhuhai_data / "population" / "zhuhai_population_by_district.csv")
    y2024 = shared[shared["reference_date"] == "2024-12-31"].set_index("adcode")["population"]
    want_2024 = {"香洲区": y2024[440402] - ISLANDS_2020, "斗门区": y2024[440403],
                 "金湾区": y2024[440404], "万山群岛": ISLANDS_2020}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(zhuhai_example / "study.toml", forecast=True)
        res = run_forecast(study)
    pop = res.population.query("level == 'region'").set_index(["name", "year"])["population"]
    base = pop.xs(2020, level="year")
    assert base.sum() == pytest.approx(CENSUS_2020_TOTAL, rel=1e-9)
    for name, total in want_2024.items():
        assert pop[(name, 2024)] == pytest.approx(total, rel=1e-9)
        rate = (total / base[name]) ** 0.25 - 1  # the rate stated in study.toml, to 6 digits
        assert pop[(name, 2030)] == pytest.approx(base[name] * (1 + rate) ** 10, rel=1e-5)
    t = res.table
    schools = t[(t["layer"] == "schools") & (t["level"] == "study")]
    assert schools["places_needed"].isna().all()  # no school places in the data
    cov = schools.set_index("year")["coverage_pct"]
    assert cov[2030] == pytest.approx(cov[2020], rel=0.02)  # people grow where they live
    assert res.heading == "forecast 2020–2030"


@pytest.mark.slow
def test_batch_of_the_real_city_equals_its_report(zhuhai_example, zhuhai_run, tmp_path):
    """examples/zhuhai/batch.toml: the batch's city folder holds the report's figures."""
    from equiserve.batch import load_batch, run_batch

    res = run_batch(load_batch(zhuhai_example / "batch.toml"), tmp_path / "b")
    assert [o.status for o in res.outcomes] == ["done"], res.outcomes[0].error
    city = tmp_path / "b" / "zhuhai"
    for name in ("summary.csv", "equity.csv"):
        assert (city / name).read_bytes() == (zhuhai_run / name).read_bytes(), name
    eq = res.equity.set_index(["layer", "measure"])
    # one city: nothing between cities, and its Theil is the report's
    own = pd.read_csv(zhuhai_run / "equity_indices.csv")
    own = own[own["index"] == "theil"].set_index(["layer", "measure"])["value"]
    for key, theil in own.items():
        assert eq.loc[key, "theil_between_cities"] == pytest.approx(0.0, abs=1e-15)
        assert eq.loc[key, "theil"] == pytest.approx(float(theil), rel=1e-9, nan_ok=True)
