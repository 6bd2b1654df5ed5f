"""Digests of equiserve's output folders, for the figure-for-figure reference test.

Written before the structural refactor (issue 11) and independent of equiserve: it reads
the files the command line wrote (CSV, GeoPackage, xlsx, report.html, map.html) with
pandas, pyogrio, openpyxl and the standard library, and reduces every column of every
table to a digest. Numbers are compared at 9 significant digits (the CSVs are written with
10), so a refactor that changes the order of a sum does not count as a change while any
real change of a figure does.

- CSV files, GeoPackage layers (and views), GeoParquet files and xlsx sheets: rows,
  columns and one digest per column (geometries as WKT at 1 mm or 1e-7 degrees);
- report.html: the text of every table cell, table by table (the figures a reader sees);
- map.html: the overlays in the layer control, in order, each with its number of features
  and digests of their properties (tooltips, popups) and geometries. Folium GeoJSON layers
  and equiserve's compact layers (blocks and service areas as images, points as arrays)
  give the same properties; a compact layer's geometries are its points, or its blocks'
  grid cells and image.

Values that change from run to run are left out: the time a report was generated, the
solver's wall-clock time and folder paths of the machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Columns whose values are wall-clock times.
VOLATILE_COLUMNS = {"solve_time_s"}
#: About-sheet rows that change from run to run.
VOLATILE_ABOUT = {"generated"}


def _norm(v: Any) -> str:
    if v is None:
        return "<none>"
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        if f == int(f) and abs(f) < 1e15:
            return str(int(f))
        return f"{f:.9g}"
    return str(v)


def _sha(parts: list[str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def frame_digest(frame: pd.DataFrame, geometry_decimals: int | None = None) -> dict:
    """Rows, columns and one digest per column of a table."""
    out: dict[str, Any] = {"rows": len(frame), "columns": [str(c) for c in frame.columns],
                           "digest": {}}
    for col in frame.columns:
        if str(col) in VOLATILE_COLUMNS:
            continue
        s = frame[col]
        if col == "geometry" or getattr(s, "dtype", None) == "geometry":
            import shapely

            dec = 3 if geometry_decimals is None else geometry_decimals
            vals = ["<none>" if g is None else shapely.to_wkt(g, rounding_precision=dec)
                    for g in s.array]
        else:
            vals = [_norm(v) for v in s.tolist()]
        out["digest"][str(col)] = _sha(vals)
    return out


def csv_digest(path: Path) -> dict:
    return {"table": frame_digest(pd.read_csv(path))}


def gpkg_digest(path: Path) -> dict:
    """Every layer GDAL lists: tables and the SQL views registered as layers (marked
    ``view``, read like tables: their rows as SQLite computes them); a view that is not
    registered is named too, since GDAL would not show it."""
    import sqlite3

    import pyogrio

    con = sqlite3.connect(path)
    try:
        views = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = "
                                           "'view'")}
    finally:
        con.close()
    out: dict[str, Any] = {}
    for layer, _kind in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=layer)
        geographic = frame.crs is not None and frame.crs.is_geographic
        out[str(layer)] = frame_digest(frame, geometry_decimals=7 if geographic else 3)
        if layer in views:
            out[str(layer)]["view"] = True
    for view in sorted(views - set(out)):
        out[view] = {"view": True, "registered": False}
    return out


def parquet_digest(path: Path) -> dict:
    """A GeoParquet file read with pyarrow, its WKB geometry decoded with shapely."""
    import pyarrow.parquet as pq
    import pyproj
    import shapely

    table = pq.read_table(path)
    frame = table.to_pandas()
    meta = (table.schema.metadata or {}).get(b"geo")
    geographic = False
    if meta:
        geo = json.loads(meta)
        name = geo["primary_column"]
        crs = geo["columns"][name].get("crs")
        geographic = crs is not None and pyproj.CRS.from_json_dict(crs).is_geographic
        frame[name] = shapely.from_wkb(frame[name].to_numpy())
        frame = frame.rename(columns={name: "geometry"})
    for col in frame.columns:  # dictionary-encoded text reads as categories
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object)
    return {"table": frame_digest(frame, geometry_decimals=7 if geographic else 3)}


def xlsx_digest(path: Path) -> dict:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    out = {}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        if ws.title == "About":
            rows = [r for r in rows if not (r and r[0] in VOLATILE_ABOUT)]
        if not rows:
            out[ws.title] = {"rows": 0, "columns": [], "digest": {}}
            continue
        header, body = rows[0], rows[1:]
        frame = pd.DataFrame(body, columns=[str(h) for h in header])
        out[ws.title] = frame_digest(frame)
    wb.close()
    return out


class _Tables(HTMLParser):
    """The text of every table cell of an HTML page, table by table."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._depth = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
            self._depth += 1
        elif tag == "tr" and self._depth:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self._depth:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth -= 1
        elif tag in ("td", "th") and self._cell is not None:
            text = re.sub(r"\s+", " ", "".join(self._cell)).strip()
            self.tables[-1][-1].append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def report_digest(path: Path) -> dict:
    """Per table of the report: its header row (plain, for messages), rows and a digest."""
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    out = {}
    for i, table in enumerate(parser.tables):
        header = table[0] if table else []
        out[f"table {i:03d}"] = {"header": header, "rows": len(table),
                                 "digest": _sha(["\x1e".join(r) for r in table])}
    return out


