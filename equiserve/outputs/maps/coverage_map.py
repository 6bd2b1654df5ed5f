"""The interactive coverage map (folium): regions, facilities, gaps, access and new sites.

Every overlay can be switched on and off in the layer control; a legend explains each
colour and symbol with its unit. Cells are aggregated to square blocks (default 1 km,
``[map] gap_block_m``) so that a city-wide map stays small. Every text shown in a
tooltip, popup or layer name is HTML-escaped, since names come from OSM and user files.
When the base map draws in GCJ-02 (Amap), geometries are shifted for display only.
"""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import Fullscreen

from equiserve.outputs.maps.basemap import BaseMap, resolve_basemap, to_display
from equiserve.outputs.maps.legend import LegendSection, add_legend
from equiserve.outputs.maps.style import (
    ACCESS_COLOURS,
    ACCESS_RATIO_EDGES,
    GAP_COLOURS,
    LAYER_COLOURS,
    SHAPES,
    group_colours,
    icon_svg,
    swatch_svg,
)

if TYPE_CHECKING:
    from equiserve.config import MapConfig
    from equiserve.scenario.run import ScenarioResult
    from equiserve.scorecard import EquityResult
    from equiserve.siting.plan import SitesPlan
    from equiserve.study import CoverageResult, Study

#: Blocks where a plan brings people within (or puts them beyond) a standard.
CLOSED_COLOUR, OPENED_COLOUR = "#1a9850", "#d73027"
#: Layers with more facilities than this are drawn as small canvas circles, not icons.
MAX_ICON_MARKERS = 1500
#: Layers with more facilities than this start hidden (toggle them in the layer control).
MAX_SHOWN_MARKERS = 1000
#: Plans with more candidates than this start with the candidates hidden.
MAX_SHOWN_CANDIDATES = 3000
#: With more overlays than this the layer control starts collapsed (hover to open it).
MAX_OPEN_CONTROL = 12
_DECIMALS = 5  # about 1 m in longitude/latitude
_ICON_PX = 16


def basemap_from_config(cfg: MapConfig, tiles: str | None = None,
                        tiles_crs: str | None = None, require_key: bool = True
                        ) -> BaseMap | None:
    """The base map a study's ``[map]`` table asks for (``tiles``/``tiles_crs`` override)."""
    return resolve_basemap(tiles if tiles is not None else cfg.tiles,
                           tiles_crs if tiles_crs is not None else cfg.tiles_crs,
                           cfg.attribution, cfg.key, cfg.key_env, require_key=require_key)


def _round_geoms(geoms: np.ndarray) -> np.ndarray:
    return shapely.set_precision(geoms, 10.0 ** -_DECIMALS)


def nice_number(x: float) -> float:
    """``x`` rounded to 1, 2 or 5 times a power of ten (>= 1).

    >>> [nice_number(v) for v in (0.3, 7, 130, 2600)]
    [1.0, 5.0, 100.0, 2000.0]
    """
    if x <= 1:
        return 1.0
    p = 10.0 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def gap_edges(unserved: np.ndarray) -> np.ndarray:
    """Class edges of gap blocks, shared by every layer so that colours compare.

    0, then the quartiles and the 90th percentile of all layers' blocks rounded down to
    1, 2 or 5 times a power of ten; the top class is open.

    >>> gap_edges(np.arange(1.0, 1001.0)).tolist()
    [0.0, 200.0, 500.0, inf]
    """
    qs = np.quantile(unserved, [0.25, 0.5, 0.75, 0.9]) if len(unserved) else np.ones(4)
    return np.append(np.unique([0.0] + [nice_number(q) for q in qs]), np.inf)


def _block_keys(study: Study, mask: np.ndarray, block_m: float) -> tuple[np.ndarray, ...]:
    pop = study.population
    return (np.floor(pop.x[mask] / block_m).astype(np.int64),
            np.floor(pop.y[mask] / block_m).astype(np.int64))


