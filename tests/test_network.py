"""Street networks checked against networkx shortest paths and brute-force geometry."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from equiserve.analysis.network_nearest import network_nearest_facility
from equiserve.errors import DataError
from equiserve.network import Network, network_from_osm
from equiserve.network.osm import BuildOptions, parse_duration_min, parse_maxspeed
from equiserve.network.service_areas import (
    _dilate_disk,
    dissolved_grid_buffer,
    network_service_areas,
    reached_pieces,
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))


def random_street_graph(n_side: int = 30, seed: int = 0, oneway_share: float = 0.0):
    """A jittered grid with a few edges removed, some one-way; metres."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n_side) * 100.0, np.arange(n_side) * 100.0)
    x = gx.ravel() + rng.normal(0, 15, gx.size)
    y = gy.ravel() + rng.normal(0, 15, gy.size)
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.1
    u, v = u[keep], v[keep]
    oneway = rng.random(len(u)) < oneway_share
    return x, y, u, v, oneway


def to_nx(x, y, u, v, oneway, length=None):
    G = nx.DiGraph()
    length = np.hypot(x[v] - x[u], y[v] - y[u]) if length is None else length
    for a, b, ow, w in zip(u.tolist(), v.tolist(), oneway.tolist(), length.tolist(),
                           strict=True):
        G.add_edge(a, b, weight=w)
        if not ow:
            G.add_edge(b, a, weight=w)
    G.add_nodes_from(range(len(x)))
    return G


@pytest.mark.parametrize("oneway_share", [0.0, 0.3])
def test_nearest_matches_networkx_multi_source(oneway_share):
    x, y, u, v, ow = random_street_graph(oneway_share=oneway_share)
    net = Network.from_arrays(x, y, u, v, oneway=ow)
    rng = np.random.default_rng(1)
    sources = rng.choice(len(x), 12, replace=False)
    offsets = rng.uniform(0, 200, 12)
    G = to_nx(x, y, u, v, ow)
    for reverse in (False, True):
        H = G.reverse() if reverse else G.copy()
        for i, (s, off) in enumerate(zip(sources, offsets, strict=True)):
            H.add_edge(("src", i), int(s), weight=float(off))
        ref = nx.multi_source_dijkstra_path_length(H, [("src", i) for i in range(12)])
        cost, label = net.nearest(sources, offsets, labels=np.arange(12) * 10, reverse=reverse)
        for node in range(len(x)):
            if node in ref:
                assert cost[node] == pytest.approx(ref[node], abs=1e-6)
            else:
                assert np.isinf(cost[node]) and label[node] == -1
        # the label names a source that achieves the minimum
        reached = np.flatnonzero(np.isfinite(cost))
        src_of = {i * 10: i for i in range(12)}
        for node in reached[::37]:
            i = src_of[int(label[node])]
            d = nx.dijkstra_path_length(H, ("src", i), int(node))
            assert d == pytest.approx(cost[node], abs=1e-6)


def test_snap_is_the_exact_nearest_segment():
    x, y, u, v, ow = random_street_graph(n_side=15, seed=3)
    net = Network.from_arrays(x, y, u, v)
    rng = np.random.default_rng(2)
    px, py = rng.uniform(-300, 1700, 2000), rng.uniform(-300, 1700, 2000)
    snap = net.snap(px, py, limit_m=250)
    segs = shapely.linestrings(np.stack([np.column_stack([x[u], x[v]]),
                                         np.column_stack([y[u], y[v]])], axis=-1))
    d_all = shapely.distance(shapely.points(px, py)[:, None], segs[None, :])
    best = d_all.min(axis=1)
    assert (snap.ok == (best <= 250)).all()
    np.testing.assert_allclose(snap.access_m[snap.ok], best[snap.ok], atol=1e-6)
    # the snap point lies on its edge at fraction t
    e = snap.edge[snap.ok]
    t = snap.t[snap.ok]
    np.testing.assert_allclose(snap.px[snap.ok], x[u[e]] + t * (x[v[e]] - x[u[e]]), atol=1e-6)
    assert set(np.unique(snap.reason[~snap.ok])) <= {"too far"}


