"""Generator of the bundled synthetic demo study area.

:func:`write_demo_inputs` writes a complete, self-consistent set of study inputs into a folder:
regions, a population raster and six facility layers, plus the ``study.toml`` that ties them
together. Everything is invented. The layout only echoes the *shape* of Zhuhai's problem, and
it sits near Zhuhai's position so that real-world CRS handling (UTM zone 49N, GCJ-02 offsets)
is exercised. None of it is Zhuhai data.

Layout of the synthetic city (local kilometres east / north of the origin,
x = 720 000 m, y = 2 440 000 m in EPSG:32649)::

    y=30 +------------------------+  +--------------+-------------+
         |        |        |      |r | Tech Park    | Old Town    |
         | West   |Airport | River|i |  (E4)        |  (E1, core) |
         | Farms  | Plain  | Town |v +--------------+-------------+
         |  (W1)  |  (W2)  | (W3) |e | Lotus Bay    | East Harbour|
         |        |        |      |r |  (E3)        |  (E2)       |
    y=4  +------------------------+  +--------------+-------------+  y=10
         x=0                  x=40   x=43                      x=68
                                          o Pine   o Egret        o Coral
                                                       o Lantern          (y = -4 .. 3)

* **east** (4 districts, about 25 x 20 km): the dense core. Population peaks of up to about
  600 people per 100 m cell around the Old Town and East Harbour centres, with parks, hills
  and port land left empty. Bus stops line a grid of synthetic corridors.
* **west** (3 districts, about 40 x 25 km, across a 3 km estuary): suburban and rural. There
  are a few towns, villages scattered over farmland, and far fewer facilities per person.
* **island** (4 islands of 3-10 km² each, 2 km or more of water from the mainland and from
  each other): a few thousand people each, reached only by ferry, with 0-2 facilities per
  layer.

All coastlines and district boundaries are smooth random curves, so no region is a plain
rectangle, and every polygon is valid. Given the same seed, the same files come out: identical
geometries, identical raster arrays and a byte-identical CSV. All randomness comes from one
``numpy.random.default_rng(seed)``.

Files written (paths in ``study.toml`` are relative):

=====================  ==========  =====================================================
file                   CRS         contents
=====================  ==========  =====================================================
regions.gpkg           EPSG:4326   layer "regions": name, group, code (polygons)
population.tif         EPSG:32649  100 m, band 1 people, band 2 children aged 6-11
schools.gpkg           EPSG:32649  layer "schools": id, name, level, seats (2 null)
clinics.geojson        EPSG:4326   id, name, beds
bus_stops.csv          GCJ-02      stop_id, name, lon, lat
art_centres.shp        EPSG:4326   id, name (building footprints)
sports_parks.parquet   EPSG:32649  id, name, area_ha (GeoParquet polygons)
study.toml, README.txt
=====================  ==========  =====================================================
"""

from __future__ import annotations

import os
import pathlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, Polygon, box

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["DEMO_CRS", "DEMO_NAME", "write_demo_inputs"]

DEMO_NAME = "Demo city (synthetic)"
"""Study name written into the demo ``study.toml``."""

DEMO_CRS = "EPSG:32649"
"""Metric CRS in which the demo city is modelled (WGS 84 / UTM zone 49N)."""

_ORIGIN_X = 720_000.0
_ORIGIN_Y = 2_440_000.0
_CELL = 100.0
_NODATA = -9999.0
_GROUPS = ("east", "west", "island")

# Population targets (people) and per-cell caps.
_EAST_TOTAL = 1_650_000.0
_WEST_TOTAL = 600_000.0
_EAST_CAP = 600.0
_WEST_CAP = 250.0
_ISLAND_CAP = 120.0

# Facility counts per group: (east, west, island). Islands and the west get far fewer
# facilities per person than the east; this is the gap the demo is meant to reveal.
_N_PRIMARY = (125, 42, 2)
_N_MIDDLE = (44, 14, 0)
_N_CLINICS = (56, 16, 2)
_N_ART = (10, 3, 0)
_N_PARKS = (26, 7, 0)
_N_FEEDER_STOPS = (650, 220)
_ISLAND_STOPS = (2, 1, 1, 0)  # by island, most populous first


