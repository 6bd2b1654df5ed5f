"""Population-weighted inequality of an access measure: Gini, Theil T, CV, Lorenz curve.

Every function takes an access measure ``x`` per cell (a distance to the nearest
school, a 2SFCA score, covered 0/1, ...) and the people ``w`` living in each cell,
as two 1-D array-likes of equal length, matched by position (pandas indexes are
ignored).

Exclusions, the same for every index:

- a cell whose ``x`` is NaN or +/-inf is left out (a distance of ``inf`` means "cannot
  reach"); its people are reported as ``excluded_weight`` by the functions that return
  a dataclass or dict, so the caller can say how many people the figures leave out;
- a cell whose weight is ``<= 0`` or NaN is left out (it holds no people, so it counts
  nowhere, not even in ``excluded_weight``);
- a finite negative ``x`` is an error (:class:`~equiserve.errors.DataError`, a
  ``ValueError``), as is an infinite weight.

If no weight is left, or the weighted mean of ``x`` is 0, the indices are NaN (no
exception): inequality of nothing is undefined.

All functions are vectorised: one sort and a few ``bincount`` calls, never a Python
loop per cell. The sort can be shared: :func:`gini`, :func:`lorenz_curve` and
:func:`equity_indices` take ``order``, the stable order of ``x`` (:func:`stable_order`,
which needs no sort for a yes/no measure), so figures of one measure sort it once.

Labels (``labels``, ``groups``, ``regions``) are per-cell arrays of ints or strings.
Results per label are in sorted label order (first-appearance order if the labels
cannot be sorted, e.g. a mix of ints and strings; category order for a pandas
categorical). A label whose cells were all excluded still appears, with population 0
and NaN mean. A missing label (None/NaN) on a cell that is not excluded is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import xlogy

from equiserve.errors import DataError

__all__ = [
    "MeasureFigures",
    "TheilDecomposition",
    "coefficient_of_variation",
    "equity_indices",
    "gini",
    "group_means",
    "lorenz_curve",
    "measure_figures",
    "stable_order",
    "theil_decomposition",
    "theil_t",
]


class _Clean(NamedTuple):
    """The cells that count: ``x`` and ``w`` of the kept cells, the keep mask, and
    the people in cells dropped for a non-finite ``x``."""

    x: np.ndarray
    w: np.ndarray
    keep: np.ndarray
    excluded_weight: float
    binary: bool = False  # every kept x is 0 or 1


def _is_binary(x: np.ndarray) -> bool:
    """Whether every value is 0 or 1 (a sample of 64 first, which rejects most measures
    at once)."""
    sample = x[:: max(1, len(x) // 64)]
    if not ((sample == 0) | (sample == 1)).all():
        return False
    return bool(((x == 0) | (x == 1)).all())


def _xlogx(x: np.ndarray, scale: np.ndarray | float, binary: bool,
           codes: np.ndarray | None = None) -> np.ndarray:
    """``xlogy(r, r)`` of ``r = x * scale`` (``scale[codes]`` per cell with ``codes``); for
    0/1 values from one ``xlogy`` per scale, the same numbers (``1 * s`` is ``s``
    exactly, and ``0 log 0`` is 0)."""
    if binary:
        per = xlogy(scale, scale)
        return np.where(x == 1, per if codes is None else per[codes], 0.0)
    r = x * (scale if codes is None else np.asarray(scale)[codes])
    return xlogy(r, r)


def _prepare(x: ArrayLike, w: ArrayLike) -> _Clean:
    """Validate ``x`` and ``w`` and drop the cells excluded from every index."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    if x.ndim != 1 or w.ndim != 1:
        raise DataError(f"x and w must be 1-D arrays (one value per cell); got shapes "
                        f"{x.shape} and {w.shape}")
    if x.shape != w.shape:
        raise DataError(f"x and w must have the same length (one value per cell); got "
                        f"{len(x)} values of x and {len(w)} weights")
    if np.isinf(w).any():
        raise DataError(f"w (population weights) holds {int(np.isinf(w).sum())} infinite "
                        f"value(s), first at position {int(np.flatnonzero(np.isinf(w))[0])}; "
                        "weights must be finite numbers of people")
    negative = x < 0  # False for NaN and for -inf handled below
    negative &= np.isfinite(x)
    if negative.any():
        where = np.flatnonzero(negative)
        raise DataError(f"x (the access measure) must be >= 0, but {len(where)} cell(s) are "
                        f"negative, first at position {int(where[0])} (x = {x[where[0]]!r}); "
                        "use NaN or inf to mark cells that cannot reach a facility")
    people = w > 0  # False for NaN weights
    keep = people & np.isfinite(x)
    excluded = float(w[people & ~keep].sum())
    kept = x[keep]
    return _Clean(kept, w[keep], keep, excluded, _is_binary(kept))


