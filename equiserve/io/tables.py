"""Read tables (CSV, TXT, TSV, Excel workbooks) as planners' files come: any encoding a
Chinese or Western spreadsheet saves, any sheet.

:func:`read_table` reads ``.csv``/``.txt``/``.tsv`` as UTF-8 (with or without a byte-order
mark), else as GB18030, the superset of GBK that Chinese Excel exports are written in (a
note says so); UTF-16 with a byte-order mark (Excel's "Unicode Text") is recognised. An
``encoding`` forces one. ``.xlsx`` (openpyxl) and ``.xls`` (python-calamine) workbooks are read from
their first sheet, or the one ``sheet`` names (by name, or by number from 1). Every
problem raises a DataError or ConfigError naming the file and the key.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pandas as pd

from equiserve.config.sources import TEXT_SUFFIXES, WORKBOOK_SUFFIXES
from equiserve.errors import ConfigError, DataError
from equiserve.notes import Notes

#: Every file ending :func:`read_table` reads.
TABLE_SUFFIXES = TEXT_SUFFIXES + WORKBOOK_SUFFIXES
#: The encoding tried when a file is not UTF-8 (GB18030 contains GBK and GB2312).
FALLBACK_ENCODING = "gb18030"

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def check_not_empty(path: Path, where: str) -> None:
    """Raise a DataError when ``path`` holds no bytes at all (an aborted export)."""
    if path.stat().st_size == 0:
        raise DataError(f"{where}: {path.name} is empty (0 bytes); export or copy the file "
                        f"again ({path})")


def read_table(path: Path, *, where: str, encoding: str | None = None,
               sheet: str | int | None = None, sep: str | None = None,
               notes: Notes | None = None, subject: str | None = None,
               allow_empty: bool = False) -> pd.DataFrame:
    """Read a delimited text file or an Excel sheet into a DataFrame.

    Parameters
    ----------
    path : Path
        A ``.csv``, ``.txt``, ``.tsv``, ``.xlsx`` or ``.xls`` file.
    where : str
        The key naming the table in messages, e.g. ``"[layers.schools] source"``.
    encoding : str, optional
        The text encoding to read with (e.g. ``"gb18030"``, ``"big5"``); by default UTF-8,
        else GB18030. Not used for workbooks.
    sheet : str or int, optional
        A workbook's sheet by name, or by number counted from 1; by default the first.
    sep : str, optional
        The delimiter of a text file; by default a tab for ``.tsv`` (and for a ``.txt``
        whose header has tabs and no commas), else a comma.
    notes : Notes, optional
        Receives the notes on how the file was read (the encoding guessed, the sheet
        chosen among several).
    subject : str, optional
        The notes' subject (default: ``where``).
    allow_empty : bool
        Return a table with a header and no rows (one file of several) instead of
        refusing it.

    Returns
    -------
    pandas.DataFrame
        The rows, with the first row as the header.

    Raises
    ------
    DataError
        If the file is empty, has no rows, or does not decode.
    ConfigError
        If ``encoding`` is not a known codec, or ``sheet`` is not in the workbook.
    """
    notes = Notes() if notes is None else notes
    subject = where if subject is None else subject
    check_not_empty(path, where)
    if path.name.lower().endswith(WORKBOOK_SUFFIXES):
        df = _read_excel(path, where, sheet, notes, subject)
    else:
        text = _decode(path, where, encoding, notes, subject)
        df = _parse_text(text, path, where, sep)
    if df.empty and not allow_empty:
        raise DataError(f"{where}: {path.name} has no rows (only a header, or nothing); "
                        "check that the file holds the data")
    return df


# ---------------------------------------------------------------------------------------
# text


def _decode(path: Path, where: str, encoding: str | None, notes: Notes, subject: str) -> str:
    """The text of ``path``: in ``encoding``, else by its byte-order mark, UTF-8, GB18030."""
    data = path.read_bytes()
    if encoding is not None:
        return _decode_as(data, path, where, _codec(encoding, where), given=encoding)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_as(data, path, where, codec)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _refuse_mixed(data, exc, path, where)
    try:
        text = data.decode(FALLBACK_ENCODING)
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: {path.name} is neither UTF-8 nor GB18030 (GBK) text "
                        f"({_position(exc)}); set encoding = \"...\" to the one it was "
                        "saved in (e.g. \"big5\", \"cp1252\"), or save it as UTF-8"
                        ) from None
    notes.info(subject, f"{path.name} is not UTF-8; read as GB18030 (GBK); set "
               "encoding = \"...\" to choose")
    return text


def _refuse_mixed(data: bytes, exc: UnicodeDecodeError, path: Path, where: str) -> None:
    """Refuse a file that is UTF-8 but for a few bytes (a row pasted from a GBK file):
    read as GB18030 it would turn every Chinese character into others, silently.

    GBK text holds a UTF-8 sequence only by chance (山 is C9 BD, also ɽ in UTF-8), so a
    file counts as mixed when its valid multi-byte characters outnumber its invalid bytes
    five to one.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if good >= 5 * bad:
        line = data[:exc.start].count(b"\n") + 1
        raise DataError(f"{where}: {path.name} is UTF-8 but for {bad} invalid byte "
                        f"sequence(s), the first on line {line} ({_position(exc)}); retype or "
                        "re-save those rows as UTF-8 (a row pasted from a GBK file?)")


