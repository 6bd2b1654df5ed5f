"""Service-area polygons: the reached parts of street edges, buffered; never a hull.

For each edge (a, b) with search costs ``C[a]`` and ``C[b]`` (cost from the node to its
nearest facility), the points within the standard form at most two pieces: from ``a`` up
to where ``C[a] + s * cost(b->a)`` reaches the limit, and from ``b`` back likewise. These
pieces are buffered by an access width, per facility and dissolved per layer. Ferry edges
are never drawn (the sea between two piers is not served ground), so an area cannot cross
water that no street crosses.

The buffer is computed on a grid: exact GEOS buffers of a city's hundred thousand street
pieces and their unions take tens of seconds, the grid a few. The grid's pixels are a
third of the width. The dissolved area of a layer (the default,
:func:`dissolved_grid_buffer`) burns the pieces by points along them, grows them by
whole-array shifts and outlines them by marching squares (contourpy), one grid per
separate part of the streets (a tiled city's tiles, islands: the empty ground between them
costs nothing); it is 4.5 % (50 m width) to 7.5 % (30 m) smaller than the exact buffer,
which is invisible at map scale. Per-facility areas (:func:`grid_buffer`, a distance
transform carrying each pixel's nearest label, outlined by pixel edges: 4-13 % smaller
than exact) only when asked for. On the 8x demo the dissolved areas take 6 s for five
network layers (they took 19 s on one grid outlined by pixel edges, 3 % smaller).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
import shapely.geometry

from equiserve.network.graph import Network, Weight
from equiserve.settings import SERVICE_AREA_WIDTH_M


def reached_segments(net: Network, node_cost: np.ndarray, node_label: np.ndarray,
                     limit: float, weight: Weight = "length", merge: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The pieces of non-ferry edges within ``limit`` of a facility, as an (n, 2, 2) array
    of their ends' coordinates, and their labels (of the nearer end's facility). With
    ``merge`` an edge reached from both ends whose pieces meet is one whole piece (for the
    dissolved area, which reads no labels: a third fewer pieces on the demo)."""
    fwd, bwd = net._edge_cost(weight)
    e = np.flatnonzero(~net.is_ferry)
    a, b = net.u[e], net.v[e]
    ca, cb = node_cost[a], node_cost[b]
    ax, ay, bx, by = net.x[a], net.y[a], net.x[b], net.y[b]
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = np.clip(np.where(bwd[e] > 0, (limit - ca) / bwd[e], 1.0), 0, 1)
        s2 = np.clip(np.where(fwd[e] > 0, 1 - (limit - cb) / fwd[e], 0.0), 0, 1)
    from_a = (ca <= limit) & (s1 > 0)
    from_b = (cb <= limit) & (s2 < 1)
    if merge:
        whole = from_a & from_b & (s1 >= s2)
        s1 = np.where(whole, 1.0, s1)
        from_b &= ~whole
    coords, labels = [], []
    for mask, s0, s1_, lab in ((from_a, np.zeros_like(s1), s1, node_label[a]),
                               (from_b, s2, np.ones_like(s2), node_label[b])):
        if not mask.any():
            continue
        x0 = ax[mask] + s0[mask] * (bx[mask] - ax[mask])
        y0 = ay[mask] + s0[mask] * (by[mask] - ay[mask])
        x1 = ax[mask] + s1_[mask] * (bx[mask] - ax[mask])
        y1 = ay[mask] + s1_[mask] * (by[mask] - ay[mask])
        coords.append(np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1))
        labels.append(lab[mask])
    if not coords:
        return np.empty((0, 2, 2)), np.empty(0, dtype=np.int64)
    return np.concatenate(coords), np.concatenate(labels)


