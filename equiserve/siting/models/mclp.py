"""MCLP: maximal covering with ``p`` new sites, optionally with equity floors per group.

Also the coverage-model pieces LSCP and max-min build on: a selection's covered weight on
the collapsed model, the MCLP rows, and the per-row details of a selection.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from equiserve.siting.models.checks import _as_groups, _check_p, _coverage_inputs
from equiserve.siting.models.greedy import _greedy_cover, _greedy_floor, _swap_search
from equiserve.siting.models.problem import LocationModel, SitingProblem, required
from equiserve.siting.models.reduce import _CoverData, _reduce_cover
from equiserve.siting.models.result import InfeasibleError, SitingResult
from equiserve.siting.models.solve import _is_integral, _Model, _pad, _result, _solve, _top_columns


def _cover_value(d: _CoverData, sel: np.ndarray) -> float:
    if len(sel) == 0:
        return d.const
    hit = (d.B[:, sel] @ np.ones(len(sel))) > 0
    return d.const + float(d.W[hit].sum())


def _cover_model(d: _CoverData, p: int,
                 extra_rows: list[tuple[sp.csr_matrix, np.ndarray, np.ndarray]] | None = None,
                 extra_vars: int = 0
                 ) -> tuple[sp.csr_matrix, list[npt.ArrayLike], list[npt.ArrayLike]]:
    """Rows ``z_k - sum_j B_kj y_j <= 0`` and ``sum_j y_j <= p`` over vars [y, z, extra]."""
    K, M = d.B.shape
    Z = sp.csr_matrix((K, extra_vars)) if extra_vars else None
    link = sp.hstack([-d.B, sp.eye(K, format="csr")] + ([Z] if Z is not None else []))
    card = sp.hstack([sp.csr_matrix(np.ones((1, M))), sp.csr_matrix((1, K + extra_vars))])
    blocks = [link, card]
    lo: list[npt.ArrayLike] = [np.full(K, -np.inf), [-np.inf]]
    hi: list[npt.ArrayLike] = [np.zeros(K), [float(p)]]
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
    codes: np.ndarray | None = None
    labels: list[Hashable] = []
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

    need = np.zeros(0)   # per group: weight still to cover to meet its floor
    if floors:
        assert codes is not None   # floors come with groups
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
        floor_greedy = _greedy_floor(d, pe, need)
        g_ok = floor_greedy is not None
        greedy = floor_greedy if floor_greedy is not None else _greedy_cover(d, pe)
    else:
        greedy = _greedy_cover(d, pe)
        g_ok = True
    greedy_value = _cover_value(d, greedy)
    incumbent = greedy
    if not floors:
        incumbent = _swap_search(d, greedy, timer)
    greedy_time = time.perf_counter() - t

    extra = None
    group = d.group
    if floors:
        assert group is not None
        rowsel = np.flatnonzero(need > 0)
        in_rows = np.isin(group, rowsel)
        Gm = sp.csr_matrix((d.W[in_rows], (np.searchsorted(rowsel, group[in_rows]),
                                           np.flatnonzero(in_rows))), shape=(len(rowsel), K))
        extra = [(sp.hstack([sp.csr_matrix((len(rowsel), M)), Gm], format="csr"),
                  need[rowsel], np.full(len(rowsel), np.inf))]
    A_m, lo, hi = _cover_model(d, pe, extra)
    model = _Model(c=np.concatenate([np.zeros(M), -d.W]), A=A_m, lo=np.concatenate(lo),
                   hi=np.concatenate(hi), lb=np.zeros(M + K), ub=np.ones(M + K),
                   integrality=np.concatenate([np.ones(M), np.zeros(K)]), n_y=M)

    def feasible(sel: np.ndarray) -> bool:
        if group is None:   # no floors
            return True
        hit = (d.B[:, sel] @ np.ones(len(sel))) > 0 if len(sel) else np.zeros(K, bool)
        got = np.bincount(group, weights=d.W * hit, minlength=len(labels))
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
        assert codes is not None
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


def _check_floors(group_floor: Mapping[Hashable, float], labels: list[Hashable]
                  ) -> dict[int, float]:
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


def _precheck_floors(A: sp.csr_matrix, w: np.ndarray, codes: np.ndarray, labels: list[Hashable],
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


def _raise_floor_infeasible(A: sp.csr_matrix, w: np.ndarray, codes: np.ndarray,
                            labels: list[Hashable], floors: dict[int, float], fx: np.ndarray,
                            p: int, gW: np.ndarray) -> NoReturn:
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
                   codes: np.ndarray | None, labels: list[Hashable] | None) -> dict[str, Any]:
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
    if codes is not None and labels is not None:
        det["group_coverage"] = _group_shares(w, covered, codes, labels)
    return det


def _group_shares(w: np.ndarray, covered: np.ndarray, codes: np.ndarray,
                  labels: list[Hashable]) -> dict[Hashable, float]:
    G = len(labels)
    tot = np.bincount(codes, weights=w, minlength=G)
    cov = np.bincount(codes, weights=w * covered, minlength=G)
    return {labels[g]: (float(cov[g] / tot[g]) if tot[g] > 0 else math.nan) for g in range(G)}


def _solve_problem(problem: SitingProblem, count: int | None, target: float,
                   time_limit_s: float | None) -> SitingResult:
    return maximize_coverage(problem.coverage, problem.weights, required(count, "count", "mclp"),
                             fixed=problem.fixed, time_limit_s=time_limit_s)


MODEL = LocationModel(name="mclp", objective_text="people within the standard",
                      needs_count=True, needs_capacity=False, reach_factor=1.0, maximize=True,
                      solve=_solve_problem)