def _codec(encoding: str, where: str) -> str:
    """The codec of ``encoding`` (UTF-8 made to drop a byte-order mark)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"{where}: encoding = {encoding!r} is not a known encoding; use "
                          "e.g. \"utf-8\", \"gb18030\" (GBK), \"big5\" or \"cp1252\""
                          ) from None
    return "utf-8-sig" if name == "utf-8" else name


def _decode_as(data: bytes, path: Path, where: str, codec: str,
               given: str | None = None) -> str:
    """``data`` decoded with ``codec``: the ``encoding`` the user ``given``, else the one
    its byte-order mark says."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        if given is None:
            raise DataError(f"{where}: {path.name} starts with a {codec} byte-order mark but "
                            f"is not {codec} ({_position(exc)}); save it again as UTF-8"
                            ) from None
        same = codecs.lookup(codec).name.removesuffix("-sig")
        others = [e for e in ("utf-8", "gb18030") if e != same]
        maybe = " or ".join(o.upper() for o in others)
        raise DataError(f"{where}: {path.name} does not decode as {given} "
                        f"({_position(exc)}); it may be {maybe}: set encoding = "
                        f"\"{others[0]}\", or leave encoding out to have it guessed") from None


def _position(exc: UnicodeDecodeError) -> str:
    return f"byte 0x{exc.object[exc.start]:02x} at position {exc.start}"


def _parse_text(text: str, path: Path, where: str, sep: str | None) -> pd.DataFrame:
    if not text.strip():
        raise DataError(f"{where}: {path.name} has no rows (only blank lines); check that "
                        "the file holds the data")
    sep = _separator(text, path) if sep is None else sep
    try:
        return pd.read_csv(io.StringIO(text), sep=sep)
    except Exception as exc:  # pandas raises several types for malformed text
        raise DataError(f"{where}: cannot read {path.name} as a table separated by "
                        f"{sep!r}: {exc}") from None


def _separator(text: str, path: Path) -> str:
    """A tab for ``.tsv``, and for a ``.txt`` whose header has tabs but no commas."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    header = text.split("\n", 1)[0]
    if path.suffix.lower() == ".txt" and "\t" in header and "," not in header:
        return "\t"
    return ","


# ---------------------------------------------------------------------------------------
# workbooks


def _read_excel(path: Path, where: str, sheet: str | int | None, notes: Notes,
                subject: str) -> pd.DataFrame:
    book = _open_workbook(path, where)
    with book:
        names = [str(n) for n in book.sheet_names]
        chosen = _pick_sheet(names, sheet, path, where)
        if sheet is None and len(names) > 1:
            notes.info(subject, f"{path.name} has {len(names)} sheets ({', '.join(names)}); "
                       f"read the first, {chosen!r}; choose another with sheet = \"...\"")
        try:
            return pd.read_excel(book, sheet_name=chosen)
        except Exception as exc:
            raise DataError(f"{where}: cannot read sheet {chosen!r} of {path.name}: {exc}"
                            ) from None


def _open_workbook(path: Path, where: str) -> pd.ExcelFile:
    engine, package = (("calamine", "python-calamine") if path.suffix.lower() == ".xls"
                       else ("openpyxl", "openpyxl"))
    try:
        return pd.ExcelFile(path, engine=engine)
    except ImportError:
        raise DataError(f"{where}: reading {path.name} needs the {package} package; install "
                        f"it (pip install {package}) or save the workbook as .xlsx or CSV"
                        ) from None
    except Exception as exc:
        raise DataError(f"{where}: cannot open {path.name} as an Excel workbook: {exc}; "
                        "save it again from Excel, or as CSV") from None


def _pick_sheet(names: list[str], sheet: str | int | None, path: Path, where: str) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) and 1 <= sheet <= len(names):
        return names[sheet - 1]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    raise ConfigError(f"{where}: sheet = {sheet!r} is not in {path.name}; its sheets: "
                      f"{', '.join(repr(n) for n in names)} (by name, or by number from 1)")
