"""The population of the demo city: the 100 m grid, people and children per cell, and
``population.tif``.

Band 1 holds people, band 2 children aged 6-11, both float32 with -9999 off land.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from equiserve.datasets.demo.layout import (
    CELL,
    DEMO_CRS,
    DEMO_NAME,
    GROUPS,
    ORIGIN_X,
    ORIGIN_Y,
    Group,
    Region,
)

__all__ = ["Grid", "assign_pixels", "grid_for", "population", "write_raster"]

NODATA: Final = -9999.0

# Population targets (people) and per-cell caps.
_EAST_TOTAL: Final = 1_650_000.0
_WEST_TOTAL: Final = 600_000.0
_EAST_CAP: Final = 600.0
_WEST_CAP: Final = 250.0
_ISLAND_CAP: Final = 120.0


@dataclass(frozen=True)
class Grid:
    """The 100 m population grid: north-west corner and shape."""

    x0: float
    y1: float
    ncols: int
    nrows: int

    def centres(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Return 2-D arrays (x, y) of pixel-centre coordinates in metres."""
        xs = self.x0 + (np.arange(self.ncols) + 0.5) * CELL
        ys = self.y1 - (np.arange(self.nrows) + 0.5) * CELL
        x, y = np.meshgrid(xs, ys)
        return x, y


def grid_for(regions: Sequence[Region]) -> Grid:
    """The 100 m grid covering all regions with a 1 km margin, aligned to multiples of 100 m."""
    b = shapely.total_bounds([r.geometry for r in regions])
    x0 = np.floor((b[0] - 1000.0) / CELL) * CELL
    y0 = np.floor((b[1] - 1000.0) / CELL) * CELL
    x1 = np.ceil((b[2] + 1000.0) / CELL) * CELL
    y1 = np.ceil((b[3] + 1000.0) / CELL) * CELL
    return Grid(float(x0), float(y1), int(round((x1 - x0) / CELL)), int(round((y1 - y0) / CELL)))


def assign_pixels(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], regions: Sequence[Region]
) -> npt.NDArray[np.int16]:
    """Index of the region containing each pixel centre, -1 if none (or, in theory, several)."""
    count = np.zeros(x.shape, dtype=np.int8)
    region_id = np.full(x.shape, -1, dtype=np.int16)
    xs, ys = x[0], y[:, 0]
    for i, r in enumerate(regions):
        minx, miny, maxx, maxy = r.geometry.bounds
        cols = np.flatnonzero((xs >= minx) & (xs <= maxx))
        rows = np.flatnonzero((ys >= miny) & (ys <= maxy))
        if cols.size == 0 or rows.size == 0:
            continue
        win = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        inside = shapely.contains_xy(r.geometry, x[win], y[win])
        count[win] += inside
        region_id[win][inside] = i
    region_id[count != 1] = -1
    return region_id


def _smooth_field(
    rng: np.random.Generator, shape: tuple[int, ...], sigma: float
) -> npt.NDArray[np.float64]:
    """Gaussian-smoothed white noise with zero mean and unit standard deviation."""
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal(shape), sigma=sigma, mode="reflect")
    return (f - f.mean()) / f.std()


def _kernels(
    rng: np.random.Generator,
    xk: npt.NDArray[np.float64],
    yk: npt.NDArray[np.float64],
    centres: Sequence[tuple[float, float, float, float]],
) -> npt.NDArray[np.float64]:
    """Sum of Gaussian bumps ``(x_km, y_km, sigma_km, height)``, centres jittered <= 0.8 km."""
    out = np.zeros(xk.shape)
    for cx, cy, sigma, height in centres:
        jx, jy = rng.uniform(-0.8, 0.8, size=2)
        out += height * np.exp(-((xk - cx - jx) ** 2 + (yk - cy - jy) ** 2) / (2.0 * sigma**2))
    return out


def _scale_to_total(
    raw: npt.NDArray[np.float64], total: float, cap: float
) -> npt.NDArray[np.float64]:
    """Scale non-negative `raw` to sum to `total`, no value above `cap` (mass moved elsewhere)."""
    v = raw * (total / raw.sum())
    for _ in range(30):
        over = v > cap
        if not over.any():
            break
        v[over] = cap
        free = (v > 0) & (v < cap)
        v[free] *= 1.0 + (total - v.sum()) / v[free].sum()
    return v


