"""summary.xlsx: the run's tables as one workbook for planners who work in spreadsheets.

One sheet per table, with a bold, frozen header row, an auto-filter and fitted column
widths. Values are written as they are: numbers stay numbers, with every digit (a float
reads back bit for bit; only its display format is chosen), with these rules:

- NaN, None, ``pd.NA`` and ``NaT`` become empty cells;
- ``+inf`` becomes the text ``"unreachable"`` (distances and times to a facility that
  cannot be reached), ``-inf`` the text ``"-inf"`` (Excel has no infinity);
- booleans become Excel's TRUE / FALSE;
- every string is stored as text, never as a formula: a name such as
  ``=HYPERLINK("http://x")`` from a user's file shows as written and cannot run (cells
  starting with ``=``, ``+``, ``-`` or ``@`` also get Excel's quote prefix, so editing
  them does not turn them into formulas); characters XML cannot hold (control
  characters) are dropped and strings are cut at Excel's 32,767 characters;
- datetimes with a time zone are written as ISO text (Excel has no time zones); other
  objects (geometries, lists) as their ``str``.

A frame's index is written as its first column(s) unless it is an unnamed
``RangeIndex``.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["ABOUT_SHEET", "UNREACHABLE", "sheet_names", "write_xlsx"]

#: Name of the optional first sheet holding ``notes``.
ABOUT_SHEET = "About"
#: Text written for ``+inf`` (a facility that cannot be reached).
UNREACHABLE = "unreachable"

_MAX_NAME = 31  # Excel's limit on sheet names
_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
_MAX_TEXT = 32_767  # Excel's limit on characters in a cell
_MAX_WIDTH = 50
_FORMULA_START = ("=", "+", "-", "@")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _sheet_name(name: object) -> str:
    """A valid sheet name: forbidden characters replaced, no edge apostrophes, <= 31 chars."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(name)).translate(_FORBIDDEN)
    text = text[:_MAX_NAME].strip("'").strip()
    return text or "Sheet"


