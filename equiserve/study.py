"""The Study: loads a configured study once, runs the analyses and holds their results.

    study.toml -> StudyConfig -> Study.load() -> regions, population grid, facility layers
               -> Study.coverage() -> CoverageResult (arrays per layer + summary table)
               -> equiserve.report.write_outputs(...)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from equiserve.config import StudyConfig, load_config
from equiserve.coverage import coverage_table, nearest_facility
from equiserve.coverage.summary import SUMMARY_COLUMNS
from equiserve.errors import ConfigError
from equiserve.facilities import FacilityLayer, load_facility_layer
from equiserve.notes import Notes
from equiserve.population import PopulationGrid, load_population
from equiserve.regions import Regions, load_regions

#: Called with a short description before each step of a long run.
Progress = Callable[[str], None]

DISTANCE_METHOD = "straight_line"


@dataclass
class LayerCoverage:
    """Per-cell coverage of one layer, aligned with the population grid.

    ``distance_m`` is the straight-line distance to the nearest facility, ``facility`` its
    row in the layer's facilities, ``covered`` whether the distance meets the standard,
    and ``weights`` the people counted for this layer (total or its subgroup).
    """

    distance_m: np.ndarray
    facility: np.ndarray
    covered: np.ndarray
    weights: np.ndarray


@dataclass
class CoverageResult:
    """Coverage of every layer and the long-format summary table."""

    layers: dict[str, LayerCoverage]
    summary: pd.DataFrame


@dataclass
class Study:
    """A loaded study: configuration, regions, population grid and facility layers."""

    config: StudyConfig
    regions: Regions
    population: PopulationGrid
    layers: dict[str, FacilityLayer]
    notes: Notes = field(default_factory=Notes)

    @property
    def crs(self) -> pyproj.CRS:
        """The working CRS (projected, metres)."""
        return self.regions.crs

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
        return cls(cfg, regions, population, layers, notes)

    def coverage(self, progress: Progress | None = None) -> CoverageResult:
        """Distance to the nearest facility of every layer for every cell, and the summary."""
        step = progress or (lambda _msg: None)
        pop = self.population
        cells = pop.xy
        per_layer: dict[str, LayerCoverage] = {}
        tables = []
        for name, layer in self.layers.items():
            step(f"coverage: {name}")
            dist, fac = nearest_facility(cells, layer.access_xy, layer.access_facility)
            weights = pop.counts(layer.serves)
            per_layer[name] = LayerCoverage(dist, fac, dist <= layer.standard.distance_m, weights)
            table = coverage_table(dist, layer.standard.distance_m, weights, pop.region,
                                   self.regions.names, self.regions.groups)
            table.insert(0, "layer", name)
            table["kind"] = layer.kind
            table["population_basis"] = layer.serves or "total"
            table["standard"] = layer.standard.describe()
            table["standard_m"] = layer.standard.distance_m
            table["distance_method"] = DISTANCE_METHOD
            table["facilities"] = self._facility_counts(layer, table)
            tables.append(table)
        summary = pd.concat(tables, ignore_index=True)[SUMMARY_COLUMNS]
        return CoverageResult(per_layer, summary)

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


def run_report(config: StudyConfig | str | os.PathLike[str], out_dir: str | os.PathLike[str],
               progress: Progress | None = None) -> dict[str, Path]:
    """Load a study, compute coverage and write every output into ``out_dir``.

    Returns a mapping of output name to path. Outputs are written atomically: on an error
    nothing in ``out_dir`` changes.
    """
    from equiserve.report import write_outputs

    study = Study.load(config, progress)
    result = study.coverage(progress)
    return write_outputs(study, result, out_dir, progress)
