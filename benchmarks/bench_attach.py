"""Attaching cells to streets: equiserve's rule- and part-aware attachment against the
nearest-segment join peers use (GeoPandas ``sjoin_nearest``, as OSMnx's ``nearest_edges``
does with an STRtree), on the same city-scale input in the same run.

Input: a jittered street grid of 473,344 nodes (888,184 edges; 5 % of them tunnels that
nobody is attached to, and 600 two-node fragments) and 724,000 cells, the sizes of the
issue that asked for it (``--quick``: 50,176 nodes, 60,000 cells).

Rows:

* equiserve, the street a person walks from: one KD-tree query for all cells, eligible
  segments on the largest part, over land (what studies use);
* equiserve, nearest segment (``attach = "nearest"``);
* GeoPandas ``sjoin_nearest`` of the cells to the edge lines within 500 m (nearest segment,
  no rules): its distances must equal equiserve's nearest-segment ones.

    python benchmarks/bench_attach.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely
from _timing import timed  # benchmarks/_timing.py
from bench_network import street_grid

from equiserve.network import Attacher, AttachRules, Network
from equiserve.network.attach import preferred_components
from equiserve.timings import Timings

SEED = 12
LIMIT_M = 500.0


def city(side: int, rng: np.random.Generator) -> Network:
    """The grid with 5 % of its edges tunnels and 600 fragments (2-node steps) beside it."""
    x, y, u, v, length = street_grid(side, rng)
    k = 600
    fx = rng.uniform(x.min(), x.max(), k)
    fy = rng.uniform(y.min(), y.max(), k)
    n = len(x)
    x = np.concatenate([x, fx, fx + 15.0])
    y = np.concatenate([y, fy, fy])
    u = np.concatenate([u, np.arange(n, n + k)])
    v = np.concatenate([v, np.arange(n + k, n + 2 * k)])
    length = np.concatenate([length, np.full(k, 15.0)])
    net = Network.from_arrays(x, y, u, v, length)
    tunnel = rng.random(net.n_edges) < 0.05
    net.edge_tags = tunnel.astype(np.int64)
    net.tag_sets = [{"highway": "residential"}, {"highway": "service", "tunnel": "yes"}]
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50k nodes, 60k cells")
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    side, n_cells = (224, 60_000) if args.quick else (688, 724_000)
    net = city(side, rng)
    cx = rng.uniform(net.x.min(), net.x.max(), n_cells)
    cy = rng.uniform(net.y.min(), net.y.max(), n_cells)
    land = shapely.box(net.x.min() - 100, net.y.min() - 100, net.x.max() + 100,
                       net.y.max() + 100)
    print(f"{net.n_nodes:,} nodes, {net.n_edges:,} edges ({int(net.edge_tags.sum()):,} "
          f"tunnels), {n_cells:,} cells")

    def street():
        a = Attacher(net, cx, cy, LIMIT_M, land, AttachRules())
        return a.attach(preferred_components(net))

    # time (best of one) and peak resident memory above the start of each row (a
    # stage "at <row>" of no length reads the memory at its start)
    mem = Timings()
    mem.step("at street")
    mem.step("street")
    t_street, s = timed(street, repeat=1)
    mem.step("at nearest")
    mem.step("nearest")
    t_near, nearest = timed(lambda: Attacher(net, cx, cy, LIMIT_M, land).attach(), repeat=1)
    mem.step("at peer")
    mem.step("peer")

    lines = gpd.GeoSeries(shapely.linestrings(np.stack([
        np.column_stack([net.x[net.u], net.x[net.v]]),
        np.column_stack([net.y[net.u], net.y[net.v]])], axis=-1)), crs=net.crs)
    cells = gpd.GeoDataFrame(geometry=gpd.points_from_xy(cx, cy), crs=net.crs)
    t0 = time.perf_counter()
    joined = gpd.sjoin_nearest(cells, gpd.GeoDataFrame(geometry=lines), how="left",
                               max_distance=LIMIT_M, distance_col="d")
    t_peer = time.perf_counter() - t0
    peer_d = joined.groupby(level=0)["d"].first().reindex(cells.index).to_numpy()
    mem.close()
    rss = dict(zip(mem.frame()["stage"], mem.frame()["peak_rss_mb"], strict=True))
    peak = {k: rss[k] - rss[f"at {k}"] for k in ("street", "nearest", "peer")}

    ok = nearest.ok
    diff = np.abs(peer_d[ok] - nearest.access_m[ok])
    assert np.nanmax(diff) < 1e-6, f"nearest distances differ from GeoPandas by {diff.max()}"
    assert (np.isnan(peer_d) == ~ok).all()
    moved = s.moved != ""
    print(f"attached to another segment than the nearest: {int(moved.sum()):,} cells "
          f"({moved.mean():.1%}): " + ", ".join(
              f"{k} {c:,}" for k, c in zip(*np.unique(s.moved[moved], return_counts=True),
                                           strict=True)))
    print(f"{'':58} {'time (s)':>9} {'peak MB':>8}")
    for label, sec, key in (
            ("equiserve: the street a person walks from (rules, parts)", t_street, "street"),
            ("equiserve: nearest segment", t_near, "nearest"),
            ("GeoPandas sjoin_nearest: nearest segment (no rules)", t_peer, "peer")):
        print(f"{label:58} {sec:9.2f} {peak[key]:8.0f}")
    print("(peak MB: resident memory above the row's start, sampled every 20 ms; the "
          "GeoPandas row includes building its lines and points)")
    print(f"ratio GeoPandas / equiserve: nearest {t_peer / t_near:.1f}x, "
          f"with the rules {t_peer / t_street:.1f}x")


if __name__ == "__main__":
    main()
