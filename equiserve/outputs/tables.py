"""Tables of results as files: CSVs, GeoPackage layers (and views), GeoParquet files,
workbook sheets, data_quality.csv.

GeoPackage layers and GeoParquet files are written from Arrow tables (:func:`arrow_table`):
numbers and booleans as they are, categories as dictionaries (each name once), geometry
as WKB (points encoded straight from their coordinates). A layer goes to GDAL in one
``pyogrio.write_arrow`` call, one transaction, its R-tree spatial index built at the end
(QGIS needs it); a :class:`~equiserve.results.base.View` is a SQL view over another layer
of the file, registered in ``gpkg_contents`` and ``gpkg_geometry_columns``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from geopandas.array import GeometryDtype

from equiserve.results.base import OutputTable, View, sql_name

if TYPE_CHECKING:
    from equiserve.results.base import Result, Subject

#: Where the per-cell layers go: GeoPackage layers, or GeoParquet files (``--format``).
TableFormat = Literal["gpkg", "parquet"]
#: The cells as their centres (points) or their shapes (polygons) (``--cells``).
CellGeometry = Literal["points", "polygons"]

NOTES_FILE = "data_quality.csv"
NOTES_SHEET = "data_quality"
#: A text cell starting with one of these is read by spreadsheets as a formula (OWASP's
#: CSV injection list): such cells get a leading ``'``.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    """A clear error for a value of ``--format`` or ``--cells`` that is not one of
    ``choices``.

    >>> check_choice("csv", ("gpkg", "parquet"), "format")
    Traceback (most recent call last):
    ...
    ValueError: format must be one of gpkg, parquet, not 'csv'
    """
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, not {value!r}")


@dataclass
class Files:
    """The tables of several results by the file they go to, each once: a later table
    with the same CSV, GeoPackage layer, GeoParquet file or sheet replaces the earlier one
    in its place. With ``table_format="parquet"`` a table that names a ``parquet`` file
    goes there instead of its GeoPackage layer."""

    csv: dict[str, OutputTable] = field(default_factory=dict)
    gpkg: dict[str, dict[str, OutputTable]] = field(default_factory=dict)
    workbooks: dict[str, dict[str, OutputTable]] = field(default_factory=dict)
    parquet: dict[str, OutputTable] = field(default_factory=dict)

    @classmethod
    def of(cls, results: Sequence[Result], table_format: TableFormat = "gpkg") -> Files:
        files = cls()
        for r in results:
            for t in r.tables():
                if t.csv:
                    files.csv[t.csv] = t
                if t.gpkg and t.parquet and table_format == "parquet":
                    files.parquet[t.parquet] = t
                elif t.gpkg:
                    files.gpkg.setdefault(t.gpkg, {})[t.name] = t
                if t.workbook:
                    files.workbooks.setdefault(t.workbook, {})[t.name] = t
        for name, sheets in files.workbooks.items():  # reference tables after the figures
            files.workbooks[name] = dict(sorted(sheets.items(), key=lambda kv: kv[1].position))
        return files

    def names(self) -> list[tuple[str, str]]:
        """(file name, what it holds) of every file, CSVs first."""
        def layer(name: str, t: OutputTable, layers: dict[str, OutputTable]) -> str:
            return f"{name} [a view of {t.view.source}]" if name in views(layers) and t.view \
                else name

        return ([(n, "") for n in self.csv] + [(NOTES_FILE, "data-quality notes")]
                + [(n, "sheets " + ", ".join([*s, NOTES_SHEET]))
                   for n, s in self.workbooks.items()]
                + [(n, "layers " + ", ".join(layer(k, t, lay) for k, t in lay.items()))
                   for n, lay in self.gpkg.items()]
                + [(n, f"GeoParquet: {t.name}") for n, t in self.parquet.items()])


def notes_frame(study: Subject, results: Sequence[Result]) -> pd.DataFrame:
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
    frame = t.data()
    return pd.DataFrame(frame.drop(columns="geometry")) if "geometry" in frame else frame


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
    safe_text(t.data()).to_csv(path, index=False, float_format=t.float_format)


# ---------------------------------------------------------------------------------------
# GeoPackage and GeoParquet

#: GDAL's setting of SQLite's ``PRAGMA synchronous`` (:func:`_no_fsync`).
SQLITE_SYNC = "OGR_SQLITE_SYNCHRONOUS"
#: The geometry column of the GeoPackage layers (GDAL's default) and GeoParquet files.
GPKG_GEOMETRY, PARQUET_GEOMETRY = "geom", "geometry"
#: shapely type ids -> names (GDAL's and GeoParquet's).
_TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
          6: "MultiPolygon", 7: "GeometryCollection"}
#: A single-part type id -> its multi-part type id and maker.
_MULTI = {0: (4, shapely.multipoints), 1: (5, shapely.multilinestrings),
          3: (6, shapely.multipolygons)}


def point_wkb(xy: np.ndarray) -> pa.Array:
    """WKB of 2-D points straight from their coordinates (21 bytes each: byte order,
    type 1, x, y), as shapely writes them.

    >>> wkb = point_wkb(np.array([[1.0, 2.0]]))
    >>> wkb[0].as_py() == shapely.to_wkb(shapely.Point(1, 2))
    True
    """
    rec = np.empty(len(xy), dtype=[("order", "u1"), ("type", "<u4"), ("x", "<f8"),
                                   ("y", "<f8")])
    rec["order"], rec["type"], rec["x"], rec["y"] = 1, 1, xy[:, 0], xy[:, 1]
    size = rec.dtype.itemsize
    kind, offset = (pa.binary(), np.int32) if len(xy) * size < 2**31 else \
        (pa.large_binary(), np.int64)
    offsets = np.arange(0, (len(xy) + 1) * size, size, dtype=offset)
    return pa.Array.from_buffers(kind, len(xy), [None, pa.py_buffer(offsets),
                                                 pa.py_buffer(rec.view(np.uint8))])


def geometry_wkb(geoms: np.ndarray) -> tuple[pa.Array, list[str]]:
    """WKB of ``geoms`` and their type names; single parts are made multi where a layer
    mixes them with multi parts of their kind (Polygon with MultiPolygon), as GDAL needs
    one type per layer."""
    geoms = np.asarray(geoms, dtype=object)
    ids = shapely.get_type_id(geoms)
    kinds = set(np.unique(ids).tolist()) - {-1}
    for single, (multi, make) in _MULTI.items():
        if kinds == {single, multi}:
            geoms = geoms.copy()
            one = np.flatnonzero(ids == single)
            geoms[one] = make(geoms[one], indices=np.arange(len(one)))
    return pa.array(shapely.to_wkb(geoms), type=pa.binary()), layer_types(geoms)


def layer_types(geometry: np.ndarray) -> list[str]:
    """The geometry types of a layer as written (:func:`geometry_wkb`); none if empty."""
    ids = set(np.unique(shapely.get_type_id(geometry)).tolist()) - {-1}
    for single, (multi, _make) in _MULTI.items():
        if ids == {single, multi}:
            ids = {multi}
    return sorted(_TYPES[k] for k in ids if k in _TYPES)


@dataclass(frozen=True)
class Geometry:
    """A table's geometry as written: WKB, type names, CRS and bounds (None if empty)."""

    wkb: pa.Array
    types: list[str]
    crs: Any
    bounds: tuple[float, float, float, float] | None


