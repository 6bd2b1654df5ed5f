"""Floating catchment accessibility against PySAL access, hand-worked cases and formulas.

PySAL ``access`` (1.1.10) is the reference: ``Access.two_stage_fca`` and
``enhanced_two_stage_fca`` with ``normalize=False`` (their default) return a DataFrame
indexed by demand id, **sorted by id** (not in input order), one column
``<name>_<supply column>``. Where access has no answer it differs from equiserve on
purpose, and the tests pin both behaviours:

* a cell with no pair in reach: access NaN, equiserve 0;
* a facility in reach of zero-population cells only: access computes S/0 and gives those
  cells ``inf`` (``nan`` if S is 0 too, which its sum skips); equiserve sets R_j = 0.

access#18 (asymmetric matrices; fixed in 1.1.x by PR #26) is checked with demand ids
different from supply ids, including integer ids that overlap with another meaning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from equiserve.analysis.catchment import (
    enhanced_two_step_fca,
    gaussian_weights,
    gravity_access,
    gravity_weights,
    step_weights,
    two_step_fca,
)

access = pytest.importorskip("access")
from access import Access, weights  # noqa: E402

RTOL = 1e-9

# access 1.1.10 calls DataFrame.set_index(inplace=True), deprecated in pandas 3.1
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")


# --------------------------------------------------------------------------- helpers
def access_scores(od: sp.coo_matrix, demand, supply, radius, weight_fn=None,
                  enhanced: bool = False, demand_ids=None, supply_ids=None) -> np.ndarray:
    """PySAL access's 2SFCA/E2SFCA for the same inputs, in equiserve's row order."""
    n, m = od.shape
    demand_ids = np.arange(n) if demand_ids is None else np.asarray(demand_ids)
    supply_ids = np.arange(m) if supply_ids is None else np.asarray(supply_ids)
    coo = od.tocoo()
    demand_df = pd.DataFrame({"cell": demand_ids, "pop": np.asarray(demand, dtype=float)})
    supply_df = pd.DataFrame({"fac": supply_ids, "seats": np.asarray(supply, dtype=float)})
    cost_df = pd.DataFrame({"origin": demand_ids[coo.row], "dest": supply_ids[coo.col],
                            "cost": coo.data})
    a = Access(demand_df=demand_df, demand_index="cell", demand_value="pop",
               supply_df=supply_df, supply_index="fac", supply_value="seats",
               cost_df=cost_df, cost_origin="origin", cost_dest="dest", cost_name="cost")
    if enhanced:
        out = a.enhanced_two_stage_fca(name="x", max_cost=radius, weight_fn=weight_fn)
    else:
        out = a.two_stage_fca(name="x", max_cost=radius, weight_fn=weight_fn)
    assert list(out.columns) == ["x_seats"]
    return out["x_seats"].reindex(demand_ids).to_numpy(dtype=float)


def random_od(n, m, seed, radius=1000.0, zero_share=0.0, asymmetric=True):
    """Cells and facilities on a 5 km square; pairs within 1.5 * radius (some beyond)."""
    rng = np.random.default_rng(seed)
    cells = rng.uniform(0, 5000, (n, 2))
    fac = rng.uniform(0, 5000, (m, 2))
    d = np.hypot(*(cells[:, None, :] - fac[None, :, :]).transpose(2, 0, 1))
    if asymmetric:
        d = d * rng.uniform(1.0, 1.4, d.shape)  # one-way streets, detours
    r, c = np.nonzero(d <= 1.5 * radius)
    cost = d[r, c]
    if zero_share:
        cost[rng.random(len(cost)) < zero_share] = 0.0
    return sp.coo_matrix((cost, (r, c)), shape=(n, m))


def in_reach_rows(od, radius):
    coo = od.tocoo()
    return np.bincount(coo.row[coo.data <= radius], minlength=od.shape[0]) > 0


def dense_costs(od):
    coo = od.tocoo()
    d = np.full(od.shape, np.inf)
    d[coo.row, coo.col] = coo.data
    return d


# --------------------------------------------------------------------------- hand-worked
def test_hand_worked_two_cells_two_facilities():
    # cells: P = [100, 50]; facilities: S = [10, 5]; radius 500.
    # costs: c0-f0 = 0 (facility 0 in cell 0, an explicit zero), c0-f1 = 400,
    #        c1-f1 = 200, c1-f0 = 900 (stored but beyond the radius).
    # step 1: D_0 = 100 -> R_0 = 10/100 = 0.1;  D_1 = 100 + 50 -> R_1 = 5/150 = 1/30
    # step 2: A_0 = 0.1 + 1/30 = 0.13333..;  A_1 = 1/30 = 0.03333..
    od = sp.csr_matrix((np.array([0.0, 400.0, 900.0, 200.0]),
                        (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), shape=(2, 2))
    assert od.nnz == 4
    a = two_step_fca(od, [100, 50], [10, 5], radius=500)
    np.testing.assert_allclose(a, [0.1 + 1 / 30, 1 / 30], rtol=RTOL)
    # people-weighted sum = total supply: 100 * 0.1333 + 50 * 0.0333 = 13.33 + 1.67 = 15
    assert np.dot([100, 50], a) == pytest.approx(15.0, rel=RTOL)
    # radius 1000 takes c1-f0 too: D_0 = 150 -> R_0 = 1/15; R_1 = 1/30;
    # A_0 = A_1 = 1/15 + 1/30 = 0.1
    np.testing.assert_allclose(two_step_fca(od, [100, 50], [10, 5], 1000), [0.1, 0.1],
                               rtol=RTOL)


def test_hand_worked_step_weights():
    # same pairs, E2SFCA with steps {250: 1, 500: 0.5}: W(0)=1, W(400)=0.5, W(200)=1.
    # D_0 = 1*100 = 100 -> R_0 = 0.1; D_1 = 0.5*100 + 1*50 = 100 -> R_1 = 0.05
    # A_0 = 1*0.1 + 0.5*0.05 = 0.125; A_1 = 1*0.05 = 0.05
    od = sp.coo_matrix((np.array([0.0, 400.0, 900.0, 200.0]),
                        (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), shape=(2, 2))
    a = enhanced_two_step_fca(od, [100, 50], [10, 5], 500, steps=[(500, 0.5), (250, 1.0)])
    np.testing.assert_allclose(a, [0.125, 0.05], rtol=RTOL)
    np.testing.assert_allclose(a, access_scores(od, [100, 50], [10, 5], 500,
                                                weights.step_fn({250: 1.0, 500: 0.5}),
                                                enhanced=True), rtol=RTOL)


def test_hand_worked_gaussian():
    # one cell (P=10), two facilities (S=[1, 3]) at costs 0 and 100; sigma = radius/2 = 100
    # W = [1, exp(-100^2 / (2 * 100^2))] = [1, e^-0.5]
    # R = [1/10, 3/(10 e^-0.5)];  A = 1/10 + e^-0.5 * 3/(10 e^-0.5) = 0.1 + 0.3 = 0.4
    od = sp.csr_matrix((np.array([0.0, 100.0]), (np.array([0, 0]), np.array([0, 1]))),
                       shape=(1, 2))
    np.testing.assert_allclose(enhanced_two_step_fca(od, [10], [1, 3], 200), [0.4], rtol=RTOL)


# --------------------------------------------------------------------------- vs PySAL access
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_access_random_symmetric_ish(seed):
    # tract-to-tract style (access's Chicago example): cells and facilities are the same
    # 60 places with the same ids, costs = distance (symmetric) within the radius
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 5000, (60, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    r, c = np.nonzero(d <= 1500)  # diagonal pairs at cost 0 stay explicit zeros
    od = sp.coo_matrix((d[r, c], (r, c)), shape=(60, 60))
    assert (od.data == 0).sum() == 60
    pop = rng.integers(0, 3000, 60).astype(float)
    seats = rng.integers(0, 40, 60).astype(float)
    radius = 1000.0
    ids = np.arange(1000, 1060)
    reach = in_reach_rows(od, radius)

    ours = two_step_fca(od, pop, seats, radius)
    ref = access_scores(od, pop, seats, radius, demand_ids=ids, supply_ids=ids)
    np.testing.assert_allclose(ours[reach], ref[reach], rtol=RTOL)

    steps = {300: 1.0, 600: 0.68, 1000: 0.22}
    ours = enhanced_two_step_fca(od, pop, seats, radius, steps=steps)
    ref = access_scores(od, pop, seats, radius, weights.step_fn(steps), enhanced=True,
                        demand_ids=ids, supply_ids=ids)
    np.testing.assert_allclose(ours[reach], ref[reach], rtol=RTOL)

    ours = enhanced_two_step_fca(od, pop, seats, radius)  # Gaussian, sigma = radius / 2
    ref = access_scores(od, pop, seats, radius, weights.gaussian(radius / 2), enhanced=True,
                        demand_ids=ids, supply_ids=ids)
    np.testing.assert_allclose(ours[reach], ref[reach], rtol=RTOL)


@pytest.mark.parametrize("ids", ["strings", "overlapping_ints"])
def test_matches_access_asymmetric(ids):
    # 57 cells, 13 facilities, asymmetric costs (no (j, i) mirror of a pair), ids of
    # different sets. "overlapping_ints": cells 0..56 and facilities 50..62 share the ids
    # 50..56 with another meaning, the setting where mixing up origin and destination
    # (access#18) shows; "strings": also out of lexicographic order ("c10" < "c2").
    n, m, radius = 57, 13, 1000.0
    od = random_od(n, m, seed=7, radius=radius)
    rng = np.random.default_rng(8)
    pop = rng.integers(1, 2000, n).astype(float)
    seats = rng.uniform(0, 30, m)
    if ids == "strings":
        demand_ids, supply_ids = [f"c{i}" for i in range(n)], [f"f{j}" for j in range(m)]
    else:
        demand_ids, supply_ids = np.arange(n), np.arange(50, 50 + m)
    reach = in_reach_rows(od, radius)
    assert 0 < reach.sum() < n  # some cells have no facility in reach

    for fn, ours in [
        (None, two_step_fca(od, pop, seats, radius)),
        (weights.step_fn({400: 1.0, 800: 0.6, 1000: 0.1}),
         enhanced_two_step_fca(od, pop, seats, radius,
                               steps={400: 1.0, 800: 0.6, 1000: 0.1})),
        (weights.gaussian(350.0), enhanced_two_step_fca(od, pop, seats, radius, sigma=350.0)),
    ]:
        ref = access_scores(od, pop, seats, radius, fn, enhanced=fn is not None,
                            demand_ids=demand_ids, supply_ids=supply_ids)
        np.testing.assert_allclose(ours[reach], ref[reach], rtol=RTOL)
        # cells with nothing in reach: access NaN, equiserve 0
        assert np.isnan(ref[~reach]).all()
        assert (ours[~reach] == 0).all()

    # an independent dense computation agrees too (guards against both being wrong)
    d = dense_costs(od)
    w = (d <= radius).astype(float)
    demand_w = pop @ w
    ratio = np.divide(seats, demand_w, out=np.zeros(m), where=demand_w > 0)
    np.testing.assert_allclose(two_step_fca(od, pop, seats, radius), w @ ratio, rtol=RTOL)


def test_explicit_zero_costs_are_pairs():
    # 20 % of the pairs at cost 0 (facility inside the cell), stored as explicit zeros
    n, m, radius = 40, 9, 900.0
    od = random_od(n, m, seed=3, radius=radius, zero_share=0.2).tocsr()
    zeros = int((od.data == 0).sum())
    assert zeros > 10 and od.nnz > zeros
    rng = np.random.default_rng(4)
    pop = rng.integers(1, 500, n).astype(float)
    seats = rng.integers(1, 20, m).astype(float)
    reach = in_reach_rows(od, radius)

    ours = two_step_fca(od, pop, seats, radius)
    # access gets the cost-0 rows explicitly in its cost table
    ref = access_scores(od, pop, seats, radius)
    np.testing.assert_allclose(ours[reach], ref[reach], rtol=RTOL)
    steps = {300: 1.0, 900: 0.5}
    np.testing.assert_allclose(
        enhanced_two_step_fca(od, pop, seats, radius, steps=steps)[reach],
        access_scores(od, pop, seats, radius, weights.step_fn(steps), enhanced=True)[reach],
        rtol=RTOL)

    # dropping the zeros changes the answer: they were counted
    dropped = od.copy()
    dropped.eliminate_zeros()
    assert not np.allclose(two_step_fca(dropped, pop, seats, radius), ours)
    # every sparse format that can hold explicit zeros gives the same answer
    for fmt in ["coo", "csc", "lil", "bsr"]:
        np.testing.assert_allclose(two_step_fca(od.asformat(fmt), pop, seats, radius), ours,
                                   rtol=RTOL, err_msg=fmt)
    np.testing.assert_allclose(two_step_fca(sp.csr_array(od), pop, seats, radius), ours,
                               rtol=RTOL)
    # the input is not modified
    assert int((od.data == 0).sum()) == zeros


def test_gravity_matches_dense_formula_and_access():
    n, m = 30, 8
    od = random_od(n, m, seed=11, radius=1500.0, zero_share=0.1)
    rng = np.random.default_rng(12)
    pop = rng.integers(1, 800, n).astype(float)
    seats = rng.integers(1, 25, m).astype(float)
    beta, scale, min_cost = 1.5, 100.0, 50.0

    # Joseph & Bantock: A_i = sum_j S_j f_ij / sum_k P_k f_kj, f = (max(d, d0)/s)^-beta
    d = dense_costs(od)
    f = np.where(np.isfinite(d), (np.maximum(d, min_cost) / scale) ** -beta, 0.0)
    expect = f @ (seats / (pop @ f))
    ours = gravity_access(od, pop, seats, beta, scale=scale, min_cost=min_cost)
    np.testing.assert_allclose(ours, expect, rtol=RTOL)

    ref = access_scores(od, pop, seats, None, weights.gravity(scale, -beta, min_cost))
    reach = in_reach_rows(od, np.inf)
    assert not reach.all()
    np.testing.assert_allclose(ours[reach], ref[reach], rtol=RTOL)
    assert (ours[~reach] == 0).all() and np.isnan(ref[~reach]).all()

    # within a radius, and via two_step_fca + gravity_weights
    f_r = np.where(d <= 1000, f, 0.0)
    dem = pop @ f_r
    expect_r = f_r @ np.divide(seats, dem, out=np.zeros(m), where=dem > 0)
    np.testing.assert_allclose(
        gravity_access(od, pop, seats, beta, radius=1000, scale=scale, min_cost=min_cost),
        expect_r, rtol=RTOL)
    np.testing.assert_allclose(
        two_step_fca(od, pop, seats, 1000, weights=gravity_weights(beta, scale, min_cost)),
        expect_r, rtol=RTOL)


def test_gravity_min_cost_needed_only_for_zero_costs():
    od = sp.csr_matrix((np.array([0.0, 2.0]), (np.array([0, 1]), np.array([0, 0]))),
                       shape=(2, 1))
    with pytest.raises(ValueError, match="min_cost"):
        gravity_access(od, [1, 1], [1], beta=1.0)
    # without zero costs no floor is needed
    od2 = sp.csr_matrix((np.array([1.0, 2.0]), (np.array([0, 1]), np.array([0, 0]))),
                        shape=(2, 1))
    # f = [1, 1/2]; R = 1 / (1 + 0.5); A = [1/1.5, 0.5/1.5]
    np.testing.assert_allclose(gravity_access(od2, [1, 1], [1], beta=1.0),
                               [2 / 3, 1 / 3], rtol=RTOL)
    # beta = 0: every pair weighs 1, i.e. unweighted 2SFCA; zero costs are fine
    np.testing.assert_allclose(gravity_access(od, [1, 1], [1], beta=0.0), [0.5, 0.5])


# --------------------------------------------------------------------------- properties
@pytest.mark.parametrize("seed", range(5))
def test_people_weighted_sum_equals_reachable_supply(seed):
    rng = np.random.default_rng(seed)
    n, m, radius = int(rng.integers(5, 80)), int(rng.integers(2, 30)), 800.0
    od = random_od(n, m, seed=seed, radius=radius, zero_share=0.05)
    pop = rng.integers(0, 1000, n).astype(float)
    pop[rng.random(n) < 0.2] = 0.0  # empty cells: some facilities see no demand
    seats = rng.uniform(0, 50, m)
    coo = od.tocoo()
    inr = coo.data <= radius
    has_demand = np.bincount(coo.col[inr], weights=pop[coo.row[inr]], minlength=m) > 0
    a = two_step_fca(od, pop, seats, radius)
    assert np.dot(pop, a) == pytest.approx(seats[has_demand].sum(), rel=RTOL, abs=1e-12)
    # holds for any weights (with "weighted demand > 0" as the condition)
    w = gaussian_weights(300.0)
    wdem = np.bincount(coo.col[inr], weights=w(coo.data[inr]) * pop[coo.row[inr]],
                       minlength=m)
    a = two_step_fca(od, pop, seats, radius, weights=w)
    assert np.dot(pop, a) == pytest.approx(seats[wdem > 0].sum(), rel=RTOL, abs=1e-12)


def test_facility_without_demand_gets_zero_ratio_where_access_gives_inf():
    # f0 (S=5) is reached only by c0, which is empty; f1 (S=2) by c0 and c1 (P=4).
    # equiserve: R_0 = 0 (documented), R_1 = 2/4 -> A = [0.5, 0.5]
    # access 1.1.10: R_0 = 5/0 = inf -> A_0 = inf
    od = sp.csr_matrix((np.array([1.0, 1.0, 1.0]), (np.array([0, 0, 1]),
                                                    np.array([0, 1, 1]))), shape=(2, 2))
    ours = two_step_fca(od, [0, 4], [5, 2], radius=10)
    np.testing.assert_allclose(ours, [0.5, 0.5])
    ref = access_scores(od, [0, 4], [5, 2], 10)
    assert np.isinf(ref[0]) and ref[1] == pytest.approx(0.5)


def test_infinite_costs_are_unreachable_and_duplicates_are_pairs():
    od = sp.coo_matrix((np.array([1.0, np.inf]), (np.array([0, 1]), np.array([0, 0]))),
                       shape=(2, 1))
    np.testing.assert_allclose(two_step_fca(od, [2, 3], [4], np.inf), [2.0, 0.0])
    # a COO with the pair (0, 0) twice counts it twice, as access does with two rows
    dup = sp.coo_matrix((np.array([1.0, 1.0, 2.0]), (np.array([0, 0, 1]),
                                                      np.array([0, 0, 0]))), shape=(2, 1))
    ours = two_step_fca(dup, [2, 3], [4], 5)
    np.testing.assert_allclose(ours, [2 * 4 / 7, 4 / 7], rtol=RTOL)
    np.testing.assert_allclose(ours, access_scores(dup, [2, 3], [4], 5), rtol=RTOL)


def test_no_pairs_and_empty_inputs():
    od = sp.csr_matrix((3, 2))
    assert two_step_fca(od, [1, 2, 3], [1, 1], 100).tolist() == [0.0, 0.0, 0.0]
    assert two_step_fca(sp.csr_matrix((0, 0)), [], [], 1).shape == (0,)


# --------------------------------------------------------------------------- weights
def test_weight_helpers_match_access():
    costs = np.array([0.0, 5.0, 10.0, 10.000001, 19.9, 20.0, 25.0, 30.0, 30.5, 1e6, np.inf])
    steps = {10: 1, 20: 0.68, 30: 0.22}
    ref = weights.step_fn(steps)
    assert step_weights(steps)(costs).tolist() == [float(ref(c)) for c in costs]
    # sequence form, any order
    assert (step_weights([(30, 0.22), (10, 1), (20, 0.68)])(costs).tolist()
            == step_weights(steps)(costs).tolist())
    assert step_weights({np.inf: 2.0})(costs).tolist() == [2.0] * len(costs)

    g, rg = gaussian_weights(7.0), weights.gaussian(7.0)
    np.testing.assert_allclose(g(costs), [rg(c) for c in costs], rtol=1e-15)
    gr, rgr = gravity_weights(1.7, scale=3.0, min_cost=0.5), weights.gravity(3.0, -1.7, 0.5)
    np.testing.assert_allclose(gr(costs[:-1]), [rgr(c) for c in costs[:-1]], rtol=1e-15)
    assert gr(np.array([np.inf]))[0] == 0.0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: step_weights({}), "steps is empty"),
    (lambda: step_weights([(10, 1), (10, 0.5)]), "repeated upper bounds"),
    (lambda: step_weights({10: -1}), "finite and >= 0"),
    (lambda: step_weights({np.nan: 1}), "NaN upper bound"),
    (lambda: gaussian_weights(0), "sigma"),
    (lambda: gaussian_weights(np.nan), "sigma"),
    (lambda: gravity_weights(1.0), "min_cost must be > 0 when beta > 0"),
    (lambda: gravity_weights(1.0, scale=0, min_cost=1), "scale"),
    (lambda: gravity_weights(1.0, min_cost=-1), "min_cost"),
    (lambda: gravity_weights(np.inf, min_cost=1), "beta"),
])
def test_weight_helper_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_gravity_without_floor_allowed_for_beta_le_zero():
    np.testing.assert_allclose(gravity_weights(0.0)(np.array([0.0, 3.0])), [1.0, 1.0])


# --------------------------------------------------------------------------- validation
OD = sp.csr_matrix((np.array([0.0, 2.0]), (np.array([0, 1]), np.array([0, 1]))),
                   shape=(2, 2))


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"demand": [1, 2, 3]}, ValueError, "demand has 3 values but od has 2 rows"),
    ({"supply": [1]}, ValueError, "supply has 1 values but od has 2 columns"),
    ({"demand": [[1, 2]]}, ValueError, "demand must be 1-D"),
    ({"demand": [1, np.nan]}, ValueError, "demand holds 1 NaN"),
    ({"supply": [1, -1]}, ValueError, "supply holds 1 negative"),
    ({"radius": -1}, ValueError, "radius must be >= 0"),
    ({"radius": np.nan}, ValueError, "radius"),
    ({"od": np.zeros((2, 2))}, TypeError, "od must be a scipy.sparse"),
    ({"od": OD.todia()}, TypeError, "DIA"),
    ({"od": sp.csr_matrix(np.array([[-1.0, 0], [0, 1]]))}, ValueError, "od holds 1 negative"),
    ({"od": sp.csr_matrix(np.array([[np.nan, 0], [0, 1]]))}, ValueError, "od holds 1 NaN"),
    ({"weights": lambda c: np.ones(3)}, ValueError, "weights returned shape"),
    ({"weights": lambda c: -np.ones_like(c)}, ValueError, "weights gave 2"),
    ({"weights": 3.0}, TypeError, "weights must be a callable"),
])
def test_validation(kwargs, exc, match):
    args = {"od": OD, "demand": [1, 2], "supply": [3, 4], "radius": 5.0} | kwargs
    with pytest.raises(exc, match=match):
        two_step_fca(**args)


def test_enhanced_argument_errors():
    with pytest.raises(ValueError, match="not both"):
        enhanced_two_step_fca(OD, [1, 2], [3, 4], 5, sigma=1.0, steps={1: 1})
    with pytest.raises(ValueError, match="sigma: the default radius / 2"):
        enhanced_two_step_fca(OD, [1, 2], [3, 4], np.inf)
    # with an explicit sigma an infinite radius is fine: W(0)=1 for c0-f0, R = [3, 4/2]
    a = enhanced_two_step_fca(OD, [1, 2], [3, 4], np.inf, sigma=2.0)
    np.testing.assert_allclose(a, [3.0, np.exp(-0.5) * 4 / (2 * np.exp(-0.5))])
