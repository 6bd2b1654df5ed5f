"""End-to-end runs: the tiny study against brute force, atomic outputs, bad input, the demo."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio

from equiserve import Study, run_report
from equiserve.errors import ConfigError, DataError, DataQualityWarning

#: Every file of a report run (``equiserve report``).
OUTPUTS = ("summary.csv", "summary.xlsx", "coverage.gpkg", "report.html", "map.html",
           "data_quality.csv", "equity.csv", "equity_indices.csv", "lorenz.csv")

SUMMARY_MIN_COLUMNS = ["layer", "level", "name", "population", "covered_population",
                       "coverage_pct", "unserved_population", "mean_distance_m",
                       "p90_distance_m"]


def _run(config: Path, out: Path) -> dict[str, Path]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return run_report(config, out)


def brute_force_summary(folder: Path, layer_file: str, weights_field: str,
                        standard_m: float) -> pd.DataFrame:
    """Coverage per region computed independently: all-pairs distances, geopandas joins."""
    regions = gpd.read_file(folder / "regions.geojson").to_crs(32649)
    pop = gpd.read_file(folder / "population.gpkg").to_crs(32649)
    pop = pop[pop["pop"] > 0]
    if layer_file.endswith(".csv"):
        df = pd.read_csv(folder / layer_file)
        fac = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)
    else:
        fac = gpd.read_file(folder / layer_file)
    fac = fac.to_crs(32649)
    cx, cy = pop.geometry.centroid.x.to_numpy(), pop.geometry.centroid.y.to_numpy()
    fx, fy = fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()
    d = np.hypot(cx[:, None] - fx[None, :], cy[:, None] - fy[None, :]).min(axis=1)
    cells = gpd.GeoDataFrame({"w": pop[weights_field].to_numpy(float), "d": d},
                             geometry=gpd.points_from_xy(cx, cy), crs=32649)
    cells = gpd.sjoin(cells, regions[["name", "geometry"]], predicate="within")
    cells["cov"] = cells["w"] * (cells["d"] <= standard_m)
    out = cells.groupby("name").agg(population=("w", "sum"), covered=("cov", "sum"))
    out["pct"] = 100 * out["covered"] / out["population"]
    out["p90"] = [np.percentile(np.repeat(g["d"], g["w"].astype(int)), 90,
                                method="inverted_cdf") for _, g in cells.groupby("name")]
    return out


@pytest.mark.parametrize("layer,file,field,std", [
    ("schools", "schools.csv", "kids", 500.0),
    ("clinics", "clinics.gpkg", "pop", 1000.0),
])
def test_tiny_study_matches_brute_force(tiny_study, tmp_path, layer, file, field, std):
    paths = _run(tiny_study, tmp_path / "out")
    summary = pd.read_csv(paths["summary.csv"])
    got = summary[(summary["layer"] == layer) & (summary["level"] == "region")].set_index("name")
    exp = brute_force_summary(tiny_study.parent, file, field, std)
    assert sorted(got.index) == sorted(exp.index)
    for name, row in exp.iterrows():
        assert got.loc[name, "population"] == pytest.approx(row["population"], rel=1e-9)
        assert got.loc[name, "covered_population"] == pytest.approx(row["covered"], rel=1e-9)
        assert got.loc[name, "coverage_pct"] == pytest.approx(row["pct"], rel=1e-6)
        assert got.loc[name, "p90_distance_m"] == pytest.approx(row["p90"], rel=1e-6)


def test_tiny_study_outputs(tiny_study, tmp_path):
    paths = _run(tiny_study, tmp_path / "out")
    assert set(paths) == set(OUTPUTS)
    assert all(p.is_file() for p in paths.values())
    summary = pd.read_csv(paths["summary.csv"])
    assert set(SUMMARY_MIN_COLUMNS) <= set(summary.columns)
    assert set(summary["level"]) == {"study", "group", "region"}
    layers = dict(pyogrio.list_layers(paths["coverage.gpkg"]))
    assert set(layers) == {"cells", "facilities", "regions", "gaps",
                           "service_areas_dissolved"}  # per facility only when asked
    areas = run_report(tiny_study, tmp_path / "per", service_areas="per-facility")
    areas = gpd.read_file(areas["coverage.gpkg"], layer="service_areas")
    # straight-line layers: a circle of the standard around each facility
    s1 = areas[(areas["layer"] == "schools") & (areas["facility_id"] == "S1")].iloc[0]
    assert s1.geometry.area == pytest.approx(np.pi * 500**2, rel=2e-3)
    cells = gpd.read_file(paths["coverage.gpkg"], layer="cells")
    for col in ["population", "region", "group", "dist_schools_m", "covered_schools",
                "dist_clinics_m", "covered_clinics"]:
        assert col in cells.columns
    gaps = gpd.read_file(paths["coverage.gpkg"], layer="gaps")
    n_gap = (~cells["covered_clinics"].astype(bool)).sum()
    assert (gaps["unserved_clinics"] > 0).sum() == n_gap
    # unserved people in gaps equal the summary's study-level unserved figure
    study_row = summary[(summary["layer"] == "clinics") & (summary["level"] == "study")]
    assert gaps["unserved_clinics"].sum() == pytest.approx(
        study_row["unserved_population"].iloc[0], rel=1e-9)
    fac = gpd.read_file(paths["coverage.gpkg"], layer="facilities")
    harbour = fac[fac["name"] == "Harbour School"].iloc[0]
    assert pd.isna(harbour["region"])  # outside every region, reported and kept
    notes = pd.read_csv(paths["data_quality.csv"])
    assert notes["message"].str.contains("Harbour School").any()
    assert notes["message"].str.contains("Farms Primary").any()  # missing seats
    html = paths["report.html"].read_text(encoding="utf-8")
    assert "Tiny test study (synthetic)" in html and "Coverage (%)" in html


def test_population_is_conserved(tiny_study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(tiny_study)
    src = gpd.read_file(tiny_study.parent / "population.gpkg")
    assert study.population.total == pytest.approx(src["pop"].sum(), rel=1e-12)
    assert study.population.subgroups["children_6_11"].sum() == pytest.approx(
        src["kids"].sum(), rel=1e-12)


def test_failed_run_leaves_output_folder_untouched(tiny_study, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    (tiny_study.parent / "clinics.gpkg").unlink()
    with pytest.raises(DataError, match=r"\[layers.clinics\] source: file not found"):
        _run(tiny_study, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if "equiserve-tmp" in p.name]


def test_rerun_replaces_outputs_and_keeps_other_files(tiny_study, tmp_path):
    out = tmp_path / "out"
    _run(tiny_study, out)
    (out / "notes.txt").write_text("planner's notes", encoding="utf-8")
    _run(tiny_study, out)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "planner's notes"


def test_inputs_are_not_modified(tiny_study, tmp_path):
    before = {p.name: p.read_bytes() for p in tiny_study.parent.iterdir()}
    _run(tiny_study, tmp_path / "out")
    after = {p.name: p.read_bytes() for p in tiny_study.parent.iterdir()}
    assert before == after


def test_unknown_subgroup_is_a_config_error(tiny_study, tmp_path):
    text = tiny_study.read_text(encoding="utf-8").replace('serves = "children_6_11"',
                                                          'serves = "kids_6_11"')
    tiny_study.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"layers.schools.serves = 'kids_6_11'.*children_6_11"):
        _run(tiny_study, tmp_path / "out")


def test_empty_layer_is_an_error(tiny_study, tmp_path):
    text = tiny_study.read_text(encoding="utf-8").replace(
        'capacity_field = "beds"', 'capacity_field = "beds"\nfilter = "beds > 1000"')
    tiny_study.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"layers.clinics.*no features after filter"):
        _run(tiny_study, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------
# the bundled demo (one CLI run shared by these tests)


@pytest.mark.slow
def test_demo_writes_the_outputs(demo_run):
    for name in OUTPUTS:
        assert (demo_run / name).stat().st_size > 0
    # a city-wide map stays small enough to mail and open (cells aggregated to blocks)
    assert (demo_run / "map.html").stat().st_size < 30e6


@pytest.mark.slow
def test_demo_summary_shows_east_west_island(demo_run):
    s = pd.read_csv(demo_run / "summary.csv")
    groups = s[s["level"] == "group"]
    assert set(groups["name"]) == {"east", "west", "island"}
    pct = groups.pivot(index="layer", columns="name", values="coverage_pct")
    # the demo is built so that the west and the islands are worse served
    assert (pct["west"] < pct["east"]).all()
    assert (pct["island"] < pct["east"]).all()


@pytest.mark.slow
def test_demo_population_conserved_against_raster(demo_run):
    with rasterio.open(demo_run / "inputs" / "population.tif") as src:
        band = src.read(1, masked=True)
    s = pd.read_csv(demo_run / "summary.csv")
    study_pop = s[(s["level"] == "study") & (s["population_basis"] == "total")]["population"]
    assert study_pop.iloc[0] == pytest.approx(float(band.sum()), rel=1e-6)


@pytest.mark.slow
def test_demo_gap_cells_are_real_gaps(demo_run):
    cells = gpd.read_file(demo_run / "coverage.gpkg", layer="cells",
                          columns=["population", "dist_bus_stops_m", "covered_bus_stops"])
    assert 50_000 <= len(cells) <= 150_000
    assert ((cells["dist_bus_stops_m"] <= 500) == cells["covered_bus_stops"].astype(bool)).all()
    # cells are written as their centres (coverage.gpkg's default): on the 100 m grid
    assert (cells.geom_type == "Point").all()
    steps = np.diff(np.unique(cells.geometry.x.to_numpy()))
    np.testing.assert_allclose(steps / 100, np.round(steps / 100), atol=1e-6)
    assert steps.min() == pytest.approx(100, rel=1e-6)


def test_copy_of_demo_inputs_reruns(demo_run, tmp_path):
    inputs = tmp_path / "inputs"
    shutil.copytree(demo_run / "inputs", inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(inputs / "study.toml")
    assert study.config.synthetic
    assert {lay.kind for lay in study.layers.values()} == {
        "school", "clinic", "bus_stop", "art_centre", "sports_park"}


def test_map_is_self_contained(tiny_study, tmp_path):
    """No CDN: Leaflet is inlined; --offline leaves out the tile layer as well."""
    import re

    from typer.testing import CliRunner

    from equiserve.cli import app

    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["report", str(tiny_study), "--out", str(out), "--offline"])
    assert r.exit_code == 0, r.output
    html = (out / "map.html").read_text(encoding="utf-8")
    assert not re.search(r'<script[^>]+src="https?:', html)
    assert not re.search(r'<link[^>]+href="https?:', html)
    assert "Leaflet 1.9.3" in html and "L.map(" in html
    assert "tile.openstreetmap.org" not in html
