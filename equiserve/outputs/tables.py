"""Output tables and layers built from a study and its coverage result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from equiserve.scorecard import EquityResult
    from equiserve.study import CoverageResult, Study


def distance_column(layer: str, unit: str) -> str:
    """Column of a layer's distance in the cells layer: ``dist_<layer>_m`` or
    ``time_<layer>_min``."""
    return f"dist_{layer}_m" if unit == "m" else f"time_{layer}_min"


def cells_frame(study: Study, result: CoverageResult, equity: EquityResult | None = None
                ) -> gpd.GeoDataFrame:
    """Populated cells with population, region, group, and per layer distance and coverage
    (and, with ``equity``, catchment access, people given a place and the life-circle
    score)."""
    pop = study.population
    data: dict[str, object] = {
        "cell_id": np.arange(len(pop), dtype=np.int64),
        "population": pop.population,
    }
    for name, values in pop.subgroups.items():
        data[name] = values
    data["region"] = study.regions.names[pop.region]
    data["group"] = study.regions.groups[pop.region]
    for name, cov in result.layers.items():
        data[distance_column(name, cov.unit)] = cov.distance
        data[f"covered_{name}"] = cov.covered
        if equity is not None and name in equity.access:
            data[f"access_{name}"] = equity.access[name].score
            data[f"served_{name}"] = equity.access[name].served
    if equity is not None:
        data["life_circle_score"] = equity.life_circle
        data["life_circle_all"] = equity.life_circle_all
    return gpd.GeoDataFrame(data, geometry=pop.geometry().values, crs=study.crs)


def gaps_frame(study: Study, result: CoverageResult,
               cells: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Populated cells outside the standard of at least one layer.

    One row per cell, with ``gap_layers`` (the layers whose standard the cell misses),
    ``n_gaps``, and per layer ``unserved_<layer>``: the people of the cell that layer
    counts who are beyond its standard (0 where the cell is covered).
    """
    cells = cells_frame(study, result) if cells is None else cells
    names = list(result.layers)
    gap = np.column_stack([~cov.covered & (cov.weights > 0) for cov in result.layers.values()])
    any_gap = gap.any(axis=1)
    out = cells.loc[any_gap, ["cell_id", "population", "region", "group", "geometry"]].copy()
    g = gap[any_gap]
    out.insert(4, "n_gaps", g.sum(axis=1))
    labels = np.array(names, dtype=object)
    out.insert(5, "gap_layers", [", ".join(labels[row]) for row in g])
    for j, (name, cov) in enumerate(result.layers.items()):
        out[f"unserved_{name}"] = np.where(g[:, j], cov.weights[any_gap], 0.0)
    return out.reset_index(drop=True)


def facilities_frame(study: Study) -> gpd.GeoDataFrame:
    """All facilities of all layers, with the layer, kind and how each was located."""
    parts = []
    for name, layer in study.layers.items():
        f = layer.facilities.copy()
        f.insert(0, "layer", name)
        f.insert(1, "kind", layer.kind)
        parts.append(f)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                            crs=study.crs)


def regions_frame(study: Study, result: CoverageResult) -> gpd.GeoDataFrame:
    """Region polygons with population and the coverage % of every layer."""
    reg = study.regions.gdf[["region", "group", "geometry"]].copy()
    s = result.summary
    rows = s[s["level"] == "region"]
    reg["population"] = np.bincount(study.population.region, weights=study.population.population,
                                    minlength=len(reg))
    for name in result.layers:
        pct = rows[rows["layer"] == name].set_index("name")["coverage_pct"]
        reg[f"coverage_{name}_pct"] = reg["region"].map(pct).to_numpy(float).round(2)
    return reg


def service_areas_frame(study: Study, result: CoverageResult
                        ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Service areas per facility and dissolved per layer.

    Network layers: the reached parts of streets buffered by ``service_area_width_m``
    (each piece belongs to the facility nearest by street). Straight-line layers: circles
    of the standard's radius.
    """
    from equiserve.network.service_areas import (
        network_service_areas,
        straight_line_service_areas,
    )

    width = study.config.network.service_area_width_m if study.config.network else 50.0
    rows, dissolved = [], []
    for name, cov in result.layers.items():
        layer = study.layers[name]
        std = layer.standard
        if cov.node_cost is None:
            polys, union = straight_line_service_areas(
                layer.access_x, layer.access_y, layer.access_facility, std.distance_m,
                len(layer))
        else:
            polys, union = network_service_areas(
                study.networks[std.mode], cov.node_cost, cov.node_label, std.threshold,
                len(layer), width_m=width, weight=std.weight)
        fac = layer.facilities
        keep = ~shapely.is_empty(polys)
        rows.append(gpd.GeoDataFrame({
            "layer": name, "facility_id": fac["facility_id"].to_numpy()[keep],
            "name": fac["name"].to_numpy()[keep], "standard": std.describe(),
            "method": cov.method,
        }, geometry=polys[keep], crs=study.crs))
        dissolved.append(gpd.GeoDataFrame({
            "layer": [name], "standard": [std.describe()], "method": [cov.method],
            "area_km2": [shapely.area(union) / 1e6],
        }, geometry=[union], crs=study.crs))
    return (gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), crs=study.crs),
            gpd.GeoDataFrame(pd.concat(dissolved, ignore_index=True), crs=study.crs))


def about_table(study: Study) -> dict[str, str]:
    """What a spreadsheet reader needs to read the tables: study, sources, units."""
    import datetime as _dt

    from equiserve import __version__

    about = {"study": study.config.name}
    if study.config.synthetic:
        about["data"] = "SYNTHETIC: generated for demonstration, not real places or people"
    if study.config.description:
        about["description"] = study.config.description
    about.update({
        "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "software": f"equiserve {__version__}",
        "working CRS": study.crs.to_string(),
        "population (people)": f"{study.population.total:,.0f}",
    })
    for name, layer in study.layers.items():
        about[f"layer {name}"] = (f"standard {layer.standard.describe()}; people counted: "
                                  f"{layer.serves or 'total population'}; "
                                  f"{len(layer):,} facilities")
    about["units"] = ("population, covered, unserved: people; *_pct: percent of the people "
                      "counted; *_m: metres; *_min: minutes; access_score: places per person "
                      "(x 1,000 = per 1,000 people); gini, theil, cv: unitless (0 = equal)")
    return about
