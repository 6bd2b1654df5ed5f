"""Attaching people and facilities to the street a person walks from (issue 12).

Small hand-built OSM files show each rule; distances are checked against networkx on the
same ways with the expected attachment points inserted (computed here with shapely, on
the ways a person can step onto, independently of equiserve's attachment code).

Layout (metres east/north of an origin in UTM 49N):

* a surface street along y = 0 from x = -300 to 700, nodes every 100 m;
* a service tunnel (``tunnel=yes``, ``layer=-3``, ``access=destination``) 5 m north of the
  street from x = 250 to 350, reached only by a long ramp loop to the street's west end;
* a platform (``railway=platform``) 20 m north, from x = 200 to 400, joined to the street;
* an indoor corridor fragment (``indoor=yes``) at y = 40 and a two-node flight of steps at
  y = -40, joined to nothing;
* an island 3 km east (its own land and grid, no ferry).
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from equiserve import Study
from equiserve.errors import DataQualityWarning
from equiserve.network import AttachRules, network_from_osm

CRS = "EPSG:32649"
X0, Y0 = 720_000.0, 2_460_000.0
STREET = [(x, 0.0) for x in range(-300, 701, 100)]
TUNNEL = [(250.0, 5.0), (350.0, 5.0), (350.0, -300.0), (-300.0, -300.0), (-300.0, 0.0)]
PLATFORM = [(200.0, 20.0), (400.0, 20.0)]
PLATFORM_LINK = [(200.0, 0.0), (200.0, 20.0)]
CORRIDOR = [(100.0, 40.0), (115.0, 40.0), (130.0, 40.0)]
STEPS = [(390.0, -40.0), (410.0, -40.0)]
ISLAND = [[(3000.0 + 100 * i, 100.0 * k) for i in range(4)] for k in range(4)]
WAYS = [
    (STREET, {"highway": "residential"}),
    (TUNNEL, {"highway": "service", "tunnel": "yes", "layer": "-3",
              "access": "destination"}),
    (PLATFORM, {"highway": "footway", "railway": "platform"}),
    (PLATFORM_LINK, {"highway": "footway"}),
    (CORRIDOR, {"highway": "footway", "indoor": "yes"}),
    (STEPS, {"highway": "steps"}),
    *[(row, {"highway": "residential"}) for row in ISLAND],
    *[([ISLAND[k][i] for k in range(4)], {"highway": "residential"}) for i in range(4)],
]
#: Ways a person steps onto (the rules, written out independently): street, link, island.
SURFACE = [0, 3, *range(6, len(WAYS))]

#: People: over the tunnel, by the corridor, by the steps, on the island, 800 m out.
PEOPLE = {"over_tunnel": (300.0, 7.0), "by_corridor": (115.0, 38.0),
          "by_steps": (400.0, -38.0), "on_island": (3150.0, 150.0), "far": (0.0, 800.0)}
#: Schools on the platform and over the tunnel (none on the island); a clinic south of
#: the street, 10 m from the person over the tunnel.
SCHOOLS = {"platform_school": (300.0, 21.0), "tunnel_school": (330.0, 4.5)}
CLINICS = {"clinic": (300.0, -3.0)}


def _osm(ways: list) -> str:
    to_ll = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)
    nodes: dict[tuple[float, float], int] = {}
    root = ET.Element("osm", version="0.6")
    for pts, _ in ways:
        for p in pts:
            if p not in nodes:
                nodes[p] = len(nodes) + 1
                lon, lat = to_ll.transform(X0 + p[0], Y0 + p[1])
                ET.SubElement(root, "node", id=str(nodes[p]), lat=f"{lat:.9f}",
                              lon=f"{lon:.9f}", version="1")
    for w, (pts, tags) in enumerate(ways, start=1):
        way = ET.SubElement(root, "way", id=str(w), version="1")
        for p in pts:
            ET.SubElement(way, "nd", ref=str(nodes[p]))
        for k, v in tags.items():
            ET.SubElement(way, "tag", k=k, v=v)
    return ET.tostring(root, encoding="unicode")


def write_study(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "streets.osm").write_text(_osm(WAYS), encoding="utf-8")
    land = [shapely.box(X0 - 600, Y0 - 600, X0 + 1000, Y0 + 1000),
            shapely.box(X0 + 2900, Y0 - 100, X0 + 3400, Y0 + 400)]
    gpd.GeoDataFrame({"name": ["Mainland", "Isle"], "group": ["main", "island"]},
                     geometry=land, crs=CRS).to_crs(4326).to_file(folder / "regions.geojson")
    gpd.GeoDataFrame({"pop": np.full(len(PEOPLE), 10.0), "who": list(PEOPLE)},
                     geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in PEOPLE.values()],
                     crs=CRS).to_file(folder / "people.gpkg", layer="people")
    for file, points in (("schools.csv", SCHOOLS), ("clinics.csv", CLINICS)):
        ll = gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y) for x, y in points.values()],
                           crs=CRS).to_crs(4326)
        pd.DataFrame({"name": list(points), "lon": ll.x, "lat": ll.y}).to_csv(
            folder / file, index=False)
    path = folder / "study.toml"
    path.write_text(f"""
