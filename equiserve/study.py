"""The Study: loads a configured study once, runs the analyses and holds their results.

    study.toml -> StudyConfig -> Study.load() -> regions, population grid, facility layers
               -> Study.coverage() -> CoverageResult (arrays per layer + summary table)
               -> equiserve.outputs.write_outputs(...)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyproj

from equiserve.analysis import coverage_table, nearest_facility
from equiserve.analysis.network_nearest import network_nearest_facility
from equiserve.analysis.summary import SUMMARY_COLUMNS
from equiserve.config import StudyConfig, load_config
from equiserve.errors import ConfigError, DataError
from equiserve.inputs.facilities import FacilityLayer, load_facility_layer
from equiserve.inputs.population import PopulationGrid, load_population
from equiserve.inputs.regions import Regions, load_regions
from equiserve.network import BuildOptions, Network, Snapped, network_from_osm
from equiserve.notes import Notes

if TYPE_CHECKING:
    from equiserve.scorecard import EquityResult

#: Called with a short description before each step of a long run.
Progress = Callable[[str], None]


@dataclass
class LayerCoverage:
    """Per-cell coverage of one layer, aligned with the population grid.

    Attributes
    ----------
    distance : ndarray
        Distance (m) or travel time (min, for minute standards) to the nearest facility;
        ``inf`` where none can be reached (not snapped, or no path).
    unit : str
        ``m`` or ``min``.
    method : str
        ``straight_line``, ``network_walk`` or ``network_drive``.
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
    unit: str
    method: str
    facility: np.ndarray
    covered: np.ndarray
    weights: np.ndarray
    node_cost: np.ndarray | None = None
    node_label: np.ndarray | None = None
    ferry_only: np.ndarray | None = None


@dataclass
class CoverageResult:
    """Coverage of every layer and the long-format summary table."""

    layers: dict[str, LayerCoverage]
    summary: pd.DataFrame


