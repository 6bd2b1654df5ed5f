"""The compact street network: node and edge arrays and a scipy.sparse CSR core.

A :class:`Network` holds straight segments between nodes (every OSM node of a used way
is a node, so every edge is straight and snapping can project onto it exactly). Each
edge has a length and a travel time per direction (``inf`` where travel that way is not
allowed: one-way streets for driving). Shortest paths run on CSR matrices with
:func:`scipy.sparse.csgraph.dijkstra`; networkx is only an interchange format.

Distances from points (cells, facilities) use their snap on an edge: the straight access
leg from the point to the road, then along the edge to either end, then the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from equiserve.config.types import SearchWeight
from equiserve.errors import DataError
from equiserve.settings import SNAP_LIMIT_M, WALK_SPEED_KMH

if TYPE_CHECKING:
    import networkx as nx

    from equiserve.network.attach import AttachRules, Snapped

Weight = SearchWeight  # metres ("length") or seconds ("time")

#: Zero-length edges get this weight: csgraph reads explicit zeros in a sparse matrix as
#: missing edges.
_EPS = 1e-9


@dataclass
class Network:
    """A routable network for one mode, in a projected CRS (metres).

    Attributes
    ----------
    x, y : ndarray of float
        Node coordinates.
    u, v : ndarray of int
        Edge end nodes; edges are straight segments.
    length_m : ndarray of float
        Edge lengths (metres). For ferries, the length of the crossing.
    time_fwd_s, time_bwd_s : ndarray of float
        Travel time (seconds) from u to v and from v to u; ``inf`` where not allowed.
    is_ferry : ndarray of bool
        Ferry edges (never snapped to; their time includes the boarding wait).
    crs : pyproj.CRS
        The projected CRS of the coordinates.
    mode : str
        ``walk``, ``drive`` or ``custom``.
    node_id : ndarray of int
        Source ids of the nodes (OSM ids), or 0..n-1.
    access_speed_mps : float
        Speed of the off-network access leg (walking), metres per second.
    info : dict
        Build statistics (ways read and used, source file...).
    edge_tags : ndarray of int or None
        Per edge, its way's attachment tags: an index into ``tag_sets`` (None: no tags
        known, every segment can be attached to).
    tag_sets : list of dict
        The distinct tags (those of :data:`~equiserve.settings.ATTACH_TAGS`) of the ways.
    """

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    time_fwd_s: np.ndarray
    time_bwd_s: np.ndarray
    is_ferry: np.ndarray
    crs: pyproj.CRS
    mode: str = "custom"
    node_id: np.ndarray | None = None
    access_speed_mps: float = WALK_SPEED_KMH / 3.6
    info: dict = field(default_factory=dict)
    edge_tags: np.ndarray | None = None
    tag_sets: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        self.u = np.asarray(self.u, dtype=np.int64)
        self.v = np.asarray(self.v, dtype=np.int64)
        self.length_m = np.asarray(self.length_m, dtype=np.float64)
        self.time_fwd_s = np.asarray(self.time_fwd_s, dtype=np.float64)
        self.time_bwd_s = np.asarray(self.time_bwd_s, dtype=np.float64)
        self.is_ferry = np.asarray(self.is_ferry, dtype=bool)
        if self.node_id is None:
            self.node_id = np.arange(len(self.x), dtype=np.int64)
        if self.edge_tags is not None:
            self.edge_tags = np.asarray(self.edge_tags, dtype=np.int64)
        n = len(self.x)
        m = len(self.u)
        for name in ("v", "length_m", "time_fwd_s", "time_bwd_s", "is_ferry", "edge_tags"):
            if getattr(self, name) is not None and len(getattr(self, name)) != m:
                raise DataError(f"network arrays: {name} has {len(getattr(self, name))} values, "
                                f"u has {m}; every edge array needs one value per edge")
        if m and (self.u.min() < 0 or self.v.min() < 0 or max(self.u.max(), self.v.max()) >= n):
            raise DataError(f"network arrays: edge end nodes must be in 0..{n - 1}")
        if (self.length_m < 0).any() or not np.isfinite(self.length_m).all():
            raise DataError("network arrays: length_m must be finite and >= 0")

    # ------------------------------------------------------------------------------
    # constructors

    @classmethod
    def from_arrays(cls, x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray,
                    length_m: np.ndarray | None = None, oneway: np.ndarray | None = None,
                    speed_kmh: float | np.ndarray | None = None,
                    crs: pyproj.CRS | str | int = "EPSG:32649",
                    is_ferry: np.ndarray | None = None) -> Network:
        """A network from plain arrays (metres, a projected CRS).

        Parameters
        ----------
        x, y : array-like
            Node coordinates.
        u, v : array-like of int
            Edge end nodes.
        length_m : array-like, optional
            Edge lengths; default: the straight distance between the end nodes.
        oneway : array-like of bool, optional
            True where an edge may only be travelled from u to v.
        speed_kmh : float or array-like, optional
            Travel speed for edge times (default: walking speed).
        crs : CRS-like
            The projected CRS of ``x``/``y``.
        is_ferry : array-like of bool, optional
            Ferry edges (not snapped to).

        Examples
        --------
        >>> net = Network.from_arrays([0, 100, 100], [0, 0, 50], [0, 1], [1, 2])
        >>> net.nearest([0])[0].tolist()
        [0.0, 100.0, 150.0]
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        if length_m is None:
            length_m = np.hypot(x[v] - x[u], y[v] - y[u])
        length_m = np.asarray(length_m, dtype=float)
        speed = WALK_SPEED_KMH if speed_kmh is None else speed_kmh
        t = length_m / (np.asarray(speed, dtype=float) / 3.6)
        ow = np.zeros(len(u), bool) if oneway is None else np.asarray(oneway, bool)
        crs = pyproj.CRS.from_user_input(crs)
        if not crs.is_projected:
            raise DataError(f"network arrays need a projected CRS in metres, got {crs.name}")
        ferry = np.zeros(len(u), bool) if is_ferry is None else np.asarray(is_ferry, bool)
        return cls(x, y, u, v, length_m, t, np.where(ow, np.inf, t), ferry, crs)

    @classmethod
    def from_networkx(cls, G: nx.Graph, crs: pyproj.CRS | str | int | None = None,
                      length_attr: str = "length", speed_kmh: float | None = None) -> Network:
        """A network from a networkx graph with node ``x``/``y`` in a projected CRS.

        osmnx graphs must be projected first (``osmnx.project_graph``). Edge lengths come
        from ``length_attr`` (default ``length``); a directed graph's edges are one-way
        unless the reverse edge exists.
        """
        nodes = list(G.nodes)
        index = {n: i for i, n in enumerate(nodes)}
        x = np.array([G.nodes[n]["x"] for n in nodes], dtype=float)
        y = np.array([G.nodes[n]["y"] for n in nodes], dtype=float)
        edges = list(G.edges(data=True))
        u = np.array([index[a] for a, _, _ in edges], dtype=np.int64)
        v = np.array([index[b] for _, b, _ in edges], dtype=np.int64)
        length = np.array([d.get(length_attr, np.nan) for _, _, d in edges], dtype=float)
        missing = ~np.isfinite(length)
        length[missing] = np.hypot(x[v] - x[u], y[v] - y[u])[missing]
        crs = crs if crs is not None else G.graph.get("crs")
        if crs is None:
            raise DataError("the networkx graph has no 'crs' graph attribute; pass crs=...")
        directed = G.is_directed()
        net = cls.from_arrays(x, y, u, v, length, oneway=np.full(len(u), directed),
                              speed_kmh=speed_kmh, crs=crs)
        net.node_id = np.array([n if isinstance(n, int | np.integer) else i
                                for i, n in enumerate(nodes)], dtype=np.int64)
        return net

    def to_networkx(self, weight: Weight = "length") -> nx.DiGraph:
        """Export as a networkx DiGraph (edge attribute ``weight``), for interchange."""
        import networkx as nx

        G = nx.DiGraph(crs=self.crs.to_string())
        G.add_nodes_from((int(i), {"x": float(self.x[i]), "y": float(self.y[i])})
                         for i in range(len(self.x)))
        src, dst, w = self._directed_edges(weight)
        G.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), w.tolist(), strict=True))
        return G

    # ------------------------------------------------------------------------------
    # structure

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    def _edge_cost(self, weight: Weight) -> tuple[np.ndarray, np.ndarray]:
        """Cost of each edge from u to v and from v to u (inf where not allowed)."""
        if weight == "length":
            fwd = np.where(np.isfinite(self.time_fwd_s), self.length_m, np.inf)
            bwd = np.where(np.isfinite(self.time_bwd_s), self.length_m, np.inf)
            return fwd, bwd
        return self.time_fwd_s, self.time_bwd_s

    def _directed_edges(self, weight: Weight, ferries: bool = True
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fwd, bwd = self._edge_cost(weight)
        keep = np.ones(self.n_edges, bool) if ferries else ~self.is_ferry
        a = keep & np.isfinite(fwd)
        b = keep & np.isfinite(bwd)
        src = np.concatenate([self.u[a], self.v[b]])
        dst = np.concatenate([self.v[a], self.u[b]])
        w = np.maximum(np.concatenate([fwd[a], bwd[b]]), _EPS)
        return src, dst, w

    def _base_csr(self, weight: Weight, reverse: bool, ferries: bool = True) -> sp.csr_matrix:
        """CSR adjacency with parallel edges reduced to the cheapest; cached per arguments."""
        key = (weight, reverse, ferries)
        cache = self.__dict__.setdefault("_csr_cache", {})
        if key not in cache:
            src, dst, w = self._directed_edges(weight, ferries)
            if reverse:
                src, dst = dst, src
            n = self.n_nodes
            # sort by (src, dst) through one integer key, then keep each pair's minimum
            pair = src * n + dst
            order = np.argsort(pair, kind="stable")
            pair, w = pair[order], w[order]
            start = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
            w = np.minimum.reduceat(w, start) if len(w) else w
            pair = pair[start]
            cache[key] = sp.csr_matrix((w, (pair // n, pair % n)), shape=(n, n))
        return cache[key]

    def _csr(self, weight: Weight, reverse: bool, sources: np.ndarray, offsets: np.ndarray,
             ferries: bool = True) -> sp.csr_matrix:
        """The base CSR with one virtual node per source appended (rows n..n+k-1), each
        joined to its source node by an edge of cost ``offset``."""
        base = self._base_csr(weight, reverse, ferries)
        n, k = self.n_nodes, len(sources)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.arange(1, k + 1)])
        indices = np.concatenate([base.indices, np.asarray(sources, dtype=base.indices.dtype)])
        data = np.concatenate([base.data, np.maximum(offsets, _EPS)])
        return sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))

    @cached_property
    def components(self) -> np.ndarray:
        """Weakly connected component label of every node (ferries connect)."""
        src, dst, w = self._directed_edges("length")
        g = sp.csr_matrix((w, (src, dst)), shape=(self.n_nodes, self.n_nodes))
        return connected_components(g, directed=True, connection="weak")[1]

    # ------------------------------------------------------------------------------
    # queries

    def nearest(self, sources: np.ndarray, offsets: np.ndarray | None = None,
                labels: np.ndarray | None = None, weight: Weight = "length",
                reverse: bool = False, limit: float = np.inf, ferries: bool = True
                ) -> tuple[np.ndarray, np.ndarray]:
        """Cost from the nearest source to every node, in one multi-source Dijkstra.

        Parameters
        ----------
        sources : array-like of int
            Source nodes (may repeat).
        offsets : array-like of float, optional
            Initial cost at each source (e.g. the walk from a facility to the road).
        labels : array-like of int, optional
            Label of each source (e.g. its facility); default: the position in ``sources``.
        weight : "length" or "time"
            Metres or seconds.
        reverse : bool
            Cost from each node *to* its nearest source (on a directed network, what a
            resident travelling to a facility needs) instead of from it.
        limit : float
            Stop beyond this cost (nodes farther get ``inf``).
        ferries : bool
            Whether ferry edges may be used.

        Returns
        -------
        cost : ndarray of float
            Per node; ``inf`` where no source is reachable.
        label : ndarray of int
            Label of the nearest source per node; -1 where unreachable.
        """
        sources = np.asarray(sources, dtype=np.int64).ravel()
        k = len(sources)
        offsets = np.zeros(k) if offsets is None else np.asarray(offsets, float).ravel()
        labels = np.arange(k) if labels is None else np.asarray(labels, np.int64).ravel()
        n = self.n_nodes
        if k == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        # one virtual node per source, joined to its node by an edge of cost = offset
        virtual = n + np.arange(k)
        g = self._csr(weight, reverse, sources, offsets, ferries=ferries)
        dist, _, src = dijkstra(g, directed=True, indices=virtual, min_only=True,
                                return_predecessors=True, limit=limit)
        dist = dist[:n]
        # the virtual edge weighs max(offset, eps): take eps back off where offset was 0
        src = src[:n]
        reached = src >= 0
        label = np.full(n, -1, dtype=np.int64)
        label[reached] = labels[src[reached] - n]
        corr = np.zeros(n)
        corr[reached] = np.maximum(offsets[src[reached] - n], _EPS) - offsets[src[reached] - n]
        return dist - corr, label

    def point_costs(self, node_cost: np.ndarray, points: Snapped, weight: Weight = "length",
                    to_nodes: bool = True, return_end: bool = False
                    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Cost for snapped points given a cost per node (from :meth:`nearest`).

        For a point on edge (a, b) at fraction t it is the access leg plus the cheaper of
        going to a (against the edge) or to b (along it) and on from there. With
        ``to_nodes`` the point travels to the node (resident -> facility on the reversed
        search); otherwise from it. With ``return_end`` also the node used (-1 if none).
        """
        fwd, bwd = self._edge_cost(weight)
        n = len(points.edge)
        cost = np.full(n, np.inf)
        end = np.full(n, -1, dtype=np.int64)
        ok = np.flatnonzero(points.ok)
        if ok.size:
            e, t = points.edge[ok], points.t[ok]
            a, b = self.u[e], self.v[e]
            # leaving the point towards a runs v->u on the edge (bwd), towards b u->v (fwd)
            to_a = _part(t, bwd[e] if to_nodes else fwd[e])
            to_b = _part(1 - t, fwd[e] if to_nodes else bwd[e])
            with np.errstate(invalid="ignore"):
                via_a, via_b = to_a + node_cost[a], to_b + node_cost[b]
            use_a = via_a <= via_b
            via = np.where(use_a, via_a, via_b)
            cost[ok] = self.access_cost(points.access_m[ok], weight) + via
            end[ok] = np.where(np.isfinite(via), np.where(use_a, a, b), -1)
        return (cost, end) if return_end else cost

    def access_cost(self, access_m: np.ndarray, weight: Weight) -> np.ndarray:
        """Cost of the straight access leg between a point and the road (walked)."""
        return access_m if weight == "length" else access_m / self.access_speed_mps

    def source_offsets(self, points: Snapped, weight: Weight, to_point: bool = True
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sources for :meth:`nearest` from snapped points (e.g. facilities).

        Each snapped point gives two sources, the ends of its edge, with the cost between
        the node and the point (access leg included). With ``to_point`` the cost is for
        travelling from the node to the point, as needed with ``reverse=True``.

        Returns (nodes, offsets, point index).
        """
        fwd, bwd = self._edge_cost(weight)
        idx = np.flatnonzero(points.ok)
        e, t = points.edge[idx], points.t[idx]
        acc = self.access_cost(points.access_m[idx], weight)
        # from a to the point runs along u->v: fwd; from b to the point runs v->u: bwd
        off_a = acc + _part(t, fwd[e] if to_point else bwd[e])
        off_b = acc + _part(1 - t, bwd[e] if to_point else fwd[e])
        nodes = np.concatenate([self.u[e], self.v[e]])
        offsets = np.concatenate([off_a, off_b])
        which = np.concatenate([idx, idx])
        fin = np.isfinite(offsets)
        return nodes[fin], offsets[fin], which[fin]

    def same_edge_costs(self, origins: Snapped, destinations: Snapped, weight: Weight
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Direct costs between origins and destinations snapped to the same edge.

        Paths through the edge's end nodes miss the direct way along the edge; these
        pairs are added separately. Returns (origin index, destination index, cost).
        """
        import pandas as pd

        fwd, bwd = self._edge_cost(weight)
        o = pd.DataFrame({"i": np.flatnonzero(origins.ok)})
        o["e"] = origins.edge[o["i"]]
        d = pd.DataFrame({"j": np.flatnonzero(destinations.ok)})
        d["e"] = destinations.edge[d["j"]]
        pairs = o.merge(d, on="e")
        if pairs.empty:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        i, j, e = pairs["i"].to_numpy(), pairs["j"].to_numpy(), pairs["e"].to_numpy()
        dt = destinations.t[j] - origins.t[i]
        along = np.where(dt >= 0, _part(dt, fwd[e]), _part(-dt, bwd[e]))
        with np.errstate(invalid="ignore"):
            cost = (self.access_cost(origins.access_m[i], weight) + along
                    + self.access_cost(destinations.access_m[j], weight))
        fin = np.isfinite(cost)
        return i[fin], j[fin], cost[fin]

    def snap(self, x: np.ndarray, y: np.ndarray, limit_m: float = SNAP_LIMIT_M,
             land: object | None = None, rules: AttachRules | None = None,
             preferred: np.ndarray | None = None) -> Snapped:
        """Attach points to the network (see :mod:`equiserve.network.attach`): without
        ``rules`` and ``preferred`` components, to the nearest non-ferry segment."""
        from equiserve.network.attach import snap_points

        return snap_points(self, x, y, limit_m=limit_m, land=land, rules=rules,
                           preferred=preferred)

    def od(self, origins: Snapped, destinations: Snapped, cutoff: float,
           weight: Weight = "length", chunk_size: int | None = None,
           progress: Callable[[int, int], None] | None = None) -> sp.csr_matrix:
        """Bounded many-to-many costs from origins to destinations within ``cutoff``.

        Runs one bounded Dijkstra per destination on the reversed network, in chunks, and
        keeps only pairs with cost ``<= cutoff``: memory grows with the pairs found, not
        with origins x destinations. A pair at cost 0 is stored as an explicit zero.

        Returns
        -------
        scipy.sparse.csr_matrix, shape (n_origins, n_destinations)
            Costs in metres (``length``) or seconds (``time``).
        """
        n_o, n_d = len(origins.edge), len(destinations.edge)
        nodes, offsets, which = self.source_offsets(destinations, weight, to_point=True)
        # every destination gets one virtual node (n + j) joined to both ends of its edge
        order = np.argsort(which, kind="stable")
        nodes, offsets, which = nodes[order], offsets[order], which[order]
        base = self._base_csr(weight, reverse=True)
        n = self.n_nodes
        counts = np.bincount(which, minlength=n_d)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)])
        g = sp.csr_matrix((np.concatenate([base.data, np.maximum(offsets, _EPS)]),
                           np.concatenate([base.indices, nodes.astype(base.indices.dtype)]),
                           indptr), shape=(n + n_d, n + n_d))
        # node -> (origin, cost from the origin to that node) for both ends of its edge
        fwd, bwd = self._edge_cost(weight)
        ok_o = np.flatnonzero(origins.ok)
        e = origins.edge[ok_o]
        acc = self.access_cost(origins.access_m[ok_o], weight)
        end_node = np.concatenate([self.u[e], self.v[e]])
        end_cost = np.concatenate([acc + _part(origins.t[ok_o], bwd[e]),
                                   acc + _part(1 - origins.t[ok_o], fwd[e])])
        end_origin = np.concatenate([ok_o, ok_o])
        keep = np.isfinite(end_cost) & (end_cost <= cutoff)
        end_node, end_cost, end_origin = end_node[keep], end_cost[keep], end_origin[keep]
        by_node = np.argsort(end_node, kind="stable")
        end_cost, end_origin = end_cost[by_node], end_origin[by_node]
        node_start = np.searchsorted(end_node[by_node], np.arange(n + 1))
        node_count = np.diff(node_start)
        if chunk_size is None:
            chunk_size = max(1, int(2e7 // max(n + n_d, 1)))
        rows, cols, vals = [], [], []
        dest_ok = np.flatnonzero(destinations.ok)
        for start in range(0, len(dest_ok), chunk_size):
            chunk = dest_ok[start:start + chunk_size]
            dist = dijkstra(g, directed=True, indices=n + chunk, limit=cutoff)[:, :n]
            # only the reached nodes that are an end of some origin's edge
            r, node = np.nonzero(np.isfinite(dist) & (node_count > 0)[None, :])
            reps = node_count[node]
            pos = np.repeat(node_start[node], reps) + (
                np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
            cost = np.repeat(dist[r, node], reps) + end_cost[pos]
            ok = cost <= cutoff
            rows.append(end_origin[pos][ok])
            cols.append(chunk[np.repeat(r, reps)][ok])
            vals.append(cost[ok])
            if progress is not None:
                progress(min(start + chunk_size, len(dest_ok)), len(dest_ok))
        i, j, c = self.same_edge_costs(origins, destinations, weight)
        keep = c <= cutoff
        rows.append(i[keep])
        cols.append(j[keep])
        vals.append(c[keep])
        r = np.concatenate(rows).astype(np.int64)
        col = np.concatenate(cols).astype(np.int64)
        val = np.concatenate(vals)
        # the virtual edges weigh at least eps: costs within 1e-6 of 0 are 0
        val = np.where(val < 1e-6, 0.0, val)
        return _min_coo_to_csr(r, col, val, (n_o, n_d))


def _part(frac: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Cost of a fraction of an edge; 0 for a zero fraction even where travel is barred."""
    with np.errstate(invalid="ignore"):
        return np.where(frac > 0, frac * cost, 0.0)


def _min_coo_to_csr(r: np.ndarray, c: np.ndarray, v: np.ndarray,
                    shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR keeping the minimum of duplicate (row, col) entries and explicit zeros."""
    key = r * shape[1] + c
    order = np.argsort(key, kind="stable")
    key, v = key[order], v[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
    if len(key):
        v = np.minimum.reduceat(v, start)
        key = key[start]
    r, c = key // shape[1], key % shape[1]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=shape[0]))])
    return sp.csr_matrix((v, c, indptr), shape=shape)
