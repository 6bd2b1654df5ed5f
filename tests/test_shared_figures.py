"""The scorecard's shared work (one sort per measure, labels coded once, all levels'
medians at once) gives exactly the figures of the functions computing each alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equiserve.analysis.inequality import (
    equity_indices,
    gini,
    lorenz_curve,
    measure_figures,
    stable_order,
    theil_decomposition,
)
from equiserve.analysis.summary import grouped_weighted_quantile, levels_weighted_quantile
from equiserve.errors import DataError


def tied_values(rng, n):
    """Values with many ties, zeros of both signs, infinities and NaNs."""
    x = rng.integers(0, 12, n).astype(float)
    x[rng.random(n) < 0.1] = np.inf
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.05] = -0.0
    return x


@pytest.mark.parametrize("seed", range(6))
def test_stable_order_is_numpys_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    for x in (tied_values(rng, 500), rng.random(300), (rng.random(300) < 0.4) * 1.0,
              np.zeros(5), np.empty(0), np.array([np.nan, 1.0, np.nan])):
        assert (stable_order(x) == np.argsort(x, kind="stable")).all()


def test_a_shared_order_gives_the_same_figures():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 30, 400).astype(float) * 10.0
    x[:15] = np.inf
    w = rng.integers(0, 9, 400).astype(float)
    groups = rng.choice(["east", "west", "island"], 400)
    regions = rng.choice(["A", "B", "C", "D"], 400)
    order = stable_order(x)
    assert gini(x, w, order=order) == gini(x, w)
    for n_points in (101, None):
        for a, b in zip(lorenz_curve(x, w, n_points, order=order), lorenz_curve(x, w, n_points),
                        strict=True):
            assert (a == b).all()
    plain = equity_indices(x, w, groups, regions, higher_is_better=False)
    assert equity_indices(x, w, groups, regions, False, order=order) == plain
    f = measure_figures(x, w, groups, regions, higher_is_better=False, order=order)
    assert f.indices == plain
    p, share = lorenz_curve(x, w)
    assert (f.population_share == p).all() and (f.value_share == share).all()
    for got, labels in ((f.by_group, groups), (f.by_region, regions)):
        alone = theil_decomposition(x, w, labels)
        assert got.labels.tolist() == alone.labels.tolist()
        assert (got.theil[np.isfinite(got.theil)] == alone.theil[np.isfinite(alone.theil)]).all()
        assert got.between == alone.between and got.within == alone.within
    with pytest.raises(DataError, match="order"):
        gini(x, w, order=order[:10])


def test_sorted_categorical_labels_give_the_string_labels_figures():
    rng = np.random.default_rng(2)
    x = rng.lognormal(5, 1, 300)
    w = rng.integers(0, 5, 300).astype(float)
    names = np.array(["Zeta", "alpha", "Beta 2", "Beta 10", "unused"], dtype=object)
    region = rng.integers(0, 4, 300)  # "unused" is never a cell's region
    strings = names[region]
    cats, code = np.unique(names, return_inverse=True)
    labels = pd.Categorical.from_codes(code[region], categories=cats)
    assert equity_indices(x, w, labels, labels) == equity_indices(x, w, strings, strings)
    a, b = theil_decomposition(x, w, labels), theil_decomposition(x, w, strings)
    assert a.labels.tolist() == b.labels.tolist() == sorted(set(strings))
    assert np.array_equal(a.theil, b.theil, equal_nan=True)
    missing = pd.Categorical.from_codes(np.where(np.arange(300) == 7, -1, code[region]),
                                        categories=cats)
    w[7] = 1.0
    with pytest.raises(DataError, match="missing label"):
        equity_indices(x, w, missing, strings)


def test_levels_quantiles_equal_each_grouping_alone():
    rng = np.random.default_rng(3)
    v = rng.integers(0, 50, 600) * 20.0
    v[:30] = np.inf
    w = rng.integers(0, 6, 600).astype(float)
    region = rng.integers(0, 40, 600)
    region[region == 5] = 6  # an empty region
    groupings = [(np.zeros(600, np.int64), 1), (region % 3, 3), (region, 40)]
    order = stable_order(v)
    for q in (0.5, (0.5, 0.9)):
        together = levels_weighted_quantile(v, w, groupings, q, value_order=order)
        for (labels, n), got in zip(groupings, together, strict=True):
            assert np.array_equal(got, grouped_weighted_quantile(v, w, labels, n, q),
                                  equal_nan=True)
    # against the definition on people-repeated values
    medians = together[2][0]
    for g in range(40):
        sel = region == g
        if w[sel].sum() == 0:
            assert np.isnan(medians[g])
        else:
            assert medians[g] == np.percentile(np.repeat(v[sel], w[sel].astype(int)), 50,
                                               method="inverted_cdf")
