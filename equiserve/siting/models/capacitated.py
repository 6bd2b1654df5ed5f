"""Capacitated MCLP: maximise the people who have a place within the standard."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from equiserve.siting.models.checks import _as_capacity, _check_p, _coverage_inputs
from equiserve.siting.models.greedy import _greedy_capacitated
from equiserve.siting.models.problem import LocationModel, SitingProblem, required
from equiserve.siting.models.reduce import _group_rows
from equiserve.siting.models.result import SitingResult
from equiserve.siting.models.solve import _is_integral, _Model, _pad, _result, _solve


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

    def flow(open_m: np.ndarray) -> tuple[float, np.ndarray]:
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


def _solve_problem(problem: SitingProblem, count: int | None, target: float,
                   time_limit_s: float | None) -> SitingResult:
    return maximize_capacitated_coverage(problem.coverage, problem.weights, problem.capacity,
                                         required(count, "count", "capacitated"),
                                         fixed=problem.fixed, time_limit_s=time_limit_s)


MODEL = LocationModel(name="capacitated", objective_text="people with a place within the standard",
                      needs_count=True, needs_capacity=True, reach_factor=1.0, maximize=True,
                      solve=_solve_problem)
