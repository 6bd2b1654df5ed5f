"""Location models solved exactly with HiGHS: MCLP, LSCP, p-median, capacitated coverage, max-min.

Every model takes plain matrices (a boolean demand x column coverage matrix, or a demand x
column cost matrix), so it can be used on its own; existing facilities are columns passed
as ``fixed``: always open, never counted in ``p``.

How a model is solved
---------------------
1. **Reduce.** Rows with zero weight are dropped; for the coverage models, rows already
   covered by a fixed column become a constant, and rows no column covers are set aside;
   columns that reach nothing are dropped (and identical columns merged where that is
   exact).
2. **Collapse.** Demand rows with the same coverage signature (the same set of columns,
   and for p-median the same costs) are merged, their weights summed. Rows are matched on
   a 128-bit hash of their entries and then compared entry by entry, so the merge is exact.
   ``SitingResult.rows_after_collapse`` is the number of rows left.
3. **Greedy.** The standard greedy (largest marginal gain) gives a feasible incumbent and
   ``greedy_objective``; for MCLP a best-improvement swap search polishes it.
4. **LP relaxation** (coverage models), solved with HiGHS' interior-point method
   (``linprog(method="highs-ipm")``; dual simplex for the capacitated model): its value
   bounds the optimum, and the top LP columns (polished by the swap search for MCLP) give
   another incumbent. When the incumbent meets the bound (for integral data: the bound
   rounded down, or up for minimisation), optimality is proven without branch and bound.
   p-median skips this step: its LP is as hard as the MILP's root (simplex is fastest
   there, and branch and bound solves it anyway).
5. **MILP** (``scipy.optimize.milp``, HiGHS branch and cut, ``mip_rel_gap`` =
   ``MIP_REL_GAP``) otherwise. With ``time_limit_s`` the whole solve stops in time and
   returns the best solution found (never worse than greedy) with the proven bound and
   relative gap. HiGHS checks its limit between phases, so a large model can overrun a
   limit by a fraction of a second; with under 0.1 s left the LP is not started.

Formulations (y binary per candidate column, everything else continuous):

* MCLP / max-min / floors: ``z_k <= sum_{j covers k} y_j``, ``sum y <= p``, max
  ``sum W_k z_k`` (max-min: max ``t`` with ``share_g >= t``, then max covered weight with
  ``t`` held at its optimum).
* LSCP: set cover ``sum_{j covers k} y_j >= 1`` for a full target, else the MCLP rows
  with ``sum W_k z_k >= target weight``; min ``sum y``.
* p-median: the radius formulation (Garcia, Labbe & Marin 2011) with a chain of
  ``z_kl`` per distinct cost level of each (collapsed) row, capped at the cost of the
  nearest fixed column and at ``max_cost``.
* capacitated: assignment ``x_kj`` per (collapsed row, column) pair with
  ``x_kj <= min(W_k, cap_j) y_j`` strengthening rows.

scipy's HiGHS interface takes no MIP start, so the incumbent is not passed to branch and
bound; it is kept and returned when HiGHS finds nothing better in time. (Tried here with
highspy ``setSolution`` on the 30,000 x 1,000 benchmark: no faster, since the time goes
into the root LP.)
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from equiserve.errors import EquiserveError

__all__ = [
    "InfeasibleError",
    "SitingResult",
    "maximize_capacitated_coverage",
    "maximize_coverage",
    "maximize_min_coverage",
    "minimize_facilities",
    "p_median",
]

#: relative gap HiGHS branch and bound is asked to close
MIP_REL_GAP = 1e-7
#: relative gap at or below which a solution is reported as proven optimal
OPTIMALITY_TOL = 1e-6
#: least time left (s) to start the LP relaxation / branch and bound under a time limit
_MIN_LP_TIME = 0.1
_MIN_MILP_TIME = 0.05
#: skip the MCLP swap search when p x columns is larger than this (dense delta table)
_SWAP_MAX_CELLS = 20_000_000


class InfeasibleError(EquiserveError, ValueError):
    """The model has no feasible solution; attributes say what cannot be reached.

    Attributes
    ----------
    model : str
        The model that was asked for.
    uncoverable : numpy.ndarray
        Demand rows (with positive weight) that no column, fixed or candidate, covers
        (LSCP), or rows no open column can serve (p-median without ``max_cost``).
    best_share : float or None
        LSCP: the largest covered share any set of columns reaches.
    groups : list
        Equity models: the groups whose floor cannot be met.
    best_shares : dict
        Equity models: group -> the largest share that group reaches on its own with ``p``
        new columns (and all columns, when even that is short).
    """

    def __init__(self, message: str, *, model: str, uncoverable: Iterable[int] = (),
                 best_share: float | None = None, groups: Iterable[Hashable] = (),
                 best_shares: Mapping[Hashable, float] | None = None) -> None:
        super().__init__(message)
        self.model = model
        self.uncoverable = np.asarray(list(uncoverable), dtype=np.int64)
        self.best_share = best_share
        self.groups = list(groups)
        self.best_shares = dict(best_shares or {})


@dataclass(frozen=True)
class SitingResult:
    """Solution of a location model.

    Attributes
    ----------
    model : str
        ``"mclp"``, ``"lscp"``, ``"pmedian"``, ``"capacitated"`` or ``"maxmin"``.
    selected : numpy.ndarray
        New (non-fixed) column indices chosen, sorted.
    objective : float
        The model's objective for ``fixed`` + ``selected`` (covered weight including what
        fixed columns cover; number of new columns; total weighted cost; people assigned;
        minimum group share).
    optimal : bool
        Proven optimal (relative gap <= ``OPTIMALITY_TOL``).
    gap : float
        Relative gap ``|bound - objective| / |objective|`` (0.0 when optimal; ``inf``
        when no feasible solution is known or the objective is 0 and the bound is not).
    bound : float
        Best proven bound on the objective (upper for maximisation, lower for
        minimisation).
    greedy_objective : float
        Objective of the greedy solution (``nan`` when greedy found no feasible one).
    solve_time_s : float
        Wall time of the whole call.
    rows_after_collapse : int
        Demand rows in the optimisation model after merging identical signatures.
    details : dict
        Model-specific results; always ``"proof"`` (``"trivial"``, ``"lp"``, ``"milp"``
        or ``None``), ``"lp_bound"``, ``"columns_in_model"``, and ``"timings"`` (seconds
        for ``"reduce"``, ``"greedy"``, ``"lp"``, ``"milp"``).
    """

    model: str
    selected: np.ndarray
    objective: float
    optimal: bool
    gap: float
    bound: float
    greedy_objective: float
    solve_time_s: float
    rows_after_collapse: int
    details: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- validation


def _as_coverage(coverage: Any, name: str = "coverage") -> sp.csr_matrix:
    if sp.issparse(coverage):
        mat = sp.csr_matrix(coverage)
        if mat.ndim != 2:
            raise ValueError(f"{name} must be a 2-D demand x column matrix")
        if mat.dtype != bool and np.isnan(mat.data.astype(float)).any():
            raise ValueError(f"{name} holds NaN; use True/False (or 1/0)")
        mat = sp.csr_matrix(mat != 0)
    else:
        arr = np.asarray(coverage)
        if arr.ndim != 2:
            raise ValueError(f"{name} must be a 2-D demand x column matrix, got {arr.ndim}-D")
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be boolean or numeric, got dtype {arr.dtype}")
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"{name} holds NaN; use True/False (or 1/0)")
        mat = sp.csr_matrix(arr != 0)
    mat.eliminate_zeros()
    mat.sort_indices()
    return mat


def _as_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or len(w) != n:
        raise ValueError(f"{name} must be 1-D with one value per demand row ({n}), "
                         f"got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError(f"{name} holds NaN or infinite values at rows "
                         f"{_head(np.flatnonzero(~np.isfinite(w)))}")
    if (w < 0).any():
        raise ValueError(f"{name} must be >= 0; negative at rows {_head(np.flatnonzero(w < 0))}")
    return w


def _as_fixed(fixed: Any, m: int) -> np.ndarray:
    arr = np.asarray(list(fixed) if not isinstance(fixed, np.ndarray) else fixed)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == bool:
        if arr.ndim != 1 or len(arr) != m:
            raise ValueError(f"fixed as a boolean mask must have one value per column ({m}), "
                             f"got shape {arr.shape}")
        return np.flatnonzero(arr)
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f"
                                          and np.all(arr == np.round(arr))):
        raise ValueError("fixed must be column indices (integers) or a boolean mask")
    idx = arr.astype(np.int64).ravel()
    bad = idx[(idx < 0) | (idx >= m)]
    if len(bad):
        raise ValueError(f"fixed holds column indices out of range 0..{m - 1}: {_head(bad)}")
    return np.unique(idx)


def _coverage_inputs(coverage: Any, weights: Any, fixed: Any, time_limit_s: Any
                     ) -> tuple[_Timer, sp.csr_matrix, np.ndarray, np.ndarray]:
    """The checked inputs every coverage model starts from: (timer, A, weights, fixed)."""
    timer = _Timer(_check_time_limit(time_limit_s))
    A = _as_coverage(coverage)
    return timer, A, _as_weights(weights, A.shape[0]), _as_fixed(fixed, A.shape[1])


def _check_p(p: Any, m: int, fixed: np.ndarray) -> int:
    if isinstance(p, bool) or not float(p).is_integer():
        raise ValueError(f"p must be a whole number of new sites, got {p!r}")
    p = int(p)
    if p < 0:
        raise ValueError(f"p must be >= 0, got {p}")
    free = m - len(fixed)
    if p > free:
        raise ValueError(f"p = {p} but only {free} candidates are not fixed "
                         f"({m} columns, {len(fixed)} fixed)")
    return p


def _check_time_limit(time_limit_s: Any) -> float | None:
    if time_limit_s is None:
        return None
    t = float(time_limit_s)
    if not t > 0:
        raise ValueError(f"time_limit_s must be > 0 seconds (or None), got {time_limit_s!r}")
    return t


def _as_groups(groups: Any, n: int) -> tuple[np.ndarray, list]:
    if groups is None:
        raise ValueError("groups is required: one label per demand row")
    labels = np.asarray(groups, dtype=object) if not isinstance(groups, pd.Series) \
        else groups.to_numpy(dtype=object)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"groups must have one label per demand row ({n}), got shape "
                         f"{labels.shape}")
    codes, uniques = pd.factorize(labels, sort=False)
    if (codes < 0).any():
        raise ValueError(f"groups has missing labels at rows {_head(np.flatnonzero(codes < 0))}")
    return codes.astype(np.int64), list(uniques)


def _head(idx: np.ndarray, k: int = 10) -> str:
    idx = np.asarray(idx)
    items = ", ".join(str(v) for v in idx[:k].tolist())
    return f"[{items}{', ...' if len(idx) > k else ''}] ({len(idx)} in all)"


# --------------------------------------------------------------------------- collapsing

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _group_rows(mat: sp.csr_matrix, extra: list[np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows of a CSR matrix (sorted indices), exactly.

    Rows are identical when they hold the same column indices with the same stored values
    and agree on every array in ``extra``. Returns ``(first, inverse)``: the first row of
    each group (ascending) and each row's group number.
    """
    n = mat.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nnz = np.diff(mat.indptr).astype(np.uint64)
    idx = mat.indices.astype(np.uint64)
    vals = np.ascontiguousarray(mat.data, dtype=np.float64).view(np.uint64)
    cols = [nnz]
    for salt in (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD1B54A32D192ED03)):
        e = _mix(_mix(idx + salt) ^ vals)
        cs = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(e, dtype=np.uint64)])
        cols.append(cs[mat.indptr[1:]] - cs[mat.indptr[:-1]])
    for arr in extra or []:
        a = np.asarray(arr)
        cols.append(a.astype(np.float64).view(np.uint64) if a.dtype.kind == "f"
                    else a.astype(np.int64).view(np.uint64))
    key = np.column_stack(cols)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # renumber groups by first occurrence, so group order follows row order
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first, inverse = first[order], rank[inverse]
    # exact check: every row equals its group's first row entry by entry
    rep = first[inverse]
    lens = np.diff(mat.indptr)
    if lens.sum():
        row_of = np.repeat(np.arange(n), lens)
        offs = np.arange(mat.indptr[-1]) - mat.indptr[:-1][row_of]
        rep_pos = mat.indptr[rep][row_of] + offs
        same = (mat.indices == mat.indices[rep_pos]) & (vals == vals[rep_pos])
        if not same.all():  # a 128-bit hash collision: group the slow, exact way
            return _group_rows_exact(mat, extra)
    return first.astype(np.int64), inverse.astype(np.int64)


