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
midpoints go into ONE KD-tree; one vectorised query gives every point its k nearest
candidate segments (exact projections), sorted by distance. The segment chosen at
distance ``d`` is exact when the k-th midpoint is farther than ``d + PIECE_M / 2`` (a
nearer segment has a piece midpoint within that); where it is not, or where no acceptable
candidate is among the k, the query is widened for those points only. Choices for several
preferences (one per facility layer) reuse the same candidates.
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
    reason : ndarray of str
        Why a point is not attached: ``""``, ``"too far"`` (no segment within the limit),
        ``"across water"`` or ``"not eligible"`` (only tunnels, indoor ways... within it).
    moved : ndarray of str
        Why a point is not attached to its nearest segment: ``""`` (it is), the rule that
        excludes that segment (``tunnel``, ``indoor``, ``platform``...), ``fragment``
        (the nearest eligible one is on a fragment) or ``across water``.
    shift_m : ndarray of float
        How much longer the access line is than the one to the nearest segment (m).
    """

    edge: np.ndarray
    t: np.ndarray
    access_m: np.ndarray
    px: np.ndarray
    py: np.ndarray
    ok: np.ndarray
    reason: np.ndarray
    moved: np.ndarray | None = None
    shift_m: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.edge)
        if self.moved is None:
            self.moved = np.full(n, "", dtype=object)
        if self.shift_m is None:
            self.shift_m = np.zeros(n)

    def __len__(self) -> int:
        return len(self.edge)

    def subset(self, idx: np.ndarray) -> Snapped:
        """The attached points at ``idx`` (an index or boolean array)."""
        assert self.moved is not None and self.shift_m is not None
        return Snapped(self.edge[idx], self.t[idx], self.access_m[idx], self.px[idx],
                       self.py[idx], self.ok[idx], self.reason[idx], self.moved[idx],
                       self.shift_m[idx])


def edge_reasons(net: Network, rules: AttachRules | None) -> np.ndarray:
    """Per edge: why no point is attached to it ("" if eligible); ferries are "ferry"."""
    out = np.full(net.n_edges, "", dtype=object)
    if rules is not None and net.edge_tags is not None and net.tag_sets:
        per_set = np.array([rules.reason(t) for t in net.tag_sets], dtype=object)
        out = per_set[net.edge_tags]
    out[net.is_ferry] = "ferry"
    return out


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


def _project(net: Network, edge: np.ndarray, x: np.ndarray, y: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Projection of points onto edges: (t, distance, px, py)."""
    x0, y0 = net.x[net.u[edge]], net.y[net.u[edge]]
    dx, dy = net.x[net.v[edge]] - x0, net.y[net.v[edge]] - y0
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, ((x - x0) * dx + (y - y0) * dy) / len2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    px, py = x0 + t * dx, y0 + t * dy
    return t, np.hypot(x - px, y - py), px, py


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
    """

    def __init__(self, net: Network, x: np.ndarray, y: np.ndarray,
                 limit_m: float = SNAP_LIMIT_M, land: shapely.Geometry | None = None,
                 rules: AttachRules | None = None) -> None:
        self.net, self.limit = net, float(limit_m)
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.rules = rules
        self.edge_reason = edge_reasons(net, rules)
        self.eligible = self.edge_reason == ""
        self.edge_comp = net.components[net.u] if net.n_edges else np.empty(0, np.int64)
        self.land = None
        if land is not None:
            self.land = shapely.buffer(land, LAND_TOLERANCE_M)
            shapely.prepare(self.land)
        edges = np.flatnonzero(~net.is_ferry)
        x0, y0 = net.x[net.u[edges]], net.y[net.u[edges]]
        x1, y1 = net.x[net.v[edges]], net.y[net.v[edges]]
        n = np.maximum(1, np.ceil(np.hypot(x1 - x0, y1 - y0) / PIECE_M).astype(np.int64))
        self.owner = np.repeat(edges, n)
        f = ((np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) + 0.5) / np.repeat(n, n)
        mids = np.column_stack([np.repeat(x0, n) + f * np.repeat(x1 - x0, n),
                                np.repeat(y0, n) + f * np.repeat(y1 - y0, n)])
        self.tree = cKDTree(mids) if len(mids) else None
        npts = len(self.x)
        self.k = min(_K, len(mids))
        self.cand = np.full((npts, self.k), -1, dtype=np.int64)
        self.cd = np.full((npts, self.k), np.inf)
        self.md = np.full((npts, self.k), np.inf)  # midpoint distances, ascending
        self.dry = np.zeros((npts, self.k), dtype=np.int8)  # 0 unknown, 1 dry, -1 wet
        self.kq = np.zeros(npts, dtype=np.int64)  # neighbours queried per point
        self._done: dict[bytes | None, Snapped] = {}  # attach() per preference
        if npts and self.tree is not None:
            self._query(np.arange(npts), self.k)

    # -- candidates

    def _query(self, rows: np.ndarray, k: int) -> None:
        """The k nearest piece midpoints of ``rows``: their edges, sorted by distance."""
        assert self.tree is not None
        if k > self.cand.shape[1]:
            pad = k - self.cand.shape[1]
            self.cand = np.pad(self.cand, ((0, 0), (0, pad)), constant_values=-1)
            self.cd = np.pad(self.cd, ((0, 0), (0, pad)), constant_values=np.inf)
            self.md = np.pad(self.md, ((0, 0), (0, pad)), constant_values=np.inf)
            self.dry = np.pad(self.dry, ((0, 0), (0, pad)))
        half = PIECE_M / 2
        md, mi = self.tree.query(np.column_stack([self.x[rows], self.y[rows]]), k=k,
                                 distance_upper_bound=self.limit + half)
        md, mi = md.reshape(len(rows), k), mi.reshape(len(rows), k)
        valid = mi < len(self.owner)
        cand = np.where(valid, self.owner[np.minimum(mi, len(self.owner) - 1)], -1)
        # an edge seen through several of its pieces counts once
        srt = np.sort(cand, axis=1)
        dup = np.zeros_like(valid)
        dup[:, 1:] = srt[:, 1:] == srt[:, :-1]
        cand = np.where(dup, -1, srt)
        cd = np.full(cand.shape, np.inf)
        has = cand >= 0
        rr = np.repeat(rows, k).reshape(len(rows), k)
        _, cd[has], _, _ = _project(self.net, cand[has], self.x[rr[has]], self.y[rr[has]])
        order = np.argsort(cd, axis=1, kind="stable")
        self.cand[rows, :k] = np.take_along_axis(cand, order, axis=1)
        self.cd[rows, :k] = np.take_along_axis(cd, order, axis=1)
        self.md[rows, :k] = md
        self.dry[rows, :k] = 0
        self.kq[rows] = k

    def _water_ok(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Whether the access lines of (row, candidate column) pairs stay on land."""
        if self.land is None:
            return np.ones(len(rows), bool)
        known = self.dry[rows, cols]
        need = (known == 0) & (self.cd[rows, cols] > WATER_CHECK_M)
        if need.any():
            r, c = rows[need], cols[need]
            _, _, qx, qy = _project(self.net, self.cand[r, c], self.x[r], self.y[r])
            lines = shapely.linestrings(np.stack([np.column_stack([self.x[r], qx]),
                                                  np.column_stack([self.y[r], qy])], axis=-1))
            self.dry[r, c] = np.where(shapely.within(lines, self.land), 1, -1)
        return self.dry[rows, cols] >= 0

    def _first(self, rows: np.ndarray, edge_ok: np.ndarray, water: bool = True
               ) -> np.ndarray:
        """Per row: the column of the nearest candidate that is within the limit, on an
        ``edge_ok`` edge and (with ``water``) reachable over land (-1 if none among the
        candidates)."""
        out = np.full(len(rows), -1, dtype=np.int64)
        pending = np.arange(len(rows))
        for col in range(self.cand.shape[1]):
            if not pending.size:
                break
            r = rows[pending]
            e = self.cand[r, col]
            fits = (e >= 0) & (self.cd[r, col] <= self.limit)
            fits[fits] = edge_ok[e[fits]]
            idx = np.flatnonzero(fits)
            if water:
                idx = idx[self._water_ok(r[idx], np.full(len(idx), col))]
            out[pending[idx]] = col
            beyond = self.cd[r, col] > self.limit  # sorted: nothing later fits either
            pending = pending[(out[pending] < 0) & ~beyond]
        return out

    def _choose(self, rows: np.ndarray, edge_ok: np.ndarray, water: bool = True
                ) -> np.ndarray:
        """Per row: the column of the exact nearest acceptable candidate (-1: none),
        widening the candidates where the neighbours searched cannot prove it."""
        assert self.tree is not None
        col = self._first(rows, edge_ok, water)
        half = PIECE_M / 2
        most = min(self.tree.n, _K_MAX)
        while True:
            d = np.where(col >= 0, self.cd[rows, np.maximum(col, 0)], self.limit)
            last = self.md[rows, self.kq[rows] - 1]  # farthest neighbour searched
            unsure = (last <= d + half) & (self.kq[rows] < most)
            if not unsure.any():
                return col
            idx = np.flatnonzero(unsure)
            k = int(self.kq[rows[idx]].max())
            self._query(rows[idx], min(k * 4, most))
            col[idx] = self._first(rows[idx], edge_ok, water)

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

    def _attach(self, preferred: np.ndarray | None) -> Snapped:
        n = len(self.x)
        edge = np.full(n, -1, dtype=np.int64)
        t, access = np.zeros(n), np.full(n, np.inf)
        px, py = np.full(n, np.nan), np.full(n, np.nan)
        reason = np.full(n, "too far", dtype=object)
        moved = np.full(n, "", dtype=object)
        shift = np.zeros(n)
        if n == 0 or self.tree is None:
            return Snapped(edge, t, access, px, py, np.zeros(n, bool), reason, moved, shift)
        rows = np.arange(n)
        col = self._choose(rows, self.eligible if preferred is None else (
            self.eligible & np.asarray(preferred, bool)[self.edge_comp]))
        if preferred is not None and (col < 0).any():
            rest = np.flatnonzero(col < 0)
            col[rest] = self._choose(rest, self.eligible)
        ok = col >= 0
        r = rows[ok]
        edge[r] = self.cand[r, col[r]]
        t[r], access[r], px[r], py[r] = _project(self.net, edge[r], self.x[r], self.y[r])
        reason[ok] = ""
        # the nearest segment of all, over water or not: what a plain nearest snap picks
        near_col = self._choose(rows, ~self.net.is_ferry, water=False)
        has_near = near_col >= 0
        near_edge = np.where(has_near, self.cand[rows, np.maximum(near_col, 0)], -1)
        near_d = np.where(has_near, self.cd[rows, np.maximum(near_col, 0)], np.inf)
        why = self.edge_reason[np.maximum(near_edge, 0)]
        away = np.flatnonzero(ok & has_near & (near_edge != edge))
        wet = (why[away] == "") & ~self._water_ok(away, near_col[away])
        moved[away] = np.where(why[away] != "", why[away],
                               np.where(wet, "across water", "fragment"))
        shift[away] = access[away] - near_d[away]
        # not attached: nothing within the limit ("too far"), eligible segments only across
        # water, or only segments nobody steps onto from the surface
        lost = np.flatnonzero(~ok & has_near)
        if len(lost):
            eligible_near = self._choose(lost, self.eligible, water=False) >= 0
            reason[lost] = np.where(eligible_near, "across water", "not eligible")
        return Snapped(edge, t, access, px, py, ok, reason, moved, shift)


def snap_points(net: Network, x: np.ndarray, y: np.ndarray, limit_m: float = SNAP_LIMIT_M,
                land: shapely.Geometry | None = None, rules: AttachRules | None = None,
                preferred: np.ndarray | None = None) -> Snapped:
    """Attach points to ``net`` (see :class:`Attacher`): with no ``rules`` and no
    ``preferred`` components, each point goes to its nearest non-ferry segment reachable
    over land within ``limit_m``."""
    return Attacher(net, x, y, limit_m, land, rules).attach(preferred)
