"""Blocks as images: the blocks' square grid seen through a Web Mercator pixel grid.

Leaflet stretches an image overlay linearly in Web Mercator, while blocks are squares of
``block_m`` metres in the study's projected CRS (UTM: rotated by the grid convergence and
scaled with latitude in Mercator). So the image is built on a Web Mercator pixel grid: the
centre of every pixel is mapped to the study's CRS and takes the colour of the block it
falls in. That mapping, display Mercator -> study CRS (through WGS84 and, for GCJ-02 base
maps, the display shift), is a cubic polynomial fitted to exact transforms of a lattice
over the blocks (its largest error on a finer lattice is :attr:`BlockGrid.fit_error_m`,
a fraction of a metre over a city); the browser uses the same polynomial to find the block
under the mouse, so the tooltip always names the block drawn there. A block's edge is
drawn to within half a pixel (:attr:`BlockGrid.pixel_m` / 2 on the ground) plus the fit
error.

PNG files are written with zlib (4- or 8-bit palette, index 0 transparent).

>>> png = palette_png(np.array([[0, 1], [2, 1]], np.uint8), ["#ff0000", "#00ff00"])
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", read_png(png)[0].tolist()
(True, [[0, 1], [2, 1]])
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from equiserve.outputs.maps.basemap import BaseMap, to_display

#: Earth radius of Web Mercator (EPSG:3857), metres, as Leaflet's L.Projection.SphericalMercator.
MERCATOR_R = 6378137.0
#: Pixels per block side, aimed at (the image is coarser when it would exceed MAX_SIDE).
PIXELS_PER_BLOCK = 32
#: Largest image side, pixels.
MAX_SIDE = 4096
#: Degree of the polynomial from display Mercator to the study's CRS.
DEGREE = 3
_LATTICE = 24  # points per side of the fitting lattice
STEP = 8  # pixels between exact evaluations of the polynomial (linear in between)


def mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator metres of WGS84 (or GCJ-02 display) degrees, as Leaflet projects them.

    >>> [round(float(v), 3) for v in mercator(np.array([180.0]), np.array([0.0]))[0]]
    [20037508.343]
    """
    lat = np.clip(lat, -85.0511287798, 85.0511287798)
    return (MERCATOR_R * np.radians(lon),
            MERCATOR_R * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))


def inverse_mercator(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees) of Web Mercator metres."""
    return np.degrees(x / MERCATOR_R), np.degrees(2 * np.arctan(np.exp(y / MERCATOR_R))
                                                  - np.pi / 2)


def _terms(u: np.ndarray, v: np.ndarray, degree: int = DEGREE) -> list[np.ndarray]:
    """Monomials u^i v^(d-i), d = 0 .. degree, i = d .. 0: the order the browser
    evaluates them in."""
    pu, pv = [np.ones_like(u)], [np.ones_like(v)]
    for _ in range(degree):
        pu.append(pu[-1] * u)
        pv.append(pv[-1] * v)
    return [pu[i] * pv[d - i] for d in range(degree + 1) for i in range(d, -1, -1)]


@dataclass(frozen=True)
class Poly:
    """A 2-D polynomial mapping (x, y) -> (X, Y) on coordinates normalised as
    ((x - cx) / s, (y - cy) / s)."""

    cx: float
    cy: float
    s: float
    ax: tuple[float, ...]
    ay: tuple[float, ...]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, X: np.ndarray, Y: np.ndarray) -> Poly:
        cx, cy = float(x.mean()), float(y.mean())
        s = float(max(np.ptp(x), np.ptp(y), 1.0)) / 2
        a = np.column_stack(_terms((x - cx) / s, (y - cy) / s))
        ax = np.linalg.lstsq(a, X - X.mean(), rcond=None)[0]
        ay = np.linalg.lstsq(a, Y - Y.mean(), rcond=None)[0]
        ax[0] += X.mean()
        ay[0] += Y.mean()
        return cls(cx, cy, s, tuple(map(float, ax)), tuple(map(float, ay)))

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = _terms((np.asarray(x, float) - self.cx) / self.s,
                   (np.asarray(y, float) - self.cy) / self.s)
        X = sum(c * m for c, m in zip(self.ax, t, strict=True))
        Y = sum(c * m for c, m in zip(self.ay, t, strict=True))
        return np.asarray(X, float), np.asarray(Y, float)

    def js(self) -> list:
        return [self.cx, self.cy, self.s, list(self.ax), list(self.ay)]


@dataclass(frozen=True)
class PixelGrid:
    """An image on Web Mercator: ``width`` x ``height`` pixels of ``px`` Mercator metres,
    its top-left corner at (``left``, ``top``) on multiples of ``px``."""

    left: float
    top: float
    px: float
    width: int
    height: int

    @classmethod
    def over(cls, x0: float, y0: float, x1: float, y1: float, px: float) -> PixelGrid:
        """Pixels of ``px`` (larger when a side would exceed :data:`MAX_SIDE`) over the
        Mercator box."""
        px = max(float(px), max(x1 - x0, y1 - y0) / (MAX_SIDE - 2))
        left, top = np.floor(x0 / px) * px, np.ceil(y1 / px) * px
        return cls(float(left), float(top), px, max(int(np.ceil((x1 - left) / px)), 1),
                   max(int(np.ceil((top - y0) / px)), 1))

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Mercator x of the pixel columns' centres and y of the rows' (top first)."""
        return (self.left + (np.arange(self.width) + 0.5) * self.px,
                self.top - (np.arange(self.height) + 0.5) * self.px)

    def bounds(self) -> list[list[float]]:
        """South-west and north-east corners, [lat, lon]."""
        lon, lat = inverse_mercator(np.array([self.left, self.left + self.width * self.px]),
                                    np.array([self.top - self.height * self.px, self.top]))
        return [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]]

    def js(self) -> list[float]:
        return [self.left, self.top, self.px, self.width, self.height]


