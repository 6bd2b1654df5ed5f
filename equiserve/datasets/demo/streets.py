"""The street network of the demo city: the street builder and ``streets.osm.pbf``.

:func:`build_streets` lays out the city's streets (see the module docstring of
:mod:`equiserve.datasets.demo`) with a :class:`StreetBuilder`; :func:`write_osm` writes the
resulting :class:`Streets` as OSM PBF.

Why this module is about 600 lines: :class:`StreetBuilder` is one object whose methods share
its node arrays and chains, and the order of their random draws fixes the output; splitting
the builder across modules would only scatter that shared state.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from equiserve.datasets.demo.layout import (
    DEMO_CRS,
    GROUPS,
    ORIGIN_X,
    ORIGIN_Y,
    WEST_TOWNS,
    Group,
    Region,
)
from equiserve.datasets.demo.shapes import blob, open_noise

__all__ = ["LatticeSpec", "StreetBuilder", "Streets", "build_streets", "write_osm"]

ChainKind = Literal["local", "major", "footway", "bridge", "motorway", "link", "ferry"]
"""What a :class:`Chain` is: lattice streets (local or major), or one of the extras."""

# Streets. Nodes lie at least _STREET_MARGIN inside their region.
_STREET_MARGIN: Final = 30.0
_RURAL_SPACING: Final = 1000.0  # metres between the west's rural roads
_RURAL_DROP: Final = 0.2  # share of rural road links left out
# Bridges across the estuary: latitude (local km, +-0.8 km) and name.
_BRIDGES: Final = (
    (12.5, "South Estuary Bridge"),
    (18.5, "Estuary Bridge"),
    (25.0, "North Estuary Bridge"),
)
_MOTORWAY_KM: Final = ((0.5, 19.5), (12.0, 17.0), (25.0, 15.5), (39.5, 13.5))
# Ferry routes by island and their extra tags ("auto": from the crossing's length).
_FERRIES: Final[dict[str, dict[str, str]]] = {
    "Pine Island": {"duration": "auto"},
    "Egret Island": {"interval": "00:40"},
    "Lantern Island": {},
}
_NO_FERRY_ISLAND: Final = "Coral Island"


@dataclass(frozen=True)
class LatticeSpec:
    """One street grid: a rotated, warped lattice of streets clipped to `mask`.

    Each lattice edge is drawn as `sub` straight segments, bent sideways by up to `wobble`
    metres. Rows and columns through the points of `through` (x, y, tags) get those tags, and
    every ``every[0]``-th row and ``every[1]``-th column gets ``every[2]``; all other streets
    get `local` tags, a share `drop` of their lattice edges is left out and a share `oneway`
    of their ways is one-way. A share `footways` of blocks gets a footway through its middle.
    Chain ends get a connector to the nearest street of another grid within `stitch_m`.
    `landmass` is 0 for the east, 1 for the west and 2 + k for island k: each land mass
    keeps only its largest connected network.
    """

    name: str
    group: Group
    landmass: int
    mask: shapely.Geometry
    spacing: float
    angle: float
    sub: int
    wobble: float
    local: dict[str, str]
    through: tuple[tuple[float, float, dict[str, str]], ...] = ()
    every: tuple[int, int, dict[str, str]] | None = None
    drop: float = 0.0
    oneway: float = 0.0
    footways: float = 0.0
    stitch_m: float = 0.0


@dataclass
class Chain:
    """A run of connected street nodes with one set of tags, later cut into OSM ways."""

    nodes: list[int]
    tags: dict[str, str]
    kind: ChainKind
    group: Group
    lattice: int = -1
    sub: int = 1
    oneway: float = 0.0
    stitch_m: float = 0.0


@dataclass
class Streets:
    """The demo street network: node coordinates (EPSG:32649) and OSM ways.

    Attributes
    ----------
    xy : numpy.ndarray
        Node coordinates, shape (n, 2); node ``k`` gets OSM id ``k + 1``.
    ways : list of (numpy.ndarray, dict)
        Node indices and tags of every way, in id order.
    node_tags : dict
        Tags of the few tagged nodes (ferry terminals).
    corridors : dict
        Arterial street lines by group, for the bus corridors.
    """

    xy: npt.NDArray[np.float64]
    ways: list[tuple[npt.NDArray[np.intp], dict[str, str]]]
    node_tags: dict[int, dict[str, str]]
    corridors: dict[Group, list[LineString]]

    def __post_init__(self) -> None:
        # segments facilities may sit by: every street except motorways, links and bridges
        a, b = [], []
        for nodes, tags in self.ways:
            if "route" in tags or tags.get("bridge") == "yes":
                continue
            if tags.get("highway", "").startswith("motorway"):
                continue
            a.append(nodes[:-1])
            b.append(nodes[1:])
        self._a, self._b = np.concatenate(a), np.concatenate(b)
        self._tree = shapely.STRtree(
            shapely.linestrings(np.stack([self.xy[self._a], self.xy[self._b]], axis=1))
        )

    def nearest(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The nearest point on a (non-motorway, non-bridge) street to each point."""
        idx = self._tree.query_nearest(shapely.points(x, y), all_matches=False)
        seg = np.empty(len(x), dtype=np.int64)
        seg[idx[0]] = idx[1]
        p0, p1 = self.xy[self._a[seg]], self.xy[self._b[seg]]
        d = p1 - p0
        len2 = np.maximum((d**2).sum(axis=1), 1e-12)
        t = np.clip(((x - p0[:, 0]) * d[:, 0] + (y - p0[:, 1]) * d[:, 1]) / len2, 0.0, 1.0)
        return p0[:, 0] + t * d[:, 0], p0[:, 1] + t * d[:, 1]