[study]
name = "attachment"
[regions]
source = "regions.geojson"
name_field = "name"
group_field = "group"
[population]
type = "vector"
source = "people.gpkg"
count_field = "pop"
[network]
source = "streets.osm"
{extra}
[layers.schools]
kind = "school"
source = "schools.csv"
crs = "EPSG:4326"
standard = {{ mode = "walk", distance_m = 3000 }}
[layers.clinics]
kind = "clinic"
source = "clinics.csv"
crs = "EPSG:4326"
standard = {{ mode = "walk", distance_m = 3000 }}
""", encoding="utf-8")
    return path


def load(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(path)
        return study, study.coverage()


@pytest.fixture
def study_and_coverage(tmp_path, monkeypatch):
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))
    return load(write_study(tmp_path / "in"))


def surface_point(x: float, y: float) -> tuple[int, shapely.Point]:
    """Way index and point of the nearest way a person steps onto, over the ways joined
    to the mainland streets (independent of equiserve)."""
    main = [0, 3]  # the street and the platform link lead somewhere
    lines = [shapely.LineString(WAYS[i][0]) for i in main]
    p = shapely.Point(x, y)
    d = [ln.distance(p) for ln in lines]
    j = int(np.argmin(d))
    return main[j], lines[j].interpolate(lines[j].project(p))


def networkx_distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Walking distance from a to b on every way (tunnels included: they are routable),
    both attached to their surface point, the off-street legs as straight lines."""
    G = nx.Graph()
    for pts, _ in WAYS:
        for p, q in zip(pts[:-1], pts[1:], strict=True):
            G.add_edge(p, q, w=float(np.hypot(q[0] - p[0], q[1] - p[1])))
    ends = []
    for pt in (a, b):
        i, s = surface_point(*pt)
        q = (s.x, s.y)
        for p0, p1 in zip(WAYS[i][0][:-1], WAYS[i][0][1:], strict=True):
            if shapely.LineString([p0, p1]).distance(s) < 1e-6:
                G.add_edge(p0, q, w=float(np.hypot(q[0] - p0[0], q[1] - p0[1])))
                G.add_edge(q, p1, w=float(np.hypot(p1[0] - q[0], p1[1] - q[1])))
                break
        ends.append((q, float(np.hypot(q[0] - pt[0], q[1] - pt[1]))))
    (qa, la), (qb, lb) = ends
    return la + nx.shortest_path_length(G, qa, qb, weight="w") + lb


def test_people_and_schools_attach_to_the_street_they_walk_from(study_and_coverage):
    study, cov = study_and_coverage
    cells, schools = study.cell_snap("schools"), study.facility_snaps["schools"]
    net = study.networks["walk"]
    who = list(PEOPLE)
    street = {k for k, t in enumerate(net.tag_sets) if t.get("highway") == "residential"}
    for i in (who.index("over_tunnel"), who.index("by_corridor"), who.index("by_steps")):
        assert net.edge_tags[cells.edge[i]] in street, who[i]
    assert list(cells.moved[:3]) == ["tunnel", "indoor", "fragment"]
    assert list(schools.moved) == ["platform", "tunnel"]
    assert cells.access_m[0] == pytest.approx(7.0, abs=0.01)
    assert cells.shift_m[0] == pytest.approx(5.0, abs=0.01)
    # the distances are the walk from the street above, not through the tunnel's loop
    dist = cov.layers["schools"].distance
    for i, name in enumerate(who[:3]):
        expect = min(networkx_distance(PEOPLE[name], s) for s in SCHOOLS.values())
        assert dist[i] == pytest.approx(expect, abs=0.01), name
    assert dist[0] < 60  # 7 m up, 30 m along, 4.5 m down to the tunnel school's street
    clinic = cov.layers["clinics"].distance[0]
    assert clinic == pytest.approx(networkx_distance(PEOPLE["over_tunnel"],
                                                     CLINICS["clinic"]), abs=0.01)
    assert clinic == pytest.approx(10.0, abs=0.01)  # straight across the street