@dataclass
class Study:
    """A loaded study: configuration, regions, population grid, facility layers and, when
    configured, the street networks with the cells and facilities snapped to them."""

    config: StudyConfig
    regions: Regions
    population: PopulationGrid
    layers: dict[str, FacilityLayer]
    notes: Notes = field(default_factory=Notes)
    networks: dict[str, Network] = field(default_factory=dict)
    cell_snaps: dict[str, Snapped] = field(default_factory=dict)
    facility_snaps: dict[str, Snapped] = field(default_factory=dict)
    #: How many of ``notes`` come from loading (the rest from analyses run since).
    loaded_notes: int = 0

    @property
    def crs(self) -> pyproj.CRS:
        """The working CRS (projected, metres)."""
        return self.regions.crs

    @cached_property
    def land(self):
        """All regions as one (multi)polygon: nothing snaps across water outside it."""
        return self.regions.gdf.union_all()

    @classmethod
    def load(cls, config: StudyConfig | str | os.PathLike[str],
             progress: Progress | None = None) -> Study:
        """Load every input of a study.

        Parameters
        ----------
        config : StudyConfig or path-like
            A validated configuration, or the path of a ``study.toml``.
        progress : callable, optional
            Called with a description before each loading step.
        """
        cfg = config if isinstance(config, StudyConfig) else load_config(config)
        step = progress or (lambda _msg: None)
        notes = Notes()
        step("regions")
        regions = load_regions(cfg.regions, cfg.crs, notes)
        step("population")
        population = load_population(cfg.population, regions, notes)
        layers = {}
        for name, lcfg in cfg.layers.items():
            if lcfg.serves is not None and lcfg.serves not in population.subgroups:
                defined = ", ".join(population.subgroups) or "none"
                raise ConfigError(f"layers.{name}.serves = {lcfg.serves!r} is not a population "
                                  f"subgroup; defined in [population.subgroups]: {defined}")
            step(f"facilities: {name}")
            layers[name] = load_facility_layer(lcfg, regions, notes)
        study = cls(cfg, regions, population, layers, notes)
        if cfg.network is not None:
            study._load_networks(step)
        study.loaded_notes = len(notes)
        return study

    def _load_networks(self, step: Progress) -> None:
        """Build the networks the standards need and snap cells and facilities to them."""
        ncfg = self.config.network
        assert ncfg is not None
        modes = list(dict.fromkeys(lay.standard.mode for lay in self.layers.values()
                                   if lay.standard.uses_network))
        land = self.land
        opts = BuildOptions(walk_speed_kmh=ncfg.walk_speed_kmh,
                            ferry_speed_kmh=ncfg.ferry_speed_kmh,
                            ferry_headway_min=ncfg.ferry_headway_min,
                            ferry_wait_min=ncfg.ferry_wait_min)
        pop = self.population
        for mode in modes:
            step(f"network: {mode}")
            net = network_from_osm(ncfg.source, mode, crs=self.crs, options=opts,
                                   cache=ncfg.cache, more_paths=ncfg.more_sources)
            self.networks[mode] = net
            step(f"snapping cells: {mode}")
            snap = net.snap(pop.x, pop.y, limit_m=ncfg.snap_limit_m, land=land)
            self.cell_snaps[mode] = snap
            report_network(self, mode, net, snap)
        for name in self.layers:
            self.snap_layer(name)

    def snap_layer(self, name: str) -> None:
        """Snap a layer's access points to the network its standard uses (if any)."""
        layer = self.layers[name]
        mode = layer.standard.mode
        if mode is None:
            return
        ncfg = self.config.network
        assert ncfg is not None
        snap = self.networks[mode].snap(layer.access_x, layer.access_y,
                                        limit_m=ncfg.snap_limit_m,
                                        land=self.land)
        self.facility_snaps[name] = snap
        owners = np.unique(layer.access_facility[snap.ok])
        lost = np.setdiff1d(np.arange(len(layer)), owners)
        if len(lost) == len(layer):
            raise DataError(f"layers.{name}: none of its {len(layer)} facilities is within "
                            f"{ncfg.snap_limit_m:g} m of the {mode} network "
                            f"({ncfg.source.name}); check that the network covers them "
                            "(CRS, extent) or raise [network] snap_limit_m")
        if len(lost):
            names = ", ".join(map(str, layer.facilities["name"].iloc[lost[:5]]))
            self.notes.warn(f"layers.{name}", f"{len(lost)} of {len(layer)} facilities are "
                            f"not within {ncfg.snap_limit_m:g} m of the {mode} network over "
                            f"land ({names}); they serve no one in the network figures")

    def coverage(self, progress: Progress | None = None) -> CoverageResult:
        """Distance to the nearest facility of every layer for every cell, and the summary."""
        step = progress or (lambda _msg: None)
        pop = self.population
        per_layer: dict[str, LayerCoverage] = {}
        tables = []
        for name, layer in self.layers.items():
            step(f"coverage: {name}")
            cov = self._layer_coverage(name, layer)
            per_layer[name] = cov
            std = layer.standard
            table = coverage_table(cov.distance, std.limit, cov.weights, pop.region,
                                   self.regions.names, self.regions.groups, unit=cov.unit)
            table.insert(0, "layer", name)
            table["kind"] = layer.kind
            table["population_basis"] = layer.serves or "total"
            table["standard"] = std.describe()
            table["standard_m"] = std.distance_m
            table["standard_min"] = std.minutes
            table["distance_method"] = cov.method
            table["facilities"] = self._facility_counts(layer, table)
            tables.append(table)
        summary = pd.concat(tables, ignore_index=True).reindex(columns=SUMMARY_COLUMNS)
        result = CoverageResult(per_layer, summary)
        report_components(self, result)
        report_ferry_only(self, result)
        return result

    def _layer_coverage(self, name: str, layer: FacilityLayer) -> LayerCoverage:
        pop = self.population
        std = layer.standard
        weights = pop.counts(layer.serves)
        if not std.uses_network:
            dist, fac = nearest_facility(pop.xy, layer.access_xy, layer.access_facility)
            return LayerCoverage(dist, "m", "straight_line", fac, dist <= std.distance_m,
                                 weights)
        net = self.networks[std.mode]
        cells, facs = self.cell_snaps[std.mode], self.facility_snaps[name]
        res = network_nearest_facility(net, cells, facs, layer.access_facility, std.weight)
        covered = res.cost <= std.threshold
        ferry_only = None
        if net.is_ferry.any():
            alt = network_nearest_facility(net, cells, facs, layer.access_facility, std.weight,
                                           ferries=False)
            ferry_only = covered & ~(alt.cost <= std.threshold)
        distance = res.cost / std.search_scale
        return LayerCoverage(distance, std.unit, f"network_{std.mode}", res.facility, covered,
                             weights, res.node_cost, res.node_label, ferry_only)

    def equity(self, result: CoverageResult | None = None) -> EquityResult:
        """The equalisation scorecard: capacity, catchment access, inequality, life circle.

        See :mod:`equiserve.scorecard`.
        """
        from equiserve.scorecard import equity

        return equity(self, result if result is not None else self.coverage())

    @staticmethod
    def _facility_counts(layer: FacilityLayer, table: pd.DataFrame) -> np.ndarray:
        fac = layer.facilities
        by_region = fac["region"].value_counts()
        by_group = fac["group"].value_counts()
        out = np.zeros(len(table), dtype=np.int64)
        for i, (level, name) in enumerate(zip(table["level"], table["name"], strict=True)):
            if level == "study":
                out[i] = len(fac)
            else:
                out[i] = (by_group if level == "group" else by_region).get(name, 0)
        return out


