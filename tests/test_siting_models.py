"""Location models (equiserve.siting.models) against independent solutions.

* MCLP, LSCP and p-median: PySAL spopt (PuLP + CBC) on the same random instances; the
  optimal objective values must agree to 1e-6 relative (chosen sets may differ by ties).
* Capacitated coverage, max-min, equity floors, partial LSCP, sparse p-median with
  max_cost: brute-force enumeration of every p-subset (the capacitated assignment of each
  subset solved with ``scipy.optimize.linprog`` on the uncollapsed pairs).
* Collapsing, fixed columns, infeasibility, time limits and input validation.

spopt is a dev dependency: without it the spopt tests are skipped, except on CI
(``CI=true``) where they fail.
"""

from __future__ import annotations

import itertools
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from equiserve.siting import (
    InfeasibleError,
    SitingResult,
    maximize_capacitated_coverage,
    maximize_coverage,
    maximize_min_coverage,
    minimize_facilities,
    p_median,
)
from equiserve.siting.models.reduce import _group_rows

REL = 1e-6


# --------------------------------------------------------------------------- helpers


def _spopt():
    try:
        import pulp
        from spopt.locate import LSCP, MCLP, PMedian
    except ImportError as exc:
        msg = f"spopt (PySAL) is not importable ({exc}); pip install spopt"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    if _cbc(pulp) is None:
        msg = "no CBC solver for pulp (pulp 4 needs: pip install 'pulp[cbc]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return pulp, MCLP, LSCP, PMedian