@dataclass(frozen=True)
class BlockGrid:
    """Squares of ``block_m`` at multiples of it in ``crs``, columns ``bx0`` ..
    ``bx0 + nx - 1`` and rows ``by0`` .. ``by0 + ny - 1``; cell ``(bx - bx0) * ny +
    (by - by0)``; and the Web Mercator ``image`` over them."""

    crs: object
    block_m: float
    bx0: int
    by0: int
    nx: int
    ny: int
    to_grid: Poly  # display Mercator -> study CRS
    to_merc: Poly  # study CRS -> display Mercator
    image: PixelGrid
    pixel_m: float  # ground size of a pixel at the centre, metres
    fit_error_m: float  # largest error of to_grid on a check lattice, metres

    @classmethod
    def build(cls, frames: list[gpd.GeoDataFrame], block_m: float,
              base: BaseMap | None) -> BlockGrid:
        """The grid over the blocks of ``frames`` (all in one CRS)."""
        crs = frames[0].crs
        ij = np.concatenate([block_index(f, block_m) for f in frames])
        bx0, by0 = ij.min(axis=0)
        bx1, by1 = ij.max(axis=0)
        nx, ny = int(bx1 - bx0 + 1), int(by1 - by0 + 1)

        def display_merc(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(X, Y), crs=crs)
            shown = to_display(pts, base).geometry
            return mercator(shown.x.to_numpy(), shown.y.to_numpy())

        def lattice(n: int, offset: float) -> tuple[np.ndarray, np.ndarray]:
            t = (np.arange(n) + offset) / (n - 1 + 2 * offset) if offset else \
                np.linspace(0.0, 1.0, n)
            gx, gy = np.meshgrid(bx0 * block_m + t * nx * block_m,
                                 by0 * block_m + t * ny * block_m)
            return gx.ravel(), gy.ravel()

        X, Y = lattice(_LATTICE, 0.0)
        mx, my = display_merc(X, Y)
        to_grid, to_merc = Poly.fit(mx, my, X, Y), Poly.fit(X, Y, mx, my)
        cX, cY = lattice(_LATTICE - 1, 0.5)
        cmx, cmy = display_merc(cX, cY)
        gx, gy = to_grid(cmx, cmy)
        fit_error = float(np.hypot(gx - cX, gy - cY).max())
        # Mercator metres per ground metre at the centre: 1 / cos(latitude)
        _, lat = inverse_mercator(np.array([mx.mean()]), np.array([my.mean()]))
        stretch = 1.0 / np.cos(np.radians(float(lat[0])))
        image = PixelGrid.over(mx.min(), my.min(), mx.max(), my.max(),
                               block_m / PIXELS_PER_BLOCK * stretch)
        return cls(crs, float(block_m), int(bx0), int(by0), nx, ny, to_grid, to_merc,
                   image, image.px / stretch, fit_error)

    def cell_of(self, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
        """Cell numbers of block columns and rows (-1 outside the grid)."""
        inside = (bx >= self.bx0) & (bx < self.bx0 + self.nx) & (by >= self.by0) & (
            by < self.by0 + self.ny)
        return np.where(inside, (bx - self.bx0) * self.ny + (by - self.by0), -1)

    def pixel_cells(self) -> np.ndarray:
        """Cell under the centre of every pixel of :attr:`image` (-1: none).

        The polynomial is evaluated every :data:`STEP` pixels and interpolated linearly
        in between (it bends by well under a millimetre over that span)."""
        im = self.image
        mx, my = im.centres()
        kx, ky = np.arange(0, im.width + STEP, STEP), np.arange(0, im.height + STEP, STEP)
        gx, gy = np.meshgrid(im.left + (kx + 0.5) * im.px, im.top - (ky + 0.5) * im.px)
        X, Y = self.to_grid(gx, gy)
        i = np.arange(im.width)
        cx, fx = i // STEP, (i % STEP) / STEP
        # along rows first (coarse rows x width), then down the columns
        Xr = X[:, cx] * (1 - fx) + X[:, cx + 1] * fx
        Yr = Y[:, cx] * (1 - fx) + Y[:, cx + 1] * fx
        j = np.arange(im.height)
        cy, fy = j // STEP, ((j % STEP) / STEP)[:, None]
        out = np.empty((im.height, im.width), np.int32)
        for r0 in range(0, im.height, 128):  # bounded memory
            r = slice(r0, r0 + 128)
            Xf = Xr[cy[r]] * (1 - fy[r]) + Xr[cy[r] + 1] * fy[r]
            Yf = Yr[cy[r]] * (1 - fy[r]) + Yr[cy[r] + 1] * fy[r]
            out[r] = self.cell_of(np.floor(Xf / self.block_m).astype(np.int64),
                                  np.floor(Yf / self.block_m).astype(np.int64))
        return out

    def js(self) -> dict:
        """What the browser needs to find the block under the mouse."""
        return {"m": self.block_m, "bx0": self.bx0, "by0": self.by0, "nx": self.nx,
                "ny": self.ny, "g": self.to_grid.js(), "w": self.to_merc.js()}


def block_index(frame: gpd.GeoDataFrame, block_m: float) -> np.ndarray:
    """Column and row (n x 2 integers) of each block square of ``frame``."""
    b = shapely.bounds(frame.geometry.values)
    return np.column_stack([np.round(b[:, 0] / block_m), np.round(b[:, 1] / block_m)]
                           ).astype(np.int64)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def palette_png(index: np.ndarray, colours: list[str], alpha: list[int] | None = None
                ) -> bytes:
    """A palette PNG of ``index`` (rows x columns): 0 transparent, k the colour
    ``colours[k - 1]`` (``#rrggbb``) with opacity ``alpha[k - 1]`` (0-255, default
    opaque). Four bits a pixel when there are fewer than 16 entries, else eight; every
    row filtered "Up" (the difference to the row above: zeros inside blocks), deflated
    with runs (:func:`_deflate`).
    """
    h, w = index.shape
    rgb = b"\0\0\0" + b"".join(bytes.fromhex(c.lstrip("#")) for c in colours)
    opacity = bytes([0, *(alpha if alpha is not None else [255] * len(colours))])
    index = index.astype(np.uint8)
    depth = 4 if len(colours) < 16 else 8
    if depth == 4:
        even = np.pad(index, ((0, 0), (0, w % 2)))
        index = (even[:, 0::2] << 4) | even[:, 1::2]
    raw = np.empty((h, index.shape[1] + 1), np.uint8)
    raw[:, 0] = 2  # filter Up
    raw[0, 1:] = index[0]
    raw[1:, 1:] = index[1:] - index[:-1]  # modulo 256, as PNG decoders add it back
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, 3, 0, 0, 0))
            + _chunk(b"PLTE", rgb) + _chunk(b"tRNS", opacity)
            + _chunk(b"IDAT", _deflate(raw.tobytes())) + _chunk(b"IEND", b""))


