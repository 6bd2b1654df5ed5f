"""Coverage numbers checked against brute force (all-pairs distances) and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equiserve.analysis import (
    coverage_table,
    grouped_weighted_quantile,
    nearest_facility,
    weighted_quantile,
)


def brute_nearest(cells: np.ndarray, fac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(((cells[:, None, :] - fac[None, :, :]) ** 2).sum(axis=2))
    return d.min(axis=1), d.argmin(axis=1)


def test_nearest_matches_all_pairs():
    rng = np.random.default_rng(1)
    cells = rng.uniform(0, 10_000, (3000, 2))
    fac = rng.uniform(0, 10_000, (57, 2))
    d, f = nearest_facility(cells, fac)
    bd, bf = brute_nearest(cells, fac)
    np.testing.assert_allclose(d, bd, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(f, bf)


def test_nearest_maps_access_points_to_facilities():
    # two facilities; facility 1 has two access points (entrances)
    access = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    owner = np.array([0, 1, 1])
    d, f = nearest_facility(np.array([[90.0, 0.0], [5.0, 90.0], [1.0, 1.0]]), access, owner)
    np.testing.assert_allclose(d, [10.0, np.hypot(5, 10), np.sqrt(2)])
    assert f.tolist() == [1, 1, 0]


def test_nearest_with_no_facilities_is_infinite():
    d, f = nearest_facility(np.zeros((3, 2)), np.empty((0, 2)))
    assert np.isinf(d).all() and (f == -1).all()


def test_cell_on_facility_is_distance_zero_and_covered():
    table = coverage_table(np.array([0.0]), 500.0, np.array([10.0]), np.array([0]),
                           np.array(["R"]), np.array(["g"]))
    assert table.loc[0, "coverage_pct"] == 100.0
    assert table.loc[0, "mean_distance_m"] == 0.0


@pytest.mark.parametrize("q", [0.1, 0.25, 0.5, 0.9, 0.99, 1.0])
def test_weighted_quantile_matches_repeated_values(q):
    rng = np.random.default_rng(3)
    v = rng.uniform(0, 3000, 200).round(1)
    w = rng.integers(0, 50, 200)
    expected = np.percentile(np.repeat(v, w), 100 * q, method="inverted_cdf")
    assert weighted_quantile(v, w, q) == expected


def test_grouped_quantile_equals_per_group_quantile():
    rng = np.random.default_rng(4)
    v = rng.uniform(0, 1000, 500)
    w = rng.integers(0, 20, 500)
    lab = rng.integers(0, 5, 500)
    lab[lab == 3] = 4  # label 3 left empty on purpose
    got = grouped_weighted_quantile(v, w, lab, 5, 0.9)
    for g in range(5):
        sel = lab == g
        if g == 3:
            assert np.isnan(got[g])
        else:
            exp = np.percentile(np.repeat(v[sel], w[sel]), 90, method="inverted_cdf")
            assert got[g] == exp


def test_hand_worked_case():
    # Region A (east): cells 100 m (10 people), 400 m (30), 800 m (60); standard 500 m.
    # Region B (west): one cell 2000 m (50 people).
    dist = np.array([100.0, 400.0, 800.0, 2000.0])
    w = np.array([10.0, 30.0, 60.0, 50.0])
    t = coverage_table(dist, 500.0, w, np.array([0, 0, 0, 1]), np.array(["A", "B"]),
                       np.array(["east", "west"])).set_index(["level", "name"])
    a = t.loc[("region", "A")]
    assert a.population == 100 and a.covered_population == 40
    assert a.coverage_pct == 40.0 and a.unserved_population == 60
    assert a.mean_distance_m == pytest.approx((100 * 10 + 400 * 30 + 800 * 60) / 100)
    assert a.median_distance_m == 800.0  # 40 % of people within 400 m, so the median is 800
    assert a.p90_distance_m == 800.0
    s = t.loc[("study", "study")]
    assert s.population == 150 and s.covered_population == 40
    assert s.coverage_pct == pytest.approx(100 * 40 / 150)
    assert s.p90_distance_m == 2000.0  # the 50 people at 2 km are the top third
    assert t.loc[("group", "west")].coverage_pct == 0.0


def test_coverage_table_matches_pandas_groupby():
    rng = np.random.default_rng(5)
    n = 5000
    dist = rng.exponential(700, n)
    w = rng.integers(0, 300, n).astype(float)
    region = rng.integers(0, 6, n)
    names = np.array([f"R{i}" for i in range(6)])
    groups = np.array(["east", "east", "west", "west", "island", "island"])
    t = coverage_table(dist, 500.0, w, region, names, groups)
    df = pd.DataFrame({"d": dist, "w": w, "g": groups[region], "r": names[region]})
    df["cov"] = df["w"] * (df["d"] <= 500)
    df["dw"] = df["d"] * df["w"]
    for level, col in [("group", "g"), ("region", "r")]:
        exp = df.groupby(col).agg(pop=("w", "sum"), cov=("cov", "sum"), dw=("dw", "sum"))
        got = t[t["level"] == level].set_index("name")
        for name, row in exp.iterrows():
            assert got.loc[name, "population"] == pytest.approx(row["pop"], rel=1e-12)
            assert got.loc[name, "covered_population"] == pytest.approx(row["cov"], rel=1e-12)
            assert got.loc[name, "mean_distance_m"] == pytest.approx(row["dw"] / row["pop"],
                                                                     rel=1e-12)
    assert list(t.loc[t["level"] == "group", "name"]) == ["east", "west", "island"]
