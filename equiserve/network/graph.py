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

from collections.abc import Callable, Iterator
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
        # the virtual edges weigh at least eps (taken off below): a node at exactly
        # ``limit`` must not fall beyond it
        dist, _, src = dijkstra(g, directed=True, indices=virtual, min_only=True,
                                return_predecessors=True,
                                limit=limit + _EPS if np.isfinite(limit) else limit)
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
        fwd, bwd = self._edge_cost(weight)
        # the destinations by edge, and each origin's range of them (a join on the edge)
        dest = np.flatnonzero(destinations.ok)
        dest = dest[np.argsort(destinations.edge[dest], kind="stable")]
        dest_edge = destinations.edge[dest]
        orig = np.flatnonzero(origins.ok)
        lo = np.searchsorted(dest_edge, origins.edge[orig], side="left")
        count = np.searchsorted(dest_edge, origins.edge[orig], side="right") - lo
        i = np.repeat(orig, count)
        j = dest[np.repeat(lo, count) + _ramps(count)]
        e = origins.edge[i]
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

        One bounded Dijkstra per destination on the reversed network, keeping the pairs
        with cost ``<= cutoff``. Each search runs on its own copy of the part of the
        network it can reach: the nodes within ``R = cutoff / f`` of the destination's
        edge, ``f`` being the least cost per metre of straight-line displacement of the
        edges that cost at most ``cutoff`` (:meth:`min_cost_per_metre`; dearer edges, such
        as a ferry with its wait, cannot be on such a path). No path of cost ``<= cutoff``
        leaves that part, so the costs are those on the whole network, exactly (a very
        fast edge makes ``R`` large, the parts the whole network: slower, still exact).
        The copies of a batch of destinations form one graph of disjoint parts, searched
        by one multi-source Dijkstra (each part holds one source, so each node's cost is
        its own destination's). Time and memory grow with the destinations times the
        nodes near each, not with destinations times the nodes of the city. A pair at
        cost 0 is stored as an explicit zero.

        Parameters
        ----------
        chunk_size : int, optional
            At most this many destinations per Dijkstra call (default: batches of about
            4 million copied nodes).
        progress : callable, optional
            Called with (destinations done, destinations) after each call.

        Returns
        -------
        scipy.sparse.csr_matrix, shape (n_origins, n_destinations)
            Costs in metres (``length``) or seconds (``time``).

        Examples
        --------
        Two origins and a destination 10 m off a 3-node line of 100 m edges:

        >>> net = Network.from_arrays([0, 100, 200], [0, 0, 0], [0, 1], [1, 2])
        >>> o, d = net.snap(np.array([0.0, 200.0]), np.array([5.0, 0.0])), net.snap(
        ...     np.array([100.0]), np.array([10.0]))
        >>> od = net.od(o, d, cutoff=112.0)  # origin 0 at 5 + 100 + 10 is beyond it
        >>> od.nnz, float(od[1, 0])
        (1, 110.0)
        """
        n_o, n_d = len(origins.edge), len(destinations.edge)
        nodes, offsets, which = self.source_offsets(destinations, weight, to_point=True)
        order = np.argsort(which, kind="stable")
        nodes, offsets, which = nodes[order], offsets[order], which[order]
        base = self._base_csr(weight, reverse=True)
        parts = _Parts.of(self, nodes, offsets, which, weight, cutoff)
        ends = _OriginEnds.of(self, origins, weight, cutoff, parts.near())
        rows, cols, vals = [], [], []
        for batch in parts.batches(_PART_NODES, chunk_size):
            g, copy_of, dest_of = parts.graph(base, batch)
            k = len(copy_of)
            dist = dijkstra(g, directed=True, indices=k + np.arange(len(batch)),
                            min_only=True, limit=cutoff)[:k]
            r, c, v = ends.pairs(dist, copy_of, cutoff)
            rows.append(r)
            cols.append(parts.dests[batch][dest_of[c]])
            vals.append(v)
            if progress is not None:
                progress(int(batch[-1]) + 1, len(parts.dests))
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

    def min_cost_per_metre(self, weight: Weight, cutoff: float = np.inf) -> float:
        """The least cost per metre of straight-line displacement of the edges costing at
        most ``cutoff``, as searched (the cheapest of parallel edges, at least ``eps``).

        A lower bound on the cost per metre of any path of cost ``<= cutoff`` (each of
        its edges costs at most that), so such a path ends within ``cutoff / f`` of its
        start. ``inf`` if no such edge joins two distinct points.

        >>> net = Network.from_arrays([0, 100, 300], [0, 0, 0], [0, 1], [1, 2],
        ...                           length_m=[150, 200])
        >>> net.min_cost_per_metre("length"), net.min_cost_per_metre("length", cutoff=100)
        (1.0, inf)
        """
        cache = self.__dict__.setdefault("_csr_cache", {})
        key = ("cost_per_metre", weight)
        if key not in cache:
            # over both directions of every edge as searched (the cheapest parallel edge
            # is among them, so the least ratio is that of the CSR)
            fwd, bwd = self._edge_cost(weight)
            d = np.hypot(self.x[self.v] - self.x[self.u], self.y[self.v] - self.y[self.u])
            w = np.maximum(np.concatenate([fwd, bwd]), _EPS)
            d = np.concatenate([d, d])
            moves = (d > 0) & np.isfinite(w)
            cache[key] = (w[moves], w[moves] / d[moves])
        cost, per_metre = cache[key]
        within = cost <= cutoff
        return float(per_metre[within].min()) if within.any() else np.inf

    def reach(self, weight: Weight, cutoff: float) -> float:
        """How far (m, straight line) a path of cost ``<= cutoff`` can end from its start:
        ``cutoff / min_cost_per_metre``, with a margin for rounding."""
        return float(_radius(cutoff, self.min_cost_per_metre(weight, cutoff)))


#: Copied nodes per Dijkstra call of :meth:`Network.od` (memory ~ 100 bytes each).
_PART_NODES = 4_000_000


@dataclass(frozen=True)
class _Parts:
    """For each destination of :meth:`Network.od`, the nodes its search can reach: those
    within ``(cutoff - offset) / f`` of one of its sources (the ends of its edge, at the
    cost ``offset`` from it; a source dearer than the cutoff leads nowhere and is left
    out, with the destinations left without one).

    Nodes are ranked in the order of a grid of cells of side ``cutoff / f`` (cell by
    cell, a column of cells after another), so the nodes near a destination are a few
    ranges of ranks (one per column of cells its sources' discs span), found by binary
    search and listed in rank order, then kept if within a disc.
    """

    net: Network
    nodes: np.ndarray       # source nodes of the destinations, grouped by destination
    offsets: np.ndarray     # cost from each source node to its destination
    radius: np.ndarray      # how far from its node each source's search can go
    dests: np.ndarray       # the destinations searched (sorted)
    bound: np.ndarray       # sources of dests[p]: nodes[bound[p]:bound[p + 1]]
    by_rank: np.ndarray     # the nodes in rank order
    rank: np.ndarray        # the rank of each node
    columns: tuple[np.ndarray, np.ndarray, np.ndarray]  # (dest, first rank, end rank)

    @classmethod
    def of(cls, net: Network, nodes: np.ndarray, offsets: np.ndarray, which: np.ndarray,
           weight: Weight, cutoff: float) -> _Parts:
        """The parts of the destinations ``which`` (sorted) with sources ``nodes`` at
        costs ``offsets``."""
        useful = offsets <= cutoff
        nodes, offsets, which = nodes[useful], offsets[useful], which[useful]
        f = net.min_cost_per_metre(weight, cutoff)
        radius = _radius(cutoff - offsets, f)
        dests, bound = np.unique(which, return_index=True)
        bound = np.append(bound, len(which)).astype(np.int64)
        x, y, n = net.x, net.y, net.n_nodes
        reach = float(radius.max()) if len(radius) else 0.0
        width = max(float(np.ptp(x)), float(np.ptp(y)), 1.0) if n else 1.0
        if not (n and reach < width):  # a search may reach anything: every node
            by_rank = np.arange(n)
            p = np.arange(len(dests))
            return cls(net, nodes, offsets, radius, dests, bound, by_rank, by_rank,
                       (p, np.zeros(len(p), np.int64), np.full(len(p), n, np.int64)))
        side = max(reach, width / 4096)  # at most 4,096 x 4,096 cells
        x0, y0 = x.min(), y.min()
        nx = int(np.ptp(x) // side) + 1
        ny = int(np.ptp(y) // side) + 1
        cell = ((x - x0) // side).astype(np.int64) * ny + ((y - y0) // side).astype(np.int64)
        by_rank = np.argsort(cell, kind="stable")
        rank = np.empty(n, np.int64)
        rank[by_rank] = np.arange(n)
        ranked_cell = cell[by_rank]
        # the columns of cells the discs of each destination's sources span
        starts = bound[:-1]
        box = [np.minimum.reduceat(x[nodes] - radius, starts),
               np.maximum.reduceat(x[nodes] + radius, starts),
               np.minimum.reduceat(y[nodes] - radius, starts),
               np.maximum.reduceat(y[nodes] + radius, starts)] if len(dests) else [
            np.zeros(0)] * 4
        gx0, gx1 = (np.clip((b - x0) // side, 0, nx - 1).astype(np.int64) for b in box[:2])
        gy0, gy1 = (np.clip((b - y0) // side, 0, ny - 1).astype(np.int64) for b in box[2:])
        per = gx1 - gx0 + 1
        dest = np.repeat(np.arange(len(dests)), per)
        gx = np.repeat(gx0, per) + _ramps(per)
        lo = np.searchsorted(ranked_cell, gx * ny + gy0[dest], side="left")
        hi = np.searchsorted(ranked_cell, gx * ny + gy1[dest], side="right")
        return cls(net, nodes, offsets, radius, dests, bound, by_rank, rank, (dest, lo, hi))

    def near(self) -> np.ndarray:
        """Per node, whether some part may hold it (a superset: whole ranges of ranks)."""
        n = self.net.n_nodes
        _dest, lo, hi = self.columns
        depth = np.cumsum(np.bincount(lo, minlength=n + 1) - np.bincount(hi, minlength=n + 1))
        return (depth[:n] > 0)[self.rank]

    def batches(self, max_nodes: int, max_dests: int | None) -> Iterator[np.ndarray]:
        """Positions of destinations in consecutive batches of about ``max_nodes``
        candidate nodes and at most ``max_dests`` destinations."""
        n = len(self.dests)
        if not n:
            return
        dest, lo, hi = self.columns
        size = np.bincount(dest, weights=hi - lo, minlength=n)
        before = np.cumsum(size) - size
        key = (before // max(max_nodes, 1)).astype(np.int64)
        if max_dests is not None:
            key = key * n + np.arange(n) // max(int(max_dests), 1)
        edges = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            yield np.arange(a, b)

    def members(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in the batch, node) of the nodes each destination of ``batch`` can
        reach, ordered by position, then rank."""
        dest, lo, hi = self.columns
        first = np.searchsorted(dest, batch[0], side="left")
        last = np.searchsorted(dest, batch[-1], side="right")
        dest, lo, hi = dest[first:last] - batch[0], lo[first:last], hi[first:last]
        count = hi - lo
        pos = np.repeat(lo, count) + _ramps(count)
        owner = np.repeat(dest, count)
        node = self.by_rank[pos]
        if np.isfinite(self.radius).all():
            # within the disc of one of the destination's sources (one pass per source)
            x, y = self.net.x[node], self.net.y[node]
            start = self.bound[batch[owner]]
            sources = self.bound[batch[owner] + 1] - start
            near = np.zeros(len(node), bool)
            for k in range(int(sources.max()) if len(sources) else 0):
                s = np.minimum(start + k, start + sources - 1)
                at = self.nodes[s]
                near |= np.hypot(x - self.net.x[at], y - self.net.y[at]) <= self.radius[s]
            owner, node = owner[near], node[near]
        return owner, node

    def graph(self, base: sp.csr_matrix, batch: np.ndarray
              ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """The disjoint copies of the parts of ``base`` the destinations of ``batch``
        reach, then one virtual node per destination (in batch order) joined to its
        source nodes in its copy; the node of every copied node and the batch position
        of its destination."""
        owner, node = self.members(batch)
        n, k = self.net.n_nodes, len(node)
        key = owner * n + self.rank[node]  # sorted: by owner, then rank
        start = base.indptr[node]
        count = base.indptr[node + 1] - start
        idx = np.repeat(start, count) + _ramps(count)
        target = np.repeat(owner * n, count) + self.rank[base.indices[idx]]
        col = np.minimum(np.searchsorted(key, target), max(k - 1, 0))
        inside = key[col] == target if k else np.zeros(0, bool)
        row = np.repeat(np.arange(k), count)[inside]
        lo, hi = self.bound[batch], self.bound[batch + 1]
        src = np.repeat(lo, hi - lo) + _ramps(hi - lo)
        src_owner = np.repeat(np.arange(len(batch)), hi - lo)
        src_col = np.searchsorted(key, src_owner * n + self.rank[self.nodes[src]])
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=k)),
                                 inside.sum() + np.cumsum(hi - lo)])
        indices = np.concatenate([col[inside], src_col])
        data = np.concatenate([base.data[idx][inside], np.maximum(self.offsets[src], _EPS)])
        size = k + len(batch)
        return (sp.csr_matrix((data, indices.astype(np.int32 if size < 2**31 else np.int64),
                               indptr), shape=(size, size)), node, owner)