def _group_rows_exact(mat: sp.csr_matrix, extra: list[np.ndarray] | None
                      ) -> tuple[np.ndarray, np.ndarray]:
    seen: dict[tuple, int] = {}
    first: list[int] = []
    inverse = np.empty(mat.shape[0], dtype=np.int64)
    ex = [np.asarray(a) for a in (extra or [])]
    for i in range(mat.shape[0]):
        lo, hi = mat.indptr[i], mat.indptr[i + 1]
        key = (mat.indices[lo:hi].tobytes(), np.asarray(mat.data[lo:hi], float).tobytes(),
               tuple(a[i].item() for a in ex))
        g = seen.setdefault(key, len(first))
        if g == len(first):
            first.append(i)
        inverse[i] = g
    return np.asarray(first, dtype=np.int64), inverse


@dataclass
class _CoverData:
    """A reduced, collapsed coverage model: rows k, model columns j."""

    B: sp.csr_matrix            # K x M bool (as float) coverage
    W: np.ndarray               # K weights
    cols: np.ndarray            # M -> original column index (free columns only)
    group: np.ndarray | None    # K group codes (when grouped)
    const: float                # weight already covered by fixed columns
    n_rows: int                 # rows in the model (= K)

    @property
    def Bc(self) -> sp.csc_matrix:
        return self.B.tocsc()


def _reduce_cover(A: sp.csr_matrix, w: np.ndarray, fixed: np.ndarray,
                  group: np.ndarray | None = None, dedupe_cols: bool = True
                  ) -> tuple[_CoverData, np.ndarray]:
    """Reduce and collapse a coverage model; also return the fixed-covered row mask."""
    n, m = A.shape
    fixed_ind = np.zeros(m, dtype=bool)
    fixed_ind[fixed] = True
    fixed_cov = (A @ fixed_ind.astype(np.float64)) > 0
    free_cols = np.flatnonzero(~fixed_ind)
    Af = A[:, free_cols]
    keep = ~fixed_cov & (np.diff(Af.indptr) > 0) & (w > 0)
    rows = np.flatnonzero(keep)
    Ak = Af[rows]
    # columns that reach something
    colnnz = np.bincount(Ak.indices, minlength=Ak.shape[1])
    useful = np.flatnonzero(colnnz > 0)
    Ak = Ak[:, useful]
    cols = free_cols[useful]
    if dedupe_cols and Ak.shape[1] > 1:
        AkT = sp.csr_matrix(Ak.T)
        AkT.sort_indices()
        first, _ = _group_rows(AkT)
        Ak = Ak[:, first]
        cols = cols[first]
    Ak = sp.csr_matrix(Ak, dtype=np.float64)
    Ak.sort_indices()
    g = group[rows] if group is not None else None
    first, inv = _group_rows(Ak, [g] if g is not None else None)
    B = Ak[first]
    W = np.bincount(inv, weights=w[rows], minlength=len(first))
    const = float(w[fixed_cov].sum())
    data = _CoverData(B=sp.csr_matrix(B), W=W, cols=cols,
                      group=g[first] if g is not None else None, const=const,
                      n_rows=len(first))
    return data, fixed_cov


# --------------------------------------------------------------------------- solving


@dataclass
class _Model:
    """min c @ x  s.t.  lo <= A x <= hi,  lb <= x <= ub,  x[:n_y] binary (model columns)."""

    c: np.ndarray
    A: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integrality: np.ndarray
    n_y: int


@dataclass
class _Outcome:
    sel: np.ndarray | None      # model columns chosen (None: nothing feasible known)
    value: float                # objective in the model's own sense, incl. constants
    bound: float
    optimal: bool
    gap: float
    proof: str | None
    lp_bound: float | None
    infeasible: bool
    timings: dict


class _Timer:
    def __init__(self, limit: float | None) -> None:
        self.t0 = time.perf_counter()
        self.limit = limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def remaining(self) -> float | None:
        if self.limit is None:
            return None
        return self.limit - self.elapsed()

    def expired(self) -> bool:
        r = self.remaining()
        return r is not None and r <= 1e-3


def _rel_gap(value: float, bound: float, maximize: bool) -> float:
    if not math.isfinite(value):
        return math.inf
    diff = (bound - value) if maximize else (value - bound)
    diff = max(diff, 0.0)
    if diff == 0.0:
        return 0.0
    if abs(value) < 1e-12:
        return math.inf
    return diff / abs(value)


def _round_bound(bound: float, maximize: bool, integral: bool) -> float:
    if not integral or not math.isfinite(bound):
        return bound
    tol = min(0.49, max(1e-6, 1e-7 * abs(bound)))
    return math.floor(bound + tol) if maximize else math.ceil(bound - tol)


def _better(a: float, b: float, maximize: bool) -> bool:
    """a strictly better than b (beyond round-off)."""
    if not math.isfinite(a):
        return False
    if not math.isfinite(b):
        return True
    tol = 1e-9 * max(1.0, abs(a), abs(b))
    return a > b + tol if maximize else a < b - tol


def _run_lp(model: _Model, time_limit: float | None, method: str = "highs-ipm"):
    A, lo, hi = model.A, model.lo, model.hi
    eq = np.isfinite(lo) & np.isfinite(hi) & (lo == hi)
    up = np.isfinite(hi) & ~eq
    dn = np.isfinite(lo) & ~eq
    A_ub = sp.vstack([A[up], -A[dn]]).tocsr()
    b_ub = np.concatenate([hi[up], -lo[dn]])
    kwargs: dict[str, Any] = {}
    if eq.any():
        kwargs.update(A_eq=A[eq], b_eq=lo[eq])
    options: dict[str, Any] = {}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = linprog(model.c, A_ub=A_ub if A_ub.shape[0] else None,
                      b_ub=b_ub if A_ub.shape[0] else None,
                      bounds=np.column_stack([model.lb, model.ub]), method=method,
                      options=options, **kwargs)
    return res


