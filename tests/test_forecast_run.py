"""Forecast runs (issue 14) on the tiny study, against hand-worked and brute-force figures:
totals = base x growth + development residents, subgroup shares, development areas inside
their polygons and years, plan openings by year, 2SFCA places in reach and the shortfall."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import distance_matrix

from equiserve import Study
from equiserve.config.scenario import parse_scenario
from equiserve.errors import ConfigError, DataError, EquiserveError
from equiserve.scenario.forecast import run_forecast
from equiserve.testing import TINY_CRS, TINY_ORIGIN, tiny_facilities, write_tiny_study

pytestmark = pytest.mark.filterwarnings("ignore::equiserve.errors.DataQualityWarning")

X0, Y0 = TINY_ORIGIN
#: The new town: a 600 m square inside Farms (west), and one reaching 400 m out of it.
TOWN = shapely.box(X0 - 2800, Y0 + 200, X0 - 2200, Y0 + 800)
GROWTH = "{ east = 0.005, west = 0.03, island = -0.01 }"


def _study(tmp_path, forecast: str, town=TOWN, network: bool = False):
    path = write_tiny_study(tmp_path, network=network)
    gpd.GeoDataFrame({"name": ["New Farm Town"]}, geometry=[town], crs=TINY_CRS).to_file(
        tmp_path / "newtown.gpkg")
    path.write_text(path.read_text(encoding="utf-8") + "\n" + forecast, encoding="utf-8")
    return path


FORECAST = f"""[forecast]
base_year = 2020
years = [2025, 2030]
growth = {GROWTH}
enrolment = {{ schools = 0.9 }}
shares = [{{ region = "east", year = 2030, subgroup = "children_6_11", share = 0.05 }}]

