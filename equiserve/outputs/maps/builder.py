"""The interactive map (folium): draws the overlays of any results.

Every overlay (:class:`equiserve.results.overlays.Overlay`) becomes one toggleable layer,
in drawing order; a legend explains each colour and symbol with its unit. Every text shown
in a tooltip, popup or layer name is HTML-escaped, since names come from OSM and user
files. When the base map draws in GCJ-02 (Amap), geometries are shifted for display only.

So that a city's map stays small and smooth (:mod:`.compact`, :mod:`.raster`): blocks
(overlays with a ``grid``) are one image each on a Web Mercator pixel grid, a dissolved
service area (one-feature ``layer`` fill) an image, points canvas symbols from arrays;
tooltips are built in the browser from the overlay's columns sent once. Other polygons
(regions) stay folium GeoJSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.plugins import Fullscreen

from equiserve.config import MapConfig
from equiserve.outputs.maps.basemap import BaseMap, resolve_basemap, to_display
from equiserve.outputs.maps.compact import (
    POINT_SCALE,
    CompactLayer,
    GridElement,
    Runtime,
    blocks_layer,
    delta,
    points_layer,
    table_spec,
)
from equiserve.outputs.maps.legend import LegendSection, add_legend
from equiserve.outputs.maps.raster import (
    BlockGrid,
    PixelGrid,
    area_mask,
    block_index,
    data_uri,
    inverse_mercator,
    palette_png,
    to_mercator,
)
from equiserve.outputs.style import (
    ACCESS_COLOURS,
    ACCESS_RATIO_EDGES,
    BALANCED_COLOUR,
    GAP_COLOURS,
    LAYER_COLOURS,
    SHAPES,
    SHORT_COLOURS,
    SPARE_COLOURS,
    group_colours,
    icon_svg,
    shape_outline,
    swatch_svg,
)
from equiserve.results.overlays import Fill, Overlay, Symbol
from equiserve.settings import MAX_ICON_MARKERS, MAX_OPEN_CONTROL

#: Colours of the ``change`` scheme: gains (e.g. gaps a plan closes) and losses.
CLOSED_COLOUR, OPENED_COLOUR = "#1a9850", "#d73027"
_DECIMALS = 5  # about 1 m in longitude/latitude
_ICON_PX = 16
#: Ground size (m) of a pixel of service-area images: about a screen pixel at zoom 12.
AREA_PIXEL_M = 25.0
#: Polygon overlays of one colour with this many features (a dissolved service area) are
#: drawn as an image: the browser finds the area under the mouse from its pixels, which
#: cannot tell two features of one colour apart.
MAX_AREA_FEATURES = 1
#: Style of polygons per paint scheme.
_AREA_STYLE: dict[str, dict[str, Any]] = {
    "group": {"weight": 2, "fillOpacity": 0.06},
    "gaps": {"weight": 0, "fillOpacity": 0.7},
    "access": {"weight": 0, "fillOpacity": 0.7},
    "change": {"weight": 0, "fillOpacity": 0.7},
    "shortfall": {"weight": 0, "fillOpacity": 0.7},
}
#: A block fewer places than this short or to spare is balanced (the ``shortfall`` scheme).
BALANCED_PLACES = 0.5


def basemap_from_config(cfg: MapConfig, tiles: str | None = None,
                        tiles_crs: str | None = None, require_key: bool = True
                        ) -> BaseMap | None:
    """The base map a study's ``[map]`` table asks for (``tiles``/``tiles_crs`` override)."""
    return resolve_basemap(tiles if tiles is not None else cfg.tiles,
                           tiles_crs if tiles_crs is not None else cfg.tiles_crs,
                           cfg.attribution, cfg.key, cfg.key_env, require_key=require_key)