def _run_milp(model: _Model, time_limit: float | None):
    options: dict[str, Any] = {"mip_rel_gap": MIP_REL_GAP}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return milp(model.c, constraints=LinearConstraint(model.A, model.lo, model.hi),
                    integrality=model.integrality, bounds=Bounds(model.lb, model.ub),
                    options=options)


def _solve(model: _Model, *, maximize: bool, const: float, incumbent: np.ndarray | None,
           evaluate: Callable[[np.ndarray], float], trivial_bound: float,
           lp_candidates: Callable[[np.ndarray], list[np.ndarray]],
           improve: Callable[[np.ndarray], np.ndarray] | None, integral: bool,
           timer: _Timer, use_lp: bool = True, lp_method: str = "highs-ipm") -> _Outcome:
    """Close the gap between an incumbent and a bound: LP relaxation, then MILP.

    HiGHS checks its time limit between phases: limits under about 0.1 s are not honoured
    by its interior-point solver, so the LP is skipped with less than ``_MIN_LP_TIME``
    left and branch and bound with less than ``_MIN_MILP_TIME``.
    """
    sign = -1.0 if maximize else 1.0   # model value = const + sign * (c @ x)
    timings = {"lp": 0.0, "milp": 0.0}
    best_sel = incumbent
    best = evaluate(incumbent) if incumbent is not None else (-math.inf if maximize
                                                               else math.inf)
    bound = _round_bound(trivial_bound, maximize, integral)
    proof: str | None = "trivial"
    lp_bound = None

    def tighten(b: float) -> None:
        nonlocal bound
        b = _round_bound(b, maximize, integral)
        bound = min(bound, b) if maximize else max(bound, b)

    def consider(sel: np.ndarray) -> None:
        nonlocal best, best_sel
        if improve is not None:
            sel = improve(sel)
        v = evaluate(sel)
        if _better(v, best, maximize):
            best, best_sel = v, sel

    def closed() -> bool:
        return _rel_gap(best, bound, maximize) <= OPTIMALITY_TOL

    def outcome(optimal: bool, infeasible: bool = False) -> _Outcome:
        b = bound
        if math.isfinite(best):     # a bound past the incumbent is round-off
            b = max(b, best) if maximize else min(b, best)
        gap = 0.0 if optimal else _rel_gap(best, b, maximize)
        return _Outcome(sel=best_sel, value=best, bound=b, optimal=optimal, gap=gap,
                        proof=proof if optimal else None, lp_bound=lp_bound,
                        infeasible=infeasible, timings=timings)

    if closed():
        return outcome(True)
    if use_lp and _time_for(timer, _MIN_LP_TIME):
        t = time.perf_counter()
        res = _run_lp(model, timer.remaining(), lp_method)
        timings["lp"] = time.perf_counter() - t
        if res.status == 2:
            return outcome(False, infeasible=True)
        if res.status == 0 and res.x is not None:
            lp_bound = const + sign * float(res.fun)
            tighten(lp_bound)
            for sel in lp_candidates(res.x[:model.n_y]):
                consider(sel)
            proof = "lp"
            if closed():
                return outcome(True)
    if not _time_for(timer, _MIN_MILP_TIME):
        return outcome(False)
    t = time.perf_counter()
    res = _run_milp(model, timer.remaining())
    timings["milp"] = time.perf_counter() - t
    proof = "milp"
    if res.status == 2:
        return outcome(False, infeasible=True)
    if res.x is not None:
        sel = np.flatnonzero(res.x[:model.n_y] > 0.5)
        v = evaluate(sel)
        if _better(v, best, maximize) or not math.isfinite(best):
            best, best_sel = v, sel
    dual = getattr(res, "mip_dual_bound", None)
    if dual is not None and np.isfinite(dual):
        tighten(const + sign * float(dual))
    if res.status == 0 and res.x is not None:
        return outcome(True)
    return outcome(closed())


def _time_for(timer: _Timer, seconds: float) -> bool:
    r = timer.remaining()
    return r is None or r >= seconds


def _top_columns(y: np.ndarray, p: int) -> list[np.ndarray]:
    if p <= 0 or len(y) == 0:
        return [np.zeros(0, dtype=np.int64)]
    order = np.argsort(-y, kind="stable")
    return [np.sort(order[:p])]


def _pad(selected: np.ndarray, p: int, free: np.ndarray) -> np.ndarray:
    """Fill a selection up to p with the lowest-numbered unused free columns."""
    selected = np.unique(selected)
    if len(selected) >= p:
        return selected
    rest = np.setdiff1d(free, selected)
    return np.sort(np.concatenate([selected, rest[: p - len(selected)]])).astype(np.int64)


def _is_integral(*arrays: np.ndarray) -> bool:
    return all(np.all(np.asarray(a) == np.round(np.asarray(a))) for a in arrays)


def _result(model: str, out: _Outcome, selected: np.ndarray, objective: float,
            greedy_objective: float, timer: _Timer, rows: int, details: dict,
            reduce_time: float, greedy_time: float, maximize: bool,
            columns_in_model: int) -> SitingResult:
    bound = out.bound
    if math.isfinite(objective):
        bound = max(bound, objective) if maximize else min(bound, objective)
    gap = 0.0 if out.optimal else _rel_gap(objective, bound, maximize)
    optimal = out.optimal or gap <= OPTIMALITY_TOL
    details = dict(details)
    details.update(proof=out.proof if optimal else None, lp_bound=out.lp_bound,
                   columns_in_model=columns_in_model,
                   timings={"reduce": reduce_time, "greedy": greedy_time, **out.timings})
    return SitingResult(model=model, selected=np.asarray(selected, dtype=np.int64),
                        objective=float(objective), optimal=bool(optimal),
                        gap=0.0 if optimal else float(gap), bound=float(bound),
                        greedy_objective=float(greedy_objective),
                        solve_time_s=timer.elapsed(), rows_after_collapse=int(rows),
                        details=details)


# --------------------------------------------------------------------------- MCLP


def _cover_value(d: _CoverData, sel: np.ndarray) -> float:
    if len(sel) == 0:
        return d.const
    hit = (d.B[:, sel] @ np.ones(len(sel))) > 0
    return d.const + float(d.W[hit].sum())


def _greedy_cover(d: _CoverData, p: int) -> np.ndarray:
    Bc = d.B.tocsc()
    unc = d.W.copy()
    sel: list[int] = []
    for _ in range(min(p, Bc.shape[1])):
        gain = Bc.T @ unc
        if sel:
            gain[sel] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        sel.append(j)
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    return np.sort(np.asarray(sel, dtype=np.int64))


def _swap_search(d: _CoverData, sel: np.ndarray, timer: _Timer,
                 max_rounds: int | None = None) -> np.ndarray:
    """Best-improvement 1-swap local search for MCLP (vectorised over all swaps)."""
    B = d.B
    M = B.shape[1]
    sel = np.sort(np.asarray(sel, dtype=np.int64))
    if len(sel) == 0 or len(sel) >= M or len(sel) * M > _SWAP_MAX_CELLS:
        return sel
    Bc = B.tocsc()
    BT = sp.csr_matrix(B.T)
    tol = 1e-9 * max(1.0, float(d.W.sum()))
    rounds = max_rounds if max_rounds is not None else 4 * len(sel) + 20
    for _ in range(rounds):
        if timer.expired():
            break
        cnt = Bc[:, sel] @ np.ones(len(sel))
        unc_w = np.where(cnt == 0, d.W, 0.0)
        once_w = np.where(cnt == 1, d.W, 0.0)
        gain_in = BT @ unc_w
        loss_out = (BT @ once_w)[sel]
        X = (BT[sel] @ sp.diags(once_w) @ B).toarray()
        delta = gain_in[None, :] - loss_out[:, None] + X
        delta[:, sel] = -np.inf
        a, b = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[a, b] <= tol:
            break
        sel = np.sort(np.concatenate([np.delete(sel, a), [b]]))
    return sel


def _cover_model(d: _CoverData, p: int, extra_rows: list[tuple] | None = None,
                 extra_vars: int = 0) -> tuple[sp.csr_matrix, list, list]:
    """Rows ``z_k - sum_j B_kj y_j <= 0`` and ``sum_j y_j <= p`` over vars [y, z, extra]."""
    K, M = d.B.shape
    Z = sp.csr_matrix((K, extra_vars)) if extra_vars else None
    link = sp.hstack([-d.B, sp.eye(K, format="csr")] + ([Z] if Z is not None else []))
    card = sp.hstack([sp.csr_matrix(np.ones((1, M))), sp.csr_matrix((1, K + extra_vars))])
    blocks = [link, card]
    lo = [np.full(K, -np.inf), [-np.inf]]
    hi = [np.zeros(K), [float(p)]]
    for mat, low, high in extra_rows or []:
        blocks.append(mat)
        lo.append(low)
        hi.append(high)
    return sp.vstack(blocks, format="csr"), lo, hi


