"""Floating catchments and capacity allocation: equiserve vs PySAL access, same OD table.

One seeded synthetic city: a 100 m population grid (100,000 cells on a 31.6 km square,
1-400 people each) and 2,000 facilities placed on random cell centres (so each has a
pair at cost 0, stored as an explicit zero), capacity 2-60 places. The OD table holds
every cell-facility pair within 1,800 m by straight line (about 2 million pairs), built
with a KD-tree (``cKDTree.sparse_distance_matrix``), timed as the "OD" row: any real
FCA run needs this step (or a street one, slower) first.

Then, on that same table:

* 2SFCA: ``two_step_fca`` vs ``Access.two_stage_fca(max_cost=radius)``;
* E2SFCA, Gaussian (sigma = radius / 2): ``enhanced_two_step_fca`` vs
  ``Access.enhanced_two_stage_fca(weight_fn=weights.gaussian(sigma), max_cost=radius)``;
* E2SFCA, steps {600: 1, 1200: 0.68, 1800: 0.22}: the same with ``weights.step_fn``;
* ``allocate_nearest_first`` (capacity-aware), against the naive way to apply the same
  rule (``np.lexsort`` of all pairs + a Python loop over all of them); same pairs checked.

For access, "prep" is building its three DataFrames and the ``Access`` object (done
once, shared by its three calls) and "call" is the method. Values are checked to agree
to 1e-9 relative on the cells with a facility in reach (access gives NaN, equiserve 0,
for the others). Times are ``time.perf_counter`` seconds, best of 3 for equiserve and
best of 2 for access. Nothing is asserted about time; a table closes the output.

Usage::

    python benchmarks/bench_catchment.py           # 100,000 cells x 2,000 facilities
    python benchmarks/bench_catchment.py --quick   # 6,400 cells x 128 facilities (~120k pairs)
"""

from __future__ import annotations

import argparse
import logging
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from _timing import timed  # benchmarks/_timing.py
from scipy.spatial import cKDTree

from equiserve.analysis.capacity import allocate_nearest_first
from equiserve.analysis.catchment import enhanced_two_step_fca, two_step_fca
from equiserve.testing import nearest_first_reference

RADIUS = 1800.0
STEPS = {600.0: 1.0, 1200.0: 0.68, 1800.0: 0.22}




def make_city(n_cells: int, n_fac: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_cells)))
    gx, gy = np.meshgrid(np.arange(side) * 100.0 + 50, np.arange(side) * 100.0 + 50)
    cells = np.column_stack([gx.ravel(), gy.ravel()])[:n_cells]
    pop = rng.integers(1, 401, len(cells)).astype(float)
    fac = cells[rng.choice(len(cells), n_fac, replace=False)]
    seats = rng.integers(2, 61, n_fac).astype(float)
    return cells, pop, fac, seats


def kdtree_od(cells: np.ndarray, fac: np.ndarray, radius: float) -> sp.csr_matrix:
    """Cell x facility distances within radius; zero distances kept as explicit zeros."""
    pairs = cKDTree(cells).sparse_distance_matrix(cKDTree(fac), radius, output_type="ndarray")
    return sp.csr_matrix((pairs["v"], (pairs["i"], pairs["j"])),
                         shape=(len(cells), len(fac)))


def access_prep(od: sp.csr_matrix, pop: np.ndarray, seats: np.ndarray):
    from access import Access

    coo = od.tocoo()
    demand_df = pd.DataFrame({"cell": np.arange(len(pop)), "pop": pop})
    supply_df = pd.DataFrame({"fac": np.arange(len(seats)), "seats": seats})
    cost_df = pd.DataFrame({"origin": coo.row, "dest": coo.col, "cost": coo.data})
    return Access(demand_df=demand_df, demand_index="cell", demand_value="pop",
                  supply_df=supply_df, supply_index="fac", supply_value="seats",
                  cost_df=cost_df, cost_origin="origin", cost_dest="dest", cost_name="cost")




