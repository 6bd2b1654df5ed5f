"""Floating catchment accessibility (2SFCA, E2SFCA, gravity) on a sparse OD cost matrix.

The OD matrix holds costs (metres, seconds, minutes: any unit, used consistently),
demand cells as rows and facilities as columns. **Every stored entry is a pair**,
including explicit zeros: a facility inside a cell is a real pair at cost 0. Missing
entries are pairs out of reach, never cost 0. The functions read ``od.tocoo()``'s
``row``/``col``/``data`` and never call anything that drops stored zeros
(``eliminate_zeros``, arithmetic on the matrix), so the OD matrices built by
``equiserve.analysis.od`` can be passed as they are.

The two steps (Luo & Wang 2003; weighted: Luo & Qi 2009, Dai 2010) are, over the pairs
``(i, j)`` with cost ``d_ij <= radius``::

    R_j = S_j / sum_i W(d_ij) P_i        (supply per weighted person at facility j)
    A_i = sum_j W(d_ij) R_j              (accessibility of cell i)

Both are two ``numpy.bincount`` calls over the pair arrays: no Python loop per pair.
Values match PySAL ``access`` (``Access.two_stage_fca`` /
``enhanced_two_stage_fca`` with ``normalize=False``) where that package is defined;
the differences are listed in :func:`two_step_fca`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

WeightFn = Callable[[np.ndarray], np.ndarray]

__all__ = [
    "enhanced_two_step_fca",
    "gaussian_weights",
    "gravity_access",
    "gravity_weights",
    "step_weights",
    "two_step_fca",
]


# --------------------------------------------------------------------------- weights
@dataclass(frozen=True)
class _StepWeights:
    bounds: tuple[float, ...]
    values: tuple[float, ...]

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        cost = np.asarray(cost, dtype=float)
        # first bound >= cost, i.e. the first step with cost <= bound; past the last: 0
        idx = np.searchsorted(np.asarray(self.bounds), cost, side="left")
        return np.append(np.asarray(self.values, dtype=float), 0.0)[idx]


@dataclass(frozen=True)
class _GaussianWeights:
    sigma: float

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        cost = np.asarray(cost, dtype=float)
        return np.exp(-(cost * cost) / (2.0 * self.sigma**2))


@dataclass(frozen=True)
class _GravityWeights:
    beta: float
    scale: float = 1.0
    min_cost: float = 0.0

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        cost = np.maximum(np.asarray(cost, dtype=float), self.min_cost)
        with np.errstate(divide="ignore", over="ignore"):
            return np.power(cost / self.scale, -self.beta)


def step_weights(steps: Mapping[float, float] | Sequence[tuple[float, float]]) -> WeightFn:
    """Step distance decay: a cost gets the weight of the first upper bound it fits under.

    Same rule as ``access.weights.step_fn`` (bounds sorted ascending; ``cost <= bound``
    takes that step's weight; beyond the last bound the weight is 0), vectorised.

    Parameters
    ----------
    steps : dict {upper_bound: weight} or sequence of (upper_bound, weight)
        Bounds must be distinct and not NaN (``inf`` is allowed); weights finite and >= 0.

    Returns
    -------
    callable
        Maps an array of costs to an array of weights.

    Examples
    --------
    >>> w = step_weights({10: 1.0, 20: 0.68, 30: 0.22})
    >>> w(np.array([0.0, 10.0, 10.5, 20.0, 30.0, 30.5])).tolist()
    [1.0, 1.0, 0.68, 0.68, 0.22, 0.0]
    """
    items = list(steps.items()) if isinstance(steps, Mapping) else list(steps)
    if not items:
        raise ValueError("steps is empty: give at least one (upper_bound, weight) step")
    try:
        bounds = np.array([float(b) for b, _ in items])
        values = np.array([float(v) for _, v in items])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"steps must be (upper_bound, weight) number pairs: {exc}") from None
    if np.isnan(bounds).any():
        raise ValueError("steps has a NaN upper bound")
    if len(np.unique(bounds)) != len(bounds):
        raise ValueError(f"steps has repeated upper bounds: {sorted(bounds.tolist())}")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"steps weights must be finite and >= 0, got {values.tolist()}")
    order = np.argsort(bounds)
    return _StepWeights(tuple(bounds[order].tolist()), tuple(values[order].tolist()))


def gaussian_weights(sigma: float) -> WeightFn:
    """Gaussian distance decay ``exp(-c**2 / (2 sigma**2))`` (1 at cost 0, not normalised).

    Same function as ``access.weights.gaussian``. This is *not* Dai's (2010) truncated
    kernel, which is shifted so that the weight reaches 0 at the radius.

    Examples
    --------
    >>> gaussian_weights(20.0)(np.array([0.0, 20.0, 40.0])).round(6).tolist()
    [1.0, 0.606531, 0.135335]
    """
    sigma = _number(sigma, "sigma")
    if not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma}")
    return _GaussianWeights(sigma)


def gravity_weights(beta: float, scale: float = 1.0, min_cost: float = 0.0) -> WeightFn:
    """Gravity (power) decay ``(max(c, min_cost) / scale) ** -beta``.

    ``access.weights.gravity(scale, alpha=-beta, min_dist=min_cost)`` is the same
    function. With ``beta > 0`` a cost of 0 would get an infinite weight, so ``min_cost``
    must then be > 0 (e.g. the typical distance within a cell).

    Examples
    --------
    >>> w = gravity_weights(2.0, scale=20.0, min_cost=1.0)
    >>> w(np.array([0.0, 2.0, 40.0])).round(9).tolist()
    [400.0, 100.0, 0.25]
    """
    beta = _number(beta, "beta")
    scale = _number(scale, "scale")
    min_cost = _number(min_cost, "min_cost")
    if not math.isfinite(beta):
        raise ValueError(f"beta must be finite, got {beta}")
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a finite number > 0, got {scale}")
    if not (min_cost >= 0 and math.isfinite(min_cost)):
        raise ValueError(f"min_cost must be a finite number >= 0, got {min_cost}")
    if beta > 0 and min_cost == 0:
        raise ValueError("min_cost must be > 0 when beta > 0: the weight of a zero cost "
                         "would be infinite (use e.g. the typical distance within a cell)")
    return _GravityWeights(beta, scale, min_cost)


# --------------------------------------------------------------------------- FCA
def two_step_fca(od: sp.spmatrix | sp.sparray, demand: np.ndarray, supply: np.ndarray,
                 radius: float, weights: WeightFn | None = None) -> np.ndarray:
    """Two-step floating catchment accessibility (2SFCA) of every demand cell.

    Parameters
    ----------
    od : scipy.sparse matrix or array, shape (n_cells, n_facilities)
        Costs of the pairs in reach. Any format but DIA; every stored entry is a pair,
        explicit zeros included. Duplicate entries of a COO input are separate pairs
        (as duplicate rows of a PySAL ``access`` cost table are). ``inf`` means
        unreachable: such entries are ignored even when ``radius`` is ``inf``.
    demand : array_like, shape (n_cells,)
        People (or any demand) per cell, >= 0.
    supply : array_like, shape (n_facilities,)
        Capacity per facility (seats, beds, doctors...), >= 0.
    radius : float
        Catchment size in cost units: pairs with cost > radius are ignored.
    weights : callable, optional
        Cost array -> weight array (see :func:`step_weights`, :func:`gaussian_weights`,
        :func:`gravity_weights`). Default: weight 1 within the radius (classic 2SFCA).

    Returns
    -------
    ndarray of float, shape (n_cells,)
        ``A_i = sum_j W(d_ij) S_j / sum_k W(d_kj) P_k``: supply per person reachable
        from cell i. 0 for a cell with no pair in reach.

    Notes
    -----
    A facility whose weighted demand ``sum_i W(d_ij) P_i`` is 0 (nobody in reach, or
    only empty cells) gets ``R_j = 0``: its supply serves no-one and adds nothing.
    With that rule ``sum_i P_i A_i`` equals the supply of the facilities that have
    weighted demand, for any weights.

    Compared with PySAL ``access`` 1.1.10 (``normalize=False``), which gives the same
    numbers otherwise: ``access`` returns NaN (not 0) for a cell with no pair in reach;
    for a facility in reach of only zero-population cells it computes ``S_j / 0`` and
    gives those cells ``inf`` (``nan`` if ``S_j`` is 0, which its sum then skips); and
    its result is sorted by cell id rather than in input order.

    Examples
    --------
    Two cells (100 and 50 people), two facilities (10 and 5 places). Facility 0 is in
    cell 0 (explicit zero cost); cell 1 is 900 from it, beyond the 500 radius.
    R_0 = 10 / 100 = 0.1 and R_1 = 5 / (100 + 50) = 1/30, so A = [0.1 + 1/30, 1/30].

    >>> od = sp.csr_matrix((np.array([0.0, 400.0, 900.0, 200.0]),
    ...                     (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), shape=(2, 2))
    >>> two_step_fca(od, [100, 50], [10, 5], radius=500).round(6).tolist()
    [0.133333, 0.033333]
    """
    rows, cols, cost, (n, m) = _od_pairs(od)
    dem = _amounts(demand, n, "demand", "rows (demand cells)")
    sup = _amounts(supply, m, "supply", "columns (facilities)")
    rows, cols, cost = _in_reach(rows, cols, cost, _radius(radius))
    w = None if weights is None else _weights_of(weights, cost)
    return _fca(rows, cols, w, dem, sup, n, m)


def enhanced_two_step_fca(od: sp.spmatrix | sp.sparray, demand: np.ndarray,
                          supply: np.ndarray, radius: float, sigma: float | None = None,
                          steps: Mapping[float, float] | Sequence[tuple[float, float]]
                          | None = None) -> np.ndarray:
    """Enhanced 2SFCA: :func:`two_step_fca` with distance decay inside the catchment.

    Gaussian decay by default (``sigma = radius / 2`` unless given; the weight at the
    radius is then ``exp(-2) = 0.135``), or step weights (Luo & Qi 2009 use
    ``{10: 1, 20: 0.68, 30: 0.22}`` minutes, PySAL ``access``'s default). Give
    ``sigma`` or ``steps``, not both.

    Examples
    --------
    >>> od = sp.csr_matrix((np.array([0.0, 400.0, 200.0]),
    ...                     (np.array([0, 0, 1]), np.array([0, 1, 1]))), shape=(2, 2))
    >>> a = enhanced_two_step_fca(od, [100, 50], [10, 5], 500, steps={250: 1.0, 500: 0.5})
    >>> a.round(6).tolist()  # R = [10/100, 5/(0.5*100 + 50)]; A_0 = 0.1 + 0.5 * 0.05
    [0.125, 0.05]
    """
    if sigma is not None and steps is not None:
        raise ValueError("give sigma (Gaussian decay) or steps (step decay), not both")
    if steps is not None:
        fn = step_weights(steps)
    else:
        if sigma is None:
            r = _radius(radius)
            if not (0 < r < math.inf):
                raise ValueError(f"sigma: the default radius / 2 needs a finite radius > 0, "
                                 f"got radius={r}; pass sigma explicitly")
            sigma = r / 2.0
        fn = gaussian_weights(sigma)
    return two_step_fca(od, demand, supply, radius, weights=fn)


def gravity_access(od: sp.spmatrix | sp.sparray, demand: np.ndarray, supply: np.ndarray,
                   beta: float, radius: float = math.inf, scale: float = 1.0,
                   min_cost: float | None = None) -> np.ndarray:
    """Gravity accessibility with competition (Joseph & Bantock 1982).

    ``A_i = sum_j S_j f(d_ij) / sum_k P_k f(d_kj)`` with ``f(c) = (max(c, min_cost) /
    scale) ** -beta``: :func:`two_step_fca` with :func:`gravity_weights` (Luo & Wang 2003
    show the gravity model is 2SFCA with a continuous decay). By default every stored
    pair is used (``radius=inf``).

    Parameters
    ----------
    od, demand, supply, radius
        As in :func:`two_step_fca`.
    beta, scale
        As in :func:`gravity_weights`.
    min_cost : float, optional
        Floor on costs before the power. Default ``None``: no floor, which is only
        possible when no pair in reach has cost 0 or ``beta <= 0``; otherwise a
        ValueError asks for it.

    Examples
    --------
    >>> od = sp.csr_matrix((np.array([1.0, 2.0, 1.0]),
    ...                     (np.array([0, 0, 1]), np.array([0, 1, 1]))), shape=(2, 2))
    >>> # f = 1/c: R_0 = 10 / 100, R_1 = 5 / (100/2 + 50/1); A_0 = 0.1 + 0.05/2
    >>> gravity_access(od, [100, 50], [10, 5], beta=1.0).round(6).tolist()
    [0.125, 0.05]
    """
    beta_f = _number(beta, "beta")
    rows, cols, cost, (n, m) = _od_pairs(od)
    dem = _amounts(demand, n, "demand", "rows (demand cells)")
    sup = _amounts(supply, m, "supply", "columns (facilities)")
    rows, cols, cost = _in_reach(rows, cols, cost, _radius(radius))
    if min_cost is None:
        gravity_weights(beta_f, scale, 1.0)  # validates beta and scale
        if beta_f > 0 and cost.size and cost.min() == 0:
            raise ValueError(f"min_cost: {int((cost == 0).sum())} pairs in reach have cost 0, "
                             f"whose gravity weight is infinite with beta={beta_f}; pass "
                             "min_cost > 0 (e.g. the typical distance within a cell)")
        fn: WeightFn = _GravityWeights(beta_f, float(scale), 0.0)
    else:
        fn = gravity_weights(beta_f, scale, min_cost)
    return _fca(rows, cols, _weights_of(fn, cost), dem, sup, n, m)


# --------------------------------------------------------------------------- helpers
def _fca(rows: np.ndarray, cols: np.ndarray, w: np.ndarray | None, demand: np.ndarray,
         supply: np.ndarray, n: int, m: int) -> np.ndarray:
    """Both FCA steps over pair arrays; facilities without weighted demand get R = 0."""
    pw = demand[rows] if w is None else w * demand[rows]
    weighted_demand = np.bincount(cols, weights=pw, minlength=m)
    ratio = np.zeros(m)
    np.divide(supply, weighted_demand, out=ratio, where=weighted_demand > 0)
    rw = ratio[cols] if w is None else w * ratio[cols]
    return np.bincount(rows, weights=rw, minlength=n).astype(float, copy=False)


def _od_pairs(od: Any, name: str = "od"
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """(rows, cols, costs, shape) of every stored entry of a sparse OD matrix."""
    if not sp.issparse(od):
        raise TypeError(f"{name} must be a scipy.sparse matrix or array of costs (got "
                        f"{type(od).__name__}); build one with scipy.sparse.coo_array("
                        "(cost, (row, col)), shape=(n_cells, n_facilities))")
    if od.ndim != 2:
        raise ValueError(f"{name} must be 2-D (cells x facilities), got shape {od.shape}")
    if od.format == "dia":
        raise TypeError(f"{name} is in DIA format, which cannot tell a zero-cost pair from "
                        "padding; pass it as COO or CSR")
    coo = od.tocoo()  # keeps explicit zeros (CSR/CSC/COO/LIL/DOK/BSR)
    rows = np.asarray(coo.row, dtype=np.intp)
    cols = np.asarray(coo.col, dtype=np.intp)
    cost = np.asarray(coo.data, dtype=float)
    if cost.size:
        nan = np.isnan(cost)
        if nan.any():
            raise ValueError(f"{name} holds {int(nan.sum())} NaN costs (first at row "
                             f"{rows[nan][0]}, column {cols[nan][0]}); drop those entries "
                             "or store inf for unreachable pairs")
        neg = cost < 0
        if neg.any():
            raise ValueError(f"{name} holds {int(neg.sum())} negative costs (min "
                             f"{cost.min()}, first at row {rows[neg][0]}, column "
                             f"{cols[neg][0]}); costs must be >= 0")
    n, m = (int(s) for s in od.shape)
    return rows, cols, cost, (n, m)


def _in_reach(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, radius: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = (cost <= radius) & (cost < math.inf)
    if keep.all():
        return rows, cols, cost
    return rows[keep], cols[keep], cost[keep]


def _amounts(values: object, n: int, name: str, what: str, allow_inf: bool = False
             ) -> np.ndarray:
    """A 1-D float array of length n, finite (or +inf with ``allow_inf``) and >= 0, or a
    ValueError naming it."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if len(a) != n:
        raise ValueError(f"{name} has {len(a)} values but od has {n} {what}")
    nan = np.isnan(a)
    if allow_inf and nan.any():
        raise ValueError(f"{name} is NaN for {int(nan.sum())} {what.split()[-1].strip('()')} "
                         f"(first at index {int(np.flatnonzero(nan)[0])}); replace NaN (e.g. "
                         "by 0 or a norm) and report them")
    bad = nan | (np.isinf(a) & ~allow_inf)
    if bad.any():
        raise ValueError(f"{name} holds {int(bad.sum())} NaN or infinite values (first at "
                         f"index {int(np.flatnonzero(bad)[0])}); replace them (e.g. by 0)")
    neg = a < 0
    if neg.any():
        raise ValueError(f"{name} holds {int(neg.sum())} negative values (first at index "
                         f"{int(np.flatnonzero(neg)[0])}: {a[neg][0]}); values must be >= 0")
    return a


def _number(value: object, name: str) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(x):
        raise ValueError(f"{name} must be a number, got NaN")
    return x


def _radius(radius: object) -> float:
    r = _number(radius, "radius")
    if r < 0:
        raise ValueError(f"radius must be >= 0 (or inf), got {r}")
    return r


def _weights_of(fn: WeightFn, cost: np.ndarray) -> np.ndarray:
    if not callable(fn):
        raise TypeError(f"weights must be a callable cost array -> weight array, got "
                        f"{type(fn).__name__}")
    w = np.asarray(fn(cost), dtype=float)
    if w.shape != cost.shape:
        raise ValueError(f"weights returned shape {w.shape} for {cost.shape} costs; it "
                         "must map a cost array to a weight array of the same shape")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ValueError(f"weights gave {int(bad.sum())} NaN, infinite or negative weights "
                         f"(first for cost {cost[bad][0]}: {w[bad][0]}); weights must be "
                         "finite and >= 0")
    return w
