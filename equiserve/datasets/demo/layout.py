"""The fixed layout of the synthetic demo city, shared by the modules that build it.

The study name and CRS, the local origin every "local km" position is measured from, the
100 m cell, the three region groups, the :class:`Region` record and the towns of the west
(which get street grids, see :mod:`.streets`, and gazetteer entries, see :mod:`.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from shapely.geometry import Polygon

__all__ = [
    "CELL",
    "DEMO_CRS",
    "DEMO_NAME",
    "GROUPS",
    "NEW_TOWN",
    "ORIGIN_X",
    "ORIGIN_Y",
    "WEST_TOWNS",
    "Group",
    "Region",
]

DEMO_NAME: Final = "Demo city (synthetic)"
"""Study name written into the demo ``study.toml``."""

DEMO_CRS: Final = "EPSG:32649"
"""Metric CRS in which the demo city is modelled (WGS 84 / UTM zone 49N)."""

ORIGIN_X: Final = 720_000.0
"""Easting (EPSG:32649 metres) of the local origin."""

ORIGIN_Y: Final = 2_440_000.0
"""Northing (EPSG:32649 metres) of the local origin."""

CELL: Final = 100.0
"""Side of a population cell, in metres."""

Group = Literal["east", "west", "island"]
"""The group of a region."""

GROUPS: Final[tuple[Group, Group, Group]] = ("east", "west", "island")
"""The region groups, in the order of their indices (0, 1, 2)."""

WEST_TOWNS: Final[tuple[tuple[float, float, float, str], ...]] = (
    (36.5, 18.0, 3.2, "River Town"),
    (29.0, 9.0, 2.5, "Sandbank"),
    (20.0, 22.0, 2.5, "Airport Town"),
    (8.0, 13.0, 2.4, "Millbrook"),
    (5.0, 25.0, 2.1, "North Hills"),
)
"""West towns with a street grid: centre (local km, as the town kernels of the population),
radius (km) and name."""


NEW_TOWN: Final[tuple[float, float, float, float, str]] = (
    24.0, 15.0, 1.2, 0.9, "West Eco New Town")
"""The west's new town (the forecast's development area): centre (local km), half its width
and half its height (km) and name; in Airport Plain, on farmland between the towns."""


@dataclass(frozen=True)
class Region:
    """One region of the demo city, in EPSG:32649 metres."""

    name: str
    group: Group
    code: str
    geometry: Polygon
