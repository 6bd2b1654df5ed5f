"""Generator of the bundled synthetic demo study area.

:func:`write_demo_inputs` writes a complete, self-consistent set of study inputs into a folder:
regions, a population raster, six facility layers and a street network (OSM PBF), plus the
``study.toml`` that ties them together. Everything is invented. The layout only echoes the
*shape* of Zhuhai's problem, and it sits near Zhuhai's position so that real-world CRS handling
(UTM zone 49N, GCJ-02 offsets) is exercised. None of it is Zhuhai data.

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
  and port land left empty. Bus stops line the arterial streets.
* **west** (3 districts, about 40 x 25 km, across a 3 km estuary): suburban and rural. There
  are a few towns, villages scattered over farmland, and far fewer facilities per person.
* **island** (4 islands of 3-10 km² each, 2 km or more of water from the mainland and from
  each other): a few thousand people each, reached only by ferry, with 0-2 facilities per
  layer.

Streets (``streets.osm.pbf``, read with :meth:`equiserve.network.Network.from_osm`):

* **east**: a dense grid per district (150-200 m blocks), each rotated, warped and jittered in
  its own way and joined to its neighbours at the district seams. Every 8th/9th street is a
  ``secondary`` arterial (``maxspeed=50``), the streets through each district's middle are
  ``primary`` (``maxspeed=60``); the rest are ``residential``, about 12 % of their ways one-way
  (``oneway=yes`` or ``-1``). Some blocks have a ``footway`` through their middle.
* **west**: a grid of 250-300 m blocks in each of five towns, sparse ``unclassified`` rural
  roads about 1 km apart (a fifth of their links missing, so some farmland cells lie more
  than 500 m from any street), ``secondary`` roads between the towns, and a dual-carriageway
  ``motorway`` (walkers may not use it) with ``motorway_link`` ramps at three junctions.
  Three ``primary`` bridges (``bridge=yes``) cross the estuary to the east.
* **islands**: a small grid each. Ferries (``route=ferry``) run from mainland piers to the
  piers of Pine, Egret and Lantern Island: one has a ``duration`` tag, one an ``interval``
  tag, one neither. Coral Island has streets but no ferry, so its network is cut off.

Street nodes lie at least 30 m inside a region; only bridges and ferries cross water. Facility
sites are drawn to within 15-110 m of a street (bus stops onto the street itself).

All coastlines and district boundaries are smooth random curves, so no region is a plain
rectangle, and every polygon is valid. Given the same seed, the same files come out: identical
geometries, identical raster arrays, a byte-identical CSV and the same OSM nodes and ways. All
randomness comes from one ``numpy.random.default_rng(seed)``.

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
streets.osm.pbf        EPSG:4326   OSM nodes and ways: streets, bridges, ferry routes
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
from scipy.spatial import cKDTree
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

# Streets. Nodes lie at least _STREET_MARGIN inside their region.
_STREET_MARGIN = 30.0
_RURAL_SPACING = 1000.0  # metres between the west's rural roads
_RURAL_DROP = 0.2  # share of rural road links left out
# West towns with a street grid: centre (local km, as the town kernels in _population),
# radius (km), name.
_WEST_TOWNS = (
    (36.5, 18.0, 3.2, "River Town"),
    (29.0, 9.0, 2.5, "Sandbank"),
    (20.0, 22.0, 2.5, "Airport Town"),
    (8.0, 13.0, 2.4, "Millbrook"),
    (5.0, 25.0, 2.1, "North Hills"),
)
# Bridges across the estuary: latitude (local km, +-0.8 km) and name.
_BRIDGES = (
    (12.5, "South Estuary Bridge"),
    (18.5, "Estuary Bridge"),
    (25.0, "North Estuary Bridge"),
)
_MOTORWAY_KM = ((0.5, 19.5), (12.0, 17.0), (25.0, 15.5), (39.5, 13.5))
# Ferry routes by island and their extra tags ("auto": from the crossing's length).
_FERRIES = {
    "Pine Island": {"duration": "auto"},
    "Egret Island": {"interval": "00:40"},
    "Lantern Island": {},
}
_NO_FERRY_ISLAND = "Coral Island"


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
        The same seed always gives the same geometries, raster arrays, CSV bytes and OSM
        nodes and ways.

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
    streets = _build_streets(rng, regions)

    facilities = _Facilities(rng, x, y, region_id, pop, regions, streets)
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
    _write_osm(out / "streets.osm.pbf", streets)
    (out / "README.txt").write_text(_readme(seed), encoding="utf-8")
    _write_plan(out, regions)
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
# Streets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LatticeSpec:
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
    group: str
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
class _Chain:
    """A run of connected street nodes with one set of tags, later cut into OSM ways."""

    nodes: list[int]
    tags: dict[str, str]
    kind: str  # "local", "major", "footway", "bridge", "motorway", "link", "ferry"
    group: str
    lattice: int = -1
    sub: int = 1
    oneway: float = 0.0
    stitch_m: float = 0.0


@dataclass
class _Streets:
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

    xy: np.ndarray
    ways: list[tuple[np.ndarray, dict[str, str]]]
    node_tags: dict[int, dict[str, str]]
    corridors: dict[str, list[LineString]]

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

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nearest point on a (non-motorway, non-bridge) street to each point."""
        idx = self._tree.query_nearest(shapely.points(x, y), all_matches=False)
        seg = np.empty(len(x), dtype=np.int64)
        seg[idx[0]] = idx[1]
        p0, p1 = self.xy[self._a[seg]], self.xy[self._b[seg]]
        d = p1 - p0
        len2 = np.maximum((d**2).sum(axis=1), 1e-12)
        t = np.clip(((x - p0[:, 0]) * d[:, 0] + (y - p0[:, 1]) * d[:, 1]) / len2, 0.0, 1.0)
        return p0[:, 0] + t * d[:, 0], p0[:, 1] + t * d[:, 1]


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