def stable_order(x: ArrayLike) -> np.ndarray:
    """``numpy.argsort(x, kind="stable")``, faster: a yes/no measure needs no sort, and
    other values take the quicker unstable sort, then each run of equal values (NaNs
    together) is put back in position order, which only the few tied cells need.

    >>> stable_order([1.0, 0.0, 1.0, 0.0]).tolist()
    [1, 3, 0, 2]
    >>> stable_order([3.0, np.inf, 1.0, 3.0, np.inf, 3.0]).tolist()
    [2, 0, 3, 5, 1, 4]
    """
    x = np.asarray(x, dtype=float)
    if _is_binary(x):
        zero = x == 0
        return np.concatenate([np.flatnonzero(zero), np.flatnonzero(~zero)])
    order = np.argsort(x)
    xs = x[order]
    tied = xs[1:] == xs[:-1]
    tied[int(np.searchsorted(xs, np.nan)):] = True  # NaNs sort last: tied together
    after = np.flatnonzero(tied)  # xs[k + 1] ties with xs[k]
    if len(after):
        in_run = np.zeros(len(x), bool)
        in_run[after] = in_run[after + 1] = True
        pos = np.flatnonzero(in_run)  # the positions in a run of ties, in order
        run = np.cumsum((pos == 0) | ~tied[np.maximum(pos - 1, 0)])
        # each run's positions in ascending order: one sort of (run, position) keys
        key = run * len(x) + order[pos]
        key.sort()
        order[pos] = key % len(x)
    return order


class _Sorted(NamedTuple):
    """The kept cells in the stable order of ``x``, with the running sum of ``w``."""

    x: np.ndarray
    w: np.ndarray
    cum_w: np.ndarray


def _sorted(c: _Clean, order: ArrayLike | None) -> _Sorted:
    kept = _kept_order(order, c)
    ws = c.w[kept]
    return _Sorted(c.x[kept], ws, np.cumsum(ws))


def _kept_order(order: ArrayLike | None, c: _Clean) -> np.ndarray:
    """The stable order of the kept ``c.x``, from ``order`` (that of all of ``x``: a stable
    order restricted to a subset is the subset's stable order) or by a sort."""
    if order is None:
        return np.argsort(c.x, kind="stable")
    order = np.asarray(order, dtype=np.int64)
    if len(order) != len(c.keep):
        raise DataError(f"order must hold one position per cell: got {len(order)} for "
                        f"{len(c.keep)} cells")
    if len(c.x) == len(c.keep):  # every cell kept
        return order
    position = np.cumsum(c.keep) - 1  # position of each kept cell among the kept
    return position[order[c.keep[order]]]