def test_the_naive_nearest_method_gives_what_the_issue_saw(tmp_path, monkeypatch):
    """With ``attach = "nearest"`` the person over the tunnel starts in it: the clinic 10 m
    away is 1.3 km by the tunnel's loop; people by fragments are unreachable."""
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))
    study, cov = load(write_study(tmp_path / "in", 'attach = "nearest"'))
    assert cov.layers["clinics"].distance[0] > 1300
    d = cov.layers["schools"].distance
    assert np.isinf(d[1]) and np.isinf(d[2])


def test_who_is_unreachable_and_why(study_and_coverage):
    study, cov = study_and_coverage
    d = cov.layers["schools"].distance
    assert np.isinf(d[3]) and np.isinf(d[4]) and np.isfinite(d[:3]).all()
    snap = study.cell_snap("schools")
    assert snap.ok[3] and not snap.ok[4] and snap.reason[4] == "too far"
    text = "\n".join(n.message for n in [*study.notes, *cov.notes])
    assert "10 people live on land (an island) with no schools facility (no street or ferry " \
           "link): Isle 10" in text
    assert "1 populated cells (10 people) are farther than the snapping limit" in text
    assert "30 people (60.0%) in 3 cells are attached to a street other than their nearest " \
           "way: fragment 10, indoor 10, tunnel 10 people" in text
    assert "2 of 2 facilities are attached to a walk street other than their nearest way " \
           "(platform 1, tunnel 1)" in text


def test_only_tunnels_within_the_limit_is_said(tmp_path, monkeypatch):
    """A point whose only way within the limit is a tunnel is not attached to it."""
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))
    osm = tmp_path / "t.osm"
    osm.write_text(_osm([(STREET, {"highway": "residential"}),
                         ([(0.0, 900.0), (200.0, 900.0)], {"highway": "service",
                                                           "tunnel": "yes"})]),
                   encoding="utf-8")
    net = network_from_osm(osm, crs=CRS, cache=False)
    snap = net.snap(np.array([X0 + 100.0]), np.array([Y0 + 905.0]), limit_m=500,
                    rules=AttachRules())
    assert not snap.ok[0] and snap.reason[0] == "not eligible"
    assert net.snap(np.array([X0 + 100.0]), np.array([Y0 + 905.0]), limit_m=500).ok[0]


@pytest.mark.parametrize("tags,reason", [
    ({"tunnel": "yes"}, "tunnel"), ({"tunnel": "building_passage"}, "tunnel"),
    ({"layer": "-1"}, "underground"), ({"layer": "-1", "cutting": "yes"}, ""),
    ({"layer": "-2", "location": "surface"}, ""), ({"layer": "1", "bridge": "yes"}, ""),
    ({"indoor": "yes"}, "indoor"), ({"highway": "corridor"}, "indoor"),
    ({"highway": "elevator"}, "indoor"), ({"public_transport": "platform"}, "platform"),
    ({"railway": "platform"}, "platform"), ({"access": "private"}, "private"),
    ({"access": "private", "foot": "yes"}, ""), ({"access": "destination"}, ""),
    ({"highway": "steps"}, ""),
])
def test_the_rules_table(tags, reason):
    assert AttachRules().reason({"highway": "footway", **tags}) == reason


def test_rules_are_overridden_per_study(tmp_path, monkeypatch):
    """``attach_exclude = { tunnel = [] }`` makes tunnels attachable again."""
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))
    study, cov = load(write_study(tmp_path / "in", "attach_exclude = { tunnel = [] }\n"
                                                   "attach_underground = false"))
    assert study.cell_snap("schools").moved[0] == ""  # into the tunnel again
    rules = AttachRules.with_overrides({"tunnel": [], "indoor": ["yes"]}, underground=False)
    assert rules.reason({"tunnel": "yes", "layer": "-3"}) == ""
    assert rules.reason({"indoor": "room"}) == ""