def maximize_coverage(coverage: Any, weights: Any, p: int, fixed: Iterable[int] = (),
                      time_limit_s: float | None = None,
                      group_floor: Mapping[Hashable, float] | None = None,
                      groups: Any = None) -> SitingResult:
    """Maximal covering location problem (MCLP), optionally equity-constrained.

    Choose ``p`` new columns, in addition to the ``fixed`` ones, maximising the total weight
    of demand rows covered by at least one open column.

    Parameters
    ----------
    coverage : array-like or scipy.sparse, bool, demand x column
        ``coverage[i, j]`` true when column (site) ``j`` covers demand row ``i``.
    weights : array-like, >= 0, one per demand row
        People (or any weight) at each demand row.
    p : int
        Number of new columns to open (not counting ``fixed``).
    fixed : sequence of int, or boolean mask
        Columns that are already open (existing facilities): always open, not counted in
        ``p``, their coverage counted in the objective.
    time_limit_s : float, optional
        Wall-time limit for the whole solve; the best solution found is returned with its
        proven gap.
    group_floor : dict group -> share in [0, 1], optional
        With ``groups``: every listed group must reach at least this covered share of its
        weight ("equity-constrained MCLP").
    groups : array-like, optional
        A group label per demand row (e.g. region). When given, ``details["group_coverage"]``
        reports each group's covered share.

    Returns
    -------
    SitingResult
        ``objective`` is the covered weight including what fixed columns cover; ``details``
        has ``"covered"`` (bool per row), ``"covered_weight"``, ``"fixed_covered_weight"``,
        ``"total_weight"``, ``"covered_share"`` and with groups ``"group_coverage"``.

    Raises
    ------
    ValueError
        On bad input (argument named in the message).
    InfeasibleError
        When the group floors cannot be met; ``.groups`` names the groups that cannot reach
        their floor on their own with ``p`` new columns (or all of them when each can but
        not together), ``.best_shares`` has their best shares.
    """
    timer, A, w, fx = _coverage_inputs(coverage, weights, fixed, time_limit_s)
    n, m = A.shape
    p = _check_p(p, m, fx)
    codes = labels = None
    if groups is not None or group_floor:
        if group_floor and groups is None:
            raise ValueError("group_floor needs groups: one group label per demand row")
        codes, labels = _as_groups(groups, n)
    floors = _check_floors(group_floor, labels) if group_floor else {}
    free = np.setdiff1d(np.arange(m), fx)

    t = time.perf_counter()
    d, fixed_cov = _reduce_cover(A, w, fx, group=codes if floors else None)
    reduce_time = time.perf_counter() - t
    K, M = d.B.shape
    pe = min(p, M)
    integral = _is_integral(w)

    need = None
    if floors:
        G = len(labels)
        gW = np.bincount(codes, weights=w, minlength=G)
        gfix = np.bincount(codes, weights=w * fixed_cov, minlength=G)
        need = np.zeros(G)
        for gi, f in floors.items():
            need[gi] = f * gW[gi] - gfix[gi]
        need = np.where(need > 1e-9 * np.maximum(gW, 1.0), need, 0.0)
        _precheck_floors(A, w, codes, labels, floors, gW)

    t = time.perf_counter()
    if floors:
        greedy = _greedy_floor(d, pe, need)
        g_ok = greedy is not None
        if not g_ok:
            greedy = _greedy_cover(d, pe)
    else:
        greedy = _greedy_cover(d, pe)
        g_ok = True
    greedy_value = _cover_value(d, greedy)
    incumbent = greedy
    if not floors:
        incumbent = _swap_search(d, greedy, timer)
    greedy_time = time.perf_counter() - t

    extra = None
    if floors:
        rowsel = np.flatnonzero(need > 0)
        in_rows = np.isin(d.group, rowsel)
        Gm = sp.csr_matrix((d.W[in_rows], (np.searchsorted(rowsel, d.group[in_rows]),
                                           np.flatnonzero(in_rows))), shape=(len(rowsel), K))
        extra = [(sp.hstack([sp.csr_matrix((len(rowsel), M)), Gm], format="csr"),
                  need[rowsel], np.full(len(rowsel), np.inf))]
    A_m, lo, hi = _cover_model(d, pe, extra)
    model = _Model(c=np.concatenate([np.zeros(M), -d.W]), A=A_m, lo=np.concatenate(lo),
                   hi=np.concatenate(hi), lb=np.zeros(M + K), ub=np.ones(M + K),
                   integrality=np.concatenate([np.ones(M), np.zeros(K)]), n_y=M)

    def feasible(sel: np.ndarray) -> bool:
        if not floors:
            return True
        hit = (d.B[:, sel] @ np.ones(len(sel))) > 0 if len(sel) else np.zeros(K, bool)
        got = np.bincount(d.group, weights=d.W * hit, minlength=len(labels))
        return bool(np.all(got >= need - 1e-9 * np.maximum(need, 1.0)))

    def evaluate(sel: np.ndarray) -> float:
        return _cover_value(d, sel) if feasible(sel) else -math.inf

    trivial = d.const + min(float(d.W.sum()),
                            float(np.sort(d.B.T @ d.W)[::-1][:pe].sum()) if M else 0.0)
    out = _solve(model, maximize=True, const=d.const,
                 incumbent=incumbent if g_ok else None, evaluate=evaluate,
                 trivial_bound=trivial,
                 lp_candidates=lambda y: _top_columns(y, pe),
                 improve=None if floors else (lambda s: _swap_search(d, s, timer)),
                 integral=integral, timer=timer)
    if out.infeasible or (floors and out.sel is None and out.optimal):
        _raise_floor_infeasible(A, w, codes, labels, floors, fx, p, gW)
    if out.sel is None:
        warnings.warn("maximize_coverage: no selection meeting every group floor was found "
                      "within the time limit; returning the greedy selection, which misses "
                      "some floors (details['floors_met'] is False)", RuntimeWarning,
                      stacklevel=2)
        sel_model = greedy
    else:
        sel_model = out.sel
    selected = _pad(d.cols[sel_model], p, free)
    details = _cover_details(A, w, fx, selected, codes, labels)
    if floors:
        details["group_floor"] = {labels[g]: f for g, f in floors.items()}
        details["floors_met"] = bool(all(details["group_coverage"][labels[g]] >= f - 1e-9
                                         for g, f in floors.items()))
    return _result("mclp", out, selected, details["covered_weight"],
                   greedy_value if g_ok else math.nan, timer, K, details, reduce_time,
                   greedy_time, True, M)


def _check_floors(group_floor: Mapping[Hashable, float], labels: list) -> dict[int, float]:
    if not isinstance(group_floor, Mapping):
        raise ValueError("group_floor must be a dict: group label -> minimum covered share")
    index = {lab: i for i, lab in enumerate(labels)}
    out = {}
    for g, f in group_floor.items():
        if g not in index:
            raise ValueError(f"group_floor names group {g!r}, which no demand row has in groups "
                             f"(groups are {labels[:10]})")
        f = float(f)
        if not 0.0 <= f <= 1.0:
            raise ValueError(f"group_floor[{g!r}] must be a share in [0, 1], got {f}")
        out[index[g]] = f
    return out


def _greedy_floor(d: _CoverData, p: int, need: np.ndarray) -> np.ndarray | None:
    """Greedy that first closes the group-floor shortfall, then maximises coverage."""
    Bc = d.B.tocsc()
    G = len(need)
    K = d.B.shape[0]
    onehot = sp.csr_matrix((np.ones(K), (np.arange(K), d.group)), shape=(K, G))
    unc = d.W.copy()
    got = np.zeros(G)
    sel: list[int] = []
    for _ in range(p):
        gain_g = np.asarray((Bc.T @ (onehot.multiply(unc[:, None]))).todense())
        short = np.maximum(need - got, 0.0)
        closes = np.minimum(gain_g, short[None, :]).sum(axis=1)
        total = gain_g.sum(axis=1)
        if sel:
            closes[sel] = -1.0
            total[sel] = -1.0
        j = int(np.lexsort((-np.arange(len(total)), total, closes))[-1])
        if total[j] <= 0 and closes[j] <= 0:
            break
        sel.append(j)
        got += gain_g[j]
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    if np.all(got >= need - 1e-9 * np.maximum(need, 1.0)):
        return np.sort(np.asarray(sel, dtype=np.int64))
    return None


def _precheck_floors(A: sp.csr_matrix, w: np.ndarray, codes: np.ndarray, labels: list,
                     floors: dict[int, float], gW: np.ndarray) -> None:
    reach = (A @ np.ones(A.shape[1])) > 0
    gmax = np.bincount(codes, weights=w * reach, minlength=len(labels))
    bad = {}
    for g, f in floors.items():
        share = gmax[g] / gW[g] if gW[g] > 0 else 1.0
        if share < f - 1e-9:
            bad[labels[g]] = share
    if bad:
        parts = ", ".join(f"{g!r} reaches at most {s:.1%} with every column open "
                          f"(floor {floors[labels.index(g)]:.1%})" for g, s in bad.items())
        raise InfeasibleError(f"group_floor cannot be met: {parts}", model="mclp",
                              groups=list(bad), best_shares=bad)


def _raise_floor_infeasible(A, w, codes, labels, floors, fx, p, gW) -> None:
    best: dict[Hashable, float] = {}
    bad = []
    for g, f in floors.items():
        rows = codes == g
        if gW[g] <= 0:
            continue
        r = maximize_coverage(A[rows], w[rows], p, fixed=fx, time_limit_s=30.0)
        share = r.bound / gW[g]
        best[labels[g]] = r.objective / gW[g]
        if share < f - 1e-9:
            bad.append(labels[g])
    if bad:
        parts = ", ".join(f"{g!r} reaches at most {best[g]:.1%} with p = {p} new sites "
                          f"(floor {floors[labels.index(g)]:.1%})" for g in bad)
        msg = f"group_floor cannot be met: {parts}"
    else:
        bad = [labels[g] for g in floors]
        msg = (f"group_floor cannot be met: each of the groups {bad} can reach its floor on "
               f"its own, but not all together with p = {p} new sites")
    raise InfeasibleError(msg, model="mclp", groups=bad, best_shares=best)


