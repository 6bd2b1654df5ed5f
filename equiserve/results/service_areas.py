"""Service areas: the land within a layer's standard, dissolved per layer (and per facility
when asked for: ``--service-areas per-facility``).

Network layers: the reached parts of streets buffered by ``[network]
service_area_width_m`` (each piece belongs to the facility nearest by street; never hulls,
never over ferries). Straight-line layers: circles of the standard's radius.

    service_areas(study, coverage) -> ServiceAreasResult
        tables()    coverage.gpkg layer service_areas_dissolved (and service_areas, per
                    facility, with per_facility=True)
        overlays()  one shaded area per layer (hidden at first)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from equiserve.network.service_areas import network_service_areas, straight_line_service_areas
from equiserve.notes import Notes
from equiserve.results.base import OutputTable
from equiserve.results.coverage import GPKG
from equiserve.results.overlays import Depth, Fill, LegendEntry, Overlay
from equiserve.settings import SERVICE_AREA_WIDTH_M

if TYPE_CHECKING:
    from equiserve.results.coverage import CoverageResult
    from equiserve.results.sections import Section
    from equiserve.study import Study


def service_areas(study: Study, coverage: CoverageResult, per_facility: bool = False
                  ) -> ServiceAreasResult:
    """Service areas of every layer of ``coverage`` (see the module docstring): dissolved
    per layer, and per facility too with ``per_facility`` (slower: one label per pixel)."""
    width = (study.config.network.service_area_width_m if study.config.network
             else SERVICE_AREA_WIDTH_M)
    rows, dissolved = [], []
    for name, cov in coverage.layers.items():
        layer = study.layers[name]
        std = layer.standard
        polys: np.ndarray | None
        if cov.node_cost is None or cov.node_label is None or std.mode is None:
            polys, union = straight_line_service_areas(
                layer.access_x, layer.access_y, layer.access_facility, std.limit,
                len(layer))
        else:
            polys, union = network_service_areas(
                study.networks[std.mode], cov.node_cost, cov.node_label, std.threshold,
                len(layer), width_m=width, weight=std.weight, per_facility=per_facility)
        if per_facility and polys is not None:
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
    areas = (gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), crs=study.crs)
             if rows else None)
    return ServiceAreasResult(
        areas, gpd.GeoDataFrame(pd.concat(dissolved, ignore_index=True), crs=study.crs))


@dataclass
class ServiceAreasResult:
    """Service areas dissolved per layer (``dissolved``) and, when asked for, per facility
    (``areas``; None otherwise)."""

    areas: gpd.GeoDataFrame | None
    dissolved: gpd.GeoDataFrame
    notes: Notes = field(default_factory=Notes)

    heading = None

    def tables(self) -> list[OutputTable]:
        per_facility = ([] if self.areas is None else
                        [OutputTable("service_areas", self.areas, gpkg=GPKG)])
        return [*per_facility, OutputTable("service_areas_dissolved", self.dissolved,
                                           gpkg=GPKG)]

    def overlays(self) -> list[Overlay]:
        legend = LegendEntry("Service areas", note="Shaded in the colour of their layer's "
                                                   "symbol: land within the layer's standard "
                                                   "of a facility")
        return [Overlay(f"Service area: {r.layer} ({r.standard})",
                        gpd.GeoDataFrame({"layer": [r.layer], "standard": [r.standard]},
                                         geometry=[r.geometry], crs=self.dissolved.crs),
                        Fill("layer", layer=r.layer),
                        (("layer", "Service area of"), ("standard", "Standard")),
                        Depth.AREAS, legend, show=False)
                for r in self.dissolved.itertuples()]

    def sections(self) -> list[Section]:
        return []

    def about(self) -> dict[str, str]:
        return {}
