"""The equalisation scorecard end to end, against independent computations."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from equiserve import Study, run_report
from equiserve.errors import DataQualityWarning
from equiserve.testing import write_tiny_study


@pytest.fixture
def tiny_equity(tmp_path):
    cfg = write_tiny_study(tmp_path / "in")
    text = cfg.read_text(encoding="utf-8").replace(
        'serves = "children_6_11"', 'serves = "children_6_11"\nnorm_per_1000 = 900')
    text += '\n[life_circle]\nname = "10-minute life circle"\nlayers = ["schools", "clinics"]\n'
    cfg.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(cfg)
        result = study.coverage()
        eq = study.equity(result)
    return cfg, study, result, eq


def independent_od(folder, radius):
    """Cells x schools within radius from the input files, by brute force (a dense matrix)."""
    pop = gpd.read_file(folder / "population.gpkg").to_crs(32649)
    pop = pop[pop["pop"] > 0].reset_index(drop=True)
    df = pd.read_csv(folder / "schools.csv")
    fac = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)
    fac = fac.to_crs(32649)
    c = pop.geometry.centroid
    d = np.hypot(c.x.to_numpy()[:, None] - fac.geometry.x.to_numpy()[None, :],
                 c.y.to_numpy()[:, None] - fac.geometry.y.to_numpy()[None, :])
    return pop, fac, d


def test_two_step_fca_matches_pysal_access(tiny_equity):
    from access import Access

    cfg, study, result, eq = tiny_equity
    pop, fac, d = independent_od(cfg.parent, 500.0)
    i, j = np.nonzero(d <= 500.0)
    # a school sits at a cell centre (up to the CSV's 9 decimals of a degree)
    assert (d[i, j] < 0.01).any()
    demand = pd.DataFrame({"geoid": np.arange(len(pop)), "kids": pop["kids"].to_numpy(float)})
    supply = pd.DataFrame({"geoid": [f"s{k}" for k in range(len(fac))],
                           "seats": fac["seats"].fillna(0).to_numpy(float)})
    cost = pd.DataFrame({"origin": i, "dest": [f"s{k}" for k in j], "cost": d[i, j]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc = Access(demand_df=demand, demand_index="geoid", demand_value="kids",
                     supply_df=supply, supply_index="geoid", supply_value="seats",
                     cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost")
        ref = acc.two_stage_fca(name="fca", max_cost=500.0).iloc[:, 0]
    ours = eq.access["schools"].score
    # same cells in the same order (the grid keeps the file's populated cells in order)
    assert len(ours) == len(pop)
    expected = np.zeros(len(pop))
    expected[ref.index.to_numpy(int)] = ref.to_numpy()
    np.testing.assert_allclose(ours, np.nan_to_num(expected), rtol=1e-9, atol=1e-12)


def test_capacity_figures(tiny_equity):
    cfg, study, result, eq = tiny_equity
    acc = eq.access["schools"]
    seats = study.layers["schools"].facilities["capacity"].fillna(0).to_numpy()
    np.testing.assert_allclose(acc.capacity, seats)
    assert (acc.used <= seats + 1e-9).all()
    kids = study.population.subgroups["children_6_11"]
    assert (acc.served <= kids + 1e-9).all()
    # people only get a place within the standard
    assert acc.served[~result.layers["schools"].covered].sum() == 0
    card = eq.scorecard.set_index(["layer", "level", "name"])
    core = card.loc[("schools", "region", "Core")]
    # norm: 900 places per 1,000 children; Core holds S1 + S2 = 1,500 seats
    assert core["capacity"] == 1500
    assert core["places_required"] == pytest.approx(0.9 * kids[study.population.region == 0]
                                                    .sum())
    assert core["places_short"] == pytest.approx(max(core["places_required"] - 1500, 0))
    assert core["served_population"] == pytest.approx(
        acc.served[study.population.region == 0].sum())


def test_theil_parts_add_up_and_match_indices(tiny_equity):
    cfg, study, result, eq = tiny_equity
    ind = eq.indices.set_index(["layer", "measure", "index"])["value"]
    for layer, measure in [("schools", "access"), ("clinics", "distance"),
                           ("clinics", "covered")]:
        total = ind[(layer, measure, "theil")]
        assert total == pytest.approx(ind[(layer, measure, "theil_between_groups")]
                                      + ind[(layer, measure, "theil_within_groups")], rel=1e-12)
        assert total == pytest.approx(ind[(layer, measure, "theil_between_regions")]
                                      + ind[(layer, measure, "theil_within_regions")],
                                      rel=1e-12)
    # covered yes/no: the Gini of a 0/1 measure is 1 - coverage share
    cov = result.layers["clinics"]
    share = (cov.weights * cov.covered).sum() / cov.weights.sum()
    assert ind[("clinics", "covered", "gini")] == pytest.approx(1 - share, rel=1e-9)


def test_life_circle(tiny_equity):
    cfg, study, result, eq = tiny_equity
    both = result.layers["schools"].covered & result.layers["clinics"].covered
    np.testing.assert_array_equal(eq.life_circle_all, both)
    row = eq.scorecard.set_index(["layer", "level", "name"]).loc[
        ("life_circle", "study", "study")]
    pop = study.population.population
    assert row["coverage_pct"] == pytest.approx(100 * pop[both].sum() / pop.sum())
    assert "10-minute life circle" in row["standard"]


def test_report_writes_scorecard_files(tiny_equity, tmp_path):
    cfg, *_ = tiny_equity
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        paths = run_report(cfg, tmp_path / "out")
    for name in ["equity.csv", "equity_indices.csv", "lorenz.csv"]:
        assert paths[name].is_file()
    card = pd.read_csv(paths["equity.csv"])
    assert {"study", "group", "region"} <= set(card["level"])
    assert {"schools", "clinics", "life_circle"} == set(card["layer"])
    lor = pd.read_csv(paths["lorenz.csv"])
    first = lor.groupby(["layer", "measure"]).first()
    assert (first["population_share"] == 0).all()
    html = paths["report.html"].read_text(encoding="utf-8")
    assert "Equalisation scorecard" in html and "places per 1,000 people" in html
    cells = gpd.read_file(paths["coverage.gpkg"], layer="cells")
    assert {"access_schools", "served_schools", "life_circle_score"} <= set(cells.columns)


def test_demo_scorecard_east_west_island(demo_run):
    card = pd.read_csv(demo_run / "equity.csv")
    groups = card[(card["layer"] == "clinics") & (card["level"] == "group")].set_index("name")
    assert set(groups.index) == {"east", "west", "island"}
    # the demo's islands are worse served: less catchment access per person than the east
    assert groups.loc["island", "access_score"] < groups.loc["east", "access_score"]
    assert (groups["places_short"] >= 0).all()
