"""Candidate sites, their marginal gains and the `sites` pipeline, against brute force."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from equiserve import Study
from equiserve.analysis.inequality import gini, theil_t
from equiserve.cli import app
from equiserve.errors import ConfigError, DataError, DataQualityWarning
from equiserve.siting.candidates import (
    candidates_from_file,
    candidates_from_gaps,
    candidates_lattice,
)
from equiserve.siting.evaluate import candidate_costs, marginal_gains, within
from equiserve.testing import TINY_ORIGIN, write_tiny_study


@pytest.fixture
def tiny(tmp_path):
    cfg = write_tiny_study(tmp_path / "in")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(cfg)
        result = study.coverage()
    return cfg, study, result


def test_gap_candidates_are_thinned_gap_cells(tiny):
    _, study, result = tiny
    cands = candidates_from_gaps(study, result, "schools", 400.0)
    pop = study.population
    cov = result.layers["schools"]
    gap_xy = {(round(x), round(y)) for x, y in zip(pop.x[~cov.covered], pop.y[~cov.covered],
                                                   strict=True)}
    assert all((round(x), round(y)) in gap_xy for x, y in cands.xy)
    blocks = {(int(np.floor(x / 400)), int(np.floor(y / 400))) for x, y in cands.xy}
    assert len(blocks) == len(cands)  # one per 400 m block
    assert set(cands.gdf["group"]) <= {"east", "west", "island"}


def test_lattice_stays_on_land(tiny):
    _, study, _ = tiny
    cands = candidates_lattice(study, 250.0)
    assert (study.regions.locate(cands.x, cands.y) >= 0).all()
    assert np.allclose(np.mod(cands.x, 250.0), 0) and np.allclose(np.mod(cands.y, 250.0), 0)
    x0, y0 = TINY_ORIGIN
    # Core is 2 km x 2 km: 7 x 7 lattice points strictly inside, some of its edge points
    core = (cands.x >= x0) & (cands.x <= x0 + 2000) & (cands.y >= y0) & (cands.y <= y0 + 2000)
    assert 49 <= core.sum() <= 81


def test_candidates_outside_the_study_are_an_error(tiny, tmp_path):
    _, study, _ = tiny
    path = tmp_path / "sites.csv"
    pd.DataFrame({"id": ["A", "B"], "lon": [113.6, 120.0], "lat": [22.2, 30.0]}).to_csv(
        path, index=False)
    with pytest.raises(DataError, match=r"2 candidate site\(s\) lie outside every region"):
        candidates_from_file(study, path, id_field="id")


def test_marginal_gains_match_brute_force(tiny):
    _, study, result = tiny
    cands = candidates_lattice(study, 300.0)
    od = candidate_costs(study, "schools", cands)
    gains = marginal_gains(study, result, "schools", cands, within(od, 500.0))
    pop = study.population
    cov = result.layers["schools"]
    w = cov.weights
    d = np.hypot(pop.x[:, None] - cands.x[None, :], pop.y[:, None] - cands.y[None, :])
    by_id = gains.set_index("candidate_id")
    rng = np.random.default_rng(0)
    for k in rng.choice(len(cands), 25, replace=False):
        cid = cands.gdf["candidate_id"].iloc[k]
        new = (d[:, k] <= 500) & ~cov.covered
        row = by_id.loc[cid]
        assert row["new_covered"] == pytest.approx(w[new].sum(), abs=1e-9)
        after = cov.covered | (d[:, k] <= 500)
        assert row["gini_change"] == pytest.approx(
            gini(after * 1.0, w) - gini(cov.covered * 1.0, w), abs=1e-9)
        if after.any():
            assert row["theil_change"] == pytest.approx(
                theil_t(after * 1.0, w) - theil_t(cov.covered * 1.0, w), abs=1e-9)
        shares = {n: w[(pop.region == i) & after].sum() / w[pop.region == i].sum()
                  for i, n in enumerate(study.regions.names)}
        worst = min(shares, key=shares.get)
        assert row["worst_region_coverage_after_pct"] == pytest.approx(100 * shares[worst])
        isle = new & (pop.region == 2)
        assert row["new_covered_island"] == pytest.approx(w[isle].sum(), abs=1e-9)
    assert gains["new_covered"].is_monotonic_decreasing
    assert (gains["rank"] == np.arange(1, len(gains) + 1)).all()


def run_sites(cfg, out, *args):
    return CliRunner().invoke(app, ["sites", str(cfg), "--out", str(out), *args])


def test_bad_requests_fail_cleanly(tiny, tmp_path):
    cfg, _, _ = tiny
    out = tmp_path / "o"
    r = run_sites(cfg, out, "--layer", "schools", "--count", "9999")
    assert r.exit_code == 2 and "larger than the" in r.output
    r = run_sites(cfg, out, "--layer", "libraries", "--count", "1")
    assert r.exit_code == 2 and "not a layer" in r.output
    r = run_sites(cfg, out, "--layer", "schools", "--count", "1", "--model", "capacitated")
    assert r.exit_code == 2 and "--capacity" in r.output
    assert not out.exists()


def test_capacitated_model_needs_layer_capacities(tiny):
    cfg, study, result = tiny
    from equiserve.siting.plan import plan_sites

    # clinics have beds, schools have seats; a layer without capacity field is refused
    study.layers["schools"].has_capacity = False
    with pytest.raises(ConfigError, match="needs capacities"):
        plan_sites(study, result, "schools", model="capacitated", count=1, capacity=500)


def test_candidates_off_the_network_are_an_error(tmp_path):
    cfg = write_tiny_study(tmp_path / "in", network=True,
                           school_std='{ mode = "walk", distance_m = 500 }')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(cfg)
    x0, y0 = TINY_ORIGIN
    path = tmp_path / "sites.csv"
    gdf = gpd.GeoDataFrame({"id": ["far", "near"]},
                           geometry=gpd.points_from_xy([x0 - 2900, x0 + 210],
                                                       [y0 + 100, y0 + 190]), crs=32649)
    gdf.to_crs(4326).assign(lon=lambda g: g.geometry.x, lat=lambda g: g.geometry.y).drop(
        columns="geometry").to_csv(path, index=False)
    cands = candidates_from_file(study, path, id_field="id")
    with pytest.raises(DataError, match=r"1 candidate site\(s\) from file are not within 500 m "
                                        r"of the walk network over land \(far\)"):
        candidate_costs(study, "schools", cands)


def test_sites_pipeline_matches_brute_force(tiny, tmp_path):
    """MCLP with the existing schools fixed, on gap-cell candidates: the chosen pair covers
    as many children as the best of all pairs, computed by brute force from the files."""
    from itertools import combinations

    cfg, study, result = tiny
    out = tmp_path / "o"
    r = run_sites(cfg, out, "--layer", "schools", "--count", "2", "--spacing", "400")
    assert r.exit_code == 0, r.output
    gains = pd.read_csv(out / "candidates.csv")
    pop = study.population
    w = result.layers["schools"].weights
    lay = study.layers["schools"]
    d_ex = np.hypot(pop.x[:, None] - lay.access_x[None, :], pop.y[:, None] - lay.access_y[None])
    covered = (d_ex <= 500).any(axis=1)
    cands = candidates_from_gaps(study, result, "schools", 400.0)
    d_c = np.hypot(pop.x[:, None] - cands.x[None, :], pop.y[:, None] - cands.y[None, :]) <= 500
    best = max(w[covered | d_c[:, i] | d_c[:, j]].sum()
               for i, j in combinations(range(len(cands)), 2))
    solution = pd.read_csv(out / "sites_solution.csv").iloc[0]
    assert solution["objective"] == pytest.approx(best, rel=1e-9)
    assert bool(solution["optimal"])
    chosen = gains[gains["selected"]]
    assert len(chosen) == 2
    summary = pd.read_csv(out / "sites_summary.csv").set_index(["level", "name"])
    assert summary.loc[("study", "study"), "covered_after"] == pytest.approx(best, rel=1e-9)
    assert summary.loc[("study", "study"), "covered_before"] == pytest.approx(w[covered].sum())
    sel = gpd.read_file(out / "selected.gpkg", layer="selected")
    assert set(sel["candidate_id"]) == set(chosen["candidate_id"])
    assert (out / "sites_map.html").stat().st_size > 0


def test_lattice_candidates_from_the_cli_respect_exclusions(tiny, tmp_path):
    cfg, _, _ = tiny
    x0, y0 = TINY_ORIGIN
    excl = tmp_path / "water.geojson"
    gpd.GeoDataFrame(geometry=[gpd.points_from_xy([x0 + 1000], [y0 + 1000])[0].buffer(600)],
                     crs=32649).to_file(excl, driver="GeoJSON")
    out = tmp_path / "o"
    r = run_sites(cfg, out, "--layer", "clinics", "--count", "1", "--lattice", "--spacing",
                  "250", "--exclude", str(excl))
    assert r.exit_code == 0, r.output
    cands = gpd.read_file(out / "selected.gpkg", layer="candidates").to_crs(32649)
    d = np.hypot(cands.geometry.x - (x0 + 1000), cands.geometry.y - (y0 + 1000))
    assert len(cands) > 0 and (d >= 600 - 1e-6).all()