# -- the fast path against brute force on the demo's streets (issue 16)

#: A limit under which no point of the test exhausts the widest search (512 pieces), so
#: the attachment is exact everywhere and brute force must agree with it.
BRUTE_LIMIT_M = 300.0
#: Distances closer than this are ties (brute force and the projection round apart).
TIE_M = 1e-6


@pytest.fixture(scope="module")
def demo_streets(tmp_path_factory):
    """The demo's walk network with 300 fragments added, every 7th edge a tunnel and
    every 11th indoor; 2,500 random points in a window of its centre (and 20 beyond the
    streets); land with a 200 m river and a lake cut out of it."""
    from equiserve.datasets.demo import write_demo_inputs
    from equiserve.network import Network

    folder = tmp_path_factory.mktemp("demo_attach")
    write_demo_inputs(folder)
    demo = network_from_osm(folder / "streets.osm.pbf", "walk", crs=CRS, cache=False)
    cx, cy = float(np.median(demo.x)), float(np.median(demo.y))
    rng = np.random.default_rng(16)
    k, n = 300, demo.n_nodes  # 300 fragments: 15 m steps joined to nothing
    fx, fy = rng.uniform(cx - 1200, cx + 1200, k), rng.uniform(cy - 1200, cy + 1200, k)
    net = Network.from_arrays(np.concatenate([demo.x, fx, fx + 15.0]),
                              np.concatenate([demo.y, fy, fy]),
                              np.concatenate([demo.u, np.arange(n, n + k)]),
                              np.concatenate([demo.v, np.arange(n + k, n + 2 * k)]),
                              is_ferry=np.concatenate([demo.is_ferry, np.zeros(k, bool)]))
    e = np.arange(net.n_edges)
    net.tag_sets = [{"highway": "footway"}, {"highway": "footway", "tunnel": "yes"},
                    {"highway": "footway", "indoor": "yes"}]
    net.edge_tags = np.where(e % 7 == 0, 1, np.where(e % 11 == 0, 2, 0))
    window = shapely.box(cx - 1200, cy - 1200, cx + 1200, cy + 1200)
    river = shapely.box(cx - 5000, cy - 100, cx + 5000, cy + 100)
    lake = shapely.Point(cx + 600, cy + 600).buffer(250)
    land = window.buffer(2000).difference(river).difference(lake)
    x = rng.uniform(cx - 1200, cx + 1200, 2500)
    y = rng.uniform(cy - 1200, cy + 1200, 2500)
    far = np.linspace(net.x.min(), net.x.max(), 20)  # beyond the streets' northern end
    x, y = np.concatenate([x, far]), np.concatenate([y, np.full(20, net.y.max() + 1000)])
    return net, x, y, land


def brute_force(net, x, y, land, limit):
    """Every (point, segment) pair within ``limit`` by shapely distances: point, edge,
    distance and whether the access line (the shortest line to the segment) stays in the
    land buffered by 30 m, sorted by point, distance, edge."""
    segs = shapely.linestrings(np.stack([np.column_stack([net.x[net.u], net.x[net.v]]),
                                         np.column_stack([net.y[net.u], net.y[net.v]])],
                                        axis=-1))
    pts = shapely.points(x, y)
    p, e = shapely.STRtree(segs).query(pts, predicate="dwithin", distance=limit)
    keep = ~net.is_ferry[e]
    p, e = p[keep], e[keep]
    d = shapely.distance(pts[p], segs[e])
    order = np.lexsort((e, d, p))
    p, e, d = p[order], e[order], d[order]
    dry = np.ones(len(p), dtype=bool)
    long = d > 25.0
    dry[long] = shapely.within(shapely.shortest_line(pts[p[long]], segs[e[long]]),
                               shapely.buffer(land, 30.0))
    return p, e, d, dry


def first_pair(n, p, mask):
    """Per point: index of its first pair where ``mask`` holds (-1: none)."""
    out = np.full(n, -1)
    hit = np.flatnonzero(mask)
    pts, at = np.unique(p[hit], return_index=True)
    out[pts] = hit[at]
    return out


