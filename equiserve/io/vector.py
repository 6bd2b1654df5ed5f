"""Read vector sources (GeoPackage, GeoJSON, Shapefile, GeoParquet, tables of points, OSM XML).

:func:`read_vector` turns a :class:`~equiserve.config.SourceSpec` into a GeoDataFrame with
a known CRS, GCJ-02 / BD-09 coordinates converted to WGS84, coordinates checked against
their CRS (finite, within ±180/±90 in degrees), invalid polygons repaired and the
configured filter applied. Tables of points (CSV/TXT/TSV, Excel) are read by
:func:`~equiserve.io.tables.read_table`. Every problem raises a DataError naming the file
and key.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from equiserve.config import SourceSpec
from equiserve.config.sources import OSM_XML_SUFFIXES
from equiserve.crs import to_wgs84_geometries
from equiserve.errors import ConfigError, DataError
from equiserve.io.tables import TABLE_SUFFIXES, check_not_empty, read_table
from equiserve.notes import Notes

WGS84 = pyproj.CRS.from_epsg(4326)

_X_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
_Y_NAMES = ("lat", "latitude", "y", "纬度")


def read_vector(spec: SourceSpec, notes: Notes | None = None, *,
                part: bool = False) -> gpd.GeoDataFrame:
    """Read one vector source as configured.

    Parameters
    ----------
    spec : SourceSpec
        Path, optional layer, declared CRS, CSV coordinate columns, filter, OSM tags.
    notes : Notes, optional
        Receives data-quality notes (repaired geometries, dropped empty geometries).
    part : bool
        The file is one of several of the source: a table with a header and no rows is
        an empty part (noted), not an error.

    Returns
    -------
    geopandas.GeoDataFrame
        The features with a CRS set (WGS84 when the source was GCJ-02 or BD-09).
    """
    notes = Notes() if notes is None else notes
    if spec.more_paths:
        return _read_many(spec, notes)
    path = spec.path
    where = f"[{spec.key}] source"
    if not path.exists():
        raise DataError(f"{where}: file not found: {path} (relative paths resolve against the "
                        "folder of the file that names them: study.toml or the plan)")
    check_not_empty(path, where)
    name = path.name.lower()
    if name.endswith(TABLE_SUFFIXES):
        gdf = _read_points_table(spec, notes, allow_empty=part)
    elif name.endswith(OSM_XML_SUFFIXES):
        gdf = _read_osm(spec, notes)
    elif name.endswith((".parquet", ".geoparquet")):
        gdf = _read_parquet(spec)
    else:
        gdf = _read_file(spec)

    gdf = _apply_crs(gdf, spec)
    _check_coordinates(gdf, spec)
    gdf = _clean_geometries(gdf, spec, notes)
    if spec.filter:
        gdf = apply_filter(gdf, spec.filter, f"[{spec.key}] filter", path)
    return gdf


def _read_many(spec: SourceSpec, notes: Notes) -> gpd.GeoDataFrame:
    """Read every file of a multi-file source and append them (one CRS: the first's)."""
    frames = [read_vector(spec.model_copy(update={"path": p, "more_paths": ()}), notes,
                          part=True) for p in spec.paths]
    empty = [p.name for p, f in zip(spec.paths, frames, strict=True)
             if not len(f) and p.name.lower().endswith(TABLE_SUFFIXES)]
    if empty:  # (an OSM extract without the layer's features is no news)
        notes.info(spec.key, f"{', '.join(empty)} of the {len(spec.paths)} files of the "
                   "source hold no features")
    crs = frames[0].crs
    gdf = pd.concat([f.to_crs(crs) for f in frames if len(f)] or frames[:1],
                    ignore_index=True)
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=crs)
    if "osm_id" in gdf.columns:
        dup = gdf["osm_id"].duplicated()
        if dup.any():
            notes.info(spec.key, f"{int(dup.sum())} feature(s) appear in more than one of the "
                       f"{len(spec.paths)} OSM files (overlapping extracts) and are kept once")
            gdf = gdf[~dup].reset_index(drop=True)
    return gdf