def _cover_details(A: sp.csr_matrix, w: np.ndarray, fx: np.ndarray, selected: np.ndarray,
                   codes: np.ndarray | None, labels: list | None) -> dict:
    open_ind = np.zeros(A.shape[1])
    open_ind[fx] = 1.0
    fixed_cov = (A @ open_ind) > 0
    open_ind[selected] = 1.0
    covered = (A @ open_ind) > 0
    total = float(w.sum())
    cw = float(w[covered].sum())
    det = {"covered": covered, "covered_weight": cw,
           "fixed_covered_weight": float(w[fixed_cov].sum()), "total_weight": total,
           "covered_share": cw / total if total > 0 else math.nan}
    if codes is not None:
        det["group_coverage"] = _group_shares(w, covered, codes, labels)
    return det


def _group_shares(w: np.ndarray, covered: np.ndarray, codes: np.ndarray, labels: list
                  ) -> dict:
    G = len(labels)
    tot = np.bincount(codes, weights=w, minlength=G)
    cov = np.bincount(codes, weights=w * covered, minlength=G)
    return {labels[g]: (float(cov[g] / tot[g]) if tot[g] > 0 else math.nan) for g in range(G)}


# --------------------------------------------------------------------------- LSCP


def minimize_facilities(coverage: Any, weights: Any, target: float = 1.0,
                        fixed: Iterable[int] = (), time_limit_s: float | None = None
                        ) -> SitingResult:
    """Location set covering (LSCP): fewest new columns reaching a coverage target.

    Chooses the fewest new columns (beyond ``fixed``) so that the covered weight is at least
    ``target`` x the total weight. With ``target=1`` every row of positive weight must be
    covered. Among equally small sets, any one is returned (``details["covered_weight"]``
    says what it covers).

    Parameters
    ----------
    coverage, weights, fixed, time_limit_s
        As in :func:`maximize_coverage`.
    target : float in (0, 1]
        Share of the total weight to cover.

    Returns
    -------
    SitingResult
        ``objective`` is the number of new columns; ``details`` as for MCLP plus
        ``"target_weight"``.

    Raises
    ------
    InfeasibleError
        If even every column together cannot reach the target; ``.uncoverable`` lists the
        rows of positive weight no column covers and ``.best_share`` the share reachable.
    """
    timer, A, w, fx = _coverage_inputs(coverage, weights, fixed, time_limit_s)
    n, m = A.shape
    target = float(target)
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must be a share in (0, 1], got {target}")
    total = float(w.sum())
    goal = target * total
    tol = 1e-9 * max(1.0, total)
    reach = (A @ np.ones(m)) > 0
    reachable = float(w[reach].sum())
    if reachable < goal - tol:
        unc = np.flatnonzero(~reach & (w > 0))
        raise InfeasibleError(
            f"target = {target:.4g} of the weight cannot be covered: with every column open "
            f"the covered share is at most {reachable / total:.4%}; {len(unc)} demand rows "
            f"(weight {total - reachable:.6g}) are within reach of no column, e.g. rows "
            f"{_head(unc)}", model="lscp", uncoverable=unc,
            best_share=reachable / total if total > 0 else math.nan)

    t = time.perf_counter()
    d, fixed_cov = _reduce_cover(A, w, fx)
    reduce_time = time.perf_counter() - t
    K, M = d.B.shape
    need = goal - d.const

    def covered_by(sel: np.ndarray) -> float:
        return _cover_value(d, sel) - d.const

    def evaluate(sel: np.ndarray) -> float:
        return float(len(sel)) if covered_by(sel) >= need - tol else math.inf

    t = time.perf_counter()
    if need <= tol:
        greedy = np.zeros(0, dtype=np.int64)
    else:
        greedy = _prune(d, _greedy_until(d, need, tol), need, tol)
    greedy_time = time.perf_counter() - t
    greedy_value = float(len(greedy))

    colw = np.sort(d.B.T @ d.W)[::-1] if M else np.zeros(0)
    if need <= tol:
        trivial = 0.0
    else:
        trivial = float(np.searchsorted(np.cumsum(colw), need - tol) + 1)

    full = need >= float(d.W.sum()) - tol
    if full:   # set cover: every remaining row covered
        model = _Model(c=np.ones(M), A=d.B.tocsr(), lo=np.ones(K), hi=np.full(K, np.inf),
                       lb=np.zeros(M), ub=np.ones(M), integrality=np.ones(M), n_y=M)
    else:
        link = sp.hstack([-d.B, sp.eye(K, format="csr")])
        cov = sp.hstack([sp.csr_matrix((1, M)), sp.csr_matrix(d.W[None, :])])
        model = _Model(c=np.concatenate([np.ones(M), np.zeros(K)]),
                       A=sp.vstack([link, cov], format="csr"),
                       lo=np.concatenate([np.full(K, -np.inf), [need]]),
                       hi=np.concatenate([np.zeros(K), [np.inf]]),
                       lb=np.zeros(M + K), ub=np.ones(M + K),
                       integrality=np.concatenate([np.ones(M), np.zeros(K)]), n_y=M)

    def lp_candidates(y: np.ndarray) -> list[np.ndarray]:
        order = np.argsort(-y, kind="stable")
        hit = np.zeros(K, dtype=bool)
        Bc = d.B.tocsc()
        got = 0.0
        sel = []
        for j in order:
            if got >= need - tol:
                break
            rows = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
            new = rows[~hit[rows]]
            if len(new) == 0:
                continue
            hit[new] = True
            got += float(d.W[new].sum())
            sel.append(j)
        return [_prune(d, np.asarray(sel, dtype=np.int64), need, tol)]

    out = _solve(model, maximize=False, const=0.0, incumbent=greedy, evaluate=evaluate,
                 trivial_bound=trivial, lp_candidates=lp_candidates, improve=None,
                 integral=True, timer=timer)
    selected = np.sort(d.cols[out.sel]) if out.sel is not None else np.zeros(0, np.int64)
    details = _cover_details(A, w, fx, selected, None, None)
    details["target_weight"] = goal
    return _result("lscp", out, selected, float(len(selected)), greedy_value, timer, K,
                   details, reduce_time, greedy_time, False, M)


def _greedy_until(d: _CoverData, need: float, tol: float) -> np.ndarray:
    Bc = d.B.tocsc()
    unc = d.W.copy()
    got = 0.0
    sel: list[int] = []
    while got < need - tol and len(sel) < Bc.shape[1]:
        gain = Bc.T @ unc
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        sel.append(j)
        got += float(gain[j])
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    return np.asarray(sel, dtype=np.int64)


def _prune(d: _CoverData, sel: np.ndarray, need: float, tol: float) -> np.ndarray:
    """Drop columns (last added first) whose removal keeps the target met."""
    sel = list(sel)
    Bc = d.B.tocsc()
    for j in list(reversed(sel)):
        trial = [k for k in sel if k != j]
        if len(trial) == len(sel):
            continue
        hit = (Bc[:, trial] @ np.ones(len(trial))) > 0 if trial else np.zeros(len(d.W), bool)
        if float(d.W[hit].sum()) >= need - tol:
            sel = trial
    return np.sort(np.asarray(sel, dtype=np.int64))


# --------------------------------------------------------------------------- max-min