def test_the_fast_path_finds_the_nearest_acceptable_segment(demo_streets):
    """Against brute force: eligible segments (no tunnels, no indoor ways, no ferries),
    preferred parts first, no access line across the river or the lake; for no
    preference, the largest part, the largest and half the fragments, and an island out
    of reach (so nobody changes); reasons, moved kinds and shifts too."""
    from equiserve.network.attach import Attacher, preferred_components

    net, x, y, land = demo_streets
    rules = AttachRules()
    att = Attacher(net, x, y, BRUTE_LIMIT_M, land, rules)
    p, e, d, dry = brute_force(net, x, y, land, BRUTE_LIMIT_M)
    why = np.array([rules.reason(t) for t in net.tag_sets], dtype=object)[net.edge_tags]
    eligible = why == ""
    comp = net.components[net.u]
    n = len(x)
    near = first_pair(n, p, np.ones(len(p), dtype=bool))
    elig = first_pair(n, p, eligible[e] & dry)
    some = preferred_components(net) | (np.arange(comp.max() + 1) % 2 == 0)
    island = np.bincount(net.components) == 520  # the demo's island, 8 km away
    counts = {}
    for label, preferred in (("none", None), ("largest", preferred_components(net)),
                             ("some fragments too", some), ("island", island)):
        snap = att.attach(preferred)
        best = elig.copy()
        if preferred is not None:
            pref = first_pair(n, p, eligible[e] & dry & preferred[comp[e]])
            best = np.where(pref >= 0, pref, elig)
        np.testing.assert_array_equal(snap.ok, best >= 0)
        i = np.flatnonzero(snap.ok)
        b = best[i]
        # the chosen edge is the brute-force one, or one as near (a tie at a node)
        same = snap.edge[i] == e[b]
        np.testing.assert_allclose(snap.access_m[i], d[b], atol=TIE_M)
        tied = [np.flatnonzero((p == k) & (e == snap.edge[k])) for k in i[~same]]
        assert all(len(t) and abs(d[t[0]] - d[best[k]]) < TIE_M and dry[t[0]]
                   for t, k in zip(tied, i[~same], strict=True))
        assert same.mean() > 0.95
        # not attached: why
        lost = np.flatnonzero(~snap.ok)
        any_eligible = first_pair(n, p, eligible[e])[lost] >= 0
        expect = np.where(near[lost] < 0, "too far",
                          np.where(any_eligible, "across water", "not eligible"))
        assert list(snap.reason[lost]) == list(expect)
        assert (snap.reason[i] == "").all()
        # moved: where the nearest segment of all is not tied with another
        nb = near[i]
        second = np.array([d[np.flatnonzero((p == k) & (e != e[nb[j]]))[:1]].min(initial=np.inf)
                           for j, k in enumerate(i)])
        clear = (second - d[nb] > TIE_M) & same
        kind = np.where(e[nb] == e[b], "", np.where(why[e[nb]] != "", why[e[nb]],
                                                    np.where(dry[nb], "fragment",
                                                             "across water")))
        assert list(snap.moved[i[clear]]) == list(kind[clear])
        np.testing.assert_allclose(snap.shift_m[i[clear]],
                                   np.where(kind[clear] == "", 0.0,
                                            d[b[clear]] - d[nb[clear]]), atol=TIE_M)
        counts[label] = {k: int((snap.moved[i] == k).sum()) for k in (
            "tunnel", "indoor", "fragment", "across water")} | {
            f"not attached: {r}": int((snap.reason == r).sum()) for r in (
                "too far", "across water")}
    assert (att.kq < att.most).all()  # exact everywhere: nobody reached the widest search
    assert set(att._cands) > {8}  # some points needed a wider search
    # each rule, the water and the parts were exercised
    assert min(v for k, v in counts["none"].items() if k != "fragment") > 0, counts
    assert counts["none"]["fragment"] == 0, counts
    assert counts["largest"]["fragment"] > 2 * counts["some fragments too"]["fragment"] > 0
    assert counts["island"] == counts["none"]  # out of reach: the nearest eligible