def _blocks_frame(study: Study, df: pd.DataFrame, block_m: float) -> gpd.GeoDataFrame:
    agg = df.groupby(["bx", "by"], sort=True).sum().reset_index()
    x0, y0 = agg["bx"].to_numpy() * block_m, agg["by"].to_numpy() * block_m
    return gpd.GeoDataFrame(agg.drop(columns=["bx", "by"]),
                            geometry=shapely.box(x0, y0, x0 + block_m, y0 + block_m),
                            crs=study.crs)


def gap_blocks(study: Study, result: CoverageResult, layer: str,
               block_m: float = 1000.0) -> gpd.GeoDataFrame:
    """Unserved people of one layer summed over square blocks of ``block_m`` metres.

    Columns: ``unserved`` (people), ``unreachable`` (people who cannot reach any facility
    of the layer) and ``mean_to_nearest`` (mean distance or time of the others, in the
    layer's unit).
    """
    cov = result.layers[layer]
    gap = ~cov.covered & (cov.weights > 0)
    w, d = cov.weights[gap], cov.distance[gap]
    finite = np.isfinite(d)
    bx, by = _block_keys(study, gap, block_m)
    b = _blocks_frame(study, pd.DataFrame({
        "bx": bx, "by": by, "unserved": w, "unreachable": np.where(finite, 0.0, w),
        "reach": np.where(finite, w, 0.0), "dist": np.where(finite, d * w, 0.0)}), block_m)
    mean = np.divide(b["dist"], b["reach"], out=np.full(len(b), np.nan),
                     where=b["reach"] > 0)
    return gpd.GeoDataFrame({"unserved": b["unserved"].round(0),
                             "unreachable": b["unreachable"].round(0),
                             "mean_to_nearest": np.round(mean, 1)},
                            geometry=b.geometry.values, crs=study.crs)


def access_blocks(study: Study, result: CoverageResult, equity: EquityResult, layer: str,
                  block_m: float = 1000.0) -> gpd.GeoDataFrame:
    """Population-weighted mean catchment access (places per 1,000 people) per block.

    Columns: ``population`` (people counted for the layer), ``access_per_1000`` and
    ``relative`` (block access divided by the study's population-weighted mean).
    """
    w = result.layers[layer].weights
    score = equity.access[layer].score
    keep = w > 0
    bx, by = _block_keys(study, keep, block_m)
    b = _blocks_frame(study, pd.DataFrame({"bx": bx, "by": by, "population": w[keep],
                                           "acc": score[keep] * w[keep]}), block_m)
    mean = float((score * w).sum() / w.sum()) if w.sum() > 0 else 0.0
    per_person = b["acc"] / b["population"]
    return gpd.GeoDataFrame({
        "population": b["population"].round(0), "access_per_1000": 1000 * per_person,
        "relative": per_person / mean if mean > 0 else np.nan,
    }, geometry=b.geometry.values, crs=study.crs)