def people_by_region(study: Study, mask: np.ndarray, weights: np.ndarray | None = None) -> str:
    """'Region A 1,234 people, Region B 56 people' for the cells in ``mask``."""
    w = study.population.population if weights is None else weights
    per = np.bincount(study.population.region[mask], weights=w[mask],
                      minlength=len(study.regions.names))
    order = np.argsort(-per)
    return ", ".join(f"{study.regions.names[i]} {per[i]:,.0f}" for i in order if per[i] > 0)


def report_network(study: Study, mode: str, net: Network, snap: Snapped) -> None:
    """Data-quality notes on a network and the cells snapped to it."""
    pop = study.population.population
    info = net.info
    kept = (f"{info['ways_used']:,} of {info['highway_ways']:,} highway ways used for {mode}"
            if "highway_ways" in info else f"network of {net.n_edges:,} edges")
    comp = net.components
    sizes = np.bincount(comp)
    study.notes.info(f"network.{mode}", f"{kept}; {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
                     f"{int(net.is_ferry.sum())} ferry route(s); {len(sizes)} connected "
                     f"part(s), the largest with {sizes.max() / net.n_nodes:.1%} of the nodes "
                     "(all parts are kept)")
    for why in ("too far", "across water"):
        mask = snap.reason == why
        if mask.any():
            text = ("farther than the snapping limit from every street" if why == "too far"
                    else "only reachable from a street across water")
            study.notes.warn(f"network.{mode}", f"{int(mask.sum()):,} populated cells "
                             f"({pop[mask].sum():,.0f} people) are {text} and count as "
                             f"unreachable: {people_by_region(study, mask)}")


def report_components(study: Study, result: CoverageResult) -> None:
    """Notes on people living on network parts with no facility of a layer."""
    for name, cov in result.layers.items():
        if not cov.method.startswith("network"):
            continue
        snap = study.cell_snaps[cov.method.removeprefix("network_")]
        stranded = snap.ok & ~np.isfinite(cov.distance)
        if stranded.any():
            study.notes.warn(f"layers.{name}", f"{cov.weights[stranded].sum():,.0f} "
                             f"{study.layers[name].serves or 'people'} live on parts of the "
                             f"network with no {name} facility (no street or ferry link): "
                             f"{people_by_region(study, stranded, cov.weights)}")


def report_ferry_only(study: Study, result: CoverageResult) -> None:
    """Notes on people who meet a standard only thanks to a ferry."""
    for name, cov in result.layers.items():
        if cov.ferry_only is not None and cov.ferry_only.any():
            study.notes.info(f"layers.{name}", f"{cov.weights[cov.ferry_only].sum():,.0f} "
                             f"{study.layers[name].serves or 'people'} meet the {name} "
                             f"standard only by ferry: "
                             f"{people_by_region(study, cov.ferry_only, cov.weights)}")


def run_report(config: StudyConfig | str | os.PathLike[str], out_dir: str | os.PathLike[str],
               progress: Progress | None = None) -> dict[str, Path]:
    """Load a study, compute coverage and write every output into ``out_dir``.

    Returns a mapping of output name to path. Outputs are written atomically: on an error
    nothing in ``out_dir`` changes.
    """
    from equiserve.outputs import write_outputs

    study = Study.load(config, progress)
    result = study.coverage(progress)
    if progress:
        progress("equity scorecard")
    return write_outputs(study, result, out_dir, progress, equity=study.equity(result))
