"""Bounded cell x facility costs: ``Network.od`` against networkx on the same job, and how
both grow with the city.

The job, what the scorecard's catchment and allocation need for primary schools: from the
street node nearest every populated cell of the demo city to the node nearest every
primary school, each pair within 500 m of walking. The city is the 1x demo tiled k times
side by side, 25 km of sea apart (as ``equiserve demo --scale k`` lays it out), so the
work per school is the same at every scale and a linear method takes k times as long.

* equiserve: ``Network.od`` (each school's bounded search on the nodes within reach of
  it, all searches of a batch in one multi-source Dijkstra);
The points stand on their nodes (no access leg), so both sides answer node to node.

* networkx: ``single_source_dijkstra_path_length(cutoff=500)`` from every school on the
  reversed graph (``Network.to_networkx``, built once per scale and timed apart), pairs
  kept where a cell's node is reached.

Both answers must hold the same pairs at the same costs (1e-6 m). Printed: seconds per
scale (best of 3, wall clock and, in brackets, this process's CPU time: on a shared
machine the CPU time is the steadier), the ratio networkx / equiserve, and each side's
CPU time over its 1x time.

    python benchmarks/bench_od.py            # 1x, 2x, 4x, 8x
    python benchmarks/bench_od.py --quick    # 1x, 2x
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import fields, replace
from typing import TypeVar

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from equiserve.datasets.demo import write_demo_inputs
from equiserve.network import Network, Snapped
from equiserve.study import Study

T = TypeVar("T")
CUTOFF_M = 500.0
GAP_M = 25_000.0


def demo_job() -> tuple[Network, np.ndarray, np.ndarray]:
    """The 1x demo's walk network, cells' nearest nodes and primary schools' nearest nodes."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = Study.load(write_demo_inputs(tmp))
    net = study.networks["walk"]
    tree = cKDTree(np.column_stack([net.x, net.y]))
    cells = tree.query(study.population.xy)[1]
    schools = tree.query(study.layers["primary_schools"].access_xy)[1]
    return net, cells, schools


def on_nodes(net: Network, nodes: np.ndarray) -> tuple[Snapped, np.ndarray]:
    """Points standing on ``nodes`` (snapped at an end of an edge there, no access leg),
    and the node of each; the few nodes on no street (ferry piers) are left out."""
    snap = net.snap(net.x[nodes], net.y[nodes], limit_m=1.0)
    exact = snap.ok & (snap.access_m == 0) & ((snap.t == 0) | (snap.t == 1))
    snap = snap.subset(np.flatnonzero(exact))
    return snap, np.where(snap.t == 0, net.u[snap.edge], net.v[snap.edge])


def tiled(net: Network, points: list[tuple[Snapped, np.ndarray]], k: int
          ) -> tuple[Network, list[tuple[Snapped, np.ndarray]]]:
    """The network ``k`` times side by side (``GAP_M`` apart), and the points in each."""
    n, m = net.n_nodes, net.n_edges
    shift = np.ptp(net.x) + GAP_M
    out = Network(np.tile(net.x, k) + np.repeat(np.arange(k), n) * shift, np.tile(net.y, k),
                  np.concatenate([net.u + i * n for i in range(k)]),
                  np.concatenate([net.v + i * n for i in range(k)]),
                  np.tile(net.length_m, k), np.tile(net.time_fwd_s, k),
                  np.tile(net.time_bwd_s, k), np.tile(net.is_ferry, k), net.crs, net.mode)
    tiles = []
    for snap, nodes in points:
        arrays = {f.name: np.tile(getattr(snap, f.name), k) for f in fields(snap)
                  if isinstance(getattr(snap, f.name), np.ndarray)}
        tile = np.repeat(np.arange(k), len(nodes))
        arrays["edge"] = arrays["edge"] + tile * m
        arrays["px"] = arrays["px"] + tile * shift
        tiles.append((replace(snap, **arrays), np.tile(nodes, k) + tile * n))
    return out, tiles


def equiserve_pairs(net: Network, cells: Snapped, schools: Snapped
                    ) -> dict[tuple[int, int], float]:
    od = net.od(cells, schools, CUTOFF_M).tocoo()
    return {(int(i), int(j)): float(c) for i, j, c in zip(od.row, od.col, od.data,
                                                          strict=True)}


def networkx_pairs(G: nx.DiGraph, cells: np.ndarray, schools: np.ndarray
                   ) -> dict[tuple[int, int], float]:
    cells_at: dict[int, list[int]] = {}
    for i, node in enumerate(cells.tolist()):
        cells_at.setdefault(node, []).append(i)
    R = G.reverse(copy=False)
    out = {}
    for j, s in enumerate(schools.tolist()):
        for node, c in nx.single_source_dijkstra_path_length(R, s, cutoff=CUTOFF_M).items():
            for i in cells_at.get(node, ()):
                out[(i, j)] = c
    return out


def check(ours: dict, theirs: dict) -> None:
    """Same pairs at the same costs; a pair within 1e-6 m of the cutoff may fall on either
    side (a school standing on a node costs 1e-9 m more here, see Network.od)."""
    edge = {p for p, c in {**ours, **theirs}.items() if abs(c - CUTOFF_M) < 1e-6}
    assert set(ours) - edge == set(theirs) - edge, "the pairs differ"
    worst = max((abs(ours[p] - theirs[p]) for p in set(ours) & set(theirs)), default=0.0)
    assert worst < 1e-6, f"costs differ by up to {worst} m"


def timed(fn: Callable[[], T], repeat: int = 3) -> tuple[float, float, T]:
    """Best wall and CPU seconds of ``repeat`` runs of ``fn``, and its last result."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1x and 2x only")
    args = ap.parse_args()
    scales = [1, 2] if args.quick else [1, 2, 4, 8]
    t0 = time.perf_counter()
    net1, cell_nodes, school_nodes = demo_job()
    cells1, schools1 = on_nodes(net1, cell_nodes), on_nodes(net1, school_nodes)
    print(f"1x demo loaded in {time.perf_counter() - t0:.1f} s: {net1.n_nodes:,} nodes, "
          f"{len(cells1[1]):,} cells, {len(schools1[1])} primary schools; pairs within "
          f"{CUTOFF_M:g} m of walking")
    print(f"{'scale':>5} {'nodes':>9} {'pairs':>8} {'equiserve s (cpu)':>18} "
          f"{'networkx s (cpu)':>17} {'nx graph s':>10} {'nx/eq':>6} {'eq/1x':>6} "
          f"{'nx/1x':>6}")
    base = None
    for k in scales:
        net, ((cells, cell_at), (schools, school_at)) = tiled(net1, [cells1, schools1], k)
        w_eq, c_eq, ours = timed(lambda net=net, c=cells, s=schools: equiserve_pairs(net, c, s))
        w_build, _c, G = timed(lambda net=net: net.to_networkx(), repeat=1)
        w_nx, c_nx, theirs = timed(lambda G=G, c=cell_at, s=school_at: networkx_pairs(G, c, s))
        check(ours, theirs)
        base = base or (c_eq, c_nx)
        print(f"{k:>4}x {net.n_nodes:>9,} {len(ours):>8,} {w_eq:>9.3f} ({c_eq:.3f}) "
              f"{w_nx:>9.2f} ({c_nx:.2f}) {w_build:>10.1f} {c_nx / c_eq:>6.1f} "
              f"{c_eq / base[0]:>6.2f} {c_nx / base[1]:>6.2f}")
        del G


if __name__ == "__main__":
    main()