def _cbc(pulp):
    """CBC through pulp: bundled PULP_CBC_CMD (pulp < 4) or COIN_CMD (pulp[cbc])."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("PULP_CBC_CMD", "COIN_CMD"):
            cls = getattr(pulp, name, None)
            if cls is not None:
                solver = cls(msg=False)
                if solver.available():
                    return solver
    return None


def _solve_spopt(build, pulp):
    """Build an spopt model (``build()``), solve it with CBC, return its objective."""
    with warnings.catch_warnings():   # pulp 3.x deprecation notices, one per variable
        warnings.simplefilter("ignore")
        model = build()
        model.solve(_cbc(pulp))
    return float(pulp.value(model.problem.objective))


def instance(seed: int, n: int = 300, m: int = 40, side: float = 10.0):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, side, (n, 2))
    sites = rng.uniform(0, side, (m, 2))
    dist = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    weights = rng.integers(1, 100, n).astype(float)
    return dist, weights, demand


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


def covered_weight(cov: np.ndarray, w: np.ndarray, open_cols) -> float:
    open_cols = list(open_cols)
    if not open_cols:
        return 0.0
    return float(w[cov[:, open_cols].any(axis=1)].sum())


def brute_mclp(cov, w, p, fixed=()):
    free = [j for j in range(cov.shape[1]) if j not in set(fixed)]
    return max(covered_weight(cov, w, list(fixed) + list(s))
               for s in itertools.combinations(free, p))


def assignment_lp(cov, w, cap, open_cols) -> float:
    """People assigned with open_cols open: transportation LP over the raw (i, j) pairs."""
    pairs = [(i, j) for j in open_cols for i in np.flatnonzero(cov[:, j])]
    if not pairs:
        return 0.0
    n = cov.shape[0]
    rows_i = np.array([i for i, _ in pairs])
    cols_j = np.array([j for _, j in pairs])
    A = np.zeros((n + len(open_cols), len(pairs)))
    A[rows_i, np.arange(len(pairs))] = 1.0
    pos = {j: k for k, j in enumerate(open_cols)}
    A[n + np.array([pos[j] for j in cols_j]), np.arange(len(pairs))] = 1.0
    b = np.concatenate([w, [cap[j] for j in open_cols]])
    res = linprog(-np.ones(len(pairs)), A_ub=A, b_ub=b, bounds=(0, None), method="highs")
    assert res.status == 0
    return -res.fun


def shares(cov, w, groups, open_cols):
    hit = cov[:, list(open_cols)].any(axis=1) if len(open_cols) else np.zeros(len(w), bool)
    out = {}
    for g in np.unique(groups):
        mk = groups == g
        if w[mk].sum() > 0:
            out[g] = w[mk & hit].sum() / w[mk].sum()
    return out


# --------------------------------------------------------------------------- spopt


@pytest.mark.parametrize("seed,p,radius", [(1, 5, 2.0), (2, 8, 1.5), (3, 3, 2.5)])
def test_mclp_matches_spopt(seed, p, radius):
    pulp, MCLP, _, _ = _spopt()
    dist, w, _ = instance(seed)
    expected = _solve_spopt(lambda: MCLP.from_cost_matrix(dist, w, radius, p_facilities=p),
                            pulp)
    res = maximize_coverage(dist <= radius, w, p)
    assert isinstance(res, SitingResult) and res.model == "mclp"
    assert close(res.objective, expected)
    assert res.optimal and res.gap == 0.0
    assert len(res.selected) == p
    assert close(covered_weight(dist <= radius, w, res.selected), res.objective)
    assert res.bound >= res.objective - 1e-9
    assert res.greedy_objective <= res.objective + 1e-9


@pytest.mark.parametrize("seed,fixed", [(4, [0, 7, 19]), (5, [3])])
def test_mclp_fixed_matches_spopt(seed, fixed):
    pulp, MCLP, _, _ = _spopt()
    dist, w, _ = instance(seed)
    p, radius = 4, 1.8
    pre = np.zeros(dist.shape[1], dtype=int)
    pre[fixed] = 1
    expected = _solve_spopt(lambda: MCLP.from_cost_matrix(
        dist, w, radius, p_facilities=p + len(fixed), predefined_facilities_arr=pre), pulp)
    res = maximize_coverage(dist <= radius, w, p, fixed=fixed)
    assert close(res.objective, expected)
    assert res.optimal
    assert len(res.selected) == p and not set(res.selected) & set(fixed)
    assert close(covered_weight(dist <= radius, w, list(fixed) + list(res.selected)),
                 res.objective)


@pytest.mark.parametrize("seed,fixed", [(6, []), (7, [2, 11])])
def test_lscp_matches_spopt(seed, fixed):
    pulp, _, LSCP, _ = _spopt()
    dist, w, _ = instance(seed)
    radius = 3.0
    # spopt needs every demand point coverable
    assert (dist <= radius).any(axis=1).all()
    kwargs = {}
    if fixed:
        pre = np.zeros(dist.shape[1], dtype=int)
        pre[fixed] = 1
        kwargs["predefined_facilities_arr"] = pre
    expected = _solve_spopt(lambda: LSCP.from_cost_matrix(dist, radius, **kwargs), pulp)
    res = minimize_facilities(dist <= radius, w, target=1.0, fixed=fixed)
    assert res.model == "lscp"
    assert res.objective + len(fixed) == pytest.approx(expected)
    assert res.optimal
    assert len(res.selected) == res.objective
    assert (dist[:, list(res.selected) + fixed] <= radius).any(axis=1).all()


@pytest.mark.parametrize("seed,p,fixed", [(8, 5, []), (9, 3, [1, 25]), (10, 10, [])])
def test_pmedian_matches_spopt(seed, p, fixed):
    pulp, _, _, PMedian = _spopt()
    dist, w, _ = instance(seed, n=200, m=30)
    kwargs = {}
    if fixed:
        pre = np.zeros(dist.shape[1], dtype=int)
        pre[fixed] = 1
        kwargs["predefined_facilities_arr"] = pre
    expected = _solve_spopt(lambda: PMedian.from_cost_matrix(
        dist, w, p_facilities=p + len(fixed), **kwargs), pulp)
    res = p_median(dist, w, p, fixed=fixed)
    assert res.model == "pmedian"
    assert close(res.objective, expected)
    assert res.optimal
    assert len(res.selected) == p and not set(res.selected) & set(fixed)
    open_cols = list(res.selected) + fixed
    assert close(float(w @ dist[:, open_cols].min(axis=1)), res.objective)
    assert res.details["mean_cost"] == pytest.approx(res.objective / w.sum())
    assigned = res.details["assigned"]
    assert sp.issparse(assigned)
    assert np.allclose(np.asarray(assigned.sum(axis=1)).ravel(), w)
    assert res.greedy_objective >= res.objective - 1e-6


def test_mclp_fractional_lp_instance_matches_spopt():
    # an instance whose LP relaxation is fractional: branch and bound has to close the gap
    pulp, MCLP, _, _ = _spopt()
    dist, w, _ = instance(35)
    p, radius = 6, 1.5
    expected = _solve_spopt(lambda: MCLP.from_cost_matrix(dist, w, radius, p_facilities=p),
                            pulp)
    res = maximize_coverage(dist <= radius, w, p)
    assert res.details["lp_bound"] > res.objective + 1
    assert close(res.objective, expected)
    assert res.optimal and res.details["proof"] == "milp"


def test_partial_lscp_against_spopt_mclp():
    # fewest sites covering 80 %: MCLP with that many reaches 80 %, with one fewer it cannot
    pulp, MCLP, _, _ = _spopt()
    dist, w, _ = instance(9)
    radius, target = 1.5, 0.8
    res = minimize_facilities(dist <= radius, w, target)
    k = int(res.objective)
    assert res.optimal and len(res.selected) == k
    best_k = _solve_spopt(lambda: MCLP.from_cost_matrix(dist, w, radius, p_facilities=k), pulp)
    best_k1 = _solve_spopt(lambda: MCLP.from_cost_matrix(dist, w, radius, p_facilities=k - 1),
                           pulp)
    assert best_k >= target * w.sum() - 1e-9 > best_k1
    assert covered_weight(dist <= radius, w, res.selected) >= target * w.sum() - 1e-9


# --------------------------------------------------------------------------- brute force


def small_instance(seed: int, n: int = 60, m: int = 12, radius: float = 2.6):
    dist, w, demand = instance(seed, n=n, m=m, side=8.0)
    return dist <= radius, w, dist, demand


@pytest.mark.parametrize("seed,p,fixed", [(11, 3, []), (12, 3, [4]), (13, 2, [0, 5])])
def test_capacitated_matches_brute_force(seed, p, fixed):
    cov, w, _, _ = small_instance(seed)
    rng = np.random.default_rng(seed + 100)
    cap = rng.integers(50, 400, cov.shape[1]).astype(float)
    free = [j for j in range(cov.shape[1]) if j not in fixed]
    expected = max(assignment_lp(cov, w, cap, fixed + list(s))
                   for s in itertools.combinations(free, p))
    res = maximize_capacitated_coverage(cov, w, cap, p, fixed=fixed)
    assert res.model == "capacitated"
    assert close(res.objective, expected)
    assert res.optimal
    assert len(res.selected) == p and not set(res.selected) & set(fixed)
    # the reported assignment is feasible and adds up to the objective
    x = res.details["assigned"].toarray()
    assert x.min() >= -1e-9
    assert np.all(x[~cov] <= 1e-9)                      # only within reach
    assert np.all(x.sum(axis=1) <= w + 1e-6)             # no more than the people there
    assert np.all(x.sum(axis=0) <= cap + 1e-6)           # within capacity
    open_cols = set(fixed) | set(res.selected)
    closed_cols = [j for j in range(cov.shape[1]) if j not in open_cols]
    assert np.all(x[:, closed_cols] <= 1e-9)
    assert close(x.sum(), res.objective)
    # and the objective is the best assignment for that set
    assert close(assignment_lp(cov, w, cap, sorted(open_cols)), res.objective)


def test_capacitated_binding_capacity_changes_choice():
    # two sites cover the same 1,000 people; site 0 has 100 seats, site 1 has 900
    cov = np.array([[True, True, False]] * 10 + [[False, False, True]] * 2)
    w = np.array([100.0] * 10 + [150.0] * 2)
    cap = np.array([100.0, 900.0, 1000.0])
    res = maximize_capacitated_coverage(cov, w, cap, 1)
    assert res.selected.tolist() == [1] and res.objective == pytest.approx(900)
    mclp = maximize_coverage(cov, w, 1)        # uncapacitated picks either of the two
    assert mclp.objective == pytest.approx(1000)
    res2 = maximize_capacitated_coverage(cov, w, cap, 1, fixed=[1])
    assert res2.selected.tolist() == [2] and res2.objective == pytest.approx(1200)


@pytest.mark.parametrize("seed,p,fixed", [(14, 3, []), (15, 3, [2]), (16, 4, [])])
def test_maxmin_matches_brute_force(seed, p, fixed):
    cov, w, _, demand = small_instance(seed)
    groups = np.where(demand[:, 0] < 3, "west", np.where(demand[:, 1] < 4, "east", "island"))
    free = [j for j in range(cov.shape[1]) if j not in fixed]
    best = None
    for s in itertools.combinations(free, p):
        sh = shares(cov, w, groups, fixed + list(s))
        key = (min(sh.values()), covered_weight(cov, w, fixed + list(s)))
        if best is None or key[0] > best[0] + 1e-12 or (abs(key[0] - best[0]) <= 1e-12
                                                       and key[1] > best[1]):
            best = key
    res = maximize_min_coverage(cov, w, groups, p, fixed=fixed)
    assert res.model == "maxmin"
    assert res.objective == pytest.approx(best[0], abs=1e-9)
    assert res.optimal
    assert res.details["covered_weight"] == pytest.approx(best[1])   # tie-break
    assert res.details["tiebreak_optimal"]
    got = shares(cov, w, groups, fixed + list(res.selected))
    assert res.details["group_coverage"] == pytest.approx(got)
    assert len(res.selected) == p


@pytest.mark.parametrize("seed", [17, 18, 19])
def test_equity_floor_matches_brute_force(seed):
    cov, w, _, demand = small_instance(seed)
    groups = np.where(demand[:, 0] < 4, "west", "east")
    p = 3
    subsets = list(itertools.combinations(range(cov.shape[1]), p))
    value = {s: covered_weight(cov, w, s) for s in subsets}
    share = {s: shares(cov, w, groups, s) for s in subsets}
    plain = max(value.values())
    # a floor that binds: above what every plain optimum gives the group, below its best
    for g in ("west", "east"):
        at_plain = max(share[s][g] for s in subsets if value[s] == plain)
        best_g = max(share[s][g] for s in subsets)
        if at_plain < best_g - 1e-9:
            floors = {g: (at_plain + best_g) / 2}
            break
    else:
        pytest.skip("no binding floor on this instance")
    expected = max(value[s] for s in subsets
                   if all(share[s][g] >= f for g, f in floors.items()))
    assert expected < plain
    res = maximize_coverage(cov, w, p, groups=groups, group_floor=floors)
    assert close(res.objective, expected)
    assert res.optimal
    assert res.details["floors_met"]
    for g, f in floors.items():
        assert res.details["group_coverage"][g] >= f - 1e-9
    assert res.details["group_coverage"] == pytest.approx(
        shares(cov, w, groups, res.selected))
    # a floor of zero changes nothing
    res0 = maximize_coverage(cov, w, p, groups=groups, group_floor={"west": 0.0})
    assert close(res0.objective, plain)


def test_equity_floor_infeasible_names_group():
    cov, w, _, demand = small_instance(19)
    groups = np.where(demand[:, 0] < 4, "west", "east")
    west_best = max(shares(cov, w, groups, s)["west"]
                    for s in itertools.combinations(range(cov.shape[1]), 1))
    with pytest.raises(InfeasibleError) as err:
        maximize_coverage(cov, w, 1, groups=groups,
                          group_floor={"west": min(1.0, west_best + 0.01), "east": 0.0})
    assert err.value.groups == ["west"]
    assert err.value.best_shares["west"] == pytest.approx(west_best)
    assert "'west'" in str(err.value)
    # a group that nothing can reach: named, with its best share with every column open
    w2 = np.append(w, 500.0)
    cov2 = np.vstack([cov, np.zeros(cov.shape[1], bool)])
    g2 = np.append(groups, "island")
    with pytest.raises(InfeasibleError, match="island") as err:
        maximize_coverage(cov2, w2, 2, groups=g2, group_floor={"island": 0.5})
    assert err.value.groups == ["island"]


@pytest.mark.parametrize("seed,target,fixed", [(20, 0.8, []), (21, 0.9, [3]),
                                               (22, 0.97, [])])
def test_partial_lscp_matches_brute_force(seed, target, fixed):
    cov, w, _, _ = small_instance(seed, radius=2.2)
    total = w.sum()
    free = [j for j in range(cov.shape[1]) if j not in fixed]
    expected = None
    for k in range(len(free) + 1):
        if any(covered_weight(cov, w, fixed + list(s)) >= target * total - 1e-9
               for s in itertools.combinations(free, k)):
            expected = k
            break
    if expected is None:
        with pytest.raises(InfeasibleError):
            minimize_facilities(cov, w, target, fixed=fixed)
        return
    res = minimize_facilities(cov, w, target, fixed=fixed)
    assert res.objective == expected and len(res.selected) == expected
    assert res.optimal
    assert covered_weight(cov, w, fixed + list(res.selected)) >= target * total - 1e-9


def test_pmedian_sparse_max_cost_matches_brute_force():
    dist, w, _ = instance(23, n=50, m=10, side=8.0)
    limit = 3.0
    keep = dist <= limit
    keep[0, :] = False                        # row 0: no pair at all -> unassignable
    cost = sp.csr_matrix(np.where(keep, dist, 0.0))
    cost.eliminate_zeros()
    # an explicit zero: row 1 has a site on its doorstep (column 4, cost 0)
    cost = sp.lil_matrix(cost)
    cost[1, 4] = 1.0
    cost = sp.csr_matrix(cost)
    cost.data[cost.indptr[1] + list(cost.indices[cost.indptr[1]:cost.indptr[2]]).index(4)] = 0.0
    assert cost[1, 4] == 0 and cost.nnz == keep.sum() + (0 if keep[1, 4] else 1)
    dense = np.full(dist.shape, np.inf)
    coo = cost.tocoo()
    dense[coo.row, coo.col] = coo.data
    max_cost = 2.5
    p, fixed = 3, [7]

    def total(open_cols):
        row = np.minimum(dense[:, open_cols].min(axis=1), max_cost)
        return float((w[1:] * row[1:]).sum())        # row 0 excluded

    expected = min(total(fixed + list(s)) for s in
                   itertools.combinations([j for j in range(10) if j not in fixed], p))
    res = p_median(cost, w, p, fixed=fixed, max_cost=max_cost)
    assert close(res.objective, expected)
    assert res.optimal
    assert res.details["unassignable_weight"] == pytest.approx(w[0])
    open_cols = fixed + list(res.selected)
    row = dense[:, open_cols].min(axis=1)
    left = np.flatnonzero(row[1:] > max_cost) + 1
    assert res.details["unassigned"].tolist() == left.tolist()
    assert res.details["unassigned_weight"] == pytest.approx(w[left].sum())
    # the explicit zero is a real pair: row 1 is served at cost 0 when column 4 is open
    res4 = p_median(cost, w, 0, fixed=[4], max_cost=max_cost)
    assert res4.details["row_cost"][1] == 0.0
    assert res4.details["assigned"][1, 4] == pytest.approx(w[1])


def test_pmedian_sparse_without_max_cost_must_assign_every_row():
    # rows 0-1 reach only column 0, rows 2-3 only column 1, rows 4-5 columns 0-2
    cost = sp.csr_matrix(np.array([[1, 0, 0], [2, 0, 0], [0, 1, 0], [0, 3, 0],
                                   [5, 5, 1], [5, 5, 1]], dtype=float))
    w = np.ones(6)
    res = p_median(cost, w, 2)
    assert res.selected.tolist() == [0, 1]          # column 2 would leave rows unserved
    assert res.objective == pytest.approx(1 + 2 + 1 + 3 + 5 + 5)
    with pytest.raises(InfeasibleError, match="max_cost"):
        p_median(cost, w, 1)
    res = p_median(cost, w, 1, max_cost=4.0)
    assert res.objective == pytest.approx(min(1 + 2 + 4 + 4 + 4 + 4, 4 * 4 + 1 + 1))


# --------------------------------------------------------------------------- collapsing


def signatures(cov: np.ndarray, w: np.ndarray, fixed=()) -> int:
    hit_fixed = cov[:, list(fixed)].any(axis=1) if len(fixed) else np.zeros(len(w), bool)
    free = [j for j in range(cov.shape[1]) if j not in set(fixed)]
    keys = {tuple(np.flatnonzero(cov[i, free])) for i in range(len(w))
            if w[i] > 0 and not hit_fixed[i] and cov[i, free].any()}
    return len(keys)


def test_collapse_counts_distinct_signatures_and_keeps_objective():
    dist, w, _ = instance(24, n=400, m=30)
    cov = dist <= 1.5
    fixed = [5]
    res = maximize_coverage(cov, w, 4, fixed=fixed)
    assert res.rows_after_collapse == signatures(cov, w, fixed)
    assert res.rows_after_collapse < 400
    # every row repeated three times, weights split: same model, same objective
    cov3 = np.repeat(cov, 3, axis=0)
    w3 = np.repeat(w / 3.0, 3)
    res3 = maximize_coverage(cov3, w3, 4, fixed=fixed)
    assert res3.rows_after_collapse == res.rows_after_collapse
    assert close(res3.objective, res.objective)
    # rows shuffled: same
    perm = np.random.default_rng(0).permutation(400)
    assert close(maximize_coverage(cov[perm], w[perm], 4, fixed=fixed).objective, res.objective)


def test_collapse_does_not_change_objectives_small_brute_force():
    # heavy duplication: 6 distinct signatures, 200 rows
    rng = np.random.default_rng(25)
    base = rng.random((6, 9)) < 0.35
    base[:, 0] |= ~base.any(axis=1)
    cov = base[rng.integers(0, 6, 200)]
    w = rng.integers(1, 20, 200).astype(float)
    for p in (1, 2, 3):
        res = maximize_coverage(cov, w, p)
        assert res.rows_after_collapse <= 6
        assert close(res.objective, brute_mclp(cov, w, p))
    groups = rng.integers(0, 3, 200)
    res = maximize_min_coverage(cov, w, groups, 2)
    best = max(min(shares(cov, w, groups, s).values())
               for s in itertools.combinations(range(9), 2))
    assert res.objective == pytest.approx(best)
    cap = rng.integers(20, 300, 9).astype(float)
    res = maximize_capacitated_coverage(cov, w, cap, 2)
    assert close(res.objective, max(assignment_lp(cov, w, cap, list(s))
                                    for s in itertools.combinations(range(9), 2)))


def test_pmedian_collapse_identical_cost_rows():
    dist, w, _ = instance(26, n=40, m=12)
    dist = np.round(dist, 1)
    cost = np.repeat(dist, 5, axis=0)
    w5 = np.repeat(w / 5.0, 5)
    res = p_median(cost, w5, 3)
    assert res.rows_after_collapse == len({tuple(r) for r in dist})
    assert close(res.objective, min(float(w @ dist[:, list(s)].min(axis=1))
                                    for s in itertools.combinations(range(12), 3)))


def test_group_rows_is_exact():
    rng = np.random.default_rng(27)
    dense = (rng.random((500, 8)) < 0.3) * rng.integers(0, 3, (500, 8)).astype(float)
    mat = sp.csr_matrix(dense)
    mat.sort_indices()
    extra = rng.integers(0, 2, 500)
    first, inv = _group_rows(mat, [extra])
    keys = [(tuple(np.flatnonzero(dense[i])), tuple(dense[i][dense[i] != 0]), extra[i])
            for i in range(500)]
    assert len(first) == len(set(keys))
    for i in range(500):
        assert keys[i] == keys[first[inv[i]]]
    # rows in different groups differ
    reps = [keys[i] for i in first]
    assert len(set(reps)) == len(reps)


# --------------------------------------------------------------------------- fixed, inputs


def test_fixed_columns_are_open_not_counted_and_counted_in_objective():
    cov, w, _, _ = small_instance(28)
    fixed = [1, 6]
    res = maximize_coverage(cov, w, 2, fixed=fixed)
    assert len(res.selected) == 2 and not set(res.selected) & set(fixed)
    assert close(res.objective, brute_mclp(cov, w, 2, fixed))
    assert res.details["fixed_covered_weight"] == pytest.approx(covered_weight(cov, w, fixed))
    assert np.array_equal(res.details["covered"],
                          cov[:, fixed + list(res.selected)].any(axis=1))
    # boolean mask form of fixed gives the same answer
    mask = np.zeros(cov.shape[1], bool)
    mask[fixed] = True
    assert maximize_coverage(cov, w, 2, fixed=mask).objective == res.objective
    # p = 0: just the fixed columns
    res0 = maximize_coverage(cov, w, 0, fixed=fixed)
    assert res0.selected.size == 0 and res0.objective == pytest.approx(
        covered_weight(cov, w, fixed))
    assert res0.optimal


def test_sparse_and_dense_coverage_agree():
    dist, w, _ = instance(29)
    cov = dist <= 1.7
    a = maximize_coverage(cov, w, 6)
    b = maximize_coverage(sp.csr_matrix(cov), w, 6)
    c = maximize_coverage(sp.csc_matrix(cov.astype(float)), w, 6)
    assert a.objective == b.objective == c.objective


def test_p_larger_than_all_useful_columns_pads_selection():
    cov = np.array([[1, 0, 0, 0], [0, 1, 0, 0]], dtype=bool)
    res = maximize_coverage(cov, [3.0, 4.0], 3)
    assert res.objective == 7.0 and len(res.selected) == 3 and res.optimal
    assert {0, 1} <= set(res.selected.tolist())


def test_greedy_trap_needs_more_than_greedy():
    # greedy takes the big middle column first; the optimum is the two side columns
    cov = np.zeros((6, 3), bool)
    cov[0:3, 0] = True
    cov[3:6, 1] = True
    cov[1:5, 2] = True
    w = np.array([10, 10, 10, 10, 10, 10.0])
    w[1:5] += 1
    res = maximize_coverage(cov, w, 2)
    assert res.greedy_objective < res.objective
    assert res.objective == w.sum() and sorted(res.selected.tolist()) == [0, 1]
    assert res.optimal and res.details["proof"] in {"lp", "milp", "trivial"}


def test_lscp_infeasible_reports_uncoverable_rows():
    cov = np.array([[1, 0], [0, 1], [0, 0], [0, 0], [1, 1]], dtype=bool)
    w = np.array([10.0, 10, 5, 0, 10])
    with pytest.raises(InfeasibleError) as err:
        minimize_facilities(cov, w, 1.0)
    assert err.value.uncoverable.tolist() == [2]          # row 3 has no weight
    assert err.value.best_share == pytest.approx(30 / 35)
    assert "85.7143%" in str(err.value)
    assert isinstance(err.value, ValueError)
    # a reachable target works
    res = minimize_facilities(cov, w, 0.8)
    assert res.objective == 2 and res.optimal
    res = minimize_facilities(cov, w, 0.5)
    assert res.objective == 1
    # already met by the fixed columns: no new sites
    res = minimize_facilities(cov, w, 0.5, fixed=[0])
    assert res.objective == 0 and res.selected.size == 0 and res.optimal


def test_time_limit_returns_feasible_solution_with_gap():
    rng = np.random.default_rng(30)
    n, m = 20_000, 600
    demand = rng.uniform(0, 15_000, (n, 2))
    sites = rng.uniform(0, 15_000, (m, 2))
    from scipy.spatial import cKDTree
    pairs = cKDTree(demand).sparse_distance_matrix(cKDTree(sites), 900.0,
                                                   output_type="coo_matrix")
    cov = sp.csr_matrix((np.ones(pairs.nnz, bool), (pairs.row, pairs.col)), shape=(n, m))
    w = rng.integers(1, 100, n).astype(float)
    res = maximize_coverage(cov, w, 25, time_limit_s=0.05)
    assert len(res.selected) == 25 and len(set(res.selected.tolist())) == 25
    assert res.gap >= 0.0
    assert res.bound >= res.objective - 1e-6
    assert res.objective >= res.greedy_objective - 1e-6
    dense_hit = np.asarray(cov[:, res.selected].sum(axis=1)).ravel() > 0
    assert close(float(w[dense_hit].sum()), res.objective)
    if not res.optimal:
        assert res.gap > 0 and res.bound > res.objective
    assert res.solve_time_s < 5.0
    # p-median and capacitated also honour the limit
    dist, wp, _ = instance(31, n=400, m=60)
    r = p_median(dist, wp, 8, time_limit_s=0.01)
    assert len(r.selected) == 8 and r.gap >= 0 and r.bound <= r.objective + 1e-6
    r = maximize_capacitated_coverage(dist <= 1.5, wp, np.full(60, 800.0), 8,
                                      time_limit_s=0.01)
    assert len(r.selected) == 8 and r.gap >= 0 and r.bound >= r.objective - 1e-6


def test_validation_messages_name_the_argument():
    cov = np.ones((5, 40), bool)
    w = np.ones(5)
    with pytest.raises(ValueError, match="p = 40 but only 35 candidates are not fixed"):
        maximize_coverage(cov, w, 40, fixed=range(5))
    with pytest.raises(ValueError, match="weights must be >= 0"):
        maximize_coverage(cov, [1, 2, -1, 0, 0], 2)
    with pytest.raises(ValueError, match="weights must be 1-D with one value per demand row"):
        maximize_coverage(cov, np.ones(4), 2)
    with pytest.raises(ValueError, match="weights holds NaN"):
        maximize_coverage(cov, [1, np.nan, 1, 1, 1], 2)
    with pytest.raises(ValueError, match="coverage must be a 2-D"):
        maximize_coverage(np.ones(5, bool), w, 2)
    with pytest.raises(ValueError, match="fixed holds column indices out of range"):
        maximize_coverage(cov, w, 2, fixed=[40])
    with pytest.raises(ValueError, match="p must be >= 0"):
        maximize_coverage(cov, w, -1)
    with pytest.raises(ValueError, match="time_limit_s"):
        maximize_coverage(cov, w, 1, time_limit_s=0)
    with pytest.raises(ValueError, match="capacity is required"):
        maximize_capacitated_coverage(cov, w, None, 2)
    cap = np.ones(40)
    cap[3] = np.nan
    with pytest.raises(ValueError, match=r"capacity is missing \(NaN\) for columns \[3\]"):
        maximize_capacitated_coverage(cov, w, cap, 2)
    with pytest.raises(ValueError, match="capacity must have one value per column"):
        maximize_capacitated_coverage(cov, w, np.ones(39), 2)
    with pytest.raises(ValueError, match="target must be a share"):
        minimize_facilities(cov, w, 1.5)
    with pytest.raises(ValueError, match="groups must have one label per demand row"):
        maximize_min_coverage(cov, w, ["a"] * 4, 2)
    with pytest.raises(ValueError, match="group_floor names group 'x'"):
        maximize_coverage(cov, w, 2, groups=list("aabbb"), group_floor={"x": 0.5})
    with pytest.raises(ValueError, match="group_floor needs groups"):
        maximize_coverage(cov, w, 2, group_floor={"a": 0.5})
    with pytest.raises(ValueError, match="cost must be >= 0"):
        p_median(-np.ones((5, 40)), w, 2)
    with pytest.raises(ValueError, match="cost holds NaN"):
        p_median(np.full((5, 40), np.nan), w, 2)
    with pytest.raises(ValueError, match="p = 41 but only 40 candidates"):
        p_median(np.ones((5, 40)), w, 41)
    with pytest.raises(ValueError, match="max_cost"):
        p_median(np.ones((5, 40)), w, 2, max_cost=-1)
