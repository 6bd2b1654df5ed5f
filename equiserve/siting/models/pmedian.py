"""p-median: minimise the total weighted cost from each demand row to its nearest open site."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from equiserve.siting.models.checks import (
    _as_cost,
    _as_fixed,
    _as_weights,
    _check_p,
    _check_time_limit,
    _head,
)
from equiserve.siting.models.greedy import _greedy_pmedian
from equiserve.siting.models.problem import LocationModel, SitingProblem, required
from equiserve.siting.models.reduce import _group_rows, _take_rows
from equiserve.siting.models.result import InfeasibleError, SitingResult
from equiserve.siting.models.solve import (
    _is_integral,
    _Model,
    _pad,
    _result,
    _solve,
    _Timer,
    _top_columns,
)


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


def _pmedian_details(r: np.ndarray, c: np.ndarray, v: np.ndarray, n: int, m: int,
                     w: np.ndarray, fx: np.ndarray, selected: np.ndarray,
                     max_cost: float | None, unassignable: np.ndarray
                     ) -> tuple[dict[str, Any], float]:
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


#: p-median costs are needed up to this many times the standard; farther = unassigned.
REACH_FACTOR = 4.0


def _solve_problem(problem: SitingProblem, count: int | None, target: float,
                   time_limit_s: float | None) -> SitingResult:
    return p_median(required(problem.cost, "cost", "pmedian"), problem.weights,
                    required(count, "count", "pmedian"), fixed=problem.fixed,
                    time_limit_s=time_limit_s, max_cost=problem.max_cost)


MODEL = LocationModel(name="pmedian", objective_text="total people × distance to the nearest site",
                      needs_count=True, needs_capacity=False, reach_factor=REACH_FACTOR,
                      maximize=False, solve=_solve_problem)