def _codes(labels: ArrayLike, n: int, keep: np.ndarray, name: str) -> tuple[np.ndarray, pd.Index]:
    """Integer codes ``0..k-1`` of ``labels`` for the kept cells, and the ``k`` labels."""
    if (isinstance(labels, pd.Categorical) and len(labels) == n
            and labels.categories.is_monotonic_increasing):
        # the categories in order are the labels in order: no hashing of every cell
        categories, all_codes = labels.categories, labels.codes
        labelled = all_codes >= 0
        present = np.bincount(all_codes if labelled.all() else all_codes[labelled],
                              minlength=len(categories)) > 0
        codes = all_codes[keep].astype(np.int64)
        if not present.all():  # only the labels of some cell, numbered in order
            renumber = np.cumsum(present) - 1
            codes = np.where(codes >= 0, renumber[np.maximum(codes, 0)], -1)
        uniques = pd.Index(categories[present])
    else:
        series = labels if isinstance(labels, pd.Series) else pd.Series(labels)
        if series.ndim != 1 or len(series) != n:
            raise DataError(f"{name} must hold one label per cell: got {len(series)} labels "
                            f"for {n} cells")
        try:
            codes, uniques = pd.factorize(series, sort=True)
        except TypeError:  # labels of mixed, unorderable types: first-appearance order
            codes, uniques = pd.factorize(series, sort=False)
        codes = np.asarray(codes, dtype=np.int64)[keep]
    if (codes < 0).any():
        raise DataError(f"{name} has {int((codes < 0).sum())} missing label(s) (None/NaN) on "
                        "cells with people and a finite value; give every cell a label, or "
                        "set its weight to 0 to leave it out")
    return codes, pd.Index(uniques)


def _gini(x: np.ndarray, w: np.ndarray, s: _Sorted) -> float:
    """Gini of already-cleaned data (all ``x`` finite and >= 0, all ``w`` > 0), ``s``
    the same sorted."""
    total_w = w.sum()
    total_s = np.dot(w, x)
    if not total_w > 0 or not total_s > 0:
        return float("nan")
    xs, ws = s.x, s.w
    # sum_ij w_i w_j |x_i - x_j| = 2 sum_k (x_(k+1) - x_(k)) C_k (W - C_k) over the
    # sorted values, C_k the weight of the k lowest: every term >= 0 (no cancellation),
    # and tied values add a zero gap whatever their order.
    below = s.cum_w[:-1]
    above = np.cumsum(ws[::-1])[::-1][1:]  # W - C_k without the rounding of a difference
    return float(np.dot(np.diff(xs), below * above) / (total_w * total_s))


def _theil(x: np.ndarray, w: np.ndarray, binary: bool = False) -> float:
    """Theil T of already-cleaned data (``binary``: every x is 0 or 1)."""
    total_w = w.sum()
    total_s = np.dot(w, x)
    if not total_w > 0 or not total_s > 0:
        return float("nan")
    return float(np.dot(w, _xlogx(x, total_w / total_s, binary)) / total_w)  # r = x / mu


def _cv(x: np.ndarray, w: np.ndarray) -> float:
    """Coefficient of variation of already-cleaned data."""
    total_w = w.sum()
    if not total_w > 0:
        return float("nan")
    mu = np.dot(w, x) / total_w
    if not mu > 0:
        return float("nan")
    var = np.dot(w, (x - mu) ** 2) / total_w
    return float(np.sqrt(var) / mu)


