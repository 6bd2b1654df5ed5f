"""The 11 regions of the demo city: their shapes, their checks and ``regions.gpkg``.

Four eastern districts cut from one wobbly box by two wavy lines, three western strips cut
from another, and four islands (see the layout in :mod:`equiserve.datasets.demo`).
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely

from equiserve.datasets.demo.layout import DEMO_CRS, ORIGIN_X, ORIGIN_Y, Group, Region
from equiserve.datasets.demo.shapes import blob, half_plane, largest_polygon, wobbly_box

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["build_regions", "check_regions", "write_regions"]


def build_regions(rng: np.random.Generator) -> tuple[list[Region], gpd.GeoSeries]:
    """Build the 11 regions.

    Returns the regions in EPSG:32649, as a reader gets them back from the EPSG:4326 file, and
    the EPSG:4326 geometries to write.
    """
    import geopandas as gpd

    km = 1000.0
    west = wobbly_box(rng, 0.0, 4 * km, 40 * km, 29 * km, amplitude=1200.0)
    east = wobbly_box(rng, 43 * km, 10 * km, 68 * km, 30 * km, amplitude=800.0)

    # West: three strips split by two wavy north-south lines.
    cut1 = half_plane(rng, True, 13.5 * km, 4 * km, 29 * km, 900.0)
    cut2 = half_plane(rng, True, 27.0 * km, 4 * km, 29 * km, 900.0)
    w1 = west.intersection(cut1)
    w2 = west.difference(cut1).intersection(cut2)
    w3 = west.difference(cut1).difference(cut2)

    # East: quadrants split by one wavy north-south and one wavy east-west line.
    left = half_plane(rng, True, 55.5 * km, 10 * km, 30 * km, 700.0)
    south = half_plane(rng, False, 20.0 * km, 43 * km, 68 * km, 600.0)
    e_left, e_right = east.intersection(left), east.difference(left)
    e_sw, e_nw = e_left.intersection(south), e_left.difference(south)
    e_se, e_ne = e_right.intersection(south), e_right.difference(south)

    islands = []
    for cx, cy in ((48.0, 0.0), (58.5, 2.5), (66.0, -3.5), (75.0, 2.0)):
        jx, jy = rng.uniform(-700.0, 700.0, size=2)
        islands.append(blob(rng, cx * km + jx, cy * km + jy, rng.uniform(3e6, 10e6)))

    specs: list[tuple[str, Group, str, shapely.Geometry]] = [
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
    local = [largest_polygon(g) for *_, g in specs]
    utm = gpd.GeoSeries(local, crs=DEMO_CRS).translate(ORIGIN_X, ORIGIN_Y)
    wgs84 = utm.to_crs("EPSG:4326")
    as_read = wgs84.to_crs(DEMO_CRS)  # what a reader of regions.gpkg gets back
    regions = [
        Region(name, group, code, geom)
        for (name, group, code, _), geom in zip(specs, as_read, strict=True)
    ]
    check_regions(regions)
    return regions, wgs84


def check_regions(regions: Sequence[Region]) -> None:
    """Raise RuntimeError if a region is invalid or an island is closer than 2 km to land."""
    for r in regions:
        if not (r.geometry.is_valid and isinstance(r.geometry, shapely.Polygon)):
            raise RuntimeError(f"demo region {r.name!r} is not a valid polygon")
    islands = [r for r in regions if r.group == "island"]
    for i, isl in enumerate(islands):
        if not 2e6 <= isl.geometry.area <= 15e6:
            raise RuntimeError(f"demo island {isl.name!r} has area {isl.geometry.area:.0f} m²")
        others = [r for r in regions if r.group != "island"] + islands[i + 1 :]
        for other in others:
            if isl.geometry.distance(other.geometry) < 2000.0:
                raise RuntimeError(f"demo island {isl.name!r} is within 2 km of {other.name!r}")


def write_regions(path: pathlib.Path, regions: Sequence[Region], wgs84: gpd.GeoSeries) -> None:
    """Write layer "regions" (name, group, code; EPSG:4326) of the GeoPackage `path`."""
    import geopandas as gpd

    gpd.GeoDataFrame(
        {
            "name": [r.name for r in regions],
            "group": [r.group for r in regions],
            "code": [r.code for r in regions],
        },
        geometry=wgs84,
        crs="EPSG:4326",
    ).to_file(path, layer="regions", driver="GPKG")