def _radius(budget: np.ndarray | float, f: float) -> np.ndarray:
    """How far (m, straight line) a path costing at most ``budget`` can go when no edge
    costs less than ``f`` per metre, with a margin for rounding (the bound holds in exact
    arithmetic; costs are summed in floating point)."""
    budget = np.asarray(budget, dtype=float)
    if f == np.inf:  # no edge moves: only the point itself
        return np.full(budget.shape, 1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        far = budget / f if f > 0 else np.full(budget.shape, np.inf)
    return np.where(np.isfinite(far), far * (1 + 1e-9) + 1e-6, np.inf)


def _group(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``keys`` (ints in 0..n-1) grouped by key, in order within each key,
    and where each key's group starts (n + 1 values): a stable counting sort, by the
    conversion of a COO matrix to CSR (faster than ``argsort`` by half here).

    >>> order, start = _group(np.array([2, 0, 2, 1]), 3)
    >>> order.tolist(), start.tolist()
    ([1, 3, 0, 2], [0, 1, 2, 4])
    """
    m = len(keys)
    grouped = sp.csr_matrix((np.ones(m, np.int8), (keys, np.arange(m))), shape=(n, max(m, 1)))
    return grouped.indices.astype(np.int64), grouped.indptr.astype(np.int64)


def _ramps(count: np.ndarray) -> np.ndarray:
    """0..c-1 for each c of ``count``, concatenated.

    >>> _ramps(np.array([2, 0, 3])).tolist()
    [0, 1, 0, 1, 2]
    """
    count = np.asarray(count, dtype=np.int64)
    return np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)


@dataclass(frozen=True)
class _OriginEnds:
    """Per node, the origins on an edge ending there and their cost to that node (both
    ends of every attached origin's edge, within the cutoff), grouped by node."""

    start: np.ndarray   # (n_nodes + 1,) first entry of each node
    count: np.ndarray   # (n_nodes,) entries of each node
    cost: np.ndarray    # cost from the origin to the node
    origin: np.ndarray  # the origin

    @classmethod
    def of(cls, net: Network, origins: Snapped, weight: Weight, cutoff: float,
           near: np.ndarray) -> _OriginEnds:
        """The ends of the origins' edges, within the cutoff and ``near`` (a node mask:
        ends no search can reach are left out)."""
        fwd, bwd = net._edge_cost(weight)
        ok = np.flatnonzero(origins.ok)
        e = origins.edge[ok]
        ok = ok[near[net.u[e]] | near[net.v[e]]]
        e = origins.edge[ok]
        acc = net.access_cost(origins.access_m[ok], weight)
        node = np.concatenate([net.u[e], net.v[e]])
        cost = np.concatenate([acc + _part(origins.t[ok], bwd[e]),
                               acc + _part(1 - origins.t[ok], fwd[e])])
        origin = np.concatenate([ok, ok])
        keep = np.isfinite(cost) & (cost <= cutoff) & near[node]
        node, cost, origin = node[keep], cost[keep], origin[keep]
        by_node, start = _group(node, net.n_nodes)
        return cls(start, np.diff(start), cost[by_node], origin[by_node])

    def pairs(self, dist: np.ndarray, nodes: np.ndarray, cutoff: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(origin, copy, cost) of the pairs within ``cutoff``, given the cost ``dist[q]``
        from a source to the copy ``q`` of node ``nodes[q]``."""
        count = self.count[nodes]
        q = np.flatnonzero(np.isfinite(dist) & (count > 0))
        reps = count[q]
        pos = np.repeat(self.start[nodes[q]], reps) + _ramps(reps)
        cost = np.repeat(dist[q], reps) + self.cost[pos]
        ok = cost <= cutoff
        return self.origin[pos][ok], np.repeat(q, reps)[ok], cost[ok]


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
