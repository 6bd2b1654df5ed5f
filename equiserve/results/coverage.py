"""Coverage: distance to the nearest facility of every layer for every cell, and who meets
the standard, by study, group and region.

    coverage(study) -> CoverageResult
        .layers[name]  LayerCoverage: per-cell distance, nearest facility, covered, people
        .summary       one row per layer x level x name                 (summary.csv)
        tables()       summary.csv/.xlsx; coverage.gpkg: cells (points; GeoParquet with
                       --format parquet), facilities, regions, gaps (a view of cells)
        overlays()     regions by group, gaps per 1 km block, facilities per layer
        sections()     the study, the coverage overview, one section per layer
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from equiserve.analysis.blocks import blocks
from equiserve.analysis.inequality import stable_order
from equiserve.analysis.nearest import nearest_facility
from equiserve.analysis.network_nearest import network_nearest_facility
from equiserve.analysis.summary import SUMMARY_COLUMNS, coverage_table
from equiserve.config.types import Mode, Unit
from equiserve.notes import Notes
from equiserve.results.base import (
    OutputTable,
    Points,
    View,
    ViewColumn,
    about_study,
    sql_name,
    sql_text,
)
from equiserve.results.formats import (
    fmt_count,
    fmt_distance,
    fmt_people,
    missing,
)
from equiserve.results.overlays import Depth, Fill, LegendEntry, Overlay, Symbol
from equiserve.results.sections import (
    STUDY,
    BarChart,
    Column,
    DistributionChart,
    Figure,
    FigureRow,
    Link,
    Section,
    Series,
    Strong,
    group_colour,
    para,
    section,
    table,
)
from equiserve.settings import LOW_COVERAGE_PCT, MAX_SHOWN_MARKERS

if TYPE_CHECKING:
    from collections.abc import Callable

    from equiserve.inputs.facilities import FacilityLayer
    from equiserve.study import Progress, Study

Method = Literal["straight_line", "network_walk", "network_drive"]
#: The distance method of each travel mode (None: straight line).
METHODS: dict[Mode | None, Method] = {None: "straight_line", "walk": "network_walk",
                                     "drive": "network_drive"}

#: How each distance method is described in the report.
METHOD_TEXT: dict[str, str] = {
    "straight_line": "straight-line distance from each cell centre to the nearest facility",
    "network_walk": "walking along the street network, from each cell's nearest street",
    "network_drive": "driving along the street network, from each cell's nearest street",
}
#: The GeoPackage and workbook of a coverage run.
GPKG, WORKBOOK = "coverage.gpkg", "summary.xlsx"
#: The GeoParquet files of the per-cell layers (``--format parquet``).
CELLS_PARQUET, GAPS_PARQUET = "cells.parquet", "gaps.parquet"
#: The columns of the cells layer the gaps layer repeats.
GAP_KEEP = ("cell_id", "population", "region", "group")


def cell_labels(names: object, region: np.ndarray) -> pd.Categorical:
    """Per cell, the name of its region's entry in ``names`` (region names or groups), as
    a categorical with sorted categories: what the inequality indices factorise, without
    sorting strings once per cell and measure."""
    categories, code = np.unique(np.asarray(names, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(code[region], categories=categories)


@dataclass
class LayerCoverage:
    """Per-cell coverage of one layer, aligned with the population grid.

    Attributes
    ----------
    distance : ndarray
        Distance (m) or travel time (min, for minute standards) to the nearest facility;
        ``inf`` where none can be reached (not snapped, or no path).
    unit : "m" or "min"
    mode : "walk", "drive" or None (straight line)
    facility : ndarray of int
        Row of the nearest facility in the layer's facilities (-1 if none).
    covered : ndarray of bool
        Whether the cell meets the standard.
    weights : ndarray
        People counted for this layer in each cell (total or its subgroup).
    node_cost, node_label : ndarray or None
        The network search (cost per node in metres or seconds, nearest facility per
        node), kept for service areas; None for straight-line layers.
    ferry_only : ndarray of bool or None
        Cells that meet the standard only thanks to a ferry.
    """

    distance: np.ndarray
    unit: Unit
    mode: Mode | None
    facility: np.ndarray
    covered: np.ndarray
    weights: np.ndarray
    node_cost: np.ndarray | None = None
    node_label: np.ndarray | None = None
    ferry_only: np.ndarray | None = None

    @cached_property
    def distance_order(self) -> np.ndarray:
        """The stable order of ``distance``: one sort shared by the summary's quantiles and
        the scorecard's indices."""
        return stable_order(self.distance)

    @property
    def method(self) -> Method:
        """How distances were measured: ``straight_line``, ``network_walk`` or
        ``network_drive``."""
        return METHODS[self.mode]