def population(
    rng: np.random.Generator,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    region_id: npt.NDArray[np.int16],
    regions: Sequence[Region],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """People and children aged 6-11 per 100 m cell (float32; -9999 off land)."""
    group_of = np.array([GROUPS.index(r.group) for r in regions])
    gid = np.where(region_id >= 0, group_of[np.maximum(region_id, 0)], -1)
    east, west = gid == 0, gid == 1
    xk, yk = (x - ORIGIN_X) / 1000.0, (y - ORIGIN_Y) / 1000.0

    texture = _smooth_field(rng, x.shape, 4.0)
    openland = _smooth_field(rng, x.shape, 6.0)
    rural = _smooth_field(rng, x.shape, 3.0)
    white = rng.standard_normal(x.shape)
    variation = np.exp(0.4 * texture + 0.2 * white)
    pop = np.zeros(x.shape)

    # East: a dense core around several centres; parks, hills and port land left empty.
    core = _kernels(
        rng,
        xk,
        yk,
        [
            (62.0, 25.0, 2.2, 1.0),  # Old Town
            (63.0, 14.0, 1.8, 0.85),  # East Harbour
            (56.5, 20.0, 2.0, 0.5),  # central boulevard
            (50.0, 14.0, 2.5, 0.55),  # Lotus Bay
            (49.0, 25.0, 3.5, 0.4),  # Tech Park
        ],
    )
    raw = np.where(east, (0.015 + core) ** 1.4 * variation, 0.0)
    raw[east & (openland < np.quantile(openland[east], 0.22))] = 0.0
    pop += _scale_to_total(raw, _EAST_TOTAL, _EAST_CAP)

    # West: a few towns, villages scattered over farmland.
    towns = _kernels(
        rng,
        xk,
        yk,
        [
            (36.5, 18.0, 1.8, 1.0),  # River Town
            (29.0, 9.0, 1.3, 0.7),
            (20.0, 22.0, 1.3, 0.6),  # Airport Plain
            (8.0, 13.0, 1.2, 0.55),  # West Farms
            (5.0, 25.0, 1.0, 0.35),
        ],
    )
    settled = (rural > np.quantile(rural[west], 0.55)) | (towns > 0.12)
    raw = np.where(west & settled, (0.025 + towns) * variation, 0.0)
    pop += _scale_to_total(raw, _WEST_TOTAL, _WEST_CAP)

    # Islands: a few thousand people each, in villages near part of the coast.
    for i in np.flatnonzero(group_of == 2):
        on = region_id == i
        raw = np.where(on & (rural > np.quantile(rural[on], 0.5)), variation, 0.0)
        pop += _scale_to_total(raw, rng.uniform(2500.0, 5000.0), _ISLAND_CAP)

    pop = np.round(pop, 1)

    # Children aged 6-11: 6-8 % of residents, by region, varying a little per cell.
    lo: dict[Group, float] = {"east": 0.060, "west": 0.068, "island": 0.064}
    hi: dict[Group, float] = {"east": 0.066, "west": 0.077, "island": 0.072}
    share = np.array([rng.uniform(lo[r.group], hi[r.group]) for r in regions])
    cell_share = share[np.maximum(region_id, 0)] * np.exp(0.08 * rng.standard_normal(x.shape))
    children = np.round(pop * np.clip(cell_share, 0.05, 0.09), 2)

    off = gid < 0
    pop[off] = NODATA
    children[off] = NODATA
    return pop.astype(np.float32), children.astype(np.float32)


def write_raster(
    path: pathlib.Path,
    grid: Grid,
    pop: npt.NDArray[np.float32],
    children: npt.NDArray[np.float32],
    seed: int,
) -> None:
    """Write the two-band population GeoTIFF (deflate, tiled, floating-point predictor)."""
    import rasterio

    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 2,
        "width": grid.ncols,
        "height": grid.nrows,
        "crs": DEMO_CRS,
        "transform": rasterio.Affine(CELL, 0.0, grid.x0, 0.0, -CELL, grid.y1),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pop, 1)
        dst.write(children, 2)
        dst.set_band_description(1, "people")
        dst.set_band_description(2, "children_6_11")
        dst.update_tags(
            synthetic="true",
            description=f"{DEMO_NAME}: generated synthetic population, seed {seed}; not Zhuhai",
        )
