"""Inequality across many studies from small per-study summaries (issue 15).

A city's worker reduces each measure (coverage, distance, access per cell) to, per region
group: the people counted (``weight``), the measure's total (``total`` = sum of people x
value) and its Theil T within the group, plus the value distribution with values rounded
to :data:`DIGITS` significant digits. The Theil T of all cells of all cities then follows
exactly (it decomposes over any partition), between and within cities and, within cities,
between and within their groups; the Gini from the pooled distributions.

    part_sums(x, w, labels)              -> per label: weight, total, theil
    nested_theil(parts)                  -> total, between/within cities, groups
    rounded_distribution(x, w)           -> (values, weights), for the pooled Gini
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from equiserve.analysis.inequality import theil_t

#: Significant digits kept of each value for the pooled Gini (relative error below 5e-5).
DIGITS = 5


def _kept(x: ArrayLike, w: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells the indices count (finite value, people > 0), as :func:`theil_t` does."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    keep = np.isfinite(x) & (w > 0)
    return x[keep], w[keep], keep


def part_sums(x: ArrayLike, w: ArrayLike, labels: ArrayLike) -> pd.DataFrame:
    """Per label: ``weight`` (people counted), ``total`` (sum of people x value) and
    ``theil`` (Theil T within the label; NaN where its mean is 0).

    >>> part_sums([1.0, 3.0, 2.0], [1, 1, 2], ["a", "a", "b"])["total"].to_dict()
    {'a': 4.0, 'b': 4.0}
    """
    xv, wv, keep = _kept(x, w)
    lab = np.asarray(labels, dtype=object)[keep]
    rows = {}
    for name in pd.unique(lab):
        m = lab == name
        rows[name] = {"weight": wv[m].sum(), "total": (wv[m] * xv[m]).sum(),
                      "theil": theil_t(xv[m], wv[m])}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["weight", "total", "theil"])
    out.index.name = "label"
    return out


def _between(weight: np.ndarray, total: np.ndarray) -> float:
    """Theil T between parts: sum of s_k ln(mu_k / mu), s_k their share of the total."""
    mean = total.sum() / weight.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(total > 0, (total / total.sum()) * np.log((total / weight) / mean),
                         0.0)
    return float(terms.sum())


def _within(total: np.ndarray, theil: np.ndarray) -> float:
    """Theil T within parts: sum of s_k T_k (parts whose mean is 0 add nothing)."""
    return float(np.sum(np.where(total > 0, total / total.sum() * np.nan_to_num(theil), 0.0)))


def nested_theil(parts: pd.DataFrame, city_theil: pd.Series) -> dict[str, float]:
    """Theil T of all cells from per (city, group) sums, and its decomposition.

    ``parts`` has columns ``city``, ``group``, ``weight``, ``total``, ``theil``;
    ``city_theil`` each city's own Theil T (of its cells, computed apart). ``total`` comes
    from the finest parts; ``within_cities`` from the cities' own indices, so that
    ``between_cities`` + ``within_cities`` = ``total`` checks the sums; ``within_cities``
    = ``between_groups_within_cities`` + ``within_groups`` likewise.

    >>> p = pd.DataFrame({"city": ["A", "A", "B"], "group": ["e", "w", "e"],
    ...                   "weight": [1.0, 1.0, 2.0], "total": [1.0, 3.0, 4.0],
    ...                   "theil": [0.0, 0.0, 0.0]})
    >>> city_t = pd.Series({"A": theil_t([1.0, 3.0], [1, 1]), "B": 0.0})
    >>> t = nested_theil(p, city_t)
    >>> round(t["total"], 12) == round(theil_t([1.0, 3.0, 2.0, 2.0], [1, 1, 1, 1]), 12)
    True
    >>> round(t["between_cities"] + t["within_cities"] - t["total"], 15)
    0.0
    """
    p = parts[(parts["weight"] > 0)]
    nan = float("nan")
    if not len(p) or p["total"].sum() <= 0:
        return {k: nan for k in ("total", "between_cities", "within_cities",
                                 "between_groups_within_cities", "within_groups")}
    w, s, t = (p[c].to_numpy(float) for c in ("weight", "total", "theil"))
    total = _within(s, t) + _between(w, s)
    cities = p.groupby("city", sort=False)[["weight", "total"]].sum()
    between_c = _between(cities["weight"].to_numpy(), cities["total"].to_numpy())
    within_c = _within(cities["total"].to_numpy(float),
                       city_theil.reindex(cities.index).to_numpy(float))
    between_g = 0.0
    for _city, g in p.groupby("city", sort=False):
        gs = g["total"].to_numpy(float)
        if gs.sum() > 0:
            between_g += gs.sum() / s.sum() * _between(g["weight"].to_numpy(float), gs)
    within_g = _within(s, t)
    return {"total": total, "between_cities": between_c, "within_cities": within_c,
            "between_groups_within_cities": between_g, "within_groups": within_g}


def rounded_distribution(x: ArrayLike, w: ArrayLike, digits: int = DIGITS
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The counted cells' values rounded to ``digits`` significant digits, each once, and
    the people at each: what a city sends back for the pooled Gini.

    >>> v, p = rounded_distribution([1.000001, 1.0, 250.0, np.inf], [1, 2, 3, 9])
    >>> v.tolist(), p.tolist()
    ([1.0, 250.0], [3.0, 3.0])
    """
    xv, wv, _keep = _kept(x, w)
    with np.errstate(divide="ignore"):
        exp = np.where(xv != 0, np.floor(np.log10(np.abs(np.where(xv != 0, xv, 1.0)))), 0)
    scale = 10.0 ** (exp - (digits - 1))
    rounded = np.round(xv / scale) * scale
    values, inverse = np.unique(rounded, return_inverse=True)
    return values, np.bincount(inverse, weights=wv, minlength=len(values))
