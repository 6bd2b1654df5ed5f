"""The interactive coverage map (folium): regions, facilities per layer and gap cells.

Gap cells are aggregated to blocks (default 1 km) so that a city-wide map stays small;
every text shown in a tooltip or popup is HTML-escaped, since names come from OSM and
user files.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import Fullscreen

from equiserve.maps.style import GAP_COLOURS, GROUP_COLOURS, LAYER_COLOURS

if TYPE_CHECKING:
    from equiserve.study import CoverageResult, Study

GAP_BLOCK_M = 1000.0
#: Layers with more facilities than this start hidden (toggle them in the layer control).
MAX_SHOWN_MARKERS = 1000
_DECIMALS = 5  # about 1 m in longitude/latitude


def _round_geoms(geoms: np.ndarray) -> np.ndarray:
    return shapely.set_precision(geoms, 10.0 ** -_DECIMALS)


def gap_blocks(study: Study, result: CoverageResult, layer: str,
               block_m: float = GAP_BLOCK_M) -> gpd.GeoDataFrame:
    """Unserved people of one layer summed over square blocks of ``block_m`` metres.

    Columns: ``unserved`` (people), ``unreachable`` (people who cannot reach any facility
    of the layer) and ``mean_to_nearest`` (mean distance or time of the others, in the
    layer's unit).
    """
    cov = result.layers[layer]
    pop = study.population
    gap = ~cov.covered & (cov.weights > 0)
    w, d = cov.weights[gap], cov.distance[gap]
    finite = np.isfinite(d)
    df = pd.DataFrame({"bx": np.floor(pop.x[gap] / block_m).astype(np.int64),
                       "by": np.floor(pop.y[gap] / block_m).astype(np.int64),
                       "unserved": w, "unreachable": np.where(finite, 0.0, w),
                       "reach": np.where(finite, w, 0.0),
                       "dist": np.where(finite, d * w, 0.0)})
    agg = df.groupby(["bx", "by"], sort=True).sum().reset_index()
    x0, y0 = agg["bx"].to_numpy() * block_m, agg["by"].to_numpy() * block_m
    mean = np.divide(agg["dist"], agg["reach"], out=np.full(len(agg), np.nan),
                     where=agg["reach"] > 0)
    return gpd.GeoDataFrame({"unserved": agg["unserved"].round(0),
                             "unreachable": agg["unreachable"].round(0),
                             "mean_to_nearest": np.round(mean, 1)},
                            geometry=shapely.box(x0, y0, x0 + block_m, y0 + block_m),
                            crs=study.crs)


def _gap_bins(unserved: np.ndarray) -> np.ndarray:
    """Class edges for gap blocks: 0 and fractions of the layer's 98th percentile."""
    top = max(1.0, float(np.quantile(unserved, 0.98))) if len(unserved) else 1.0
    edges = np.unique(np.round(np.array([0, 0.05, 0.15, 0.3, 0.6]) * top, 0))
    return np.append(edges, np.inf)


def coverage_map(study: Study, result: CoverageResult, tiles: str | None = "OpenStreetMap",
                 service_areas: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Build the folium map of a study's coverage.

    Parameters
    ----------
    study, result : Study, CoverageResult
    tiles : str or None
        Base map; None draws no tiles (works offline).
    service_areas : GeoDataFrame, optional
        Dissolved service areas per layer (``layer``, ``standard``, geometry), drawn as
        toggleable layers (hidden at first).
    """
    regions = study.regions.gdf.to_crs(4326)
    minx, miny, maxx, maxy = regions.total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    Fullscreen().add_to(fmap)

    groups = list(dict.fromkeys(study.regions.groups))
    colour_of = {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups)}
    pop_by_region = np.bincount(study.population.region, weights=study.population.population,
                                minlength=len(regions))
    reg = gpd.GeoDataFrame({
        "region": [escape(str(v)) for v in regions["region"]],
        "group": [escape(str(v)) for v in regions["group"]],
        "population": [f"{p:,.0f}" for p in pop_by_region],
        "colour": [colour_of[g] for g in regions["group"]],
    }, geometry=_round_geoms(shapely.simplify(regions.geometry.values, 1e-4)), crs=4326)
    folium.GeoJson(
        reg, name="Regions (colour = group)",
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 2,
                                  "fillColor": f["properties"]["colour"], "fillOpacity": 0.08},
        tooltip=folium.GeoJsonTooltip(["region", "group", "population"],
                                      aliases=["Region", "Group", "Population (people)"]),
    ).add_to(fmap)

    for i, (name, layer) in enumerate(study.layers.items()):
        b = gap_blocks(study, result, name).to_crs(4326)
        if not len(b):
            continue
        bins = _gap_bins(b["unserved"].to_numpy())
        b["geometry"] = _round_geoms(b.geometry.values)
        b["layer"] = escape(name)
        b["mean_to_nearest"] = ["–" if pd.isna(v) else f"{v:,.1f}" for v in b["mean_to_nearest"]]
        unit = result.layers[name].unit
        cls = np.clip(np.searchsorted(bins, b["unserved"], side="right") - 1, 0,
                      len(GAP_COLOURS) - 1)
        b["colour"] = [GAP_COLOURS[k] for k in cls]
        basis = escape(layer.serves or "people")
        labels = [f"{lo:,.0f}+" if np.isinf(hi) else f"{lo:,.0f}–{hi:,.0f}"
                  for lo, hi in zip(bins[:-1], bins[1:], strict=True)]
        b["class"] = [f"{labels[k]} {basis} per {GAP_BLOCK_M / 1000:g} km block" for k in cls]
        folium.GeoJson(
            b, name=f"Gaps: {escape(name)} (beyond {layer.standard.describe()})",
            show=(i == 0),
            style_function=lambda f: {"fillColor": f["properties"]["colour"],
                                      "color": "#7f2704", "weight": 0.3, "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(
                ["layer", "unserved", "class", "unreachable", "mean_to_nearest"],
                aliases=["Layer", "Unserved (people)", "Class", "No facility reachable (people)",
                         f"Mean {'time' if unit == 'min' else 'distance'} to nearest "
                         f"of the others ({unit})"]),
        ).add_to(fmap)

    if service_areas is not None:
        sa = service_areas.to_crs(4326)
        for i, row in enumerate(sa.itertuples()):
            colour = LAYER_COLOURS[i % len(LAYER_COLOURS)]
            geom = _round_geoms(np.array([row.geometry]))
            folium.GeoJson(
                gpd.GeoDataFrame({"layer": [escape(row.layer)],
                                  "standard": [escape(row.standard)]}, geometry=geom,
                                 crs=4326),
                name=f"Service area: {escape(row.layer)} ({escape(row.standard)})", show=False,
                style_function=lambda f, c=colour: {"color": c, "weight": 1, "fillColor": c,
                                                    "fillOpacity": 0.15},
                tooltip=folium.GeoJsonTooltip(["layer", "standard"],
                                              aliases=["Service area of", "Standard"]),
            ).add_to(fmap)

    for i, (name, layer) in enumerate(study.layers.items()):
        colour = LAYER_COLOURS[i % len(LAYER_COLOURS)]
        fac = layer.facilities.to_crs(4326)
        cap = fac["capacity"]
        pts = gpd.GeoDataFrame({
            "name": [escape(str(v)) for v in fac["name"]],
            "facility_id": [escape(str(v)) for v in fac["facility_id"]],
            "capacity": ["unknown" if pd.isna(c) else f"{c:,.0f}" for c in cap],
            "located_by": [str(m).replace("_", " ") for m in fac["location_method"]],
        }, geometry=_round_geoms(fac.geometry.values), crs=4326)
        folium.GeoJson(
            pts, name=f"{escape(name)} ({len(pts):,})", show=len(pts) <= MAX_SHOWN_MARKERS,
            marker=folium.CircleMarker(radius=4, color=colour, fill=True, fill_opacity=0.9,
                                       weight=1),
            tooltip=folium.GeoJsonTooltip(["name", "facility_id", "capacity", "located_by"],
                                          aliases=["Name", "Id", "Capacity", "Located by"]),
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    if study.config.synthetic:
        title = f"{escape(study.config.name)} — SYNTHETIC DATA"
    else:
        title = escape(study.config.name)
    fmap.get_root().html.add_child(folium.Element(
        f'<div style="position:fixed;top:10px;left:60px;z-index:1000;background:white;'
        f'padding:4px 8px;border:1px solid #999;font:14px sans-serif">{title}</div>'))
    return fmap