def sheet_names(names: list[object], reserved: tuple[str, ...] = ()) -> list[str]:
    """Valid, unique sheet names for ``names``, in order.

    Excel forbids ``[]:*?/\\``, names over 31 characters, names starting or ending with
    an apostrophe and two names differing only in case. A forbidden character becomes
    ``_``; a name already taken (or in ``reserved``) gets `` (2)``, `` (3)``, ... with
    the base cut so the whole stays within 31 characters.

    >>> sheet_names(["a/b", "A_B", "x" * 40, "x" * 35])
    ['a_b', 'A_B (2)', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxxxxxxxxxxxxxxxxxxxxxxxx (2)']
    """
    taken = {r.casefold() for r in reserved}
    out = []
    for name in names:
        base = _sheet_name(name)
        candidate, i = base, 1
        while candidate.casefold() in taken or candidate.casefold() == "history":
            i += 1  # "History" is reserved by Excel as well
            suffix = f" ({i})"
            candidate = base[:_MAX_NAME - len(suffix)].rstrip().rstrip("'") + suffix
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def _text(s: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", s)[:_MAX_TEXT]


def _value(v: object) -> object:
    """One cell value in a form openpyxl stores faithfully (see the module notes)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f):
            return None
        if math.isinf(f):
            return UNREACHABLE if f > 0 else "-inf"
        return f
    if isinstance(v, str):
        return _text(v)
    if isinstance(v, _dt.datetime | _dt.date | _dt.time):
        stamp: _dt.datetime | _dt.date | _dt.time = (
            v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
        if getattr(stamp, "tzinfo", None) is not None:
            return stamp.isoformat()
        return stamp
    if isinstance(v, np.datetime64):
        return _value(pd.Timestamp(v)) if not np.isnat(v) else None
    try:
        if pd.isna(v):  # other missing markers (e.g. decimal NaN)
            return None
    except (TypeError, ValueError):  # array-likes
        pass
    return _text(str(v))


def _column(s: pd.Series) -> list[object]:
    """The cell values of one column (fast paths for plain NumPy dtypes)."""
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else "O"
    if kind in "biu":
        return s.tolist()  # Python bools / ints
    if kind == "f":
        values = s.to_numpy(dtype=float)
        out: list[object] = values.tolist()
        bad = np.flatnonzero(~np.isfinite(values))
        for i in bad.tolist():
            out[i] = _value(values[i])
        return out
    return [_value(v) for v in s.astype(object).tolist()]


def _float_format(values: list[object]) -> str:
    """Display format of a float column: whole numbers, or about three significant digits.

    Only the display: the stored values keep full precision.
    """
    xs = np.array([v for v in values if type(v) is float], dtype=float)
    if len(xs) == 0 or np.all(xs == np.round(xs)):
        return "#,##0"
    nonzero = np.abs(xs[xs != 0])
    if len(nonzero) and np.median(nonzero) < 1:
        return "0.0#####"
    return "#,##0.0##"


def _width(v: object) -> int:
    """Characters a value takes on screen (East Asian wide characters count two)."""
    if v is None:
        return 0
    if isinstance(v, float):
        text = f"{v:,.3f}".rstrip("0").rstrip(".")
    elif isinstance(v, bool):
        text = "FALSE"
    else:
        text = str(v)
    line = max(text.split("\n"), key=len)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """The index as leading columns (unless a plain unnamed RangeIndex); flat headers."""
    idx = frame.index
    if not (isinstance(idx, pd.RangeIndex) and idx.name is None):
        names = [n if n is not None else ("index" if idx.nlevels == 1 else f"level_{i}")
                 for i, n in enumerate(idx.names)]
        frame = frame.copy()
        frame.index = frame.index.set_names(names)
        frame = frame.reset_index(allow_duplicates=True)
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy()
        frame.columns = [" / ".join(str(p) for p in col if str(p) != "") for col in
                         frame.columns]
    return frame


def _put(ws: Worksheet, row: int, col: int, value: object, number_format: str | None = None,
         bold: bool = False, wrap: bool = False) -> None:
    """Write one cell.

    A string is never a formula. A float is written with all the digits that give it back
    exactly (``repr``): openpyxl would write ``%.16g``, which can change the last bit.
    """
    if value is None and not wrap:
        return
    cell = ws.cell(row=row, column=col)
    if type(value) is float:
        cell.value = repr(value)
        cell.data_type = "n"  # the writer puts a str value into <v> unchanged
    else:
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would store "=..." as a formula
            if value.startswith(_FORMULA_START):
                cell.quotePrefix = True  # and editing it in Excel keeps it text
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = _BOLD
    if wrap:
        cell.alignment = _WRAP


def _write_sheet(ws: Worksheet, header: list[object], columns: list[list[object]],
                 wrap_last: bool = False) -> None:
    """Header and columns into an empty sheet, with widths, frozen header and filter."""
    n_rows = len(columns[0]) if columns else 0
    header = [_text(h) if isinstance(h, str) else _value(h) for h in header]
    for j, (name, values) in enumerate(zip(header, columns, strict=True), start=1):
        _put(ws, 1, j, name, bold=True)
        fmt = _float_format(values) if any(type(v) is float for v in values) else None
        wrap = wrap_last and j == len(header)
        for i, v in enumerate(values, start=2):
            _put(ws, i, j, v, fmt if type(v) is float else None, wrap=wrap)
        widest = max([_width(name)] + [_width(v) for v in values])
        width = 80 if wrap else min(_MAX_WIDTH, widest + 2)
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A2"
    if header:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{n_rows + 1}"


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str],
               notes: Mapping[str, str] | None = None) -> Path:
    """Write ``tables`` to one Excel workbook at ``path``, one sheet each, atomically.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Sheet name -> table, written in this order. Names are made valid and unique
        (see :func:`sheet_names`).
    path : path-like
        The ``.xlsx`` file to write; its folder is created if needed. An existing file
        is replaced only once the new one is complete.
    notes : mapping of str to str, optional
        If given (even empty), a first sheet ``About`` with two columns ``item`` and
        ``value`` (study name, generation time, what the units mean, ...).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``tables`` is empty.
    TypeError
        If a table is not a DataFrame.
    """
    if not tables:
        raise ValueError("write_xlsx needs at least one table; got none")
    for name, frame in tables.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} must be a pandas DataFrame; got "
                            f"{type(frame).__name__}")
    out = Path(path).expanduser()
    reserved = (ABOUT_SHEET,) if notes is not None else ()
    names = sheet_names(list(tables), reserved)

    wb = Workbook()
    wb.remove(wb.active)
    if notes is not None:
        ws = wb.create_sheet(ABOUT_SHEET)
        _write_sheet(ws, ["item", "value"],
                     [[_value(str(k)) for k in notes], [_value(v) for v in notes.values()]],
                     wrap_last=True)
    for name, frame in zip(names, tables.values(), strict=True):
        flat = _flat(frame)
        ws = wb.create_sheet(name)
        _write_sheet(ws, list(flat.columns), [_column(flat.iloc[:, j])
                                              for j in range(flat.shape[1])])

    out.parent.mkdir(parents=True, exist_ok=True)
    # a private folder beside the target: same file system for os.replace, and the file
    # gets the usual permissions (a mkstemp file would be private to the user)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        tmp = tmp_dir / out.name
        wb.save(tmp)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out
