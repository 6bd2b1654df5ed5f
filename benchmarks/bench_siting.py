"""MCLP: equiserve.siting.maximize_coverage vs PySAL spopt (PuLP + CBC), same instance.

The instance of issue 5: 30,000 demand points and 1,000 candidate sites, uniform random on
a 20 km square (``numpy.random.default_rng(SEED)``, SEED = 5: demand xy, then candidate
xy, then weights), weights random integers 1..100, service radius 1,000 m (straight
line), p = 30 new sites, no existing ones.

Both tools get the same coverage: equiserve a sparse boolean matrix of the pairs within
the radius (built with ``cKDTree.sparse_distance_matrix``, timed as "coverage pairs");
spopt the dense distance matrix it asks for (``scipy.spatial.distance.cdist``, timed as
"dense distances") and builds ``distance <= radius`` itself. Timed for spopt:
``MCLP.from_cost_matrix`` ("build") and ``.solve(pulp.PULP_CBC_CMD(msg=False))``
("solve"); for equiserve the one ``maximize_coverage`` call, broken down from
``result.details["timings"]`` (reduce + collapse, greedy + swap search, LP relaxation,
MILP). The two optimal objectives must be equal (the chosen sets may differ by ties).
Nothing is asserted about time; the ratio is (spopt build + solve) / equiserve call.

Usage::

    python benchmarks/bench_siting.py            # 30,000 x 1,000, p = 30 (spopt ~2 min)
    python benchmarks/bench_siting.py --quick    # 6,000 x 200 on a 9 km square, p = 10
    python benchmarks/bench_siting.py --no-spopt # equiserve only
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from equiserve.siting import maximize_coverage

SEED = 5


def make_instance(n: int, m: int, side: float, seed: int = SEED):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0.0, side, (n, 2))
    sites = rng.uniform(0.0, side, (m, 2))
    weights = rng.integers(1, 101, n).astype(float)
    return demand, sites, weights


def coverage_pairs(demand: np.ndarray, sites: np.ndarray, radius: float) -> sp.csr_matrix:
    pairs = cKDTree(demand).sparse_distance_matrix(cKDTree(sites), radius,
                                                   output_type="coo_matrix")
    cov = sp.csr_matrix((np.ones(pairs.nnz, dtype=bool), (pairs.row, pairs.col)),
                        shape=pairs.shape)
    return cov


def run_spopt(dist: np.ndarray, weights: np.ndarray, radius: float, p: int):
    try:
        import pulp
        from spopt.locate import MCLP
    except ImportError as exc:  # pragma: no cover - depends on the environment
        print(f"spopt not available ({exc}); pip install spopt")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model = MCLP.from_cost_matrix(dist, weights, radius, p_facilities=p)
        t1 = time.perf_counter()
        model.solve(pulp.PULP_CBC_CMD(msg=False))
        t2 = time.perf_counter()
    objective = float(pulp.value(model.problem.objective))
    chosen = np.flatnonzero([v.value() > 0.5 for v in model.fac_vars])
    return {"build": t1 - t0, "solve": t2 - t1, "objective": objective, "chosen": chosen}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="6,000 x 200 instance, p = 10")
    ap.add_argument("--no-spopt", action="store_true", help="skip spopt")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    if args.quick:
        n, m, side, p = 6_000, 200, 9_000.0, 10
    else:
        n, m, side, p = 30_000, 1_000, 20_000.0, 30
    radius = 1_000.0
    demand, sites, weights = make_instance(n, m, side, args.seed)
    print(f"MCLP: {n:,} demand points x {m:,} candidates, {side / 1000:g} km square, "
          f"radius {radius:,.0f} m, p = {p}, seed {args.seed}, "
          f"total weight {weights.sum():,.0f}")

    t0 = time.perf_counter()
    cov = coverage_pairs(demand, sites, radius)
    t_pairs = time.perf_counter() - t0
    print(f"coverage pairs (KD-tree): {cov.nnz:,} pairs in {t_pairs:.3f} s")

    # equiserve: first call (cold) and best of 3
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = maximize_coverage(cov, weights, p)
        runs.append((time.perf_counter() - t0, res))
    t_eq, res = runs[0]
    t_best = min(t for t, _ in runs)
    tm = res.details["timings"]
    print("\nequiserve.siting.maximize_coverage")
    print(f"  rows after collapse      {res.rows_after_collapse:,} (of {n:,}); "
          f"columns in model {res.details['columns_in_model']:,}")
    print(f"  reduce + collapse        {tm['reduce']:.3f} s")
    print(f"  greedy (+ swap search)   {res.greedy_objective:,.0f} "
          f"(incumbent after search and LP rounding: {res.objective:,.0f}), "
          f"{tm['greedy']:.3f} s")
    lp = res.details["lp_bound"]
    print(f"  LP relaxation bound      {lp:,.4f} in {tm['lp']:.3f} s" if lp is not None
          else "  LP relaxation bound      (not solved)")
    print(f"  MILP (branch and bound)  {tm['milp']:.3f} s"
          + ("  (not needed: LP bound met)" if tm["milp"] == 0 else ""))
    print(f"  objective {res.objective:,.0f}, bound {res.bound:,.0f}, optimal {res.optimal}, "
          f"gap {res.gap:.2e}, proof: {res.details['proof']}")
    print(f"  total {t_eq:.3f} s (first call), best of 3 {t_best:.3f} s")
    print(f"  selected {res.selected.tolist()}")

    if args.no_spopt:
        return
    t0 = time.perf_counter()
    dist = cdist(demand, sites)
    t_dist = time.perf_counter() - t0
    print(f"\ndense distances for spopt: {dist.shape[0]:,} x {dist.shape[1]:,} "
          f"in {t_dist:.2f} s")
    sp_res = run_spopt(dist, weights, radius, p)
    if sp_res is None:
        return
    sp_total = sp_res["build"] + sp_res["solve"]
    print("spopt MCLP (PuLP + CBC)")
    print(f"  build {sp_res['build']:.2f} s, solve {sp_res['solve']:.2f} s, "
          f"total {sp_total:.2f} s")
    print(f"  objective {sp_res['objective']:,.0f}, chosen {sp_res['chosen'].tolist()}")
    same = abs(sp_res["objective"] - res.objective) <= 1e-6 * max(1.0, abs(res.objective))
    print(f"\nobjectives equal: {same} (equiserve {res.objective:,.0f}, "
          f"spopt {sp_res['objective']:,.0f})")
    print(f"same chosen set: {set(sp_res['chosen'].tolist()) == set(res.selected.tolist())}")
    print("\n| step | equiserve | spopt |")
    print("| --- | --- | --- |")
    print(f"| distances / pairs | {t_pairs:.2f} s (sparse, KD-tree) | {t_dist:.2f} s (dense) |")
    print(f"| build | {tm['reduce']:.2f} s (reduce + collapse) | {sp_res['build']:.2f} s |")
    print(f"| solve | {t_eq - tm['reduce']:.2f} s (greedy, LP, MILP) | "
          f"{sp_res['solve']:.2f} s |")
    print(f"| total (build + solve) | {t_eq:.2f} s | {sp_total:.2f} s |")
    print(f"\nratio spopt / equiserve (build + solve, first call): {sp_total / t_eq:.1f}x "
          "(target >= 20x)")
    if not same:
        raise SystemExit("objectives differ")


if __name__ == "__main__":
    main()