# ---------------------------------------------------------------------------------------
# computing


def coverage(study: Study, progress: Progress | None = None) -> CoverageResult:
    """Distance to the nearest facility of every layer for every cell, and the summary.

    The study is not changed; notes on what the figures mean for people (no facility on
    their part of the network, covered only by ferry) are the result's.
    """
    step = progress or (lambda _msg: None)
    per_layer: dict[str, LayerCoverage] = {}
    tables = []
    for name, layer in study.layers.items():
        step(f"coverage: {name}")
        cov = _layer_coverage(study, name, layer)
        per_layer[name] = cov
        std = layer.standard
        t = coverage_table(cov.distance, std.limit, cov.weights, study.population.region,
                           study.regions.names, study.regions.groups, unit=cov.unit,
                           order=cov.distance_order)
        t.insert(0, "layer", name)
        t["kind"] = layer.kind
        t["population_basis"] = layer.serves or "total"
        t["standard"] = std.describe()
        t["standard_m"] = std.standard_m
        t["standard_min"] = std.standard_min
        t["distance_method"] = cov.method
        t["facilities"] = _facility_counts(layer, t)
        tables.append(t)
    summary = pd.concat(tables, ignore_index=True).reindex(columns=SUMMARY_COLUMNS)
    result = CoverageResult(study, per_layer, summary)
    _note_stranded(result)
    _note_ferry_only(result)
    return result


def _layer_coverage(study: Study, name: str, layer: FacilityLayer) -> LayerCoverage:
    """A layer's coverage: the nearest facility of every cell (searched once per study and
    the studies sharing its places, :meth:`Study.layer_cached`) with this study's people."""
    nearest = study.layer_cached(name, "nearest", lambda: _nearest(study, name, layer))
    return replace(nearest, weights=study.population.counts(layer.serves))


def _nearest(study: Study, name: str, layer: FacilityLayer) -> LayerCoverage:
    pop = study.population
    std = layer.standard
    weights = pop.counts(layer.serves)
    if not std.uses_network:
        dist, fac = nearest_facility(pop.xy, layer.access_xy, layer.access_facility)
        return LayerCoverage(dist, "m", None, fac, dist <= std.limit, weights)
    mode = std.mode
    assert mode is not None
    net = study.networks[mode]
    cells, facs = study.cell_snap(name), study.facility_snaps[name]
    res = network_nearest_facility(net, cells, facs, layer.access_facility, std.weight)
    covered = res.cost <= std.threshold
    ferry_only = None
    if net.is_ferry.any():
        # who stays within the standard without ferries: a search bounded by it
        alt = network_nearest_facility(net, cells, facs, layer.access_facility, std.weight,
                                       ferries=False, limit=std.threshold)
        ferry_only = covered & ~(alt.cost <= std.threshold)
    return LayerCoverage(res.cost / std.search_scale, std.unit, mode, res.facility,
                         covered, weights, res.node_cost, res.node_label, ferry_only)


def _facility_counts(layer: FacilityLayer, t: pd.DataFrame) -> np.ndarray:
    fac = layer.facilities
    by = {"group": fac["group"].value_counts(), "region": fac["region"].value_counts()}
    return np.array([len(fac) if level == "study" else by[level].get(name, 0)
                     for level, name in zip(t["level"], t["name"], strict=True)],
                    dtype=np.int64)


