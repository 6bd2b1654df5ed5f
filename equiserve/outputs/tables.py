"""Tables of results as files: CSVs, GeoPackage layers, workbook sheets, data_quality.csv."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from equiserve.results.base import OutputTable

if TYPE_CHECKING:
    from equiserve.results.base import Result
    from equiserve.study import Study

NOTES_FILE = "data_quality.csv"
NOTES_SHEET = "data_quality"
#: A text cell starting with one of these is read by spreadsheets as a formula (OWASP's
#: CSV injection list): such cells get a leading ``'``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Files:
    """The tables of several results by the file they go to, each once: a later table
    with the same CSV, GeoPackage layer or sheet replaces the earlier one in its place."""

    csv: dict[str, OutputTable] = field(default_factory=dict)
    gpkg: dict[str, dict[str, OutputTable]] = field(default_factory=dict)
    workbooks: dict[str, dict[str, OutputTable]] = field(default_factory=dict)

    @classmethod
    def of(cls, results: Sequence[Result]) -> Files:
        files = cls()
        for r in results:
            for t in r.tables():
                if t.csv:
                    files.csv[t.csv] = t
                if t.gpkg:
                    files.gpkg.setdefault(t.gpkg, {})[t.name] = t
                if t.workbook:
                    files.workbooks.setdefault(t.workbook, {})[t.name] = t
        for name, sheets in files.workbooks.items():  # reference tables after the figures
            files.workbooks[name] = dict(sorted(sheets.items(), key=lambda kv: kv[1].position))
        return files

    def names(self) -> list[tuple[str, str]]:
        """(file name, what it holds) of every file, CSVs first."""
        return ([(n, "") for n in self.csv] + [(NOTES_FILE, "data-quality notes")]
                + [(n, "sheets " + ", ".join([*s, NOTES_SHEET]))
                   for n, s in self.workbooks.items()]
                + [(n, "layers " + ", ".join(lay)) for n, lay in self.gpkg.items()])


def notes_frame(study: Study, results: Sequence[Result]) -> pd.DataFrame:
    """The study's (loading) notes and every result's, each once: level, subject, message,
    and ``run`` first when some result's notes belong to a run (a scenario's baseline or
    plan; the loading notes are then "both")."""
    runs = any(n.run for r in results for n in r.notes)
    rows, seen = [], set()
    for note in [*study.notes, *[n for r in results for n in r.notes]]:
        row = ((note.run or "both",) if runs else ()) + (note.level, note.subject,
                                                         note.message)
        if row not in seen:
            seen.add(row)
            rows.append(row)
    return pd.DataFrame(rows, columns=(["run"] if runs else [])
                        + ["level", "subject", "message"])


def sheet(t: OutputTable) -> pd.DataFrame:
    """A table as a workbook sheet: without geometry."""
    return pd.DataFrame(t.frame.drop(columns="geometry")) if "geometry" in t.frame else t.frame


def _quoted(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cannot run as a spreadsheet formula.

    A string cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    (a facility named ``=HYPERLINK("http://x","y")``) gets a leading ``'``, as OWASP's
    CSV-injection guidance says; spreadsheets then show it as text. Only text columns
    (object, string, categorical) are read: numbers, a negative one too, stay as they are.
    The workbooks need none of this: they store every string as text (``outputs.excel``).

    >>> safe_text(pd.DataFrame({"name": ["=1+1", "-ok", "ok"], "d": [-1.5, 2, 3]}))
        name    d
    0  '=1+1 -1.5
    1   '-ok  2.0
    2     ok  3.0
    """
    out = frame.copy()
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype):
            out.isetitem(j, s.astype(object).map(_quoted))
    return out


def write_csv(t: OutputTable, path: Path) -> None:
    """``t`` as a CSV at ``path``, its text made safe for spreadsheets (:func:`safe_text`)."""
    safe_text(t.frame).to_csv(path, index=False, float_format=t.float_format)


def write_gpkg(layers: dict[str, OutputTable], path: Path) -> None:
    for name, t in layers.items():
        t.frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