@dataclass(frozen=True)
class _Region:
    """One region of the demo city, in EPSG:32649 metres."""

    name: str
    group: str
    code: str
    geometry: Polygon


@dataclass(frozen=True)
class _Grid:
    """The 100 m population grid: north-west corner and shape."""

    x0: float
    y1: float
    ncols: int
    nrows: int

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Return 2-D arrays (x, y) of pixel-centre coordinates in metres."""
        xs = self.x0 + (np.arange(self.ncols) + 0.5) * _CELL
        ys = self.y1 - (np.arange(self.nrows) + 0.5) * _CELL
        return np.meshgrid(xs, ys)


def write_demo_inputs(folder: str | os.PathLike[str], seed: int = 2017) -> pathlib.Path:
    """Write the demo inputs into `folder` (created if missing) and return its study.toml path.

    Parameters
    ----------
    folder : str or os.PathLike
        Destination folder. It is created if missing. Existing demo files in it are
        overwritten. A fresh, empty folder is expected.
    seed : int, default 2017
        Seed of the single ``numpy.random.default_rng`` that drives every random choice.
        The same seed always gives the same geometries, raster arrays and CSV bytes.

    Returns
    -------
    pathlib.Path
        Path of the ``study.toml`` written into `folder`.

    Notes
    -----
    The data are synthetic: see the module docstring for the layout of the invented city.
    The folder also gets a ``README.txt`` saying so.
    """
    import geopandas as gpd

    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    regions, regions_wgs84 = _build_regions(rng)
    grid = _grid_for(regions)
    x, y = grid.centres()
    region_id = _assign_pixels(x, y, regions)
    pop, children = _population(rng, x, y, region_id, regions)

    facilities = _Facilities(rng, x, y, region_id, pop, regions)
    schools = facilities.schools()
    clinics = facilities.clinics()
    stops = facilities.bus_stops()
    arts = facilities.art_centres()
    parks = facilities.sports_parks()

    gpd.GeoDataFrame(
        {
            "name": [r.name for r in regions],
            "group": [r.group for r in regions],
            "code": [r.code for r in regions],
        },
        geometry=regions_wgs84,
        crs="EPSG:4326",
    ).to_file(out / "regions.gpkg", layer="regions", driver="GPKG")
    _write_raster(out / "population.tif", grid, pop, children, seed)
    schools.to_file(out / "schools.gpkg", layer="schools", driver="GPKG")
    clinics.to_crs("EPSG:4326").to_file(out / "clinics.geojson", driver="GeoJSON")
    _write_bus_stops(out / "bus_stops.csv", stops)
    arts.to_crs("EPSG:4326").to_file(out / "art_centres.shp", driver="ESRI Shapefile")
    parks.to_parquet(out / "sports_parks.parquet")
    (out / "README.txt").write_text(_readme(seed), encoding="utf-8")
    study = out / "study.toml"
    study.write_text(_study_toml(seed), encoding="utf-8")
    return study


# --------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------


def _periodic_noise(rng: np.random.Generator, t: np.ndarray, amplitude: float) -> np.ndarray:
    """Smooth periodic noise on ``t`` in [0, 1), scaled so its largest magnitude is `amplitude`."""
    freqs = np.array([2.0, 3.0, 5.0, 7.0, 11.0, 17.0, 23.0, 31.0, 43.0])
    weights = rng.normal(size=freqs.size) / freqs**0.8
    phases = rng.uniform(0.0, 2.0 * np.pi, size=freqs.size)
    s = weights[:, None] * np.sin(2.0 * np.pi * freqs[:, None] * t[None, :] + phases[:, None])
    s = s.sum(axis=0)
    return s * (amplitude / np.abs(s).max())


def _open_noise(rng: np.random.Generator, u: np.ndarray, amplitude: float) -> np.ndarray:
    """Smooth noise along `u` (metres; wavelengths 3-16 km) with max |value| = `amplitude`."""
    wavelengths = np.array([16_000.0, 9_000.0, 5_500.0, 3_000.0])
    weights = rng.normal(size=wavelengths.size) * (wavelengths / wavelengths.max()) ** 0.7
    phases = rng.uniform(0.0, 2.0 * np.pi, size=wavelengths.size)
    s = np.sin(2.0 * np.pi * u[None, :] / wavelengths[:, None] + phases[:, None])
    s = (weights[:, None] * s).sum(axis=0)
    return s * (amplitude / np.abs(s).max())


def _largest_polygon(geom: shapely.Geometry) -> Polygon:
    """Return `geom` made valid, reduced to its largest polygon."""
    geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:  # pragma: no cover - cannot happen with the fixed layout
        raise RuntimeError("demo generator produced an empty polygon")
    return max(parts, key=lambda p: p.area)


def _wobbly_box(
    rng: np.random.Generator, xmin: float, ymin: float, xmax: float, ymax: float, amplitude: float
) -> Polygon:
    """A rectangle whose edges are displaced radially by smooth periodic noise."""
    ring = shapely.get_coordinates(shapely.segmentize(box(xmin, ymin, xmax, ymax).exterior, 250.0))
    ring = ring[:-1]
    seg = np.hypot(*np.diff(np.vstack([ring, ring[:1]]), axis=0).T)
    t = np.concatenate([[0.0], np.cumsum(seg)[:-1]]) / seg.sum()
    centre = np.array([(xmin + xmax) / 2.0, (ymin + ymax) / 2.0])
    radial = ring - centre
    r = np.hypot(radial[:, 0], radial[:, 1])
    shifted = centre + radial * ((r + _periodic_noise(rng, t, amplitude)) / r)[:, None]
    return _largest_polygon(Polygon(shifted))


def _half_plane(
    rng: np.random.Generator, vertical: bool, at: float, lo: float, hi: float, amplitude: float
) -> Polygon:
    """The side of a wavy cut line with smaller coordinates (west of / south of the line).

    The line runs near ``x = at`` (`vertical`) or ``y = at`` from `lo` to `hi` along the other
    axis, extended by 10 km at both ends.
    """
    u = np.linspace(lo - 10_000.0, hi + 10_000.0, 241)
    v = at + _open_noise(rng, u, amplitude)
    far = at - 200_000.0
    pts = [(far, u[0]), *zip(v, u, strict=True), (far, u[-1])]
    if not vertical:
        pts = [(b, a) for a, b in pts]
    return _largest_polygon(Polygon(pts))


def _island(rng: np.random.Generator, cx: float, cy: float, area: float, n: int = 120) -> Polygon:
    """A star-shaped, irregular island of exactly `area` square metres centred near (cx, cy)."""
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = 1.0 + _periodic_noise(rng, theta / (2.0 * np.pi), 0.2)
    aspect = rng.uniform(1.0, 1.8)
    rot = rng.uniform(0.0, np.pi)
    px = r * np.cos(theta) * np.sqrt(aspect)
    py = r * np.sin(theta) / np.sqrt(aspect)
    xr = px * np.cos(rot) - py * np.sin(rot)
    yr = px * np.sin(rot) + py * np.cos(rot)
    unit = Polygon(np.column_stack([xr, yr]))
    k = np.sqrt(area / unit.area)
    return Polygon(np.column_stack([cx + k * xr, cy + k * yr]))


def _build_regions(rng: np.random.Generator) -> tuple[list[_Region], gpd.GeoSeries]:
    """Build the 11 regions.

    Returns the regions in EPSG:32649, as a reader gets them back from the EPSG:4326 file, and
    the EPSG:4326 geometries to write.
    """
    import geopandas as gpd

    km = 1000.0
    west = _wobbly_box(rng, 0.0, 4 * km, 40 * km, 29 * km, amplitude=1200.0)
    east = _wobbly_box(rng, 43 * km, 10 * km, 68 * km, 30 * km, amplitude=800.0)

    # West: three strips split by two wavy north-south lines.
    cut1 = _half_plane(rng, True, 13.5 * km, 4 * km, 29 * km, 900.0)
    cut2 = _half_plane(rng, True, 27.0 * km, 4 * km, 29 * km, 900.0)
    w1 = west.intersection(cut1)
    w2 = west.difference(cut1).intersection(cut2)
    w3 = west.difference(cut1).difference(cut2)

    # East: quadrants split by one wavy north-south and one wavy east-west line.
    left = _half_plane(rng, True, 55.5 * km, 10 * km, 30 * km, 700.0)
    south = _half_plane(rng, False, 20.0 * km, 43 * km, 68 * km, 600.0)
    e_left, e_right = east.intersection(left), east.difference(left)
    e_sw, e_nw = e_left.intersection(south), e_left.difference(south)
    e_se, e_ne = e_right.intersection(south), e_right.difference(south)

    islands = []
    for cx, cy in ((48.0, 0.0), (58.5, 2.5), (66.0, -3.5), (75.0, 2.0)):
        jx, jy = rng.uniform(-700.0, 700.0, size=2)
        islands.append(_island(rng, cx * km + jx, cy * km + jy, rng.uniform(3e6, 10e6)))

    specs = [
        ("Old Town", "east", "E1", e_ne),
        ("East Harbour", "east", "E2", e_se),
        ("Lotus Bay", "east", "E3", e_sw),
        ("Tech Park", "east", "E4", e_nw),
        ("West Farms", "west", "W1", w1),
        ("Airport Plain", "west", "W2", w2),
        ("River Town", "west", "W3", w3),
        ("Pine Island", "island", "I1", islands[0]),
        ("Egret Island", "island", "I2", islands[1]),
        ("Lantern Island", "island", "I3", islands[2]),
        ("Coral Island", "island", "I4", islands[3]),
    ]
    local = [_largest_polygon(g) for *_, g in specs]
    utm = gpd.GeoSeries(local, crs=DEMO_CRS).translate(_ORIGIN_X, _ORIGIN_Y)
    wgs84 = utm.to_crs("EPSG:4326")
    as_read = wgs84.to_crs(DEMO_CRS)  # what a reader of regions.gpkg gets back
    regions = [
        _Region(name, group, code, geom)
        for (name, group, code, _), geom in zip(specs, as_read, strict=True)
    ]
    _check_regions(regions)
    return regions, wgs84


def _check_regions(regions: Sequence[_Region]) -> None:
    """Raise RuntimeError if a region is invalid or an island is closer than 2 km to land."""
    for r in regions:
        if not (r.geometry.is_valid and isinstance(r.geometry, Polygon)):
            raise RuntimeError(f"demo region {r.name!r} is not a valid polygon")
    islands = [r for r in regions if r.group == "island"]
    for i, isl in enumerate(islands):
        if not 2e6 <= isl.geometry.area <= 15e6:
            raise RuntimeError(f"demo island {isl.name!r} has area {isl.geometry.area:.0f} m²")
        others = [r for r in regions if r.group != "island"] + islands[i + 1 :]
        for other in others:
            if isl.geometry.distance(other.geometry) < 2000.0:
                raise RuntimeError(f"demo island {isl.name!r} is within 2 km of {other.name!r}")


# --------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------


def _grid_for(regions: Sequence[_Region]) -> _Grid:
    """The 100 m grid covering all regions with a 1 km margin, aligned to multiples of 100 m."""
    b = shapely.total_bounds([r.geometry for r in regions])
    x0 = np.floor((b[0] - 1000.0) / _CELL) * _CELL
    y0 = np.floor((b[1] - 1000.0) / _CELL) * _CELL
    x1 = np.ceil((b[2] + 1000.0) / _CELL) * _CELL
    y1 = np.ceil((b[3] + 1000.0) / _CELL) * _CELL
    return _Grid(float(x0), float(y1), int(round((x1 - x0) / _CELL)), int(round((y1 - y0) / _CELL)))


def _assign_pixels(x: np.ndarray, y: np.ndarray, regions: Sequence[_Region]) -> np.ndarray:
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


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-smoothed white noise with zero mean and unit standard deviation."""
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal(shape), sigma=sigma, mode="reflect")
    return (f - f.mean()) / f.std()


