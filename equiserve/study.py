"""The Study: a study's inputs, loaded once, and the analyses that run on them.

    study.toml -> StudyConfig -> Study.load() -> regions, population grid, facility layers,
                                                 street networks with cells and facilities
                                                 snapped to them
    Study.coverage() -> CoverageResult      Study.equity() -> EquityResult
    Study.service_areas() -> ServiceAreasResult
    equiserve.outputs.write(study, *results, out_dir)

A Study is not changed by the analyses run on it: each result carries its own notes;
``study.notes`` are what loading found.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely

from equiserve.analysis.levels import Level, levels
from equiserve.analysis.od import network_od, straight_line_od
from equiserve.config import StudyConfig, load_config
from equiserve.config.types import Mode
from equiserve.errors import ConfigError, DataError
from equiserve.inputs.facilities import FacilityLayer, load_facility_layer
from equiserve.inputs.population import PopulationGrid, load_population
from equiserve.inputs.regions import Regions, load_regions
from equiserve.network import BuildOptions, Network, Snapped, network_from_osm
from equiserve.notes import Notes
from equiserve.results.coverage import CoverageResult, coverage
from equiserve.results.equity import EquityResult, equity
from equiserve.results.service_areas import ServiceAreasResult, service_areas

#: Called with a short description before each step of a long run.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Study:
    """A loaded study: configuration, regions, population grid, facility layers and, when
    configured, the street networks with the cells and facilities snapped to them."""

    config: StudyConfig
    regions: Regions
    population: PopulationGrid
    layers: dict[str, FacilityLayer]
    notes: Notes = field(default_factory=Notes)
    networks: dict[Mode, Network] = field(default_factory=dict)
    cell_snaps: dict[Mode, Snapped] = field(default_factory=dict)
    facility_snaps: dict[str, Snapped] = field(default_factory=dict)

    @property
    def crs(self) -> pyproj.CRS:
        """The working CRS (projected, metres)."""
        return self.regions.crs

    @cached_property
    def land(self) -> shapely.Geometry:
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
        if cfg.network is None:
            return study
        return study._with_networks(step)

    def _with_networks(self, step: Progress) -> Study:
        """The study with the networks its standards need, cells and facilities snapped."""
        ncfg = self.config.network
        assert ncfg is not None
        modes: list[Mode] = list(dict.fromkeys(lay.standard.mode for lay in self.layers.values()
                                              if lay.standard.mode is not None))
        opts = BuildOptions(walk_speed_kmh=ncfg.walk_speed_kmh,
                            ferry_speed_kmh=ncfg.ferry_speed_kmh,
                            ferry_headway_min=ncfg.ferry_headway_min,
                            ferry_wait_min=ncfg.ferry_wait_min)
        pop = self.population
        networks: dict[Mode, Network] = {}
        cell_snaps: dict[Mode, Snapped] = {}
        for mode in modes:
            step(f"network: {mode}")
            net = network_from_osm(ncfg.source, mode, crs=self.crs, options=opts,
                                   cache=ncfg.cache, more_paths=ncfg.more_sources)
            networks[mode] = net
            step(f"snapping cells: {mode}")
            snap = net.snap(pop.x, pop.y, limit_m=ncfg.snap_limit_m, land=self.land)
            cell_snaps[mode] = snap
            self._note_network(mode, net, snap)
        study = replace(self, networks=networks, cell_snaps=cell_snaps)
        return study.with_layers(self.layers, self.notes)

    def with_layers(self, layers: dict[str, FacilityLayer], notes: Notes,
                    changed: list[str] | None = None) -> Study:
        """A study with these facility layers (the ``changed`` ones, default all, snapped
        anew to their networks); regions, population and networks are shared. Snapping
        notes go to ``notes``."""
        snaps = dict(self.facility_snaps)
        study = replace(self, layers=dict(layers), notes=notes, facility_snaps=snaps)
        for name in changed if changed is not None else list(layers):
            snap = study._snap_layer(name)
            if snap is not None:
                snaps[name] = snap
        return study

    def _snap_layer(self, name: str) -> Snapped | None:
        """A layer's access points snapped to the network its standard uses (if any)."""
        layer = self.layers[name]
        mode = layer.standard.mode
        if mode is None:
            return None
        ncfg = self.config.network
        assert ncfg is not None
        snap = self.networks[mode].snap(layer.access_x, layer.access_y,
                                        limit_m=ncfg.snap_limit_m, land=self.land)
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
        return snap

    def _note_network(self, mode: str, net: Network, snap: Snapped) -> None:
        """Data-quality notes on a network and the cells snapped to it."""
        pop = self.population.population
        info = net.info
        kept = (f"{info['ways_used']:,} of {info['highway_ways']:,} highway ways used for "
                f"{mode}" if "highway_ways" in info else f"network of {net.n_edges:,} edges")
        sizes = np.bincount(net.components)
        self.notes.info(f"network.{mode}", f"{kept}; {net.n_nodes:,} nodes, {net.n_edges:,} "
                        f"edges, {int(net.is_ferry.sum())} ferry route(s); {len(sizes)} "
                        f"connected part(s), the largest with {sizes.max() / net.n_nodes:.1%} "
                        "of the nodes (all parts are kept)")
        for why in ("too far", "across water"):
            mask = snap.reason == why
            if mask.any():
                text = ("farther than the snapping limit from every street" if why == "too far"
                        else "only reachable from a street across water")
                self.notes.warn(f"network.{mode}", f"{int(mask.sum()):,} populated cells "
                                f"({pop[mask].sum():,.0f} people) are {text} and count as "
                                f"unreachable: {self.people_by_region(mask)}")

    # -- analyses (each returns a result; the study is not changed)

    def coverage(self, progress: Progress | None = None) -> CoverageResult:
        """Distance to the nearest facility of every layer for every cell, and the summary
        (:func:`equiserve.results.coverage.coverage`)."""
        return coverage(self, progress)

    def equity(self, result: CoverageResult | None = None) -> EquityResult:
        """The equalisation scorecard: capacity, catchment access, inequality, life circle
        (:func:`equiserve.results.equity.equity`)."""
        return equity(self, result if result is not None else self.coverage())

    def service_areas(self, result: CoverageResult) -> ServiceAreasResult:
        """Service areas per facility and per layer
        (:func:`equiserve.results.service_areas.service_areas`)."""
        return service_areas(self, result)

    # -- helpers of the analyses

    def od(self, name: str, cutoff: float | None = None) -> sp.csr_matrix:
        """Cell x facility costs of layer ``name`` within ``cutoff`` (default: its
        standard), in the standard's unit (m, or min for minute standards)."""
        layer = self.layers[name]
        std = layer.standard
        cutoff = std.limit if cutoff is None else cutoff
        if std.mode is None:
            return straight_line_od(self.population.xy, layer.access_xy,
                                    layer.access_facility, len(layer), cutoff)
        od = network_od(self.networks[std.mode], self.cell_snaps[std.mode],
                        self.facility_snaps[name], layer.access_facility, len(layer),
                        cutoff * std.search_scale, std.weight)
        od.data = od.data / std.search_scale
        return od

    def levels(self) -> list[Level]:
        """Study, group and region levels of the population cells."""
        return levels(self.population.region, self.regions.names, self.regions.groups)

    def facility_levels(self, name: str) -> list[Level]:
        """Study, group and region levels of a layer's facilities (-1 outside every
        region)."""
        index = {n: i for i, n in enumerate(self.regions.names)}
        region = np.array([index.get(r, -1) for r in self.layers[name].facilities["region"]],
                          dtype=np.int64)
        return levels(region, self.regions.names, self.regions.groups)

    def people_by_region(self, mask: np.ndarray, weights: np.ndarray | None = None) -> str:
        """'Region A 1,234, Region B 56' for the people in the cells of ``mask``."""
        w = self.population.population if weights is None else weights
        per = np.bincount(self.population.region[mask], weights=w[mask],
                          minlength=len(self.regions.names))
        order = np.argsort(-per)
        return ", ".join(f"{self.regions.names[i]} {per[i]:,.0f}" for i in order if per[i] > 0)
