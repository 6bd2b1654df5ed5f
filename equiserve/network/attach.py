"""Attach points (cells, facilities) to the street a person actually walks from.

A point is attached to a segment it could step onto from the surface, on a part of the
network that leads somewhere:

1. **Eligible segments.** Ways listed in the attachment rules (tunnels, underground
   ``layer < 0`` ways, indoor corridors, elevators, platforms, private ways; see
   :data:`equiserve.settings.ATTACH_EXCLUDE`) stay in the graph for routing through them,
   but no point starts or ends on them. Ferries are never attached to.
2. **Parts that lead somewhere.** Among the eligible segments within the snap limit, one
   on a *preferred* component (the largest; for the cells of a layer also every component
   holding one of the layer's facilities) wins over a nearer one on a fragment, a part
   that leads nowhere (an indoor footway, two-node steps, park paths not joined to the
   streets); only when no preferred segment is within the limit does a fragment take the
   point (an island's own streets, say).
3. **No snapping across water.** An access line longer than :data:`WATER_CHECK_M` must lie
   within the land polygon (buffered by :data:`LAND_TOLERANCE_M`), else the next
   candidate is tried.

How it is fast: edges are cut into pieces of at most :data:`PIECE_M` metres whose
midpoints go into ONE KD-tree (a :class:`StreetIndex`, built once per network and shared
by the cells', facilities' and sites' attachers); one vectorised query gives every point
its k nearest candidate segments (exact projections), sorted by distance, then edge id.
The segment chosen at distance ``d`` is exact when the k-th midpoint is farther than
``d + PIECE_M / 2`` (a nearer segment has a piece midpoint within that); where it is not,
or where no acceptable candidate is among the k, the query is widened for those points
only, kept apart from the others' (n x k arrays for all, small ones for the few). The
nearest eligible segment over land, the nearest of all and the reasons are decided once;
a preference (one per facility layer) re-decides only the points whose nearest eligible
segment is not on a preferred part, and none of those with no preferred piece near enough
to count (a grid of squares says). Access lines are checked against the land only where
they do not lie in grid squares found inside it; the rest with one prepared-polygon
query. Reasons are small-int codes, decoded to strings on demand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy.spatial import cKDTree

from equiserve.settings import (
    ATTACH_EXCLUDE,
    ATTACH_UNDERGROUND,
    FOOT_ALLOWS,
    OPEN_TO_SKY,
    SNAP_LIMIT_M,
)

if TYPE_CHECKING:
    from equiserve.network.graph import Network

#: Longest piece (m) an edge is cut into for the KD-tree of midpoints.
PIECE_M = 50.0
#: Access lines longer than this are checked against the land polygon.
WATER_CHECK_M = 25.0
#: Tolerance (m) around the land polygon for that check (coastal roads, piers).
LAND_TOLERANCE_M = 30.0
_K = 8
#: Widest candidate search; 512 pieces are 25 km of street around one point.
_K_MAX = 512
#: Side (m) of the grid squares found inside the land once, so that access lines within
#: them need no exact check (wider for regions of more than 2**24 squares).
SQUARE_M = 500.0


@dataclass(frozen=True)
class AttachRules:
    """Which segments points may be attached to, and what counts as a fragment.

    ``exclude`` maps an OSM tag to {value: reason}: a way with one of those values is not
    attached to (``access`` exclusions do not apply when ``foot`` allows); with
    ``underground`` a way with ``layer < 0`` is not either, unless a tag of
    :data:`~equiserve.settings.OPEN_TO_SKY` says it is open to the sky (a road in a
    cutting).
    """

    exclude: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: ATTACH_EXCLUDE)
    underground: bool = ATTACH_UNDERGROUND

    @classmethod
    def with_overrides(cls, exclude: Mapping[str, list[str]] | None = None,
                       underground: bool = ATTACH_UNDERGROUND) -> AttachRules:
        """Rules with ``exclude`` replacing the values of the tags it names (an empty list
        drops a tag's rule); reasons keep the defaults', else the tag's name."""
        table = {k: dict(v) for k, v in ATTACH_EXCLUDE.items()}
        for tag, values in (exclude or {}).items():
            old = table.get(tag, {})
            table[tag] = {val: old.get(val, tag) for val in values}
        return cls({k: v for k, v in table.items() if v}, underground)

    def reason(self, tags: Mapping[str, str]) -> str:
        """Why a way with ``tags`` is not attached to ("" when it is eligible).

        >>> AttachRules().reason({"highway": "footway", "tunnel": "yes"})
        'tunnel'
        >>> AttachRules().reason({"highway": "primary", "layer": "-1", "cutting": "yes"})
        ''
        """
        for tag, values in self.exclude.items():
            why = values.get(tags.get(tag, ""))
            if why and not (tag == "access" and tags.get("foot") in FOOT_ALLOWS):
                return why
        if self.underground and _layer(tags.get("layer")) < 0 and not any(
                tags.get(k) in v for k, v in OPEN_TO_SKY.items()):
            return "underground"
        return ""


def _layer(value: str | None) -> float:
    try:
        return float(str(value).split(";")[0])
    except ValueError:
        return 0.0


#: Why a point is not attached (:attr:`Snapped.reason`), by code.
REASONS = ("", "too far", "across water", "not eligible")
_TOO_FAR, _ACROSS_WATER, _NOT_ELIGIBLE = 1, 2, 3
#: The first kinds of :attr:`Snapped.moved`, by code; the attachment rules' reasons follow.
MOVED = ("", "fragment", "across water")
_FRAGMENT, _MOVED_ACROSS_WATER = 1, 2
#: Candidate entries (points x neighbours) per KD-tree query: bounds the temporaries.
_CHUNK = 2**19
#: Points are queried band by band of this height (m), west to east in each.
_BAND_M = 500.0


def _decode(kinds: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    """The strings of ``codes`` (an object array, one shared str per kind)."""
    return np.asarray(kinds, dtype=object)[codes]


@dataclass
class Snapped:
    """Points attached to network edges.

    Attributes
    ----------
    edge : ndarray of int
        Edge index (-1 where not attached).
    t : ndarray of float
        Position along the edge from ``u`` (0) to ``v`` (1).
    access_m : ndarray of float
        Straight distance from the point to its attachment point (``inf`` if none).
    px, py : ndarray of float
        The attachment points.
    ok : ndarray of bool
        Whether each point is attached.
    reason_code : ndarray of small int
        Why a point is not attached, as an index in :data:`REASONS` (see :attr:`reason`).
    moved_code : ndarray of small int
        Why a point is not attached to its nearest segment, as an index in ``moved_kinds``
        (see :attr:`moved`); 0: it is.
    shift_m : ndarray of float
        How much longer the access line is than the one to the nearest segment (m).
    moved_kinds : tuple of str
        The kinds ``moved_code`` counts: :data:`MOVED`, then the attachment rules' reasons.
    """

    edge: np.ndarray
    t: np.ndarray
    access_m: np.ndarray
    px: np.ndarray
    py: np.ndarray
    ok: np.ndarray
    reason_code: np.ndarray
    moved_code: np.ndarray
    shift_m: np.ndarray
    moved_kinds: tuple[str, ...] = MOVED

    def __len__(self) -> int:
        return len(self.edge)

    @property
    def reason(self) -> np.ndarray:
        """Why each point is not attached (str): ``""``, ``"too far"`` (no segment within
        the limit), ``"across water"`` or ``"not eligible"`` (only tunnels, indoor ways...
        within it)."""
        return _decode(REASONS, self.reason_code)

    @property
    def moved(self) -> np.ndarray:
        """Why each point is not attached to its nearest segment (str): ``""`` (it is),
        the rule that excludes that segment (``tunnel``, ``indoor``, ``platform``...),
        ``fragment`` (the nearest eligible one is on a fragment) or ``across water``."""
        return _decode(self.moved_kinds, self.moved_code)

    def subset(self, idx: np.ndarray) -> Snapped:
        """The attached points at ``idx`` (an index or boolean array)."""
        return Snapped(self.edge[idx], self.t[idx], self.access_m[idx], self.px[idx],
                       self.py[idx], self.ok[idx], self.reason_code[idx],
                       self.moved_code[idx], self.shift_m[idx], self.moved_kinds)


def edge_reason_codes(net: Network, rules: AttachRules | None
                      ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per edge: why no point is attached to it, as a code, and the reasons by code ("",
    eligible, first; ferries are "ferry")."""
    kinds = {"": 0}
    code = np.zeros(net.n_edges, dtype=np.int16)
    if rules is not None and net.edge_tags is not None and net.tag_sets:
        per_set = np.array([kinds.setdefault(rules.reason(t), len(kinds))
                            for t in net.tag_sets], dtype=np.int16)
        code = per_set[net.edge_tags]
    code[net.is_ferry] = kinds.setdefault("ferry", len(kinds))
    return code, tuple(kinds)


def preferred_components(net: Network, also: np.ndarray | None = None) -> np.ndarray:
    """Per component: preferred for attachment (the largest, and the components of the
    nodes ``also``: those of a layer's facilities)."""
    sizes = np.bincount(net.components)
    pref = np.zeros(len(sizes), dtype=bool)
    if len(sizes):
        pref[np.argmax(sizes)] = True
    if also is not None and len(also):
        pref[net.components[np.asarray(also, dtype=np.int64)]] = True
    return pref


class StreetIndex:
    """The segments of a network points are attached to, indexed once and shared by the
    :class:`Attacher` of cells, of each layer's facilities and of candidate sites: per
    edge its reason code and component, the land polygon (buffered, prepared) and the
    KD-tree of edge-piece midpoints.

    Parameters
    ----------
    net : Network
    land : shapely geometry, optional
        Land polygon: no access line longer than :data:`WATER_CHECK_M` leaves it.
    rules : AttachRules, optional
        Segments a point may be attached to (default: every non-ferry segment).
    """

    def __init__(self, net: Network, land: shapely.Geometry | None = None,
                 rules: AttachRules | None = None) -> None:
        self.net, self.rules = net, rules
        self.edge_code, kinds = edge_reason_codes(net, rules)
        self.eligible = self.edge_code == 0
        #: :attr:`Snapped.moved_kinds`, and the moved code of each edge reason code
        self.moved_kinds = tuple(dict.fromkeys(MOVED + kinds[1:]))
        self.moved_of = np.array([self.moved_kinds.index(k) for k in kinds], np.int16)
        self.edge_comp = net.components[net.u] if net.n_edges else np.empty(0, np.int64)
        self.land = None
        if land is not None:
            self.land = shapely.buffer(land, LAND_TOLERANCE_M)
            shapely.prepare(self.land)
        edges = np.flatnonzero(~net.is_ferry)
        x0, y0 = net.x[net.u[edges]], net.y[net.u[edges]]
        x1, y1 = net.x[net.v[edges]], net.y[net.v[edges]]
        n = np.maximum(1, np.ceil(np.hypot(x1 - x0, y1 - y0) / PIECE_M).astype(np.int64))
        self.owner = np.repeat(edges.astype(np.int32), n)  # the edge of each piece
        f = ((np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) + 0.5) / np.repeat(n, n)
        mids = np.column_stack([np.repeat(x0, n) + f * np.repeat(x1 - x0, n),
                                np.repeat(y0, n) + f * np.repeat(y1 - y0, n)])
        self.n_pieces = len(mids)
        self.tree = cKDTree(mids) if len(mids) else None
        self._grids: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # per edge: start, direction and squared length, for projections
        self._x0, self._y0 = net.x[net.u], net.y[net.u]
        self._dx, self._dy = net.x[net.v] - self._x0, net.y[net.v] - self._y0
        self._len2 = self._dx * self._dx + self._dy * self._dy
        if self.land is not None:  # squares of a grid, found inside the land or not
            x0, y0, x1, y1 = self.land.bounds
            self._sq = max(SQUARE_M, float(np.sqrt((x1 - x0) * (y1 - y0) / 2**24)))
            self._sq_n = (int((x1 - x0) // self._sq) + 1, int((y1 - y0) // self._sq) + 1)
            self._sq_state = np.zeros((self._sq_n[0] + 2) * (self._sq_n[1] + 2), np.int8)

    def project(self, edge: np.ndarray, x: np.ndarray, y: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Projection of points onto edges: (t, distance, px, py)."""
        x0, y0, dx, dy, len2 = (a[edge] for a in (self._x0, self._y0, self._dx, self._dy,
                                                   self._len2))
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(len2 > 0, ((x - x0) * dx + (y - y0) * dy) / len2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        px, py = x0 + t * dx, y0 + t * dy
        return t, np.hypot(x - px, y - py), px, py

    def distance(self, x: np.ndarray, y: np.ndarray, cap_m: float, k: int = 16
                 ) -> np.ndarray:
        """Distance (m) from each point to the nearest non-ferry segment, any rule aside,
        capped at ``cap_m``: the exact projection onto the edges of the ``k`` nearest
        piece midpoints (pieces are at most :data:`PIECE_M` long, so the nearest edge is
        among them unless ``k`` pieces of other edges lie nearer)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        out = np.full(len(x), float(cap_m))
        if self.tree is None or not len(x):
            return out
        k = min(k, self.n_pieces)
        _, mi = self.tree.query(np.column_stack([x, y]), k=k,
                                distance_upper_bound=cap_m + PIECE_M / 2, workers=-1)
        mi = mi.reshape(len(x), k)
        row, col = np.nonzero(mi < self.n_pieces)
        _, d, _, _ = self.project(self.owner[mi[row, col]], x[row], y[row])
        np.minimum.at(out, row, d)
        return out

    def may_reach(self, x: np.ndarray, y: np.ndarray, edge_ok: np.ndarray, reach: float
                  ) -> np.ndarray:
        """Per point: whether the midpoint of a piece of an ``edge_ok`` edge may lie
        within ``reach`` (False: certainly not), by a grid of squares ``reach`` wide."""
        if reach not in self._grids:  # the square of every piece midpoint
            assert self.tree is not None
            mids = self.tree.data
            lo = mids.min(axis=0)
            n = ((mids.max(axis=0) - lo) // reach).astype(np.int64) + 4
            ij = ((mids - lo) // reach).astype(np.int64) + 2  # 2..n-3; the rest: margins
            self._grids[reach] = lo, n, ij[:, 0] * n[1] + ij[:, 1]
        lo, n, square = self._grids[reach]
        if n[0] * n[1] > 2**26:  # a grid too fine to hold: no filter
            return np.ones(len(x), dtype=bool)
        occupied = np.zeros(n[0] * n[1], dtype=bool)
        occupied[square[edge_ok[self.owner]]] = True
        i = np.clip(((x - lo[0]) // reach).astype(np.int64) + 2, 1, n[0] - 2)
        j = np.clip(((y - lo[1]) // reach).astype(np.int64) + 2, 1, n[1] - 2)
        out = np.zeros(len(x), dtype=bool)
        for di in (-1, 0, 1):  # a piece within reach is in a square next to the point's
            for dj in (-1, 0, 1):
                out |= occupied[(i + di) * n[1] + j + dj]
        return out

    def over_land(self, x: np.ndarray, y: np.ndarray, edge: np.ndarray,
                  dist: np.ndarray) -> np.ndarray:
        """Whether the access lines from points to their projections on ``edge`` (at
        ``dist``) stay on land (lines up to :data:`WATER_CHECK_M` always do)."""
        out = np.ones(len(edge), dtype=bool)
        need = np.flatnonzero(dist > WATER_CHECK_M)
        if self.land is None or not len(need):
            return out
        px, py = x[need], y[need]
        _, _, qx, qy = self.project(edge[need], px, py)
        exact = np.flatnonzero(~self._inland(px, py, qx, qy))
        if len(exact):
            px, py, qx, qy = px[exact], py[exact], qx[exact], qy[exact]
            lines = shapely.linestrings(np.stack([np.column_stack([px, qx]),
                                                  np.column_stack([py, qy])], axis=-1))
            out[need[exact]] = shapely.contains(self.land, lines)  # prepared: fast
        return out

    def _inland(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray
                ) -> np.ndarray:
        """Whether the lines (x0, y0)-(x1, y1) lie inside the land for certain: each in at
        most 2 x 2 squares of a grid found inside it with 1 m to spare (False: not
        known; the lines are then checked exactly)."""
        assert self.land is not None
        g, (nx, ny), state = self._sq, self._sq_n, self._sq_state
        left, bottom = self.land.bounds[:2]

        def square(v: np.ndarray, lo: float, n: int) -> np.ndarray:
            return np.clip((v - lo) // g, -1, n).astype(np.int64) + 1  # 0, n + 1: outside

        i0, i1 = square(np.minimum(x0, x1), left, nx), square(np.maximum(x0, x1), left, nx)
        j0, j1 = square(np.minimum(y0, y1), bottom, ny), square(np.maximum(y0, y1), bottom,
                                                                 ny)
        keys = np.stack([i0 * (ny + 2) + j0, i1 * (ny + 2) + j0, i0 * (ny + 2) + j1,
                         i1 * (ny + 2) + j1], axis=1)
        unknown = np.zeros(len(state), dtype=bool)
        unknown[keys[state[keys] == 0]] = True
        todo = np.flatnonzero(unknown)
        if len(todo):
            i, j = np.divmod(todo, ny + 2)
            sx, sy = left + (i - 1) * g, bottom + (j - 1) * g
            boxes = shapely.box(sx - 1, sy - 1, sx + g + 1, sy + g + 1)
            state[todo] = np.where(shapely.contains(self.land, boxes), 1, -1)
        return (i1 - i0 <= 1) & (j1 - j0 <= 1) & (state[keys] > 0).all(axis=1)


@dataclass
class _Candidates:
    """The candidate segments of some points from one k-nearest piece query."""

    rows: np.ndarray  # the points, ascending
    edge: np.ndarray  # (points, k) int32: their edges by distance, -1 none
    dist: np.ndarray  # (points, k): the distances to those edges
    last: np.ndarray  # the k-th piece midpoint's distance
    dry: np.ndarray  # (points, k) water check of each: 0 not made, 1 dry, -1 wet
    dense: bool = False  # rows are 0..n-1: positions are rows

    def at(self, rows: np.ndarray) -> np.ndarray:
        """Positions of ``rows`` (which are among them)."""
        return rows if self.dense else np.searchsorted(self.rows, rows)


class Attacher:
    """Candidate segments of many points, found once; choices per preference.

    Parameters
    ----------
    net : Network
    x, y : ndarray
        Points in the network's CRS.
    limit_m : float
        Points farther than this from every acceptable segment are not attached.
    land : shapely geometry, optional
        Land polygon: no access line longer than :data:`WATER_CHECK_M` leaves it.
    rules : AttachRules, optional
        Segments a point may be attached to (default: every non-ferry segment).
    streets : StreetIndex, optional
        The index of ``net`` with ``land`` and ``rules`` already built (by another
        Attacher: :meth:`for_points`); ``land`` and ``rules`` are then not read.
    """

    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray,
                 limit_m: float = SNAP_LIMIT_M, land: shapely.Geometry | None = None,
                 rules: AttachRules | None = None, streets: StreetIndex | None = None
                 ) -> None:
        self.streets = streets if streets is not None else StreetIndex(net, land, rules)
        assert self.streets.net is net, "a StreetIndex of another network"
        self.net, self.limit = net, float(limit_m)
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        npts = len(self.x)
        self.most = min(self.streets.n_pieces, _K_MAX)  # widest search
        self.kq = np.zeros(npts, dtype=np.int32)  # neighbours queried per point
        self._cands: dict[int, _Candidates] = {}  # per k: the points last queried with k
        self._done: dict[bytes | None, Snapped] = {}  # attach() per preference
        self._base: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        if npts and self.streets.tree is not None:
            self._query(np.arange(npts), min(_K, self.streets.n_pieces))

    def for_points(self, x: np.ndarray, y: np.ndarray) -> Attacher:
        """An Attacher of other points (facilities, sites) on the same streets, with the
        same limit, land and rules (the index is shared, not rebuilt)."""
        return Attacher(self.net, x, y, self.limit, streets=self.streets)

    # -- candidates

    def _query(self, rows: np.ndarray, k: int) -> None:
        """The k nearest piece midpoints of ``rows``: their edges, sorted by distance
        (then edge id)."""
        tree, owner, n_pieces = self.streets.tree, self.streets.owner, self.streets.n_pieces
        assert tree is not None
        m = len(rows)
        edge, dist = np.empty((m, k), dtype=np.int32), np.empty((m, k))
        last = np.empty(m)
        step = max(1, _CHUNK // k)
        # queried in bands of neighbours (twice as fast for points in random order)
        band = np.lexsort((self.x[rows], np.floor(self.y[rows] / _BAND_M)))
        for a in range(0, m, step):
            at = band[a:a + step]
            r = rows[at]
            md, mi = tree.query(np.column_stack([self.x[r], self.y[r]]), k=k,
                                distance_upper_bound=self.limit + PIECE_M / 2, workers=-1)
            md, mi = md.reshape(len(r), k), mi.reshape(len(r), k)
            cand = np.where(mi < n_pieces, owner[np.minimum(mi, n_pieces - 1)], -1)
            # an edge seen through several of its pieces counts once
            srt = np.sort(cand, axis=1)
            dup = np.zeros(srt.shape, dtype=bool)
            dup[:, 1:] = srt[:, 1:] == srt[:, :-1]
            cand = np.where(dup, -1, srt)
            cd = np.full(cand.shape, np.inf)
            has = cand >= 0
            rr = np.broadcast_to(r[:, None], cand.shape)[has]
            _, cd[has], _, _ = self.streets.project(cand[has], self.x[rr], self.y[rr])
            order = np.argsort(cd, axis=1, kind="stable")
            edge[at] = np.take_along_axis(cand, order, axis=1)
            dist[at] = np.take_along_axis(cd, order, axis=1)
            last[at] = md[:, k - 1]
        new = _Candidates(rows, edge, dist, last, np.zeros((m, k), dtype=np.int8),
                          dense=m == len(self.x) and not self._cands)
        old = self._cands.get(k)  # a point is never queried twice with the same k
        if old is not None:
            order = np.argsort(np.concatenate([old.rows, rows]), kind="stable")

            def merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
                return np.concatenate([a, b])[order]

            new = _Candidates(merged(old.rows, rows), merged(old.edge, edge),
                              merged(old.dist, dist), merged(old.last, last),
                              merged(old.dry, new.dry))
        self._cands[k] = new
        self.kq[rows] = k

    def _by_query(self, rows: np.ndarray
                  ) -> list[tuple[np.ndarray, _Candidates, np.ndarray]]:
        """``rows`` grouped by their latest query: (index in rows, candidates, positions
        in them)."""
        if len(self._cands) == 1:
            (cands,) = self._cands.values()
            return [(np.arange(len(rows)), cands, cands.at(rows))]
        kq = self.kq[rows]
        out = []
        for k, cands in self._cands.items():
            sel = np.flatnonzero(kq == k)
            if len(sel):
                out.append((sel, cands, cands.at(rows[sel])))
        return out

    def _first(self, rows: np.ndarray, edge_ok: np.ndarray, water: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the edge of the nearest candidate that is within the limit, on an
        ``edge_ok`` edge and (with ``water``) reachable over land, and its distance (-1,
        inf if none among the candidates)."""
        edge, dist = np.full(len(rows), -1, dtype=np.int64), np.full(len(rows), np.inf)
        for sel, c, pos in self._by_query(rows):
            col = np.full(len(pos), -1, dtype=np.int64)
            pending = np.arange(len(pos))
            for j in range(c.edge.shape[1]):
                if not pending.size:
                    break
                p = pos[pending]
                e, d = c.edge[p, j], c.dist[p, j]
                fits = (e >= 0) & (d <= self.limit)
                fits[fits] = edge_ok[e[fits]]
                idx = np.flatnonzero(fits)
                if water:
                    idx = idx[self._dry(c, p[idx], j)]
                col[pending[idx]] = j
                pending = pending[(col[pending] < 0) & ~(d > self.limit)]  # sorted
            hit = np.flatnonzero(col >= 0)
            edge[sel[hit]] = c.edge[pos[hit], col[hit]]
            dist[sel[hit]] = c.dist[pos[hit], col[hit]]
        return edge, dist

    def _dry(self, c: _Candidates, pos: np.ndarray, j: int) -> np.ndarray:
        """Whether the access lines to candidate ``j`` of the points at ``pos`` stay on
        land (each checked once)."""
        if self.streets.land is None:
            return np.ones(len(pos), dtype=bool)
        need = pos[c.dry[pos, j] == 0]
        if len(need):
            r = c.rows[need]
            c.dry[need, j] = np.where(self.streets.over_land(
                self.x[r], self.y[r], c.edge[need, j], c.dist[need, j]), 1, -1)
        return c.dry[pos, j] > 0

    def _choose(self, rows: np.ndarray, edge_ok: np.ndarray, water: bool = True
                ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the exact nearest acceptable candidate (edge, distance; -1, inf:
        none), widening the candidates where the neighbours searched cannot prove it."""
        edge, dist = self._first(rows, edge_ok, water)
        half = PIECE_M / 2
        while True:
            d = np.where(edge >= 0, dist, self.limit)
            last = np.empty(len(rows))
            for sel, c, pos in self._by_query(rows):
                last[sel] = c.last[pos]  # the farthest neighbour searched
            unsure = (last <= d + half) & (self.kq[rows] < self.most)
            if not unsure.any():
                return edge, dist
            idx = np.flatnonzero(unsure)
            k = int(self.kq[rows[idx]].max())
            self._query(rows[idx], min(k * 4, self.most))
            edge[idx], dist[idx] = self._first(rows[idx], edge_ok, water)

    # -- attachment

    def attach(self, preferred: np.ndarray | None = None) -> Snapped:
        """Attach every point: to the nearest eligible segment of a ``preferred``
        component (per component; default every component) within the limit over land,
        else to the nearest eligible one, else not at all. The same preference gives the
        same (shared) result."""
        key = None if preferred is None else np.asarray(preferred, bool).tobytes()
        if key not in self._done:
            self._done[key] = self._attach(preferred)
        return self._done[key]

    def _decided(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What no preference changes: per point the nearest eligible segment over land
        (-1: none, so not attached whatever is preferred), the nearest segment of all
        (over water or not: what a plain nearest snap picks) and its distance, and the
        reason code."""
        if self._base is None:
            rows = np.arange(len(self.x))
            eligible = self.streets.eligible
            edge, _ = self._choose(rows, eligible)
            near, near_d = self._choose(rows, ~self.net.is_ferry, water=False)
            reason = np.where(edge >= 0, 0, _TOO_FAR).astype(np.int8)
            # not attached: nothing within the limit ("too far"), eligible segments only
            # across water, or only segments nobody steps onto from the surface
            lost = np.flatnonzero((edge < 0) & (near >= 0))
            if len(lost):
                reason[lost] = np.where(self._choose(lost, eligible, water=False)[0] >= 0,
                                        _ACROSS_WATER, _NOT_ELIGIBLE)
            self._base = edge, near, near_d, reason
        return self._base

    def _attach(self, preferred: np.ndarray | None) -> Snapped:
        n = len(self.x)
        if n == 0 or self.streets.tree is None:
            return Snapped(np.full(n, -1, dtype=np.int64), np.zeros(n), np.full(n, np.inf),
                           np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, bool),
                           np.full(n, _TOO_FAR, np.int8), np.zeros(n, np.int16),
                           np.zeros(n), self.streets.moved_kinds)
        nearest_eligible = self._decided()[0]
        if preferred is None:
            return self._snapped(nearest_eligible)
        # a point whose nearest eligible segment is on a preferred part keeps it (it is
        # the nearest preferred one too); the others look for a preferred one
        pref = np.asarray(preferred, bool)[self.streets.edge_comp]
        redo = np.flatnonzero(nearest_eligible >= 0)
        redo = redo[~pref[nearest_eligible[redo]]]
        edge = nearest_eligible.copy()
        edge_ok = self.streets.eligible & pref
        if len(redo):  # (none where no preferred piece is near enough to count)
            redo = redo[self.streets.may_reach(self.x[redo], self.y[redo], edge_ok,
                                               self.limit + PIECE_M / 2 + 1.0)]
        if len(redo):
            found, _ = self._choose(redo, edge_ok)
            edge[redo] = np.where(found >= 0, found, edge[redo])
        return self._snapped(edge, like=self.attach())

    def _snapped(self, edge: np.ndarray, like: Snapped | None = None) -> Snapped:
        """The points attached to ``edge`` (-1: not attached); with ``like``, a Snapped
        of the same points attached the same way wherever ``edge`` agrees with it."""
        _, near, near_d, reason = self._decided()
        if like is None:
            n = len(edge)
            rows = np.arange(n)
            t, access = np.zeros(n), np.full(n, np.inf)
            px, py = np.full(n, np.nan), np.full(n, np.nan)
            moved, shift = np.zeros(n, dtype=np.int16), np.zeros(n)
        else:
            rows = np.flatnonzero(edge != like.edge)
            if not len(rows):
                return like
            t, access, px, py = (a.copy() for a in (like.t, like.access_m, like.px, like.py))
            moved, shift = like.moved_code.copy(), like.shift_m.copy()
            moved[rows], shift[rows] = 0, 0.0
        ok = edge >= 0
        r = rows[ok[rows]]
        t[r], access[r], px[r], py[r] = self.streets.project(edge[r], self.x[r], self.y[r])
        s = self.streets
        away = r[(near[r] >= 0) & (near[r] != edge[r])]
        why = s.edge_code[near[away]]
        code = s.moved_of[why]
        plain = np.flatnonzero(why == 0)  # an eligible nearest segment: fragment or water
        wet = ~s.over_land(self.x[away[plain]], self.y[away[plain]], near[away[plain]],
                           near_d[away[plain]])
        code[plain] = np.where(wet, _MOVED_ACROSS_WATER, _FRAGMENT)
        moved[away] = code
        shift[away] = access[away] - near_d[away]
        return Snapped(edge, t, access, px, py, ok, reason, moved, shift, s.moved_kinds)


def snap_points(net: Network, x: np.ndarray, y: np.ndarray, limit_m: float = SNAP_LIMIT_M,
                land: shapely.Geometry | None = None, rules: AttachRules | None = None,
                preferred: np.ndarray | None = None) -> Snapped:
    """Attach points to ``net`` (see :class:`Attacher`): with no ``rules`` and no
    ``preferred`` components, each point goes to its nearest non-ferry segment reachable
    over land within ``limit_m``."""
    return Attacher(net, x, y, limit_m, land, rules).attach(preferred)
