"""Scenarios: plan file, gazetteer placement, applying changes, before/after, targets."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equiserve.config.scenario import GazetteerConfig
from equiserve.crs import wgs84_from_gcj02
from equiserve.errors import ConfigError, DataError, DataQualityWarning
from equiserve.scenario import (
    Gazetteer,
    apply_scenario,
    load_scenario,
    parse_scenario,
    run_scenario,
)
from equiserve.study import Study

PLACES = """name,alias,lon,lat,precision
Farms Centre,农场镇,113.1152,22.2460,town centre ~1 km
Farms North Park,,113.1100,22.2480,park ~200 m
Farms North Gate,,113.1200,22.2480,gate ~50 m
"""

PLAN = """
[scenario]
name = "Tiny plan"

[gazetteer]
source = "places.csv"
x_field = "lon"
y_field = "lat"
crs = "EPSG:4326"
name_fields = ["name", "alias"]
precision_field = "precision"

[[add]]
layer = "schools"
name = "Farms New School"
place = "农场镇"
capacity = 500

[[add]]
layer = "schools"
name = "Isle School"
x = 724300
y = 2460300
crs = "EPSG:32649"
capacity = 100

[[add]]
layer = "schools"
name = "Ghost School"

[[add]]
layer = "schools"
name = "Core Primary"
place = "Farms Centre"

[[remove]]
layer = "schools"
name = "Harbour School"

[[capacity]]
layer = "schools"
name = "Core Primary"
change = 300

[[target]]
label = "new schools"
layer = "schools"
count = 4

[[target]]
label = "new schools in the west"
layer = "schools"
region = "west"
count = 1

[[target]]
label = "new clinics"
layer = "clinics"
count = 2

