"""Map overlays as data: geometries, what their tooltips show, and how they are painted.

A result's ``overlays()`` returns :class:`Overlay` items; :mod:`equiserve.outputs.maps`
draws them all with folium, whatever analysis made them. Paints name a small set of
schemes the map knows (its colours and legend rows live there, shared by every overlay of
a scheme): areas by region ``group``, ``gaps`` (unserved people, classes shared by all gap
overlays), ``access`` (ratio to the study mean), ``change`` (gain or loss),
``shortfall`` (places short or to spare, diverging), a facility ``layer``'s colour;
points as a layer's symbol, a star, a cross or circles.

Frames may be in any CRS (the map draws WGS84, shifted for GCJ-02 tiles). Their columns
other than geometry are the tooltip or popup values: already written for reading (see
:mod:`equiserve.results.formats`), never HTML (the map escapes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import geopandas as gpd
import numpy as np


class Depth(IntEnum):
    """Drawing order (and order in the layer control): lower first, underneath."""

    REGIONS = 0
    BLOCKS = 1
    AREAS = 2
    FACILITIES = 3
    PLAN = 4


@dataclass(frozen=True)
class Fill:
    """Paint of polygons.

    ``scheme``: ``group`` (``values`` = group of each feature: outline and fill),
    ``gaps`` (``values`` = unserved people), ``access`` (``values`` = ratio to the study
    mean, NaN where no place is in reach), ``change`` (``values`` = people gained, < 0
    lost; ``labels`` name both in the legend), ``shortfall`` (``values`` = places short
    per block: > 0 short of need, < 0 places to spare, 0 balanced; ``labels`` unused;
    classes shared by all shortfall overlays) or ``layer`` (one colour: the facility layer
    ``layer``'s).
    """

    scheme: Literal["group", "gaps", "access", "change", "shortfall", "layer"]
    values: np.ndarray | None = None
    layer: str | None = None
    labels: tuple[str, str] | None = None  # legend rows of a change: (gain, loss)


@dataclass(frozen=True)
class Symbol:
    """Paint of points: a facility ``layer``'s symbol (``ring`` marks a planned one), a
    ``star``, a ``cross`` or ``circle`` markers (sized by ``radius`` per feature)."""

    kind: Literal["layer", "star", "cross", "circle"]
    layer: str | None = None
    ring: bool = False
    radius: np.ndarray | None = None


@dataclass(frozen=True)
class LegendEntry:
    """Where the overlay appears in the legend: a section title, a row label next to the
    overlay's symbol (None: the scheme's own rows only) and a note under the title."""

    section: str
    label: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Overlay:
    """One toggleable layer of the map.

    ``fields`` are (column, label with its unit) pairs shown in a tooltip, or in a popup
    with ``popup``; ``show`` whether it is on at first; ``simplify`` a tolerance in degrees
    for long outlines; ``grid`` the block size (metres) when the features are squares of
    that size at multiples of it in the frame's CRS (blocks: the map draws them as one
    image and finds the block under the mouse itself).
    """

    name: str
    frame: gpd.GeoDataFrame
    paint: Fill | Symbol
    fields: tuple[tuple[str, str], ...]
    depth: Depth
    legend: LegendEntry | None = None
    show: bool = True
    popup: bool = False
    simplify: float | None = None
    grid: float | None = None