def max_rel_diff(ours: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    ok = np.isfinite(ref)
    rel = np.abs(ours[ok] - ref[ok]) / np.maximum(np.abs(ref[ok]), 1e-300)
    return float(rel.max()) if ok.any() else 0.0, int((~ok).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~100k pairs instead of ~2M")
    args = parser.parse_args()
    n_cells, n_fac = (6_400, 128) if args.quick else (100_000, 2_000)
    warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.set_index")
    from access import weights

    cells, pop, fac, seats = make_city(n_cells, n_fac)
    t_od, od = timed(lambda: kdtree_od(cells, fac, RADIUS))
    zeros = int((od.data == 0).sum())
    reach = np.diff(od.indptr) > 0
    print(f"city: {len(cells):,} cells ({pop.sum():,.0f} people), {len(fac):,} facilities; "
          f"OD within {RADIUS:.0f} m: {od.nnz:,} pairs ({od.nnz / len(cells):.1f} per cell, "
          f"{zeros:,} explicit zeros), {int((~reach).sum()):,} cells with none")

    rows = []  # (step, equiserve s, access prep s, access call s, max rel diff)
    rows.append(("OD (KD-tree, scipy)", t_od, None, None, None))

    t_prep, acc = timed(lambda: access_prep(od, pop, seats), repeat=2)
    logging.getLogger("access").setLevel(logging.WARNING)  # not "Overwriting ..." per repeat
    cases = [
        ("2SFCA", lambda: two_step_fca(od, pop, seats, RADIUS),
         lambda: acc.two_stage_fca(name="t2", max_cost=RADIUS)),
        ("E2SFCA gaussian", lambda: enhanced_two_step_fca(od, pop, seats, RADIUS),
         lambda: acc.enhanced_two_stage_fca(name="tg", max_cost=RADIUS,
                                            weight_fn=weights.gaussian(RADIUS / 2))),
        ("E2SFCA steps", lambda: enhanced_two_step_fca(od, pop, seats, RADIUS, steps=STEPS),
         lambda: acc.enhanced_two_stage_fca(name="ts", max_cost=RADIUS,
                                            weight_fn=weights.step_fn(STEPS))),
    ]
    for name, ours_fn, ref_fn in cases:
        t_ours, ours = timed(ours_fn)
        t_ref, ref = timed(ref_fn, repeat=2)
        ref = ref.iloc[:, 0].reindex(np.arange(len(pop))).to_numpy(dtype=float)
        diff, n_nan = max_rel_diff(ours, ref)
        assert diff <= 1e-9, (name, diff)
        assert n_nan == int((~reach).sum()) and (ours[~reach] == 0).all(), name
        rows.append((name, t_ours, t_prep, t_ref, diff))

    capacity = np.round(seats * pop.sum() / seats.sum() * 0.9)  # ~90 % of the people
    t_alloc, alloc = timed(lambda: allocate_nearest_first(od, pop, capacity, RADIUS))
    t_naive, naive = timed(lambda: nearest_first_reference(od, pop, capacity), repeat=1)
    got = list(zip(alloc.pairs.row.tolist(), alloc.pairs.col.tolist(),
                   alloc.pairs.data.tolist(), strict=True))
    assert got == naive, "allocation differs from the naive loop"
    print(f"allocation: {alloc.served.sum():,.0f} of {pop.sum():,.0f} people served "
          f"(capacity {capacity.sum():,.0f}), {alloc.pairs.nnz:,} pairs used; same pairs as "
          "the naive loop")

    print()
    print(f"{'step':<22}{'equiserve s':>12}{'access prep':>13}{'access call':>13}"
          f"{'call/ours':>11}{'(prep+call)/ours':>18}{'max rel diff':>14}")
    for name, t, prep, call, diff in rows:
        if call is None:
            print(f"{name:<22}{t:>12.3f}")
            continue
        print(f"{name:<22}{t:>12.3f}{prep:>13.3f}{call:>13.3f}{call / t:>10.0f}x"
              f"{(prep + call) / t:>17.0f}x{diff:>14.1e}")
    print(f"{'allocate_nearest_first':<22}{t_alloc:>12.3f}{'':>13}{t_naive:>13.3f}"
          f"{t_naive / t_alloc:>10.1f}x{'':>18}{'same pairs':>14}")
    print("(allocation peer: np.lexsort of all pairs + a Python loop over them)")
    t_fca = rows[1][1]
    print(f"OD / 2SFCA time: {t_od / t_fca:.1f}x (the OD step dominates)")


if __name__ == "__main__":
    main()
