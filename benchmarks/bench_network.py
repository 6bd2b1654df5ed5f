"""Street-network speed: equiserve vs networkx and pandana, on a synthetic and a real network.

What it measures, in one run (same process, same inputs, seeded):

1. Build: a street-like synthetic graph (a jittered 500 x 500 grid, 60 m blocks, 10 % of
   the streets removed, some diagonals, lengths 0-8 % longer than the straight line;
   250,000 nodes, EPSG:32649 metres) built to a graph that can be queried:
   ``Network.from_arrays`` (which only checks the arrays) plus the CSR adjacency its first
   query builds (``nearest(limit=0)`` forces it), against a networkx ``Graph`` of the same
   arrays; nodes, node pairs and total length checked equal. Connected components:
   ``Network.components`` vs networkx ``connected_components`` (same partition checked).
2. Nearest source for every node: ``Network.nearest`` (one multi-source Dijkstra) for
   five layers of 100, 300, 500, 1000 and 2000 random source nodes (target: < 1 s in all).
   Also, as a floor, scipy's Dijkstra alone on a CSR matrix built once beforehand.
3. The same five queries with networkx ``multi_source_dijkstra_path_length`` on an
   ``nx.Graph`` of the same arrays (weight = length); distances checked equal to 1e-6 m
   on a sample of nodes; ratio networkx / equiserve (target: >= 10x).
4. pandana, if it imports or ``pip install pandana`` works (tried once, in a
   subprocess): contraction-hierarchy build, then ``set_pois`` + ``nearest_pois`` for the
   same layer sizes (search radius: 5 % over the farthest nearest-source distance of that
   layer, pandana's best case); distances compared on a sample. Its CH build takes about
   400 s at 250k nodes here, so by default pandana runs on a 50k-node grid of the same
   kind (compared with equiserve on that grid); ``--pandana-full`` runs it at 250k.
5. Cells to facilities: 100,000 random "cells" and 2,000 facilities snapped with
   ``Network.snap``; ``network_nearest_facility`` for five facility layers; then the
   bounded OD ``Network.od`` (2,000 facilities x 100,000 cells within 2 km), run in a
   fresh subprocess to report its memory: peak RSS during the step (VmHWM, reset just
   before it), ru_maxrss before/after, and the tracemalloc peak (numpy buffers included)
   of a second OD run (targets: < 10 s, < 2 GB). Peer: networkx bounded single-source
   Dijkstra from 200 facilities, extrapolated to 2,000 (and used to check 20 OD columns).
6. The real Zhuhai OSM extract (``$EQUISERVE_ZHUHAI_DATA/osm/zhuhai.osm``, default
   ``/work/shared/data/zhuhai``; skipped with a message if missing): walk network built
   with ``network_from_osm(cache=False)`` + its CSR (cold build), and loaded from its cache
   (``cache=True``, second call); peer: osmnx building the SAME walk network
   (``graph_from_xml`` unsimplified, all parts, both directions; the ways equiserve's walk
   filter drops removed by their tags; ``project_graph``); nodes (OSM ids), segments and
   projected total length checked equal, ferries set aside (equiserve makes each one
   edge between its piers). Then ``nearest`` for five layers of random source nodes vs
   networkx on the same arrays.

Times are ``time.perf_counter`` seconds; steps under about a second are the best of 3.
Nothing is asserted; a table (step, equiserve s, peer s, ratio) closes the output.

Usage::

    python benchmarks/bench_network.py                 # full: 250k nodes, 100k cells
    python benchmarks/bench_network.py --quick         # 50k nodes, 20k cells, 500 facilities
    python benchmarks/bench_network.py --pandana-full  # also pandana at 250k (+7 min)
    python benchmarks/bench_network.py --zhuhai-only   # step 6 only
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

# measure the checkout this file sits in, whatever copy of equiserve is installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import timed  # noqa: E402  (benchmarks/_timing.py)

from equiserve.analysis.network_nearest import network_nearest_facility  # noqa: E402
from equiserve.network import Network, Snapped, network_from_osm  # noqa: E402

SEED = 20240611
LAYERS = (100, 300, 500, 1000, 2000)
CUTOFF_M = 2000.0
X0, Y0 = 740_000.0, 2_450_000.0  # Zhuhai, UTM 49N
SPACING_M = 60.0

ROWS: list[tuple[str, float | None, float | None, str]] = []


# ----------------------------------------------------------------------------------
# helpers




def row(step: str, ours: float | None, peer: float | None, peer_name: str = "") -> None:
    ROWS.append((step, ours, peer, peer_name))


def fmt_s(t: float | None) -> str:
    return "-" if t is None else f"{t:.3f}"


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


@contextlib.contextmanager
def quiet_fd(fd: int = 1):
    """Silence a C library's prints on a file descriptor (pandana's CH progress)."""
    sys.stdout.flush()
    saved = os.dup(fd)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), fd)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, fd)
            os.close(saved)


def ensure_pandana():
    """``(module, "")`` or ``(None, reason)``; tries ``pip install pandana`` only if the
    import fails."""
    try:
        import pandana
        return pandana, ""
    except Exception as exc:  # ImportError, or a binary built against another numpy
        first = f"{type(exc).__name__}: {exc}"
    print("pandana not importable (" + first + "); trying `pip install pandana` ...",
          flush=True)
    try:
        r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pandana"],
                           capture_output=True, text=True, timeout=420)
    except subprocess.TimeoutExpired:
        return None, "pip install pandana took over 7 minutes"
    if r.returncode != 0:
        lines = [ln.strip() for ln in (r.stderr + r.stdout).splitlines() if ln.strip()]
        err = [ln for ln in lines if "error" in ln.lower()] or lines
        return None, "pip install failed: " + " | ".join(err[-3:])[:400]
    importlib.invalidate_caches()
    try:
        import pandana
        return pandana, ""
    except Exception as exc:
        return None, f"installed but does not import: {type(exc).__name__}: {exc}"


def street_grid(side: int, rng: np.random.Generator):
    """A jittered grid: node x, y and edge u, v, length (metres, EPSG:32649)."""
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    idx = ii * side + jj
    jit = SPACING_M * 0.25
    x = (X0 + jj * SPACING_M + rng.uniform(-jit, jit, (side, side))).ravel()
    y = (Y0 + ii * SPACING_M + rng.uniform(-jit, jit, (side, side))).ravel()
    u = [idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    v = [idx[:, 1:].ravel(), idx[1:, :].ravel()]
    keep = rng.random(sum(len(a) for a in u)) > 0.10  # 10 % of streets missing
    u, v = np.concatenate(u)[keep], np.concatenate(v)[keep]
    diag = rng.random((side - 1, side - 1)) < 0.08  # diagonal streets in 8 % of blocks
    anti = rng.random((side - 1, side - 1)) < 0.5
    a = np.where(anti, idx[:-1, 1:], idx[:-1, :-1])[diag]
    b = np.where(anti, idx[1:, :-1], idx[1:, 1:])[diag]
    u, v = np.concatenate([u, a]), np.concatenate([v, b])
    straight = np.hypot(x[v] - x[u], y[v] - y[u])
    length = straight * (1.0 + rng.uniform(0.0, 0.08, len(u)))  # streets bend a little
    return x, y, u.astype(np.int64), v.astype(np.int64), length


def nx_graph(net: Network):
    """networkx graph of the network's public arrays, weight ``length``; parallel edges
    keep their shortest. Undirected unless some edge is one-way."""
    import networkx as nx

    fwd = np.isfinite(net.time_fwd_s)
    bwd = np.isfinite(net.time_bwd_s)
    directed = not (fwd.all() and bwd.all())
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(net.n_nodes))
    order = np.argsort(-net.length_m, kind="stable")  # longest first: the shortest wins
    u, v, w = net.u[order], net.v[order], net.length_m[order]
    if directed:
        f, b = fwd[order], bwd[order]
        G.add_weighted_edges_from(zip(u[f].tolist(), v[f].tolist(), w[f].tolist(), strict=True),
                                  weight="length")
        G.add_weighted_edges_from(zip(v[b].tolist(), u[b].tolist(), w[b].tolist(), strict=True),
                                  weight="length")
    else:
        G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True),
                                  weight="length")
    return G


def queryable(net: Network) -> Network:
    """``net`` with what its first query builds: the CSR adjacency (parallel edges reduced
    to the shortest), by a search that stops at once (``limit=0``)."""
    net.nearest([0], limit=0.0)
    return net


def check_same_graph(net: Network, G, tag: str, ferries: bool = True) -> bool:
    """Nodes, edges (node pairs) and total length of equiserve's CSR (what its searches
    run on; parallel edges reduced to the shortest) against a networkx Graph."""
    csr = net._base_csr("length", False, ferries)  # the graph equiserve's queries search
    directed = G.is_directed()
    e_ours = csr.nnz if directed else csr.nnz // 2
    len_ours = float(csr.data.sum()) / (1 if directed else 2)
    len_nx = float(G.size(weight="length"))
    same = (net.n_nodes == G.number_of_nodes() and e_ours == G.number_of_edges()
            and abs(len_ours - len_nx) <= 1e-9 * len_nx)
    print(f"    check [{tag}]: nodes {net.n_nodes:,} / {G.number_of_nodes():,}, node pairs "
          f"{e_ours:,} / {G.number_of_edges():,}, total length {len_ours / 1000:,.3f} / "
          f"{len_nx / 1000:,.3f} km (equiserve / networkx) -> "
          f"{'SAME' if same else 'DIFFERENT'}")
    return same


def bench_components(net: Network, G, x, y, u, v, length, tag: str) -> None:
    """Connected parts: equiserve ``components`` (on a fresh network: it is cached) vs
    networkx ``connected_components``; labels checked to be the same partition."""
    import networkx as nx

    t_comp, comp = timed(lambda: Network.from_arrays(x, y, u, v, length).components)
    t_arr, _ = timed(lambda: Network.from_arrays(x, y, u, v, length))
    t_comp = max(t_comp - t_arr, 0.0)
    t0 = time.perf_counter()
    parts = list(nx.connected_components(G) if not G.is_directed()
                 else nx.weakly_connected_components(G))
    t_nx = time.perf_counter() - t0
    label = np.empty(net.n_nodes, dtype=np.int64)
    for k, p in enumerate(parts):
        label[list(p)] = k
    # the same partition: each (ours, theirs) label pair is one-to-one
    pairs = np.unique(np.stack([comp, label]), axis=1)
    same = len(parts) == len(np.unique(comp)) == pairs.shape[1]
    print(f"    components: equiserve {t_comp:.3f} s (best of 3, from_arrays taken off), "
          f"networkx {t_nx:.3f} s; {len(parts):,} parts (largest "
          f"{np.bincount(comp).max():,} nodes) -> {'SAME' if same else 'DIFFERENT'} "
          f"partition")
    row(f"{tag}: connected components", t_comp, t_nx, "networkx connected_components")


def plain_csr(net: Network) -> sp.csr_matrix:
    """Symmetric CSR of the (two-way) edges, built once: the Dijkstra floor."""
    src = np.concatenate([net.u, net.v])
    dst = np.concatenate([net.v, net.u])
    w = np.maximum(np.concatenate([net.length_m, net.length_m]), 1e-9)
    g = sp.coo_matrix((w, (src, dst)), shape=(net.n_nodes, net.n_nodes)).tocsr()
    g.sum_duplicates()  # no parallel edges in the synthetic grid
    return g


def compare_sample(ours: np.ndarray, theirs: dict, sample: np.ndarray) -> tuple[float, int]:
    """Max |difference| over sampled nodes reached by both; count of reach mismatches."""
    diff, mismatch = 0.0, 0
    for n in sample.tolist():
        t = theirs.get(n)
        if t is None:
            mismatch += int(np.isfinite(ours[n]))
        elif not np.isfinite(ours[n]):
            mismatch += 1
        else:
            diff = max(diff, abs(float(ours[n]) - t))
    return diff, mismatch


def layer_sources(n_nodes: int, rng: np.random.Generator, layers=LAYERS) -> list[np.ndarray]:
    return [rng.choice(n_nodes, size=min(k, n_nodes), replace=False) for k in layers]


# ----------------------------------------------------------------------------------
# nearest: equiserve vs networkx vs pandana


def bench_nearest(net: Network, sources: list[np.ndarray], tag: str, rng: np.random.Generator,
                  G=None, pandana_mod=None, pandana_reason: str = "",
                  floor: bool = True) -> dict:
    import networkx as nx

    ours_t, ours = [], []
    for s in sources:
        t, (cost, _) = timed(lambda s=s: net.nearest(s))
        ours_t.append(t)
        ours.append(cost)
    total = sum(ours_t)
    print(f"[{tag}] equiserve nearest, {len(sources)} layers "
          f"({', '.join(str(len(s)) for s in sources)} sources): "
          + ", ".join(f"{t:.3f}" for t in ours_t) + f" s; total {total:.3f} s")
    floor_t = None
    if floor:
        g = plain_csr(net)
        ft = []
        for s in sources:
            t, _ = timed(lambda s=s: dijkstra(g, directed=False, indices=s, min_only=True))
            ft.append(t)
        print(f"[{tag}]   floor: scipy dijkstra(min_only) on a CSR built once: "
              f"total {sum(ft):.3f} s (equiserve rebuilds its CSR with the virtual source "
              f"nodes on every call)")
        floor_t = sum(ft)

    # networkx
    if G is None:
        t0 = time.perf_counter()
        G = nx_graph(net)
        print(f"[{tag}] networkx graph from the same arrays: {time.perf_counter() - t0:.2f} s "
              f"({G.number_of_nodes()} nodes, {G.number_of_edges()} edges)")
    nx_t = []
    budget = 150.0
    spent = 0.0
    sample = rng.choice(net.n_nodes, size=min(3000, net.n_nodes), replace=False)
    worst, mism = 0.0, 0
    for s, cost in zip(sources, ours, strict=True):
        if spent > budget:
            break
        t0 = time.perf_counter()
        d = nx.multi_source_dijkstra_path_length(G, set(s.tolist()), weight="length")
        t = time.perf_counter() - t0
        nx_t.append(t)
        spent += t
        w, m = compare_sample(cost, d, sample)
        worst, mism = max(worst, w), mism + m
        del d
    measured = sum(nx_t)
    if len(nx_t) < len(sources):
        frac = sum(ours_t[: len(nx_t)]) / total
        nx_total = measured / frac
        label = (f"networkx (EXTRAPOLATED from {len(nx_t)} of {len(sources)} layers "
                 f"by equiserve's time share)")
    else:
        nx_total = measured
        label = "networkx multi_source_dijkstra"
    print(f"[{tag}] networkx multi_source_dijkstra_path_length: "
          + ", ".join(f"{t:.3f}" for t in nx_t) + f" s; total {nx_total:.3f} s"
          + ("" if len(nx_t) == len(sources) else " (extrapolated)"))
    ok = worst <= 1e-6 and mism == 0
    print(f"[{tag}]   check on {len(sample)} sampled nodes x {len(nx_t)} layers: max |diff| "
          f"{worst:.2e} m, reachability mismatches {mism} -> {'EQUAL' if ok else 'DIFFERENT'}")
    print(f"[{tag}]   ratio networkx / equiserve: {nx_total / total:.1f}x (target >= 10x)")
    row(f"{tag}: nearest x{len(sources)} layers", total, nx_total, label)
    if floor_t is not None:
        row(f"{tag}:   floor, csgraph on prebuilt CSR", floor_t, None, "(not equiserve API)")

    # pandana
    if pandana_mod is not None:
        bench_pandana(net, sources, ours, tag, sample, total, pandana_mod)
    elif pandana_reason:
        print(f"[{tag}] pandana: not installable here: {pandana_reason}")
    return {"G": G, "ours": ours, "total": total}


def bench_pandana(net: Network, sources, ours, tag: str, sample: np.ndarray, ours_total: float,
                  pdna) -> None:
    import pandas as pd

    nodes = pd.DataFrame({"x": net.x, "y": net.y}, index=np.arange(net.n_nodes))
    edges = pd.DataFrame({"from": net.u, "to": net.v, "length": net.length_m})
    t0 = time.perf_counter()
    with quiet_fd():
        pnet = pdna.Network(nodes["x"], nodes["y"], edges["from"], edges["to"],
                            edges[["length"]], twoway=True)
    build = time.perf_counter() - t0
    print(f"[{tag}] pandana {getattr(pdna, '__version__', '?')}: Network build "
          f"(contraction hierarchy): {build:.2f} s")
    qt, worst, mism = [], 0.0, 0
    for i, (s, cost) in enumerate(zip(sources, ours, strict=True)):
        reach = cost[np.isfinite(cost)]
        maxdist = float(np.ceil(reach.max() * 1.05)) if reach.size else 1000.0
        cat = f"layer{i}"
        t0 = time.perf_counter()
        with quiet_fd():
            pnet.set_pois(category=cat, maxdist=maxdist, maxitems=1,
                          x_col=pd.Series(net.x[s]), y_col=pd.Series(net.y[s]))
            res = pnet.nearest_pois(maxdist, cat, num_pois=1)
        qt.append(time.perf_counter() - t0)
        d = res[1].to_numpy(dtype=float)
        found = d < maxdist
        sm = sample
        both = found[sm] & np.isfinite(cost[sm])
        if both.any():
            worst = max(worst, float(np.abs(d[sm][both] - cost[sm][both]).max()))
        mism += int((found[sm] != (np.isfinite(cost[sm]) & (cost[sm] < maxdist))).sum())
    total = sum(qt)
    print(f"[{tag}] pandana set_pois + nearest_pois per layer: "
          + ", ".join(f"{t:.3f}" for t in qt) + f" s; total {total:.3f} s")
    print(f"[{tag}]   check on {len(sample)} sampled nodes: max |diff| {worst:.2e} m, "
          f"reach mismatches {mism}")
    print(f"[{tag}]   ratio pandana / equiserve: queries {total / ours_total:.1f}x, "
          f"build + queries {(build + total) / ours_total:.1f}x")
    row(f"{tag}: pandana CH build", None, build, "pandana Network()")
    row(f"{tag}: nearest x{len(sources)} layers", ours_total, total,
        "pandana set_pois+nearest_pois")


# ----------------------------------------------------------------------------------
# OD in a fresh process (memory)


SNAP_FIELDS = ("edge", "t", "access_m", "px", "py", "ok", "reason_code", "moved_code",
               "shift_m")


def save_od_inputs(path: Path, net: Network, cells: Snapped, facs: Snapped) -> None:
    arrays = {"x": net.x, "y": net.y, "u": net.u, "v": net.v, "length_m": net.length_m}
    for pre, s in (("c_", cells), ("f_", facs)):
        for f in SNAP_FIELDS:
            arrays[pre + f] = getattr(s, f)
    np.savez(path, **arrays)


def load_snapped(z, pre: str) -> Snapped:
    return Snapped(*(z[pre + f] for f in SNAP_FIELDS))


def proc_status_mb(key: str) -> float | None:
    """``VmHWM`` (peak resident set) or ``VmRSS`` of this process, MB (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ``clear_refs``); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def od_worker(inputs: str, out: str) -> None:
    """Run in a subprocess: time Network.od and report its memory as JSON on stdout.

    ru_maxrss of a child starts at its parent's RSS at fork time on Linux (it survives
    exec), so the step's own peak is read from VmHWM, reset just before the step.
    """
    z = np.load(inputs)
    net = Network.from_arrays(z["x"], z["y"], z["u"], z["v"], z["length_m"])
    cells, facs = load_snapped(z, "c_"), load_snapped(z, "f_")
    del z
    gc.collect()
    rss0 = maxrss_mb()
    vm0 = proc_status_mb("VmRSS")
    reset = reset_peak_rss()
    t0 = time.perf_counter()
    m = net.od(cells, facs, CUTOFF_M)
    t = time.perf_counter() - t0
    rss1 = maxrss_mb()
    hwm = proc_status_mb("VmHWM") if reset else None
    sp.save_npz(out, m)
    del m
    gc.collect()
    tracemalloc.start()
    m2 = net.od(cells, facs, CUTOFF_M)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"time_s": t, "rss_before_mb": rss0, "rss_after_mb": rss1,
                      "vmrss_before_mb": vm0, "vmhwm_during_mb": hwm,
                      "tracemalloc_peak_mb": peak / 2**20, "pairs": int(m2.nnz),
                      "shape": list(m2.shape)}))