[[target]]
label = "new-energy buses"
count = 100
unit = "buses"
"""


def _load(cfg: Path) -> Study:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return Study.load(cfg)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from equiserve.testing import write_tiny_study

    folder = tmp_path_factory.mktemp("scenario")
    cfg = write_tiny_study(folder / "in")
    (folder / "places.csv").write_text(PLACES, encoding="utf-8")
    (folder / "plan.toml").write_text(PLAN, encoding="utf-8")
    return cfg, folder / "plan.toml"


@pytest.fixture(scope="module")
def result(tiny):
    cfg, plan = tiny
    study = _load(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return run_scenario(study, plan)


# ---------------------------------------------------------------------------------------
# the plan file


@pytest.mark.parametrize("text, match", [
    ('[scenario]\nname = "x"\n[[add]]\nlayer = "s"\nname = "a"\nplce = "b"\n',
     "unknown key 'plce'.*did you mean 'place'"),
    ('[scenario]\nname = "x"\n[[add]]\nlayer = "s"\nname = "a"\nplace = "b"\nlon = 1\n'
     'lat = 2\n', "both a place and coordinates"),
    ('[scenario]\nname = "x"\n[[add]]\nlayer = "s"\nname = "a"\nx = 1\ny = 2\n',
     "x/y without a crs"),
    ('[scenario]\nname = "x"\n[[remove]]\nlayer = "s"\n', "exactly one of id or name"),
    ('[scenario]\nname = "x"\n[[capacity]]\nlayer = "s"\nname = "a"\n',
     "exactly one of change"),
    ('[scenario]\nname = "x"\n[[target]]\nlabel = "t"\ncount = 0\n', "greater than 0"),
    ('[scenario]\n', r"missing required key\(s\) 'name'"),
])
def test_bad_plan_files_say_what_to_fix(tmp_path, text, match):
    import tomllib

    with pytest.raises(ConfigError, match=match):
        parse_scenario(tomllib.loads(text), tmp_path)


def test_plan_file_reads(tiny):
    sc = load_scenario(tiny[1])
    assert [a.name for a in sc.add] == ["Farms New School", "Isle School", "Ghost School",
                                        "Core Primary"]
    assert sc.add[1].has_coordinates and not sc.add[0].has_coordinates
    assert sc.capacity[0].change == 300 and sc.targets[-1].layer is None


# ---------------------------------------------------------------------------------------
# gazetteer


def test_gazetteer_matches_exact_alias_partial_and_refuses_ambiguity(tiny):
    sc = load_scenario(tiny[1])
    gaz = Gazetteer.from_config(sc.gazetteer)
    m, _ = gaz.resolve(" farms centre ")
    assert (m.name, m.how, m.precision) == ("Farms Centre", "exact", "town centre ~1 km")
    m, _ = gaz.resolve("农场镇")  # second name field
    assert m.name == "Farms Centre" and (m.lon, m.lat) == (113.1152, 22.246)
    m, _ = gaz.resolve("North Park")
    assert m.name == "Farms North Park" and m.how == "partial"
    m, why = gaz.resolve("Farms North")
    assert m is None and "ambiguous" in why and "Farms North Gate" in why
    m, why = gaz.resolve("Nowhere")
    assert m is None and why == "not in the gazetteer"
    # the reverse containment is never used: a long query does not match a short name
    m, _ = gaz.resolve("Farms Centre Primary School")
    assert m is None


def test_gazetteer_names_missing_fields(tiny, tmp_path):
    sc = load_scenario(tiny[1])
    cfg = GazetteerConfig(source=sc.gazetteer.source, name_fields=("name_zh",),
                          precision_field="precision")
    with pytest.raises(DataError, match="name_zh.*fields: name, alias"):
        Gazetteer.from_config(cfg)


# ---------------------------------------------------------------------------------------
# applying the plan


def test_baseline_is_untouched_and_plan_has_the_changes(result):
    base = result.baseline.layers["schools"].facilities
    plan = result.plan.layers["schools"].facilities
    assert len(base) == 4 and "Harbour School" in set(base["name"])
    assert set(plan["name"]) == {"Core Primary", "Core East Primary", "Farms Primary",
                                 "Farms New School", "Isle School"}
    caps = plan.set_index("name")["capacity"]
    assert caps["Core Primary"] == 1200 and caps["Isle School"] == 100
    assert base.set_index("name")["capacity"]["Core Primary"] == 900
    regions = plan.set_index("name")["region"]
    assert regions["Farms New School"] == "Farms" and regions["Isle School"] == "Isle"
    st = result.changes.set_index("name")["status"]
    assert st["Ghost School"] == "unplaced" and st["Isle School"] == "placed"
    exists = result.changes.query("action == 'add' and name == 'Core Primary'").iloc[0]
    assert exists["status"] == "already in baseline"
    # the matched baseline facility's id and region, not the gazetteer point's
    assert (exists["facility_id"], exists["region"], exists["group"]) == ("S1", "Core", "east")


def test_plan_figures_equal_a_study_written_with_the_plan(result, tiny, tmp_path):
    """Independent check: the plan's schools written into a copy of the inputs and loaded
    as an ordinary study give the same summary and scorecard."""
    cfg, _ = tiny
    folder = tmp_path / "planned"
    shutil.copytree(cfg.parent, folder)
    schools = pd.read_csv(folder / "schools.csv")
    schools = schools[schools["name"] != "Harbour School"]
    schools.loc[schools["name"] == "Core Primary", "seats"] += 300
    import geopandas as gpd

    isle = gpd.GeoSeries.from_xy([724300], [2460300], crs=32649).to_crs(4326)
    schools = pd.concat([schools, pd.DataFrame({
        "id": ["N1", "N2"], "name": ["Farms New School", "Isle School"], "seats": [500, 100],
        "lon": [113.1152, isle.x.iloc[0]], "lat": [22.2460, isle.y.iloc[0]]})])
    schools.to_csv(folder / "schools.csv", index=False)
    study = _load(folder / "study.toml")
    res = study.coverage()
    eq = study.equity(res)
    cols = ["layer", "level", "name", "population", "covered_population", "coverage_pct",
            "unserved_population", "mean_distance_m", "median_distance_m", "facilities"]
    pd.testing.assert_frame_equal(res.summary[cols], result.plan_result.summary[cols],
                                  check_exact=False, rtol=1e-9)
    card_cols = ["layer", "level", "name", "coverage_pct", "capacity", "served_population",
                 "access_score"]
    pd.testing.assert_frame_equal(eq.scorecard[card_cols],
                                  result.plan_equity.scorecard[card_cols],
                                  check_exact=False, rtol=1e-9)


def test_comparison_is_plan_minus_baseline_for_every_figure(result):
    comp = result.comparison
    s = comp[(comp["table"] == "summary")]
    base = result.baseline_result.summary.set_index(["layer", "level", "name"])
    plan = result.plan_result.summary.set_index(["layer", "level", "name"])
    for r in s.sample(40, random_state=1).itertuples():
        b, p = base.loc[(r.layer, r.level, r.name), r.figure], plan.loc[
            (r.layer, r.level, r.name), r.figure]
        assert r.baseline == pytest.approx(b, nan_ok=True)
        assert r.plan == pytest.approx(p, nan_ok=True)
    ok = s["baseline"].notna() & s["plan"].notna()
    np.testing.assert_allclose(s.loc[ok, "change"], s.loc[ok, "plan"] - s.loc[ok, "baseline"])
    assert set(comp["table"]) == {"summary", "equity", "indices"}
    assert (comp.loc[comp["figure"] == "coverage_pct", "unit"] == "%").all()
    # clinics did not change: every clinic figure is equal
    cl = comp[(comp["layer"] == "clinics") & comp["change"].notna()]
    assert len(cl) and np.allclose(cl["change"], 0)
    assert result.changed_layers == ["schools"]


def test_newly_covered_people_by_region_match_the_summary(result):
    gain = result.newly_covered("schools")
    pop = result.plan.population
    by_region = np.bincount(pop.region, weights=gain, minlength=3)
    s = result.comparison.query("table == 'summary' and layer == 'schools' and "
                                "level == 'region' and figure == 'covered_population'")
    np.testing.assert_allclose(by_region, s["change"].to_numpy(), atol=1e-6)


def test_targets_are_tracked(result):
    t = result.targets.set_index("label")
    assert t.loc["new schools", ["targeted", "placed", "already_in_baseline", "unplaced",
                                 "missing"]].tolist() == [4, 2, 1, 1, 0]
    assert t.loc["new schools", "status"] == ("named in full; 1 not placed (1 already in the "
                                              "baseline data)")
    # Core Primary (already there) is in the east: the west target counts Farms New School
    west = t.loc["new schools in the west"]
    assert (west["placed"], west["already_in_baseline"]) == (1, 0)
    assert west["status"] == ("met (1 more of the layer named but not placed, region "
                              "unknown)")
    assert t.loc["new clinics", "status"] == "short by 2" and t.loc["new clinics",
                                                                    "missing"] == 2
    assert t.loc["new-energy buses", "status"].startswith("not tracked")


def test_coordinates_in_gcj02_are_converted(tiny):
    cfg, _ = tiny
    study = _load(cfg)
    sc = parse_scenario({"scenario": {"name": "g"}, "add": [
        {"layer": "clinics", "name": "C", "lon": 113.15, "lat": 22.24, "crs": "GCJ-02"}]})
    plan, changes = apply_scenario(study, sc)
    lon, lat = wgs84_from_gcj02(113.15, 22.24)
    row = changes.iloc[0]
    assert row["lon"] == pytest.approx(lon, abs=1e-9) and row["lat"] == pytest.approx(lat,
                                                                                      abs=1e-9)
    assert abs(row["lon"] - 113.15) > 0.003  # really shifted (~500 m)


def test_only_existing_additions_and_odd_coordinates(tiny):
    cfg, _ = tiny
    study = _load(cfg)
    gaz = {"source": str(cfg.parent.parent / "places.csv"), "x_field": "lon",
           "y_field": "lat", "crs": "EPSG:4326", "name_fields": ["name", "alias"]}
    # a plan whose only addition is already there: no crash, the baseline facility named
    sc = parse_scenario({"scenario": {"name": "x"}, "gazetteer": gaz,
                         "add": [{"layer": "schools", "name": "Core Primary",
                                  "place": "Farms Centre"}]})
    _, changes = apply_scenario(study, sc)
    assert changes[["status", "region"]].values.tolist() == [["already in baseline", "Core"]]
    # a separate place name never identifies the facility: a school at "Farms Centre"
    # is new even though the layer might have a facility of that place's name
    sc = parse_scenario({"scenario": {"name": "x"}, "gazetteer": gaz,
                         "add": [{"layer": "schools", "name": "Farms Centre School",
                                  "place": "Farms Centre"}]})
    assert apply_scenario(study, sc)[1]["status"].item() == "placed"
    # swapped lon/lat and points outside every region
    sc = parse_scenario({"scenario": {"name": "x"}, "add": [
        {"layer": "schools", "name": "Swapped", "lon": 22.24, "lat": 113.15}]})
    with pytest.raises(DataError, match="'Swapped'.*look swapped"):
        apply_scenario(study, sc)
    sc = parse_scenario({"scenario": {"name": "x"}, "add": [
        {"layer": "schools", "name": "At sea", "lon": 113.30, "lat": 22.10}]})
    row = apply_scenario(study, sc)[1].iloc[0]
    assert row["status"] == "placed" and row["note"].startswith("outside every region")
    # a generic word is not an existing facility, even right next to one whose name ends
    # with it; an area's name before it is (Core + Primary), and only nearby
    core = study.layers["schools"].facilities.set_index("name").geometry["Core Primary"]
    import geopandas as gpd

    at = gpd.GeoSeries([core], crs=study.crs).to_crs(4326).iloc[0]
    near = {"layer": "schools", "lon": at.x + 0.001, "lat": at.y}
    sc = parse_scenario({"scenario": {"name": "x"}, "add": [
        {**near, "name": "Primary"}, {**near, "name": "East Primary"},
        {**near, "name": "Big School", "capacity": 50.0}]})
    ch = apply_scenario(study, sc)[1].set_index("name")
    assert ch.loc["Primary", "status"] == "already in baseline"  # "Core " + "Primary"
    assert ch.loc["Primary", "facility_id"] == "S1"
    assert ch.loc["East Primary", "status"] == "placed"
    assert ch.loc["Big School", "status"] == "placed"
    # an addition named like an existing facility needs no lookup, and its capacity is
    # not silently dropped
    sc = parse_scenario({"scenario": {"name": "x"}, "gazetteer": gaz, "add": [
        {"layer": "schools", "name": "Core East Primary", "capacity": 5000.0}]})
    row = apply_scenario(study, sc)[1].iloc[0]
    assert row["status"] == "already in baseline" and "not applied" in row["note"]


def test_ambiguous_and_conflicting_changes_are_errors(tiny, tmp_path):
    cfg, _ = tiny
    study = _load(cfg)
    fac = study.layers["clinics"].facilities
    name = fac["name"].iloc[0]
    twin = study.layers["clinics"]
    from dataclasses import replace as dc_replace

    doubled = fac.copy()
    doubled.loc[1, "name"] = name  # two clinics of one name
    study2 = dc_replace(study, layers={**study.layers,
                                       "clinics": dc_replace(twin, facilities=doubled)})
    sc = parse_scenario({"scenario": {"name": "x"},
                         "capacity": [{"layer": "clinics", "name": name, "change": 5}]})
    with pytest.raises(DataError, match="2 facilities of layer 'clinics' have name.*ids"):
        apply_scenario(study2, sc)
    sc = parse_scenario({"scenario": {"name": "x"},
                         "remove": [{"layer": "schools", "name": "Core Primary"}],
                         "capacity": [{"layer": "schools", "name": "Core Primary",
                                       "change": 5}]})
    with pytest.raises(DataError, match="removed by the plan"):
        apply_scenario(study, sc)
    sc = parse_scenario({"scenario": {"name": "x"}, "remove": [
        {"layer": "schools", "name": "Core Primary"}, {"layer": "schools", "id": "S1"}]})
    with pytest.raises(DataError, match="removes this facility twice"):
        apply_scenario(study, sc)
    with pytest.raises(ConfigError, match="no \\[gazetteer\\]"):
        parse_scenario({"scenario": {"name": "x"}, "add": [{"layer": "schools", "name": "a"}]})
    sc = parse_scenario({"scenario": {"name": "x"}, "target": [
        {"label": "t", "layer": "schools", "count": 1, "region": "Farm"}]})
    with pytest.raises(ConfigError, match="region 'Farm'.*did you mean 'Farms'"):
        run_scenario(study, sc)
    sc = parse_scenario({"scenario": {"name": "x"}, "target": [
        {"label": "t", "layer": "school", "count": 1}]})
    with pytest.raises(ConfigError, match="did you mean 'schools'"):
        run_scenario(study, sc)


def test_bad_changes_name_the_layer_and_facility(tiny):
    cfg, _ = tiny
    study = _load(cfg)
    sc = parse_scenario({"scenario": {"name": "x"},
                         "remove": [{"layer": "schools", "name": "Core Primry"}]})
    with pytest.raises(DataError, match="no facility with name 'Core Primry'.*Core Primary"):
        apply_scenario(study, sc)
    sc = parse_scenario({"scenario": {"name": "x"},
                         "add": [{"layer": "school", "name": "a", "lon": 1, "lat": 2}]})
    with pytest.raises(ConfigError, match="layer 'school'.*did you mean 'schools'"):
        apply_scenario(study, sc)


def test_scenario_command_writes_everything(tiny, tmp_path):
    from typer.testing import CliRunner

    from equiserve.cli import app
    cfg, plan = tiny
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["scenario", str(cfg), "--plan", str(plan), "--out", str(out),
                                 "--offline"])
    assert r.exit_code == 0, r.output
    for name in ("scenario_summary.csv", "scenario_targets.csv", "scenario_changes.csv",
                 "scenario.xlsx", "scenario_report.html", "scenario_map.html",
                 "data_quality.csv"):
        assert (out / name).stat().st_size > 0
    assert "new schools: 4 facilities -> named in full" in r.output
    notes = pd.read_csv(out / "data_quality.csv")
    assert {"both", "plan"} <= set(notes["run"])
    plan_notes = notes[notes["run"] == "plan"]
    assert plan_notes["message"].str.contains("could not be placed and is left out").any()
    targets = pd.read_csv(out / "scenario_targets.csv")
    assert len(targets) == 4
    html = (out / "scenario_report.html").read_text(encoding="utf-8")
    assert "Scenario: Tiny plan" in html and "Ghost School: not in the gazetteer" in html
    assert ">nan<" not in html
    bad = CliRunner().invoke(app, ["scenario", str(cfg), "--plan", str(tmp_path / "no.toml"),
                                   "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "scenario file not found" in bad.output


@pytest.mark.slow
def test_demo_plan_runs_end_to_end(demo_run, tmp_path):
    """The demo writes a plan with every kind of change; its figures add up."""
    from typer.testing import CliRunner

    from equiserve.cli import app

    inputs = demo_run / "inputs"
    out = tmp_path / "plan"
    r = CliRunner().invoke(app, ["scenario", str(inputs / "study.toml"), "--plan",
                                 str(inputs / "plan.toml"), "--out", str(out), "--offline"])
    assert r.exit_code == 0, r.output
    changes = pd.read_csv(out / "scenario_changes.csv")
    assert changes.groupby("status").size().to_dict() == {
        "placed": 8, "unplaced": 1, "removed": 1, "changed": 1}
    # the clinic given in GCJ-02 lands on the WGS84 point of Egret Island
    places = pd.read_csv(inputs / "places.csv").set_index("name")
    clinic = changes.set_index("name").loc["Egret Island Clinic"]
    assert clinic["region"] == "Egret Island"
    assert (clinic["lon"], clinic["lat"]) == pytest.approx(
        tuple(places.loc["Egret Island", ["lon", "lat"]]), abs=2e-6)
    t = pd.read_csv(out / "scenario_targets.csv").set_index("label")
    # 8 promised, 8 named: 7 placed (the west's towns, its new town, Coral Island) and
    # Harbour Academy, whose site is not chosen
    assert t.loc["new primary schools", "status"] == "named in full; 1 not placed"
    notes = pd.read_csv(out / "data_quality.csv")
    # the baseline's note on children with no school on Coral Island is not the plan's
    coral = notes["message"].str.contains("no primary_schools facility") & notes[
        "message"].str.contains("Coral Island")
    assert set(notes.loc[coral, "run"]) == {"baseline"}
    comp = pd.read_csv(out / "scenario_summary.csv")
    cov = comp.query("table == 'summary' and figure == 'coverage_pct' and level == 'group'")
    cov = cov.set_index(["layer", "name"])["change"]
    assert cov[("primary_schools", "west")] > 0 and cov[("primary_schools", "east")] == 0
    assert cov[("clinics", "east")] < 0 < cov[("clinics", "island")]  # closure vs new clinic