def split_graph(net: Network, points: dict[str, object], oneway: np.ndarray):
    """networkx graph with every snapped point inserted into its edge (independent of the
    Network's own point arithmetic)."""
    G = nx.DiGraph()
    on_edge: dict[int, list] = {}
    for kind, snap in points.items():
        for i in np.flatnonzero(snap.ok):
            on_edge.setdefault(int(snap.edge[i]), []).append((snap.t[i], (kind, int(i))))
            G.add_edge((kind, int(i)), ("road", kind, int(i)), weight=float(snap.access_m[i]))
            G.add_edge(("road", kind, int(i)), (kind, int(i)), weight=float(snap.access_m[i]))
    for e in range(net.n_edges):
        a, b, length = int(net.u[e]), int(net.v[e]), float(net.length_m[e])
        chain = [(0.0, a)] + sorted((t, ("road",) + key) for t, key in on_edge.get(e, [])) + [
            (1.0, b)]
        for (t0, n0), (t1, n1) in zip(chain[:-1], chain[1:], strict=True):
            G.add_edge(n0, n1, weight=(t1 - t0) * length)
            if not oneway[e]:
                G.add_edge(n1, n0, weight=(t1 - t0) * length)
    return G


@pytest.mark.parametrize("oneway_share", [0.0, 0.25])
def test_cell_to_facility_costs_match_split_graph(oneway_share):
    x, y, u, v, ow = random_street_graph(n_side=12, seed=5, oneway_share=oneway_share)
    net = Network.from_arrays(x, y, u, v, oneway=ow)
    rng = np.random.default_rng(6)
    cells = net.snap(rng.uniform(0, 1100, 400), rng.uniform(0, 1100, 400), limit_m=200)
    fx, fy = rng.uniform(0, 1100, 25), rng.uniform(0, 1100, 25)
    # put two facilities on the same edges as cells, to exercise the direct same-edge way
    fx[:2], fy[:2] = cells.px[:2] + 1.0, cells.py[:2]
    facs = net.snap(fx, fy, limit_m=200)
    owner = np.arange(25)
    res = network_nearest_facility(net, cells, facs, owner, "length")
    G = split_graph(net, {"cell": cells, "fac": facs}, ow)
    ref = nx.multi_source_dijkstra_path_length(
        G.reverse(), [("fac", int(i)) for i in np.flatnonzero(facs.ok)])
    for i in np.flatnonzero(cells.ok):
        exp = ref.get(("cell", int(i)), np.inf)
        assert res.cost[i] == pytest.approx(exp, abs=1e-6), i
    # bounded OD agrees pair by pair with the same graph
    od = net.od(cells, facs, cutoff=600.0)
    coo = od.tocoo()
    got = {(int(i), int(j)): c for i, j, c in zip(coo.row, coo.col, coo.data, strict=True)}
    expected = {}
    GR = G.reverse()
    for j in np.flatnonzero(facs.ok):
        dist = nx.single_source_dijkstra_path_length(GR, ("fac", int(j)), cutoff=600.0)
        for i in np.flatnonzero(cells.ok):
            if ("cell", int(i)) in dist:
                expected[(int(i), int(j))] = dist[("cell", int(i))]
    assert set(got) == set(expected)
    for key, c in expected.items():
        assert got[key] == pytest.approx(c, abs=1e-6)


def test_od_keeps_zero_distance_pairs_explicitly():
    net = Network.from_arrays([0, 100], [0, 0], [0], [1])
    pts = net.snap(np.array([50.0, 90.0]), np.array([0.0, 0.0]))
    od = net.od(pts, pts.subset(np.array([0])), cutoff=100)
    assert od.nnz == 2  # (0, 0) at distance 0 is a stored pair
    assert od[0, 0] == 0 and od[1, 0] == pytest.approx(40.0)


def test_time_weight_and_access_leg_at_walking_speed():
    net = Network.from_arrays([0, 1000], [0, 0], [0], [1], speed_kmh=36.0)  # 10 m/s
    cells = net.snap(np.array([1000.0]), np.array([30.0]))
    facs = net.snap(np.array([0.0]), np.array([-45.0]))
    res = network_nearest_facility(net, cells, facs, np.array([0]), "time")
    walk = net.access_speed_mps
    assert res.cost[0] == pytest.approx(1000 / 10 + 30 / walk + 45 / walk)


