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
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely

from equiserve.analysis.forecast import apply_totals, growth_rates, project_cells, project_totals
from equiserve.analysis.levels import Level, levels
from equiserve.analysis.od import network_od, straight_line_od
from equiserve.config import StudyConfig, load_config
from equiserve.config.types import Mode
from equiserve.errors import ConfigError, DataError
from equiserve.inputs.datum import any_in_china, check_points, check_regions
from equiserve.inputs.facilities import FacilityLayer, load_facility_layer
from equiserve.inputs.forecast import (
    ForecastInputs,
    add_development_cells,
    load_forecast,
    share_arrays,
)
from equiserve.inputs.population import PopulationGrid, load_population
from equiserve.inputs.regions import Regions, load_regions
from equiserve.network import (
    Attacher,
    AttachRules,
    BuildOptions,
    Network,
    Snapped,
    network_from_osm,
)
from equiserve.network.attach import REASONS, preferred_components
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
    layer_cell_snaps: dict[str, Snapped] = field(default_factory=dict)
    attachers: dict[Mode, Attacher] = field(default_factory=dict, repr=False)
    #: The forecast's tables and development areas, read by ``load(forecast=True)``.
    forecast_inputs: ForecastInputs | None = field(default=None, repr=False)
    #: The year the population is of: None today (the base year), else a forecast's.
    year: int | None = None
    #: What a layer's analyses compute from its facilities and the cells' places alone,
    #: not from people, keyed by (layer, what): cost matrices of :meth:`od` by (layer,
    #: cutoff), each cell's nearest facility of :func:`~equiserve.results.coverage.
    #: coverage` by (layer, "nearest"). Not an argument: ``dataclasses.replace`` (a study
    #: with other layers, snaps or networks) starts a new, empty one, so no study sees
    #: another's; :meth:`with_layers` keeps those of the layers it leaves as they were and
    #: :meth:`in_year` (other people, the same places) shares it.
    _layer_cache: dict[tuple[str, float | str], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False)

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
             progress: Progress | None = None, forecast: bool = False) -> Study:
        """Load every input of a study.

        Parameters
        ----------
        config : StudyConfig or path-like
            A validated configuration, or the path of a ``study.toml``.
        progress : callable, optional
            Called with a description before each loading step.
        forecast : bool
            Also read ``[forecast]``'s tables and development areas, and add the areas'
            cells (nobody in them today) to the grid, for :meth:`in_year`.
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
        inputs = None
        if cfg.forecast is not None:  # every growth key names a region or a group
            growth_rates(regions.names, regions.groups, cfg.forecast.growth)
            for name in cfg.forecast.enrolment:
                if name not in layers or not layers[name].has_capacity:
                    raise ConfigError(f"forecast.enrolment.{name}: {name!r} is not a layer "
                                      "with a capacity_field (places needed are seats, "
                                      "beds...); layers with one: " + ", ".join(
                                          n for n, lay in layers.items() if lay.has_capacity))
            if forecast:
                step("forecast inputs")
                inputs = load_forecast(cfg.forecast, regions, population, notes)
                population = add_development_cells(population, inputs)
        elif forecast:
            raise ConfigError(f"{cfg.path.name if cfg.path else 'the study'} has no "
                              "[forecast] table; add one with base_year, years and growth")
        study = cls(cfg, regions, population, layers, notes, forecast_inputs=inputs)
        if cfg.network is not None:
            study = study._with_networks(step)
        step("checking datums")
        study._check_datums()
        return study

    def _check_datums(self) -> None:
        """Warn of a facility layer or regions declared WGS84 whose numbers read better as
        GCJ-02 or BD-09 (:mod:`equiserve.inputs.datum`): layers against the street network,
        regions against OpenStreetMap's street nodes and facilities."""
        for name, layer in self.layers.items():
            if layer.declared_lonlat:
                pts = layer.facilities.geometry.values
                msg = self.datum_warning(f"layers.{name}", shapely.get_x(pts),
                                         shapely.get_y(pts))
                if msg:
                    self.notes.warn(f"layers.{name}", msg)
        if self.regions.declared_lonlat:
            ref = [lay.facilities.geometry.values for n, lay in self.layers.items()
                   if not lay.declared_lonlat and self.config.layers[n].source.osm_tags]
            xs, ys = [shapely.get_x(p) for p in ref], [shapely.get_y(p) for p in ref]
            mode = self._datum_mode
            if mode is not None:
                net = self.networks[mode]
                xs.append(net.x)
                ys.append(net.y)
            msg = check_regions(self.land, np.concatenate(xs) if xs else np.empty(0),
                                np.concatenate(ys) if ys else np.empty(0), self.crs)
            if msg:
                self.notes.warn("regions", msg)

    def datum_warning(self, key: str, x: np.ndarray, y: np.ndarray,
                      fix: str = 'set crs = "{datum}" in [{key}]') -> str | None:
        """The warning for points (working CRS) read from lon/lat declared WGS84 that lie
        where GCJ-02 or BD-09 numbers would, by their distance to the street network
        (:func:`equiserve.inputs.datum.check_points`); None if they read best as declared
        or there is no network to tell."""
        mode = self._datum_mode
        if mode is None or not any_in_china(x, y, self.crs):  # outside China: no check
            return None
        return check_points(key, x, y, self.crs, self.attachers[mode].streets.distance, fix)

    @property
    def _datum_mode(self) -> Mode | None:
        """The network the datum checks read: walk, else any (its non-ferry segments are
        the streets)."""
        return "walk" if "walk" in self.networks else next(iter(self.networks), None)

    @property
    def attach_nearest(self) -> bool:
        """``[network] attach = "nearest"``: points go to their nearest segment, whatever
        it is (the naive method, for comparison)."""
        return self.config.network is not None and self.config.network.attach == "nearest"

    @property
    def attach_rules(self) -> AttachRules | None:
        """Which segments cells and facilities are attached to (``[network]``); None: any."""
        ncfg = self.config.network
        if ncfg is None:
            return AttachRules()
        if ncfg.attach == "nearest":
            return None
        return AttachRules.with_overrides(
            {k: list(v) for k, v in ncfg.attach_exclude.items()}
            if ncfg.attach_exclude is not None else None,
            ncfg.attach_underground)

    def _with_networks(self, step: Progress) -> Study:
        """The study with the networks its standards need, cells and facilities attached."""
        ncfg = self.config.network
        assert ncfg is not None
        modes: list[Mode] = list(dict.fromkeys(lay.standard.mode for lay in self.layers.values()
                                              if lay.standard.mode is not None))
        opts = BuildOptions(walk_speed_kmh=ncfg.walk_speed_kmh,
                            ferry_speed_kmh=ncfg.ferry_speed_kmh,
                            ferry_headway_min=ncfg.ferry_headway_min,
                            ferry_wait_min=ncfg.ferry_wait_min)
        pop = self.population
        rules = self.attach_rules
        networks: dict[Mode, Network] = {}
        attachers: dict[Mode, Attacher] = {}
        for mode in modes:
            step(f"network: {mode}")
            networks[mode] = network_from_osm(ncfg.source, mode, crs=self.crs, options=opts,
                                              cache=ncfg.cache, more_paths=ncfg.more_sources)
            step(f"attaching cells: {mode}")
            attachers[mode] = Attacher(networks[mode], pop.x, pop.y, ncfg.snap_limit_m,
                                       self.land, rules)
        study = replace(self, networks=networks, attachers=attachers).with_layers(
            self.layers, self.notes)
        cell_snaps: dict[Mode, Snapped] = {}
        for mode, net in networks.items():  # the cells as the mode's layers see them
            nodes = [net.u[s.edge[s.ok]] for n, s in study.facility_snaps.items()
                     if study.layers[n].standard.mode == mode]
            cell_snaps[mode] = attachers[mode].attach(None if study.attach_nearest else
                preferred_components(net, np.concatenate(nodes) if nodes else None))
            study._note_network(mode, net, cell_snaps[mode])
        return replace(study, cell_snaps=cell_snaps)

    def with_layers(self, layers: dict[str, FacilityLayer], notes: Notes,
                    changed: list[str] | None = None) -> Study:
        """A study with these facility layers (the ``changed`` ones, default all, attached
        anew to their networks, and the cells of those layers too); regions, population
        and networks are shared. Attachment notes go to ``notes``."""
        snaps = dict(self.facility_snaps)
        layer_cells = dict(self.layer_cell_snaps)
        study = replace(self, layers=dict(layers), notes=notes, facility_snaps=snaps,
                        layer_cell_snaps=layer_cells)
        redo = set(changed if changed is not None else layers)
        study._layer_cache.update({key: v for key, v in self._layer_cache.items()
                                   if key[0] not in redo and key[0] in layers
                                   and layers[key[0]] is self.layers.get(key[0])})
        for name in changed if changed is not None else list(layers):
            snap = study._snap_layer(name)
            if snap is not None:
                snaps[name] = snap
                layer_cells[name] = study._cells_of_layer(name, snap)
        return study

    def _cells_of_layer(self, name: str, facilities: Snapped) -> Snapped:
        """The cells attached for layer ``name``: preferring the largest part of the
        network and the parts holding one of the layer's facilities."""
        mode = self.layers[name].standard.mode
        assert mode is not None
        net = self.networks[mode]
        if self.attach_nearest:
            return self.attachers[mode].attach()
        return self.attachers[mode].attach(
            preferred_components(net, also=net.u[facilities.edge[facilities.ok]]))

    def attach_points(self, mode: Mode, x: np.ndarray, y: np.ndarray) -> Snapped:
        """Points (facilities, candidate sites) attached to the ``mode`` network as
        facilities are: eligible segments, parts that lead somewhere, over land."""
        ncfg = self.config.network
        assert ncfg is not None
        net = self.networks[mode]
        preferred = None if self.attach_nearest else preferred_components(net)
        if mode in self.attachers:  # the cells' street index, shared
            return self.attachers[mode].for_points(x, y).attach(preferred)
        return net.snap(x, y, limit_m=ncfg.snap_limit_m, land=self.land,
                        rules=self.attach_rules, preferred=preferred)

    def land_part(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the piece of land (island, mainland) holding each point, -1 if none."""
        parts = self._land_parts
        out = np.full(len(x), -1, dtype=np.int64)
        hit, part = parts.query(shapely.points(x, y), predicate="within")
        out[hit] = part
        return out

    @cached_property
    def _land_parts(self) -> shapely.STRtree:
        return shapely.STRtree(shapely.get_parts(self.land))

    def cell_snap(self, layer: str) -> Snapped:
        """How the cells are attached to the network of ``layer``'s standard."""
        return self.layer_cell_snaps[layer]

    def _snap_layer(self, name: str) -> Snapped | None:
        """A layer's access points attached to the network its standard uses (if any)."""
        layer = self.layers[name]
        mode = layer.standard.mode
        if mode is None:
            return None
        ncfg = self.config.network
        assert ncfg is not None
        snap = self.attach_points(mode, layer.access_x, layer.access_y)
        owners = np.unique(layer.access_facility[snap.ok])
        lost = np.setdiff1d(np.arange(len(layer)), owners)
        if len(lost) == len(layer):
            raise DataError(f"layers.{name}: none of its {len(layer)} facilities is within "
                            f"{ncfg.snap_limit_m:g} m of the {mode} network "
                            f"({ncfg.source.name}) at a street people can step onto; check "
                            "that the network covers them (CRS, extent), raise [network] "
                            "snap_limit_m or relax [network] attach_exclude")
        if len(lost):
            names = ", ".join(map(str, layer.facilities["name"].iloc[lost[:5]]))
            self.notes.warn(f"layers.{name}", f"{len(lost)} of {len(layer)} facilities are "
                            f"not within {ncfg.snap_limit_m:g} m of the {mode} network over "
                            f"land ({names}); they serve no one in the network figures")
        moved = snap.moved_code != 0
        if moved.any():
            fac = np.unique(layer.access_facility[moved])
            self.notes.info(f"layers.{name}", f"{len(fac)} of {len(layer)} facilities are "
                            f"attached to a {mode} street other than their nearest way "
                            f"({_reasons(snap.moved[moved])}): "
                            + ", ".join(map(str, layer.facilities["name"].iloc[fac[:5]]))
                            + (" …" if len(fac) > 5 else ""))
        return snap

    def _note_network(self, mode: str, net: Network, snap: Snapped) -> None:
        """Data-quality notes on a network and the cells attached to it."""
        pop = self.population.population
        info = net.info
        kept = (f"{info['ways_used']:,} of {info['highway_ways']:,} highway ways used for "
                f"{mode}" if "highway_ways" in info else f"network of {net.n_edges:,} edges")
        sizes = np.bincount(net.components)
        self.notes.info(f"network.{mode}", f"{kept}; {net.n_nodes:,} nodes, {net.n_edges:,} "
                        f"edges, {int(net.is_ferry.sum())} ferry route(s); {len(sizes)} "
                        f"connected part(s), the largest with {sizes.max() / net.n_nodes:.1%} "
                        "of the nodes (all parts are kept)")
        moved = snap.moved_code != 0
        if moved.any():
            kinds, which = np.unique(snap.moved[moved], return_inverse=True)
            people = np.bincount(which, weights=pop[moved])
            share = pop[moved].sum() / max(pop.sum(), 1e-12)
            self.notes.info(f"network.{mode}", f"{pop[moved].sum():,.0f} people ({share:.1%}) "
                            f"in {int(moved.sum()):,} cells are attached to a street other "
                            "than their nearest way: " + ", ".join(
                                f"{k} {p:,.0f}" for k, p in sorted(
                                    zip(kinds, people, strict=True), key=lambda kp: -kp[1]))
                            + f" people (access line longer by up to "
                            f"{snap.shift_m[moved].max():,.0f} m)")
        texts = {"too far": "farther than the snapping limit from every street",
                 "across water": "only reachable from a street across water",
                 "not eligible": "near only ways nobody steps onto from the surface "
                                 "(tunnels, indoor corridors, platforms)"}
        for why, text in texts.items():
            mask = snap.reason_code == REASONS.index(why)
            if mask.any():
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

    def service_areas(self, result: CoverageResult, per_facility: bool = False
                      ) -> ServiceAreasResult:
        """Service areas dissolved per layer, and per facility with ``per_facility``
        (:func:`equiserve.results.service_areas.service_areas`)."""
        return service_areas(self, result, per_facility)

    # -- helpers of the analyses

    def layer_cached(self, name: str, what: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` for layer ``name``, once per study and the studies sharing its
        layer cache (see ``_layer_cache``): only for what does not depend on people."""
        key = (name, what)
        if key not in self._layer_cache:
            self._layer_cache[key] = compute()
        return self._layer_cache[key]

    def od(self, name: str, cutoff: float | None = None) -> sp.csr_matrix:
        """Cell x facility costs of layer ``name`` within ``cutoff`` (default: its
        standard), in the standard's unit (m, or min for minute standards).

        Built once per layer and cutoff and shared by the analyses that ask (the
        scorecard's catchment and allocation, siting): the matrix is read-only."""
        layer = self.layers[name]
        std = layer.standard
        cutoff = float(std.limit if cutoff is None else cutoff)
        key = (name, cutoff)
        if key in self._layer_cache:
            return self._layer_cache[key]
        if std.mode is None:
            od = straight_line_od(self.population.xy, layer.access_xy,
                                  layer.access_facility, len(layer), cutoff)
        else:
            od = network_od(self.networks[std.mode], self.cell_snap(name),
                            self.facility_snaps[name], layer.access_facility, len(layer),
                            cutoff * std.search_scale, std.weight)
            od.data = od.data / std.search_scale
        for part in (od.data, od.indices, od.indptr):
            part.flags.writeable = False
        self._layer_cache[key] = od
        return od

    def forecast_totals(self) -> pd.DataFrame | None:
        """Population of each region in the base year and each year of ``[forecast]``
        (None without one), without development areas: today's people per region
        compounded by the annual growth of the region's name, else its group, else 0, or
        the projected total of ``totals`` (:func:`equiserve.analysis.forecast.
        project_totals`, :func:`~equiserve.analysis.forecast.apply_totals`: region, group,
        year, population, rate, rate_from)."""
        f = self.config.forecast
        if f is None:
            return None
        pop = self.population
        base = np.bincount(pop.region, weights=pop.population, minlength=len(self.regions.names))
        table = project_totals(base, self.regions.names, self.regions.groups, f.base_year,
                               f.all_years, f.growth)
        inputs = self.forecast_inputs
        return apply_totals(table, inputs.totals) if inputs is not None else table

    @property
    def forecast_years(self) -> tuple[int, ...]:
        """The base year and the target years of ``[forecast]`` (empty without one)."""
        f = self.config.forecast
        return f.all_years if f is not None else ()

    def development(self, year: int) -> np.ndarray:
        """New residents per cell in ``year``: each development area's, spread evenly over
        its cells (zeros without areas)."""
        out = np.zeros(len(self.population))
        for area in self.forecast_inputs.areas if self.forecast_inputs is not None else ():
            out[area.cells] = area.config.residents_in(year) / len(area.cells)
        return out

    def in_year(self, year: int) -> Study:
        """The study with the population forecast for ``year`` (the base year or one of
        ``[forecast] years``): each region's people grown to its total, subgroups at their
        shares, development residents in their areas' cells. Facilities, networks and
        attachments are shared (cost matrices too: they do not depend on people).

        Raises
        ------
        ConfigError
            No ``[forecast]``, a year it does not list, or a study not loaded with
            ``forecast=True``.
        """
        f, inputs = self.config.forecast, self.forecast_inputs
        if f is None or inputs is None:
            raise ConfigError("the study has no [forecast] table, or was not loaded with "
                              "Study.load(..., forecast=True)")
        if self.year is not None:
            raise ConfigError(f"the study is already the forecast of {self.year}; call "
                              "in_year on the study as loaded")
        if year not in f.all_years:
            raise ConfigError(f"year {year} is not a forecast year; [forecast] gives "
                              f"base_year {f.base_year} and years "
                              f"{', '.join(map(str, f.years))}")
        pop, reg = self.population, self.regions
        totals = self.forecast_totals()
        assert totals is not None
        at = totals[totals["year"] == year].set_index("region")["population"]
        development = self.development(year)
        dev_shares = {k: np.full(len(pop), np.nan) for k in pop.subgroups}
        for area in inputs.areas:
            for k, share in area.config.shares.items():
                dev_shares[k][area.cells] = share
        shares = share_arrays(inputs.shares, year, list(map(str, reg.names)),
                              list(map(str, reg.groups)), list(pop.subgroups))
        totals_now = at.reindex(reg.names).to_numpy(float)
        try:
            people, subgroups = project_cells(pop.population, pop.region, pop.subgroups,
                                              totals_now, development, shares, dev_shares)
        except ValueError:
            empty = [str(n) for n, b, t in zip(reg.names, np.bincount(
                pop.region, weights=pop.population, minlength=len(reg.names)), totals_now,
                strict=True) if b <= 0 < t]
            raise ConfigError(f"forecast.totals: region {empty[0]!r} has nobody today, so "
                              "there is nobody to grow; give its new residents as a "
                              "[[forecast.area]]") from None
        grid = replace(pop, population=people, subgroups=subgroups)
        study = replace(self, population=grid, year=year)
        object.__setattr__(study, "_layer_cache", self._layer_cache)  # not of people
        return study

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


def _reasons(moved: np.ndarray) -> str:
    """'tunnel 3, fragment 1' for the reasons of moved points."""
    kinds, counts = np.unique(moved, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return ", ".join(f"{kinds[i]} {counts[i]}" for i in order)