def check_od_with_networkx(G, net: Network, cells: Snapped, facs: Snapped, od: sp.csr_matrix,
                           n_time: int, n_check: int, rng: np.random.Generator):
    """Bounded single-source Dijkstra (networkx) from ``n_time`` facilities; the first
    ``n_check`` also rebuild their OD column cell by cell and are compared."""
    import networkx as nx

    ok_f = np.flatnonzero(facs.ok)
    pick = rng.choice(ok_f, size=min(n_time, len(ok_f)), replace=False)
    ok_c = np.flatnonzero(cells.ok)
    ce, ct, ca = cells.edge[ok_c], cells.t[ok_c], cells.access_m[ok_c]
    a, b, L = net.u[ce], net.v[ce], net.length_m[ce]
    worst, missing, extra, spent = 0.0, 0, 0, 0.0
    odc = od.tocsc()
    for k, j in enumerate(pick.tolist()):
        e, t, acc = facs.edge[j], facs.t[j], facs.access_m[j]
        fu, fv, fl = int(net.u[e]), int(net.v[e]), float(net.length_m[e])
        vn = -1 - j
        G.add_edge(vn, fu, length=acc + t * fl)
        G.add_edge(vn, fv, length=acc + (1 - t) * fl)
        t0 = time.perf_counter()
        d = nx.single_source_dijkstra_path_length(G, vn, cutoff=CUTOFF_M, weight="length")
        spent += time.perf_counter() - t0
        G.remove_node(vn)
        if k >= n_check:
            continue
        da = np.array([d.get(n, np.inf) for n in a.tolist()])
        db = np.array([d.get(n, np.inf) for n in b.tolist()])
        ref = ca + np.minimum(ct * L + da, (1 - ct) * L + db)
        same = ce == e  # same edge: the direct way along it
        ref[same] = np.minimum(ref[same], ca[same] + np.abs(ct[same] - t) * L[same] + acc)
        col = np.full(len(cells.edge), np.inf)
        lo, hi = odc.indptr[j], odc.indptr[j + 1]
        col[odc.indices[lo:hi]] = odc.data[lo:hi]
        got = col[ok_c]
        inside = ref <= CUTOFF_M - 1e-6
        missing += int((inside & ~np.isfinite(got)).sum())
        extra += int((np.isfinite(got) & (ref > CUTOFF_M + 1e-6)).sum())
        both = np.isfinite(got) & np.isfinite(ref)
        if both.any():
            worst = max(worst, float(np.abs(got[both] - ref[both]).max()))
    return spent, len(pick), worst, missing, extra