[[forecast.area]]
name = "New Farm Town"
source = "newtown.gpkg"
residents = {{ 2025 = 1000, 2030 = 3000 }}
"""
RATES = {"Core": 0.005, "Farms": 0.03, "Isle": -0.01}


@pytest.fixture
def loaded(tmp_path):
    return Study.load(_study(tmp_path, FORECAST), forecast=True)


def test_totals_are_base_times_growth_plus_development(loaded):
    pop = loaded.population
    base = {n: pop.population[pop.region == k].sum() for k, n in enumerate(loaded.regions.names)}
    for year, town in ((2020, 0.0), (2025, 1000.0), (2030, 3000.0)):
        now = loaded.in_year(year).population
        for k, name in enumerate(loaded.regions.names):
            want = base[name] * (1 + RATES[name]) ** (year - 2020) + (town if name == "Farms"
                                                                      else 0.0)
            assert now.population[now.region == k].sum() == pytest.approx(want, rel=1e-12)
    # by hand: Farms 20,690 people today, 3 % a year for 10 years, plus the new town's 3,000
    assert base["Farms"] == 20690
    assert loaded.in_year(2030).population.population[pop.region == 1].sum() == \
        pytest.approx(20690 * 1.03 ** 10 + 3000, abs=1e-6)
    assert 20690 * 1.03 ** 10 + 3000 == pytest.approx(30805.6299, abs=1e-4)


def test_development_people_land_inside_the_polygon_only_in_its_years(loaded):
    area = loaded.forecast_inputs.areas[0]
    assert len(area.cells) == 36  # a 600 m square, every 100 m (vector cells: no size)
    today = loaded.population
    assert today.population[area.cells].sum() == 0  # nobody there today
    for year, residents in ((2020, 0.0), (2025, 1000.0), (2030, 3000.0)):
        now = loaded.in_year(year).population
        new = now.population[area.cells]
        assert new.sum() == pytest.approx(residents, rel=1e-12)
        assert np.all(shapely.contains_xy(TOWN, now.x[area.cells], now.y[area.cells]))
        np.testing.assert_allclose(new, residents / len(area.cells))  # evenly over its land
        others = np.setdiff1d(np.arange(len(now)), area.cells)
        # elsewhere, people only grow where they live today
        np.testing.assert_allclose(now.population[others][today.population[others] == 0], 0)


def test_subgroup_shares_are_applied(loaded):
    pop = loaded.population
    kids = pop.subgroups["children_6_11"]
    core, farms = pop.region == 0, pop.region == 1
    y2030 = loaded.in_year(2030).population
    # Core: 5 % of its 2030 people; Farms: today's share of all its people, new town too
    assert y2030.subgroups["children_6_11"][core].sum() == pytest.approx(
        0.05 * y2030.population[core].sum(), rel=1e-12)
    share_farms = kids[farms].sum() / pop.population[farms].sum()
    assert y2030.subgroups["children_6_11"][farms].sum() == pytest.approx(
        share_farms * y2030.population[farms].sum(), rel=1e-12)
    # where children live within Core is kept (each cell scaled by one factor)
    ratio = y2030.subgroups["children_6_11"][core & (kids > 0)] / kids[core & (kids > 0)]
    np.testing.assert_allclose(ratio, ratio[0])
    y2025 = loaded.in_year(2025).population  # no share for 2025: today's
    assert y2025.subgroups["children_6_11"][core].sum() == pytest.approx(
        kids[core].sum() * 1.005 ** 5, rel=1e-12)


def _two_sfca_by_region(study, layer: str, radius: float) -> np.ndarray:
    """Places in reach per region by brute force: straight-line distances of every cell to
    every facility, R_j = S_j / people within r of j, then sum_i d_i sum_j R_j."""
    pop = study.population
    lay = study.layers[layer]
    d = distance_matrix(pop.xy, lay.access_xy)
    near = d <= radius
    demand = pop.counts(lay.serves)
    cap = np.nan_to_num(lay.facilities["capacity"].to_numpy(float))
    seen = near.T @ demand
    ratio = np.divide(cap, seen, out=np.zeros_like(cap), where=seen > 0)
    per_cell = demand * (near @ ratio)
    return np.bincount(pop.region, weights=per_cell, minlength=len(study.regions.names))


def test_places_in_reach_needed_and_shortfall_match_a_brute_force(loaded):
    res = run_forecast(loaded)
    t = res.table
    for year in (2020, 2030):
        now = loaded.in_year(year)
        want = _two_sfca_by_region(now, "schools", 500.0)
        kids = now.population.subgroups["children_6_11"]
        rows = t[(t["layer"] == "schools") & (t["year"] == year) & (t["level"] == "region")]
        rows = rows.set_index("name").loc[list(now.regions.names)]
        np.testing.assert_allclose(rows["places_in_reach"], want, rtol=1e-9, atol=1e-9)
        counted = np.bincount(now.population.region, weights=kids, minlength=3)
        np.testing.assert_allclose(rows["people_counted"], counted, rtol=1e-12)
        np.testing.assert_allclose(rows["places_needed_enrolment"], 0.9 * counted, rtol=1e-12)
        assert rows["places_needed_norm"].isna().all()  # the tiny schools have no norm
        np.testing.assert_allclose(rows["shortfall"],
                                   rows["places_needed"] - rows["places_in_reach"])
        # coverage: children within 500 m (straight line) of a school
        d = distance_matrix(now.population.xy, now.layers["schools"].access_xy).min(axis=1)
        within = np.bincount(now.population.region, weights=kids * (d <= 500), minlength=3)
        np.testing.assert_allclose(rows["coverage_pct"], 100 * within / counted, rtol=1e-9)
    study_rows = t[(t["layer"] == "schools") & (t["level"] == "study")]
    # the levels add up: the study's places in reach are the places anyone can reach
    region_sum = t[(t["layer"] == "schools") & (t["level"] == "region")].groupby("year")[
        "places_in_reach"].sum()
    np.testing.assert_allclose(study_rows.set_index("year")["places_in_reach"], region_sum)
    assert set(t["facilities"]) == {"today"}
    assert list(res.population.query("level == 'study'")["year"]) == [2020, 2025, 2030]


def test_a_school_opening_in_2019_counts_from_2019(tmp_path):
    fc = f"[forecast]\nbase_year = 2018\nyears = [2019, 2020]\ngrowth = {GROWTH}\n"
    study = Study.load(_study(tmp_path, fc), forecast=True)
    lon, lat = gpd.GeoSeries([shapely.Point(X0 - 2000, Y0 + 400)], crs=TINY_CRS).to_crs(
        4326).iloc[0].coords[0]
    plan = parse_scenario({"scenario": {"name": "new school"}, "add": [
        {"layer": "schools", "name": "Farms South Primary", "lon": lon, "lat": lat,
         "capacity": 500, "year": 2019}]})
    t = run_forecast(study, plan).table
    s = t[(t["layer"] == "schools") & (t["level"] == "region") & (t["name"] == "Farms")]
    got = s.set_index(["facilities", "year"])
    base_count = len(tiny_facilities()["schools"])
    assert got.loc[("plan", 2018), "facility_count"] == got.loc[("today", 2018),
                                                                "facility_count"] == 1
    assert got.loc[("plan", 2019), "facility_count"] == 2
    assert got.loc[("plan", 2020), "facility_count"] == 2
    study_count = t[(t["layer"] == "schools") & (t["level"] == "study")].set_index(
        ["facilities", "year"])["facility_count"]
    assert study_count[("plan", 2018)] == base_count
    assert study_count[("plan", 2019)] == base_count + 1
    assert got.loc[("plan", 2018), "places_in_reach"] == got.loc[("today", 2018),
                                                                 "places_in_reach"] == 0
    # from 2019 its 500 seats are shared by the children within 500 m: Farms' own all
    # but those of other regions in reach (none: Farms is 1 km from Core)
    assert got.loc[("plan", 2019), "places_in_reach"] == pytest.approx(500.0)
    assert got.loc[("today", 2019), "places_in_reach"] == 0


def test_plan_changes_carry_their_year(tmp_path):
    fc = f"[forecast]\nbase_year = 2020\nyears = [2030]\ngrowth = {GROWTH}\n"
    study = Study.load(_study(tmp_path, fc), forecast=True)
    plan = parse_scenario({"scenario": {"name": "p"}, "add": [
        {"layer": "clinics", "name": "Late Clinic", "lon": 113.0, "lat": 22.24,
         "year": 2040}], "remove": [{"layer": "schools", "id": "S4", "year": 2025}]})
    res = run_forecast(study, plan)
    ch = res.plan_changes.set_index("action")
    assert ch.loc["add", "year"] == 2040 and ch.loc["remove", "year"] == 2025
    assert any("2040" in n.message and "no forecast year" in n.message for n in res.notes)
    t = res.table
    count = t[(t["level"] == "study")].set_index(["layer", "facilities", "year"])[
        "facility_count"]
    assert count[("schools", "plan", 2030)] == count[("schools", "today", 2030)] - 1
    assert count[("clinics", "plan", 2030)] == count[("clinics", "today", 2030)]


def test_sites_plan_against_the_forecast_people(loaded):
    from equiserve.siting.plan import plan_sites

    now = loaded.in_year(2030)
    result = now.coverage()
    sites = plan_sites(now, result, "schools", model="mclp", count=1)
    s = sites.summary.set_index(["level", "name"])
    kids = now.population.subgroups["children_6_11"]
    assert s.loc[("study", "study"), "population"] == pytest.approx(kids.sum(), rel=1e-12)
    assert "forecast in 2030" in sites.heading


@pytest.mark.parametrize("table, error, message", [
    ('totals = [{ region = "Nowhere", year = 2025, population = 5 }]', ConfigError,
     "'Nowhere' is not a region of the study"),
    ('totals = [{ region = "east", year = 2025, population = 5 }]', ConfigError,
     "'east' is a group; projected totals are per region"),
    ('shares = [{ region = "Atlantis", year = 2030, subgroup = "children_6_11", '
     'share = 0.1 }]', ConfigError, "'Atlantis' is not a region or a group"),
    ('shares = [{ region = "east", year = 2030, subgroup = "elderly", share = 0.1 }]',
     ConfigError, "'elderly' is not a population subgroup"),
    ('shares = [{ region = "east", year = 2027, subgroup = "children_6_11", share = 0.1 }]',
     ConfigError, "year 2027 is not one of forecast.years"),
    ('shares = [{ region = "east", year = 2030, subgroup = "children_6_11", share = 1.2 }]',
     ConfigError, "shares"),
    ('enrolment = { clinicz = 0.9 }', ConfigError, "forecast.enrolment.clinicz"),
])
def test_bad_forecast_tables_name_the_key(tmp_path, table, error, message):
    fc = f"[forecast]\nbase_year = 2020\nyears = [2025, 2030]\n{table}\n"
    with pytest.raises(error, match=message):
        Study.load(_study(tmp_path, fc), forecast=True)


def test_shares_file_above_one_and_missing_columns(tmp_path):
    pd.DataFrame({"region": ["Core"], "year": [2030], "subgroup": ["children_6_11"],
                  "share": [1.5]}).to_csv(tmp_path / "shares.csv", index=False)
    fc = '[forecast]\nbase_year = 2020\nyears = [2030]\nshares = "shares.csv"\n'
    with pytest.raises(ConfigError, match="between 0 and 1"):
        Study.load(_study(tmp_path, fc), forecast=True)
    (tmp_path / "b").mkdir()
    pd.DataFrame({"district": ["Core"], "year": [2030], "population": [1.0]}).to_csv(
        tmp_path / "b" / "totals.csv", index=False)
    fc = '[forecast]\nbase_year = 2020\nyears = [2030]\ntotals = "totals.csv"\n'
    with pytest.raises(DataError, match=r"totals.csv has no column 'region'"):
        Study.load(_study(tmp_path / "b", fc), forecast=True)


def test_totals_file_sets_a_region_total(tmp_path):
    pd.DataFrame({"region": ["Farms"], "year": [2030], "population": [25_000]}).to_csv(
        tmp_path / "totals.csv", index=False, encoding="gb18030")
    fc = f'[forecast]\nbase_year = 2020\nyears = [2030]\ngrowth = {GROWTH}\n' \
         'totals = "totals.csv"\n'
    study = Study.load(_study(tmp_path, fc), forecast=True)
    now = study.in_year(2030).population
    assert now.population[now.region == 1].sum() == pytest.approx(25_000, rel=1e-12)
    t = study.forecast_totals().set_index(["region", "year"])
    assert t.loc[("Farms", 2030), "rate_from"] == "table"
    assert t.loc[("Farms", 2030), "rate"] == pytest.approx((25_000 / 20_690) ** 0.1 - 1)
    assert t.loc[("Core", 2030), "rate_from"] == "group"


def test_a_development_area_outside_every_region_is_an_error(tmp_path):
    far = shapely.box(X0 + 10_000, Y0, X0 + 10_500, Y0 + 500)
    with pytest.raises(DataError, match=r"forecast.area\[0\].*outside every region"):
        Study.load(_study(tmp_path, FORECAST, town=far), forecast=True)


def test_a_development_area_partly_outside_is_noted(tmp_path):
    half_out = shapely.box(X0 - 1200, Y0 + 200, X0 - 600, Y0 + 800)  # 200 m in, 400 m out
    study = Study.load(_study(tmp_path, FORECAST, town=half_out), forecast=True)
    assert any("67% of development area 'New Farm Town' lies outside every region"
               in n.message for n in study.notes)
    area = study.forecast_inputs.areas[0]
    assert np.all(study.population.region[area.cells] == 1)  # only Farms' part


def test_years_and_areas_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="residents for 2015, before base_year 2020"):
        Study.load(_study(tmp_path, FORECAST.replace("2025 = 1000", "2015 = 1000")),
                   forecast=True)
    study = Study.load(_study(tmp_path / "b", FORECAST), forecast=True)
    with pytest.raises(ConfigError, match="year 2027 is not a forecast year"):
        study.in_year(2027)
    with pytest.raises(EquiserveError, match="no \\[forecast\\] table"):
        Study.load(write_tiny_study(tmp_path / "c"), forecast=True)


def test_unmet_and_spare_places_match_a_plain_allocation(loaded):
    from equiserve.testing import nearest_first_reference

    res = run_forecast(loaded)
    now = loaded.in_year(2030)
    lay = now.layers["schools"]
    kids = now.population.subgroups["children_6_11"]
    need = 0.9 * kids  # the enrolment rate (no norm)
    cap = np.nan_to_num(lay.facilities["capacity"].to_numpy(float))
    seated = np.zeros(len(kids))
    used = np.zeros(len(cap))
    for i, j, x in nearest_first_reference(now.od("schools"), need, cap):
        seated[i] += x
        used[j] += x
    t = res.table
    row = t[(t["layer"] == "schools") & (t["year"] == 2030) & (t["level"] == "study")].iloc[0]
    assert row["places_unmet"] == pytest.approx(need.sum() - seated.sum(), rel=1e-9)
    assert row["places_spare"] == pytest.approx((cap - used).sum(), rel=1e-9)
    # the map's blocks add up to places needed - places (every place is seated or spare)
    b = res.shortfall_blocks("schools")
    assert b["short"].sum() == pytest.approx(need.sum() - cap.sum(), rel=1e-9)
    assert b["unmet"].sum() == pytest.approx(row["places_unmet"], rel=1e-9)
    # places to add: the regions' shortfalls above 0
    reg = t[(t["layer"] == "schools") & (t["year"] == 2030) & (t["level"] == "region")]
    assert row["places_to_add"] == pytest.approx(reg["shortfall"].clip(lower=0).sum())


def test_forecast_command_end_to_end(tmp_path):
    from typer.testing import CliRunner

    from equiserve.cli import app

    cfg = _study(tmp_path, FORECAST)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["forecast", str(cfg), "--out", str(out), "--offline"])
    assert r.exit_code == 0, r.output
    for name in ("forecast.csv", "forecast_population.csv", "forecast.xlsx",
                 "forecast_report.html", "forecast_map.html", "data_quality.csv"):
        assert (out / name).is_file(), name
    t = pd.read_csv(out / "forecast.csv")
    assert list(t.columns[:5]) == ["layer", "facilities", "year", "level", "name"]
    assert {"population", "people_counted", "places_in_reach", "places_needed", "shortfall",
            "coverage_pct", "population_unit", "places_unit"} <= set(t.columns)
    sheets = pd.ExcelFile(out / "forecast.xlsx", engine="openpyxl").sheet_names
    assert {"forecast", "population"} <= set(sheets)
    html = (out / "forecast_report.html").read_text(encoding="utf-8")
    assert "schools: places needed and in reach" in html and "<svg" in html
    assert ">nan<" not in html
    # bad input: exit 2, one line naming the key, nothing written
    bad = tmp_path / "bad"
    cfg2 = _study(bad, FORECAST.replace("share = 0.05", "share = 1.5"))
    r = CliRunner().invoke(app, ["forecast", str(cfg2), "--out", str(bad / "o")])
    assert r.exit_code == 2 and "forecast.shares" in r.output
    assert not (bad / "o").exists()
    plain = write_tiny_study(tmp_path / "plain")
    r = CliRunner().invoke(app, ["forecast", str(plain), "--out", str(tmp_path / "p")])
    assert r.exit_code == 2 and "no [forecast] table" in r.output


def test_sites_command_with_a_forecast_year(tmp_path):
    from typer.testing import CliRunner

    from equiserve.cli import app

    cfg = _study(tmp_path, FORECAST)
    out = tmp_path / "sites"
    r = CliRunner().invoke(app, ["sites", str(cfg), "--layer", "schools", "--count", "1",
                                 "--year", "2030", "--out", str(out), "--offline"])
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out / "sites_summary.csv")
    study = Study.load(cfg, forecast=True).in_year(2030)
    kids = study.population.subgroups["children_6_11"].sum()
    assert s.loc[s["level"] == "study", "population"].iloc[0] == pytest.approx(kids)
    assert "forecast in 2030" in (out / "sites_report.html").read_text(encoding="utf-8")
    r = CliRunner().invoke(app, ["sites", str(cfg), "--layer", "schools", "--count", "1",
                                 "--year", "2027", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "2027 is not a forecast year" in r.output


SIMPLEST = """[forecast]
base_year = 2020
years = [2025, 2030]
growth = { east = 0.005, west = 0.03, island = -0.01 }   # annual rate, by group or region name
"""


@pytest.mark.slow
def test_the_demo_takes_the_simplest_forecast(demo_run, tmp_path):
    """The issue's simplest [forecast], exactly, in place of the demo's own."""
    import shutil

    inputs = tmp_path / "inputs"
    shutil.copytree(demo_run / "inputs", inputs)
    path = inputs / "study.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("[forecast]")] + SIMPLEST, encoding="utf-8")
    study = Study.load(path, forecast=True)
    res = run_forecast(study)
    pop = res.population.query("level == 'group'").set_index(["name", "year"])["population"]
    for group, rate in (("east", 0.005), ("west", 0.03), ("island", -0.01)):
        assert pop[(group, 2030)] == pytest.approx(pop[(group, 2020)] * (1 + rate) ** 10,
                                                   rel=1e-12)
    t = res.table
    need = t[(t["layer"] == "primary_schools") & (t["level"] == "study")].set_index("year")
    # the norm: one seat per child 6-11, whose share stays today's in every region
    np.testing.assert_allclose(need["places_needed"], need["people_counted"], rtol=1e-12)
