"""Network.od (bounded cell x facility costs on parts of the network) checked against
networkx shortest paths on a graph with every point inserted into its edge."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import equiserve.network.graph as graph
from equiserve.network import Network


def street_grid(n_side: int, seed: int, spacing: float = 100.0, oneway_share: float = 0.2):
    """A jittered grid with a few edges removed and some one-way; metres."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n_side) * spacing, np.arange(n_side) * spacing)
    x = gx.ravel() + rng.normal(0, 0.15 * spacing, gx.size)
    y = gy.ravel() + rng.normal(0, 0.15 * spacing, gy.size)
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.1
    return x, y, u[keep], v[keep], rng.random(int(keep.sum())) < oneway_share


def with_fast_links(net: Network, links: list[tuple[int, int, float]]) -> Network:
    """``net`` plus straight two-way edges (a, b) travelled at ``speed`` m/s (ferries)."""
    a = np.array([lk[0] for lk in links])
    b = np.array([lk[1] for lk in links])
    length = np.hypot(net.x[b] - net.x[a], net.y[b] - net.y[a])
    t = length / np.array([lk[2] for lk in links])
    return Network(net.x, net.y, np.r_[net.u, a], np.r_[net.v, b], np.r_[net.length_m, length],
                   np.r_[net.time_fwd_s, t], np.r_[net.time_bwd_s, t],
                   np.r_[net.is_ferry, np.ones(len(a), bool)], net.crs)


def point_graph(net: Network, cells, facs, weight: str) -> nx.DiGraph:
    """networkx graph of the network with every snapped point inserted into its edge and
    its access leg, costed in ``weight`` (built from the edge arrays, not from Network)."""
    fwd = net.length_m if weight == "length" else net.time_fwd_s
    bwd = net.length_m if weight == "length" else net.time_bwd_s
    if weight == "length":
        fwd = np.where(np.isfinite(net.time_fwd_s), fwd, np.inf)
        bwd = np.where(np.isfinite(net.time_bwd_s), bwd, np.inf)
    leg = 1.0 if weight == "length" else 1.0 / net.access_speed_mps
    G = nx.DiGraph()
    on_edge: dict[int, list] = {}
    for kind, snap in (("cell", cells), ("fac", facs)):
        for i in np.flatnonzero(snap.ok):
            key = (kind, int(i))
            on_edge.setdefault(int(snap.edge[i]), []).append((float(snap.t[i]), key))
            G.add_edge(key, ("road", *key), weight=float(snap.access_m[i]) * leg)
            G.add_edge(("road", *key), key, weight=float(snap.access_m[i]) * leg)
    for e in range(net.n_edges):
        chain = ([(0.0, int(net.u[e]))]
                 + sorted((t, ("road", *key)) for t, key in on_edge.get(e, []))
                 + [(1.0, int(net.v[e]))])
        for (t0, n0), (t1, n1) in zip(chain[:-1], chain[1:], strict=True):
            for a, b, cost in ((n0, n1, fwd[e]), (n1, n0, bwd[e])):
                if np.isfinite(cost):
                    w = (t1 - t0) * float(cost)
                    if not G.has_edge(a, b) or G[a][b]["weight"] > w:
                        G.add_edge(a, b, weight=w)
    return G


def reference_od(G: nx.DiGraph, cells, facs, cutoff: float) -> dict[tuple[int, int], float]:
    GR = G.reverse()
    out = {}
    for j in np.flatnonzero(facs.ok):
        dist = nx.single_source_dijkstra_path_length(GR, ("fac", int(j)), cutoff=cutoff)
        for key, c in dist.items():
            if isinstance(key, tuple) and key[0] == "cell":
                out[(key[1], int(j))] = c
    return out


def as_dict(od) -> dict[tuple[int, int], float]:
    coo = od.tocoo()
    return {(int(i), int(j)): float(c) for i, j, c in zip(coo.row, coo.col, coo.data,
                                                          strict=True)}


def random_points(net: Network, n: int, seed: int, extent: float):
    rng = np.random.default_rng(seed)
    return net.snap(rng.uniform(-50, extent + 50, n), rng.uniform(-50, extent + 50, n),
                    limit_m=150)


