"""Whole runs from Python, as the ``equiserve report`` command does them: load a study,
run the analyses, write every output."""

from __future__ import annotations

import os
from pathlib import Path

from equiserve.config import StudyConfig
from equiserve.config.types import ServiceAreas
from equiserve.outputs import write
from equiserve.outputs.tables import CellGeometry, TableFormat
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
    cov = study.coverage(progress)
    if progress:
        progress("equity scorecard")
    equity = study.equity(cov)
    areas = []
    if service_areas != "none":
        if progress:
            progress("service areas")
        areas = [study.service_areas(cov, per_facility=service_areas == "per-facility")]
    return write(study, cov, equity, *areas, out_dir=out_dir, progress=progress, cells=cells,
                 table_format=table_format)
