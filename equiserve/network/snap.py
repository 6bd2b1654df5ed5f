"""Snap points to the nearest street edge: projection onto the segment, found by KD-tree.

Edges are cut into pieces of at most :data:`PIECE_M` metres and the pieces' midpoints go
into a KD-tree. The segment nearest to a point has a piece whose midpoint is within
``d + PIECE_M / 2`` of it, so querying the k nearest midpoints and widening the search
only where that bound is not yet met gives the exact nearest segment.

Ferry edges are never snapped to. Points farther than ``limit_m`` from every edge, and
points whose access line would cross water (leave the land polygon), stay unsnapped and
are reported by the caller, never snapped to another island.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy.spatial import cKDTree

from equiserve.settings import SNAP_LIMIT_M

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


@dataclass
class Snapped:
    """Points snapped onto network edges.

    Attributes
    ----------
    edge : ndarray of int
        Edge index (-1 where not snapped).
    t : ndarray of float
        Position along the edge from ``u`` (0) to ``v`` (1).
    access_m : ndarray of float
        Straight distance from the point to its snap point (``inf`` where not snapped).
    px, py : ndarray of float
        The snap points.
    ok : ndarray of bool
        Whether each point was snapped.
    reason : ndarray of str
        Why a point was not snapped: ``""``, ``"too far"`` or ``"across water"``.
    """

    edge: np.ndarray
    t: np.ndarray
    access_m: np.ndarray
    px: np.ndarray
    py: np.ndarray
    ok: np.ndarray
    reason: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)

    def subset(self, idx: np.ndarray) -> Snapped:
        """The snapped points at ``idx`` (an index or boolean array)."""
        return Snapped(self.edge[idx], self.t[idx], self.access_m[idx], self.px[idx],
                       self.py[idx], self.ok[idx], self.reason[idx])


def _pieces(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midpoints (n, 2) of edge pieces and the edge each belongs to (ferries excluded)."""
    edges = np.flatnonzero(~net.is_ferry)
    x0, y0 = net.x[net.u[edges]], net.y[net.u[edges]]
    x1, y1 = net.x[net.v[edges]], net.y[net.v[edges]]
    seg = np.hypot(x1 - x0, y1 - y0)
    n = np.maximum(1, np.ceil(seg / PIECE_M).astype(np.int64))
    owner = np.repeat(edges, n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    f = (k + 0.5) / np.repeat(n, n)
    xs = np.repeat(x0, n) + f * np.repeat(x1 - x0, n)
    ys = np.repeat(y0, n) + f * np.repeat(y1 - y0, n)
    return np.column_stack([xs, ys]), owner, seg


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


def _candidates(net: Network, tree: cKDTree, owner: np.ndarray, xy: np.ndarray, k: int,
                bound: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edges of the k nearest piece midpoints: (edge, distance, t, midpoint distance)."""
    n = len(xy)
    md, mi = tree.query(xy, k=k, distance_upper_bound=bound)
    md, mi = md.reshape(n, k), mi.reshape(n, k)
    valid = mi < len(owner)
    cand = np.where(valid, owner[np.minimum(mi, len(owner) - 1)], -1)
    cd = np.full((n, k), np.inf)
    ct = np.zeros((n, k))
    for j in range(k):
        has = cand[:, j] >= 0
        ct[has, j], cd[has, j], _, _ = _project(net, cand[has, j], xy[has, 0], xy[has, 1])
    return cand, cd, ct, md


def _widen(a: np.ndarray, width: int, fill: float) -> np.ndarray:
    """Pad a 2-D array with ``fill`` columns up to ``width``."""
    if a.shape[1] >= width:
        return a
    out = np.full((a.shape[0], width), fill, dtype=a.dtype)
    out[:, : a.shape[1]] = a
    return out


def snap_points(net: Network, x: np.ndarray, y: np.ndarray, limit_m: float = SNAP_LIMIT_M,
                land: shapely.Geometry | None = None) -> Snapped:
    """Snap points to the nearest non-ferry edge of ``net``.

    Parameters
    ----------
    net : Network
    x, y : ndarray
        Points in the network's CRS.
    limit_m : float
        Points farther than this from every edge are not snapped (reason ``too far``).
    land : shapely geometry, optional
        Land polygon (e.g. the union of the regions). A point whose access line leaves
        it is snapped to the nearest edge it can reach over land among its nearest
        candidates, or not at all (reason ``across water``).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    edge = np.full(n, -1, dtype=np.int64)
    t = np.zeros(n)
    access = np.full(n, np.inf)
    px, py = np.full(n, np.nan), np.full(n, np.nan)
    reason = np.full(n, "too far", dtype=object)
    if n == 0 or not (~net.is_ferry).any():
        return Snapped(edge, t, access, px, py, np.zeros(n, bool), reason)

    mids, owner, _ = _pieces(net)
    tree = cKDTree(mids)
    half = PIECE_M / 2
    xy = np.column_stack([x, y])
    k = min(_K, len(mids))
    cand, cd, ct, md = _candidates(net, tree, owner, xy, k, limit_m + half)
    bd = cd.min(axis=1)
    # the nearest edge has a piece midpoint within best + half: where the k-th nearest
    # midpoint is not beyond that, query more midpoints (vectorised, growing k)
    unsure = np.isfinite(bd) & (md[:, -1] <= bd + half)
    while unsure.any() and k < min(len(mids), _K_MAX):
        k = min(k * 4, len(mids), _K_MAX)
        idx = np.flatnonzero(unsure)
        c2, d2, t2, m2 = _candidates(net, tree, owner, xy[idx], k, limit_m + half)
        width = max(cand.shape[1], k)
        cand, cd, ct = (_widen(a, width, fill) for a, fill in
                        ((cand, -1), (cd, np.inf), (ct, 0.0)))
        cand[idx], cd[idx], ct[idx] = (_widen(a, width, fill) for a, fill in
                                       ((c2, -1), (d2, np.inf), (t2, 0.0)))
        bd[idx] = d2.min(axis=1)
        unsure[:] = False
        unsure[idx] = np.isfinite(bd[idx]) & (m2[:, -1] <= bd[idx] + half)
    k = cand.shape[1]

    order = np.argsort(cd, axis=1, kind="stable")
    chosen = np.full(n, -1, dtype=np.int64)  # column of the accepted candidate
    within = cd[np.arange(n), order[:, 0]] <= limit_m
    chosen[within] = order[within, 0]
    if land is not None and within.any():
        land_ok = shapely.buffer(land, LAND_TOLERANCE_M)
        shapely.prepare(land_ok)
        pending = np.flatnonzero(within)
        for rank in range(k):
            if not pending.size:
                break
            col = order[pending, rank]
            d = cd[pending, col]
            feasible = d <= limit_m
            tj, _, qx, qy = _project(net, np.maximum(cand[pending, col], 0), x[pending],
                                     y[pending])
            long = feasible & (d > WATER_CHECK_M)
            dry = np.ones(len(pending), bool)
            if long.any():
                lines = shapely.linestrings(np.stack([
                    np.column_stack([x[pending[long]], qx[long]]),
                    np.column_stack([y[pending[long]], qy[long]])], axis=-1))
                dry[long] = shapely.within(lines, land_ok)
            accept = feasible & dry
            chosen[pending[accept]] = col[accept]
            chosen[pending[~feasible]] = -1
            rejected = pending[feasible & ~dry]
            chosen[rejected] = -1
            reason[rejected] = "across water"
            pending = rejected
    ok = chosen >= 0
    rows = np.flatnonzero(ok)
    edge[rows] = cand[rows, chosen[rows]]
    t[rows], access[rows], px[rows], py[rows] = _project(net, edge[rows], x[rows], y[rows])
    reason[ok] = ""
    return Snapped(edge, t, access, px, py, ok, reason)
