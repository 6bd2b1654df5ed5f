"""The one writer: every output of any results, into one folder, atomically.

    write(study, *results, out_dir, prefix="", cells="points", table_format="gpkg")
        CSVs, data_quality.csv, workbooks (About + sheets + data_quality), GeoPackages
        (and GeoParquet files), <prefix>report.html and <prefix>map.html

The folder is checked first (:func:`~equiserve.io.atomic.check_output_dir`) and locked
against other runs (:func:`~equiserve.io.atomic.output_lock`, re-entrant: the CLI holds
it already). Files are written into a temporary folder beside ``out_dir`` and moved in
all together only when all are complete; on an error ``out_dir`` is left as it was, and
files already there that the run does not write are never touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from equiserve.io.atomic import atomic_output_dir, check_output_dir, output_lock
from equiserve.outputs.excel import write_xlsx
from equiserve.outputs.maps import BaseMap, save_map, study_map
from equiserve.outputs.report import render_report
from equiserve.outputs.tables import (
    NOTES_FILE,
    NOTES_SHEET,
    CellGeometry,
    Files,
    TableFormat,
    check_choice,
    notes_frame,
    safe_text,
    sheet,
    write_csv,
    write_gpkg,
    write_parquet,
)
from equiserve.timings import TIMINGS_FILE, Timings

if TYPE_CHECKING:
    from collections.abc import Callable

    from equiserve.results.base import Result, Subject

#: Progress steps of :func:`write`.
WRITE_STEPS = 4


def write(study: Subject, *results: Result, out_dir: str | os.PathLike[str], prefix: str = "",
          basemap: BaseMap | None | Literal["config"] = "config",
          progress: Callable[[str], None] | None = None,
          timings: Timings | None = None, cells: CellGeometry = "points",
          table_format: TableFormat = "gpkg") -> dict[str, Path]:
    """Write every table, the report and the map of ``results`` into ``out_dir``.

    Parameters
    ----------
    study : Study or another Subject
        What the results are about: the study they were computed on (its loading notes,
        name and CRS), or a batch's province.
    *results : Result
        Any results (coverage, equity, service areas, sites, a scenario), drawn in order.
    prefix : str
        Of the report and map files: ``""`` gives report.html and map.html, ``"sites_"``
        sites_report.html and sites_map.html.
    basemap : BaseMap, None or "config"
        The map's tiles (None: none, works offline; "config": the study's ``[map]``).
    timings : Timings, optional
        The run's stages so far (the command line's): written to timings.csv, up to and
        including the writing.
    cells : "points" or "polygons"
        Per-cell layers (coverage.gpkg ``cells``, ``gaps``) as the cells' centres
        (default: small, quick) or their shapes.
    table_format : "gpkg" or "parquet"
        "parquet": the per-cell layers as GeoParquet files (cells.parquet, gaps.parquet)
        instead of GeoPackage layers; the other layers stay in the GeoPackage.

    Returns
    -------
    dict
        File name -> path of every file written.

    Raises
    ------
    DataError
        If ``out_dir`` cannot be written (checked before anything is drawn), another run
        writes into it, or a file could not be written or replaced (nothing changed then).
    """
    step = progress or (lambda _msg: None)
    check_choice(cells, get_args(CellGeometry), "cells")
    check_choice(table_format, get_args(TableFormat), "format")
    out = check_output_dir(out_dir)
    files = Files.of(results, table_format)
    polygons = cells == "polygons"
    notes = notes_frame(study, results)
    report, map_file = f"{prefix}report.html", f"{prefix}map.html"
    heading = next((r.heading for r in reversed(results) if r.heading), None)
    with output_lock(out), atomic_output_dir(out) as tmp:
        step("writing tables")
        for name, t in files.csv.items():
            write_csv(t, tmp / name)
        safe_text(notes).to_csv(tmp / NOTES_FILE, index=False)
        about: dict[str, str] = {}
        for r in results:
            about.update(r.about())
        for name, sheets in files.workbooks.items():
            write_xlsx({**{s: sheet(t) for s, t in sheets.items()}, NOTES_SHEET: notes},
                       tmp / name, notes=about or {"study": study.config.name})
        step("writing GeoPackages")
        for name, layers in files.gpkg.items():
            write_gpkg(layers, tmp / name, polygons)
        for name, t in files.parquet.items():
            write_parquet(t, tmp / name, polygons)
        step(f"writing {report}")
        (tmp / report).write_text(render_report(study, *results, notes=notes,
                                                map_file=map_file, files=files.names(),
                                                subject=heading), encoding="utf-8")
        step(f"writing {map_file}")
        fmap = study_map(study, *results, basemap=basemap,
                         title=f"{study.config.name}: {heading}" if heading else None)
        save_map(fmap, tmp / map_file)
        if timings is not None:  # last, so that it holds the writing too
            timings.close()
            timings.frame().to_csv(tmp / TIMINGS_FILE, index=False, float_format="%.3f")
    names = [*files.csv, NOTES_FILE, *files.workbooks, *files.gpkg, *files.parquet, report,
             map_file,
             *([TIMINGS_FILE] if timings is not None else [])]
    return {n: out / n for n in names}