def _class_labels(edges: np.ndarray) -> list[str]:
    return [f"{lo:,.0f}+" if np.isinf(hi) else f"{lo:,.0f}–{hi:,.0f}"
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def _add_geojson(fmap: folium.Map, gdf: gpd.GeoDataFrame, name: str, show: bool,
                 style: dict, fields: list[str], aliases: list[str], **kw) -> folium.GeoJson:
    """One overlay; ``fill``/``stroke`` columns (if any) give per-feature colours."""
    def style_function(f, base=style):
        props = f["properties"]
        out = dict(base)
        if "fill" in props:
            out["fillColor"] = props["fill"]
        if "stroke" in props:
            out["color"] = props["stroke"]
        return out

    return folium.GeoJson(
        gdf, name=escape(name), show=show, style_function=style_function,
        tooltip=_tooltip(fields, aliases) if fields else None, **kw,
    ).add_to(fmap)


def _tooltip(fields: list[str], aliases: list[str]) -> folium.GeoJsonTooltip:
    """A tooltip whose labels are escaped (they may hold names from study.toml); folium
    inserts labels as HTML. Values must be escaped by the caller."""
    return folium.GeoJsonTooltip(fields, aliases=[escape(a) for a in aliases])


def _popup(fields: list[str], aliases: list[str]) -> folium.GeoJsonPopup:
    """As :func:`_tooltip`, for a popup."""
    return folium.GeoJsonPopup(fields, aliases=[escape(a) for a in aliases])


def _ring(svg: str, size: int = 26) -> str:
    """A symbol inside a bold ring: marks what a plan adds."""
    return (f'<div style="width:{size - 4}px;height:{size - 4}px;border:2px solid #000;'
            f'border-radius:50%;background:#fff;display:flex;align-items:center;'
            f'justify-content:center">{svg}</div>')


def _escaped(values) -> list[str]:
    return [escape(str(v)) for v in values]


class _MapBuilder:
    def __init__(self, study: Study, result: CoverageResult, base: BaseMap | None,
                 block_m: float, layers: list[str]):
        self.study, self.result, self.base, self.block_m = study, result, base, block_m
        self.layers = layers
        self.legend: list[LegendSection] = []
        regions = self.display(study.regions.gdf)
        minx, miny, maxx, maxy = regions.total_bounds
        self.fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
        if base is not None:
            folium.TileLayer(base.url, name=escape(base.name), attr=base.attribution,
                             max_zoom=base.max_zoom, subdomains=base.subdomains,
                             overlay=False, control=False).add_to(self.fmap)
        # leave room for the legend on the left
        self.fmap.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(300, 10))
        Fullscreen().add_to(self.fmap)
        self.regions = regions
        self.all_layers = list(study.layers)

    def display(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return to_display(gdf, self.base)

    def symbol(self, layer: str) -> tuple[str, str]:
        i = self.all_layers.index(layer)
        return LAYER_COLOURS[i % len(LAYER_COLOURS)], SHAPES[i % len(SHAPES)]

    def add_regions(self) -> None:
        study = self.study
        groups = study.regions.group_names
        colour_of = group_colours(groups)
        pop = np.bincount(study.population.region, weights=study.population.population,
                          minlength=len(self.regions))
        reg = gpd.GeoDataFrame({
            "region": _escaped(self.regions["region"]), "group": _escaped(self.regions["group"]),
            "population": [f"{p:,.0f}" for p in pop],
            "stroke": [colour_of[g] for g in self.regions["group"]],
            "fill": [colour_of[g] for g in self.regions["group"]],
        }, geometry=_round_geoms(shapely.simplify(self.regions.geometry.values, 1e-4)),
            crs=4326)
        _add_geojson(self.fmap, reg, "Regions (colour = group)", True,
                     {"weight": 2, "fillOpacity": 0.06},
                     ["region", "group", "population"],
                     ["Region", "Group", "Population (people)"])
        sec = LegendSection("Regions (outline colour = group)")
        for g in groups:
            sec.add(swatch_svg(colour_of[g], colour_of[g], opacity=0.3), str(g))
        self.legend.append(sec)

    def add_gaps(self, shown: str | None = None) -> None:
        """Gap blocks per layer; only ``shown`` (default: the first layer) starts visible."""
        blocks = {name: self.display(gap_blocks(self.study, self.result, name, self.block_m))
                  for name in self.layers}
        blocks = {k: b for k, b in blocks.items() if len(b)}
        if not blocks:
            return
        edges = gap_edges(np.concatenate([b["unserved"].to_numpy() for b in blocks.values()]))
        labels = _class_labels(edges)
        shown = shown if shown in blocks else next(iter(blocks))
        for name, b in blocks.items():
            layer, unit = self.study.layers[name], self.result.layers[name].unit
            cls = np.clip(np.searchsorted(edges, b["unserved"], side="right") - 1, 0,
                          len(GAP_COLOURS) - 1)
            b = b.assign(
                geometry=_round_geoms(b.geometry.values), layer=escape(name),
                mean_to_nearest=["–" if pd.isna(v) else f"{v:,.1f}"
                                 for v in b["mean_to_nearest"]],
                unserved=[f"{v:,.0f}" for v in b["unserved"]],
                unreachable=[f"{v:,.0f}" for v in b["unreachable"]],
                fill=[GAP_COLOURS[k] for k in cls])
            what = "time" if unit == "min" else "distance"
            _add_geojson(self.fmap, b, f"Gaps: {name} (beyond {layer.standard.describe()})",
                         name == shown, {"weight": 0, "fillOpacity": 0.7},
                         ["layer", "unserved", "unreachable", "mean_to_nearest"],
                         ["Layer", f"Beyond the standard: {layer.serves or 'all'} (people)",
                          "No facility reachable (people)",
                          f"Mean {what} to the nearest, others ({unit})"])
        sec = LegendSection(f"Gaps: unserved people per {self.block_m / 1000:g} km block",
                            note="People beyond the layer's standard (one layer shown at a "
                                 "time; same classes for every layer)")
        for k, lab in enumerate(labels):
            sec.add(swatch_svg(GAP_COLOURS[k], "#7f2704", opacity=0.8), f"{lab} people")
        self.legend.append(sec)

    def add_access(self, equity: EquityResult) -> None:
        names = [n for n in self.layers if n in equity.access]
        if not names:
            return
        edges = np.array(ACCESS_RATIO_EDGES + [np.inf])
        for name in names:
            b = self.display(access_blocks(self.study, self.result, equity, name, self.block_m))
            if not len(b):
                continue
            rel = b["relative"].fillna(0.0).to_numpy()
            cls = np.where(b["access_per_1000"].to_numpy() <= 0, 0,
                           1 + np.clip(np.searchsorted(edges, rel, side="right") - 1, 0,
                                       len(ACCESS_COLOURS) - 2))
            b = b.assign(geometry=_round_geoms(b.geometry.values), layer=escape(name),
                         fill=[ACCESS_COLOURS[k] for k in cls],
                         access_per_1000=[f"{v:,.1f}" for v in b["access_per_1000"]],
                         relative=[f"{v:.2f}" for v in b["relative"].fillna(0.0)],
                         population=[f"{v:,.0f}" for v in b["population"]])
            _add_geojson(self.fmap, b, f"Access: {name} (places per 1,000 people)", False,
                         {"weight": 0, "fillOpacity": 0.7},
                         ["layer", "access_per_1000", "relative", "population"],
                         ["Layer", "Catchment access (places per 1,000 people)",
                          "Relative to the study mean (×)", "People counted (people)"])
        methods = "/".join(sorted({equity.access[n].method.upper() for n in names}))
        sec = LegendSection(f"Access (catchment, {methods}): block ÷ study mean",
                            note="Places within the standard per 1,000 people, shared among "
                                 "all who can reach them")
        sec.add(swatch_svg(ACCESS_COLOURS[0], "#08306b", opacity=0.8), "no place in reach")
        ratio = [f"{lo:g}–{hi:g} ×" if np.isfinite(hi) else f"{lo:g} × or more"
                 for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        for k, lab in enumerate(ratio):
            sec.add(swatch_svg(ACCESS_COLOURS[k + 1], "#08306b", opacity=0.8),
                    f"{lab} the study mean")
        self.legend.append(sec)

    def add_service_areas(self, service_areas: gpd.GeoDataFrame) -> None:
        sa = self.display(service_areas)
        sa = sa[sa["layer"].isin(self.layers)]
        for row in sa.itertuples():
            colour, _ = self.symbol(row.layer)
            gdf = gpd.GeoDataFrame({"layer": [escape(row.layer)],
                                    "standard": [escape(row.standard)]},
                                   geometry=_round_geoms(np.array([row.geometry])), crs=4326)
            _add_geojson(self.fmap, gdf, f"Service area: {row.layer} ({row.standard})", False,
                         {"color": colour, "weight": 1, "fillColor": colour,
                          "fillOpacity": 0.15},
                         ["layer", "standard"], ["Service area of", "Standard"])
        if len(sa):
            self.legend.append(LegendSection(
                "Service areas", note="Shaded in the colour of their layer's symbol: land "
                                      "within the layer's standard of a facility"))

    def add_facilities(self) -> None:
        sec = LegendSection("Facilities (symbol per layer)")
        for name in self.layers:
            layer = self.study.layers[name]
            colour, shape = self.symbol(name)
            fac = self.display(layer.facilities)
            cap = fac["capacity"]
            pts = gpd.GeoDataFrame({
                "name": _escaped(fac["name"]), "facility_id": _escaped(fac["facility_id"]),
                "capacity": ["unknown" if pd.isna(c) else f"{c:,.0f} places" for c in cap],
                "located_by": [escape(str(m).replace("_", " ")) for m in
                               fac["location_method"]],
            }, geometry=_round_geoms(fac.geometry.values), crs=4326)
            if len(pts) <= MAX_ICON_MARKERS:
                marker = folium.Marker(icon=folium.DivIcon(
                    html=icon_svg(shape, colour, _ICON_PX), icon_size=(_ICON_PX, _ICON_PX),
                    icon_anchor=(_ICON_PX // 2, _ICON_PX // 2), class_name="eq-icon"))
                symbol = icon_svg(shape, colour, 14)
            else:
                marker = folium.CircleMarker(radius=3, color=colour, fill=True,
                                             fill_opacity=0.9, weight=1)
                symbol = icon_svg("circle", colour, 10)
            folium.GeoJson(
                pts, name=f"{escape(name)} ({len(pts):,})", marker=marker,
                show=len(pts) <= MAX_SHOWN_MARKERS,
                tooltip=_tooltip(["name", "facility_id", "capacity", "located_by"],
                                 ["Name", "Id", "Capacity", "Located by"]),
            ).add_to(self.fmap)
            sec.add(symbol, f"{name} ({len(pts):,} facilities; standard "
                            f"{layer.standard.describe()})")
        self.legend.append(sec)

    def add_sites(self, plan: SitesPlan) -> None:
        gains = plan.gains
        pts = self.display(gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(gains["lon"], gains["lat"]), crs=4326))
        basis = self.study.layers[plan.layer].serves or "people"
        frame = gpd.GeoDataFrame({
            "candidate_id": _escaped(gains["candidate_id"]), "rank": gains["rank"].to_numpy(),
            "new_covered": [f"{v:,.0f}" for v in gains["new_covered"]],
            "coverage_after": [f"{v:.2f}" for v in gains["coverage_after_pct"]],
            "worst_region": [f"{escape(str(r))} ({v:.1f} %)" for r, v in zip(
                gains["worst_region_after"], gains["worst_region_coverage_after_pct"],
                strict=True)],
        }, geometry=_round_geoms(pts.geometry.values), crs=4326)
        fields = ["candidate_id", "rank", "new_covered", "coverage_after", "worst_region"]
        aliases = ["Candidate", "Rank by gain", f"{basis} newly within the standard (people)",
                   "Study coverage with this site alone (%)",
                   "Worst region with this site alone (coverage %)"]
        sel = gains["selected"].to_numpy(bool)
        top = max(float(gains["new_covered"].max()), 1.0)
        radius = 2 + 8 * np.sqrt(gains["new_covered"].to_numpy(float) / top)
        cands = frame[~sel].assign(radius=np.round(radius[~sel], 1))
        if len(cands):
            folium.GeoJson(
                cands, name=f"Candidates ({len(cands):,}; size = people gained)",
                show=len(cands) <= MAX_SHOWN_CANDIDATES,
                marker=folium.CircleMarker(radius=4, color="#555", fill=True,
                                           fill_color="#999", fill_opacity=0.5, weight=0.5),
                style_function=lambda f: {"radius": f["properties"]["radius"]},
                popup=_popup(fields, aliases),
            ).add_to(self.fmap)
        chosen = frame[sel]
        if len(chosen):
            star = icon_svg("star", "#ffd400", 26)
            folium.GeoJson(
                chosen, name=f"Chosen sites ({len(chosen)}, model {escape(plan.model)})",
                marker=folium.Marker(icon=folium.DivIcon(html=star, icon_size=(26, 26),
                                                         icon_anchor=(13, 13),
                                                         class_name="eq-icon")),
                popup=_popup(fields, aliases),
            ).add_to(self.fmap)
        sec = LegendSection(f"New {plan.layer} sites ({plan.model})")
        sec.add(icon_svg("star", "#ffd400", 16), "chosen site (click for its gains)")
        sec.add(icon_svg("circle", "#999", 12), "candidate; size = people it brings within "
                                                "the standard")
        self.legend.append(sec)

    def add_scenario(self, res: ScenarioResult) -> None:
        """Gaps the plan closes (people newly within the standard per block) and the plan's
        new and closed facilities, per changed layer."""
        from equiserve.scenario.apply import PLACED, PROXY

        sec = LegendSection(f"Plan: {res.scenario.name}")
        drew_blocks = False
        ch = res.changes
        for name in res.changed_layers:
            if name not in self.layers:
                continue
            gain = res.newly_covered(name)
            moved = gain != 0
            if moved.any():
                bx, by = _block_keys(self.study, moved, self.block_m)
                b = self.display(_blocks_frame(self.study, pd.DataFrame(
                    {"bx": bx, "by": by, "gain": gain[moved]}), self.block_m))
                b = b[b["gain"].round(0) != 0]
                drew_blocks = drew_blocks or len(b) > 0
                b = b.assign(geometry=_round_geoms(b.geometry.values), layer=escape(name),
                             people=[f"{v:+,.0f}" for v in b["gain"]],
                             fill=np.where(b["gain"] > 0, CLOSED_COLOUR, OPENED_COLOUR))
                _add_geojson(self.fmap, b.drop(columns="gain"),
                             f"Plan: gaps closed, {name}", True,
                             {"weight": 0, "fillOpacity": 0.7}, ["layer", "people"],
                             ["Layer", "People newly within the standard (people)"])
            colour, shape = self.symbol(name)
            new = ch[(ch["layer"] == name) & (ch["action"] == "add")
                     & ch["status"].isin([PLACED, PROXY])]
            if len(new):
                pts = self.display(gpd.GeoDataFrame(
                    geometry=gpd.points_from_xy(new["lon"], new["lat"]), crs=4326))
                frame = gpd.GeoDataFrame({
                    "name": _escaped(new["name"]), "status": _escaped(new["status"]),
                    "placed_by": _escaped(new["placed_by"].fillna("")),
                    "precision": _escaped(new["precision"].fillna("")),
                    "region": _escaped(new["region"].fillna("outside every region")),
                    "capacity": ["unknown" if pd.isna(c) else f"{c:,.0f} places"
                                 for c in new["capacity_after"]],
                }, geometry=_round_geoms(pts.geometry.values), crs=4326)
                html = _ring(icon_svg(shape, colour, _ICON_PX))
                folium.GeoJson(
                    frame, name=f"Plan: new {escape(name)} ({len(frame)})",
                    marker=folium.Marker(icon=folium.DivIcon(
                        html=html, icon_size=(26, 26), icon_anchor=(13, 13),
                        class_name="eq-icon")),
                    popup=_popup(
                        ["name", "status", "placed_by", "precision", "region", "capacity"],
                        ["Name", "Status", "Placed by", "Precision", "Region", "Capacity"]),
                ).add_to(self.fmap)
                sec.add(_ring(icon_svg(shape, colour, 12), 18),
                        f"new {name} (ringed; click for placement and precision)")
            gone = ch[(ch["layer"] == name) & (ch["action"] == "remove")]
            if len(gone):
                base = res.baseline.layers[name].facilities
                closed = self.display(base[base["facility_id"].isin(gone["facility_id"])])
                frame = gpd.GeoDataFrame({"name": _escaped(closed["name"]),
                                          "facility_id": _escaped(closed["facility_id"])},
                                         geometry=_round_geoms(closed.geometry.values), crs=4326)
                cross = icon_svg("cross", "#444444", 14)
                folium.GeoJson(
                    frame, name=f"Plan: closed {escape(name)} ({len(frame)})",
                    marker=folium.Marker(icon=folium.DivIcon(
                        html=cross, icon_size=(14, 14), icon_anchor=(7, 7),
                        class_name="eq-icon")),
                    tooltip=_tooltip(["name", "facility_id"], ["Closed by the plan", "Id"]),
                ).add_to(self.fmap)
                sec.add(icon_svg("cross", "#444444", 12), f"{name} closed by the plan")
        if drew_blocks:
            sec.add(swatch_svg(CLOSED_COLOUR, CLOSED_COLOUR, opacity=0.8),
                    "block with people newly within the standard")
            sec.add(swatch_svg(OPENED_COLOUR, OPENED_COLOUR, opacity=0.8),
                    "block with people newly beyond it (closures)")
        if sec.rows:
            self.legend.append(sec)

    def finish(self, title: str) -> folium.Map:
        n = sum(isinstance(c, folium.GeoJson) for c in self.fmap._children.values())
        folium.LayerControl(collapsed=n > MAX_OPEN_CONTROL).add_to(self.fmap)
        notes = []
        if self.base is None:
            notes.append("No base map (offline)")
        else:
            notes.append(f"Base map: {self.base.name}")
            if self.base.shifts_data:
                notes.append("data shifted from WGS84 to GCJ-02 to line up with it")
        self.legend.append(LegendSection("Map", note="; ".join(notes)))
        add_legend(self.fmap, self.legend)
        self.fmap.get_root().html.add_child(folium.Element(
            '<div id="eq-title" style="position:fixed;top:10px;left:60px;z-index:1000;'
            'background:white;padding:4px 8px;border:1px solid #999;font:14px sans-serif">'
            f"{escape(title)}</div>"))
        return self.fmap


def coverage_map(study: Study, result: CoverageResult, *,
                 basemap: BaseMap | None | Literal["config"] = "config",
                 service_areas: gpd.GeoDataFrame | None = None,
                 equity: EquityResult | None = None, plan: SitesPlan | None = None,
                 scenario: ScenarioResult | None = None,
                 layers: list[str] | None = None, block_m: float | None = None,
                 title: str | None = None) -> folium.Map:
    """Build the folium map of a study's coverage.

    Parameters
    ----------
    study, result : Study, CoverageResult
    basemap : BaseMap, None or "config"
        Base map tiles; None draws none (works offline); "config" uses the study's
        ``[map]`` table (OpenStreetMap unless set).
    service_areas : GeoDataFrame, optional
        Dissolved service areas per layer (``layer``, ``standard``, geometry), drawn as
        toggleable overlays (hidden at first).
    equity : EquityResult, optional
        Adds the catchment access blocks of layers with capacities (hidden at first).
    plan : SitesPlan, optional
        Adds the candidate sites (sized by people gained) and the chosen ones.
    scenario : ScenarioResult, optional
        Draw the plan's study (pass ``scenario.plan`` and its result) with the plan's new
        facilities ringed and the gaps it closes per block.
    layers : list of str, optional
        Facility layers to draw (default all).
    block_m : float, optional
        Size of gap and access blocks (default ``[map] gap_block_m``).
    """
    base = basemap_from_config(study.config.map) if basemap == "config" else basemap
    names = list(layers) if layers is not None else list(study.layers)
    b = _MapBuilder(study, result, base, block_m or study.config.map.gap_block_m, names)
    b.add_regions()
    b.add_gaps(scenario.changed_layers[0] if scenario and scenario.changed_layers else None)
    if equity is not None:
        b.add_access(equity)
    if service_areas is not None:
        b.add_service_areas(service_areas)
    b.add_facilities()
    if plan is not None:
        b.add_sites(plan)
    if scenario is not None:
        b.add_scenario(scenario)
    name = study.config.name + (" — SYNTHETIC DATA" if study.config.synthetic else "")
    return b.finish(title or name)
