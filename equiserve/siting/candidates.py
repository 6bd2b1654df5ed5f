"""Candidate sites for new facilities: from a file, from gap cells, or a lattice over land.

Every generator returns a :class:`Candidates` in the study's working CRS: points (parcel
polygons are represented by a point inside them), an id, an optional capacity, and the
region each lies in. Candidates outside every region are an error, not silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from equiserve.config import SourceSpec
from equiserve.crs import parse_crs
from equiserve.errors import DataError
from equiserve.inputs.datum import reads_lonlat
from equiserve.io.vector import read_vector
from equiserve.notes import Notes

if TYPE_CHECKING:
    from equiserve.results.coverage import CoverageResult
    from equiserve.study import Study


@dataclass
class Candidates:
    """Candidate sites in the working CRS.

    ``source`` says how they were made (``file``, ``gap cells``, ``lattice``); ``notes``
    what reading them found.
    """

    gdf: gpd.GeoDataFrame  # columns candidate_id, name, capacity, region, group, geometry
    source: str
    notes: Notes = field(default_factory=Notes)

    def __len__(self) -> int:
        return len(self.gdf)

    @property
    def x(self) -> np.ndarray:
        return shapely.get_x(self.gdf.geometry.values)

    @property
    def y(self) -> np.ndarray:
        return shapely.get_y(self.gdf.geometry.values)

    @property
    def xy(self) -> np.ndarray:
        return np.column_stack([self.x, self.y])


def _finish(study: Study, points: np.ndarray, ids: list[str], names: list[str],
            capacity: np.ndarray, source: str, where: str,
            notes: Notes | None = None) -> Candidates:
    x, y = shapely.get_x(points), shapely.get_y(points)
    region = study.regions.locate(x, y)
    outside = region < 0
    if outside.any():
        shown = ", ".join(ids[i] for i in np.flatnonzero(outside)[:5])
        raise DataError(f"{where}: {int(outside.sum())} candidate site(s) lie outside every "
                        f"region of the study ({shown}); remove them or check the file's CRS")
    gdf = gpd.GeoDataFrame({
        "candidate_id": ids, "name": names, "capacity": capacity,
        "region": study.regions.names[region], "group": study.regions.groups[region],
    }, geometry=points, crs=study.crs)
    return Candidates(gdf, source, notes if notes is not None else Notes())


def candidates_from_file(study: Study, path: str | Path, crs: str | None = None,
                         id_field: str | None = None, capacity_field: str | None = None
                         ) -> Candidates:
    """Candidate sites read from any supported vector file (points or parcel polygons).

    Parameters
    ----------
    study : Study
    path : path-like
        GeoPackage, GeoJSON, Shapefile, GeoParquet, or CSV with lon/lat (or x/y) columns.
    crs : str, optional
        CRS of the coordinates when the file has none (CSV) or is GCJ-02 / BD-09.
    id_field, capacity_field : str, optional
        Fields with each site's id and its capacity (places, for the capacitated model).
    """
    path = Path(path).expanduser().resolve()
    spec = SourceSpec(path=path, key="candidates",
                      crs=parse_crs(crs, "--candidates-crs") if crs else None)
    notes = Notes()
    gdf = read_vector(spec, notes)
    lonlat = reads_lonlat(spec, gdf.crs)
    where = f"candidates {path.name}"
    if gdf.empty:
        raise DataError(f"{where}: the file has no features")
    for fld in (id_field, capacity_field):
        if fld is not None and fld not in gdf.columns:
            raise DataError(f"{where}: field {fld!r} not found; fields: "
                            + ", ".join(c for c in gdf.columns if c != "geometry"))
    gdf = gdf.to_crs(study.crs).reset_index(drop=True)
    geoms = gdf.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    points = np.where(is_point, geoms, shapely.point_on_surface(geoms))
    ids = (gdf[id_field].astype(str).tolist() if id_field
           else [f"C{i + 1:05d}" for i in range(len(gdf))])
    dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()
    if len(dup):
        raise DataError(f"{where}: candidate ids in field {id_field!r} must be unique; "
                        f"repeated: {', '.join(dup[:10])}")
    names = gdf["name"].astype(str).tolist() if "name" in gdf.columns else list(ids)
    misread = study.datum_warning(where, shapely.get_x(points), shapely.get_y(points),
                                  fix="run again with --candidates-crs {datum}"
                                  ) if lonlat else None
    if misread:
        notes.warn("candidates", misread)
    cap = (pd.to_numeric(gdf[capacity_field], errors="coerce").to_numpy(float)
           if capacity_field else np.full(len(gdf), np.nan))
    try:
        return _finish(study, points, ids, names, cap, "file", where, notes)
    except DataError as exc:  # sites outside the regions: often the datum's doing
        if misread:
            raise DataError(f"{exc}. Note: {misread}") from None
        raise


def _thin(x: np.ndarray, y: np.ndarray, score: np.ndarray, spacing: float) -> np.ndarray:
    """Indices keeping the highest-scoring point in each ``spacing`` square block."""
    bx = np.floor(x / spacing).astype(np.int64)
    by = np.floor(y / spacing).astype(np.int64)
    order = np.lexsort((-score, by, bx))
    first = np.ones(len(order), bool)
    first[1:] = (bx[order][1:] != bx[order][:-1]) | (by[order][1:] != by[order][:-1])
    return np.sort(order[first])


def candidates_from_gaps(study: Study, result: CoverageResult, layer: str,
                         spacing_m: float) -> Candidates:
    """Centres of the layer's gap cells (populated, beyond the standard), thinned so that
    each ``spacing_m`` block keeps its most populated gap cell.

    For a street-network standard only cells snapped to the network are candidates (a
    site nobody can reach by street would serve no one).
    """
    cov = result.layers[layer]
    pop = study.population
    mask = ~cov.covered & (cov.weights > 0)
    std = study.layers[layer].standard
    if std.mode is not None:
        mask &= study.cell_snap(layer).ok
    gap = np.flatnonzero(mask)
    if not gap.size:
        raise DataError(f"layer {layer!r} has no gap cells: everyone it counts is within its "
                        "standard, so there is nothing for new sites to close; give "
                        "--candidates FILE to evaluate sites anyway")
    keep = gap[_thin(pop.x[gap], pop.y[gap], cov.weights[gap], spacing_m)]
    pts = shapely.points(pop.x[keep], pop.y[keep])
    ids = [f"G{i + 1:05d}" for i in range(len(keep))]
    return _finish(study, pts, ids, ids, np.full(len(keep), np.nan), "gap cells",
                   f"gap-cell candidates of {layer}")


def candidates_lattice(study: Study, spacing_m: float,
                       exclude: gpd.GeoDataFrame | None = None,
                       exclude_path: str | Path | None = None) -> Candidates:
    """A regular lattice of points every ``spacing_m`` over the regions' land, minus the
    ``exclude`` polygons (water, protected land, ...), or those of the file
    ``exclude_path`` (any supported vector format with a CRS)."""
    if exclude is None and exclude_path is not None:
        exclude = read_vector(SourceSpec(path=Path(exclude_path).expanduser().resolve(),
                                         key="--exclude"))
    land = study.regions.gdf.union_all()
    if exclude is not None and len(exclude):
        land = shapely.difference(land, exclude.to_crs(study.crs).union_all())
    xmin, ymin, xmax, ymax = land.bounds
    xs = np.arange(np.ceil(xmin / spacing_m), np.floor(xmax / spacing_m) + 1) * spacing_m
    ys = np.arange(np.ceil(ymin / spacing_m), np.floor(ymax / spacing_m) + 1) * spacing_m
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(land)
    inside = shapely.contains_xy(land, gx, gy)
    pts = shapely.points(gx[inside], gy[inside])
    ids = [f"L{i + 1:05d}" for i in range(int(inside.sum()))]
    if not ids:
        raise DataError(f"no lattice point every {spacing_m:g} m falls on the study's land "
                        "(after exclusions); use a smaller spacing")
    return _finish(study, pts, ids, ids, np.full(len(ids), np.nan), "lattice", "lattice")
