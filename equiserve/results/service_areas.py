"""Service areas: the land within each facility's standard, per facility and per layer.

Network layers: the reached parts of streets buffered by ``[network]
service_area_width_m`` (each piece belongs to the facility nearest by street; never hulls,
never over ferries). Straight-line layers: circles of the standard's radius.

    service_areas(study, coverage) -> ServiceAreasResult
        tables()    coverage.gpkg layers service_areas, service_areas_dissolved
        overlays()  one shaded area per layer (hidden at first)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
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


def service_areas(study: Study, coverage: CoverageResult) -> ServiceAreasResult:
    """Service areas of every layer of ``coverage`` (see the module docstring)."""
    width = (study.config.network.service_area_width_m if study.config.network
             else SERVICE_AREA_WIDTH_M)
    rows, dissolved = [], []
    for name, cov in coverage.layers.items():
        layer = study.layers[name]
        std = layer.standard
        if cov.node_cost is None or cov.node_label is None or std.mode is None:
            polys, union = straight_line_service_areas(
                layer.access_x, layer.access_y, layer.access_facility, std.limit,
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
    return ServiceAreasResult(
        gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), crs=study.crs),
        gpd.GeoDataFrame(pd.concat(dissolved, ignore_index=True), crs=study.crs))


@dataclass
class ServiceAreasResult:
    """Service areas per facility (``areas``) and dissolved per layer (``dissolved``)."""

    areas: gpd.GeoDataFrame
    dissolved: gpd.GeoDataFrame
    notes: Notes = field(default_factory=Notes)

    heading = None

    def tables(self) -> list[OutputTable]:
        return [OutputTable("service_areas", self.areas, gpkg=GPKG),
                OutputTable("service_areas_dissolved", self.dissolved, gpkg=GPKG)]

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