def _note_stranded(result: CoverageResult) -> None:
    """People attached to a street from which no facility of a layer can be reached: on
    land (an island) with no such facility, or on a part of the street network without one
    and not linked to the rest (with the parts' sizes)."""
    study = result.study
    for name, cov in result.layers.items():
        if cov.mode is None:
            continue
        snap = study.cell_snap(name)
        stranded = snap.ok & ~np.isfinite(cov.distance)
        if not stranded.any():
            continue
        who = study.layers[name].serves or "people"
        layer = study.layers[name]
        fac_parts = np.unique(study.land_part(layer.access_x, layer.access_y))
        pop = study.population
        island = stranded.copy()  # only the stranded cells' land is looked up
        island[stranded] = ~np.isin(study.land_part(pop.x[stranded], pop.y[stranded]),
                                    fac_parts)
        if island.any():
            result.notes.warn(f"layers.{name}", f"{cov.weights[island].sum():,.0f} {who} "
                              f"live on land (an island) with no {name} facility (no street "
                              f"or ferry link): {study.people_by_region(island, cov.weights)}")
        cut = stranded & ~island
        if cut.any():
            net = study.networks[cov.mode]
            comp = net.components[net.u[snap.edge[cut]]]
            sizes = np.bincount(net.components)[np.unique(comp)]
            shown = ", ".join(f"{s:,}" for s in np.sort(sizes)[::-1][:5])
            result.notes.warn(f"layers.{name}", f"{cov.weights[cut].sum():,.0f} {who} live "
                              f"by parts of the street network with no {name} facility and "
                              f"no street or ferry link to one ({len(sizes)} part(s) of "
                              f"{shown}{' …' if len(sizes) > 5 else ''} nodes): "
                              f"{study.people_by_region(cut, cov.weights)}")


def _note_ferry_only(result: CoverageResult) -> None:
    """People who meet a standard only thanks to a ferry."""
    study = result.study
    for name, cov in result.layers.items():
        if cov.ferry_only is not None and cov.ferry_only.any():
            result.notes.info(f"layers.{name}", f"{cov.weights[cov.ferry_only].sum():,.0f} "
                              f"{study.layers[name].serves or 'people'} meet the {name} "
                              f"standard only by ferry: "
                              f"{study.people_by_region(cov.ferry_only, cov.weights)}")


# ---------------------------------------------------------------------------------------
# the result


def distance_column(layer: str, unit: str) -> str:
    """Column of a layer's distance in the cells layer: ``dist_<layer>_m`` or
    ``time_<layer>_min``."""
    return f"dist_{layer}_m" if unit == "m" else f"time_{layer}_min"


