"""Whole runs from Python, as the ``equiserve report`` command does them: load a study,
run the analyses, write every output."""

from __future__ import annotations

import os
from pathlib import Path

from equiserve.config import StudyConfig
from equiserve.outputs import write
from equiserve.study import Progress, Study


def run_report(config: StudyConfig | str | os.PathLike[str], out_dir: str | os.PathLike[str],
               progress: Progress | None = None) -> dict[str, Path]:
    """Load a study, compute coverage, the equity scorecard and service areas, and write
    every output into ``out_dir`` (atomically: on an error nothing there changes).

    Returns a mapping of output file name to path.
    """
    study = Study.load(config, progress)
    cov = study.coverage(progress)
    if progress:
        progress("equity scorecard")
    equity = study.equity(cov)
    if progress:
        progress("service areas")
    return write(study, cov, equity, study.service_areas(cov), out_dir=out_dir,
                 progress=progress)
