"""Whole runs from Python, as the ``equiserve report`` command does them: load a study,
run the analyses, write every output."""

from __future__ import annotations

import os
from pathlib import Path

from equiserve.config import StudyConfig
from equiserve.config.types import ServiceAreas
from equiserve.outputs import write
from equiserve.outputs.tables import CellGeometry, TableFormat
from equiserve.results.coverage import CoverageResult
from equiserve.results.equity import EquityResult
from equiserve.results.service_areas import ServiceAreasResult
from equiserve.study import Progress, Study


def run_report(config: StudyConfig | str | os.PathLike[str], out_dir: str | os.PathLike[str],
               progress: Progress | None = None, service_areas: ServiceAreas = "dissolved",
               cells: CellGeometry = "points", table_format: TableFormat = "gpkg"
               ) -> dict[str, Path]:
    """Load a study, compute coverage, the equity scorecard and service areas (dissolved
    per layer by default; see :data:`~equiserve.config.types.ServiceAreas`), and write
    every output into ``out_dir`` (atomically: on an error nothing there changes).
    ``cells`` and ``table_format`` are :func:`~equiserve.outputs.write`'s: the cells as
    points or polygons, in coverage.gpkg or GeoParquet files.

    Returns a mapping of output file name to path.
    """
    study = Study.load(config, progress)
    results = report_results(study, progress, service_areas)
    return write(study, *results, out_dir=out_dir, progress=progress, cells=cells,
                 table_format=table_format)


def report_results(study: Study, progress: Progress | None = None,
                   service_areas: ServiceAreas = "dissolved"
                   ) -> tuple[CoverageResult, EquityResult, *tuple[ServiceAreasResult, ...]]:
    """The results ``equiserve report`` writes: coverage, the equity scorecard and
    (unless ``service_areas`` is "none") the service areas."""
    step = progress or (lambda _msg: None)
    cov = study.coverage(progress)
    step("equity scorecard")
    equity = study.equity(cov)
    if service_areas == "none":
        return cov, equity
    step("service areas")
    return cov, equity, study.service_areas(cov, per_facility=service_areas == "per-facility")
