"""Public testing helpers: a tiny study small enough to check by hand or brute force.

>>> import tempfile
>>> cfg = write_tiny_study(tempfile.mkdtemp())
>>> cfg.name
'study.toml'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Working CRS of the tiny study (UTM 49N, where Zhuhai lies).
TINY_CRS = "EPSG:32649"
#: Origin of the tiny study in TINY_CRS (metres).
TINY_ORIGIN = (720_000.0, 2_460_000.0)


def tiny_regions() -> gpd.GeoDataFrame:
    """Three regions in TINY_CRS: a 2 km square 'Core' (east), 'Farms' (west), 'Isle' (island)."""
    x0, y0 = TINY_ORIGIN
    geoms = [
        shapely.box(x0, y0, x0 + 2000, y0 + 2000),
        shapely.box(x0 - 3000, y0, x0 - 1000, y0 + 2000),
        shapely.box(x0 + 4000, y0, x0 + 4600, y0 + 600),
    ]
    return gpd.GeoDataFrame({"name": ["Core", "Farms", "Isle"],
                             "group": ["east", "west", "island"],
                             "code": ["C1", "F1", "I1"]}, geometry=geoms, crs=TINY_CRS)


def tiny_population(seed: int = 7, cell: float = 200.0) -> gpd.GeoDataFrame:
    """A vector grid of ``cell``-metre squares over the regions with integer counts."""
    rng = np.random.default_rng(seed)
    regions = tiny_regions()
    xmin, ymin, xmax, ymax = regions.total_bounds
    xs = np.arange(xmin, xmax, cell)
    ys = np.arange(ymin, ymax, cell)
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell, gy.ravel() + cell)
    inside = np.zeros(len(boxes), dtype=bool)
    for geom in regions.geometry.values:
        inside |= shapely.within(boxes, geom)
    boxes = boxes[inside]
    pop = rng.integers(0, 400, len(boxes))
    kids = rng.binomial(pop, 0.08)
    return gpd.GeoDataFrame({"pop": pop, "kids": kids}, geometry=boxes, crs=TINY_CRS)


def tiny_facilities() -> dict[str, gpd.GeoDataFrame]:
    """Schools (with seats, one missing) and clinics (points) of the tiny study in TINY_CRS."""
    x0, y0 = TINY_ORIGIN
    schools = gpd.GeoDataFrame({
        "id": ["S1", "S2", "S3", "S4"],
        "name": ["Core Primary", "Core East Primary", "Farms Primary", "Harbour School"],
        "seats": [900.0, 600.0, None, 300.0],
    }, geometry=shapely.points([(x0 + 500, y0 + 500), (x0 + 1700, y0 + 1500),
                                (x0 - 2000, y0 + 1000), (x0 + 2600, y0 + 300)]), crs=TINY_CRS)
    clinics = gpd.GeoDataFrame({
        "id": ["K1", "K2"], "name": ["Core Clinic", "Isle Clinic"], "beds": [40, 5],
    }, geometry=shapely.points([(x0 + 1000, y0 + 1000), (x0 + 4300, y0 + 300)]), crs=TINY_CRS)
    return {"schools": schools, "clinics": clinics}


def nearest_first_reference(od: Any, demand: np.ndarray, capacity: np.ndarray
                            ) -> list[tuple[int, int, float]]:
    """Nearest-first allocation as a plain loop: an independent reference for
    :func:`equiserve.analysis.allocate_nearest_first` (tests) and its slow peer (benchmark).

    All stored pairs in order of (cost, row, column); each takes what the row still needs
    and the column still has. Returns the (row, column, amount) assignments in order.
    """
    coo = od.tocoo()
    order = np.lexsort((coo.col, coo.row, coo.data))
    rem_d, rem_c = list(map(float, demand)), list(map(float, capacity))
    out = []
    for i, j in zip(coo.row[order].tolist(), coo.col[order].tolist(), strict=True):
        x = min(rem_d[i], rem_c[j])
        if x > 0:
            rem_d[i] -= x
            rem_c[j] -= x
            out.append((i, j, x))
    return out


TINY_TOML = """\
# A tiny hand-checkable study (synthetic), written by equiserve.testing
[study]
name = "Tiny test study (synthetic)"
synthetic = true