def maximize_min_coverage(coverage: Any, weights: Any, groups: Any, p: int,
                          fixed: Iterable[int] = (), time_limit_s: float | None = None
                          ) -> SitingResult:
    """Max-min equity model: maximise the smallest covered share over groups.

    The share of a group is its covered weight over its total weight (groups of zero total
    weight are left out). Ties are broken lexicographically: among the selections reaching
    the best minimum share, the one covering the most total weight is returned (a second
    MILP with the minimum share held at its optimum; tolerance 1e-9).

    Parameters
    ----------
    coverage, weights, p, fixed, time_limit_s
        As in :func:`maximize_coverage`.
    groups : array-like
        A group label per demand row (e.g. region).

    Returns
    -------
    SitingResult
        ``objective`` is the minimum group share; ``bound`` bounds it; ``details`` has
        ``"group_coverage"`` (group -> share), ``"covered_weight"``, ``"covered"``, and
        ``"tiebreak_optimal"`` (whether the total-weight stage was also proven optimal).
    """
    timer, A, w, fx = _coverage_inputs(coverage, weights, fixed, time_limit_s)
    n, m = A.shape
    p = _check_p(p, m, fx)
    codes, labels = _as_groups(groups, n)
    free = np.setdiff1d(np.arange(m), fx)
    G = len(labels)

    t = time.perf_counter()
    d, fixed_cov = _reduce_cover(A, w, fx, group=codes)
    reduce_time = time.perf_counter() - t
    K, M = d.B.shape
    pe = min(p, M)
    gW = np.bincount(codes, weights=w, minlength=G)
    gfix = np.bincount(codes, weights=w * fixed_cov, minlength=G)
    active = np.flatnonzero(gW > 0)
    if len(active) == 0:
        raise ValueError("weights are all zero: no group has weight to cover")

    def shares(sel: np.ndarray) -> np.ndarray:
        hit = (d.B[:, sel] @ np.ones(len(sel))) > 0 if len(sel) else np.zeros(K, bool)
        got = gfix + np.bincount(d.group, weights=d.W * hit, minlength=G)
        return got[active] / gW[active]

    def min_share(sel: np.ndarray) -> float:
        return float(shares(sel).min())

    t = time.perf_counter()
    greedy = _greedy_maxmin(d, pe, gfix, gW, active)
    greedy_time = time.perf_counter() - t
    greedy_value = min_share(greedy)

    # stage 1: max t  s.t. share_g >= t   (vars y, z, t)
    A_act = len(active)
    pos = np.full(G, -1)
    pos[active] = np.arange(A_act)
    Gm = sp.csr_matrix((d.W / gW[d.group], (pos[d.group], np.arange(K))), shape=(A_act, K))
    share_rows = sp.hstack([sp.csr_matrix((A_act, M)), Gm,
                            sp.csr_matrix(-np.ones((A_act, 1)))], format="csr")
    A1, lo1, hi1 = _cover_model(d, pe, [(share_rows, -gfix[active] / gW[active],
                                        np.full(A_act, np.inf))], extra_vars=1)
    model1 = _Model(c=np.concatenate([np.zeros(M + K), [-1.0]]), A=A1,
                    lo=np.concatenate(lo1), hi=np.concatenate(hi1),
                    lb=np.zeros(M + K + 1), ub=np.ones(M + K + 1),
                    integrality=np.concatenate([np.ones(M), np.zeros(K + 1)]), n_y=M)
    reach_all = shares(np.arange(M))
    out = _solve(model1, maximize=True, const=0.0, incumbent=greedy, evaluate=min_share,
                 trivial_bound=float(reach_all.min()),
                 lp_candidates=lambda y: _top_columns(y, pe), improve=None, integral=False,
                 timer=timer)
    sel1 = out.sel if out.sel is not None else greedy
    t_star = min_share(sel1)

    # stage 2: max covered weight s.t. every share >= t_star (minus round-off)
    tie_optimal = False
    sel = sel1
    if not timer.expired():
        lb = np.zeros(M + K + 1)
        lb[-1] = max(0.0, t_star - 1e-9)
        model2 = _Model(c=np.concatenate([np.zeros(M), -d.W, [0.0]]), A=A1,
                        lo=np.concatenate(lo1), hi=np.concatenate(hi1), lb=lb,
                        ub=np.ones(M + K + 1),
                        integrality=model1.integrality, n_y=M)

        def cover_if_fair(s: np.ndarray) -> float:
            return _cover_value(d, s) if min_share(s) >= t_star - 1e-9 else -math.inf

        out2 = _solve(model2, maximize=True, const=d.const, incumbent=sel1,
                      evaluate=cover_if_fair,
                      trivial_bound=d.const + float(d.W.sum()),
                      lp_candidates=lambda y: _top_columns(y, pe), improve=None,
                      integral=_is_integral(w), timer=timer)
        if out2.sel is not None and min_share(out2.sel) >= t_star - 1e-9:
            sel = out2.sel
        tie_optimal = out2.optimal
        out.timings["lp"] += out2.timings["lp"]
        out.timings["milp"] += out2.timings["milp"]
    selected = _pad(d.cols[sel], p, free)
    details = _cover_details(A, w, fx, selected, codes, labels)
    details["tiebreak_optimal"] = bool(tie_optimal)
    objective = float(min(details["group_coverage"][labels[g]] for g in active))
    return _result("maxmin", out, selected, objective, greedy_value, timer, K, details,
                   reduce_time, greedy_time, True, M)


def _greedy_maxmin(d: _CoverData, p: int, gfix: np.ndarray, gW: np.ndarray,
                   active: np.ndarray) -> np.ndarray:
    Bc = d.B.tocsc()
    K, M = d.B.shape
    G = len(gW)
    onehot = sp.csr_matrix((np.ones(K), (np.arange(K), d.group)), shape=(K, G))
    unc = d.W.copy()
    got = gfix.astype(float).copy()
    sel: list[int] = []
    for _ in range(p):
        gain_g = np.asarray((Bc.T @ onehot.multiply(unc[:, None])).todense())
        new_min = ((got[None, active] + gain_g[:, active]) / gW[None, active]).min(axis=1)
        total = gain_g.sum(axis=1)
        if sel:
            new_min[sel] = -1.0
            total[sel] = -1.0
        j = int(np.lexsort((-np.arange(M), total, new_min))[-1])
        if total[j] <= 0:
            break
        sel.append(j)
        got += gain_g[j]
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    return np.sort(np.asarray(sel, dtype=np.int64))


# --------------------------------------------------------------------------- capacitated


def maximize_capacitated_coverage(coverage: Any, weights: Any, capacity: Any, p: int,
                                  fixed: Iterable[int] = (),
                                  time_limit_s: float | None = None) -> SitingResult:
    """Capacitated MCLP: maximise people both within reach and within capacity.

    Each demand row's people (``weights``) may be split over the open columns that cover it;
    column ``j`` serves at most ``capacity[j]`` people. Maximises the people assigned::

        max sum x_ij  s.t.  sum_j x_ij <= w_i,  sum_i x_ij <= capacity_j * y_j,
                            x_ij >= 0 only where coverage[i, j],  sum_{j free} y_j = p,
                            y_j = 1 for fixed j.

    Parameters
    ----------
    coverage, weights, p, fixed, time_limit_s
        As in :func:`maximize_coverage`.
    capacity : array-like, one per column
        Seats (people) per column, >= 0; ``inf`` means uncapacitated. Required for fixed
        columns too.

    Returns
    -------
    SitingResult
        ``objective`` is the people assigned; ``details["assigned"]`` a sparse demand x
        column matrix of people assigned (a merged row's flow is split over its original
        rows in proportion to their weights), ``"served"`` people served per row,
        ``"column_load"`` per column, ``"in_reach_weight"`` people within reach of an open
        column.
    """
    timer, A, w, fx = _coverage_inputs(coverage, weights, fixed, time_limit_s)
    n, m = A.shape
    p = _check_p(p, m, fx)
    cap = _as_capacity(capacity, m)
    free = np.setdiff1d(np.arange(m), fx)

    t = time.perf_counter()
    reach = (A @ np.ones(m)) > 0
    rows = np.flatnonzero(reach & (w > 0))
    Ak = sp.csr_matrix(A[rows], dtype=np.float64)
    Ak.sort_indices()
    first, inv = _group_rows(Ak)
    B = sp.csr_matrix(Ak[first])
    W = np.bincount(inv, weights=w[rows], minlength=len(first))
    K = B.shape[0]
    colw = B.T @ W
    capeff = np.minimum(cap, colw)
    is_fixed = np.zeros(m, dtype=bool)
    is_fixed[fx] = True
    # model columns: fixed ones with something to serve, free ones likewise
    mcols = np.flatnonzero((capeff > 0) & (colw > 0))
    B = sp.csr_matrix(B[:, mcols])
    M = len(mcols)
    cm = capeff[mcols]
    fixed_m = is_fixed[mcols]
    free_m = np.flatnonzero(~fixed_m)
    pe = min(p, len(free_m))
    reduce_time = time.perf_counter() - t

    def flow(open_m: np.ndarray):
        """Optimal assignment for open model columns: (value, x over B's pairs)."""
        return _transport(B, W, cm, open_m)

    def with_fixed(sel_free: np.ndarray) -> np.ndarray:
        return np.union1d(np.flatnonzero(fixed_m), sel_free)

    def evaluate(sel_free: np.ndarray) -> float:
        return flow(with_fixed(sel_free))[0]

    t = time.perf_counter()
    greedy = _greedy_capacitated(B, W, cm, fixed_m, pe)
    greedy_value = evaluate(greedy)
    greedy_time = time.perf_counter() - t

    # vars: y (M), x (nnz pairs of B)
    Bcoo = B.tocoo()
    pr, pc = Bcoo.row.astype(np.int64), Bcoo.col.astype(np.int64)
    P = len(pr)
    ar = np.arange(P)
    dem = sp.csr_matrix((np.ones(P), (pr, ar)), shape=(K, P))
    load = sp.csr_matrix((np.ones(P), (pc, ar)), shape=(M, P))
    strong = sp.csr_matrix((np.ones(P), (ar, ar)), shape=(P, P))
    ypair = sp.csr_matrix((-np.minimum(W[pr], cm[pc]), (ar, pc)), shape=(P, M))
    card = sp.csr_matrix((np.ones(len(free_m)), (np.zeros(len(free_m), int), free_m)),
                         shape=(1, M))
    A_m = sp.vstack([
        sp.hstack([sp.csr_matrix((K, M)), dem]),
        sp.hstack([-sp.diags(cm), load]),
        sp.hstack([ypair, strong]),
        sp.hstack([card, sp.csr_matrix((1, P))]),
    ], format="csr")
    lo = np.concatenate([np.full(K + M + P, -np.inf), [float(pe)]])
    hi = np.concatenate([W, np.zeros(M + P), [float(pe)]])
    lb = np.zeros(M + P)
    lb[:M][fixed_m] = 1.0
    ub = np.concatenate([np.ones(M), np.full(P, np.inf)])
    # the y of a fixed column is fixed at 1; report only free selections
    model = _Model(c=np.concatenate([np.zeros(M), -np.ones(P)]), A=A_m, lo=lo, hi=hi,
                   lb=lb, ub=ub, integrality=np.concatenate([np.ones(M), np.zeros(P)]),
                   n_y=M)

    def to_free(sel_all: np.ndarray) -> np.ndarray:
        return np.asarray([j for j in sel_all if not fixed_m[j]], dtype=np.int64)

    def lp_candidates(y: np.ndarray) -> list[np.ndarray]:
        yf = np.where(fixed_m, -np.inf, y)
        order = np.argsort(-yf, kind="stable")[:pe]
        return [np.sort(order)]

    top = np.sort(cm[free_m])[::-1][:pe].sum() if len(free_m) else 0.0
    trivial = min(float(W.sum()), float(cm[fixed_m].sum() + top))
    integral = _is_integral(w, cap[np.isfinite(cap)])
    out = _solve(model, maximize=True, const=0.0, incumbent=greedy,
                 evaluate=lambda s: evaluate(to_free(s)), trivial_bound=trivial,
                 lp_candidates=lp_candidates, improve=None, integral=integral, timer=timer,
                 lp_method="highs")
    sel_m = to_free(out.sel) if out.sel is not None else greedy
    selected = _pad(mcols[sel_m], p, free)
    value, x = flow(with_fixed(sel_m))
    # disaggregate to original rows, proportional to weight
    share = np.where(W[inv] > 0, w[rows] / W[inv], 0.0)
    xm = sp.csr_matrix((x, (pr, mcols[pc])), shape=(K, m))
    expand = sp.csr_matrix((share, (rows, inv)), shape=(n, K))
    assigned = sp.csr_matrix(expand @ xm)
    assigned.eliminate_zeros()
    open_ind = np.zeros(m)
    open_ind[fx] = 1.0
    open_ind[selected] = 1.0
    in_reach = (A @ open_ind) > 0
    details = {"assigned": assigned, "served": np.asarray(assigned.sum(axis=1)).ravel(),
               "column_load": np.asarray(assigned.sum(axis=0)).ravel(),
               "covered": in_reach, "in_reach_weight": float(w[in_reach].sum()),
               "total_weight": float(w.sum())}
    return _result("capacitated", out, selected, float(value), greedy_value, timer, K,
                   details, reduce_time, greedy_time, True, M)