def _rotation(angle: float) -> npt.NDArray[np.float64]:
    """The 2 x 2 matrix of a rotation by `angle` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


class StreetBuilder:
    """Builds the synthetic street network of the demo city.

    Street grids are added with :meth:`lattice`, joined with :meth:`stitch` and
    :meth:`bridges`, reduced to one connected network per land mass by :meth:`prune`, and
    completed with :meth:`motorway` and :meth:`ferries`. :meth:`result` cuts the chains
    into OSM ways.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator's single random source.
    regions : sequence of Region
        The regions as a reader sees them.
    """

    def __init__(self, rng: np.random.Generator, regions: Sequence[Region]) -> None:
        self.rng = rng
        self.regions = list(regions)
        self.land = shapely.union_all([r.geometry for r in regions])
        shapely.prepare(self.land)
        self._xy: list[npt.NDArray[np.float64]] = []
        self._lattice_of: list[npt.NDArray[np.int_]] = []
        self._landmass_of: list[npt.NDArray[np.int_]] = []
        self.n = 0
        self.n_lattices = 0
        self.chains: list[Chain] = []
        self.node_tags: dict[int, dict[str, str]] = {}

    # -- nodes -------------------------------------------------------------------------

    def _add_nodes(self, xy: npt.NDArray[np.float64], lattice: int, landmass: int) -> int:
        """Append nodes; return the index of the first."""
        first = self.n
        self._xy.append(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
        self._lattice_of.append(np.full(len(self._xy[-1]), lattice))
        self._landmass_of.append(np.full(len(self._xy[-1]), landmass))
        self.n += len(self._xy[-1])
        return first

    @property
    def xy(self) -> npt.NDArray[np.float64]:
        """Coordinates of all nodes added so far, shape (n, 2)."""
        return np.vstack(self._xy)

    def _used(self) -> npt.NDArray[np.intp]:
        """Indices of the nodes on some chain."""
        return np.unique(np.concatenate([c.nodes for c in self.chains]))

    # -- grids -------------------------------------------------------------------------

    def lattice(self, spec: LatticeSpec) -> None:
        """Add the streets of one grid (see :class:`LatticeSpec`)."""
        rng, s, sub = self.rng, spec.spacing, spec.sub
        lat = self.n_lattices
        self.n_lattices += 1
        origin = np.array(spec.mask.centroid.coords[0])
        rot = _rotation(spec.angle)
        shift = rng.uniform(0.0, s, size=2)
        minx, miny, maxx, maxy = spec.mask.bounds
        corners = np.array([[minx, miny], [minx, maxy], [maxx, miny], [maxx, maxy]]) - origin
        uv = corners @ rot - shift  # lattice coordinates of the bounding box corners
        lo = np.floor(uv.min(axis=0) / s).astype(int) - 1
        hi = np.ceil(uv.max(axis=0) / s).astype(int) + 1
        ii, jj = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1),
                             indexing="ij")
        ni, nj = ii.shape
        local_uv = np.stack([ii * s + shift[0], jj * s + shift[1]], axis=-1)
        pts = origin + local_uv @ rot.T
        # a gentle, smooth warp and a little jitter, so that no grid is a perfect lattice
        wave = rng.uniform(2500.0, 5000.0, size=2)
        phase = rng.uniform(0.0, 2.0 * np.pi, size=2)
        amp = 0.25 * s
        warp_x = amp * np.sin(2.0 * np.pi * pts[..., 1] / wave[0] + phase[0])
        warp_y = amp * np.sin(2.0 * np.pi * pts[..., 0] / wave[1] + phase[1])
        pts = pts + np.stack([warp_x, warp_y], axis=-1)
        pts = pts + rng.uniform(-0.06 * s, 0.06 * s, size=pts.shape)

        row_sub = self._edge_nodes(pts[:-1, :], pts[1:, :], sub, spec.wobble)  # (ni-1,nj,k,2)
        col_sub = self._edge_nodes(pts[:, :-1], pts[:, 1:], sub, spec.wobble)  # (ni,nj-1,k,2)
        k = sub - 1
        all_xy = np.concatenate(
            [pts.reshape(-1, 2), row_sub.reshape(-1, 2), col_sub.reshape(-1, 2)]
        )
        base = self._add_nodes(all_xy, lat, spec.landmass)
        inside = shapely.contains_xy(spec.mask, all_xy[:, 0], all_xy[:, 1])
        lid = base + np.arange(ni * nj).reshape(ni, nj)
        rid = base + ni * nj + np.arange((ni - 1) * nj * k).reshape(ni - 1, nj, k)
        cid = base + ni * nj + rid.size + np.arange(ni * (nj - 1) * k).reshape(ni, nj - 1, k)

        # polylines: rows (along i, one per j) and columns (along j, one per i)
        rows = np.concatenate(
            [np.concatenate([lid[:-1, :, None], rid], axis=2).transpose(1, 0, 2)
             .reshape(nj, -1), lid[-1, :, None]], axis=1)
        cols = np.concatenate(
            [np.concatenate([lid[:, :-1, None], cid], axis=2).reshape(ni, -1),
             lid[:, -1, None]], axis=1)

        # which lattice lines are major roads, and with which tags
        def line_of(x: float, y: float) -> tuple[int, int]:
            u, v = (np.array([x, y]) - origin) @ rot - shift
            return int(round(u / s)) - lo[0], int(round(v / s)) - lo[1]

        row_tags: dict[int, dict[str, str]] = {}
        col_tags: dict[int, dict[str, str]] = {}
        if spec.every is not None:
            pr, pc, tags = spec.every
            r0, c0 = rng.integers(0, pr), rng.integers(0, pc)
            row_tags.update({j: tags for j in range(nj) if (j + r0) % pr == 0})
            col_tags.update({i: tags for i in range(ni) if (i + c0) % pc == 0})
        for x, y, tags in spec.through:
            i, j = line_of(x, y)
            if 0 <= j < nj:
                row_tags[j] = tags
            if 0 <= i < ni:
                col_tags[i] = tags

        for lines, major, n_lines, word in ((rows, row_tags, nj, "Road"),
                                            (cols, col_tags, ni, "Avenue")):
            a, b = lines[:, :-1] - base, lines[:, 1:] - base
            mid = (all_xy[a] + all_xy[b]) / 2.0
            valid = (inside[a] & inside[b]
                     & shapely.contains_xy(spec.mask, mid[..., 0], mid[..., 1]))
            n_edges = a.shape[1] // sub
            dropped = rng.random((n_lines, n_edges)) < spec.drop
            for line in major:
                dropped[line] = False
            valid &= ~np.repeat(dropped, sub, axis=1)
            for line in range(n_lines):
                major_tags = major.get(line)
                named = (None if major_tags is None
                         else {**major_tags, "name": f"{spec.name} {word} {line + 1}"})
                for start, stop in _runs(valid[line]):
                    self.chains.append(Chain(
                        nodes=lines[line, start:stop + 1].tolist(),
                        tags=dict(spec.local) if named is None else named,
                        kind="local" if named is None else "major",
                        group=spec.group, lattice=lat, sub=sub,
                        oneway=spec.oneway if named is None else 0.0,
                        stitch_m=spec.stitch_m,
                    ))
            if lines is rows and spec.footways > 0.0:
                # footways through the middle of some blocks, from one row edge to the next
                whole = valid.reshape(nj, n_edges, sub).all(axis=2).T  # (ni-1, nj)
                pick = whole[:, :-1] & whole[:, 1:] & (rng.random((ni - 1, nj - 1))
                                                        < spec.footways)
                ia, ja = np.nonzero(pick)
                p, q = rid[ia, ja, k // 2], rid[ia, ja + 1, k // 2]
                fmid = (all_xy[p - base] + all_xy[q - base]) / 2.0
                ok = shapely.contains_xy(spec.mask, fmid[:, 0], fmid[:, 1])
                for u, v in zip(p[ok].tolist(), q[ok].tolist(), strict=True):
                    self.chains.append(Chain([u, v], {"highway": "footway"}, "footway",
                                              spec.group, lat))

    def _edge_nodes(
        self, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], sub: int, wobble: float
    ) -> npt.NDArray[np.float64]:
        """The `sub` - 1 inner nodes of each lattice edge a-b, bent sideways smoothly."""
        f = np.arange(1, sub) / sub
        d = b - a
        normal = np.stack([-d[..., 1], d[..., 0]], axis=-1)
        normal /= np.maximum(np.hypot(normal[..., 0], normal[..., 1]), 1e-9)[..., None]
        bend = self.rng.uniform(-wobble, wobble, size=a.shape[:-1])
        side = bend[..., None] * np.sin(np.pi * f)
        return a[..., None, :] + f[:, None] * d[..., None, :] + side[..., None] * normal[
            ..., None, :]

    # -- joining -----------------------------------------------------------------------

    def _node_arrays(
        self,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int_], npt.NDArray[np.int_]]:
        """Coordinates, lattice index (-1: none) and land mass of every node."""
        return self.xy, np.concatenate(self._lattice_of), np.concatenate(self._landmass_of)

    def stitch(self) -> None:
        """Extend chain ends to the nearest node of another grid within their reach."""
        xy, lattice_of, _ = self._node_arrays()
        used = self._used()
        tree = cKDTree(xy[used])
        ends = [(ci, e) for ci, c in enumerate(self.chains) if c.stitch_m > 0 for e in (0, -1)]
        if not ends:  # pragma: no cover - the demo always has grids to join
            return
        end_nodes = np.array([self.chains[ci].nodes[e] for ci, e in ends])
        reach = max(self.chains[ci].stitch_m for ci, _ in ends)
        dist, idx = tree.query(xy[end_nodes], k=24, distance_upper_bound=reach)
        for row, (ci, e) in enumerate(ends):
            chain = self.chains[ci]
            node = end_nodes[row]
            for d, j in zip(dist[row], idx[row], strict=True):
                if d > chain.stitch_m:
                    break
                target = int(used[j])
                if lattice_of[target] == chain.lattice:
                    continue
                mx, my = (xy[node] + xy[target]) / 2.0
                if shapely.contains_xy(self.land, mx, my):
                    if e == 0:
                        chain.nodes.insert(0, target)
                    else:
                        chain.nodes.append(target)
                break

    def prune(self) -> None:
        """Keep, per land mass (east, west, each island), only its largest connected network.

        Raises RuntimeError if a grid loses more than a fifth of its nodes (a sign that
        grids failed to join).
        """
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        _, lattice_of, landmass_of = self._node_arrays()
        a = np.concatenate([c.nodes[:-1] for c in self.chains])
        b = np.concatenate([c.nodes[1:] for c in self.chains])
        graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(self.n, self.n))
        label = connected_components(graph, directed=False)[1]
        used = self._used()
        keep = []
        for mass in np.unique(landmass_of[used]):
            labels, counts = np.unique(label[used[landmass_of[used] == mass]],
                                       return_counts=True)
            keep.append(labels[np.argmax(counts)])
        self.chains = [c for c in self.chains if label[c.nodes[0]] in keep]
        before = np.bincount(lattice_of[used], minlength=self.n_lattices)
        after = np.bincount(lattice_of[self._used()], minlength=self.n_lattices)
        if (after < 0.8 * before).any():  # pragma: no cover - guards the fixed layout
            raise RuntimeError("demo street grids failed to join into one network")

    def _nodes_of(self, landmass: int) -> npt.NDArray[np.intp]:
        """Indices of the nodes in use on land mass `landmass`."""
        _, _, landmass_of = self._node_arrays()
        used = self._used()
        return used[landmass_of[used] == landmass]

    def bridges(self) -> None:
        """Primary-road bridges across the estuary, from the west's easternmost streets."""
        xy = self.xy
        west, east = self._nodes_of(1), self._nodes_of(0)
        for y_km, name in _BRIDGES:
            yb = ORIGIN_Y + (y_km + self.rng.uniform(-0.8, 0.8)) * 1000.0
            band = west[np.abs(xy[west, 1] - yb) < 300.0]
            w = band[np.argmax(xy[band, 0])]
            band = east[np.abs(xy[east, 1] - xy[w, 1]) < 300.0]
            e = band[np.argmin(xy[band, 0])]
            tags = {"highway": "primary", "bridge": "yes", "layer": "1", "maxspeed": "80",
                    "name": name}
            self.chains.append(Chain([int(w), int(e)], tags, "bridge", "west"))

    def motorway(self) -> None:
        """A dual-carriageway motorway across the west, with motorway links at 3 junctions."""
        west_land = shapely.union_all(
            [r.geometry for r in self.regions if r.group == "west"]
        ).buffer(-300.0)
        line = _wavy_polyline(self.rng, _MOTORWAY_KM, 500.0, 250.0)
        pts = shapely.get_coordinates(line)
        runs = _runs(shapely.contains_xy(west_land, pts[:, 0], pts[:, 1]))
        start, stop = max(runs, key=lambda r: r[1] - r[0])
        pts = pts[start:stop]
        tangent = np.gradient(pts, axis=0)
        right = np.column_stack([tangent[:, 1], -tangent[:, 0]])
        right /= np.hypot(right[:, 0], right[:, 1])[:, None]
        m = len(pts)
        east_first = self._add_nodes(pts + 12.0 * right, -1, 1)  # eastbound, drives right
        west_first = self._add_nodes(pts - 12.0 * right, -1, 1)
        eb, wb = east_first + np.arange(m), west_first + np.arange(m)
        tags = {"highway": "motorway", "oneway": "yes", "maxspeed": "100", "lanes": "3",
                "name": "Estuary Expressway", "ref": "S32"}
        self.chains.append(Chain(eb.tolist(), dict(tags), "motorway", "west"))
        self.chains.append(Chain(wb[::-1].tolist(), dict(tags), "motorway", "west"))

        xy = self.xy
        local = self._nodes_of(1)
        local = local[~np.isin(local, np.concatenate([eb, wb]))]
        tree = cKDTree(xy[local])
        h = m // 2
        ramps = [  # (junction index, [(from, to), ...]); None stands for the local road
            (0, [(None, eb[0]), (wb[0], None)]),
            (h, [(eb[h - 2], None), (None, eb[h + 2]), (wb[h + 2], None), (None, wb[h - 2])]),
            (m - 1, [(eb[-1], None), (None, wb[-1])]),
        ]
        link = {"highway": "motorway_link", "oneway": "yes", "maxspeed": "60"}
        for k, pairs in ramps:
            dist, j = tree.query(pts[k])
            if dist > 1500.0:  # pragma: no cover - the west is covered by rural roads
                raise RuntimeError("demo motorway junction is far from any road")
            road = int(local[j])
            for a, b in pairs:
                nodes = [road if a is None else int(a), road if b is None else int(b)]
                self.chains.append(Chain(nodes, dict(link), "link", "west"))

    def ferries(self) -> None:
        """Ferries from the mainland to every island except :data:`_NO_FERRY_ISLAND`."""
        xy = self.xy
        east = self._nodes_of(0)
        tree = cKDTree(xy[east])
        islands = [r for r in self.regions if r.group == "island"]
        for k, region in enumerate(islands):
            if region.name == _NO_FERRY_ISLAND:
                continue
            extra = _FERRIES.get(region.name, {})
            isl = self._nodes_of(2 + k)
            pier = int(east[tree.query(region.geometry.centroid.coords[0])[1]])
            dock = int(isl[np.argmin(np.hypot(*(xy[isl] - xy[pier]).T))])
            minutes = int(round(np.hypot(*(xy[dock] - xy[pier])) / 1000.0 / 22.0 * 60.0))
            tags = {"route": "ferry", "name": f"{region.name} Ferry", "foot": "yes",
                    **{key: (f"{minutes // 60:02d}:{minutes % 60:02d}" if val == "auto"
                             else val) for key, val in extra.items()}}
            self.chains.append(Chain([pier, dock], tags, "ferry", "island"))
            self.node_tags[pier] = {"amenity": "ferry_terminal",
                                    "name": f"{region.name} Ferry Pier (mainland)"}
            self.node_tags[dock] = {"amenity": "ferry_terminal",
                                    "name": f"{region.name} Ferry Pier"}

    # -- output ------------------------------------------------------------------------

    def result(self) -> Streets:
        """Cut the chains into OSM ways and number the nodes in use."""
        xy = self.xy
        ways: list[tuple[list[int], dict[str, str]]] = []
        corridors: dict[Group, list[LineString]] = {g: [] for g in GROUPS}
        for c in self.chains:
            if c.kind == "major":
                corridors[c.group].append(LineString(xy[c.nodes]))
            if c.kind not in ("local", "major"):
                ways.append((c.nodes, c.tags))
                continue
            lo, hi = (3, 9) if c.kind == "local" else (12, 31)
            start, last = 0, len(c.nodes) - 1
            while start < last:
                stop = min(start + int(self.rng.integers(lo, hi)) * c.sub, last)
                if last - stop < c.sub:  # no stub at the end
                    stop = last
                tags = dict(c.tags)
                if self.rng.random() < c.oneway:
                    tags["oneway"] = "yes" if self.rng.random() < 0.8 else "-1"
                ways.append((c.nodes[start:stop + 1], tags))
                start = stop
        used = np.unique(np.concatenate([np.asarray(n) for n, _ in ways]))
        return Streets(
            xy=xy[used],
            ways=[(np.searchsorted(used, n), t) for n, t in ways],
            node_tags={int(np.searchsorted(used, k)): t for k, t in self.node_tags.items()},
            corridors=corridors,
        )


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in `flags` (stop exclusive)."""
    padded = np.concatenate([[False], np.asarray(flags, bool), [False]])
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(change[::2].tolist(), change[1::2].tolist(), strict=True))


def _wavy_polyline(
    rng: np.random.Generator, points_km: Sequence[tuple[float, float]], amplitude: float,
    step: float
) -> LineString:
    """A polyline through `points_km` (local km), with vertices every `step` metres or
    less, wobbled sideways by smooth noise of at most `amplitude` metres."""
    pts = np.array(points_km) * 1000.0 + [ORIGIN_X, ORIGIN_Y]
    xy = shapely.get_coordinates(shapely.segmentize(LineString(pts), step))
    d = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    tangent = np.gradient(xy, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.hypot(normal[:, 0], normal[:, 1])[:, None]
    return LineString(xy + normal * open_noise(rng, d, amplitude)[:, None])


def build_streets(rng: np.random.Generator, regions: Sequence[Region]) -> Streets:
    """The street network of the demo city (see :mod:`equiserve.datasets.demo`)."""
    builder = StreetBuilder(rng, regions)
    inner = [r.geometry.buffer(-_STREET_MARGIN) for r in regions]
    primary = {"highway": "primary", "maxspeed": "60"}
    secondary = {"highway": "secondary", "maxspeed": "50"}

    # East: a dense grid per district, each with its own spacing, angle and warp.
    for r, mask in zip(regions, inner, strict=True):
        if r.group != "east":
            continue
        centre = mask.point_on_surface()
        builder.lattice(LatticeSpec(
            name=r.name, group="east", landmass=0, mask=mask,
            spacing=rng.uniform(150.0, 200.0), angle=rng.uniform(-0.17, 0.17), sub=2,
            wobble=6.0, local={"highway": "residential"},
            through=((centre.x, centre.y, primary),), every=(8, 9, secondary),
            drop=0.03, oneway=0.12, footways=0.05, stitch_m=200.0,
        ))

    # West: town grids, then sparse rural roads around them, joined to the towns.
    west = shapely.union_all([r.geometry for r in regions if r.group == "west"]).buffer(
        -_STREET_MARGIN
    )
    discs = []
    for x_km, y_km, radius_km, name in WEST_TOWNS:
        cx, cy = ORIGIN_X + x_km * 1000.0, ORIGIN_Y + y_km * 1000.0
        disc = blob(rng, cx, cy, np.pi * (radius_km * 1000.0) ** 2, n=48)
        discs.append(disc)
        builder.lattice(LatticeSpec(
            name=name, group="west", landmass=1, mask=disc.intersection(west),
            spacing=rng.uniform(250.0, 300.0), angle=rng.uniform(-0.35, 0.35), sub=2,
            wobble=10.0, local={"highway": "residential"}, through=((cx, cy, secondary),),
            drop=0.03, oneway=0.06,
        ))
    rural = west.difference(shapely.union_all(discs))
    through = tuple(
        (ORIGIN_X + x * 1000.0, ORIGIN_Y + y * 1000.0,
         {"highway": "secondary", "maxspeed": "60"}) for x, y, *_ in WEST_TOWNS
    )
    builder.lattice(LatticeSpec(
        name="West", group="west", landmass=1, mask=rural, spacing=_RURAL_SPACING,
        angle=rng.uniform(-0.1, 0.1), sub=6, wobble=60.0,
        local={"highway": "unclassified"}, through=through, drop=_RURAL_DROP, stitch_m=400.0,
    ))

    # Islands: a small grid each, with a tertiary spine.
    islands = [(r, m) for r, m in zip(regions, inner, strict=True) if r.group == "island"]
    for k, (r, mask) in enumerate(islands):
        centre = mask.point_on_surface()
        builder.lattice(LatticeSpec(
            name=r.name, group="island", landmass=2 + k, mask=mask,
            spacing=rng.uniform(190.0, 230.0), angle=rng.uniform(0.0, np.pi / 2), sub=2,
            wobble=8.0, local={"highway": "residential"},
            through=((centre.x, centre.y, {"highway": "tertiary", "maxspeed": "40"}),),
        ))

    builder.stitch()
    builder.prune()
    builder.bridges()
    builder.motorway()
    builder.ferries()
    return builder.result()


def write_osm(path: pathlib.Path, streets: Streets) -> None:
    """Write the street network as OSM PBF (WGS 84), nodes sorted by id, then ways."""
    import osmium
    from osmium.osm.mutable import Node, Way
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs(DEMO_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(streets.xy[:, 0], streets.xy[:, 1])
    lon, lat = np.round(lon, 7).tolist(), np.round(lat, 7).tolist()
    path.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        for k, (x, y) in enumerate(zip(lon, lat, strict=True)):
            writer.add_node(Node(id=k + 1, location=(x, y), tags=streets.node_tags.get(k, {}),
                                 version=1))
        for k, (nodes, tags) in enumerate(streets.ways):
            writer.add_way(Way(id=k + 1, nodes=(nodes + 1).tolist(), tags=tags, version=1))
    finally:
        writer.close()

