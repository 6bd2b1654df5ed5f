"""Closing the gap: the LP relaxation and HiGHS MILP behind every model (steps 4 and 5 of
:mod:`equiserve.siting.models`), the time budget, gaps and bounds, and the result builder."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, linprog, milp

from equiserve.siting.models.result import ModelName, SitingResult

#: relative gap HiGHS branch and bound is asked to close
MIP_REL_GAP = 1e-7
#: relative gap at or below which a solution is reported as proven optimal
OPTIMALITY_TOL = 1e-6
#: least time left (s) to start the LP relaxation / branch and bound under a time limit
_MIN_LP_TIME = 0.1
_MIN_MILP_TIME = 0.05

#: how optimality was proven: the trivial bound, the LP relaxation, or branch and bound
Proof = Literal["trivial", "lp", "milp"]
#: scipy's HiGHS methods for the LP relaxation
LPMethod = Literal["highs", "highs-ipm", "highs-ds"]


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
    proof: Proof | None
    lp_bound: float | None
    infeasible: bool
    timings: dict[str, float]


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


def _run_lp(model: _Model, time_limit: float | None, method: LPMethod = "highs-ipm"
            ) -> OptimizeResult:
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


def _run_milp(model: _Model, time_limit: float | None) -> OptimizeResult:
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
           timer: _Timer, use_lp: bool = True, lp_method: LPMethod = "highs-ipm") -> _Outcome:
    """Close the gap between an incumbent and a bound: LP relaxation, then MILP.

    HiGHS checks its time limit between phases: limits under about 0.1 s are not honoured
    by its interior-point solver, so the LP is skipped with less than ``_MIN_LP_TIME``
    left and branch and bound with less than ``_MIN_MILP_TIME``.
    """
    sign = -1.0 if maximize else 1.0   # model value = const + sign * (c @ x)
    timings: dict[str, float] = {"lp": 0.0, "milp": 0.0}
    best_sel = incumbent
    best = evaluate(incumbent) if incumbent is not None else (-math.inf if maximize
                                                               else math.inf)
    bound = _round_bound(trivial_bound, maximize, integral)
    proof: Proof | None = "trivial"
    lp_bound: float | None = None

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


def _result(model: ModelName, out: _Outcome, selected: np.ndarray, objective: float,
            greedy_objective: float, timer: _Timer, rows: int, details: dict[str, Any],
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
