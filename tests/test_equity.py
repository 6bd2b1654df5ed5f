"""Tests of equiserve.analysis.inequality against hand-worked cases and direct formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from equiserve.analysis.inequality import (
    TheilDecomposition,
    coefficient_of_variation,
    equity_indices,
    gini,
    group_means,
    lorenz_curve,
    theil_decomposition,
    theil_t,
)
from equiserve.errors import DataError

# ---------------------------------------------------------------- independent references


def gini_pairwise(x, w):
    """O(n^2) definition: sum_ij w_i w_j |x_i - x_j| / (2 W^2 mu)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    total_w = w.sum()
    mu = (w * x).sum() / total_w
    return float((np.outer(w, w) * np.abs(x[:, None] - x[None, :])).sum()
                 / (2 * total_w**2 * mu))


def gini_unweighted(v):
    """Textbook unweighted Gini of sorted values: sum_i (2i - n - 1) v_i / (n sum v)."""
    v = np.sort(np.asarray(v, float))
    n = len(v)
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * v).sum() / (n * v.sum()))


def theil_direct(x, w):
    """T = (1/W) sum_i w_i (x_i/mu) ln(x_i/mu), skipping x_i = 0 terms, by a Python loop."""
    total_w = float(sum(w))
    mu = sum(wi * xi for xi, wi in zip(x, w, strict=True)) / total_w
    return sum(wi * (xi / mu) * math.log(xi / mu) for xi, wi in zip(x, w, strict=True)
               if xi > 0) / total_w


@pytest.fixture
def rng():
    return np.random.default_rng(20240607)


def random_data(rng, n=400):
    x = rng.lognormal(mean=6.0, sigma=0.8, size=n)  # e.g. distances in metres
    x[rng.choice(n, 20, replace=False)] = 0.0  # some zero values
    w = rng.integers(1, 50, size=n).astype(float)
    return x, w


# ---------------------------------------------------------------- hand-worked cases


def test_equal_values_have_zero_inequality():
    x, w = [1.0, 1.0, 1.0, 1.0], [1, 2, 3, 4]
    assert gini(x, w) == 0.0
    assert theil_t(x, w) == pytest.approx(0.0, abs=1e-15)
    assert coefficient_of_variation(x, w) == pytest.approx(0.0, abs=1e-15)


def test_two_people_zero_and_one():
    assert gini([0.0, 1.0], [1, 1]) == pytest.approx(0.5, rel=1e-15)
    assert theil_t([0.0, 1.0], [1, 1]) == pytest.approx(math.log(2), rel=1e-15)
    # mean 0.5, std 0.5
    assert coefficient_of_variation([0.0, 1.0], [1, 1]) == pytest.approx(1.0, rel=1e-15)