def test_unreachable_nodes_and_components():
    # two separate segments
    net = Network.from_arrays([0, 100, 500, 600], [0, 0, 0, 0], [0, 2], [1, 3])
    cost, label = net.nearest([0])
    assert np.isinf(cost[2:]).all() and (label[2:] == -1).all()
    assert len(np.unique(net.components)) == 2


def test_networkx_round_trip():
    x, y, u, v, ow = random_street_graph(n_side=8, seed=9, oneway_share=0.2)
    net = Network.from_arrays(x, y, u, v, oneway=ow)
    back = Network.from_networkx(net.to_networkx(), crs=net.crs)
    a, _ = net.nearest([0, 5])
    b, _ = back.nearest([0, 5])
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_service_area_does_not_cross_a_river():
    # two street grids 300 m apart (a river), no bridge; facility on the west bank
    xs, ys, us, vs = [], [], [], []
    for x0 in (0.0, 1300.0):
        base = len(xs)
        gx, gy = np.meshgrid(np.arange(11) * 100.0 + x0, np.arange(11) * 100.0)
        xs += gx.ravel().tolist()
        ys += gy.ravel().tolist()
        idx = base + np.arange(121).reshape(11, 11)
        us += idx[:, :-1].ravel().tolist() + idx[:-1, :].ravel().tolist()
        vs += idx[:, 1:].ravel().tolist() + idx[1:, :].ravel().tolist()
    net = Network.from_arrays(xs, ys, us, vs)
    facs = net.snap(np.array([950.0]), np.array([500.0]))
    nodes, offsets, which = net.source_offsets(facs, "length")
    cost, label = net.nearest(nodes, offsets, which, reverse=True)
    per_facility, whole = network_service_areas(net, cost, label, 1000.0, 1, width_m=40,
                                                per_facility=True)
    assert per_facility[0].equals(whole)  # one facility: its area is the layer's
    none, area = network_service_areas(net, cost, label, 1000.0, 1, width_m=40)
    assert none is None  # the default: dissolved only, on the same pixels, outlined by
    # marching squares (corners cut) rather than by pixel edges: a few % larger
    assert whole.area < area.area < 1.05 * whole.area
    east_bank = shapely.box(1300, 0, 2300, 1000)
    assert area.area > 0
    assert not area.intersects(east_bank)
    assert shapely.Point(950, 500).buffer(1000).intersects(east_bank)  # a circle would cross
    # and every point of the area is within 1000 m + width by street of the facility
    assert area.bounds[0] >= 950 - 1000 - 40 - 1e-6


def test_dissolved_service_area_against_exact_buffers():
    # a street grid of 100 m blocks and three facilities: the dissolved grid area is the
    # exact GEOS buffer of the reached pieces less 4.5 % (50 m) to 7.5 % (30 m: streets
    # along pixel edges, the worst case; the per-facility grid's pixel outlines 4-13 %),
    # they differ from it on 5-11 % of its area; the per-facility areas' union is the
    # per-facility grid's whole; the pieces are the same either way
    gx, gy = np.meshgrid(np.arange(21) * 100.0, np.arange(21) * 100.0)
    idx = np.arange(441).reshape(21, 21)
    us = idx[:, :-1].ravel().tolist() + idx[:-1, :].ravel().tolist()
    vs = idx[:, 1:].ravel().tolist() + idx[1:, :].ravel().tolist()
    net = Network.from_arrays(gx.ravel(), gy.ravel(), us, vs)
    facs = net.snap(np.array([450.0, 1500.0, 1830.0]), np.array([450.0, 1520.0, 300.0]))
    nodes, offsets, which = net.source_offsets(facs, "length")
    cost, label = net.nearest(nodes, offsets, which, reverse=True)
    lines, _ = reached_pieces(net, cost, label, 600.0)
    for width in (30.0, 50.0):
        exact = shapely.union_all(shapely.buffer(lines, width))
        per, whole = network_service_areas(net, cost, label, 600.0, 3, width_m=width,
                                           per_facility=True)
        _, area = network_service_areas(net, cost, label, 600.0, 3, width_m=width)
        assert 0.9 * exact.area < area.area < exact.area
        assert 0.85 * exact.area < whole.area < exact.area
        assert shapely.area(shapely.symmetric_difference(area, exact)) < 0.12 * exact.area
        assert area.area == pytest.approx(whole.area, rel=0.07)
        assert shapely.union_all(per).area == pytest.approx(whole.area, rel=1e-9)
        assert not shapely.is_empty(per).any()