def apply_filter(df: pd.DataFrame, expr: str, where: str, path: Path) -> pd.DataFrame:
    """Apply a pandas query string, turning its failures into a DataError."""
    try:
        out = df.query(expr, engine="python")
    except Exception as exc:  # pandas raises many types for a bad expression
        cols = ", ".join(str(c) for c in df.columns if c != "geometry")
        raise DataError(f"{where} = {expr!r} failed on {path.name}: {exc}. "
                        f"Columns available: {cols}") from None
    return out


def _read_file(spec: SourceSpec) -> gpd.GeoDataFrame:
    import pyogrio

    path = spec.path
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise DataError(f"[{spec.key}] source: cannot open {path}: {exc}") from None
    names = [str(n) for n in layers[:, 0]]
    layer = spec.layer
    if layer is None and len(names) > 1:
        raise ConfigError(f"[{spec.key}] source {path.name} has {len(names)} layers "
                          f"({', '.join(names)}); choose one with source_layer = \"...\"")
    if layer is not None and layer not in names:
        raise ConfigError(f"[{spec.key}] source_layer = {layer!r} is not in {path.name}; "
                          f"layers: {', '.join(names)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            options = {"encoding": spec.encoding} if spec.encoding else {}
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio", **options)
    except Exception as exc:
        raise DataError(f"[{spec.key}] source: cannot read {path}: {exc}") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise DataError(f"[{spec.key}] source {path.name} has no geometry column")
    return gdf


def _read_parquet(spec: SourceSpec) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(spec.path)
    except Exception as exc:
        raise DataError(f"[{spec.key}] source: cannot read GeoParquet {spec.path}: {exc}") from None


def _pick_column(columns: list[str], given: str | None, candidates: tuple[str, ...],
                 spec: SourceSpec, what: str) -> str:
    if given is not None:
        if given not in columns:
            raise DataError(f"[{spec.key}] {what} = {given!r}: no such column in "
                            f"{spec.path.name}; columns: {', '.join(columns)}")
        return given
    lower = {c.lower().strip(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    raise DataError(f"[{spec.key}] cannot find the {what[0]} coordinate column in "
                    f"{spec.path.name} (columns: {', '.join(columns)}); set {what} = \"...\"")


def _read_points_table(spec: SourceSpec, notes: Notes, allow_empty: bool = False
                       ) -> gpd.GeoDataFrame:
    """Points from a table (CSV/TXT/TSV, Excel) with lon/lat or x/y columns."""
    path = spec.path
    df = read_table(path, where=f"[{spec.key}] source", encoding=spec.encoding,
                    sheet=spec.sheet, notes=notes, subject=spec.key, allow_empty=allow_empty)
    cols = [str(c) for c in df.columns]
    df.columns = pd.Index(cols)
    xcol = _pick_column(cols, spec.x_field, _X_NAMES, spec, "x_field")
    ycol = _pick_column(cols, spec.y_field, _Y_NAMES, spec, "y_field")
    x = pd.to_numeric(df[xcol], errors="coerce").to_numpy(float)
    y = pd.to_numeric(df[ycol], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if bad.size:
        rows = ", ".join(str(i + 1) for i in bad[:10])
        raise DataError(f"[{spec.key}] {path.name}: {bad.size} row(s) have missing or "
                        f"non-numeric coordinates in {xcol}/{ycol} (data rows {rows}, "
                        "counted from 1 after the header); fix or remove them")
    if spec.crs is None and (xcol.lower() == "x" or ycol.lower() == "y"):
        raise ConfigError(f"[{spec.key}] {path.name} has x/y columns but no crs; add "
                          "crs = \"EPSG:....\" (or \"GCJ-02\"/\"BD-09\") to the layer")
    out = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=WGS84)
    out.attrs["xy_columns"] = (xcol, ycol)
    return out


# ---------------------------------------------------------------------------------------
# coordinates that fit their CRS


def _declared(spec: SourceSpec, crs: object) -> str:
    """How a source's CRS was given, for messages."""
    if spec.crs is not None:
        shown = spec.crs if isinstance(spec.crs, str) else spec.crs.to_string()
        return f"declared crs = \"{shown}\""
    if spec.path.name.lower().endswith(TABLE_SUFFIXES):
        return "no crs (a table's lon/lat are read as WGS84)"
    return f"the file's own CRS {pyproj.CRS(crs).to_string()}"


def _check_coordinates(gdf: gpd.GeoDataFrame, spec: SourceSpec) -> None:
    """Raise a DataError unless every coordinate is finite and, in degrees, within
    ±180/±90: projected numbers under a geographic CRS, or a wrong declared CRS."""
    if gdf.crs is None or gdf.empty:
        return
    xy = shapely.get_coordinates(gdf.geometry.values)
    if not len(xy):
        return
    crs = pyproj.CRS(gdf.crs)
    if crs.is_geographic:
        _check_degrees(xy, gdf, spec)
        return
    lon, lat = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True).transform(
        xy[:, 0], xy[:, 1])
    if not (np.isfinite(lon) & np.isfinite(lat)).all():
        raise DataError(f"[{spec.key}] source {spec.path.name}: coordinates are not finite "
                        f"after transformation to WGS84 from {_declared(spec, crs)} "
                        f"(found x {np.nanmin(xy[:, 0]):g}..{np.nanmax(xy[:, 0]):g}, "
                        f"y {np.nanmin(xy[:, 1]):g}..{np.nanmax(xy[:, 1]):g}); is the crs "
                        "right? Declare the CRS the numbers are in with crs = \"EPSG:....\"")


def _check_degrees(xy: np.ndarray, gdf: gpd.GeoDataFrame, spec: SourceSpec) -> None:
    x, y = xy[:, 0], xy[:, 1]
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.all() and (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
        return
    xcol, ycol = gdf.attrs.get("xy_columns", ("x", "y"))
    swapped = finite.all() and (np.abs(y) <= 180).all() and (np.abs(x) <= 90).all()
    if swapped:
        hint = (f"; they look swapped (set x_field = \"{ycol}\" and y_field = \"{xcol}\", "
                "or fix the file)" if "xy_columns" in gdf.attrs
                else "; they look swapped (latitude first): fix the file")
    elif np.nanmax(np.abs(xy)) > 1000:
        hint = (f"; the numbers look projected (e.g. {x[0]:.6g}, {y[0]:.6g}): is the crs "
                "right? Declare the CRS they are in, e.g. crs = \"EPSG:32649\" (UTM 49N)")
    else:
        hint = "; check the crs and the file"
    raise DataError(f"[{spec.key}] {spec.path.name}: coordinates outside the valid range of "
                    f"{_declared(spec, gdf.crs)} (longitude {xcol} must be within ±180, "
                    f"latitude {ycol} within ±90; found {xcol} {np.nanmin(x):g}.."
                    f"{np.nanmax(x):g}, {ycol} {np.nanmin(y):g}..{np.nanmax(y):g}){hint}")


def project(gdf: gpd.GeoDataFrame, crs: pyproj.CRS, spec: SourceSpec) -> gpd.GeoDataFrame:
    """``gdf`` (read from ``spec``) in ``crs``; a DataError when a coordinate is not finite
    there (a point too far from the study for its projection, or a wrong declared CRS)."""
    out = gdf.to_crs(crs)
    xy = shapely.get_coordinates(out.geometry.values)
    if not np.isfinite(xy).all():
        bad = int((~np.isfinite(xy).all(axis=1)).sum())
        raise DataError(f"[{spec.key}] source {spec.path.name}: {bad} coordinate(s) are not "
                        f"finite in the study's CRS {pyproj.CRS(crs).to_string()} "
                        f"({_declared(spec, gdf.crs)}); is the crs right, and do all "
                        "features lie near the study area?")
    return out


def osm_tagged_nodes(path: Path, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the OSM nodes carrying tag ``key`` (e.g. ``entrance``)."""
    stat = path.stat()
    return _osm_tagged_nodes(str(path), stat.st_mtime_ns, stat.st_size, key)


@functools.lru_cache(maxsize=16)
def _osm_tagged_nodes(path: str, _mtime: int, _size: int, key: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    import osmium

    lon, lat = [], []
    try:
        fp = osmium.FileProcessor(path, osmium.osm.NODE).with_filter(osmium.filter.KeyFilter(key))
        for node in fp:
            if isinstance(node, osmium.osm.Node) and node.location.valid():
                lon.append(node.location.lon)
                lat.append(node.location.lat)
    except Exception as exc:
        raise DataError(f"cannot read OSM nodes from {path}: {exc}") from None
    return np.array(lon), np.array(lat)


def _read_osm(spec: SourceSpec, notes: Notes) -> gpd.GeoDataFrame:
    """Features with the spec's tags from an OSM XML file (osmnx). An extract cut from a
    larger map often holds relations whose members lie outside it; when osmnx cannot
    build those, the file is read again without relations and the note says how many of
    the tagged relations are left out."""
    import osmnx as ox

    def features(path: Path | str) -> gpd.GeoDataFrame:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ox.features_from_xml(path, tags=spec.osm_tags)
        except ox._errors.InsufficientResponseError:
            return gpd.GeoDataFrame(geometry=[], crs=WGS84)

    try:
        gdf = features(spec.path)
    except Exception as exc:
        try:
            gdf, skipped = _without_relations(spec, features)
        except Exception:
            raise DataError(f"[{spec.key}] source: cannot read OSM file {spec.path}: {exc}"
                            ) from None
        notes.warn(spec.key, f"{spec.path.name}: {skipped} relation(s) with the layer's tags "
                   f"could not be built ({exc}; members outside the extract?) and are left "
                   "out; nodes and ways are read")
    gdf = gdf.reset_index()
    if "element" in gdf and "id" in gdf:
        gdf["osm_id"] = gdf["element"].astype(str) + "/" + gdf["id"].astype(str)
    if "name" not in gdf:
        gdf["name"] = pd.Series(pd.NA, index=gdf.index, dtype=object)
    return gdf.set_crs(WGS84, allow_override=True)


def _without_relations(spec: SourceSpec, features: Callable[[str], gpd.GeoDataFrame]
                       ) -> tuple[gpd.GeoDataFrame, int]:
    """The features of the file with its relations dropped, and how many relations
    carrying one of the spec's tags were dropped."""
    import tempfile

    import osmium

    keys = list(spec.osm_tags or {})
    skipped = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "no-relations.osm")
        with osmium.SimpleWriter(path) as writer:
            for obj in osmium.FileProcessor(str(spec.path)):
                if isinstance(obj, osmium.osm.Relation):
                    skipped += any(k in obj.tags for k in keys)
                    continue
                writer.add(obj)
        return features(path), skipped


def _apply_crs(gdf: gpd.GeoDataFrame, spec: SourceSpec) -> gpd.GeoDataFrame:
    crs = spec.crs
    if isinstance(crs, str):  # GCJ-02 / BD-09: the numbers are lon/lat in that datum
        geoms = to_wgs84_geometries(gdf.geometry.values, crs)
        return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=WGS84))
    if crs is not None:
        return gdf.set_crs(crs, allow_override=True)
    if gdf.crs is None:
        raise DataError(f"[{spec.key}] source {spec.path.name} has no CRS; declare it with "
                        "crs = \"EPSG:....\" (or \"GCJ-02\" / \"BD-09\") in the config")
    return gdf


def _clean_geometries(gdf: gpd.GeoDataFrame, spec: SourceSpec, notes: Notes) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        notes.warn(spec.key, f"{int(missing.sum())} feature(s) in {spec.path.name} have no "
                   "geometry and were left out")
        gdf = gdf.loc[~missing]
        geoms = gdf.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        notes.warn(spec.key, f"{int(invalid.sum())} invalid geometr"
                   f"{'y' if invalid.sum() == 1 else 'ies'} in {spec.path.name} repaired with "
                   f"make_valid (first: {reasons[0]})")
        fixed = np.array(geoms, dtype=object)
        fixed[invalid] = shapely.make_valid(fixed[invalid])
        gdf = gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))
    return gdf