def nice_number(x: float) -> float:
    """``x`` rounded down to 1, 2 or 5 times a power of ten (>= 1).

    >>> [nice_number(v) for v in (0.3, 7, 130, 2600)]
    [1.0, 5.0, 100.0, 2000.0]
    """
    if x <= 1:
        return 1.0
    p = 10.0 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def gap_edges(unserved: np.ndarray) -> np.ndarray:
    """Class edges of gap blocks, shared by every gap overlay so that colours compare.

    0, then the quartiles and the 90th percentile of all blocks rounded down to 1, 2 or 5
    times a power of ten; the top class is open.

    >>> gap_edges(np.arange(1.0, 1001.0)).tolist()
    [0.0, 200.0, 500.0, inf]
    """
    qs = np.quantile(unserved, [0.25, 0.5, 0.75, 0.9]) if len(unserved) else np.ones(4)
    return np.append(np.unique([0.0] + [nice_number(q) for q in qs]), np.inf)


def shortfall_edges(short: np.ndarray) -> np.ndarray:
    """Class edges of the places a block is short (or has to spare), shared by every
    shortfall overlay and by both sides, so that a red and a blue of one depth mean as
    many places.

    :data:`BALANCED_PLACES` (below it a block is balanced), then the quartiles and the
    90th percentile of the other blocks' places short or to spare (NaN: balanced) rounded
    down to 1, 2 or 5 times a power of ten, those above 1; the top class is open.

    >>> shortfall_edges(np.array([-30.0, -3, 0.2, 4, 12, 60, 250])).tolist()
    [0.5, 5.0, 20.0, 50.0, 100.0, inf]
    >>> shortfall_edges(np.array([0.0, -0.4])).tolist()
    [0.5, inf]
    """
    size = np.abs(short[np.abs(short) >= BALANCED_PLACES])  # NaN compares False
    nice = [nice_number(q) for q in np.quantile(size, [0.25, 0.5, 0.75, 0.9])] if len(
        size) else []
    return np.concatenate([[BALANCED_PLACES], np.unique([n for n in nice if n > 1]),
                           [np.inf]])


def shortfall_colours(short: np.ndarray, edges: np.ndarray) -> list[str]:
    """The colour of each block's places short (> 0, reds), to spare (< 0, blues) or
    balanced (grey: fewer than :data:`BALANCED_PLACES` either way, or NaN), by the class of
    its size between ``edges`` (:func:`shortfall_edges`)."""
    size = np.abs(short)
    balanced = ~(size >= BALANCED_PLACES)
    cls = np.clip(np.searchsorted(edges, np.nan_to_num(size), side="right") - 1, 0,
                  len(SHORT_COLOURS) - 1)
    return [BALANCED_COLOUR if b else (SHORT_COLOURS[k] if v > 0 else SPARE_COLOURS[k])
            for v, k, b in zip(short.tolist(), cls.tolist(), balanced.tolist(), strict=True)]