[regions]
source = "regions.geojson"
name_field = "name"
group_field = "group"

[population]
type = "vector"
source = "population.gpkg"
count_field = "pop"
subgroups = {{ children_6_11 = {{ field = "kids" }} }}

[layers.schools]
kind = "school"
source = "schools.csv"
x_field = "lon"
y_field = "lat"
id_field = "id"
name_field = "name"
capacity_field = "seats"
serves = "children_6_11"
standard = {school_std}

[layers.clinics]
kind = "clinic"
source = "clinics.gpkg"
capacity_field = "beds"
standard = {clinic_std}
{network}"""


def write_raster(path: str | os.PathLike[str], bands: list[np.ndarray], transform: Any,
                 crs: Any, nodata: float | None = -9999.0, dtype: str = "float32") -> Path:
    """Write ``bands`` (2-D arrays of one shape) as a GeoTIFF, e.g. a population raster."""
    import rasterio

    h, w = bands[0].shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=len(bands),
                       dtype=dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        for i, b in enumerate(bands, start=1):
            dst.write(np.asarray(b).astype(dtype), i)
    return Path(path)


def tiny_streets_osm(ferry: bool = True) -> str:
    """OSM XML of the tiny study's streets (WGS84): a 200 m grid on Core, one road along
    Farms joined to Core by a bridge, a small grid on Isle and, if ``ferry``, a ferry from
    Core's east edge to Isle (10 min crossing, 20 min interval, so a 10 min wait)."""
    import pyproj

    x0, y0 = TINY_ORIGIN
    to_ll = pyproj.Transformer.from_crs(TINY_CRS, 4326, always_xy=True)
    nodes: dict[tuple[float, float], int] = {}
    ways: list[tuple[list[int], dict[str, str]]] = []

    def node(x: float, y: float) -> int:
        return nodes.setdefault((x, y), len(nodes) + 1)

    def way(points: list[tuple[float, float]], **tags: str) -> None:
        ways.append(([node(x, y) for x, y in points], tags))

    for k in range(11):  # Core grid
        way([(x0 + 200 * i, y0 + 200 * k) for i in range(11)], highway="residential")
        way([(x0 + 200 * k, y0 + 200 * i) for i in range(11)], highway="residential")
    way([(x0 - 3000 + 200 * i, y0 + 1000) for i in range(16)], highway="tertiary",
        name="Farms Road")  # ends at (x0, y0 + 1000): the bridge joins Core's grid
    for k in range(4):  # Isle grid
        way([(x0 + 4000 + 200 * i, y0 + 200 * k) for i in range(4)], highway="residential")
        way([(x0 + 4000 + 200 * k, y0 + 200 * i) for i in range(4)], highway="residential")
    if ferry:
        way([(x0 + 2000, y0 + 200), (x0 + 3000, y0 + 250), (x0 + 4000, y0 + 200)],
            route="ferry", duration="00:10", interval="00:20", name="Isle ferry")
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="equiserve">']
    for (x, y), i in nodes.items():
        lon, lat = to_ll.transform(x, y)
        lines.append(f'  <node id="{i}" lat="{lat:.8f}" lon="{lon:.8f}" version="1"/>')
    for w, (refs, tags) in enumerate(ways, start=1):
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'  <way id="{w}" version="1">{body}</way>')
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def write_tiny_study(folder: str | os.PathLike[str], school_m: float = 500.0,
                     clinic_m: float = 1000.0, network: bool = False, ferry: bool = True,
                     school_std: str | None = None, clinic_std: str | None = None) -> Path:
    """Write the tiny study into ``folder`` and return the path of its study.toml.

    Regions are GeoJSON in WGS84, population a GeoPackage grid in UTM, schools a CSV of
    WGS84 lon/lat and clinics a GeoPackage in UTM, so every reader path is used. With
    ``network``, ``streets.osm`` (see :func:`tiny_streets_osm`) is written and a
    ``[network]`` table added; ``school_std``/``clinic_std`` override the standards (TOML
    inline tables such as ``'{ mode = "walk", minutes = 60 }'``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tiny_regions().to_crs(4326).to_file(folder / "regions.geojson", driver="GeoJSON")
    tiny_population().to_file(folder / "population.gpkg", layer="population", driver="GPKG")
    fac = tiny_facilities()
    s = fac["schools"].to_crs(4326)
    pd.DataFrame({"id": s["id"], "name": s["name"], "seats": s["seats"],
                  "lon": s.geometry.x.round(9), "lat": s.geometry.y.round(9)}).to_csv(
        folder / "schools.csv", index=False)
    fac["clinics"].to_file(folder / "clinics.gpkg", layer="clinics", driver="GPKG")
    net = ""
    if network:
        (folder / "streets.osm").write_text(tiny_streets_osm(ferry), encoding="utf-8")
        net = '\n[network]\nsource = "streets.osm"\n'
    path = folder / "study.toml"
    path.write_text(TINY_TOML.format(
        school_std=school_std or f"{{ distance_m = {school_m:g} }}",
        clinic_std=clinic_std or f"{{ distance_m = {clinic_m:g} }}", network=net),
        encoding="utf-8")
    return path


def write_osm_study(osm: str | os.PathLike[str], folder: str | os.PathLike[str],
                    cell_m: float = 10.0, schools_m: float = 500.0,
                    bus_stops_m: float = 300.0, extra_network: str = "") -> Path:
    """A study of a real OSM extract (XML or PBF): its convex hull as the one region,
    a grid of ``cell_m`` cells of one person each, schools and bus stops from the extract
    walked along its streets. Returns the study.toml (the extract is copied as XML).

    For checks on real street data: how people attach to the streets, who is reachable.
    """
    import osmium

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / "city.osm"
    xml.unlink(missing_ok=True)
    lon, lat = [], []
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(osm)):
            writer.add(obj)
            if isinstance(obj, osmium.osm.Node) and obj.location.valid():
                lon.append(obj.location.lon)
                lat.append(obj.location.lat)
    hull = shapely.MultiPoint(np.column_stack([lon, lat])).convex_hull
    region = gpd.GeoDataFrame({"name": ["centre"], "group": ["centre"]}, geometry=[hull],
                              crs=4326)
    region.to_file(folder / "regions.geojson", driver="GeoJSON")
    utm = region.estimate_utm_crs()
    area = region.to_crs(utm).geometry.iloc[0]
    x0, y0, x1, y1 = area.bounds
    xs, ys = (a.ravel() for a in np.meshgrid(np.arange(x0 + cell_m / 2, x1, cell_m),
                                             np.arange(y0 + cell_m / 2, y1, cell_m)))
    inside = shapely.contains_xy(area, xs, ys)
    gpd.GeoDataFrame({"pop": np.ones(int(inside.sum()))},
                     geometry=gpd.points_from_xy(xs[inside], ys[inside]), crs=utm).to_file(
        folder / "population.gpkg", layer="population", driver="GPKG")
    path = folder / "study.toml"
    path.write_text(f"""[study]
name = "{Path(osm).name}: {cell_m:g} m cells of one person each"
[regions]
source = "regions.geojson"
name_field = "name"
group_field = "group"
[population]
type = "vector"
source = "population.gpkg"
count_field = "pop"
[network]
source = "city.osm"
{extra_network}
[layers.schools]
kind = "school"
source = "city.osm"
osm_tags = {{ amenity = ["school"] }}
standard = {{ mode = "walk", distance_m = {schools_m:g} }}
[layers.bus_stops]
kind = "bus_stop"
source = "city.osm"
osm_tags = {{ highway = ["bus_stop"] }}
standard = {{ mode = "walk", distance_m = {bus_stops_m:g} }}
""", encoding="utf-8")
    return path
