"""What a user would write without equiserve, against equiserve, on the same study.

The question: "what share of children aged 6-11 live within 500 m walk of a primary
school, per group of regions (east / west / island)?", on the scaled synthetic demo
(``equiserve demo --scale N``: streets.osm.pbf, population.tif band 2 = children_6_11,
schools.gpkg with level == 'primary', regions.gpkg with a ``group`` field).

The plain script (``plain()``, no equiserve import; it runs in its own process):

1. pyrosm ``get_network("walking")`` (one edge per pair of consecutive OSM nodes),
   projected to EPSG:32649; edge length = projected segment length. (pyrosm is not an
   equiserve dependency: ``pip install pyrosm`` is run if it is missing.)
2. networkx ``Graph`` of the edges (parallel edges: the shortest kept).
3. rasterio: one point per pixel with children > 0 (the pixel centre); geopandas
   ``sjoin`` to the regions for the group.
4. Cells and primary schools snapped to their nearest edge within 500 m
   (``sjoin_nearest``), the foot of the perpendicular found with
   ``shapely.line_locate_point``: the access leg (point to street) plus the walk along
   the edge to either end, as equiserve measures it.
5. One networkx Dijkstra from a virtual source joined to both ends of every school's
   edge (weight: school access leg + along the edge), cutoff 500 m; a cell's distance is
   its access leg + the cheaper end; a cell on a school's own edge also gets the direct
   way along the edge.
6. Children within 500 m / children, per group.

equiserve: ``Study.load`` of the same study.toml with only the primary-school layer
(network cache off: it builds the walk network from the PBF as the plain script does) and
``Study.coverage()``; the group rows of its summary. A second equiserve run with
``[network] attach = "nearest"`` (points to their nearest segment, whatever it is, the
plain script's rule) shows which part of the difference is the attachment rules.

Each side runs in a fresh subprocess: wall time (``perf_counter``, inputs read included,
interpreter start and imports not) and peak RSS (``VmHWM`` of that process). Nothing about
time is asserted; the per-group shares are checked (the script exits 1 if they differ by
more than the tolerance printed).

Usage::

    python benchmarks/bench_plain.py                 # 8x demo (inputs generated, ~25 s)
    python benchmarks/bench_plain.py --quick         # 1x demo
    python benchmarks/bench_plain.py --inputs DIR    # an existing DIR/inputs (or DIR)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = "primary_schools"
STANDARD_M = 500.0
SNAP_M = 500.0
CRS = "EPSG:32649"
#: Largest accepted difference of a group's share, percentage points, plain script vs
#: equiserve with attach = "nearest" (the same method: only ties between equidistant
#: segments, float rounding and the ferries, km long, that the plain graph lacks).
#: Against equiserve's default attachment the bound is, per group, this plus the share
#: of its children that equiserve attaches to a street other than their nearest segment
#: (no access line across water, the part of the network that leads to a school rather
#: than a nearer fragment): only their distances can differ.
TOL_SAME_PP = 0.05


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ----------------------------------------------------------------------------------
# the plain script


def plain(inputs: Path) -> dict:
    """pyrosm + networkx + geopandas/rasterio; returns stage times and per-group counts."""
    import geopandas as gpd
    import networkx as nx
    import numpy as np
    import pyrosm
    import rasterio
    import shapely

    stages: dict[str, float] = {}
    t0 = last = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        stages[name] = now - last
        last = now

    # 1. streets
    _, edges = pyrosm.OSM(str(inputs / "streets.osm.pbf")).get_network(network_type="walking",
                                                                       nodes=True)  # u, v
    edges = edges[["u", "v", "geometry"]].to_crs(CRS).reset_index(drop=True)
    length = edges.geometry.length.to_numpy()
    stage("read streets (pyrosm walking) + project")

    # 2. graph: shortest of parallel edges wins (added last)
    order = np.argsort(-length, kind="stable")
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    G = nx.Graph()
    G.add_weighted_edges_from(zip(u[order].tolist(), v[order].tolist(),
                                  length[order].tolist(), strict=True))
    stage("networkx Graph")

    # 3. children per raster cell, group by region
    with rasterio.open(inputs / "population.tif") as ds:
        kids = ds.read(2, masked=True).filled(0.0)
        rows, cols = np.nonzero(kids > 0)
        xs, ys = rasterio.transform.xy(ds.transform, rows, cols)  # pixel centres
    cells = gpd.GeoDataFrame({"children": kids[rows, cols].astype(float)},
                             geometry=gpd.points_from_xy(xs, ys), crs=CRS)
    regions = gpd.read_file(inputs / "regions.gpkg").to_crs(CRS)
    joined = gpd.sjoin(cells, regions[["group", "geometry"]], predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    cells = cells.loc[joined.index].assign(group=joined["group"])
    schools = gpd.read_file(inputs / "schools.gpkg").to_crs(CRS).query("level == 'primary'")
    stage("read population + regions + schools")

    # 4. snap to the nearest edge: access leg and position along it
    def snap(points: gpd.GeoDataFrame):
        near = gpd.sjoin_nearest(points[["geometry"]], edges[["geometry"]],
                                 max_distance=SNAP_M, distance_col="access")
        near = near[~near.index.duplicated(keep="first")]  # ties: one edge each
        e = near["index_right"].to_numpy()
        along = shapely.line_locate_point(edges.geometry.values[e], near.geometry.values)
        t = np.clip(along / np.maximum(length[e], 1e-12), 0.0, 1.0)
        return near.index.to_numpy(), e, t, near["access"].to_numpy()

    c_idx, c_e, c_t, c_acc = snap(cells)
    s_idx, s_e, s_t, s_acc = snap(schools)
    stage("snap cells + schools to nearest edge")

    # 5. one Dijkstra from all schools (virtual source), cutoff 500 m
    src = "schools"
    start: dict[int, float] = {}
    for e, t, a in zip(s_e.tolist(), s_t.tolist(), s_acc.tolist(), strict=True):
        for node, w in ((int(u[e]), a + t * length[e]), (int(v[e]), a + (1 - t) * length[e])):
            start[node] = min(w, start.get(node, np.inf))
    G.add_weighted_edges_from((src, n, w) for n, w in start.items())
    dist = nx.single_source_dijkstra_path_length(G, src, cutoff=STANDARD_M)
    G.remove_node(src)
    du = np.array([dist.get(n, np.inf) for n in u[c_e].tolist()])
    dv = np.array([dist.get(n, np.inf) for n in v[c_e].tolist()])
    L = length[c_e]
    cost = c_acc + np.minimum(c_t * L + du, (1 - c_t) * L + dv)
    # a cell on a school's own edge: straight along the edge
    by_edge: dict[int, list[int]] = {}
    for k, e in enumerate(s_e.tolist()):
        by_edge.setdefault(e, []).append(k)
    for i in np.flatnonzero(np.isin(c_e, s_e)).tolist():
        for k in by_edge[int(c_e[i])]:
            direct = c_acc[i] + abs(c_t[i] - s_t[k]) * L[i] + s_acc[k]
            cost[i] = min(cost[i], direct)
    stage("Dijkstra (networkx, cutoff 500 m) + cell distances")

    # 6. share per group
    covered = np.zeros(len(cells), bool)
    covered[cells.index.get_indexer(c_idx)] = cost <= STANDARD_M
    cells["covered"] = cells["children"] * covered
    groups = cells.groupby("group")[["children", "covered"]].sum()
    stage("share per group")
    elapsed, peak = time.perf_counter() - t0, peak_rss_mb()
    naive = nearest_node_shares(cells, schools, edges, G)
    return {"time_s": elapsed, "stages": stages, "peak_mb": peak,
            "groups": {g: [float(r.children), float(r.covered)] for g, r in groups.iterrows()},
            "naive": naive,
            "size": f"{G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges, "
                    f"{len(cells):,} cells, {len(schools)} schools"}


def nearest_node_shares(cells, schools, edges, G) -> dict[str, float]:
    """The shortcut many scripts take (osmnx ``nearest_nodes`` style): cells and schools
    to their nearest graph NODE, distance = network distance between the nodes (no access
    leg, no walk along the first and last edge). Not timed; shows what the method
    changes."""
    import networkx as nx
    import numpy as np
    import shapely
    from scipy.spatial import cKDTree

    geoms = edges.geometry.values  # each edge runs from u to v
    ids = np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()])
    xy = np.concatenate([shapely.get_coordinates(shapely.get_point(geoms, 0)),
                         shapely.get_coordinates(shapely.get_point(geoms, -1))])
    ids, first = np.unique(ids, return_index=True)
    tree = cKDTree(xy[first])
    school_nodes = ids[tree.query(shapely.get_coordinates(schools.geometry.values))[1]]
    dist = nx.multi_source_dijkstra_path_length(G, set(school_nodes.tolist()),
                                                cutoff=STANDARD_M)
    cell_nodes = ids[tree.query(shapely.get_coordinates(cells.geometry.values))[1]]
    d = np.array([dist.get(n, np.inf) for n in cell_nodes.tolist()])
    covered = cells["children"] * (d <= STANDARD_M)
    return {str(g): float(100 * covered[cells["group"] == g].sum() / k)
            for g, k in cells.groupby("group")["children"].sum().items()}


# ----------------------------------------------------------------------------------
# equiserve


def equiserve_side(inputs: Path, attach: str) -> dict:
    """``Study.load`` (the primary-school layer only, network built from the PBF) and
    ``coverage()``; the group rows of the summary."""
    sys.path.insert(0, str(ROOT))  # the checkout this file sits in
    from equiserve import Study, parse_config

    raw = tomllib.loads((inputs / "study.toml").read_text(encoding="utf-8"))
    raw["layers"] = {LAYER: raw["layers"][LAYER]}
    raw.pop("life_circle", None)
    raw["network"]["cache"] = False
    raw["network"]["attach"] = attach
    cfg = parse_config(raw, inputs)
    t0 = time.perf_counter()
    study = Study.load(cfg)
    t1 = time.perf_counter()
    result = study.coverage()
    t2 = time.perf_counter()
    s = result.summary
    rows = s[(s["layer"] == LAYER) & (s["level"] == "group")]
    net = study.networks["walk"]
    # children attached to a street other than their nearest segment (the attachment
    # rules): the only cells whose distance can differ from the plain script's
    pop = study.population
    moved = study.cell_snap(LAYER).moved_code != 0
    kids = pop.counts(study.layers[LAYER].serves)
    group = study.regions.groups[pop.region]
    return {"moved": {str(g): float(kids[moved & (group == g)].sum()) for g in set(group)},
            "time_s": t2 - t0, "stages": {"Study.load (network built, cells attached)": t1 - t0,
                                          "coverage()": t2 - t1},
            "peak_mb": peak_rss_mb(),
            "groups": {r["name"]: [float(r["population"]), float(r["covered_population"])]
                       for _, r in rows.iterrows()},
            "size": f"{net.n_nodes:,} nodes, {net.n_edges:,} edges "
                    f"({int(net.is_ferry.sum())} ferries, shortest "
                    f"{net.length_m[net.is_ferry].min() if net.is_ferry.any() else 0:,.0f} m), "
                    f"{len(study.population):,} cells, {len(study.layers[LAYER])} schools"}


# ----------------------------------------------------------------------------------
# main


def ensure_pyrosm() -> None:
    """pyrosm is not an equiserve dependency: ``pip install pyrosm`` if it is missing
    (as bench_network.py does for pandana); exit with pip's error if that fails."""
    import importlib.util

    if importlib.util.find_spec("pyrosm") is not None:
        return
    print("pyrosm not installed; trying `pip install pyrosm` ...", flush=True)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyrosm"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit("the plain script needs pyrosm; pip install pyrosm failed:\n"
                         + (r.stderr or r.stdout)[-2000:])