def gini(x: ArrayLike, w: ArrayLike, order: ArrayLike | None = None) -> float:
    """Population-weighted Gini coefficient of ``x``.

    Exact for weighted discrete data::

        G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)

    with ``W = sum w`` and ``mu`` the weighted mean, computed in O(n log n) from one
    sort. With integer weights it equals the unweighted Gini of ``x`` repeated by the
    weights. 0 when everyone has the same value; ``1 - 1/W`` at most (one person
    holds everything).

    Parameters
    ----------
    x : array-like of float, shape (n,)
        Access measure per cell, ``>= 0``; NaN or +/-inf excludes the cell.
    w : array-like of float, shape (n,)
        People per cell; cells with ``w <= 0`` are excluded.
    order : array-like of int, optional
        The stable order of ``x`` (:func:`stable_order`), if already known.

    Returns
    -------
    float
        The Gini coefficient, or NaN if no weight is left or the mean is 0.

    Raises
    ------
    DataError
        If ``x`` has a finite negative value, ``w`` an infinite one, or the lengths differ.

    Examples
    --------
    >>> gini([0.0, 1.0], [1, 1])
    0.5
    >>> gini([1.0, 3.0], [3, 1])  # 2*3*1*|1-3| / (2 * 4**2 * 1.5)
    0.25
    >>> gini([5.0, 5.0, np.inf], [2, 3, 4])  # the unreachable cell is left out
    0.0
    """
    c = _prepare(x, w)
    return _gini(c.x, c.w, _sorted(c, order))


def theil_t(x: ArrayLike, w: ArrayLike) -> float:
    """Population-weighted Theil T index of ``x``.

    ``T = (1/W) sum_i w_i (x_i/mu) ln(x_i/mu)`` with ``0 ln 0 = 0``; 0 under perfect
    equality, ``ln W`` at most.

    Parameters
    ----------
    x : array-like of float, shape (n,)
        Access measure per cell, ``>= 0``; NaN or +/-inf excludes the cell.
    w : array-like of float, shape (n,)
        People per cell; cells with ``w <= 0`` are excluded.

    Returns
    -------
    float
        Theil T, or NaN if no weight is left or the mean is 0.

    Raises
    ------
    DataError
        If ``x`` has a finite negative value, ``w`` an infinite one, or the lengths differ.

    Examples
    --------
    >>> round(theil_t([0.0, 1.0], [1, 1]), 12) == round(float(np.log(2)), 12)
    True
    >>> theil_t([2.0, 2.0, 2.0], [1, 5, 9])
    0.0
    """
    c = _prepare(x, w)
    return _theil(c.x, c.w, c.binary)


def coefficient_of_variation(x: ArrayLike, w: ArrayLike) -> float:
    """Population-weighted coefficient of variation of ``x``.

    The weighted standard deviation (population version: divide by ``W = sum w``)
    over the weighted mean.

    Parameters
    ----------
    x : array-like of float, shape (n,)
        Access measure per cell, ``>= 0``; NaN or +/-inf excludes the cell.
    w : array-like of float, shape (n,)
        People per cell; cells with ``w <= 0`` are excluded.

    Returns
    -------
    float
        The CV, or NaN if no weight is left or the mean is 0.

    Raises
    ------
    DataError
        If ``x`` has a finite negative value, ``w`` an infinite one, or the lengths differ.

    Examples
    --------
    >>> round(coefficient_of_variation([1.0, 3.0], [3, 1]), 6)  # sqrt(0.75) / 1.5
    0.57735
    """
    c = _prepare(x, w)
    return _cv(c.x, c.w)