class _StreetBuilder:
    """Builds the synthetic street network of the demo city.

    Street grids are added with :meth:`lattice`, joined with :meth:`stitch` and
    :meth:`bridges`, reduced to one connected network per land mass by :meth:`prune`, and
    completed with :meth:`motorway` and :meth:`ferries`. :meth:`result` cuts the chains
    into OSM ways.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator's single random source.
    regions : sequence of _Region
        The regions as a reader sees them.
    """

    def __init__(self, rng: np.random.Generator, regions: Sequence[_Region]) -> None:
        self.rng = rng
        self.regions = list(regions)
        self.land = shapely.union_all([r.geometry for r in regions])
        shapely.prepare(self.land)
        self._xy: list[np.ndarray] = []
        self._lattice_of: list[np.ndarray] = []
        self._landmass_of: list[np.ndarray] = []
        self.n = 0
        self.n_lattices = 0
        self.chains: list[_Chain] = []
        self.node_tags: dict[int, dict[str, str]] = {}

    # -- nodes -------------------------------------------------------------------------

    def _add_nodes(self, xy: np.ndarray, lattice: int, landmass: int) -> int:
        """Append nodes; return the index of the first."""
        first = self.n
        self._xy.append(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
        self._lattice_of.append(np.full(len(self._xy[-1]), lattice))
        self._landmass_of.append(np.full(len(self._xy[-1]), landmass))
        self.n += len(self._xy[-1])
        return first

    @property
    def xy(self) -> np.ndarray:
        return np.vstack(self._xy)

    def _used(self) -> np.ndarray:
        """Indices of the nodes on some chain."""
        return np.unique(np.concatenate([c.nodes for c in self.chains]))

    # -- grids -------------------------------------------------------------------------

    def lattice(self, spec: _LatticeSpec) -> None:
        """Add the streets of one grid (see :class:`_LatticeSpec`)."""
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
                tags = major.get(line)
                if tags is not None:
                    tags = {**tags, "name": f"{spec.name} {word} {line + 1}"}
                for start, stop in _runs(valid[line]):
                    self.chains.append(_Chain(
                        nodes=lines[line, start:stop + 1].tolist(),
                        tags=dict(spec.local) if tags is None else tags,
                        kind="local" if tags is None else "major",
                        group=spec.group, lattice=lat, sub=sub,
                        oneway=spec.oneway if tags is None else 0.0,
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
                    self.chains.append(_Chain([u, v], {"highway": "footway"}, "footway",
                                              spec.group, lat))

    def _edge_nodes(self, a: np.ndarray, b: np.ndarray, sub: int, wobble: float
                    ) -> np.ndarray:
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

    def _node_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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

    def _nodes_of(self, landmass: int) -> np.ndarray:
        _, _, landmass_of = self._node_arrays()
        used = self._used()
        return used[landmass_of[used] == landmass]

    def bridges(self) -> None:
        """Primary-road bridges across the estuary, from the west's easternmost streets."""
        xy = self.xy
        west, east = self._nodes_of(1), self._nodes_of(0)
        for y_km, name in _BRIDGES:
            yb = _ORIGIN_Y + (y_km + self.rng.uniform(-0.8, 0.8)) * 1000.0
            band = west[np.abs(xy[west, 1] - yb) < 300.0]
            w = band[np.argmax(xy[band, 0])]
            band = east[np.abs(xy[east, 1] - xy[w, 1]) < 300.0]
            e = band[np.argmin(xy[band, 0])]
            tags = {"highway": "primary", "bridge": "yes", "layer": "1", "maxspeed": "80",
                    "name": name}
            self.chains.append(_Chain([int(w), int(e)], tags, "bridge", "west"))

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
        self.chains.append(_Chain(eb.tolist(), dict(tags), "motorway", "west"))
        self.chains.append(_Chain(wb[::-1].tolist(), dict(tags), "motorway", "west"))

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
                self.chains.append(_Chain(nodes, dict(link), "link", "west"))

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
            self.chains.append(_Chain([pier, dock], tags, "ferry", "island"))
            self.node_tags[pier] = {"amenity": "ferry_terminal",
                                    "name": f"{region.name} Ferry Pier (mainland)"}
            self.node_tags[dock] = {"amenity": "ferry_terminal",
                                    "name": f"{region.name} Ferry Pier"}

    # -- output ------------------------------------------------------------------------

    def result(self) -> _Streets:
        """Cut the chains into OSM ways and number the nodes in use."""
        xy = self.xy
        ways: list[tuple[list[int], dict[str, str]]] = []
        corridors: dict[str, list[LineString]] = {g: [] for g in _GROUPS}
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
        return _Streets(
            xy=xy[used],
            ways=[(np.searchsorted(used, n), t) for n, t in ways],
            node_tags={int(np.searchsorted(used, k)): t for k, t in self.node_tags.items()},
            corridors=corridors,
        )


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
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
    pts = np.array(points_km) * 1000.0 + [_ORIGIN_X, _ORIGIN_Y]
    xy = shapely.get_coordinates(shapely.segmentize(LineString(pts), step))
    d = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    tangent = np.gradient(xy, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.hypot(normal[:, 0], normal[:, 1])[:, None]
    return LineString(xy + normal * _open_noise(rng, d, amplitude)[:, None])


def _build_streets(rng: np.random.Generator, regions: Sequence[_Region]) -> _Streets:
    """The street network of the demo city (see the module docstring)."""
    builder = _StreetBuilder(rng, regions)
    inner = [r.geometry.buffer(-_STREET_MARGIN) for r in regions]
    primary = {"highway": "primary", "maxspeed": "60"}
    secondary = {"highway": "secondary", "maxspeed": "50"}

    # East: a dense grid per district, each with its own spacing, angle and warp.
    for r, mask in zip(regions, inner, strict=True):
        if r.group != "east":
            continue
        centre = mask.point_on_surface()
        builder.lattice(_LatticeSpec(
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
    for x_km, y_km, radius_km, name in _WEST_TOWNS:
        cx, cy = _ORIGIN_X + x_km * 1000.0, _ORIGIN_Y + y_km * 1000.0
        disc = _island(rng, cx, cy, np.pi * (radius_km * 1000.0) ** 2, n=48)
        discs.append(disc)
        builder.lattice(_LatticeSpec(
            name=name, group="west", landmass=1, mask=disc.intersection(west),
            spacing=rng.uniform(250.0, 300.0), angle=rng.uniform(-0.35, 0.35), sub=2,
            wobble=10.0, local={"highway": "residential"}, through=((cx, cy, secondary),),
            drop=0.03, oneway=0.06,
        ))
    rural = west.difference(shapely.union_all(discs))
    through = tuple(
        (_ORIGIN_X + x * 1000.0, _ORIGIN_Y + y * 1000.0,
         {"highway": "secondary", "maxspeed": "60"}) for x, y, *_ in _WEST_TOWNS
    )
    builder.lattice(_LatticeSpec(
        name="West", group="west", landmass=1, mask=rural, spacing=_RURAL_SPACING,
        angle=rng.uniform(-0.1, 0.1), sub=6, wobble=60.0,
        local={"highway": "unclassified"}, through=through, drop=_RURAL_DROP, stitch_m=400.0,
    ))

    # Islands: a small grid each, with a tertiary spine.
    islands = [(r, m) for r, m in zip(regions, inner, strict=True) if r.group == "island"]
    for k, (r, mask) in enumerate(islands):
        centre = mask.point_on_surface()
        builder.lattice(_LatticeSpec(
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


def _write_osm(path: pathlib.Path, streets: _Streets) -> None:
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
    streets : _Streets
        The street network; sites are drawn towards it (bus stops onto it).
    """

    def __init__(
        self,
        rng: np.random.Generator,
        x: np.ndarray,
        y: np.ndarray,
        region_id: np.ndarray,
        pop: np.ndarray,
        regions: Sequence[_Region],
        streets: _Streets,
    ) -> None:
        self.rng = rng
        self.streets = streets
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

    def _pull(
        self, px: np.ndarray, py: np.ndarray, reach: tuple[float, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Move points to within a random distance in `reach` (metres) of the nearest street.

        Points already that close stay; ``reach = (0, 0)`` puts every point on a street.
        """
        qx, qy = self.streets.nearest(px, py)
        d = np.hypot(px - qx, py - qy)
        r = self.rng.uniform(reach[0], reach[1], size=px.size)
        f = np.where(d > r, r / np.maximum(d, 1e-9), 1.0)
        return qx + f * (px - qx), qy + f * (py - qy)

    def _sample(
        self,
        weight: np.ndarray,
        n: int,
        land: shapely.Geometry,
        jitter: float = 40.0,
        reach: tuple[float, float] = (15.0, 90.0),
    ) -> np.ndarray:
        """`n` sites in distinct cells, drawn with probability ~ `weight`, inside `land`.

        Each site is drawn towards the streets (see :meth:`_pull`). Returns an array of
        shape (n, 2).
        """
        if n == 0:
            return np.empty((0, 2))
        p = weight / weight.sum()
        kept: list[np.ndarray] = []
        used: set[int] = set()
        for _ in range(10):
            idx = self.rng.choice(p.size, size=4 * n + 10, p=p)
            dx, dy = self.rng.uniform(-jitter, jitter, size=(2, idx.size))
            px, py = self._pull(self.x[idx] + dx, self.y[idx] + dy, reach)
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

    def _points(
        self,
        counts: Sequence[int],
        power: float,
        margin: float,
        reach: tuple[float, float] = (15.0, 90.0),
    ) -> np.ndarray:
        """Population-weighted sites for counts per group (east, west, island)."""
        parts = [
            self._sample(self._weights(g, power), n, self._group_land(g, margin), reach=reach)
            for g, n in enumerate(counts)
        ]
        return np.vstack(parts)

    def _frame(self, data: dict, geometry: Sequence[shapely.Geometry]) -> gpd.GeoDataFrame:
        import geopandas as gpd

        return gpd.GeoDataFrame(data, geometry=list(geometry), crs=DEMO_CRS)

    # -- layers ------------------------------------------------------------------------

    def schools(self) -> gpd.GeoDataFrame:
        """Primary and middle schools; two of them with unknown (null) seats.

        Primary seats (500-1,500 per school) add up to about 1.1 seats per child aged
        6-11 in the whole city, unevenly spread, so that the scorecard has shortfalls.
        """
        import pandas as pd

        prim = self._points(_N_PRIMARY, 0.6, 60.0)
        mid = self._points(_N_MIDDLE, 0.6, 60.0)
        xy = np.vstack([prim, mid])
        level = ["primary"] * len(prim) + ["middle"] * len(mid)
        seats = np.concatenate(
            [
                self.rng.integers(10, 31, size=len(prim)) * 50,  # 500-1,500
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

    def bus_stops(self) -> gpd.GeoDataFrame:
        """Bus stops on the streets: along the arterials, plus population-weighted feeders."""
        east_land = self._group_land(0, 25.0)
        west_land = self._group_land(1, 25.0)
        on_street = (0.0, 0.0)
        corridors = self.streets.corridors
        parts = [
            self._corridor_stops(corridors["east"], 500.0, east_land),
            self._sample(self._weights(0, 0.8), _N_FEEDER_STOPS[0], east_land, reach=on_street),
            self._corridor_stops(corridors["west"], 1200.0, west_land),
            self._sample(self._weights(1, 1.0), _N_FEEDER_STOPS[1], west_land, reach=on_street),
        ]
        # Islands: a handful of stops by the most populous islands' villages.
        isl = np.flatnonzero(self.group_of == 2)
        people = np.array([self.pop[self.region_id == i].sum() for i in isl])
        for i, n in zip(isl[np.argsort(-people, kind="stable")], _ISLAND_STOPS, strict=True):
            w = np.where(self.region_id == i, self.pop, 0.0)
            parts.append(self._sample(w, n, self._land(np.array([i]), 25.0), reach=on_street))
        xy = np.vstack(parts)
        names = _numbered([f"{r} Stop" for r in self._region_names(xy)])
        return self._frame(
            {"stop_id": [f"B{i:04d}" for i in range(1, len(xy) + 1)], "name": names},
            shapely.points(xy),
        )

    def art_centres(self) -> gpd.GeoDataFrame:
        """Citizen art centres: rotated 40 x 60 m building footprints, none on the islands."""
        xy = self._points(_N_ART, 0.8, 80.0, reach=(30.0, 90.0))
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
        xy = self._points(_N_PARKS, 0.5, 350.0, reach=(40.0, 110.0))
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

    from equiserve.crs import gcj02_from_wgs84

    to_wgs84 = Transformer.from_crs(DEMO_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(stops.geometry.x.to_numpy(), stops.geometry.y.to_numpy())
    glon, glat = gcj02_from_wgs84(np.asarray(lon), np.asarray(lat))
    lines = ["stop_id,name,lon,lat"]
    lines += [
        f"{sid},{name},{x:.6f},{y:.6f}"
        for sid, name, x, y in zip(stops["stop_id"], stops["name"], glon, glat, strict=True)
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def _write_plan(out: pathlib.Path, regions: Sequence[_Region]) -> None:
    """A gazetteer of the demo's towns and islands (places.csv) and a plan using it."""
    import geopandas as gpd
    import pandas as pd

    from equiserve.crs import gcj02_from_wgs84

    rows = [(name, "town", _ORIGIN_X + x * 1000.0, _ORIGIN_Y + y * 1000.0,
             "town centre (synthetic), exact") for x, y, _r, name in _WEST_TOWNS]
    for r in regions:
        if r.group == "island":
            pt = r.geometry.representative_point()
            rows.append((r.name, "island", pt.x, pt.y, "a point on the island (synthetic)"))
    df = pd.DataFrame(rows, columns=["name", "kind", "x", "y", "precision"])
    ll = gpd.GeoSeries.from_xy(df["x"], df["y"], crs=DEMO_CRS).to_crs(4326)
    df.insert(2, "lon", ll.x.round(6))
    df.insert(3, "lat", ll.y.round(6))
    df.drop(columns=["x", "y"]).to_csv(out / "places.csv", index=False)
    egret = df.set_index("name").loc["Egret Island"]
    glon, glat = gcj02_from_wgs84(float(egret["lon"]), float(egret["lat"]))
    towns = "".join(f"""
[[add]]
layer = "primary_schools"
name = "{name} New Primary School"
place = "{name}"
capacity = 1080
""" for *_xyr, name in _WEST_TOWNS)
    (out / "plan.toml").write_text(f"""\
# A SYNTHETIC plan for the demo city (equiserve.datasets.demo): new primary schools for the west
# and an island, a clinic given in GCJ-02 coordinates, a closure, more seats, targets.
#   equiserve scenario study.toml --plan plan.toml --out plan_out/
[scenario]
name = "Demo plan: schools for the west and the islands"
description = "Synthetic plan on the synthetic demo city."

[gazetteer]
source = "places.csv"
x_field = "lon"
y_field = "lat"
crs = "EPSG:4326"
name_fields = ["name"]
precision_field = "precision"
kind_field = "kind"
{towns}
[[add]]
layer = "primary_schools"
name = "Coral Island School"
place = "Coral Island"
capacity = 120

[[add]]
layer = "primary_schools"
name = "Harbour Academy"
note = "site not chosen yet"

[[add]]
layer = "clinics"
name = "Egret Island Clinic"
lon = {glon:.6f}
lat = {glat:.6f}
crs = "GCJ-02"
capacity = 20

[[remove]]
layer = "clinics"
id = "C001"
note = "merged into a larger hospital"

[[capacity]]
layer = "primary_schools"
id = "S002"
change = 600

[[target]]
label = "new primary schools"
layer = "primary_schools"
count = 8

[[target]]
label = "new primary schools in the west"
layer = "primary_schools"
region = "west"
count = 5

[[target]]
label = "island clinics"
layer = "clinics"
region = "island"
count = 2

[[target]]
label = "community sports parks"
layer = "sports_parks"
count = 4
note = "no site named yet"

[[target]]
label = "new-energy buses"
count = 50
unit = "buses"
""", encoding="utf-8")


def _readme(seed: int) -> str:
    return f"""\
{DEMO_NAME} - demo inputs for equiserve
=========================================

THIS IS GENERATED SYNTHETIC DATA. IT IS NOT ZHUHAI.

Every region, person and facility in this folder was invented by
equiserve.datasets.demo.write_demo_inputs(seed={seed}). The layout only imitates the kind of
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
streets.osm.pbf       street network in OpenStreetMap PBF format (WGS 84): streets,
                      a motorway, estuary bridges and ferries to three of the islands
places.csv            a gazetteer of the west's towns and the islands, WGS 84
plan.toml             a plan: new schools for the west and an island (placed by name),
                      a clinic in GCJ-02 coordinates, a closure, more seats, targets;
                      equiserve scenario study.toml --plan plan.toml --out plan_out/
"""


def _study_toml(seed: int) -> str:
    return f"""\
# Demo study for equiserve: SYNTHETIC DATA, NOT ZHUHAI.
# Generated by equiserve.datasets.demo.write_demo_inputs(seed={seed}). The city, its people and its
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

[life_circle]
name = "15-minute life circle"
layers = ["primary_schools", "clinics", "bus_stops", "art_centres", "sports_parks"]

[network]
# street network for the walk standards (sports_parks keeps a straight-line standard)
source = "streets.osm.pbf"

[layers.primary_schools]
kind = "school"
source = "schools.gpkg"
filter = "level == 'primary'"
id_field = "id"
name_field = "name"
capacity_field = "seats"
serves = "children_6_11"
norm_per_1000 = 1000  # one seat per child aged 6-11
standard = {{ mode = "walk", distance_m = 500 }}

[layers.middle_schools]
kind = "school"
source = "schools.gpkg"
filter = "level == 'middle'"
id_field = "id"
name_field = "name"
capacity_field = "seats"
standard = {{ mode = "walk", distance_m = 1000 }}

[layers.clinics]
kind = "clinic"
source = "clinics.geojson"
id_field = "id"
name_field = "name"
capacity_field = "beds"
norm_per_1000 = 4  # beds per 1,000 residents
catchment = {{ method = "e2sfca" }}  # Gaussian distance decay
standard = {{ mode = "walk", minutes = 15 }}

[layers.bus_stops]
kind = "bus_stop"
source = "bus_stops.csv"
crs = "GCJ-02"
x_field = "lon"
y_field = "lat"
id_field = "stop_id"
name_field = "name"
standard = {{ mode = "walk", distance_m = 500 }}

[layers.art_centres]
kind = "art_centre"
source = "art_centres.shp"
id_field = "id"
name_field = "name"
standard = {{ mode = "walk", minutes = 15 }}

[layers.sports_parks]
kind = "sports_park"
source = "sports_parks.parquet"
id_field = "id"
name_field = "name"
standard = {{ distance_m = 1000 }}
"""