def test_attachers_sharing_an_index_attach_as_a_fresh_one(demo_streets):
    """Facilities attached with the cells' index (:meth:`Attacher.for_points`) get what
    their own Attacher gives; the same preference twice is the same result."""
    from equiserve.network.attach import Attacher, preferred_components

    net, x, y, land = demo_streets
    cells = Attacher(net, x, y, BRUTE_LIMIT_M, land, AttachRules())
    pref = preferred_components(net)
    shared = cells.for_points(x[::7] + 3.0, y[::7]).attach(pref)
    own = Attacher(net, x[::7] + 3.0, y[::7], BRUTE_LIMIT_M, land, AttachRules()).attach(pref)
    for f in ("edge", "t", "access_m", "px", "py", "ok", "reason", "moved", "shift_m"):
        np.testing.assert_array_equal(getattr(shared, f), getattr(own, f), err_msg=f)
    assert cells.attach(pref.copy()) is cells.attach(pref)


def test_water_checks_agree_with_shapely_within(demo_streets):
    """The land check (grid squares known inside, else a prepared-polygon query) says of
    every access line what ``shapely.within`` of the line in the buffered land says."""
    from equiserve.network.attach import StreetIndex

    net, x, y, land = demo_streets
    index = StreetIndex(net, land)
    rng = np.random.default_rng(3)
    edge = rng.integers(0, net.n_edges, len(x))
    edge = edge[~net.is_ferry[edge]]
    mx = (net.x[net.u[edge]] + net.x[net.v[edge]]) / 2
    my = (net.y[net.u[edge]] + net.y[net.v[edge]]) / 2
    # lines from the test's points to edges anywhere (long), and from near each edge
    for qx, qy in ((x[:len(edge)], y[:len(edge)]),
                   (mx + rng.normal(0, 60, len(edge)), my + rng.normal(0, 60, len(edge)))):
        _, dist, ax, ay = index.project(edge, qx, qy)
        lines = shapely.linestrings(np.stack([np.column_stack([qx, ax]),
                                              np.column_stack([qy, ay])], axis=-1))
        expect = (dist <= 25.0) | shapely.within(lines, shapely.buffer(land, 30.0))
        got = index.over_land(qx, qy, edge, dist)
        np.testing.assert_array_equal(got, expect)
        inland = index._inland(qx, qy, ax, ay)  # both ways of telling were used
        assert inland[dist > 25].any() and not inland[dist > 25].all()
        assert 0.01 < (~got).mean() < 0.99  # both kinds


def test_reasons_are_codes_decoded_on_demand(demo_streets):
    from equiserve.network.attach import MOVED, REASONS, Attacher

    net, x, y, land = demo_streets
    snap = Attacher(net, x, y, BRUTE_LIMIT_M, land, AttachRules()).attach()
    assert snap.reason_code.itemsize == 1 and snap.moved_code.itemsize <= 2
    assert snap.moved_kinds[:3] == MOVED and "tunnel" in snap.moved_kinds
    np.testing.assert_array_equal(snap.reason, np.array(REASONS, object)[snap.reason_code])
    sub = snap.subset(snap.moved_code != 0)
    assert len(sub) and (sub.moved != "").all() and sub.ok.all()


def test_street_distance_equals_shapely_nearest_segment():
    # a jittered street grid with long edges (several pieces each) and a ferry: the
    # index's distance to the nearest non-ferry segment is shapely's STRtree nearest
    from equiserve.network import Network
    from equiserve.network.attach import StreetIndex

    rng = np.random.default_rng(11)
    gx, gy = np.meshgrid(np.arange(12) * 180.0, np.arange(9) * 140.0)
    x, y = gx.ravel() + rng.normal(0, 20, gx.size), gy.ravel() + rng.normal(0, 20, gy.size)
    idx = np.arange(gx.size).reshape(gx.shape)
    u = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel(), 0]
    v = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel(), gx.size - 1]
    ferry = np.zeros(len(u), dtype=bool)
    ferry[-1] = True  # a ferry across the whole grid: never a street
    net = Network.from_arrays(x, y, u, v, is_ferry=ferry)
    px, py = rng.uniform(-600, 2600, 3000), rng.uniform(-600, 1700, 3000)
    got = StreetIndex(net).distance(px, py, cap_m=400.0)
    segments = shapely.linestrings(np.stack([np.column_stack([x[u[:-1]], y[u[:-1]]]),
                                             np.column_stack([x[v[:-1]], y[v[:-1]]])], axis=1))
    expected = np.minimum(shapely.distance(
        shapely.points(px, py)[:, None], segments[None, :]).min(axis=1), 400.0)
    np.testing.assert_allclose(got, expected, atol=1e-9)
    assert (got == 400.0).any() and (got < 100).any()  # both capped and near points