def test_dissolved_buffer_by_parts_equals_one_grid():
    # streets in three clusters: two 100 m apart (one part: their blocks touch), one 20 km
    # away (a part of its own): the far cluster's polygons are those it gets alone, the
    # near ones' too (up to the smoothing, which depends on where a ring starts: a few
    # pixels), and all are within 10 % of the exact GEOS buffer
    rng = np.random.default_rng(5)
    starts = np.concatenate([rng.uniform(0, 800, (60, 2)), rng.uniform(900, 1700, (60, 2)),
                             rng.uniform(0, 800, (60, 2)) + 20_000])
    segments = np.stack([starts, starts + rng.uniform(-150, 150, starts.shape)], axis=1)
    width = 50.0
    area = dissolved_grid_buffer(segments, width)
    far = dissolved_grid_buffer(segments[120:], width)
    near = dissolved_grid_buffer(segments[:120], width)
    assert shapely.get_num_geometries(area) == (shapely.get_num_geometries(far)
                                                + shapely.get_num_geometries(near))
    assert area.area == pytest.approx(far.area + near.area, rel=1e-3)
    far_part = shapely.intersection(area, shapely.box(19_000, 19_000, 3e4, 3e4))
    assert shapely.symmetric_difference(far_part, far).area < 0.005 * far.area
    exact = shapely.union_all(shapely.buffer(shapely.linestrings(segments), width))
    assert 0.9 * exact.area < area.area < exact.area
    assert shapely.area(shapely.symmetric_difference(area, exact)) < 0.12 * exact.area


def test_dilate_disk_equals_a_distance_transform():
    from scipy.ndimage import distance_transform_edt

    rng = np.random.default_rng(3)
    mask = rng.random((120, 90)) < 0.01
    mask[:5], mask[-5:], mask[:, :5], mask[:, -5:] = False, False, False, False
    for radius in (1.0, 1.5, 2.5, 4.2):
        expected = distance_transform_edt(~mask) <= radius
        np.testing.assert_array_equal(_dilate_disk(mask, radius), expected)


# ---------------------------------------------------------------------------------------
# OSM: ferries, islands, filters, cache, bad input

FERRY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="22.2500" lon="113.5000" version="1"/>
  <node id="2" lat="22.2500" lon="113.5100" version="1"/>
  <node id="3" lat="22.2500" lon="113.5200" version="1"/>
  <node id="11" lat="22.2000" lon="113.5200" version="1"/>
  <node id="12" lat="22.2000" lon="113.5300" version="1"/>
  <node id="21" lat="22.1500" lon="113.6000" version="1"/>
  <node id="22" lat="22.1500" lon="113.6100" version="1"/>
  <node id="30" lat="22.2250" lon="113.5210" version="1"/>
  <node id="41" lat="22.2510" lon="113.5000" version="1"/>
  <way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="101" version="1"><nd ref="11"/><nd ref="12"/><tag k="highway" v="residential"/></way>
  <way id="102" version="1"><nd ref="21"/><nd ref="22"/><tag k="highway" v="residential"/></way>
  <way id="103" version="1"><nd ref="3"/><nd ref="30"/><nd ref="11"/>
    <tag k="route" v="ferry"/><tag k="duration" v="00:20"/><tag k="interval" v="01:00"/>
    <tag k="name" v="Pier ferry"/></way>
  <way id="104" version="1"><nd ref="1"/><nd ref="41"/>
    <tag k="highway" v="motorway"/></way>
