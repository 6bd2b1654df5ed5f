"""Output tables and layers built from a study and its coverage result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from equiserve.study import CoverageResult, Study


def cells_frame(study: Study, result: CoverageResult) -> gpd.GeoDataFrame:
    """Populated cells with population, region, group, and per layer distance and coverage."""
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
        data[f"dist_{name}_m"] = np.round(cov.distance_m, 1)
        data[f"covered_{name}"] = cov.covered
    return gpd.GeoDataFrame(data, geometry=pop.geometry().values, crs=study.crs)


def gaps_frame(study: Study, result: CoverageResult,
               cells: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Populated cells outside the standard, one row per (layer, cell)."""
    cells = cells_frame(study, result) if cells is None else cells
    parts = []
    for name, cov in result.layers.items():
        gap = ~cov.covered & (cov.weights > 0)
        layer = study.layers[name]
        sub = cells.loc[gap, ["cell_id", "region", "group", "geometry"]].copy()
        sub.insert(0, "layer", name)
        sub["population_basis"] = layer.serves or "total"
        sub["unserved_population"] = cov.weights[gap]
        sub["distance_m"] = np.round(cov.distance_m[gap], 1)
        sub["standard_m"] = layer.standard.distance_m
        parts.append(sub)
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=study.crs)


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