def test_weighted_hand_case():
    # x = [1, 3] with w = [3, 1]: W = 4, sum wx = 6, mu = 1.5.
    # Gini: pairs (i, j) and (j, i) give 2 * 3 * 1 * |1 - 3| = 12; G = 12 / (2 * 16 * 1.5) = 0.25.
    # Theil: x/mu = [2/3, 2]; T = (3 * 2/3 * ln(2/3) + 1 * 2 * ln 2) / 4 = ln(4/3) / 2.
    # CV: var = (3 * 0.5^2 + 1 * 1.5^2) / 4 = 0.75; cv = sqrt(0.75) / 1.5 = 1 / sqrt(3).
    # Lorenz breakpoints: (0, 0), (3/4, 3/6), (1, 1).
    x, w = [1.0, 3.0], [3, 1]
    assert gini(x, w) == pytest.approx(0.25, rel=1e-15)
    assert theil_t(x, w) == pytest.approx(math.log(4 / 3) / 2, rel=1e-14)
    assert coefficient_of_variation(x, w) == pytest.approx(1 / math.sqrt(3), rel=1e-14)
    p, cum = lorenz_curve(x, w, n_points=None)
    np.testing.assert_allclose(p, [0.0, 0.75, 1.0])
    np.testing.assert_allclose(cum, [0.0, 0.5, 1.0])
    # on an even grid, linear interpolation of those breakpoints
    p5, l5 = lorenz_curve(x, w, n_points=5)
    np.testing.assert_allclose(p5, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(l5, [0, 1 / 6, 2 / 6, 0.5, 1])


def test_decomposition_hand_case():
    # group a: x = [1, 1], w = [1, 1]; group b: x = [2, 6], w = [1, 1].
    # W = 4, sum wx = 10, mu = 2.5. means: a 1, b 4. shares: a 2/10, b 8/10.
    # between = 0.2 ln(1/2.5) + 0.8 ln(4/2.5)
    # T_a = 0; T_b = (0.5 ln 0.5 + 1.5 ln 1.5) / 2; within = 0.8 T_b
    d = theil_decomposition([1.0, 2.0, 1.0, 6.0], [1, 1, 1, 1], ["a", "b", "a", "b"])
    assert isinstance(d, TheilDecomposition)
    assert list(d.labels) == ["a", "b"]
    np.testing.assert_allclose(d.population, [2, 2])
    np.testing.assert_allclose(d.mean, [1, 4])
    np.testing.assert_allclose(d.share, [0.2, 0.8])
    t_b = (0.5 * math.log(0.5) + 1.5 * math.log(1.5)) / 2
    np.testing.assert_allclose(d.theil, [0.0, t_b], atol=1e-15)
    between = 0.2 * math.log(1 / 2.5) + 0.8 * math.log(4 / 2.5)
    assert d.between == pytest.approx(between, rel=1e-14)
    assert d.within == pytest.approx(0.8 * t_b, rel=1e-14)
    assert d.total == pytest.approx(theil_direct([1, 2, 1, 6], [1, 1, 1, 1]), rel=1e-14)
    assert d.between_share == pytest.approx(between / d.total, rel=1e-14)
    frame = d.to_frame()
    assert frame.loc["b", "mean"] == 4.0 and list(frame.columns) == [
        "population", "mean", "share", "theil"]


# ---------------------------------------------------------------- Gini vs definitions


def test_gini_matches_pairwise_formula(rng):
    x, w = random_data(rng)
    assert gini(x, w) == pytest.approx(gini_pairwise(x, w), rel=1e-12)


def test_gini_matches_unweighted_on_repeated_data(rng):
    x, w = random_data(rng, n=150)
    expanded = np.repeat(x, w.astype(int))
    assert gini(x, w) == pytest.approx(gini_unweighted(expanded), rel=1e-12)
    # and unit weights give the unweighted Gini
    assert gini(x, np.ones_like(x)) == pytest.approx(gini_unweighted(x), rel=1e-12)


def test_gini_ties_do_not_matter(rng):
    x = rng.integers(0, 5, size=300).astype(float)  # many ties
    w = rng.integers(1, 9, size=300).astype(float)
    perm = rng.permutation(300)
    assert gini(x, w) == pytest.approx(gini_pairwise(x, w), rel=1e-12)
    assert gini(x[perm], w[perm]) == pytest.approx(gini(x, w), rel=1e-13)
    # splitting a cell into two with the same value changes nothing
    xs, ws = np.append(x, x[0]), np.append(w, w[0] / 2)
    ws[0] /= 2
    assert gini(xs, ws) == pytest.approx(gini(x, w), rel=1e-12)


def test_gini_one_person_holds_everything():
    # n people, one has x = 1: G = 1 - 1/n
    assert gini([0.0, 0.0, 0.0, 5.0], [1, 1, 1, 1]) == pytest.approx(0.75, rel=1e-15)


# ---------------------------------------------------------------- Theil and decomposition


def test_theil_matches_direct_formula(rng):
    x, w = random_data(rng)
    assert theil_t(x, w) == pytest.approx(theil_direct(x, w), rel=1e-12)


@pytest.mark.parametrize("n_groups", [3, 12])
def test_decomposition_adds_up(rng, n_groups):
    x, w = random_data(rng, n=600)
    names = np.array([f"R{i:02d}" for i in range(n_groups)])
    labels = names[rng.integers(0, n_groups, size=len(x))]
    x = x * (1 + (labels == "R01"))  # make the groups differ
    d = theil_decomposition(x, w, labels)
    assert d.between > 0 and d.within > 0
    assert d.between + d.within == pytest.approx(d.total, rel=1e-12)
    assert d.total == pytest.approx(theil_direct(x, w), rel=1e-12)
    assert d.share.sum() == pytest.approx(1.0, rel=1e-14)
    assert list(d.labels) == sorted(names)

    # between = Theil of the data with every cell replaced by its group mean
    gm = pd.Series(w * x).groupby(labels).sum() / pd.Series(w).groupby(labels).sum()
    smoothed = gm.loc[labels].to_numpy()
    assert d.between == pytest.approx(theil_direct(smoothed, w), rel=1e-12)
    np.testing.assert_allclose(d.mean, gm.loc[d.labels].to_numpy(), rtol=1e-13)

    # within-group T_g = Theil of that group's cells alone; populations by pandas
    for g, label in enumerate(d.labels):
        cells = labels == label
        assert d.theil[g] == pytest.approx(theil_t(x[cells], w[cells]), rel=1e-12)
        assert d.population[g] == w[cells].sum()
        assert d.share[g] == pytest.approx((w * x)[cells].sum() / (w * x).sum(), rel=1e-13)


def test_decomposition_integer_labels_and_zero_mean_group():
    x = [0.0, 0.0, 2.0, 4.0, 1.0]
    w = [3, 1, 1, 1, 2]
    labels = [7, 7, 2, 2, 5]  # group 7 has mean 0
    d = theil_decomposition(x, w, labels)
    assert list(d.labels) == [2, 5, 7]
    assert d.share[2] == 0.0 and np.isnan(d.theil[2]) and d.mean[2] == 0.0
    assert d.between + d.within == pytest.approx(d.total, rel=1e-13)
    assert d.total == pytest.approx(theil_direct(x, w), rel=1e-13)
    # the zero group contributes nothing: between over the other two groups only
    mu = 8 / 8
    between = (6 / 8) * math.log(3 / mu) + (2 / 8) * math.log(1 / mu)
    assert d.between == pytest.approx(between, rel=1e-13)


# ---------------------------------------------------------------- invariances


def test_scale_and_replication_invariance(rng):
    x, w = random_data(rng)
    for f in (gini, theil_t, coefficient_of_variation):
        assert f(x * 7.3, w) == pytest.approx(f(x, w), rel=1e-12)
        assert f(x, w * 3) == pytest.approx(f(x, w), rel=1e-12)
    # replicating every cell three times is the same population
    assert gini(np.tile(x, 3), np.tile(w, 3)) == pytest.approx(gini(x, w), rel=1e-12)
    assert theil_t(np.tile(x, 3), np.tile(w, 3)) == pytest.approx(theil_t(x, w), rel=1e-12)


def test_transfer_from_richer_to_poorer_lowers_inequality(rng):
    x, w = random_data(rng, n=100)
    w = np.ones_like(x)  # one person per cell so a transfer keeps the total
    rich, poor = int(np.argmax(x)), int(np.argmin(x))
    moved = x.copy()
    amount = (x[rich] - x[poor]) / 4  # keeps the order of the two
    moved[rich] -= amount
    moved[poor] += amount
    assert (w * moved).sum() == pytest.approx((w * x).sum(), rel=1e-14)
    assert gini(moved, w) < gini(x, w)
    assert theil_t(moved, w) < theil_t(x, w)
    assert coefficient_of_variation(moved, w) < coefficient_of_variation(x, w)


# ---------------------------------------------------------------- Lorenz curve


def test_lorenz_endpoints_convexity_and_gini(rng):
    x, w = random_data(rng)
    p, cum = lorenz_curve(x, w, n_points=1001)
    assert len(p) == len(cum) == 1001
    assert (p[0], cum[0]) == (0.0, 0.0) and (p[-1], cum[-1]) == (1.0, 1.0)
    np.testing.assert_allclose(np.diff(p), 1 / 1000)
    assert (np.diff(cum) >= 0).all()
    assert (np.diff(cum, 2) >= -1e-12).all()  # convex
    assert (cum <= p + 1e-12).all()  # below the line of equality
    area = np.sum(np.diff(p) * (cum[1:] + cum[:-1]) / 2)
    assert 1 - 2 * area == pytest.approx(gini(x, w), abs=1e-3)

    pe, le = lorenz_curve(x, w, n_points=None)
    assert len(pe) == len(x) + 1
    exact_area = np.sum(np.diff(pe) * (le[1:] + le[:-1]) / 2)
    assert 1 - 2 * exact_area == pytest.approx(gini_pairwise(x, w), rel=1e-10)


def test_lorenz_bad_n_points():
    with pytest.raises(ValueError, match="n_points"):
        lorenz_curve([1.0, 2.0], [1, 1], n_points=1)


# ---------------------------------------------------------------- exclusions and errors


def test_unreachable_and_missing_cells_are_excluded_and_reported():
    x = np.array([100.0, 300.0, np.inf, np.nan, -np.inf, 500.0, 700.0])
    w = np.array([10.0, 20.0, 7.0, 3.0, 2.0, 0.0, -4.0])
    kept_x, kept_w = [100.0, 300.0], [10.0, 20.0]
    assert gini(x, w) == pytest.approx(gini_pairwise(kept_x, kept_w), rel=1e-14)
    assert theil_t(x, w) == pytest.approx(theil_direct(kept_x, kept_w), rel=1e-14)
    d = theil_decomposition(x, w, ["a"] * 7)
    assert d.excluded_weight == 12.0  # 7 + 3 + 2 people cannot be measured
    r = equity_indices(x, w, ["g"] * 7, ["a", "a", "b", "b", "b", "c", "c"],
                       higher_is_better=False)
    assert r["excluded_weight"] == 12.0
    assert r["population"] == 30.0
    assert r["mean"] == pytest.approx((1000 + 6000) / 30)
    # regions b and c have nobody left: only a can be best or worst
    assert r["best_region"] == r["worst_region"] == "a"
    means = group_means(x, w, ["a", "a", "b", "b", "b", "c", "c"])
    assert list(means.index) == ["a", "b", "c"]
    assert means["a"] == pytest.approx(7000 / 30) and means[["b", "c"]].isna().all()


def test_negative_x_raises():
    with pytest.raises(ValueError, match=r"must be >= 0.*position 1"):
        gini([1.0, -2.0, 3.0], [1, 1, 1])
    with pytest.raises(DataError, match="negative"):
        equity_indices([1.0, -0.5], [1, 1], [0, 0], [0, 0])


def test_bad_shapes_and_labels_raise():
    with pytest.raises(ValueError, match="same length"):
        theil_t([1.0, 2.0], [1, 1, 1])
    with pytest.raises(ValueError, match="infinite"):
        gini([1.0, 2.0], [1, np.inf])
    with pytest.raises(ValueError, match="one label per cell"):
        group_means([1.0, 2.0], [1, 1], ["a"])
    with pytest.raises(ValueError, match="missing label"):
        theil_decomposition([1.0, 2.0], [1, 1], ["a", None])
    # a missing label on an excluded cell is fine
    assert group_means([1.0, np.nan], [1, 1], ["a", None]).to_dict() == {"a": 1.0}


def test_all_zero_or_empty_gives_nan():
    zeros, w = [0.0, 0.0, 0.0], [1, 2, 3]
    assert np.isnan(gini(zeros, w))
    assert np.isnan(theil_t(zeros, w))
    assert np.isnan(coefficient_of_variation(zeros, w))
    assert np.isnan(lorenz_curve(zeros, w)[1]).all()
    d = theil_decomposition(zeros, w, ["a", "b", "a"])
    assert np.isnan([d.total, d.between, d.within]).all()
    r = equity_indices(zeros, w, [1, 1, 2], ["a", "b", "a"])
    assert r["mean"] == 0.0 and np.isnan(r["gini"]) and np.isnan(r["theil_between_regions"])
    assert np.isnan(r["worst_to_best"])
    # nothing measurable at all
    r = equity_indices([np.inf, np.nan], [4, 5], [1, 1], ["a", "b"])
    assert r["population"] == 0.0 and r["excluded_weight"] == 9.0
    assert np.isnan(r["mean"]) and np.isnan(r["gini"]) and r["best_region"] is None


# ---------------------------------------------------------------- group means, equity_indices


def test_group_means_against_pandas(rng):
    x, w = random_data(rng)
    labels = rng.choice(["斗门区", "金湾区", "香洲区"], size=len(x))
    expected = (pd.Series(w * x).groupby(labels).sum()
                / pd.Series(w).groupby(labels).sum())
    got = group_means(x, w, labels)
    assert list(got.index) == sorted(set(labels))
    np.testing.assert_allclose(got.to_numpy(), expected.loc[got.index].to_numpy(), rtol=1e-13)


def test_equity_indices_for_distances_picks_farthest_region_as_worst(rng):
    x, w = random_data(rng, n=500)
    regions = rng.choice(["XZ", "DM", "JW", "WS"], size=len(x))
    x = x * np.where(regions == "WS", 3.0, 1.0) * np.where(regions == "XZ", 0.5, 1.0)
    groups = np.where(regions == "XZ", "east", np.where(regions == "WS", "island", "west"))
    r = equity_indices(x, w, groups, regions, higher_is_better=False)

    means = group_means(x, w, regions)
    assert r["worst_region"] == means.idxmax() == "WS"
    assert r["best_region"] == means.idxmin() == "XZ"
    assert r["worst_value"] == pytest.approx(means.max(), rel=1e-13)
    assert r["best_value"] == pytest.approx(means.min(), rel=1e-13)
    assert r["worst_to_best"] >= 1
    assert r["worst_to_best"] == pytest.approx(means.max() / means.min(), rel=1e-13)
    assert r["mean"] == pytest.approx(np.average(x, weights=w), rel=1e-13)
    assert r["gini"] == pytest.approx(gini_pairwise(x, w), rel=1e-12)
    assert r["theil"] == pytest.approx(theil_direct(x, w), rel=1e-12)
    assert r["cv"] == pytest.approx(
        np.sqrt(np.average((x - np.average(x, weights=w)) ** 2, weights=w))
        / np.average(x, weights=w), rel=1e-12)
    for part in ("groups", "regions"):
        total = r[f"theil_between_{part}"] + r[f"theil_within_{part}"]
        assert total == pytest.approx(r["theil"], rel=1e-12)
    by_group = theil_decomposition(x, w, groups)
    assert r["theil_between_groups"] == pytest.approx(by_group.between, rel=1e-14)
    assert r["population"] == w.sum() and r["excluded_weight"] == 0.0
    assert set(r) == {
        "mean", "gini", "theil", "theil_between_groups", "theil_within_groups",
        "theil_between_regions", "theil_within_regions", "cv", "best_region",
        "worst_region", "best_value", "worst_value", "worst_to_best", "excluded_weight",
        "population"}

    # a score (higher is better) flips best and worst, and the ratio is <= 1
    score = equity_indices(x, w, groups, regions, higher_is_better=True)
    assert score["best_region"] == "WS" and score["worst_region"] == "XZ"
    assert score["worst_to_best"] == pytest.approx(1 / r["worst_to_best"], rel=1e-13)


def test_equity_indices_integer_regions_and_zero_best_distance():
    # region 1 sits on its facilities (distance 0), region 2 does not
    r = equity_indices([0.0, 0.0, 300.0], [2, 2, 1], [0, 0, 0], np.array([1, 1, 2]),
                       higher_is_better=False)
    assert r["best_region"] == 1 and isinstance(r["best_region"], int)
    assert r["worst_region"] == 2 and r["worst_value"] == 300.0
    assert r["worst_to_best"] == math.inf