def reached_pieces(net: Network, node_cost: np.ndarray, node_label: np.ndarray,
                   limit: float, weight: Weight = "length"
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`reached_segments` as line strings."""
    segments, labels = reached_segments(net, node_cost, node_label, limit, weight)
    if not len(segments):
        return np.empty(0, dtype=object), labels
    return shapely.linestrings(segments), labels


def network_service_areas(net: Network, node_cost: np.ndarray, node_label: np.ndarray,
                          limit: float, n_facilities: int, width_m: float = SERVICE_AREA_WIDTH_M,
                          weight: Weight = "length", per_facility: bool = False
                          ) -> tuple[np.ndarray | None, shapely.Geometry]:
    """Polygons of the ground within ``limit`` of each facility by street, and their union.

    Returns one (multi)polygon per facility with ``per_facility`` (empty where nothing is
    reached; each street piece belongs to the facility nearest by street), else None, and
    the dissolved area of the layer.
    """
    segments, labels = reached_segments(net, node_cost, node_label, limit, weight,
                                        merge=not per_facility)
    if per_facility:
        lines = shapely.linestrings(segments) if len(segments) else np.empty(0, dtype=object)
        return grid_buffer(lines, labels, n_facilities, width_m)
    return None, dissolved_grid_buffer(segments, width_m)


def _pixel_grid(bounds: np.ndarray, width_m: float
                ) -> tuple[float, float, float, tuple[int, int], float]:
    """Pixel size, grid origin (left, top), shape (rows, columns) and growth radius
    (pixels) of the grid buffer: pixels of a third of the width, a margin of the width
    and two pixels; burnt pixels straddle the line, so half a pixel less than the width
    keeps it right on average."""
    px = width_m / 3.0
    pad = width_m + 2 * px
    xmin, ymin, xmax, ymax = bounds
    x0, y1 = np.floor((xmin - pad) / px) * px, np.ceil((ymax + pad) / px) * px
    shape = (int(np.ceil((y1 - ymin + pad) / px)), int(np.ceil((xmax + pad - x0) / px)))
    return px, x0, y1, shape, (width_m - px / 2) / px


def _dilate_disk(mask: np.ndarray, radius: float) -> np.ndarray:
    """``mask`` grown by a disk: the pixels within ``radius`` pixels (centre to centre) of
    a set one, as a union of horizontal runs shifted row by row (a few whole-array ORs;
    the border of ``mask`` must be at least ``radius`` wide and clear).

    >>> m = np.zeros((7, 7), bool); m[3, 3] = True
    >>> int(_dilate_disk(m, 2.5).sum()), int(_dilate_disk(m, 1.0).sum())
    (21, 5)
    """
    reach = int(np.floor(radius))
    runs: dict[int, np.ndarray] = {0: mask}
    for k in range(1, reach + 1):  # runs[k]: mask grown by k pixels left and right
        prev = runs[k - 1]
        grown = prev.copy()
        grown[:, 1:] |= prev[:, :-1]
        grown[:, :-1] |= prev[:, 1:]
        runs[k] = grown
    out = np.zeros_like(mask)
    for dy in range(-reach, reach + 1):
        run = runs[int(np.floor(np.sqrt(radius * radius - dy * dy)))]
        if dy >= 0:
            out[dy:] |= run[:len(run) - dy]
        else:
            out[:dy] |= run[-dy:]
    return out


#: Side (pixels) of the blocks by which :func:`dissolved_grid_buffer` finds the separate
#: parts of a layer's streets: far wider than any growth radius, so that parts in blocks
#: that do not touch cannot grow into each other.
_PART_BLOCK = 64


def _points_along(a: np.ndarray, b: np.ndarray, step: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` (at most) along each segment a-b, both ends included, in
    segment order (an (n, 2) array of the dtype of ``a``), and their number per segment.

    >>> p, n = _points_along(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), 0.4)
    >>> p[:, 0].tolist(), n.tolist()
    ([0.0, 0.3333333333333333, 0.6666666666666666, 1.0], [4])
    """
    n = 2 + np.floor(np.hypot(*(b - a).T) / step).astype(np.int64)
    seg = np.repeat(np.arange(len(a), dtype=np.int32), n)
    k = np.arange(n.sum(), dtype=a.dtype) - np.repeat((np.cumsum(n) - n).astype(a.dtype), n)
    d = (b - a) / (n - 1).astype(a.dtype)[:, None]
    return a[seg] + k[:, None] * d[seg], n


def _separate_parts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """The part (0..k-1) of each segment and k: segments through blocks of
    :data:`_PART_BLOCK` pixels that touch (sides or corners) are in one part.

    >>> a = np.array([[0.0, 0.0], [70.0, 0.0], [500.0, 500.0]])
    >>> part, k = _separate_parts(a, a + 10)  # the first two are in touching blocks
    >>> part.tolist(), k
    ([0, 0, 1], 2)
    """
    from scipy.ndimage import label

    samples, _ = _points_along(a, b, _PART_BLOCK / 4)  # consecutive ones in touching blocks
    block = np.floor(samples / _PART_BLOCK).astype(np.int64)
    lo = block.min(axis=0)
    block -= lo
    occupied = np.zeros(tuple(block.max(axis=0)[::-1] + 1), dtype=bool)  # rows, columns
    occupied[block[:, 1], block[:, 0]] = True
    parts, k = label(occupied, structure=np.ones((3, 3)))
    first = np.floor(a / _PART_BLOCK).astype(np.int64) - lo
    return parts[first[:, 1], first[:, 0]] - 1, int(k)


#: Largest part grid (pixels) outlined by marching squares: contourpy holds the grid and
#: its coordinates as float64 (24 bytes a pixel), so larger parts (one connected city
#: 100 km across at 10 m pixels: 10^8) are outlined by pixel edges instead.
CONTOUR_MAX_PIXELS = 40_000_000


def _pixel_outlines(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outlines of the set pixels of a uint8 grid by pixel edges (GDAL's polygonize, in
    pixel units from the top left corner): points, ring starts and polygon starts (ring
    indices), as contourpy's ``ChunkCombinedOffsetOffset`` gives them."""
    from rasterio.features import shapes

    rings: list = []
    polygon_start = [0]
    for g, _ in shapes(grid, mask=grid > 0, connectivity=4):
        rings += g["coordinates"]
        polygon_start.append(len(rings))
    size = np.fromiter(map(len, rings), dtype=np.int64, count=len(rings))
    xy = np.concatenate(rings) if rings else np.empty((0, 2))
    return np.asarray(xy, dtype=float), np.r_[0, np.cumsum(size)], np.asarray(polygon_start)


def _corners(xy: np.ndarray, ring_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed rings (points ``xy``, ring k from ``ring_start[k]`` to ``ring_start[k + 1]``)
    without the points inside straight runs, and the new ring starts. Outlines of pixels
    have a point at every pixel; their coordinates are halves, so the test is exact.

    >>> xy = np.array([[0, 0], [1, 0], [2, 0], [2, 1], [1, 1], [0, 1], [0, 0]], float)
    >>> p, r = _corners(xy, np.array([0, 7]))
    >>> p.tolist(), r.tolist()
    ([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0], [0.0, 0.0]], [0, 5])
    """
    d = np.diff(xy, axis=0)
    keep = np.ones(len(xy), dtype=bool)
    keep[1:-1] = d[:-1, 0] * d[1:, 1] != d[:-1, 1] * d[1:, 0]
    keep[ring_start[1:-1] - 1] = keep[ring_start[:-1]] = True  # each ring's first and last
    kept = np.cumsum(keep)
    return xy[keep], np.r_[0, kept[ring_start[1:] - 1]]


def dissolved_grid_buffer(segments: np.ndarray, width_m: float) -> shapely.Geometry:
    """The ground within ``width_m`` of straight line pieces (an (n, 2, 2) array of their
    ends, as :func:`reached_segments` gives), dissolved, on a grid of
    pixels a third of the width, without the per-label costs of :func:`grid_buffer`.

    The pieces are burnt into a boolean grid by points every half pixel along them
    (numpy: no geometry per piece goes through Python), grown by a disk of the width (a
    dilation by whole-array shifts, :func:`_dilate_disk`: exactly the pixels within the
    radius of a burnt pixel, as a distance transform gives) and outlined once by marching
    squares (contourpy, at the level halfway between a set and a clear pixel's centre),
    smoothed by one pixel. Separate parts of the streets (blocks of
    :data:`_PART_BLOCK` pixels that do not touch: the tiles of a tiled city, islands,
    outlying towns) get a grid each, so that the empty ground between them costs nothing;
    a part's grid is its bounds plus the growth radius.
    """
    import contourpy

    if not len(segments):
        return shapely.Polygon()
    flat = segments.reshape(-1, 2)
    px, x0, y1, _, radius = _pixel_grid(np.r_[flat.min(axis=0), flat.max(axis=0)], width_m)
    ends = (segments - [x0, y1]) * [1 / px, -1 / px]  # pixels (column, row) from top left
    a, b = ends[:, 0], ends[:, 1]
    part, k = _separate_parts(a, b)
    order = np.argsort(part, kind="stable")
    pts, n_pts = _points_along(a[order], b[order], 0.5)  # grouped by part
    stops = np.cumsum(np.bincount(part[order], weights=n_pts, minlength=k)).astype(np.int64)
    cells = np.floor(pts).astype(np.int64)  # (column, row) of each point's pixel
    del pts
    halo = int(np.ceil(radius)) + 1
    coords, ring_of, polygon_of = [], [], []
    n_rings = n_polygons = 0
    for start, stop in zip(np.r_[0, stops[:-1]], stops, strict=True):
        col, row = cells[start:stop].T
        c0, r0 = col.min() - halo, row.min() - halo
        burnt = np.zeros((row.max() + halo + 1 - r0, col.max() + halo + 1 - c0), dtype=bool)
        burnt[row - r0, col - c0] = True
        grown = _dilate_disk(burnt, radius).view(np.uint8)
        if grown.size <= CONTOUR_MAX_PIXELS:
            gen = contourpy.contour_generator(
                np.arange(grown.shape[1], dtype=float), np.arange(grown.shape[0], dtype=float),
                grown, fill_type=contourpy.FillType.ChunkCombinedOffsetOffset, name="serial")
            filled: Any = gen.filled(0.5, 2.0)  # one chunk: points, ring and polygon starts
            (xy,), (ring_start,), (polygon_start,) = filled
            xy += 0.5  # pixel centres
        else:  # pixel edges (GDAL), 1 byte a pixel where marching squares take 24
            xy, ring_start, polygon_start = _pixel_outlines(grown)
        xy, ring_start = _corners(xy, ring_start)
        coords.append(np.column_stack([x0 + (xy[:, 0] + c0) * px,
                                       y1 - (xy[:, 1] + r0) * px]))
        ring_of.append(n_rings + np.repeat(np.arange(len(ring_start) - 1),
                                           np.diff(ring_start)))
        polygon_of.append(n_polygons + np.repeat(np.arange(len(polygon_start) - 1),
                                                 np.diff(polygon_start)))
        n_rings += len(ring_start) - 1
        n_polygons += len(polygon_start) - 1
    rings = shapely.linearrings(np.concatenate(coords), indices=np.concatenate(ring_of))
    parts = shapely.polygons(rings, indices=np.concatenate(polygon_of))  # shell first
    return shapely.multipolygons(shapely.simplify(parts, px, preserve_topology=False))


def grid_buffer(lines: np.ndarray, labels: np.ndarray, n_labels: int, width_m: float
                ) -> tuple[np.ndarray, shapely.Geometry]:
    """The ground within ``width_m`` of the lines, per label and in all, on a grid.

    The lines are burnt into a grid of ``width_m / 3`` pixels, grown by ``width_m`` with a
    Euclidean distance transform (each pixel takes the label of its nearest line pixel),
    turned back into polygons and smoothed by one pixel. One grid over the lines' whole
    extent: per-facility areas are asked for (``--service-areas per-facility``), the
    dissolved ones (:func:`dissolved_grid_buffer`) are the default.
    """
    from rasterio.features import rasterize, shapes
    from rasterio.transform import from_origin
    from scipy.ndimage import distance_transform_edt

    out = np.array([shapely.Polygon()] * n_labels, dtype=object)
    if not len(lines):
        return out, shapely.Polygon()
    px, x0, y1, shape, radius = _pixel_grid(shapely.total_bounds(lines), width_m)
    transform = from_origin(x0, y1, px, px)
    burnt = rasterize(zip(lines, (np.asarray(labels) + 1).tolist(), strict=True), shape,
                      transform=transform, all_touched=True, dtype="int32")
    dist, (iy, ix) = distance_transform_edt(burnt == 0, return_indices=True)
    grown = np.where(dist <= radius, burnt[iy, ix], 0).astype("int32")
    del dist, iy, ix, burnt

    def polygons(raster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = [(shapely.geometry.shape(g), int(v)) for g, v in
                 shapes(raster, mask=raster > 0, transform=transform, connectivity=4)]
        geoms = shapely.simplify(np.array([g for g, _ in parts], dtype=object), px,
                                 preserve_topology=False)
        return geoms, np.array([v for _, v in parts], dtype=np.int64)

    geoms, values = polygons(grown)
    order = np.argsort(values, kind="stable")
    geoms, values = geoms[order], values[order]
    uniq, index = np.unique(values, return_inverse=True)
    out[uniq - 1] = shapely.multipolygons(geoms, indices=index)  # parts are disjoint
    whole, _ = polygons((grown > 0).astype("uint8"))
    return out, shapely.multipolygons(whole)


def straight_line_service_areas(x: np.ndarray, y: np.ndarray, owner: np.ndarray,
                                radius_m: float, n_facilities: int
                                ) -> tuple[np.ndarray, shapely.Geometry]:
    """One polygon per facility (circles of ``radius_m`` around its access points) and
    their union."""
    circles = shapely.buffer(shapely.points(x, y), radius_m, quad_segs=16)
    out = np.array([shapely.Polygon()] * n_facilities, dtype=object)
    _union_by_label(circles, np.asarray(owner, dtype=np.int64), out)
    return out, shapely.union_all(out)


def _union_by_label(geoms: np.ndarray, labels: np.ndarray, out: np.ndarray) -> None:
    """``out[label]`` = union of the geometries with that label."""
    if not len(geoms):
        return
    order = np.argsort(labels, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(labels[order])) + 1):
        out[labels[group[0]]] = shapely.union_all(geoms[group])