@dataclass
class CoverageResult:
    """Coverage of every layer of ``study`` and the long-format summary table."""

    study: Study
    layers: dict[str, LayerCoverage]
    summary: pd.DataFrame
    notes: Notes = field(default_factory=Notes)

    heading = None

    # -- tables

    def cell_columns(self) -> dict[str, object]:
        """The first columns of the cells layer: id (int32 below 2^31 cells), people (and
        subgroups), region and group of every cell (categories: each name stored once)."""
        study = self.study
        pop = study.population
        ids = np.arange(len(pop), dtype=np.int32 if len(pop) < 2**31 else np.int64)
        data: dict[str, object] = {"cell_id": ids, "population": pop.population}
        data.update(pop.subgroups)
        for column, per_region in (("region", study.regions.names),
                                   ("group", study.regions.groups)):
            cat = pd.Categorical(per_region)
            data[column] = pd.Categorical.from_codes(cat.codes[pop.region], cat.categories)
        return data

    def cell_geometry(self, points: bool) -> np.ndarray:
        """The cells' points (centres) or their shapes (polygons; points for point
        sources)."""
        pop = self.study.population
        if points:
            return np.asarray(shapely.points(pop.x, pop.y))
        return np.asarray(pop.geometry().values)

    def cells_frame(self, extra: dict[str, dict[str, np.ndarray]] | None = None,
                    after: dict[str, np.ndarray] | None = None,
                    points: bool = False) -> gpd.GeoDataFrame:
        """Populated cells with people, region, group and per layer distance and coverage;
        ``extra[layer]`` columns follow each layer's own, ``after`` columns come last.
        Geometry: the cells' shapes, or their centres with ``points`` (as coverage.gpkg
        stores them)."""
        return gpd.GeoDataFrame(self.cell_data(extra, after),
                                geometry=self.cell_geometry(points), crs=self.study.crs)

    def cell_data(self, extra: dict[str, dict[str, np.ndarray]] | None = None,
                  after: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
        """The columns of :meth:`cells_frame`, without geometry."""
        data = self.cell_columns()
        for name, cov in self.layers.items():
            data[distance_column(name, cov.unit)] = cov.distance
            data[f"covered_{name}"] = cov.covered
            data.update((extra or {}).get(name, {}))
        data.update(after or {})
        return pd.DataFrame(data)

    def cell_points(self, keep: Callable[[], np.ndarray] | None = None) -> Points:
        """The geometry of the cells layer (of the cells where ``keep()``): their centres,
        their shapes with ``--cells polygons``."""
        pop = self.study.population

        def pick(a: np.ndarray) -> np.ndarray:
            return a if keep is None else a[keep()]

        return Points(lambda: pick(pop.xy), self.study.crs,
                      lambda: pick(self.cell_geometry(points=False)))

    def gap_matrix(self) -> np.ndarray:
        """(cells, layers) booleans: the cell has people a layer counts beyond its
        standard."""
        return np.column_stack([~c.covered & (c.weights > 0) for c in self.layers.values()])

    def gap_cells(self) -> np.ndarray:
        """Cells that miss at least one layer's standard (the rows of the gaps layer)."""
        return np.asarray(self.gap_matrix().any(axis=1))

    def gaps_frame(self, cells: gpd.GeoDataFrame | None = None,
                   points: bool = False) -> gpd.GeoDataFrame:
        """Populated cells outside the standard of at least one layer.

        One row per cell, with ``gap_layers`` (the layers whose standard the cell misses),
        ``n_gaps``, and per layer ``unserved_<layer>``: the people of the cell that layer
        counts who are beyond its standard (0 where the cell is covered). The geometry is
        that of ``cells`` if given, else the cells' shapes (centres with ``points``). The
        GeoPackage holds the same rows as a view of its cells layer (:meth:`gaps_view`).
        """
        any_gap = self.gap_cells()
        geometry = (cells.geometry.to_numpy()[any_gap] if cells is not None
                    else self.cell_geometry(points)[any_gap])
        return gpd.GeoDataFrame(self.gap_data(), geometry=geometry, crs=self.study.crs)

    def gap_data(self) -> pd.DataFrame:
        """The columns of :meth:`gaps_frame`, without geometry."""
        gap = self.gap_matrix()
        any_gap = gap.any(axis=1)
        g = gap[any_gap]
        columns = self.cell_columns()
        data: dict[str, object] = {}
        for c in GAP_KEEP:
            col = columns[c]
            data[c] = col[any_gap] if isinstance(col, pd.Categorical) else \
                np.asarray(col)[any_gap]
        data["n_gaps"] = g.sum(axis=1).astype(np.asarray(columns["cell_id"]).dtype)
        labels = np.array(list(self.layers), dtype=object)
        if g.shape[1] <= 62:  # one code per pattern of gaps, each label made once
            codes = g.astype(np.int64) @ (np.int64(1) << np.arange(g.shape[1], dtype=np.int64))
            patterns, inverse = np.unique(codes, return_inverse=True)
            rows = (patterns[:, None] >> np.arange(g.shape[1])) & 1 == 1
        else:
            rows, inverse = np.unique(g, axis=0, return_inverse=True)
        names = [", ".join(labels[r]) for r in rows]
        data["gap_layers"] = pd.Categorical.from_codes(inverse.ravel(), names)
        for j, (name, cov) in enumerate(self.layers.items()):
            data[f"unserved_{name}"] = np.where(g[:, j], cov.weights[any_gap], 0.0)
        return pd.DataFrame(data)

    def gaps_view(self) -> View:
        """The gaps layer as a view of the cells layer: the same rows and columns as
        :meth:`gaps_frame` (a cell misses a layer when it is not covered and has people the
        layer counts), computed by SQLite from ``covered_<layer>`` and the counts."""
        terms, columns = [], []
        for j, (name, layer) in enumerate(self.study.layers.items()):
            counted = layer.serves or "population"
            terms.append((f"_gap{j}", f"((NOT {sql_name(f'covered_{name}')} AND "
                                      f"{sql_name(counted)} > 0) IS 1)"))
        gaps = [sql_name(t) for t, _ in terms]
        columns.append(ViewColumn("n_gaps", " + ".join(gaps), like="cell_id"))
        parts = [f"CASE WHEN {g} THEN " + (f"CASE WHEN {' OR '.join(gaps[:j])} THEN ', ' "
                                          f"ELSE '' END || " if j else "")
                 + f"{sql_text(name)} ELSE '' END"
                 for j, (g, name) in enumerate(zip(gaps, self.layers, strict=True))]
        columns.append(ViewColumn("gap_layers", " || ".join(parts), like="region"))
        for g, (name, layer) in zip(gaps, self.study.layers.items(), strict=True):
            counted = sql_name(layer.serves or "population")
            columns.append(ViewColumn(f"unserved_{name}", f"CASE WHEN {g} THEN {counted} "
                                      "ELSE 0 END", like=layer.serves or "population"))
        return View("cells", GAP_KEEP, tuple(columns), " OR ".join(gaps), tuple(terms))

    def facilities_frame(self) -> gpd.GeoDataFrame:
        """All facilities of all layers, with the layer, kind and how each was located."""
        parts = []
        for name, layer in self.study.layers.items():
            f = layer.facilities.copy()
            f.insert(0, "layer", name)
            f.insert(1, "kind", layer.kind)
            parts.append(f)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                                crs=self.study.crs)

    def regions_frame(self) -> gpd.GeoDataFrame:
        """Region polygons with population and the coverage % of every layer."""
        study = self.study
        reg = study.regions.gdf[["region", "group", "geometry"]].copy()
        rows = self.summary[self.summary["level"] == "region"]
        reg["population"] = np.bincount(study.population.region,
                                        weights=study.population.population,
                                        minlength=len(reg))
        for name in self.layers:
            pct = rows[rows["layer"] == name].set_index("name")["coverage_pct"]
            reg[f"coverage_{name}_pct"] = reg["region"].map(pct).to_numpy(float).round(2)
        return reg

    def cell_table(self, frame: Callable[[], pd.DataFrame]) -> OutputTable:
        """The cells layer of coverage.gpkg (or cells.parquet) of the columns ``frame()``:
        the cells' centres, their shapes with ``--cells polygons``."""
        return OutputTable("cells", frame, gpkg=GPKG, parquet=CELLS_PARQUET,
                           points=self.cell_points())

    def tables(self) -> list[OutputTable]:
        return [
            OutputTable("summary", self.summary, csv="summary.csv", workbook=WORKBOOK),
            self.cell_table(self.cell_data),
            OutputTable("facilities", self.facilities_frame, gpkg=GPKG),
            OutputTable("regions", self.regions_frame(), gpkg=GPKG, workbook=WORKBOOK,
                        position=1),
            OutputTable("gaps", self.gap_data, gpkg=GPKG, parquet=GAPS_PARQUET,
                        view=self.gaps_view(),
                        points=self.cell_points(self.gap_cells)),
        ]

    def about(self) -> dict[str, str]:
        return about_study(self.study)

    # -- map

    @property
    def block_m(self) -> float:
        """Size (m) of the map's gap and access blocks (``[map] gap_block_m``)."""
        return self.study.config.map.gap_block_m

    def gap_blocks(self, layer: str, block_m: float | None = None) -> gpd.GeoDataFrame:
        """Unserved people of one layer summed over square blocks of ``block_m`` metres
        (default :attr:`block_m`).

        Columns: ``unserved`` (people), ``unreachable`` (people who cannot reach any
        facility of the layer) and ``mean_to_nearest`` (mean distance or time of the
        others, in the layer's unit).
        """
        cov = self.layers[layer]
        pop = self.study.population
        block_m = block_m or self.block_m
        gap = ~cov.covered & (cov.weights > 0)
        w, d = cov.weights[gap], cov.distance[gap]
        finite = np.isfinite(d)
        b = blocks(pop.x[gap], pop.y[gap], block_m, {
            "unserved": w, "unreachable": np.where(finite, 0.0, w),
            "reach": np.where(finite, w, 0.0), "dist": np.where(finite, d * w, 0.0)})
        mean = np.divide(b["dist"], b["reach"], out=np.full(len(b), np.nan),
                         where=b["reach"] > 0)
        return gpd.GeoDataFrame({"unserved": b["unserved"].round(0),
                                 "unreachable": b["unreachable"].round(0),
                                 "mean_to_nearest": np.round(mean, 1)},
                                geometry=block_boxes(b, block_m), crs=self.study.crs)

    def regions_overlay(self) -> Overlay:
        study = self.study
        reg = study.regions.gdf
        pop = np.bincount(study.population.region, weights=study.population.population,
                          minlength=len(reg))
        frame = gpd.GeoDataFrame({"region": reg["region"].astype(str).to_numpy(),
                                  "group": reg["group"].astype(str).to_numpy(),
                                  "population": [f"{p:,.0f}" for p in pop]},
                                 geometry=reg.geometry.values, crs=reg.crs)
        return Overlay("Regions (colour = group)", frame,
                       Fill("group", values=reg["group"].to_numpy()),
                       (("region", "Region"), ("group", "Group"),
                        ("population", "Population (people)")), Depth.REGIONS,
                       LegendEntry("Regions (outline colour = group)"), simplify=1e-4)

    def gap_overlays(self, layers: list[str] | None = None, shown: str | None = None,
                     block_m: float | None = None) -> list[Overlay]:
        """Gap blocks per layer; only ``shown`` (default: the first with gaps) is on."""
        block_m = block_m or self.block_m
        frames = {n: self.gap_blocks(n, block_m) for n in (layers or list(self.layers))}
        frames = {n: b for n, b in frames.items() if len(b)}
        if shown not in frames:
            shown = next(iter(frames), None)
        legend = LegendEntry(f"Gaps: unserved people per {block_m / 1000:g} km block",
                             note="People beyond the layer's standard (one layer shown at "
                                  "a time; same classes for every layer)")
        out = []
        for name, b in frames.items():
            layer, unit = self.study.layers[name], self.layers[name].unit
            frame = gpd.GeoDataFrame({
                "layer": name, "unserved": [f"{v:,.0f}" for v in b["unserved"]],
                "unreachable": [f"{v:,.0f}" for v in b["unreachable"]],
                "mean_to_nearest": ["–" if pd.isna(v) else f"{v:,.1f}"
                                    for v in b["mean_to_nearest"]],
            }, geometry=b.geometry.values, crs=b.crs)
            what = "time" if unit == "min" else "distance"
            out.append(Overlay(
                f"Gaps: {name} (beyond {layer.standard.describe()})", frame,
                Fill("gaps", values=b["unserved"].to_numpy()),
                (("layer", "Layer"),
                 ("unserved", f"Beyond the standard: {layer.serves or 'all'} (people)"),
                 ("unreachable", "No facility reachable (people)"),
                 ("mean_to_nearest", f"Mean {what} to the nearest, others ({unit})")),
                Depth.BLOCKS, legend, show=name == shown, grid=block_m))
        return out

    def facility_overlays(self, layers: list[str] | None = None) -> list[Overlay]:
        out = []
        for name in layers or list(self.study.layers):
            layer = self.study.layers[name]
            fac = layer.facilities
            frame = gpd.GeoDataFrame({
                "name": fac["name"].astype(str).to_numpy(),
                "facility_id": fac["facility_id"].astype(str).to_numpy(),
                "capacity": ["unknown" if pd.isna(c) else f"{c:,.0f} places"
                             for c in fac["capacity"]],
                "located_by": [str(m).replace("_", " ") for m in fac["location_method"]],
            }, geometry=fac.geometry.values, crs=fac.crs)
            out.append(Overlay(
                f"{name} ({len(frame):,})", frame, Symbol("layer", layer=name),
                (("name", "Name"), ("facility_id", "Id"), ("capacity", "Capacity"),
                 ("located_by", "Located by")), Depth.FACILITIES,
                LegendEntry("Facilities (symbol per layer)",
                            f"{name} ({len(frame):,} facilities; standard "
                            f"{layer.standard.describe()})"),
                show=len(frame) <= MAX_SHOWN_MARKERS))
        return out

    def overlays(self) -> list[Overlay]:
        return [self.regions_overlay(), *self.gap_overlays(), *self.facility_overlays()]

    # -- report

    def study_section(self) -> Section:
        study, pop = self.study, self.study.population
        cell_text = (f"{pop.kind} cells of {math.sqrt(pop.cell_area_m2):g} m"
                     if pop.cell_area_m2 else f"{pop.kind} features")
        rows = [
            {"label": "Regions", "value": str(len(study.regions.gdf)),
             "note": ", ".join(study.regions.group_names)},
            {"label": "Population (people)", "value": fmt_people(pop.total),
             "note": f"from a {pop.kind} source"},
            {"label": "Populated cells (count)", "value": fmt_count(len(pop)),
             "note": cell_text},
            {"label": "Population outside every region (people)",
             "value": fmt_people(pop.outside_population), "note": "left out of the analysis"},
            {"label": "Distances", "value": self.distance_text()},
        ]
        return section("Study", table([Column("label", "", numeric=False),
                                       Column("value", "", numeric=True),
                                       Column("note", "")], rows, class_key=None,
                                      header=False))

    def distance_text(self) -> str:
        methods = {cov.method for cov in self.layers.values()}
        parts = []
        if "straight_line" in methods:
            parts.append("straight lines for layers with a distance standard and no mode")
        nets = sorted({c.mode for c in self.layers.values() if c.mode is not None})
        if nets:
            net = self.study.config.network
            src = net.source.name if net else "the network"
            parts.append(f"the street network ({src}; {', '.join(nets)}) for layers whose "
                         "standard names a mode, with the walk from each cell and facility "
                         "to its nearest street added")
        return "; ".join(parts)

    def overview_section(self) -> Section:
        s = self.summary
        groups = self.study.regions.group_names
        rows = []
        for i, (name, layer) in enumerate(self.study.layers.items(), start=1):
            lrows = s[s["layer"] == name]
            grp = lrows[lrows["level"] == "group"].set_index("name")["coverage_pct"]
            rows.append({
                "layer": Link(name, f"#layer-{i}"), "standard": layer.standard.describe(),
                "basis": layer.serves or "total population",
                "study": float(lrows.loc[lrows["level"] == "study", "coverage_pct"].iloc[0]),
                **{f"group:{g}": (float(grp[g]) if g in grp and not missing(grp[g])
                                  else None) for g in groups},
            })
        columns = [Column("layer", "Layer"), Column("standard", "Standard"),
                   Column("basis", "People counted"),
                   Column("study", "Study (%)", "pct", low_below=LOW_COVERAGE_PCT),
                   *[Column(f"group:{g}", f"{g} (%)", "pct", low_below=LOW_COVERAGE_PCT)
                     for g in groups]]
        return section("Coverage overview (% of people within each layer's standard)",
                       table(columns, rows, class_key=None),
                       para(f"Figures below {LOW_COVERAGE_PCT} % are shown in red.", style="meta"))

    def layer_section(self, i: int, name: str) -> Section:
        layer = self.study.layers[name]
        cov = self.layers[name]
        rows = self.summary[self.summary["layer"] == name]
        basis = layer.serves or "total population"
        std = layer.standard.describe()
        groups = self.study.regions.group_names
        grp = rows[rows["level"] == "group"].set_index("name")["coverage_pct"]
        figure = "distance" if cov.unit == "m" else "travel time"
        stem = "distance_m" if cov.unit == "m" else "time_min"
        fmt = fmt_distance(cov.unit)
        bars = BarChart(tuple(groups), tuple(float(grp.get(g, float("nan"))) for g in groups),
                        tuple(group_colour(g) for g in groups))
        cell_group = cell_labels(self.study.regions.groups, self.study.population.region)
        masks = [np.asarray(cell_group == g) for g in groups]
        series = [Series(g, group_colour(g), cov.distance[m], cov.weights[m])
                  for g, m in zip(groups, masks, strict=True)]
        series.append(Series("study", STUDY, cov.distance, cov.weights))
        columns = [
            Column("level", "Level"), Column("name", "Name"), Column("group", "Group"),
            Column("population", "Population (people)", "people"),
            Column("covered_population", "Covered (people)", "people"),
            Column("coverage_pct", "Coverage (%)", "pct"),
            Column("unserved_population", "Unserved (people)", "people"),
            Column("unreachable_population", "No facility reachable (people)", "people"),
            Column(f"mean_{stem}", f"Mean {figure} ({cov.unit})", fmt),
            Column(f"median_{stem}", f"Median {figure} ({cov.unit})", fmt),
            Column(f"p90_{stem}", f"90th percentile {figure} ({cov.unit})", fmt),
            Column("facilities", "Facilities (count)", numeric=True),
        ]
        return section(
            name,
            para("Standard: ", Strong(std), f" ({METHOD_TEXT.get(cov.method, cov.method)}) "
                 f"to the nearest of {len(layer):,} facilities; people counted: ",
                 Strong(basis), ". ", reading(rows, basis, std)),
            FigureRow((
                Figure(bars, f"Coverage by group (% of {basis} within {std})."),
                Figure(DistributionChart(tuple(series), cov.unit, layer.standard.limit),
                       f"Distribution: share of {basis} (%) whose nearest facility is within "
                       f"each {figure} ({cov.unit}); dashed line: the standard ({std}). The "
                       "rest live beyond the right edge of the chart or, as the legend says, "
                       "cannot reach any facility."))),
            table(columns, rows.to_dict("records")),
            anchor=f"layer-{i}", aside=f"({layer.kind})")

    def sections(self) -> list[Section]:
        return [self.study_section(), self.overview_section(),
                *[self.layer_section(i, n) for i, n in enumerate(self.study.layers, start=1)]]


def block_boxes(b: pd.DataFrame, block_m: float) -> np.ndarray:
    """Squares of the blocks of :func:`equiserve.analysis.blocks.blocks`."""
    x0, y0 = b["x0"].to_numpy(), b["y0"].to_numpy()
    return shapely.box(x0, y0, x0 + block_m, y0 + block_m)


def reading(rows: pd.DataFrame, basis: str, standard: str) -> str:
    """One plain-language sentence comparing the best and worst served groups."""
    groups = rows[(rows["level"] == "group") & (rows["population"] > 0)]
    if len(groups) < 2:
        return ""
    best = groups.loc[groups["coverage_pct"].idxmax()]
    worst = groups.loc[groups["coverage_pct"].idxmin()]
    name = str(worst["name"])
    return (f"{name[:1].upper() + name[1:]} is worst served: {worst['coverage_pct']:.1f} % "
            f"of its {basis} live within {standard}, against {best['coverage_pct']:.1f} % in "
            f"{best['name']}; "
            f"{worst['unserved_population']:,.0f} people in {worst['name']} are beyond it.")