def _kernels(
    rng: np.random.Generator, xk: np.ndarray, yk: np.ndarray, centres: Sequence[tuple]
) -> np.ndarray:
    """Sum of Gaussian bumps ``(x_km, y_km, sigma_km, height)``, centres jittered <= 0.8 km."""
    out = np.zeros(xk.shape)
    for cx, cy, sigma, height in centres:
        jx, jy = rng.uniform(-0.8, 0.8, size=2)
        out += height * np.exp(-((xk - cx - jx) ** 2 + (yk - cy - jy) ** 2) / (2.0 * sigma**2))
    return out


def _scale_to_total(raw: np.ndarray, total: float, cap: float) -> np.ndarray:
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


def _population(
    rng: np.random.Generator,
    x: np.ndarray,
    y: np.ndarray,
    region_id: np.ndarray,
    regions: Sequence[_Region],
) -> tuple[np.ndarray, np.ndarray]:
    """People and children aged 6-11 per 100 m cell (float32; -9999 off land)."""
    group_of = np.array([_GROUPS.index(r.group) for r in regions])
    gid = np.where(region_id >= 0, group_of[np.maximum(region_id, 0)], -1)
    east, west = gid == 0, gid == 1
    xk, yk = (x - _ORIGIN_X) / 1000.0, (y - _ORIGIN_Y) / 1000.0

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
    lo = {"east": 0.060, "west": 0.068, "island": 0.064}
    hi = {"east": 0.066, "west": 0.077, "island": 0.072}
    share = np.array([rng.uniform(lo[r.group], hi[r.group]) for r in regions])
    cell_share = share[np.maximum(region_id, 0)] * np.exp(0.08 * rng.standard_normal(x.shape))
    children = np.round(pop * np.clip(cell_share, 0.05, 0.09), 2)

    off = gid < 0
    pop[off] = _NODATA
    children[off] = _NODATA
    return pop.astype(np.float32), children.astype(np.float32)