@pytest.mark.parametrize(("weight", "cutoff", "fast"), [
    ("length", 350.0, []),
    ("time", 300.0, []),
    # a fast ferry (20 m/s) within the cutoff: the parts grow, the costs stay exact
    ("time", 300.0, [(0, 24 * 25 + 24, 20.0)]),
    # a ferry dearer than the cutoff: it is left out of the bound
    ("time", 300.0, [(3, 20 * 25 + 20, 0.5)]),
    ("length", np.inf, []),
])
def test_od_matches_networkx_pair_by_pair(weight, cutoff, fast):
    x, y, u, v, ow = street_grid(25, seed=11)
    net = Network.from_arrays(x, y, u, v, oneway=ow)
    if fast:
        net = with_fast_links(net, fast)
    cells = random_points(net, 300, 1, 2400.0)
    facs = random_points(net, 30, 2, 2400.0)
    # two facilities on the edges of cells: the direct way along a shared edge
    facs.edge[:2], facs.t[:2], facs.ok[:2] = cells.edge[:2], cells.t[:2] * 0.5, cells.ok[:2]
    got = as_dict(net.od(cells, facs, cutoff, weight=weight))
    expected = reference_od(point_graph(net, cells, facs, weight), cells, facs, cutoff)
    assert set(got) == set(expected)
    for key, c in expected.items():
        assert got[key] == pytest.approx(c, rel=1e-12, abs=1e-9), key
    if np.isfinite(cutoff) and not fast:
        # the parts searched are small: each destination's is far from the whole network
        reach = net.reach(weight, cutoff)
        assert reach < 0.5 * np.ptp(net.x)


def test_od_is_the_same_in_any_batches(monkeypatch):
    x, y, u, v, ow = street_grid(20, seed=4)
    net = Network.from_arrays(x, y, u, v, oneway=ow)
    cells = random_points(net, 400, 5, 1900.0)
    facs = random_points(net, 40, 6, 1900.0)
    whole = net.od(cells, facs, 400.0)
    calls = []
    one = net.od(cells, facs, 400.0, chunk_size=1, progress=lambda d, n: calls.append((d, n)))
    monkeypatch.setattr(graph, "_PART_NODES", 50)
    small = net.od(cells, facs, 400.0)
    for other in (one, small):
        assert (other.indptr == whole.indptr).all() and (other.indices == whole.indices).all()
        assert (other.data == whole.data).all()
    searched = int(facs.ok.sum())
    assert calls[-1] == (searched, searched) and len(calls) == searched


def test_parts_grow_with_the_city_not_its_square(monkeypatch):
    """Copied nodes per destination stay the same when the city is tiled: linear cost."""
    x, y, u, v, ow = street_grid(15, seed=8)
    copied: list[int] = []
    members = graph._Parts.members

    def counting(self, batch):
        owner, node = members(self, batch)
        copied.append(len(node))
        return owner, node

    monkeypatch.setattr(graph._Parts, "members", counting)
    per_destination = []
    for k in (1, 4):
        n = len(x)
        net = Network.from_arrays(np.concatenate([x + 3000.0 * i for i in range(k)]),
                                  np.tile(y, k), np.concatenate([u + n * i for i in range(k)]),
                                  np.concatenate([v + n * i for i in range(k)]),
                                  oneway=np.tile(ow, k))
        rng = np.random.default_rng(3)
        fx, fy = rng.uniform(0, 1400, 20), rng.uniform(0, 1400, 20)
        facs = net.snap(np.concatenate([fx + 3000.0 * i for i in range(k)]), np.tile(fy, k))
        cells = net.snap(np.concatenate([fx[::-1] + 3000.0 * i for i in range(k)]),
                         np.tile(fy, k))
        copied.clear()
        od = net.od(cells, facs, 300.0)
        assert od.nnz > 0
        per_destination.append(sum(copied) / int(facs.ok.sum()))
    assert per_destination[1] == per_destination[0] < len(x) / 2