_CONTROL = re.compile(r'^\s*("(?:[^"\\]|\\.)*") : ((?:geo_json|eq_layer)_[0-9a-f]+),?\s*$', re.M)
#: equiserve's compact layers (equiserve/outputs/maps/compact.py): one JSON object a line.
_COMPACT = re.compile(r"^var (eq_layer_[0-9a-f]+) = EQ\.(\w+)\((?:eq_grid_[0-9a-f]+, )?"
                      r"(\{.*\})\);$", re.M)


def _column(col: dict, n: int) -> list:
    if "v" in col:
        return list(col["v"])
    if "k" in col:
        return [col["k"]] * n
    return [col["u"][c] for c in col["c"]]


def _compact_features(kind: str, spec: dict) -> tuple[list[dict], list[str]]:
    """Properties of a compact layer's features as folium's GeoJSON had them (escaped
    columns, the fill colour of blocks, the radius of sized points) and what stands for
    their geometries (points as GeoJSON points; blocks their grid cells and image)."""
    n = spec["n"]
    cols = {c: _column(v, n) for c, v in spec["cols"].items()}
    props = [{c: v[k] for c, v in cols.items()} for k in range(n)]
    for p, k in zip(props, spec.get("cls", []), strict=False):
        p["fill"] = spec["palette"][k]
    for p, r in zip(props, spec.get("radius", []), strict=False):
        p["radius"] = r
    if kind == "points":
        lon, lat = np.cumsum(spec["lon"]), np.cumsum(spec["lat"])
        geoms = [json.dumps({"coordinates": [int(x) / spec["scale"], int(y) / spec["scale"]],
                             "type": "Point"}, sort_keys=True) for x, y in zip(lon, lat,
                                                                               strict=True)]
    else:
        image = hashlib.sha256(spec["img"].encode("ascii")).hexdigest()[:16]
        cells = np.cumsum(spec["cells"]).tolist() if "cells" in spec else [0] * n
        geoms = [f"cell {c} image {image}" for c in cells]
    return props, geoms


def map_digest(path: Path) -> dict:
    """Overlays of the layer control in order: features, property and geometry digests."""
    html = path.read_text(encoding="utf-8")
    data = {}
    for m in re.finditer(r"(geo_json_[0-9a-f]+)_add\((\{.*\})\);\s*$", html, re.M):
        features = json.loads(m.group(2)).get("features", [])
        data[m.group(1)] = ([f.get("properties", {}) for f in features],
                            [json.dumps(f.get("geometry"), sort_keys=True) for f in features])
    for m in _COMPACT.finditer(html):
        data[m.group(1)] = _compact_features(m.group(2), json.loads(m.group(3)))
    overlays = []
    for m in _CONTROL.finditer(html):
        name, var = json.loads(m.group(1)), m.group(2)
        props, geoms = data.get(var, ([], []))
        overlays.append({"name": name, "features": len(props),
                         "properties": _sha([json.dumps(p, sort_keys=True, ensure_ascii=False)
                                             for p in props]),
                         "geometry": _sha(geoms)})
    return {"overlays": overlays}


def folder_digest(folder: Path) -> dict:
    """Digests of every output file in ``folder`` (not its sub-folders, e.g. inputs/)."""
    out = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        name = path.name
        if name == "timings.csv":  # seconds and memory, different in every run
            continue
        if name.endswith(".csv"):
            out[name] = csv_digest(path)
        elif name.endswith(".gpkg"):
            out[name] = gpkg_digest(path)
        elif name.endswith(".parquet"):
            out[name] = parquet_digest(path)
        elif name.endswith(".xlsx"):
            out[name] = xlsx_digest(path)
        elif name.endswith("report.html"):
            out[name] = report_digest(path)
        elif name.endswith("map.html"):
            out[name] = map_digest(path)
    return out


def differences(expected: dict, actual: dict, where: str = "") -> list[str]:
    """Human-readable differences between two digests (empty when they agree)."""
    out: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in expected:
            if k not in actual:
                out.append(f"{where}/{k}: missing")
            else:
                out.extend(differences(expected[k], actual[k], f"{where}/{k}"))
        for k in actual:
            if k not in expected:
                out.append(f"{where}/{k}: not in the reference")
    elif isinstance(expected, list) and isinstance(actual, list) and all(
            isinstance(e, dict) for e in expected + actual):
        if len(expected) != len(actual):
            out.append(f"{where}: {len(expected)} items in the reference, {len(actual)} now")
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            out.extend(differences(e, a, f"{where}[{i}]"))
    elif expected != actual:
        out.append(f"{where}: reference {expected!r}, now {actual!r}")
    return out
