"""Capacity-aware nearest-first allocation: hand cases, invariants, stability, max flow.

References are independent of equiserve's code: an O(P^2) "pick the best live pair"
greedy, a plain sequential loop over the sorted pairs, an enumeration of every integer
allocation of tiny cases (exactly one is stable, and it is ours), and scipy's
maximum_flow (the most people any assignment could serve).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from equiserve.analysis import capacity as capacity_module
from equiserve.analysis.capacity import Allocation, allocate_nearest_first
from equiserve.testing import nearest_first_reference


# --------------------------------------------------------------------------- references
def greedy_pick_best(od, demand, capacity, radius=np.inf):
    """Repeatedly take the lowest (cost, row, col) unprocessed pair with both sides left."""
    coo = od.tocoo()
    pairs = [(float(d), int(i), int(j)) for d, i, j in zip(coo.data, coo.row, coo.col,
                                                             strict=True) if d <= radius]
    rem_d, rem_c = [float(v) for v in demand], [float(v) for v in capacity]
    done = [False] * len(pairs)
    out = np.zeros(od.shape)
    while True:
        live = [k for k, (_, i, j) in enumerate(pairs)
                if not done[k] and rem_d[i] > 0 and rem_c[j] > 0]
        if not live:
            return out
        k = min(live, key=lambda k: pairs[k])
        done[k] = True
        _, i, j = pairs[k]
        x = min(rem_d[i], rem_c[j])
        rem_d[i] -= x
        rem_c[j] -= x
        out[i, j] += x




def max_served(od, demand, capacity, radius=np.inf):
    """Most people any assignment within the radius can serve (integer max flow)."""
    coo = od.tocoo()
    keep = coo.data <= radius
    r, c = coo.row[keep], coo.col[keep]
    n, m = od.shape
    s, t = 0, n + m + 1
    dem, cap = np.asarray(demand, dtype=np.int64), np.asarray(capacity, dtype=np.int64)
    src = np.concatenate([np.full(n, s), 1 + r, 1 + n + np.arange(m)])
    dst = np.concatenate([1 + np.arange(n), 1 + n + c, np.full(m, t)])
    w = np.concatenate([dem, np.minimum(dem[r], cap[c]), cap]).astype(np.int32)
    g = sp.csr_array(sp.coo_array((w, (src, dst)), shape=(t + 1, t + 1)))
    return maximum_flow(g, s, t).flow_value


def random_instance(n, m, seed, radius=600.0, integer=True, zero_share=0.0):
    rng = np.random.default_rng(seed)
    cells = rng.uniform(0, 3000, (n, 2))
    fac = rng.uniform(0, 3000, (m, 2))
    d = np.hypot(*(cells[:, None, :] - fac[None, :, :]).transpose(2, 0, 1))
    r, c = np.nonzero(d <= radius * 1.3)
    cost = d[r, c]
    cost[rng.random(len(cost)) < zero_share] = 0.0
    od = sp.csr_matrix((cost, (r, c)), shape=(n, m))
    if integer:
        demand = rng.integers(0, 60, n).astype(float)
        cap = rng.integers(0, int(1.2 * demand.sum() / m) + 2, m).astype(float)
    else:
        demand = rng.uniform(0, 60, n)
        cap = rng.uniform(0, 1.2 * demand.sum() / m, m)
    return od, demand, cap


def assert_invariants(a: Allocation, demand, capacity, tol=0.0):
    p = a.pairs
    assert isinstance(p, sp.coo_matrix)
    assert (p.data > 0).all()
    assert (a.served <= np.asarray(demand) + tol).all()
    assert (a.used <= np.asarray(capacity) + tol).all()
    assert a.served.sum() == pytest.approx(a.used.sum(), rel=1e-12)
    assert a.served.sum() == pytest.approx(p.data.sum(), rel=1e-12)
    np.testing.assert_allclose(np.bincount(p.row, p.data, p.shape[0]), a.served, rtol=1e-12)
    np.testing.assert_allclose(np.bincount(p.col, p.data, p.shape[1]), a.used, rtol=1e-12)


def assert_stable(a: Allocation, od, demand, capacity, radius=np.inf, tol=0.0):
    """No (i, j) in reach where both sides would rather pair up than keep what they have.

    Row i would take more at j if it has people left, or sends people farther than d_ij;
    column j would admit more of i if it has room, or admits people from farther.
    """
    coo = od.tocoo()
    keep = coo.data <= radius
    r, c, d = coo.row[keep], coo.col[keep], coo.data[keep]
    n, m = od.shape
    x = a.pairs.toarray()
    dense = np.full((n, m), -np.inf)
    dense[r, c] = d
    assigned_cost = np.where(x > 0, dense, -np.inf)
    worst_row = assigned_cost.max(axis=1)
    left = a.served < np.asarray(demand) - tol
    room = a.used < np.asarray(capacity) - tol
    worst_row[left] = np.inf
    worst_col = assigned_cost.max(axis=0)
    worst_col[room] = np.inf
    # (1) nobody left over next to a facility with room
    spare = left[r] & room[c]
    assert not spare.any(), list(zip(r[spare], c[spare], strict=True))[:5]
    # (2) no blocking pair
    blocking = (d < worst_row[r]) & (d < worst_col[c])
    assert not blocking.any(), list(zip(r[blocking], c[blocking], strict=True))[:5]


# --------------------------------------------------------------------------- hand-worked
def test_hand_worked_nearest_first():
    # cell 0: 3 people; facility 0 (2 places) inside it (explicit zero), facility 1 at 4
    # cell 1: 4 people; facility 0 at 1, facility 1 (5 places) at 2
    # order: (0,0)@0 -> 2, f0 full; (1,0)@1 -> 0; (1,1)@2 -> 4; (0,1)@4 -> 1 (last place)
    od = sp.csr_matrix((np.array([0.0, 4.0, 1.0, 2.0]),
                        (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), shape=(2, 2))
    a = allocate_nearest_first(od, [3, 4], [2, 5])
    assert a.pairs.toarray().tolist() == [[2.0, 1.0], [0.0, 4.0]]
    assert a.served.tolist() == [3.0, 4.0] and a.used.tolist() == [2.0, 5.0]
    # assignment order is kept in the COO: ascending cost
    assert list(zip(a.pairs.row.tolist(), a.pairs.col.tolist(), strict=True)) == [
        (0, 0), (1, 1), (0, 1)]
    # radius 3 drops (0,1)@4: cell 0 keeps 1 person unserved, facility 1 one empty place
    a = allocate_nearest_first(od, [3, 4], [2, 5], radius=3)
    assert a.served.tolist() == [2.0, 4.0] and a.used.tolist() == [2.0, 4.0]
    # without the explicit zero, cell 1 would get facility 0 first: the zero counts
    dropped = od.copy()
    dropped.eliminate_zeros()
    assert allocate_nearest_first(dropped, [3, 4], [2, 5]).pairs.toarray().tolist() == [
        [0.0, 3.0], [2.0, 2.0]]


def test_greedy_is_not_max_flow():
    # cell 0 (5 people) reaches f0 (5 places) at 1 and f1 (5) at 2; cell 1 (5) only f0 at 3.
    # nearest first: cell 0 fills f0, cell 1 gets nothing -> 5 served.
    # max flow: cell 0 -> f1, cell 1 -> f0 -> 10 served.
    od = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), (np.array([0, 0, 1]),
                                                    np.array([0, 1, 0]))), shape=(2, 2))
    a = allocate_nearest_first(od, [5, 5], [5, 5])
    assert a.served.tolist() == [5.0, 0.0] and a.used.tolist() == [5.0, 0.0]
    assert max_served(od, [5, 5], [5, 5]) == 10


def test_ties_broken_by_row_then_column():
    # all costs equal: a cell prefers the lower column, a facility the lower row.
    # rows 2 people each, columns 1 place each: row 0 takes both places.
    od = sp.csr_matrix(np.full((2, 2), 7.0))
    a = allocate_nearest_first(od, [2, 2], [1, 1])
    assert a.pairs.toarray().tolist() == [[1.0, 1.0], [0.0, 0.0]]
    # the same through a COO given in reverse order
    coo = od.tocoo()
    rev = sp.coo_matrix((coo.data[::-1], (coo.row[::-1], coo.col[::-1])), shape=(2, 2))
    assert allocate_nearest_first(rev, [2, 2], [1, 1]).pairs.toarray().tolist() == [
        [1.0, 1.0], [0.0, 0.0]]
    # amounts depend only on each side's ranking (so "column, then row" would give the
    # same amounts); the assignment order in the COO is row, then column
    anti = sp.coo_matrix((np.array([7.0, 7.0]), (np.array([1, 0]), np.array([0, 1]))),
                         shape=(2, 2))
    p = allocate_nearest_first(anti, [1, 1], [1, 1]).pairs
    assert list(zip(p.row.tolist(), p.col.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_unlimited_zero_and_unreachable():
    od = sp.coo_matrix((np.array([5.0, 1.0, np.inf, 2.0]),
                        (np.array([0, 1, 2, 2]), np.array([0, 0, 1, 0]))), shape=(4, 2))
    # f0 unlimited; f1 has no places; cell 3 has no pair; cell 2 reaches f1 at inf (never)
    a = allocate_nearest_first(od, [3, 4, 5, 6], [np.inf, 0])
    assert a.served.tolist() == [3.0, 4.0, 5.0, 0.0]
    assert a.used.tolist() == [12.0, 0.0]
    empty = allocate_nearest_first(sp.csr_matrix((2, 3)), [1, 1], [1, 1, 1])
    assert empty.served.tolist() == [0, 0] and empty.pairs.nnz == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        empty.served = None  # type: ignore[misc]


# --------------------------------------------------------------------------- references
@pytest.mark.parametrize("seed", range(12))
def test_matches_independent_greedy(seed, monkeypatch):
    # small bins so that the cost binning, the per-bin filter and early exit all run
    monkeypatch.setattr(capacity_module, "_BIN_PAIRS", 3)
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    dense = rng.integers(0, 6, (n, m)).astype(float)  # few values: many ties, zeros
    mask = rng.random((n, m)) < 0.6
    r, c = np.nonzero(mask)
    od = sp.coo_matrix((dense[r, c], (r, c)), shape=(n, m))
    demand = rng.integers(0, 5, n).astype(float)
    cap = rng.integers(0, 5, m).astype(float)
    radius = float(rng.choice([np.inf, 3.0]))
    a = allocate_nearest_first(od, demand, cap, radius=radius)
    np.testing.assert_array_equal(a.pairs.toarray(), greedy_pick_best(od, demand, cap, radius))
    assert_invariants(a, demand, cap)
    assert_stable(a, od, demand, cap, radius)


@pytest.mark.parametrize("bin_pairs", [7, 4096])
def test_matches_sequential_loop_pair_by_pair(bin_pairs, monkeypatch):
    monkeypatch.setattr(capacity_module, "_BIN_PAIRS", bin_pairs)
    od, demand, cap = random_instance(400, 40, seed=5, zero_share=0.05)
    a = allocate_nearest_first(od, demand, cap)
    ref = nearest_first_reference(od, demand, cap)
    got = list(zip(a.pairs.row.tolist(), a.pairs.col.tolist(), a.pairs.data.tolist(),
                   strict=True))
    assert got == ref


def _stable_integer_allocations(pairs, demand, capacity):
    """Every integer allocation of a tiny case, kept if no pair blocks it."""
    rank = {(i, j): k for k, (_, i, j) in enumerate(sorted(pairs))}  # (cost, row, col)
    keys = sorted(rank)
    ranges = [range(min(demand[i], capacity[j]) + 1) for i, j in keys]
    for xs in itertools.product(*ranges):
        x = dict(zip(keys, xs, strict=True))
        row_sum = [sum(v for (i, _), v in x.items() if i == r) for r in range(len(demand))]
        col_sum = [sum(v for (_, j), v in x.items() if j == c) for c in range(len(capacity))]
        if any(s > d for s, d in zip(row_sum, demand, strict=True)) or any(
                s > c for s, c in zip(col_sum, capacity, strict=True)):
            continue

        def blocks(i, j, x=x, row_sum=row_sum, col_sum=col_sum):
            k = rank[(i, j)]
            row_wants = row_sum[i] < demand[i] or any(
                v > 0 and rank[p] > k for p, v in x.items() if p[0] == i)
            col_wants = col_sum[j] < capacity[j] or any(
                v > 0 and rank[p] > k for p, v in x.items() if p[1] == j)
            return row_wants and col_wants

        if not any(blocks(i, j) for i, j in keys):
            yield x


@pytest.mark.parametrize("seed", range(16))
def test_unique_stable_allocation_by_enumeration(seed):
    # 3 cells x 2-3 facilities, 1-3 people and places: up to 4**8 allocations each
    rng = np.random.default_rng(100 + seed)
    n, m = 3, 2 + seed % 2
    r, c = np.nonzero(rng.random((n, m)) < 0.75)
    cost = rng.integers(0, 4, len(r)).astype(float)  # ties and zeros on purpose
    demand = rng.integers(1, 4, n).tolist()
    cap = rng.integers(1, 4, m).tolist()
    pairs = list(zip(cost.tolist(), r.tolist(), c.tolist(), strict=True))
    stable = list(_stable_integer_allocations(pairs, demand, cap))
    assert len(stable) == 1
    od = sp.coo_matrix((cost, (r, c)), shape=(n, m))
    got = allocate_nearest_first(od, demand, cap).pairs.toarray()
    expect = np.zeros((n, m))
    for (i, j), v in stable[0].items():
        expect[i, j] = v
    np.testing.assert_array_equal(got, expect)


# --------------------------------------------------------------------------- random instances
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("integer", [True, False])
def test_invariants_and_stability_on_random_instances(seed, integer):
    od, demand, cap = random_instance(300, 25, seed, integer=integer, zero_share=0.03)
    radius = 600.0
    a = allocate_nearest_first(od, demand, cap, radius=radius)
    tol = 0.0 if integer else 1e-9
    assert_invariants(a, demand, cap, tol=tol)
    assert_stable(a, od, demand, cap, radius, tol=tol)
    assert a.served.sum() > 0


@pytest.mark.parametrize("supply_ratio", [0.6, 1.0, 2.0])
def test_served_against_maximum_flow(supply_ratio):
    # Nearest first serves at most the max flow and, being maximal (no cell with people
    # left can reach a facility with room), at least half of it. Measured gap to the max
    # flow on these instances (300 cells, 25 facilities, 600 m, 10 seeds), by total
    # capacity / total demand: 0.6 -> mean 5.6 % (0-13 %); 1.0 -> mean 10.7 % (5-20 %);
    # 2.0 -> mean 2.8 % (0-7 %). It is largest when capacity about matches demand:
    # near cells fill facilities that were the only option of farther cells.
    gaps = []
    for seed in range(10):
        od, demand, cap = random_instance(300, 25, seed)
        cap = np.round(cap * supply_ratio / 0.6)  # random_instance gives about 0.6
        a = allocate_nearest_first(od, demand, cap, radius=600.0)
        best = max_served(od, demand, cap, radius=600.0)
        assert a.served.sum() <= best
        assert a.served.sum() >= best / 2
        gaps.append(1 - a.served.sum() / best)
    assert 0 < np.mean(gaps) < 0.25


# --------------------------------------------------------------------------- validation
OD = sp.csr_matrix((np.array([0.0, 2.0]), (np.array([0, 1]), np.array([0, 1]))),
                   shape=(2, 2))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"capacity": [1, np.nan]}, "capacity is NaN for 1 facilities"),
    ({"capacity": [1, -2]}, "capacity holds 1 negative"),
    ({"capacity": [1]}, "capacity has 1 values but od has 2 columns"),
    ({"demand": [1, np.inf]}, "demand holds 1 NaN or infinite"),
    ({"demand": [1, 2, 3]}, "demand has 3 values"),
    ({"radius": -1.0}, "radius must be >= 0"),
])
def test_validation(kwargs, match):
    args = {"od": OD, "demand": [1, 2], "capacity": [3, 4]} | kwargs
    with pytest.raises(ValueError, match=match):
        allocate_nearest_first(**args)
