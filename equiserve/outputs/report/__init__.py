"""The self-contained HTML report of any results: their sections, the map, the notes."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import jinja2
import pandas as pd

from equiserve._version import __version__
from equiserve.outputs.report.render import SectionRenderer
from equiserve.outputs.tables import notes_frame
from equiserve.results.formats import capitalised

if TYPE_CHECKING:
    from equiserve.results.base import Result, Subject

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("equiserve.outputs.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def render_report(study: Subject, *results: Result, notes: pd.DataFrame | None = None,
                  map_file: str | None = "map.html",
                  files: Sequence[tuple[str, str]] = (), subject: str | None = None) -> str:
    """The report of ``results`` on ``study`` as one HTML string.

    Every result's sections in order, then the map beside the report (``map_file``,
    embedded in a frame and linked; None: neither) and the data-quality ``notes`` (a
    table with level, subject, message and optionally run; default: the study's and the
    results' notes). ``files`` are (file name, what it holds) pairs linked at the top;
    ``subject`` what the report is about (default: the last result's heading, else
    "coverage report").
    """
    if notes is None:
        notes = notes_frame(study, results)
    renderer = SectionRenderer(study.regions.group_names)
    if subject is None:
        subject = next((r.heading for r in reversed(results) if r.heading), None)
    subject = subject or "coverage report"
    return _ENV.get_template("report.html.j2").render(
        study_name=study.config.name, subject=subject, meta=capitalised(subject),
        version=__version__, synthetic=study.config.synthetic,
        description=study.config.description,
        generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"), crs=study.crs.to_string(),
        sections=[renderer.section(s) for r in results for s in r.sections()],
        files=[{"name": n, "detail": d} for n, d in files], map_file=map_file,
        notes=notes.to_dict("records"), runs="run" in notes.columns,
    )


__all__ = ["render_report"]