def _deflate(data: bytes) -> bytes:
    """zlib with run-length matches only (Z_RLE): on Up-filtered blocks both smaller and
    3-5 times faster than the default strategy (8x demo: 30 KB in 10 ms against 33 KB in
    32 ms at level 6)."""
    c = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return c.compress(data) + c.flush()


def read_png(data: bytes) -> tuple[np.ndarray, list[str]]:
    """Indices and palette colours of a PNG written by :func:`palette_png` (for tests and
    digests; only its filters and depths)."""
    pos, idat, plte, w, h, depth = 8, b"", b"", 0, 0, 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth = struct.unpack(">IIB", body[:9])
        elif kind == b"PLTE":
            plte = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    row = (w * depth + 7) // 8
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, row + 1)
    if not set(np.unique(raw[:, 0]).tolist()) <= {0, 2}:
        raise ValueError("read_png reads PNG filters None and Up only")
    rows = raw[:, 1:].copy()
    for r in range(h):
        if raw[r, 0] == 2 and r:
            rows[r:] = np.cumsum(rows[r - 1:], axis=0, dtype=np.uint8)[1:]
            break  # every later row is Up too (palette_png)
    if depth == 4:
        rows = np.column_stack([rows >> 4, rows & 15]).reshape(h, 2, row).transpose(
            0, 2, 1).reshape(h, 2 * row)[:, :w]
    colours = ["#" + plte[i:i + 3].hex() for i in range(3, len(plte), 3)]
    return rows, colours


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def to_mercator(geoms: np.ndarray) -> np.ndarray:
    """Geometries in longitude/latitude (display datum) as Web Mercator metres."""
    def fn(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(mercator(xy[:, 0], xy[:, 1]))
    return shapely.transform(geoms, fn)


def area_mask(merc: np.ndarray, grid: PixelGrid) -> np.ndarray:
    """Pixels of ``grid`` whose centre lies inside the Mercator (multi)polygons ``merc``.

    A scanline fill of all their rings at once by the even-odd rule (holes, and islands
    in holes, come right without sorting parts): every edge crossing a pixel row's centre
    line toggles the pixels from the crossing to the row's end; a pixel is inside when it
    is toggled an odd number of times. Edges go in chunks, so memory stays bounded.

    >>> g = PixelGrid(0.0, 4.0, 1.0, 4, 4)
    >>> ring = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    >>> area_mask(np.array([ring]), g).astype(int).tolist()
    [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]]
    """
    w1 = grid.width + 1
    toggles = np.zeros(grid.height * w1, np.uint8)  # counted modulo 256: parity kept
    geoms = shapely.get_parts(np.asarray([g for g in merc if g is not None], dtype=object))
    geoms = geoms[shapely.get_type_id(geoms) == 3] if len(geoms) else geoms  # polygons
    if len(geoms):
        # coordinates and ring offsets without a geometry object per ring
        _, xy, offsets = shapely.to_ragged_array(geoms)
        px = (xy[:, 0] - grid.left) / grid.px  # pixel units, y down
        py = (grid.top - xy[:, 1]) / grid.px
        last = np.zeros(len(xy), bool)
        last[offsets[0][1:] - 1] = True  # a ring's last point starts no edge
        starts = np.flatnonzero(~last[:-1])
        for k in range(0, len(starts), 250_000):
            i = starts[k:k + 250_000]
            x1, y1, x2, y2 = px[i], py[i], px[i + 1], py[i + 1]
            # rows whose centre line r + 0.5 lies in [min(y), max(y))
            r0 = np.clip(np.ceil(np.minimum(y1, y2) - 0.5), 0, grid.height).astype(np.int64)
            r1 = np.clip(np.ceil(np.maximum(y1, y2) - 0.5), 0, grid.height).astype(np.int64)
            n = r1 - r0
            e = np.repeat(np.arange(len(n)), n)
            row = r0[e] + (np.arange(len(e)) - np.repeat(np.cumsum(n) - n, n))
            x = x1[e] + (row + 0.5 - y1[e]) / (y2[e] - y1[e]) * (x2[e] - x1[e])
            col = np.clip(np.ceil(x - 0.5), 0, grid.width).astype(np.int64)
            np.add.at(toggles, row * w1 + col, 1)
    rows = toggles.reshape(grid.height, w1)
    inside = np.empty((grid.height, grid.width), bool)
    for r0 in range(0, grid.height, 256):  # bounded memory
        run = np.cumsum(rows[r0:r0 + 256], axis=1, dtype=np.uint8)
        inside[r0:r0 + 256] = (run[:, :-1] & 1).astype(bool)
    return inside