def _as_capacity(capacity: Any, m: int) -> np.ndarray:
    if capacity is None:
        raise ValueError("capacity is required: one value (people) per column")
    cap = np.asarray(capacity, dtype=float)
    if cap.ndim != 1 or len(cap) != m:
        raise ValueError(f"capacity must have one value per column ({m}), got shape {cap.shape}")
    if np.isnan(cap).any():
        raise ValueError(f"capacity is missing (NaN) for columns "
                         f"{_head(np.flatnonzero(np.isnan(cap)))}; give every column a "
                         f"capacity (inf for unlimited)")
    if (cap < 0).any():
        raise ValueError(f"capacity must be >= 0; negative for columns "
                         f"{_head(np.flatnonzero(cap < 0))}")
    return cap


def _transport(B: sp.csr_matrix, W: np.ndarray, cap: np.ndarray, open_m: np.ndarray
               ) -> tuple[float, np.ndarray]:
    """Max people assigned with columns ``open_m`` open; flow over all pairs of B."""
    Bcoo = B.tocoo()
    P = Bcoo.nnz
    x = np.zeros(P)
    if len(open_m) == 0 or P == 0:
        return 0.0, x
    is_open = np.zeros(B.shape[1], dtype=bool)
    is_open[open_m] = True
    use = np.flatnonzero(is_open[Bcoo.col])
    if len(use) == 0:
        return 0.0, x
    r, c = Bcoo.row[use], Bcoo.col[use]
    # only rows and columns touched
    ur, ri = np.unique(r, return_inverse=True)
    uc, ci = np.unique(c, return_inverse=True)
    Q = len(use)
    A_ub = sp.vstack([sp.csr_matrix((np.ones(Q), (ri, np.arange(Q))), shape=(len(ur), Q)),
                      sp.csr_matrix((np.ones(Q), (ci, np.arange(Q))), shape=(len(uc), Q))],
                     format="csr")
    b_ub = np.concatenate([W[ur], cap[uc]])
    res = linprog(-np.ones(Q), A_ub=A_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"assignment LP failed: {res.message}")
    x[use] = np.clip(res.x, 0.0, None)
    return float(x.sum()), x


def _greedy_capacitated(B: sp.csr_matrix, W: np.ndarray, cap: np.ndarray,
                        fixed_m: np.ndarray, p: int) -> np.ndarray:
    """Greedy: open the column that can serve most unserved people, then fill it."""
    Bc = B.tocsc()
    rest = W.copy()
    capleft = cap.copy()

    def fill(j: int) -> None:
        rows = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
        if len(rows) == 0:
            return
        take = rest[rows]
        cum = np.cumsum(take)
        served = np.clip(capleft[j] - (cum - take), 0.0, take)
        rest[rows] -= served
        capleft[j] -= served.sum()

    for j in np.flatnonzero(fixed_m):
        fill(int(j))
    chosen: list[int] = []
    is_free = ~fixed_m
    for _ in range(p):
        gain = np.minimum(Bc.T @ rest, capleft)
        gain[~is_free] = -1.0
        if chosen:
            gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] < 0:
            break
        chosen.append(j)
        fill(j)
    return np.sort(np.asarray(chosen, dtype=np.int64))


# --------------------------------------------------------------------------- p-median


