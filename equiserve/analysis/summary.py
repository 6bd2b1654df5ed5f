"""Population-weighted coverage figures per region, per group and for the whole study.

All functions are vectorised over cells: one sort and a few ``bincount`` calls per
layer, never a Python loop per cell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from equiserve.analysis.inequality import stable_order
from equiserve.analysis.levels import levels

SUMMARY_COLUMNS = [
    "layer", "kind", "level", "name", "group", "population_basis", "standard",
    "standard_m", "standard_min", "distance_method", "population", "covered_population",
    "coverage_pct", "unserved_population", "unreachable_population", "mean_distance_m",
    "median_distance_m", "p90_distance_m", "mean_time_min", "median_time_min",
    "p90_time_min", "facilities",
]
#: Name stem of the distance figures per unit of a standard.
_FIGURE = {"m": "distance_m", "min": "time_min"}


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The weighted ``q`` quantile by the inverted-CDF rule.

    The smallest value ``v`` such that the weight of values ``<= v`` is at least ``q`` of
    the total weight. With integer weights it equals ``numpy.percentile`` of the values
    repeated by their weights with ``method="inverted_cdf"``.

    Examples
    --------
    >>> weighted_quantile(np.array([100.0, 300.0, 900.0]), np.array([5, 4, 1]), 0.9)
    300.0
    """
    labels = np.zeros(len(values), dtype=np.int64)
    return float(grouped_weighted_quantile(values, weights, labels, 1, q)[0])


def grouped_weighted_quantile(values: np.ndarray, weights: np.ndarray, labels: np.ndarray,
                              n_labels: int, q: float | Sequence[float],
                              value_order: np.ndarray | None = None) -> np.ndarray:
    """:func:`weighted_quantile` for each label ``0 .. n_labels-1`` at once (NaN if no weight).

    ``q`` may be a sequence; the result then has shape ``(len(q), n_labels)``. Pass
    ``value_order = np.argsort(values)`` to reuse one sort for several groupings (or
    :func:`levels_weighted_quantile` for all of them at once).
    """
    return levels_weighted_quantile(values, weights, [(labels, n_labels)], q, value_order)[0]


def levels_weighted_quantile(values: np.ndarray, weights: np.ndarray,
                             groupings: Sequence[tuple[np.ndarray, int]],
                             q: float | Sequence[float],
                             value_order: np.ndarray | None = None) -> list[np.ndarray]:
    """:func:`grouped_weighted_quantile` for several groupings (labels, number of labels)
    of the same values, sharing the sort of the values and their gathering in order.

    >>> levels_weighted_quantile(np.array([5.0, 1.0, 3.0]), np.array([1.0, 1.0, 1.0]),
    ...                          [(np.array([0, 0, 0]), 1), (np.array([0, 1, 1]), 2)], 0.5)
    [array([3.]), array([5., 1.])]
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if value_order is None:
        value_order = np.argsort(values, kind="stable")
    value_order = value_order[weights[value_order] > 0]
    v_sorted, w_sorted = values[value_order], weights[value_order]
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    results = []
    for labels, n_labels in groupings:
        lab = np.asarray(labels, dtype=np.int64)[value_order]
        # per label, sums in value order: the same whether the cells are grouped or not
        totals = np.bincount(lab, weights=w_sorted, minlength=n_labels)
        counts = np.bincount(lab, minlength=n_labels)
        by_label = None
        w = w_sorted
        if len(lab) and lab.min() != lab.max():
            # a stable sort by label keeps the values sorted inside each label (a radix
            # sort, linear, for labels that fit 16 bits)
            small = 0 <= lab.min() and lab.max() <= np.iinfo(np.int16).max
            by_label = np.argsort(lab.astype(np.int16) if small else lab, kind="stable")
            w = w_sorted[by_label]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        cum = np.cumsum(w)
        before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
        out = np.full((len(qs), n_labels), np.nan)
        has = totals > 0
        for k, qk in enumerate(qs):
            # relative tolerance so that q * total does not miss an exact boundary by
            # rounding
            target = before + qk * totals * (1 - 1e-12)
            idx = np.searchsorted(cum, target, side="left")
            idx = np.clip(idx, starts, starts + np.maximum(counts - 1, 0))[has]
            out[k, has] = v_sorted[idx if by_label is None else by_label[idx]]
        results.append(out if np.ndim(q) else out[0])
    return results


def coverage_table(distance: np.ndarray, standard: float, weights: np.ndarray,
                   region: np.ndarray, region_names: np.ndarray,
                   region_groups: np.ndarray, unit: str = "m",
                   order: np.ndarray | None = None) -> pd.DataFrame:
    """Coverage figures for the study, each group and each region.

    Parameters
    ----------
    distance : ndarray
        Distance (m) or travel time (min) from each cell to the nearest facility;
        ``inf`` where none can be reached.
    standard : float
        A cell is covered when its distance is at most this (same unit).
    weights : ndarray
        People per cell (total or the subgroup the layer serves).
    region : ndarray of int
        Region index of each cell.
    region_names, region_groups : ndarray
        Name and group of each region index.
    order : ndarray of int, optional
        The stable order of ``distance`` (:func:`~equiserve.analysis.inequality.stable_order`),
        if already known.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (study, group, region), ``name``, ``group``, ``population``,
        ``covered_population``, ``coverage_pct``, ``unserved_population``,
        ``mean_distance_m``, ``median_distance_m``, ``p90_distance_m``; distances are
        population-weighted.
    """
    distance = np.asarray(distance, dtype=float)
    weights = np.asarray(weights, dtype=float)
    region = np.asarray(region, dtype=np.int64)
    covered = distance <= standard
    stem = _FIGURE[unit]
    by_distance = stable_order(distance) if order is None else order
    frames = []
    for lv in levels(region, list(region_names), list(region_groups)):
        level, names, groups, labels, n = lv.level, lv.names, lv.groups, lv.labels, len(lv)
        pop = lv.sum(weights)
        cov = lv.sum(weights * covered)
        finite = np.isfinite(distance)
        dsum = lv.sum(np.where(finite, distance, 0.0) * weights)
        reach = lv.sum(weights * finite)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(reach > 0, dsum / reach, np.nan)
            pct = np.where(pop > 0, 100.0 * cov / pop, np.nan)
        median, p90 = grouped_weighted_quantile(distance, weights, labels, n, (0.5, 0.9),
                                                by_distance)
        frames.append(pd.DataFrame({
            "level": level, "name": names, "group": groups,
            "population": pop, "covered_population": cov, "coverage_pct": pct,
            "unserved_population": pop - cov, "unreachable_population": pop - reach,
            f"mean_{stem}": mean, f"median_{stem}": median, f"p90_{stem}": p90,
        }))
    return pd.concat(frames, ignore_index=True)
