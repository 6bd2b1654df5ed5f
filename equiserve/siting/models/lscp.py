"""LSCP: the fewest new sites that cover a target share of the weight."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from equiserve.siting.models.checks import _coverage_inputs, _head
from equiserve.siting.models.greedy import _greedy_until, _prune
from equiserve.siting.models.mclp import _cover_details, _cover_value
from equiserve.siting.models.problem import LocationModel, SitingProblem
from equiserve.siting.models.reduce import _reduce_cover
from equiserve.siting.models.result import InfeasibleError, SitingResult
from equiserve.siting.models.solve import _Model, _result, _solve


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


def _solve_problem(problem: SitingProblem, count: int | None, target: float,
                   time_limit_s: float | None) -> SitingResult:
    return minimize_facilities(problem.coverage, problem.weights, target=target,
                               fixed=problem.fixed, time_limit_s=time_limit_s)


MODEL = LocationModel(name="lscp", objective_text="people within the standard",
                      needs_count=False, needs_capacity=False, reach_factor=1.0, maximize=False,
                      solve=_solve_problem)