def p_median(cost: Any, weights: Any, p: int, fixed: Iterable[int] = (),
             time_limit_s: float | None = None, max_cost: float | None = None
             ) -> SitingResult:
    """p-median: minimise total weighted cost to the nearest open column.

    Parameters
    ----------
    cost : array-like or scipy.sparse, demand x column, >= 0
        Dense: every pair is allowed (``inf`` marks a pair that is not). Sparse: only stored
        pairs are allowed; an explicit stored zero is a real pair at cost 0.
    weights, p, fixed, time_limit_s
        As in :func:`maximize_coverage`.
    max_cost : float, optional
        Cost of leaving a row unassigned (a dummy "unassigned" option always open). A row
        is then charged ``min(max_cost, cost to its nearest open column)``. Without it,
        every row that has an allowed pair must be assigned to an open column; if no
        selection of ``p`` columns can do that, :class:`InfeasibleError` is raised.

    Returns
    -------
    SitingResult
        ``objective`` is the total weighted cost (rows left unassigned count ``max_cost``);
        ``details`` has ``"mean_cost"`` (objective over the weight it covers),
        ``"assigned"`` (sparse demand x column, people assigned to their nearest open
        column; ties to the lowest column index), ``"row_cost"``, ``"unassigned"`` (rows
        left on the dummy option), ``"unassigned_weight"``, and ``"unassignable_weight"``
        (weight of rows with no allowed pair at all, excluded from the objective).
    """
    timer = _Timer(_check_time_limit(time_limit_s))
    r, c, v, n, m = _as_cost(cost)
    w = _as_weights(weights, n)
    fx = _as_fixed(fixed, m)
    p = _check_p(p, m, fx)
    if max_cost is not None:
        max_cost = float(max_cost)
        if not (max_cost >= 0 and math.isfinite(max_cost)):
            raise ValueError(f"max_cost must be a finite cost >= 0, got {max_cost}")
    free = np.setdiff1d(np.arange(m), fx)
    if p == 0 and len(fx) == 0 and max_cost is None:
        raise ValueError("p = 0 and no fixed columns: nothing would be open to assign rows to")

    t = time.perf_counter()
    is_fixed = np.zeros(m, dtype=bool)
    is_fixed[fx] = True
    has_pair = np.bincount(r, minlength=n) > 0
    cap = np.full(n, np.inf if max_cost is None else max_cost)
    fmask = is_fixed[c]
    if fmask.any():
        np.minimum.at(cap, r[fmask], v[fmask])
    unassignable = ~has_pair
    keep_e = ~fmask & (v < cap[r]) & (w[r] > 0)
    # rows in the model: positive weight, some free pair below their cap
    in_model = np.bincount(r[keep_e], minlength=n) > 0
    const_rows = (w > 0) & ~in_model & ~unassignable & np.isfinite(cap)
    const = float((w[const_rows] * cap[const_rows]).sum())
    rows = np.flatnonzero(in_model)
    pos = np.full(n, -1)
    pos[rows] = np.arange(len(rows))
    er, ec, ev = pos[r[keep_e]], c[keep_e], v[keep_e]
    used = np.unique(ec)
    cpos = np.full(m, -1)
    cpos[used] = np.arange(len(used))
    T = sp.csr_matrix((ev, (er, cpos[ec])), shape=(len(rows), len(used)))
    T.sort_indices()
    # csr_matrix drops nothing here (no duplicates); explicit zeros stay as stored entries
    first, inv = _group_rows(T, [cap[rows]])
    W = np.bincount(inv, weights=w[rows], minlength=len(first))
    U = cap[rows][first]
    Tk = _take_rows(T, first)
    K, M = Tk.shape
    cols = used
    reduce_time = time.perf_counter() - t

    kr = np.repeat(np.arange(K), np.diff(Tk.indptr))
    kc, kv = Tk.indices.astype(np.int64), Tk.data

    def row_costs(sel: np.ndarray) -> np.ndarray:
        cur = U.copy()
        if len(sel):
            on = np.zeros(M, dtype=bool)
            on[sel] = True
            mk = on[kc]
            np.minimum.at(cur, kr[mk], kv[mk])
        return cur

    def evaluate(sel: np.ndarray) -> float:
        cur = row_costs(sel)
        if not np.isfinite(cur).all():
            return math.inf
        return const + float(W @ cur)

    t = time.perf_counter()
    greedy = _greedy_pmedian(kr, kc, kv, W, U, M, min(p, M))
    greedy_value = evaluate(greedy)
    greedy_time = time.perf_counter() - t

    # radius formulation: levels = distinct costs per row, sorted
    order = np.lexsort((kc, kv, kr))
    sr, sc, sv = kr[order], kc[order], kv[order]
    new_level = np.ones(len(sr), dtype=bool)
    new_level[1:] = (sr[1:] != sr[:-1]) | (sv[1:] != sv[:-1])
    lvl = np.cumsum(new_level) - 1
    L = int(lvl[-1] + 1) if len(lvl) else 0
    lstart = np.flatnonzero(new_level)
    l_row, l_cost = sr[lstart], sv[lstart]
    first_of_row = np.ones(L, dtype=bool)
    first_of_row[1:] = l_row[1:] != l_row[:-1]
    last_of_row = np.ones(L, dtype=bool)
    last_of_row[:-1] = l_row[1:] != l_row[:-1]
    nxt = np.empty(L)
    nxt[:-1] = l_cost[1:]
    nxt[last_of_row] = U[l_row[last_of_row]]
    hard = last_of_row & ~np.isfinite(nxt)
    step = np.where(hard, 0.0, nxt - l_cost)
    const_lp = const + float((W[l_row[first_of_row]] * l_cost[first_of_row]).sum())
    # rows: z_l - z_{l-1} + sum_{j at level l} y_j >= [l first]
    li = np.arange(L)
    prev = li[~first_of_row]
    A_y = sp.csr_matrix((np.ones(len(lvl)), (lvl, sc)), shape=(L, M))
    A_z = sp.csr_matrix((np.concatenate([np.ones(L), -np.ones(len(prev))]),
                         (np.concatenate([li, prev]), np.concatenate([li, prev - 1]))),
                        shape=(L, L))
    card = sp.hstack([sp.csr_matrix(np.ones((1, M))), sp.csr_matrix((1, L))])
    pe = min(p, M)
    A_m = sp.vstack([sp.hstack([A_y, A_z]), card], format="csr")
    lo = np.concatenate([first_of_row.astype(float), [-np.inf]])
    hi = np.concatenate([np.full(L, np.inf), [float(pe)]])
    ub_z = np.where(hard, 0.0, 1.0)
    model = _Model(c=np.concatenate([np.zeros(M), W[l_row] * step]), A=A_m, lo=lo, hi=hi,
                   lb=np.zeros(M + L), ub=np.concatenate([np.ones(M), ub_z]),
                   integrality=np.concatenate([np.ones(M), np.zeros(L)]), n_y=M)

    base = U.copy()
    if K:
        np.minimum.at(base, kr, kv)
    trivial = const + float(W @ np.where(np.isfinite(base), base, 0.0))
    integral = _is_integral(w, v) and (max_cost is None or float(max_cost).is_integer())
    out = _solve(model, maximize=False, const=const_lp, incumbent=greedy,
                 evaluate=evaluate, trivial_bound=trivial,
                 lp_candidates=lambda y: _top_columns(y, pe), improve=None,
                 integral=integral, timer=timer, use_lp=False)
    if out.infeasible or out.sel is None or not math.isfinite(out.value):
        if out.infeasible or out.optimal:
            hard_rows = rows[~np.isfinite(U[inv])]
            raise InfeasibleError(
                f"p = {p} new sites cannot give every demand row an allowed open column "
                f"(rows with no fixed column in reach: {_head(hard_rows)}); pass max_cost "
                f"to let rows stay unassigned at a penalty, or raise p",
                model="pmedian", uncoverable=hard_rows)
        raise RuntimeError(f"p_median found no feasible selection within time_limit_s = "
                           f"{time_limit_s}; raise the limit or pass max_cost")
    selected = _pad(cols[out.sel], p, free)
    det, objective = _pmedian_details(r, c, v, n, m, w, fx, selected, max_cost, unassignable)
    return _result("pmedian", out, selected, objective, greedy_value, timer, K, det,
                   reduce_time, greedy_time, False, M)


def _as_cost(cost: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Cost matrix as (row, col, value) triplets of the allowed pairs."""
    if sp.issparse(cost):
        coo = sp.coo_matrix(cost)
        n, m = coo.shape
        r, c = coo.row.astype(np.int64), coo.col.astype(np.int64)
        v = np.asarray(coo.data, dtype=float)
        key = r * m + c
        if len(np.unique(key)) != len(key):
            raise ValueError("cost has duplicate stored entries for the same (row, column) "
                             "pair; sum_duplicates() would add them, so keep one per pair")
        ok = ~np.isinf(v)
        r, c, v = r[ok], c[ok], v[ok]
    else:
        arr = np.asarray(cost, dtype=float)
        if arr.ndim != 2:
            raise ValueError(f"cost must be a 2-D demand x column matrix, got {arr.ndim}-D")
        n, m = arr.shape
        r, c = np.nonzero(~np.isinf(arr))
        v = arr[r, c]
        r, c = r.astype(np.int64), c.astype(np.int64)
    if np.isnan(v).any():
        raise ValueError("cost holds NaN; use inf (dense) or leave the pair out (sparse) for "
                         "pairs that are not allowed")
    if (v < 0).any():
        raise ValueError("cost must be >= 0")
    return r, c, v, n, m


def _take_rows(T: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """Row subset keeping explicit zeros (stored entries)."""
    lens = np.diff(T.indptr)[rows]
    indptr = np.concatenate([[0], np.cumsum(lens)])
    src = np.repeat(T.indptr[rows], lens) + (np.arange(indptr[-1]) - np.repeat(indptr[:-1],
                                                                               lens))
    return sp.csr_matrix((T.data[src], T.indices[src], indptr), shape=(len(rows), T.shape[1]))


def _greedy_pmedian(kr: np.ndarray, kc: np.ndarray, kv: np.ndarray, W: np.ndarray,
                    U: np.ndarray, M: int, p: int) -> np.ndarray:
    """Greedy add: first serve rows that must be assigned, then cut the most cost."""
    cur = U.copy()
    sel: list[int] = []
    for _ in range(p):
        inf_row = ~np.isfinite(cur)
        better = kv < cur[kr]
        g_inf = np.bincount(kc, weights=np.where(better & inf_row[kr], W[kr], 0.0),
                            minlength=M)
        fin = better & ~inf_row[kr]
        g = np.bincount(kc[fin], weights=W[kr[fin]] * (cur[kr[fin]] - kv[fin]), minlength=M)
        if sel:
            g_inf[sel] = -1.0
            g[sel] = -1.0
        j = int(np.lexsort((-np.arange(M), g, g_inf))[-1])
        if g_inf[j] <= 0 and g[j] <= 0:
            break
        sel.append(j)
        mk = kc == j
        np.minimum.at(cur, kr[mk], kv[mk])
    return np.sort(np.asarray(sel, dtype=np.int64))


def _pmedian_details(r, c, v, n, m, w, fx, selected, max_cost, unassignable):
    open_ind = np.zeros(m, dtype=bool)
    open_ind[fx] = True
    open_ind[selected] = True
    mk = open_ind[c]
    orr, occ, ovv = r[mk], c[mk], v[mk]
    order = np.lexsort((occ, ovv, orr))
    orr, occ, ovv = orr[order], occ[order], ovv[order]
    firsts = np.ones(len(orr), dtype=bool)
    firsts[1:] = orr[1:] != orr[:-1]
    best_col = np.full(n, -1)
    best_cost = np.full(n, np.inf)
    best_col[orr[firsts]] = occ[firsts]
    best_cost[orr[firsts]] = ovv[firsts]
    row_cost = best_cost.copy()
    if max_cost is not None:
        dummy = best_cost > max_cost
        row_cost = np.where(dummy, max_cost, best_cost)
        best_col[dummy] = -1
    counted = ~unassignable
    unassigned = counted & (best_col < 0)
    if max_cost is None and (unassigned & (w > 0)).any():
        raise RuntimeError("internal: selection leaves assignable rows without an open column")
    ok = best_col >= 0
    assigned = sp.csr_matrix((w[ok], (np.flatnonzero(ok), best_col[ok])), shape=(n, m))
    assigned.eliminate_zeros()
    wc = w[counted]
    objective = float((wc * np.where(w[counted] > 0, row_cost[counted], 0.0)).sum())
    tw = float(wc.sum())
    det = {"assigned": assigned, "row_cost": np.where(counted, row_cost, np.nan),
           "mean_cost": objective / tw if tw > 0 else math.nan,
           "unassigned": np.flatnonzero(unassigned),
           "unassigned_weight": float(w[unassigned].sum()),
           "unassignable_weight": float(w[unassignable].sum()),
           "total_weight": float(w.sum())}
    return det, objective