# ----------------------------------------------------------------------------------
# Zhuhai: the same walk network built by equiserve and by osmnx


def osmnx_walk(osm: Path):
    """What an osmnx user builds for equiserve's walk network: every way read
    (``graph_from_xml``, unsimplified, all parts, both directions), the ways equiserve's
    walk filter drops removed by their tags (the same rules, on edge attributes), nodes
    left on no edge dropped, projected. Ferries (``route=ferry``) are set aside: equiserve
    makes each one edge between its piers."""
    import warnings

    import osmnx as ox

    # equiserve's walk filter itself, applied to each edge's way tags (osmnx keeps the
    # tags it reads among useful_tags_way on every edge of the way)
    from equiserve.network.osm import _walkable

    tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted({*tags, "highway", "foot", "access", "area",
                                          "service", "route"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = ox.graph_from_xml(osm, simplify=False, retain_all=True, bidirectional=True)
    finally:
        ox.settings.useful_tags_way = tags
    ferries = [(a, b, k) for a, b, k, d in g.edges(keys=True, data=True)
               if d.get("route") == "ferry"]
    g.remove_edges_from([(a, b, k) for a, b, k, d in g.edges(keys=True, data=True)
                         if not _walkable(d)])
    g.remove_nodes_from([n for n, deg in g.degree() if deg == 0])
    return ox.project_graph(g), len(ferries) // 2


def bench_zhuhai_build(osm: Path) -> Network:
    """Cold build and cached load of the walk network, vs osmnx building the same
    network; nodes, segments and total length compared."""
    import osmnx as ox

    t_osm, zn = timed(lambda: queryable(network_from_osm(osm, "walk", cache=False)))
    print(f"    network_from_osm(walk, cache=False) + CSR: {t_osm:.3f} s (cold build, best "
          f"of 3); {zn.n_nodes:,} nodes, {zn.n_edges:,} edges, {int(zn.is_ferry.sum())} "
          f"ferry edges, {len(np.unique(zn.components))} components")
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("EQUISERVE_CACHE_DIR")
        os.environ["EQUISERVE_CACHE_DIR"] = tmp
        try:
            network_from_osm(osm, "walk", cache=True)  # saves
            t_load, zc = timed(lambda: queryable(network_from_osm(osm, "walk", cache=True)))
        finally:
            if old is None:
                del os.environ["EQUISERVE_CACHE_DIR"]
            else:
                os.environ["EQUISERVE_CACHE_DIR"] = old
    same = all(np.array_equal(getattr(zn, k), getattr(zc, k)) for k in ("x", "u", "length_m"))
    print(f"    network_from_osm(walk, cache=True), second call + CSR: {t_load:.3f} s "
          f"(cached load, best of 3; {'same arrays' if same else 'DIFFERENT arrays'})")
    t_ox, (gox, n_ferry) = timed(lambda: osmnx_walk(osm), 2)
    print(f"    osmnx {ox.__version__} graph_from_xml(simplify=False, retain_all=True, "
          f"bidirectional=True) + equiserve's walk filter on edge tags + project_graph: "
          f"{t_ox:.3f} s (best of 2)")
    row("zhuhai: walk network, cold build", t_osm, t_ox,
        "osmnx graph_from_xml+walk filter+project")
    row("zhuhai: walk network, cached load", t_load, None, "(equiserve cache)")

    # compare: undirected segments (osmnx has both directions of each), projected lengths
    ferry = zn.is_ferry
    nodes_ours = np.unique(np.concatenate([zn.u[~ferry], zn.v[~ferry]]))
    edges = list(gox.edges(keys=True))
    n_seg = len(edges) // 2
    xs = {n: (d["x"], d["y"]) for n, d in gox.nodes(data=True)}
    proj = sum(float(np.hypot(xs[a][0] - xs[b][0], xs[a][1] - xs[b][1]))
               for a, b, _ in edges) / 2
    great = float(sum(d["length"] for _, _, d in gox.edges(data=True))) / 2
    ours = float(zn.length_m[~ferry].sum())
    ids_ours = set(zn.node_id[nodes_ours].tolist())
    ids_ox = set(gox.nodes)
    same = (ids_ours == ids_ox and n_seg == int((~ferry).sum())
            and abs(proj - ours) <= 1e-6 * ours)
    print(f"    check (ferries aside: equiserve {int(ferry.sum())} ferry edges, osmnx "
          f"{n_ferry} ferry segments): nodes {len(ids_ours):,} / {len(ids_ox):,} (same OSM ids: "
          f"{ids_ours == ids_ox}), segments {int((~ferry).sum()):,} / {n_seg:,}, length "
          f"{ours / 1000:,.3f} / {proj / 1000:,.3f} km in {gox.graph['crs']} (osmnx's own "
          f"great-circle 'length' {great / 1000:,.3f} km) -> "
          f"{'SAME' if same else 'DIFFERENT'}")
    if not same:
        only_ours, only_ox = ids_ours - ids_ox, ids_ox - ids_ours
        print(f"      nodes only in equiserve: {len(only_ours)} {sorted(only_ours)[:5]}; "
              f"only in osmnx: {len(only_ox)} {sorted(only_ox)[:5]}")
    return zn


# ----------------------------------------------------------------------------------
# main


def bench_synthetic(args: argparse.Namespace, rng: np.random.Generator, side: int,
                    n_cells: int, n_fac: int) -> None:
    """Steps 1-5 on the synthetic street grid."""
    pdna, pdna_reason = ensure_pandana()
    print("pandana: " + (f"version {getattr(pdna, '__version__', '?')}" if pdna else
                         f"not installable here: {pdna_reason}"), flush=True)

    # 1. build ------------------------------------------------------------------------
    x, y, u, v, length = street_grid(side, rng)
    t_arr, _ = timed(lambda: Network.from_arrays(x, y, u, v, length, crs="EPSG:32649"))
    t_build, net = timed(lambda: queryable(Network.from_arrays(x, y, u, v, length,
                                                               crs="EPSG:32649")))
    print(f"\n[1] synthetic grid: {net.n_nodes:,} nodes, {net.n_edges:,} edges; "
          f"Network.from_arrays alone {t_arr:.3f} s (arrays checked, CSR deferred); "
          f"with the CSR a query needs (nearest(limit=0) builds it) {t_build:.3f} s "
          f"(best of 3)")
    t0 = time.perf_counter()
    G = nx_graph(net)
    t_nxb = time.perf_counter() - t0
    print(f"    networkx Graph from the same arrays: {t_nxb:.2f} s")
    check_same_graph(net, G, "synthetic")
    row("synthetic: build to a queryable graph", t_build, t_nxb,
        "networkx Graph from the same arrays")
    bench_components(net, G, x, y, u, v, length, "synthetic")

    # 2-4. nearest --------------------------------------------------------------------
    print(f"\n[2-4] nearest source for every node, layers {LAYERS}", flush=True)
    sources = layer_sources(net.n_nodes, rng)
    on_main = args.quick or args.pandana_full
    bench_nearest(net, sources, "synthetic", rng, G=G, pandana_mod=pdna if on_main else None,
                  pandana_reason=pdna_reason)
    if pdna is not None and not on_main:
        # pandana's contraction hierarchy takes minutes at 250k nodes (about 400 s here):
        # compare on a 50k-node grid of the same kind instead (--pandana-full for 250k)
        prng = np.random.default_rng(SEED + 1)
        pnet = Network.from_arrays(*street_grid(224, prng))
        psrc = layer_sources(pnet.n_nodes, prng)
        pt, pours = [], []
        for s in psrc:
            t, (cost, _) = timed(lambda s=s: pnet.nearest(s))
            pt.append(t)
            pours.append(cost)
        print(f"[synthetic-50k] pandana on a {pnet.n_nodes:,}-node grid of the same kind "
              f"(use --pandana-full for 250k); equiserve nearest there: "
              + ", ".join(f"{t:.3f}" for t in pt) + f" s; total {sum(pt):.3f} s")
        psample = prng.choice(pnet.n_nodes, size=3000, replace=False)
        bench_pandana(pnet, psrc, pours, "synthetic-50k", psample, sum(pt), pdna)

    # 5. cells, facilities, OD --------------------------------------------------------
    print(f"\n[5] {n_cells:,} cells x {n_fac:,} facilities", flush=True)
    xmin, xmax, ymin, ymax = x.min(), x.max(), y.min(), y.max()
    cx = rng.uniform(xmin - 100, xmax + 100, n_cells)
    cy = rng.uniform(ymin - 100, ymax + 100, n_cells)
    fx = rng.uniform(xmin, xmax, n_fac)
    fy = rng.uniform(ymin, ymax, n_fac)
    t_sc, cells = timed(lambda: net.snap(cx, cy, limit_m=500))
    t_sf, facs = timed(lambda: net.snap(fx, fy, limit_m=500))
    print(f"    snap {n_cells:,} cells: {t_sc:.3f} s ({cells.ok.sum():,} snapped, "
          f"mean access {np.mean(cells.access_m[cells.ok]):.1f} m); "
          f"snap {n_fac:,} facilities: {t_sf:.3f} s")
    row(f"snap {n_cells // 1000}k cells + {n_fac} facilities", t_sc + t_sf, None, "")

    # network_nearest_facility for five facility layers (from the snapped facilities)
    nnf_t = []
    for k in LAYERS:
        k = min(k, n_fac)
        fl = facs.subset(np.arange(k))
        t, res = timed(lambda fl=fl, k=k: network_nearest_facility(net, cells, fl,
                                                                   np.arange(k), "length"))
        nnf_t.append(t)
    fin = np.isfinite(res.cost)
    print(f"    network_nearest_facility, 5 layers "
          f"({', '.join(str(min(k, n_fac)) for k in LAYERS)} facilities): "
          + ", ".join(f"{t:.3f}" for t in nnf_t) + f" s; total {sum(nnf_t):.3f} s "
          f"(last layer: {fin.sum():,} cells reached, median {np.median(res.cost[fin]):.0f} m)")
    row("cells: network_nearest_facility x5", sum(nnf_t), None, "")

    with tempfile.TemporaryDirectory() as tmp:
        inputs, out = Path(tmp) / "od_inputs.npz", Path(tmp) / "od.npz"
        save_od_inputs(inputs, net, cells, facs)
        print(f"    Network.od within {CUTOFF_M:.0f} m, in a fresh subprocess ...", flush=True)
        r = subprocess.run([sys.executable, __file__, "--od-worker", str(inputs), str(out)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("    OD worker failed:\n" + r.stderr[-3000:])
            od = None
        else:
            info = json.loads(r.stdout.strip().splitlines()[-1])
            od = sp.load_npz(out).tocsr()
            grow = info["rss_after_mb"] - info["rss_before_mb"]
            print(f"    Network.od: {info['time_s']:.3f} s, {info['pairs']:,} pairs "
                  f"({info['pairs'] / max(1, facs.ok.sum()):.0f} cells per facility), "
                  f"matrix {info['shape'][0]:,} x {info['shape'][1]:,} "
                  f"(targets: < 10 s, < 2 GB)")
            hwm, vm0 = info["vmhwm_during_mb"], info["vmrss_before_mb"]
            if hwm is not None and vm0 is not None:
                print(f"    memory (subprocess): RSS {vm0:.0f} MB before OD, peak RSS during "
                      f"OD {hwm:.0f} MB (+{hwm - vm0:.0f} MB for the step); tracemalloc "
                      f"peak of a second OD run {info['tracemalloc_peak_mb']:.0f} MB "
                      f"(numpy buffers included)")
            print(f"    ru_maxrss before/after OD: {info['rss_before_mb']:.0f} / "
                  f"{info['rss_after_mb']:.0f} MB (+{grow:.0f} MB; a child's ru_maxrss "
                  f"starts at the parent's RSS at fork, so it hides the step when the "
                  f"parent is bigger)")
            row(f"OD {n_fac}x{n_cells // 1000}k within 2 km", info["time_s"], None, "")
    if od is not None:
        n_time, n_check = 200, 20
        spent, n_done, worst, missing, extra = check_od_with_networkx(
            G, net, cells, facs, od, n_time, n_check, rng)
        est = spent * facs.ok.sum() / n_done
        print(f"    networkx bounded single_source_dijkstra from {n_done} facilities: "
              f"{spent:.2f} s -> {est:.1f} s for {facs.ok.sum():,} (EXTRAPOLATED; Dijkstra "
              f"only, without mapping cells)")
        ok = worst <= 1e-6 and missing == 0 and extra == 0
        print(f"    OD check vs networkx on {n_check} facility columns: max |diff| "
              f"{worst:.2e} m, missing {missing}, extra {extra} -> "
              f"{'EQUAL' if ok else 'DIFFERENT'}")
        ROWS[-1] = (ROWS[-1][0], ROWS[-1][1], est,
                    f"networkx bounded SSSP (extrapolated from {n_done})")
    del G
    gc.collect()



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50k nodes, 20k cells")
    ap.add_argument("--pandana-full", action="store_true",
                    help="run pandana on the 250k-node graph too (its CH build alone took "
                         "about 400 s here); default: on a 50k-node grid")
    ap.add_argument("--zhuhai-only", action="store_true", help="only step 6 (Zhuhai)")
    ap.add_argument("--od-worker", nargs=2, metavar=("INPUTS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.od_worker:
        od_worker(*args.od_worker)
        return

    np.random.seed(SEED)  # noqa: NPY002  (any library drawing from the global RNG)
    rng = np.random.default_rng(SEED)
    side = 224 if args.quick else 500
    n_cells = 20_000 if args.quick else 100_000
    n_fac = 500 if args.quick else 2_000
    t_start = time.perf_counter()
    print(f"equiserve network benchmark ({'quick' if args.quick else 'full'}); "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)

    if not args.zhuhai_only:
        bench_synthetic(args, rng, side, n_cells, n_fac)

    # 6. Zhuhai -----------------------------------------------------------------------
    base = Path(os.environ.get("EQUISERVE_ZHUHAI_DATA", "/work/shared/data/zhuhai"))
    osm = base / "osm" / "zhuhai.osm"
    print(f"\n[6] real network: {osm}", flush=True)
    if not osm.is_file():
        print("    skipped: file not found (set EQUISERVE_ZHUHAI_DATA)")
    else:
        zn = bench_zhuhai_build(osm)
        zsrc = layer_sources(zn.n_nodes, rng,
                             tuple(min(k, max(1, zn.n_nodes // 10)) for k in LAYERS))
        zG = nx_graph(zn)
        check_same_graph(zn, zG, "zhuhai, networkx from the same arrays")
        bench_nearest(zn, zsrc, "zhuhai", rng, G=zG, pandana_mod=None, floor=False)

    # table ---------------------------------------------------------------------------
    print(f"\nTotal benchmark time {time.perf_counter() - t_start:.0f} s\n")
    w = max(len(r[0]) for r in ROWS)
    print(f"{'step':<{w}}  {'equiserve s':>11}  {'peer s':>9}  {'ratio':>7}  peer")
    print("-" * (w + 50))
    for step, ours, peer, name in ROWS:
        ratio = f"{peer / ours:.1f}x" if ours and peer else "-"
        print(f"{step:<{w}}  {fmt_s(ours):>11}  {fmt_s(peer):>9}  {ratio:>7}  {name}")


if __name__ == "__main__":
    main()