</osm>
"""


@pytest.fixture
def ferry_osm(tmp_path):
    path = tmp_path / "islands.osm"
    path.write_text(FERRY_OSM, encoding="utf-8")
    return path


def test_ferry_links_one_island_and_not_the_other(ferry_osm):
    net = network_from_osm(ferry_osm, mode="walk", crs="EPSG:32649", walk_speed_kmh=3.6)
    assert net.is_ferry.sum() == 1
    assert 41 not in set(net.node_id.tolist())  # motorway not walkable
    assert 30 not in set(net.node_id.tolist())  # a ferry's point at sea is not a node
    ids = {int(n): i for i, n in enumerate(net.node_id)}
    comp = net.components
    assert comp[ids[1]] == comp[ids[11]] != comp[ids[21]]
    ferry = np.flatnonzero(net.is_ferry)[0]
    # wait = half the 60 min interval, crossing = 20 min duration
    assert net.time_fwd_s[ferry] == pytest.approx((30 + 20) * 60)
    # mainland node 1 -> island node 12 by time: walk 1->3, ferry, walk 11->12 (1 m/s)
    cost, _ = net.nearest([ids[1]], weight="time")
    x, y = net.x, net.y

    def seg(a, b):
        return np.hypot(x[ids[b]] - x[ids[a]], y[ids[b]] - y[ids[a]])

    assert (~net.is_ferry).sum() == 4  # 1-2, 2-3, 11-12, 21-22
    d13 = seg(1, 2) + seg(2, 3)
    d1112 = seg(11, 12)
    assert cost[ids[12]] == pytest.approx(d13 + 50 * 60 + d1112, rel=1e-9)
    assert np.isinf(cost[ids[21]])  # the island without a ferry is unreachable, not dropped
    drive = network_from_osm(ferry_osm, mode="drive", crs="EPSG:32649")
    assert 41 in set(drive.node_id.tolist())


def test_cache_is_keyed_by_content_and_options(ferry_osm):
    a = network_from_osm(ferry_osm, mode="walk")
    b = network_from_osm(ferry_osm, mode="walk")
    assert a.info["cache"].startswith("saved") and b.info["cache"].startswith("loaded")
    np.testing.assert_array_equal(a.time_fwd_s, b.time_fwd_s)
    c = network_from_osm(ferry_osm, mode="walk", ferry_wait_min=5.0)
    assert c.info["cache"].startswith("saved")
    ferry = np.flatnonzero(c.is_ferry)[0]
    assert c.time_fwd_s[ferry] == pytest.approx((5 + 20) * 60)
    ferry_osm.write_text(FERRY_OSM.replace("00:20", "00:40"), encoding="utf-8")
    d = network_from_osm(ferry_osm, mode="walk")
    assert d.info["cache"].startswith("saved")


def test_not_an_osm_file(tmp_path):
    bad = tmp_path / "roads.osm"
    bad.write_text("this is not xml", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable OSM file"):
        network_from_osm(bad, "walk", cache=False)


def test_no_ways_for_mode(tmp_path):
    path = tmp_path / "paths.osm"
    path.write_text(FERRY_OSM.replace('v="residential"', 'v="footway"')
                    .replace('<tag k="highway" v="motorway"/>', '<tag k="highway" v="steps"/>')
                    .replace('<tag k="route" v="ferry"/>', '<tag k="route" v="hiking"/>'),
                    encoding="utf-8")
    with pytest.raises(DataError, match="no ways usable for mode 'drive'"):
        network_from_osm(path, "drive", cache=False)
    assert network_from_osm(path, "walk", cache=False).n_edges == 5  # 4 footway + 1 steps


def test_oneway_respected_for_drive(tmp_path):
    osm = FERRY_OSM.replace('<tag k="highway" v="residential"/></way>\n  <way id="101"',
                            '<tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>'
                            '\n  <way id="101"', 1)
    path = tmp_path / "oneway.osm"
    path.write_text(osm, encoding="utf-8")
    drive = network_from_osm(path, "drive", cache=False, options=BuildOptions())
    ids = {int(n): i for i, n in enumerate(drive.node_id)}
    fwd, _ = drive.nearest([ids[1]])
    back, _ = drive.nearest([ids[3]])
    assert np.isfinite(fwd[ids[3]]) and np.isinf(back[ids[1]])
    walk = network_from_osm(path, "walk", cache=False)
    wids = {int(n): i for i, n in enumerate(walk.node_id)}
    assert np.isfinite(walk.nearest([wids[3]])[0][wids[1]])


def test_osm_value_parsers():
    assert parse_maxspeed("40") == 40.0 and parse_maxspeed("none") is None
    assert parse_duration_min("1:00:30") == pytest.approx(60.5)


# ---------------------------------------------------------------------------------------
# real data: central Xiangzhou against osmnx + networkx


@pytest.mark.realdata
def test_zhuhai_walk_distances_match_networkx(zhuhai_data):
    import osmnx as ox

    path = zhuhai_data / "osm" / "zhuhai.osm"
    net = network_from_osm(path, mode="walk", crs="EPSG:32649", cache=False)
    tags = ["highway", "foot", "access", "area", "service", "route"]
    old = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = list(dict.fromkeys([*old, *tags]))
    try:
        G = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = old
    from equiserve.network.osm import _walkable

    Gp = ox.project_graph(G, to_crs="EPSG:32649")
    H = nx.Graph()
    for a, b, d in Gp.edges(data=True):
        way_tags = {k: d[k] for k in tags if isinstance(d.get(k), str)}
        if not _walkable(way_tags):
            continue
        w = float(np.hypot(Gp.nodes[a]["x"] - Gp.nodes[b]["x"],
                           Gp.nodes[a]["y"] - Gp.nodes[b]["y"]))
        if not H.has_edge(a, b) or H[a][b]["weight"] > w:
            H.add_edge(a, b, weight=w)
    ids = {int(n): i for i, n in enumerate(net.node_id)}
    common = sorted(set(H.nodes) & set(ids))
    assert len(common) > 0.9 * net.n_nodes
    rng = np.random.default_rng(42)
    checked = 0
    for a in rng.choice(common, 20, replace=False):
        ref = nx.single_source_dijkstra_path_length(H, int(a))
        cost, _ = net.nearest([ids[int(a)]])
        targets = rng.choice(common, 10, replace=False)
        for b in targets:
            exp = ref.get(int(b), np.inf)
            got = cost[ids[int(b)]]
            if np.isinf(exp):
                assert np.isinf(got)
            else:
                assert got == pytest.approx(exp, abs=0.1)
            checked += 1
    assert checked == 200


def test_bz2_compressed_osm_reads_the_same(ferry_osm, tmp_path):
    import bz2

    packed = tmp_path / "islands.osm.bz2"
    packed.write_bytes(bz2.compress(ferry_osm.read_bytes()))
    a = network_from_osm(ferry_osm, "walk", cache=False)
    b = network_from_osm(packed, "walk", cache=False)
    np.testing.assert_array_equal(a.node_id, b.node_id)
    np.testing.assert_allclose(a.length_m, b.length_m)


def test_dissolved_buffer_of_a_part_too_large_for_marching_squares(monkeypatch):
    # above CONTOUR_MAX_PIXELS a part is outlined by pixel edges (1 byte a pixel): the same
    # ground within a few per cent, every piece inside, valid polygons
    import equiserve.network.service_areas as sa

    rng = np.random.default_rng(5)
    starts = rng.uniform(0, 1600, (120, 2))
    segments = np.stack([starts, starts + rng.uniform(-150, 150, starts.shape)], axis=1)
    contour = dissolved_grid_buffer(segments, 50.0)
    monkeypatch.setattr(sa, "CONTOUR_MAX_PIXELS", 0)
    edges = dissolved_grid_buffer(segments, 50.0)
    assert edges.is_valid and contour.is_valid
    assert edges.area == pytest.approx(contour.area, rel=0.03)
    assert shapely.symmetric_difference(edges, contour).area < 0.1 * contour.area
    assert shapely.covers(edges.buffer(1.0), shapely.linestrings(segments)).all()