def run_side(side: str, inputs: Path, *extra: str) -> dict:
    r = subprocess.run([sys.executable, __file__, "--side", side, str(inputs), *extra],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=8, help="demo scale (default 8)")
    ap.add_argument("--quick", action="store_true", help="the 1x demo")
    ap.add_argument("--inputs", type=Path, help="existing demo inputs (DIR or DIR/inputs)")
    ap.add_argument("--side", nargs=2, metavar=("SIDE", "INPUTS"), help=argparse.SUPPRESS)
    ap.add_argument("--attach", default="street", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        side, inputs = args.side[0], Path(args.side[1])
        out = plain(inputs) if side == "plain" else equiserve_side(inputs, args.attach)
        print(json.dumps(out))
        return
    scale = 1 if args.quick else args.scale
    ensure_pyrosm()
    with tempfile.TemporaryDirectory() as tmp:
        if args.inputs is not None:
            inputs = args.inputs / "inputs" if (args.inputs / "inputs").is_dir() else args.inputs
        else:
            sys.path.insert(0, str(ROOT))
            from equiserve.datasets.demo.scale import write_scaled_demo_inputs

            inputs = Path(tmp) / "inputs"
            t0 = time.perf_counter()
            write_scaled_demo_inputs(inputs, scale)
            print(f"demo x{scale} inputs written in {time.perf_counter() - t0:.1f} s "
                  f"({inputs})", flush=True)
        print(f"share of children within {STANDARD_M:.0f} m walk of a primary school, per "
              f"group: {inputs}", flush=True)
        sides = {"plain": run_side("plain", inputs),
                 "equiserve": run_side("equiserve", inputs),
                 "equiserve nearest": run_side("equiserve", inputs, "--attach", "nearest")}
    report(sides)


def report(sides: dict[str, dict]) -> None:
    names = {"plain": "plain script (pyrosm + networkx + geopandas)",
             "equiserve": "equiserve Study.load + coverage",
             "equiserve nearest": "equiserve, [network] attach = \"nearest\""}
    for key, res in sides.items():
        print(f"\n{names[key]}: {res['time_s']:.2f} s, peak RSS {res['peak_mb']:.0f} MB; "
              f"{res['size']}")
        for stage, t in res["stages"].items():
            print(f"    {t:8.2f} s  {stage}")
    p, e, n = sides["plain"], sides["equiserve"], sides["equiserve nearest"]
    print(f"\n{'group':<8} {'children':>11} {'plain %':>9} {'equiserve %':>12} "
          f"{'diff pp':>8} {'es-nearest %':>13} {'diff pp':>8}")
    worst_same = 0.0
    ok_rules = True
    for g in sorted(p["groups"]):
        kids, cov = p["groups"][g]
        share = 100 * cov / kids
        es = 100 * e["groups"][g][1] / e["groups"][g][0]
        en = 100 * n["groups"][g][1] / n["groups"][g][0]
        bound = TOL_SAME_PP + 100 * e["moved"].get(g, 0.0) / kids
        ok_rules &= abs(es - share) <= bound
        worst_same = max(worst_same, abs(en - share))
        if abs(e["groups"][g][0] - kids) > 1e-6 * kids:
            print(f"   children of {g} differ: plain {kids:,.1f}, equiserve "
                  f"{e['groups'][g][0]:,.1f}")
        print(f"{g:<8} {kids:>11,.0f} {share:>9.3f} {es:>12.3f} {es - share:>+8.4f} "
              f"{en:>13.3f} {en - share:>+8.4f}   bound {bound:.3f} pp "
              f"({e['moved'].get(g, 0.0):,.0f} children attached off their nearest way); "
              f"covered children plain {cov:,.2f}, equiserve {e['groups'][g][1]:,.2f}")
    shortcut = []
    for g, share in sorted(p["naive"].items()):
        diff = share - 100 * p["groups"][g][1] / p["groups"][g][0]
        shortcut.append(f"{g} {share:.3f} % ({diff:+.3f} pp)")
    print("the shortcut (cells and schools to their nearest graph node, no access leg, "
          "not timed): " + ", ".join(shortcut))
    ratio_t = p["time_s"] / e["time_s"]
    ratio_m = p["peak_mb"] / e["peak_mb"]
    print(f"\ntime: plain {p['time_s']:.2f} s, equiserve {e['time_s']:.2f} s -> "
          f"{ratio_t:.1f}x; peak RSS: plain {p['peak_mb']:.0f} MB, equiserve "
          f"{e['peak_mb']:.0f} MB -> {ratio_m:.1f}x")
    ok_same = worst_same <= TOL_SAME_PP
    print(f"check: plain vs equiserve attach=nearest (same method): max |diff| "
          f"{worst_same:.4f} pp (tolerance {TOL_SAME_PP} pp) -> "
          f"{'AGREE' if ok_same else 'DIFFERENT'}")
    print(f"check: plain vs equiserve (street rules): each group within its bound -> "
          f"{'AGREE' if ok_rules else 'DIFFERENT'}")
    if not (ok_same and ok_rules):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