def table_geometry(t: OutputTable, frame: pd.DataFrame, polygons: bool) -> Geometry | None:
    """The geometry a table is written with (None: a table without geometry): its
    :class:`~equiserve.results.base.Points` (their polygons if asked for), else its
    frame's."""
    if t.points is not None and not (polygons and t.points.polygons is not None):
        xy = np.asarray(t.points.xy(), dtype=float).reshape(-1, 2)
        bounds = (*xy.min(axis=0), *xy.max(axis=0)) if len(xy) else None
        return Geometry(point_wkb(xy), ["Point"], t.points.crs, bounds)
    if t.points is not None and t.points.polygons is not None:
        geoms, crs = np.asarray(t.points.polygons(), dtype=object), t.points.crs
    elif isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame:
        geoms, crs = np.asarray(frame.geometry.array, dtype=object), frame.crs
    else:
        return None
    wkb, types = geometry_wkb(geoms)
    box = shapely.total_bounds(geoms)
    return Geometry(wkb, types, crs, tuple(float(b) for b in box)  # type: ignore[arg-type]
                    if np.isfinite(box).all() else None)


def arrow_table(frame: pd.DataFrame, geometry: Geometry | None,
                geometry_name: str) -> pa.Table:
    """The columns of ``frame`` but its geometries, then ``geometry`` as WKB."""
    attrs = pd.DataFrame(frame[[c for c in frame.columns
                                if not isinstance(frame[c].dtype, GeometryDtype)]])
    table = pa.Table.from_pandas(attrs, preserve_index=False)
    if geometry is not None:
        table = table.append_column(geometry_name, geometry.wkb)
    return table.replace_schema_metadata(None)


def views(layers: dict[str, OutputTable]) -> set[str]:
    """The layers written as views: those whose source is a table of the same file."""
    return {n for n, t in layers.items()
            if t.view is not None and t.view.source in layers
            and layers[t.view.source].view is None}


def write_gpkg(layers: dict[str, OutputTable], path: Path, polygons: bool = False) -> None:
    """``layers`` into one GeoPackage: each table in one ``pyogrio.write_arrow`` call (one
    transaction, spatial index built at the end), then the views (one transaction)."""
    as_views = views(layers)
    with _no_fsync():
        for name, t in layers.items():
            if name not in as_views:
                _write_layer(name, t, path, polygons)
    if as_views:
        write_views(path, {n: v for n in as_views if (v := layers[n].view) is not None})