def _class_labels(edges: np.ndarray) -> list[str]:
    return [f"{lo:,.0f}+" if np.isinf(hi) else f"{lo:,.0f}–{hi:,.0f}"
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def _round_geoms(geoms: np.ndarray) -> np.ndarray:
    return shapely.set_precision(geoms, 10.0 ** -_DECIMALS)


def _symbol(shape: str, radius: float, colour: str) -> dict[str, Any]:
    """Options of a canvas symbol (equiserve-map.js): outline, radius, colours."""
    return {"shape": shape_outline(shape), "radius": radius, "color": "#222", "weight": 1.2,
            "fill": True, "fillColor": colour, "fillOpacity": 1.0}


def _eroded(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` whose four neighbours are all in it."""
    out = mask.copy()
    out[1:] &= mask[:-1]
    out[:-1] &= mask[1:]
    out[:, 1:] &= mask[:, :-1]
    out[:, :-1] &= mask[:, 1:]
    out[0] = out[-1] = False
    out[:, 0] = out[:, -1] = False
    return out


def _ring(svg: str, size: int = 26) -> str:
    """A symbol inside a bold ring: marks what a plan adds."""
    return (f'<div style="width:{size - 4}px;height:{size - 4}px;border:2px solid #000;'
            f'border-radius:50%;background:#fff;display:flex;align-items:center;'
            f'justify-content:center">{svg}</div>')


class MapBuilder:
    """Draws overlays on one folium map of a study's regions' extent."""

    def __init__(self, layers: Sequence[str], groups: Sequence[str],
                 extent: gpd.GeoDataFrame, base: BaseMap | None, overlays: list[Overlay]):
        self.layers = list(layers)
        self.group_colour = group_colours(list(groups))
        self.base = base
        self.overlays = sorted(overlays, key=lambda o: o.depth)  # stable: results' order
        names = [o.name for o in self.overlays]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # the layer control is keyed by name: a second one could not be toggled
            raise ValueError(f"two overlays are named {', '.join(map(repr, twice))}: a sites or "
                             "scenario result already draws the coverage it builds on, so "
                             "pass it without that coverage result")
        gaps, short = self._values_of("gaps"), self._values_of("shortfall")
        self.gap_edges = gap_edges(np.concatenate(gaps)) if gaps else None
        self.shortfall_edges = shortfall_edges(np.concatenate(short)) if short else None
        self._grids: dict[tuple[str, float], tuple[GridElement, BlockGrid]] = {}
        self._pixels: dict[tuple[str, float], np.ndarray] = {}
        self.legend: dict[str, LegendSection] = {}
        self._keyed: set[tuple[str, str]] = set()  # (legend section, scheme) with its rows
        minx, miny, maxx, maxy = self.display(extent).total_bounds
        self.fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
        if base is not None:
            folium.TileLayer(base.url, name=escape(base.name), attr=base.attribution,
                             max_zoom=base.max_zoom, subdomains=base.subdomains,
                             overlay=False, control=False).add_to(self.fmap)
        # leave room for the legend on the left
        self.fmap.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(300, 10))
        Fullscreen().add_to(self.fmap)
        Runtime().add_to(self.fmap)

    def _values_of(self, scheme: str) -> list[np.ndarray]:
        """The values of every overlay painted in ``scheme`` (its classes are shared)."""
        return [np.asarray(o.paint.values, dtype=float) for o in self.overlays
                if isinstance(o.paint, Fill) and o.paint.scheme == scheme
                and o.paint.values is not None]

    def display(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return to_display(gdf, self.base)

    def symbol_of(self, layer: str | None) -> tuple[str, str]:
        """Colour and shape of a facility layer (by its place in the study)."""
        if layer not in self.layers:
            raise KeyError(f"overlay paint names layer {layer!r}, which the study does not "
                           f"have; layers: {', '.join(self.layers)}")
        i = self.layers.index(layer)
        return LAYER_COLOURS[i % len(LAYER_COLOURS)], SHAPES[i % len(SHAPES)]

    # -- polygons

    def _fills(self, paint: Fill) -> tuple[list[str] | None, list[str] | None, dict]:
        """Per-feature fill and stroke colours and the base style of a polygon paint."""
        v = paint.values
        if paint.scheme == "layer":
            colour, _ = self.symbol_of(paint.layer)
            return None, None, {"color": colour, "weight": 1, "fillColor": colour,
                                "fillOpacity": 0.15}
        assert v is not None
        style = _AREA_STYLE[paint.scheme]
        if paint.scheme == "group":
            colours = [self.group_colour.get(str(g), "#222") for g in v]
            return colours, colours, style
        if paint.scheme == "gaps":
            assert self.gap_edges is not None
            cls = np.clip(np.searchsorted(self.gap_edges, v, side="right") - 1, 0,
                          len(GAP_COLOURS) - 1)
            return [GAP_COLOURS[k] for k in cls], None, style
        if paint.scheme == "access":
            edges = np.array(ACCESS_RATIO_EDGES + [np.inf])
            rel = np.nan_to_num(v, nan=0.0)
            cls = np.where(np.isnan(v), 0, 1 + np.clip(np.searchsorted(edges, rel, "right")
                                                       - 1, 0, len(ACCESS_COLOURS) - 2))
            return [ACCESS_COLOURS[k] for k in cls], None, style
        if paint.scheme == "shortfall":
            assert self.shortfall_edges is not None
            return shortfall_colours(np.asarray(v, dtype=float), self.shortfall_edges), None, \
                style
        return [CLOSED_COLOUR if g > 0 else OPENED_COLOUR for g in v], None, style

    def _scheme_rows(self, sec: LegendSection, scheme: str,
                     labels: tuple[str, str] | None = None) -> None:
        """The legend rows of a paint scheme (once per section)."""
        if scheme == "group":
            for g, c in self.group_colour.items():
                sec.add(swatch_svg(c, c, opacity=0.3), str(g))
        elif scheme == "gaps" and self.gap_edges is not None:
            for k, lab in enumerate(_class_labels(self.gap_edges)):
                sec.add(swatch_svg(GAP_COLOURS[k], "#7f2704", opacity=0.8), f"{lab} people")
        elif scheme == "access":
            edges = np.array(ACCESS_RATIO_EDGES + [np.inf])
            sec.add(swatch_svg(ACCESS_COLOURS[0], "#08306b", opacity=0.8), "no place in reach")
            for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
                lab = f"{lo:g}–{hi:g} ×" if np.isfinite(hi) else f"{lo:g} × or more"
                sec.add(swatch_svg(ACCESS_COLOURS[k + 1], "#08306b", opacity=0.8),
                        f"{lab} the study mean")
        elif scheme == "shortfall" and self.shortfall_edges is not None:
            # a diverging ramp: most places short on top, balanced, most places to spare
            labels_ = _class_labels(np.concatenate([[1.0], self.shortfall_edges[1:]]))
            for k in reversed(range(len(labels_))):
                sec.add(swatch_svg(SHORT_COLOURS[k], "#67000d", opacity=0.8),
                        f"short by {labels_[k]} places")
            sec.add(swatch_svg(BALANCED_COLOUR, "#888888", opacity=0.8),
                    "balanced (less than half a place short or to spare)")
            for k, lab in enumerate(labels_):
                sec.add(swatch_svg(SPARE_COLOURS[k], "#08306b", opacity=0.8),
                        f"{lab} places to spare")
        elif scheme == "change":
            gain, loss = labels or ("gain", "loss")
            sec.add(swatch_svg(CLOSED_COLOUR, CLOSED_COLOUR, opacity=0.8), gain)
            sec.add(swatch_svg(OPENED_COLOUR, OPENED_COLOUR, opacity=0.8), loss)

    # -- points

    def _point_style(self, paint: Symbol, n: int) -> tuple[dict[str, Any], str]:
        """The canvas symbol of a point paint (shape outline, radius in pixels, colours)
        and its legend symbol."""
        if paint.kind == "star":
            return _symbol("star", 12, "#ffd400"), icon_svg("star", "#ffd400", 16)
        if paint.kind == "cross":
            return _symbol("cross", 6.5, "#444444"), icon_svg("cross", "#444444", 12)
        if paint.kind == "circle":
            return {"shape": None, "radius": 4, "color": "#555", "weight": 0.5, "fill": True,
                    "fillColor": "#999", "fillOpacity": 0.5}, icon_svg("circle", "#999", 12)
        colour, shape = self.symbol_of(paint.layer)
        if paint.ring:
            return {**_symbol(shape, 7, colour), "ring": True}, \
                _ring(icon_svg(shape, colour, 12), 18)
        radius = 4 if n > MAX_ICON_MARKERS else _ICON_PX / 2 - 1
        return _symbol(shape, radius, colour), icon_svg(shape, colour, 14)

    # -- overlays

    def _grid(self, o: Overlay) -> tuple[GridElement, BlockGrid, np.ndarray]:
        """The block grid of a block overlay (shared by every overlay on the same grid)
        and the cell under each of its image's pixels; added to the map when first used."""
        assert o.grid is not None
        key = (str(o.frame.crs), o.grid)
        if key not in self._grids:
            frames = [b.frame for b in self.overlays if b.grid == o.grid and len(b.frame)
                      and str(b.frame.crs) == key[0]]
            grid = BlockGrid.build(frames, o.grid, self.base)
            element = GridElement(grid.js())
            element.add_to(self.fmap)
            self._grids[key] = (element, grid)
        element, grid = self._grids[key]
        if key not in self._pixels:  # kept while block overlays follow one another
            self._pixels[key] = grid.pixel_cells()
        return element, grid, self._pixels[key]

    def _add_blocks(self, o: Overlay, columns: dict[str, list], fill: list[str],
                    opacity: float) -> CompactLayer:
        element, grid, pixels = self._grid(o)
        ij = block_index(o.frame, o.grid or 0.0)
        cells = grid.cell_of(ij[:, 0], ij[:, 1])
        palette = sorted(set(fill))
        cls = np.array([palette.index(c) for c in fill], np.int64)
        lut = np.zeros(grid.nx * grid.ny + 1, np.uint8)  # the last entry: outside the grid
        lut[cells] = cls + 1
        png = palette_png(lut[pixels], palette)
        spec = {**table_spec(columns, list(o.fields), len(o.frame), o.popup),
                "cells": delta(cells), "cls": cls.tolist(), "palette": palette,
                "img": data_uri(png), "bounds": grid.image.bounds(), "opacity": opacity}
        return blocks_layer(escape(o.name), element, spec, o.show)

    def _add_areas(self, o: Overlay, columns: dict[str, list]) -> CompactLayer:
        """Areas of one colour as an image: feature k's pixels get palette entries 2k + 1
        (inside, faint) and 2k + 2 (its edge, opaque)."""
        colour, _ = self.symbol_of(o.paint.layer if isinstance(o.paint, Fill) else None)
        shifted = self.base is not None and self.base.shifts_data
        merc = (to_mercator(self.display(o.frame).geometry.values) if shifted
                else o.frame.geometry.to_crs(3857).values)  # one copy fewer of long outlines
        x0, y0, x1, y1 = shapely.total_bounds(merc)
        lat = float(np.mean(inverse_mercator(np.array([0.0]), np.array([(y0 + y1) / 2]))[1]))
        image = PixelGrid.over(x0, y0, x1, y1, AREA_PIXEL_M / math.cos(math.radians(lat)))
        index = np.zeros((image.height, image.width), np.uint8)
        for k, g in enumerate(merc):
            inside = area_mask(np.array([g]), image)
            edge = inside & ~_eroded(inside)
            index[inside] = 2 * k + 1
            index[edge] = 2 * k + 2
        n = len(o.frame)
        png = palette_png(index, [colour] * 2 * n, [38, 230] * n)
        spec = {**table_spec(columns, list(o.fields), n, o.popup), "img": data_uri(png),
                "bounds": image.bounds(), "grid": image.js()}
        return CompactLayer(escape(o.name), "area", spec, o.show)

    def add(self, o: Overlay) -> None:
        columns = {c: o.frame[c].tolist() for c in o.frame.columns
                   if c != o.frame.geometry.name}
        legend_symbol = None
        fill, stroke, style = self._fills(o.paint) if isinstance(o.paint, Fill) else (
            None, None, {})
        if isinstance(o.paint, Fill) and o.grid is not None and len(o.frame) and fill:
            self._add_blocks(o, columns, fill, style["fillOpacity"]).add_to(self.fmap)
            self._add_legend(o, None)
            return
        self._pixels.clear()  # 4 bytes a pixel: freed for the layers after the blocks
        if (isinstance(o.paint, Fill) and o.paint.scheme == "layer" and not o.popup
                and 0 < len(o.frame) <= MAX_AREA_FEATURES
                and not (o.frame.geometry.isna() | o.frame.geometry.is_empty).any()):
            self._add_areas(o, columns).add_to(self.fmap)
            self._add_legend(o, None)
            return
        gdf = self.display(o.frame)
        geoms = gdf.geometry.values
        if o.simplify:
            geoms = shapely.simplify(geoms, o.simplify)
        if isinstance(o.paint, Fill):
            self._add_geojson(o, gdf, geoms, fill, stroke, style)
        else:
            style, legend_symbol = self._point_style(o.paint, len(gdf))
            xy = shapely.get_coordinates(geoms)
            if len(xy) != len(gdf):
                raise ValueError(f"overlay {o.name!r}: every feature of a point paint must "
                                 "be one point")
            spec = {**table_spec(columns, list(o.fields), len(gdf), o.popup),
                    "lon": delta(np.round(xy[:, 0] * POINT_SCALE)),
                    "lat": delta(np.round(xy[:, 1] * POINT_SCALE)), "scale": POINT_SCALE,
                    "style": style}
            if o.paint.radius is not None:
                spec["radius"] = np.round(np.asarray(o.paint.radius, float), 1).tolist()
            points_layer(escape(o.name), spec, o.show).add_to(self.fmap)
        self._add_legend(o, legend_symbol)

    def _add_legend(self, o: Overlay, legend_symbol: str | None) -> None:
        if o.legend is not None:
            sec = self.legend.get(o.legend.section)
            if sec is None:
                sec = self.legend[o.legend.section] = LegendSection(o.legend.section,
                                                                    note=o.legend.note)
            if isinstance(o.paint, Fill) and (sec.title, o.paint.scheme) not in self._keyed:
                self._keyed.add((sec.title, o.paint.scheme))
                self._scheme_rows(sec, o.paint.scheme, o.paint.labels)
            if o.legend.label is not None and legend_symbol is not None:
                sec.add(legend_symbol, o.legend.label)

    def _add_geojson(self, o: Overlay, gdf: gpd.GeoDataFrame, geoms: np.ndarray,
                     fill: list[str] | None, stroke: list[str] | None, style: dict) -> None:
        """Polygons drawn by folium (region outlines: few, and hovered under the blocks)."""
        props = {c: [escape(v) if isinstance(v, str) else v for v in gdf[c]]
                 for c in gdf.columns if c != gdf.geometry.name}
        fields = [f for f, _ in o.fields]
        aliases = [escape(a) for _, a in o.fields]
        info = ({"popup": folium.GeoJsonPopup(fields, aliases=aliases)} if o.popup
                else {"tooltip": folium.GeoJsonTooltip(fields, aliases=aliases)})
        if fill is not None:
            props["fill"] = fill
        if stroke is not None:
            props["stroke"] = stroke
        frame = gpd.GeoDataFrame(props, geometry=_round_geoms(geoms), crs=4326)

        def style_function(f: dict, base: dict = style) -> dict:
            p = f["properties"]
            out = dict(base)
            if "fill" in p:
                out["fillColor"] = p["fill"]
            if "stroke" in p:
                out["color"] = p["stroke"]
            return out

        folium.GeoJson(frame, name=escape(o.name), show=o.show,
                       style_function=style_function, **info).add_to(self.fmap)

    def finish(self, title: str) -> folium.Map:
        n = sum(isinstance(c, folium.map.Layer) and c.control
                for c in self.fmap._children.values())
        folium.LayerControl(collapsed=n > MAX_OPEN_CONTROL).add_to(self.fmap)
        notes = ["No base map (offline)"] if self.base is None else [
            f"Base map: {self.base.name}"]
        if self.base is not None and self.base.shifts_data:
            notes.append("data shifted from WGS84 to GCJ-02 to line up with it")
        sections = [*self.legend.values(), LegendSection("Map", note="; ".join(notes))]
        add_legend(self.fmap, sections)
        root: Any = self.fmap.get_root()  # a branca Figure
        root.html.add_child(folium.Element(
            '<div id="eq-title" style="position:fixed;top:10px;left:60px;z-index:1000;'
            'background:white;padding:4px 8px;border:1px solid #999;font:14px sans-serif">'
            f"{escape(title)}</div>"))
        return self.fmap


def build_map(layers: Sequence[str], groups: Sequence[str], extent: gpd.GeoDataFrame,
              overlays: list[Overlay], title: str,
              basemap: BaseMap | None = None) -> folium.Map:
    """A folium map of ``overlays`` over the bounds of ``extent`` (the regions).

    ``layers`` (the study's facility layers, in order) give each layer its colour and
    symbol, ``groups`` (region groups in order) their colours; ``basemap`` None draws no
    tiles (works offline).
    """
    b = MapBuilder(layers, groups, extent, basemap, overlays)
    for o in b.overlays:
        b.add(o)
    return b.finish(title)