def _write_raster(
    path: pathlib.Path, grid: _Grid, pop: np.ndarray, children: np.ndarray, seed: int
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
        "transform": rasterio.Affine(_CELL, 0.0, grid.x0, 0.0, -_CELL, grid.y1),
        "nodata": _NODATA,
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


# --------------------------------------------------------------------------------------
# Facilities
# --------------------------------------------------------------------------------------


def _numbered(names: Sequence[str]) -> list[str]:
    """Append ``No. k`` to names, numbering repeats of each base name from 1."""
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        seen[n] += 1
        out.append(f"{n} No. {seen[n]}")
    return out


class _Facilities:
    """Places the facilities of the demo city on land, weighted by population.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator's single random source.
    x, y : numpy.ndarray
        Pixel-centre coordinates in metres (EPSG:32649).
    region_id : numpy.ndarray
        Index of the region containing each pixel centre, -1 off land.
    pop : numpy.ndarray
        People per cell (-9999 off land).
    regions : sequence of _Region
        The regions as a reader sees them.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        x: np.ndarray,
        y: np.ndarray,
        region_id: np.ndarray,
        pop: np.ndarray,
        regions: Sequence[_Region],
    ) -> None:
        self.rng = rng
        self.x = x.ravel()
        self.y = y.ravel()
        self.region_id = region_id.ravel()
        self.pop = np.maximum(pop.ravel().astype(np.float64), 0.0)
        self.regions = list(regions)
        self.group_of = np.array([_GROUPS.index(r.group) for r in regions])
        self.gid = np.where(self.region_id >= 0, self.group_of[np.maximum(self.region_id, 0)], -1)

    # -- helpers -----------------------------------------------------------------------

    def _land(self, members: np.ndarray, margin: float) -> shapely.Geometry:
        """Union of the regions `members`, shrunk by `margin` metres, prepared for queries."""
        geom = shapely.union_all([self.regions[i].geometry.buffer(-margin) for i in members])
        shapely.prepare(geom)
        return geom

    def _group_land(self, group: int, margin: float) -> shapely.Geometry:
        return self._land(np.flatnonzero(self.group_of == group), margin)

    def _sample(
        self, weight: np.ndarray, n: int, land: shapely.Geometry, jitter: float = 40.0
    ) -> np.ndarray:
        """`n` sites in distinct cells, drawn with probability ~ `weight`, inside `land`.

        Returns an array of shape (n, 2).
        """
        if n == 0:
            return np.empty((0, 2))
        p = weight / weight.sum()
        kept: list[np.ndarray] = []
        used: set[int] = set()
        for _ in range(10):
            idx = self.rng.choice(p.size, size=4 * n + 10, p=p)
            dx, dy = self.rng.uniform(-jitter, jitter, size=(2, idx.size))
            px, py = self.x[idx] + dx, self.y[idx] + dy
            ok = shapely.contains_xy(land, px, py)
            for k in np.flatnonzero(ok):
                if int(idx[k]) not in used:
                    used.add(int(idx[k]))
                    kept.append(np.array([px[k], py[k]]))
                    if len(kept) == n:
                        return np.vstack(kept)
        raise RuntimeError(f"demo generator could not place {n} sites")  # pragma: no cover

    def _weights(self, group: int, power: float) -> np.ndarray:
        return np.where(self.gid == group, self.pop, 0.0) ** power

    def _region_names(self, xy: np.ndarray) -> list[str]:
        """Name of the region containing each point (points are known to be on land)."""
        idx = np.full(len(xy), -1)
        for i, r in enumerate(self.regions):
            idx[shapely.contains_xy(r.geometry, xy[:, 0], xy[:, 1])] = i
        if (idx < 0).any():  # pragma: no cover - sites are sampled inside shrunk regions
            raise RuntimeError("demo facility placed off land")
        return [self.regions[i].name for i in idx]

    def _points(self, counts: Sequence[int], power: float, margin: float) -> np.ndarray:
        """Population-weighted sites for counts per group (east, west, island)."""
        parts = [
            self._sample(self._weights(g, power), n, self._group_land(g, margin))
            for g, n in enumerate(counts)
        ]
        return np.vstack(parts)

    def _frame(self, data: dict, geometry: Sequence[shapely.Geometry]) -> gpd.GeoDataFrame:
        import geopandas as gpd

        return gpd.GeoDataFrame(data, geometry=list(geometry), crs=DEMO_CRS)

    # -- layers ------------------------------------------------------------------------

    def schools(self) -> gpd.GeoDataFrame:
        """Primary and middle schools; two of them with unknown (null) seats."""
        import pandas as pd

        prim = self._points(_N_PRIMARY, 0.6, 60.0)
        mid = self._points(_N_MIDDLE, 0.6, 60.0)
        xy = np.vstack([prim, mid])
        level = ["primary"] * len(prim) + ["middle"] * len(mid)
        seats = np.concatenate(
            [
                self.rng.integers(20, 61, size=len(prim)) * 50,  # 1,000-3,000
                self.rng.integers(30, 71, size=len(mid)) * 50,  # 1,500-3,500
            ]
        )
        seats_col = pd.array(seats, dtype="Int64")
        seats_col[self.rng.integers(0, len(prim))] = pd.NA
        seats_col[len(prim) + self.rng.integers(0, len(mid))] = pd.NA
        names = _numbered(
            [
                f"{r} {lv.title()} School"
                for r, lv in zip(self._region_names(xy), level, strict=True)
            ]
        )
        return self._frame(
            {
                "id": [f"S{i:03d}" for i in range(1, len(xy) + 1)],
                "name": names,
                "level": level,
                "seats": seats_col,
            },
            shapely.points(xy),
        )

    def clinics(self) -> gpd.GeoDataFrame:
        """Hospitals and community health centres with their beds."""
        xy = self._points(_N_CLINICS, 0.7, 60.0)
        n_e, n_w, n_i = _N_CLINICS
        beds = np.concatenate(
            [
                self.rng.integers(20, 401, size=n_e),
                self.rng.integers(10, 151, size=n_w),
                self.rng.integers(5, 21, size=n_i),
            ]
        )
        kind = np.where(beds >= 250, "Hospital", "Health Centre")
        names = _numbered([f"{r} {k}" for r, k in zip(self._region_names(xy), kind, strict=True)])
        return self._frame(
            {
                "id": [f"C{i:03d}" for i in range(1, len(xy) + 1)],
                "name": names,
                "beds": beds.astype(np.int64),
            },
            shapely.points(xy),
        )

    def _corridor_stops(
        self, lines: Sequence[LineString], spacing: float, land: shapely.Geometry
    ) -> np.ndarray:
        """Stops every `spacing` metres (+-60 m) along `lines`, kept where on `land`."""
        parts = []
        for line in lines:
            d = np.arange(self.rng.uniform(0.0, spacing), line.length, spacing)
            d = np.clip(d + self.rng.uniform(-60.0, 60.0, size=d.size), 0.0, line.length)
            parts.append(shapely.get_coordinates(shapely.line_interpolate_point(line, d)))
        xy = np.vstack(parts)
        xy = xy[shapely.contains_xy(land, xy[:, 0], xy[:, 1])]
        # one stop per 100 m cell (corridor crossings would otherwise double up)
        cell = np.floor(xy / _CELL).astype(np.int64)
        _, first = np.unique(cell, axis=0, return_index=True)
        return xy[np.sort(first)]

    def _wavy_line(self, points_km: Sequence[tuple[float, float]], amplitude: float) -> LineString:
        """A polyline through `points_km` (local km), densified and wobbled sideways."""
        pts = np.array(points_km) * 1000.0 + [_ORIGIN_X, _ORIGIN_Y]
        line = shapely.segmentize(LineString(pts), 200.0)
        xy = shapely.get_coordinates(line)
        d = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        tangent = np.gradient(xy, axis=0)
        normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
        normal /= np.hypot(normal[:, 0], normal[:, 1])[:, None]
        return LineString(xy + normal * _open_noise(self.rng, d, amplitude)[:, None])

    def bus_stops(self) -> gpd.GeoDataFrame:
        """Bus stops along synthetic corridors plus population-weighted feeder stops."""
        east_land = self._group_land(0, 25.0)
        west_land = self._group_land(1, 25.0)
        east_lines = [
            self._wavy_line([(42.5, yk), (68.5, yk)], 250.0) for yk in np.arange(11.0, 30.0, 1.4)
        ]
        east_lines += [
            self._wavy_line([(xk, 9.5), (xk, 30.5)], 250.0) for xk in np.arange(44.0, 68.0, 1.8)
        ]
        west_lines = [
            self._wavy_line([(1, 15), (8, 13), (20, 21), (29, 9), (36.5, 18), (40.5, 18)], 300.0),
            self._wavy_line([(28, 3.5), (28, 29.5)], 400.0),
            self._wavy_line([(36.5, 3.5), (36.5, 29.5)], 300.0),
            self._wavy_line([(5, 25), (20, 22), (36.5, 25)], 300.0),
        ]
        parts = [
            self._corridor_stops(east_lines, 450.0, east_land),
            self._sample(self._weights(0, 0.8), _N_FEEDER_STOPS[0], east_land),
            self._corridor_stops(west_lines, 1000.0, west_land),
            self._sample(self._weights(1, 1.0), _N_FEEDER_STOPS[1], west_land),
        ]
        # Islands: a handful of stops by the most populous islands' villages.
        isl = np.flatnonzero(self.group_of == 2)
        people = np.array([self.pop[self.region_id == i].sum() for i in isl])
        for i, n in zip(isl[np.argsort(-people, kind="stable")], _ISLAND_STOPS, strict=True):
            w = np.where(self.region_id == i, self.pop, 0.0)
            parts.append(self._sample(w, n, self._land(np.array([i]), 25.0)))
        xy = np.vstack(parts)
        names = _numbered([f"{r} Stop" for r in self._region_names(xy)])
        return self._frame(
            {"stop_id": [f"B{i:04d}" for i in range(1, len(xy) + 1)], "name": names},
            shapely.points(xy),
        )

    def art_centres(self) -> gpd.GeoDataFrame:
        """Citizen art centres: rotated 40 x 60 m building footprints, none on the islands."""
        xy = self._points(_N_ART, 0.8, 80.0)
        angle = self.rng.uniform(0.0, 180.0, size=len(xy))
        polys = [
            affinity.rotate(box(cx - 20.0, cy - 30.0, cx + 20.0, cy + 30.0), a)
            for (cx, cy), a in zip(xy, angle, strict=True)
        ]
        names = _numbered([f"{r} Citizen Art Centre" for r in self._region_names(xy)])
        return self._frame(
            {"id": [f"A{i:02d}" for i in range(1, len(xy) + 1)], "name": names}, polys
        )

    def sports_parks(self) -> gpd.GeoDataFrame:
        """Community sports parks: irregular 1-10 ha polygons, none on the islands."""
        xy = self._points(_N_PARKS, 0.5, 350.0)
        polys = []
        for cx, cy in xy:
            area = self.rng.uniform(1e4, 1e5)
            shape = _island(self.rng, 0.0, 0.0, area, n=48)
            polys.append(affinity.translate(shape, cx, cy))
        names = _numbered([f"{r} Sports Park" for r in self._region_names(xy)])
        return self._frame(
            {
                "id": [f"P{i:02d}" for i in range(1, len(xy) + 1)],
                "name": names,
                "area_ha": np.round(shapely.area(polys) / 1e4, 2),
            },
            polys,
        )


# --------------------------------------------------------------------------------------
# Text files
# --------------------------------------------------------------------------------------


def _write_bus_stops(path: pathlib.Path, stops: gpd.GeoDataFrame) -> None:
    """Write bus stops as CSV with GCJ-02 lon/lat (6 decimals, '\\n' line ends)."""
    from pyproj import Transformer

    from equiserve.geo import gcj02_from_wgs84

    to_wgs84 = Transformer.from_crs(DEMO_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(stops.geometry.x.to_numpy(), stops.geometry.y.to_numpy())
    glon, glat = gcj02_from_wgs84(np.asarray(lon), np.asarray(lat))
    lines = ["stop_id,name,lon,lat"]
    lines += [
        f"{sid},{name},{x:.6f},{y:.6f}"
        for sid, name, x, y in zip(stops["stop_id"], stops["name"], glon, glat, strict=True)
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def _readme(seed: int) -> str:
    return f"""\
{DEMO_NAME} - demo inputs for equiserve
=========================================

THIS IS GENERATED SYNTHETIC DATA. IT IS NOT ZHUHAI.

Every region, person and facility in this folder was invented by
equiserve.demo.write_demo_inputs(seed={seed}). The layout only imitates the kind of
problem Zhuhai has (a dense eastern core, a suburban west across an estuary, and
small islands reached only by ferry), and it is placed near Zhuhai's position so
that UTM zone 49N and GCJ-02 handling are exercised. Do not use it for any real
planning decision.

Files
-----
study.toml            the study configuration (paths relative to this folder)
regions.gpkg          11 regions (groups east / west / island), EPSG:4326
population.tif        100 m grid, EPSG:32649; band 1 people, band 2 children aged 6-11;
                      -9999 = no land
schools.gpkg          primary and middle schools, EPSG:32649 (2 have unknown seats)
clinics.geojson       clinics with beds, EPSG:4326
bus_stops.csv         bus stops, lon/lat in GCJ-02 (as Chinese web maps publish them)
art_centres.shp       citizen art centre footprints, EPSG:4326
sports_parks.parquet  community sports parks (GeoParquet), EPSG:32649
"""


def _study_toml(seed: int) -> str:
    return f"""\
# Demo study for equiserve: SYNTHETIC DATA, NOT ZHUHAI.
# Generated by equiserve.demo.write_demo_inputs(seed={seed}). The city, its people and its
# facilities are invented; see README.txt.

[study]
name = "{DEMO_NAME}"
synthetic = true
# crs omitted: the UTM zone is chosen automatically

[regions]
source = "regions.gpkg"
name_field = "name"
group_field = "group"

[population]
type = "raster"
source = "population.tif"
band = 1
subgroups = {{ children_6_11 = {{ band = 2 }} }}

[layers.primary_schools]
kind = "school"
source = "schools.gpkg"
filter = "level == 'primary'"
id_field = "id"
name_field = "name"
capacity_field = "seats"
serves = "children_6_11"
standard = {{ distance_m = 500 }}

[layers.middle_schools]
kind = "school"
source = "schools.gpkg"
filter = "level == 'middle'"
id_field = "id"
name_field = "name"
capacity_field = "seats"
standard = {{ distance_m = 1000 }}

[layers.clinics]
kind = "clinic"
source = "clinics.geojson"
id_field = "id"
name_field = "name"
capacity_field = "beds"
standard = {{ distance_m = 1000 }}

[layers.bus_stops]
kind = "bus_stop"
source = "bus_stops.csv"
crs = "GCJ-02"
x_field = "lon"
y_field = "lat"
id_field = "stop_id"
name_field = "name"
standard = {{ distance_m = 500 }}

[layers.art_centres]
kind = "art_centre"
source = "art_centres.shp"
id_field = "id"
name_field = "name"
standard = {{ distance_m = 1000 }}

[layers.sports_parks]
kind = "sports_park"
source = "sports_parks.parquet"
id_field = "id"
name_field = "name"
standard = {{ distance_m = 1000 }}
"""