@contextmanager
def _no_fsync() -> Iterator[None]:
    """GDAL's SQLite without fsync while the GeoPackage is written: it is written in the
    run's temporary folder and moved in with the other outputs (none of which is synced;
    an interrupted run leaves the output folder as it was either way). Saves the wait for
    the disk at every commit (most of the time of a small study's GeoPackage)."""
    import pyogrio

    before = pyogrio.get_gdal_config_option(SQLITE_SYNC)
    pyogrio.set_gdal_config_options({SQLITE_SYNC: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({SQLITE_SYNC: before})


def _write_layer(name: str, t: OutputTable, path: Path, polygons: bool) -> None:
    """One table as a layer of the GeoPackage at ``path`` (created if missing)."""
    import pyogrio

    frame = t.data()
    geometry = table_geometry(t, frame, polygons)
    table = arrow_table(frame, geometry, GPKG_GEOMETRY)
    del frame
    kind: dict[str, Any] = {}
    if geometry is not None:
        kind = {"geometry_name": GPKG_GEOMETRY,
                "geometry_type": geometry.types[0] if len(geometry.types) == 1
                else "Unknown",
                "crs": None if geometry.crs is None else geometry.crs.to_wkt()}
    pyogrio.write_arrow(table, path, layer=name, driver="GPKG", append=path.exists(), **kind)


def view_sql(name: str, view: View, fid: str, geom: str) -> str:
    """``CREATE VIEW`` of ``view`` over its source, whose key is ``fid`` and geometry
    column ``geom``.

    SQLite gives a computed column of a view no declared type, and GDAL reads such a
    column as text; so a first, empty ``SELECT`` names every column after a source column
    of its type (``ViewColumn.like``), and the rows come from the second (``UNION ALL``).
    """
    src = sql_name(view.source)
    typed = ", ".join([f"{sql_name(fid)} AS OGC_FID", sql_name(geom),
                       *[sql_name(c) for c in view.keep],
                       *[f"{sql_name(c.like)} AS {sql_name(c.name)}" for c in view.columns]])
    rows = ", ".join([sql_name(fid), sql_name(geom), *[sql_name(c) for c in view.keep],
                      *[c.sql for c in view.columns]])
    terms = "".join(f", {sql} AS {sql_name(t)}" for t, sql in view.terms)
    return (f"CREATE VIEW {sql_name(name)} AS SELECT {typed} FROM {src} WHERE 0 UNION ALL "
            f"SELECT {rows} FROM (SELECT *{terms} FROM {src}) WHERE {view.where}")


def write_views(path: Path, views: dict[str, View]) -> None:
    """Create ``views`` in the GeoPackage at ``path`` and register them as feature layers
    of their source's geometry type and CRS, in one transaction."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous = OFF")  # as the layers (_no_fsync)
        with con:
            for name, view in views.items():
                fid = next(row[1] for row in con.execute(
                    f"PRAGMA table_info({sql_name(view.source)})") if row[5])
                geom, gtype, srs, z, m = con.execute(
                    "SELECT column_name, geometry_type_name, srs_id, z, m FROM "
                    "gpkg_geometry_columns WHERE table_name = ?", (view.source,)).fetchone()
                con.execute(view_sql(name, view, fid, geom))
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, "
                    "min_y, max_x, max_y, srs_id) SELECT ?, 'features', ?, min_x, min_y, "
                    "max_x, max_y, srs_id FROM gpkg_contents WHERE table_name = ?",
                    (name, name, view.source))
                con.execute("INSERT INTO gpkg_geometry_columns (table_name, column_name, "
                            "geometry_type_name, srs_id, z, m) VALUES (?, ?, ?, ?, ?, ?)",
                            (name, geom, gtype, srs, z, m))
    finally:
        con.close()


def write_parquet(t: OutputTable, path: Path, polygons: bool = False) -> None:
    """``t`` as a GeoParquet file (1.1.0: WKB geometry with its CRS as PROJJSON, zstd),
    readable by ``geopandas.read_parquet``, pyarrow and DuckDB."""
    import pyarrow.parquet as pq

    frame = t.data()
    geometry = table_geometry(t, frame, polygons)
    table = arrow_table(frame, geometry, PARQUET_GEOMETRY)
    del frame
    if geometry is not None:
        column: dict[str, Any] = {
            "encoding": "WKB", "geometry_types": geometry.types,
            "crs": None if geometry.crs is None else geometry.crs.to_json_dict()}
        if geometry.bounds is not None:
            column["bbox"] = [float(b) for b in geometry.bounds]
        geo = {"version": "1.1.0", "primary_column": PARQUET_GEOMETRY,
               "columns": {PARQUET_GEOMETRY: column}}
        table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode("utf-8")})
    pq.write_table(table, path, compression="zstd")