def lorenz_curve(x: ArrayLike, w: ArrayLike, n_points: int | None = 101,
                 order: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The population-weighted Lorenz curve of ``x``.

    Cells are sorted ascending by ``x``; the exact weighted Lorenz curve joins
    ``(0, 0)``, the points (cumulative population share, cumulative share of
    ``sum w x``) after each cell, and ``(1, 1)`` by straight lines. Tied values give
    the same curve whatever their order.

    Parameters
    ----------
    x : array-like of float, shape (n,)
        Access measure per cell, ``>= 0``; NaN or +/-inf excludes the cell.
    w : array-like of float, shape (n,)
        People per cell; cells with ``w <= 0`` are excluded.
    n_points : int or None, default 101
        Number of evenly spaced population shares ``0 .. 1`` at which to evaluate the
        curve (by linear interpolation of the exact curve); at least 2. ``None``
        returns the exact breakpoints instead (``n + 1`` points for ``n`` kept cells),
        on which ``1 - 2 * trapezoid area`` equals :func:`gini` exactly.
    order : array-like of int, optional
        The stable order of ``x`` (:func:`stable_order`), if already known.

    Returns
    -------
    population_share : numpy.ndarray
        Cumulative population share, ascending from 0 to 1.
    value_share : numpy.ndarray
        Cumulative share of ``x`` at those population shares; all NaN if no weight is
        left or the mean is 0.

    Raises
    ------
    DataError
        If ``x`` has a finite negative value, ``w`` an infinite one, or the lengths differ.
    ValueError
        If ``n_points < 2``.

    Examples
    --------
    >>> p, l = lorenz_curve([1.0, 3.0], [3, 1], n_points=5)
    >>> p.tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> [round(v, 6) for v in l.tolist()]
    [0.0, 0.166667, 0.333333, 0.5, 1.0]
    >>> lorenz_curve([1.0, 3.0], [3, 1], n_points=None)[0].tolist()
    [0.0, 0.75, 1.0]
    """
    _check_points(n_points)
    return _lorenz(_sorted(_prepare(x, w), order), n_points)


def _check_points(n_points: int | None) -> None:
    if n_points is not None and (int(n_points) != n_points or n_points < 2):
        raise ValueError(f"n_points must be an integer >= 2 or None; got {n_points!r}")


def _lorenz(s: _Sorted, n_points: int | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`lorenz_curve` of sorted kept cells."""
    xs, ws = s.x, s.w
    total_w = ws.sum()
    total_s = np.dot(ws, xs)
    ok = total_w > 0 and total_s > 0
    if ok:
        p_exact = np.concatenate([[0.0], s.cum_w / total_w])
        l_exact = np.concatenate([[0.0], np.cumsum(ws * xs) / total_s])
        p_exact[-1] = l_exact[-1] = 1.0  # exact end point despite rounding
    if n_points is None:
        if ok:
            return p_exact, l_exact
        p = np.concatenate([[0.0], s.cum_w / total_w]) if total_w > 0 else np.array([0.0])
        return p, np.full(len(p), np.nan)
    p = np.linspace(0.0, 1.0, int(n_points))
    if not ok:
        return p, np.full(len(p), np.nan)
    return p, np.interp(p, p_exact, l_exact)


def group_means(x: ArrayLike, w: ArrayLike, labels: ArrayLike) -> pd.Series:
    """Population-weighted mean of ``x`` per label.

    Parameters
    ----------
    x : array-like of float, shape (n,)
        Access measure per cell, ``>= 0``; NaN or +/-inf excludes the cell.
    w : array-like of float, shape (n,)
        People per cell; cells with ``w <= 0`` are excluded.
    labels : array-like, shape (n,)
        Group label (int or str) of each cell.

    Returns
    -------
    pandas.Series
        Weighted mean per label, named ``"mean"``, indexed by the sorted unique labels
        (first-appearance order if they cannot be sorted); NaN for a label whose cells
        are all excluded.

    Raises
    ------
    DataError
        On a finite negative ``x``, an infinite weight, mismatched lengths, or a missing
        label on a cell that is not excluded.

    Examples
    --------
    >>> group_means([1.0, 3.0, 10.0, np.nan], [1, 1, 2, 5], ["b", "b", "a", "c"]).to_dict()
    {'a': 10.0, 'b': 2.0, 'c': nan}
    """
    c = _prepare(x, w)
    codes, uniques = _codes(labels, len(c.keep), c.keep, "labels")
    pop = np.bincount(codes, weights=c.w, minlength=len(uniques))
    tot = np.bincount(codes, weights=c.w * c.x, minlength=len(uniques))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(pop > 0, tot / np.where(pop > 0, pop, 1.0), np.nan)
    return pd.Series(mean, index=uniques, name="mean")


@dataclass(frozen=True, eq=False)
class TheilDecomposition:
    """Theil T split into a between-group and a within-group part.

    ``total == between + within`` (up to floating error), where
    ``between = sum_g share_g ln(mean_g / mu)`` and ``within = sum_g share_g theil_g``.
    Groups with mean 0 (or no people) have share 0 and contribute to neither part.

    Attributes
    ----------
    total : float
        Theil T of all kept cells (NaN if no weight is left or the mean is 0).
    between : float
        Part due to differences between group means.
    within : float
        Part due to inequality inside the groups.
    labels : numpy.ndarray
        Group labels, sorted (see :func:`group_means`).
    population : numpy.ndarray
        People per group (kept cells only).
    mean : numpy.ndarray
        Weighted mean of ``x`` per group (NaN if the group has no people).
    share : numpy.ndarray
        ``s_g = W_g mu_g / (W mu)``: the group's share of the total access.
    theil : numpy.ndarray
        Within-group Theil T_g (NaN where the group's mean is 0 or it has no people).
    excluded_weight : float
        People in cells left out for a non-finite ``x``.
    """

    total: float
    between: float
    within: float
    labels: np.ndarray
    population: np.ndarray
    mean: np.ndarray
    share: np.ndarray
    theil: np.ndarray
    excluded_weight: float

    @property
    def between_share(self) -> float:
        """Fraction of the total due to differences between groups (NaN if total is 0)."""
        return float(self.between / self.total) if self.total > 0 else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """Per-group table: population, mean, share, theil, indexed by label."""
        return pd.DataFrame({"population": self.population, "mean": self.mean,
                             "share": self.share, "theil": self.theil},
                            index=pd.Index(self.labels, name="group"))


def _decompose(c: _Clean, codes: np.ndarray, uniques: pd.Index,
               total: float | None = None) -> TheilDecomposition:
    """Theil decomposition of cleaned data by integer group codes (``total``: their Theil
    T, if already computed)."""
    k = len(uniques)
    x, w = c.x, c.w
    pop = np.bincount(codes, weights=w, minlength=k)
    tot = np.bincount(codes, weights=w * x, minlength=k)
    total_w, total_s = w.sum(), np.dot(w, x)
    has_pop = pop > 0
    mean = np.full(k, np.nan)
    mean[has_pop] = tot[has_pop] / pop[has_pop]
    positive = has_pop & (tot > 0)
    # within-group Theil: (1/W_g) sum_{i in g} w_i r_i ln r_i, r_i = x_i / mu_g
    inv_mean = np.zeros(k)
    inv_mean[positive] = pop[positive] / tot[positive]
    theil_g = np.full(k, np.nan)
    terms = w * _xlogx(x, inv_mean, c.binary, codes)
    theil_g[positive] = np.bincount(codes, weights=terms, minlength=k)[positive] / pop[positive]
    labels = uniques.to_numpy()
    if not (total_w > 0 and total_s > 0):
        nan = float("nan")
        return TheilDecomposition(nan, nan, nan, labels, pop, mean, np.full(k, np.nan),
                                  theil_g, c.excluded_weight)
    share = tot / total_s
    mu = total_s / total_w
    between = float(np.dot(share[positive], np.log(mean[positive] / mu)))
    within = float(np.dot(share[positive], theil_g[positive]))
    return TheilDecomposition(_theil(x, w, c.binary) if total is None else total, between,
                              within,
                              labels, pop, mean, share,
                              theil_g, c.excluded_weight)


def theil_decomposition(x: ArrayLike, w: ArrayLike, labels: ArrayLike) -> TheilDecomposition:
    """Decompose the population-weighted Theil T of ``x`` into between and within groups.

    ``T = sum_g s_g ln(mu_g / mu) + sum_g s_g T_g`` with ``s_g = W_g mu_g / (W mu)``,
    the group's share of the total access, and ``T_g`` the Theil T of the group's
    cells alone. Exact: ``total == between + within`` up to floating error.

    Parameters
    ----------
    x : array-like of float, shape (n,)
        Access measure per cell, ``>= 0``; NaN or +/-inf excludes the cell.
    w : array-like of float, shape (n,)
        People per cell; cells with ``w <= 0`` are excluded.
    labels : array-like, shape (n,)
        Group label (int or str) of each cell.

    Returns
    -------
    TheilDecomposition
        Total, between, within, per-group arrays and ``excluded_weight``.

    Raises
    ------
    DataError
        On a finite negative ``x``, an infinite weight, mismatched lengths, or a missing
        label on a cell that is not excluded.

    Examples
    --------
    Two groups, equal inside, so everything is between them:

    >>> d = theil_decomposition([1.0, 1.0, 3.0], [1, 1, 2], ["a", "a", "b"])
    >>> round(d.total, 6), round(d.between, 6), round(d.within, 6)
    (0.130812, 0.130812, 0.0)
    >>> d.share.tolist()
    [0.25, 0.75]
    >>> d.to_frame()["mean"].to_dict()
    {'a': 1.0, 'b': 3.0}
    """
    c = _prepare(x, w)
    codes, uniques = _codes(labels, len(c.keep), c.keep, "labels")
    return _decompose(c, codes, uniques)


def equity_indices(x: ArrayLike, w: ArrayLike, groups: ArrayLike, regions: ArrayLike,
                   higher_is_better: bool = True, order: ArrayLike | None = None
                   ) -> dict[str, float | str | int | None]:
    """All the equity figures of one access measure, for a report row.

    Parameters
    ----------
    x : array-like of float, shape (n,)
        Access measure per cell, ``>= 0``; NaN or +/-inf excludes the cell.
    w : array-like of float, shape (n,)
        People per cell; cells with ``w <= 0`` are excluded.
    groups : array-like, shape (n,)
        Group label of each cell (e.g. east / west / island).
    regions : array-like, shape (n,)
        Region label of each cell (e.g. district or town).
    higher_is_better : bool, default True
        True for scores and coverage (the best region has the highest mean); False
        for distances and times (the best region has the lowest mean, the worst the
        highest, and ``worst_to_best >= 1``).
    order : array-like of int, optional
        The stable order of ``x`` (:func:`stable_order`), if already known. Labels are
        factorised per call: pass ``groups``/``regions`` as a pandas ``Categorical`` (its
        categories sorted) to spare sorting the strings.

    Returns
    -------
    dict
        ``mean``, ``gini``, ``theil``, ``theil_between_groups``,
        ``theil_within_groups``, ``theil_between_regions``, ``theil_within_regions``,
        ``cv``: floats (NaN when undefined, see the module notes);
        ``best_region``, ``worst_region``: region labels as given (None if no region
        has people; ties go to the first in label order);
        ``best_value``, ``worst_value``: their weighted means;
        ``worst_to_best``: ``worst_value / best_value`` (``inf`` if only the best is
        0, NaN if both are); ``excluded_weight``: people left out for a non-finite
        ``x``; ``population``: people counted.

    Raises
    ------
    DataError
        On a finite negative ``x``, an infinite weight, mismatched lengths, or a missing
        label on a cell that is not excluded.

    Examples
    --------
    Distance to the nearest school (m); the island cell cannot reach one:

    >>> r = equity_indices([200.0, 400.0, 900.0, np.inf], [10, 10, 5, 2],
    ...                    ["east", "east", "west", "island"], ["XZ", "XZ", "DM", "WS"],
    ...                    higher_is_better=False)
    >>> r["worst_region"], r["best_region"], r["worst_to_best"], r["excluded_weight"]
    ('DM', 'XZ', 3.0, 2.0)
    >>> r["mean"], r["population"]
    (420.0, 25.0)
    """
    c = _prepare(x, w)
    return _indices(c, _sorted(c, order), groups, regions, higher_is_better)[0]


def _indices(c: _Clean, s: _Sorted, groups: ArrayLike, regions: ArrayLike,
             higher_is_better: bool
             ) -> tuple[dict[str, float | str | int | None], TheilDecomposition,
                        TheilDecomposition]:
    """:func:`equity_indices` of cleaned and sorted cells, with the Theil decompositions
    by group and by region."""
    n = len(c.keep)
    by_group = _decompose(c, *_codes(groups, n, c.keep, "groups"))
    region_codes, region_labels = _codes(regions, n, c.keep, "regions")
    by_region = _decompose(c, region_codes, region_labels, total=by_group.total)
    total_w = float(c.w.sum())
    mean = float(np.dot(c.w, c.x) / total_w) if total_w > 0 else float("nan")

    means = by_region.mean
    best: float | str | int | None = None
    worst: float | str | int | None = None
    best_value = worst_value = ratio = float("nan")
    if np.isfinite(means).any():
        if higher_is_better:
            i_best, i_worst = int(np.nanargmax(means)), int(np.nanargmin(means))
        else:
            i_best, i_worst = int(np.nanargmin(means)), int(np.nanargmax(means))
        best, worst = _scalar(by_region.labels[i_best]), _scalar(by_region.labels[i_worst])
        best_value, worst_value = float(means[i_best]), float(means[i_worst])
        if best_value != 0:
            ratio = worst_value / best_value
        elif worst_value != 0:
            ratio = float("inf")
    return {
        "mean": mean,
        "gini": _gini(c.x, c.w, s),
        "theil": by_group.total,
        "theil_between_groups": by_group.between,
        "theil_within_groups": by_group.within,
        "theil_between_regions": by_region.between,
        "theil_within_regions": by_region.within,
        "cv": _cv(c.x, c.w),
        "best_region": best,
        "worst_region": worst,
        "best_value": best_value,
        "worst_value": worst_value,
        "worst_to_best": ratio,
        "excluded_weight": c.excluded_weight,
        "population": total_w,
    }, by_group, by_region


@dataclass(frozen=True, eq=False)
class MeasureFigures:
    """Every figure of one measure (:func:`measure_figures`).

    Attributes
    ----------
    indices : dict
        :func:`equity_indices`.
    population_share, value_share : numpy.ndarray
        :func:`lorenz_curve`.
    by_group, by_region : TheilDecomposition
        :func:`theil_decomposition` by group and by region.
    """

    indices: dict[str, float | str | int | None]
    population_share: np.ndarray
    value_share: np.ndarray
    by_group: TheilDecomposition
    by_region: TheilDecomposition


def measure_figures(x: ArrayLike, w: ArrayLike, groups: ArrayLike, regions: ArrayLike,
                    higher_is_better: bool = True, n_points: int | None = 101,
                    order: ArrayLike | None = None) -> MeasureFigures:
    """:func:`equity_indices`, :func:`lorenz_curve` and the Theil decompositions by group
    and by region of one measure at once: the cells are checked, sorted and labelled
    once, and each figure equals the one its own function gives.

    Examples
    --------
    >>> f = measure_figures([1.0, 1.0, 3.0], [1, 1, 2], ["a", "a", "b"], ["A", "A", "B"],
    ...                     n_points=None)
    >>> f.indices["gini"] == gini([1.0, 1.0, 3.0], [1, 1, 2]), f.value_share.tolist()
    (True, [0.0, 0.125, 0.25, 1.0])
    >>> f.by_group.share.tolist()
    [0.25, 0.75]
    """
    _check_points(n_points)
    c = _prepare(x, w)
    s = _sorted(c, order)
    indices, by_group, by_region = _indices(c, s, groups, regions, higher_is_better)
    p, share = _lorenz(s, n_points)
    return MeasureFigures(indices, p, share, by_group, by_region)


def _scalar(value: object) -> float | str | int:
    """A NumPy scalar label as the matching Python scalar."""
    return value.item() if isinstance(value, np.generic) else value  # type: ignore[return-value]
