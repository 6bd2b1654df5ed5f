"""Max-min equity: maximise the worst group's covered share, ties to the most covered."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from equiserve.siting.models.checks import _as_groups, _check_p, _coverage_inputs
from equiserve.siting.models.greedy import _greedy_maxmin
from equiserve.siting.models.mclp import _cover_details, _cover_model, _cover_value
from equiserve.siting.models.problem import LocationModel, SitingProblem, required
from equiserve.siting.models.reduce import _reduce_cover
from equiserve.siting.models.result import SitingResult
from equiserve.siting.models.solve import _is_integral, _Model, _pad, _result, _solve, _top_columns


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
    group = d.group
    assert group is not None   # reduced with groups
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
        got = gfix + np.bincount(group, weights=d.W * hit, minlength=G)
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
    Gm = sp.csr_matrix((d.W / gW[group], (pos[group], np.arange(K))), shape=(A_act, K))
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


def _solve_problem(problem: SitingProblem, count: int | None, target: float,
                   time_limit_s: float | None) -> SitingResult:
    return maximize_min_coverage(problem.coverage, problem.weights, problem.groups,
                                 required(count, "count", "maxmin"), fixed=problem.fixed,
                                 time_limit_s=time_limit_s)


MODEL = LocationModel(name="maxmin", objective_text="worst group's coverage",
                      needs_count=True, needs_capacity=False, reach_factor=1.0, maximize=True,
                      solve=_solve_problem, objective_is_share=True)