def test_min_cost_per_metre_is_the_least_edge_ratio():
    x, y, u, v, ow = street_grid(8, seed=2)
    net = with_fast_links(Network.from_arrays(x, y, u, v, oneway=ow), [(0, 63, 7.0)])
    straight = np.hypot(x[net.v] - x[net.u], y[net.v] - y[net.u])
    for weight in ("length", "time"):
        cost = np.minimum(*net._edge_cost(weight))
        for cutoff in (np.inf, 50.0, float(cost.max()) / 2):
            use = cost <= cutoff
            expected = (cost[use] / straight[use]).min() if use.any() else np.inf
            assert net.min_cost_per_metre(weight, cutoff) == pytest.approx(expected,
                                                                             rel=1e-12)


def test_zero_length_edges_between_distinct_points_use_the_whole_network():
    # a "teleport" of length 0 between far nodes: no distance bound, still exact
    net = Network.from_arrays([0, 100, 5000, 5100], [0, 0, 0, 0], [0, 1, 2], [1, 2, 3],
                              length_m=[100.0, 0.0, 100.0])
    cells = net.snap(np.array([5100.0]), np.array([0.0]))
    facs = net.snap(np.array([0.0]), np.array([0.0]))
    assert net.reach("length", 250.0) > 1e9  # eps per 4,900 m: every node in every part
    assert as_dict(net.od(cells, facs, 250.0)) == {(0, 0): pytest.approx(200.0)}


def test_no_destination_or_no_origin_attached():
    net = Network.from_arrays([0, 100], [0, 0], [0], [1])
    far = net.snap(np.array([50.0]), np.array([9000.0]))
    near = net.snap(np.array([50.0]), np.array([1.0]))
    assert net.od(near, far, 100.0).nnz == 0
    assert net.od(far, near, 100.0).nnz == 0
    assert net.od(near, near, 100.0).toarray().tolist() == [[2.0]]  # two 1 m legs


@pytest.fixture(scope="module")
def tiny_network_study(tmp_path_factory):
    import warnings

    from equiserve import Study
    from equiserve.errors import DataQualityWarning
    from equiserve.testing import write_tiny_study

    path = write_tiny_study(tmp_path_factory.mktemp("tiny_od") / "in", network=True,
                            school_std='{ mode = "walk", distance_m = 800 }')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return Study.load(path)


def test_study_od_is_built_once_and_read_only(tiny_network_study):
    from equiserve.analysis.od import network_od

    s = tiny_network_study
    od = s.od("schools")
    assert s.od("schools") is od and s.od("schools", 800) is od
    assert s.od("schools", 400) is not od
    with pytest.raises(ValueError, match="read-only"):
        od.data[:] = 0
    lay = s.layers["schools"]
    fresh = network_od(s.networks["walk"], s.cell_snap("schools"), s.facility_snaps["schools"],
                       lay.access_facility, len(lay), 800.0)
    assert od.nnz > 0 and (od != fresh).nnz == 0 and (od.indices == fresh.indices).all()


def test_a_plan_study_rebuilds_the_costs_of_its_changed_layers(tiny_network_study):
    from dataclasses import replace

    from equiserve.errors import DataQualityWarning
    from equiserve.notes import Notes

    s = tiny_network_study
    schools, clinics = s.od("schools"), s.od("clinics")
    with pytest.warns(DataQualityWarning):  # the schools' attachment notes, again
        plan = s.with_layers(dict(s.layers), Notes(), changed=["schools"])
    assert plan.od("clinics") is clinics  # untouched layer: the same costs
    again = plan.od("schools")  # attached anew: built anew (same facilities, same costs)
    assert again is not schools and (again != schools).nnz == 0
    moved = replace(s.layers["clinics"])  # another layer object under the same name
    assert s.with_layers({**s.layers, "clinics": moved}, Notes(), changed=[]).od(
        "clinics") is not clinics


@pytest.mark.slow
def test_bench_od_quick_runs():
    """benchmarks/bench_od.py --quick: equiserve and networkx agree pair by pair."""
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_od.py"
    proc = subprocess.run([sys.executable, str(bench), "--quick"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "2x" in proc.stdout
