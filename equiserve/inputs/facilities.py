"""Facility layers: read, checked, and reduced to access points in the working CRS.

A facility is a row of the layer (a school, a clinic); its *access points* are where
distance is measured to. Points are their own access point. A polygon (a park, school
grounds) from OSM uses the ``entrance=*`` nodes on its outline; failing that, and for
polygons from other files, its representative point (a point guaranteed inside it). Which
rule was used is stated per facility in ``location_method`` and in the report's notes.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from equiserve.config import LayerConfig, Standard
from equiserve.errors import DataError
from equiserve.inputs.datum import reads_lonlat
from equiserve.inputs.regions import Regions
from equiserve.io.vector import osm_tagged_nodes, project, read_vector
from equiserve.notes import Notes
from equiserve.settings import ENTRANCE_TOLERANCE_M


@dataclass
class FacilityLayer:
    """One facility layer ready for analysis.

    Attributes
    ----------
    name, kind : str
        Layer name from the config and its kind (school, clinic, ...).
    standard : Standard
        Service standard.
    serves : str or None
        Population subgroup served (None: total population).
    facilities : geopandas.GeoDataFrame
        One row per facility in the working CRS with columns ``facility_id``, ``name``,
        ``capacity`` (NaN if unknown), ``location_method``, ``region``, ``group`` and a
        point geometry (the location used). ``region`` and ``group`` are missing (NA) for
        facilities outside every region.
    access_x, access_y : ndarray
        Access points in the working CRS (one or more per facility).
    access_facility : ndarray of int
        Row of ``facilities`` each access point belongs to.
    has_capacity : bool
        Whether the config named a capacity field.
    """

    name: str
    kind: str
    standard: Standard
    serves: str | None
    facilities: gpd.GeoDataFrame
    access_x: np.ndarray
    access_y: np.ndarray
    access_facility: np.ndarray
    has_capacity: bool = False
    #: Whether the source's numbers were read as WGS84 longitude/latitude as declared
    #: (then :mod:`equiserve.inputs.datum` checks that they are not GCJ-02 or BD-09).
    declared_lonlat: bool = False

    def __len__(self) -> int:
        return len(self.facilities)

    @property
    def places(self) -> np.ndarray:
        """Places per facility (the ``capacity`` column), an unknown capacity counted as 0:
        what the scorecard, the forecast and the capacitated siting model count."""
        return np.nan_to_num(self.facilities["capacity"].to_numpy(float), nan=0.0)

    @property
    def access_xy(self) -> np.ndarray:
        """Access points as an (n, 2) array."""
        return np.column_stack([self.access_x, self.access_y])


def load_facility_layer(cfg: LayerConfig, regions: Regions,
                        notes: Notes | None = None) -> FacilityLayer:
    """Read and check one facility layer as configured.

    Raises
    ------
    DataError
        If the file is missing or unreadable, a configured field does not exist, or the
        layer has no features after its filter.
    """
    notes = Notes() if notes is None else notes
    spec = cfg.source
    key = f"layers.{cfg.name}"
    gdf = read_vector(spec, notes)
    lonlat = reads_lonlat(spec, gdf.crs)
    where = f"[{key}] {spec.path.name}"
    if gdf.empty:
        extra = f" after filter {spec.filter!r}" if spec.filter else ""
        raise DataError(f"{where}: the layer has no features{extra}; check the source file, "
                        "source_layer, filter or osm_tags")
    for fld, opt in [(cfg.id_field, "id_field"), (cfg.name_field, "name_field"),
                     (cfg.capacity_field, "capacity_field")]:
        if fld is not None and fld not in gdf.columns:
            raise DataError(f"{where}: {opt} = {fld!r} is not a field; fields: "
                            + ", ".join(str(c) for c in gdf.columns if c != "geometry"))
    gdf = project(gdf, regions.crs, spec).reset_index(drop=True)
    n = len(gdf)

    if cfg.id_field is not None:
        ids = gdf[cfg.id_field].astype(str)
    elif "osm_id" in gdf.columns:
        ids = gdf["osm_id"].astype(str)
    else:
        ids = pd.Series([f"{cfg.name}-{i + 1}" for i in range(n)])
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        shown = ", ".join(pd.unique(dup)[:5])
        notes.warn(key, f"{dup.nunique()} id(s) appear more than once in "
                   f"{cfg.id_field or 'the ids'} ({shown}); all rows are kept as separate "
                   "facilities")

    name_col = cfg.name_field or ("name" if "name" in gdf.columns else None)
    names = gdf[name_col].astype(object).where(gdf[name_col].notna(), None) if name_col else (
        pd.Series([None] * n, dtype=object))
    names = names.where(names.notna(), ids)

    capacity = np.full(n, np.nan)
    if cfg.capacity_field is not None:
        capacity = pd.to_numeric(gdf[cfg.capacity_field], errors="coerce").to_numpy(float)
        missing = ~np.isfinite(capacity)
        if missing.any():
            shown = ", ".join(map(str, names[missing].head(5)))
            notes.warn(key, f"{int(missing.sum())} of {n} facilities have no "
                       f"{cfg.capacity_field!r} ({shown}); their capacity is unknown and counts as "
                       "0 places in the scorecard")

    method, ax, ay, af = _access_points(gdf, cfg, notes)
    first = np.searchsorted(af, np.arange(n))
    loc = shapely.points(ax[first], ay[first])
    region = regions.locate(ax[first], ay[first])
    outside = region < 0
    if outside.any():
        shown = ", ".join(map(str, names[outside].head(5)))
        n_out = int(outside.sum())
        notes.warn(key, f"{n_out} facilit{'y lies' if n_out == 1 else 'ies lie'} outside every "
                   f"region ({shown}); kept, as they can serve people inside")
    facilities = gpd.GeoDataFrame({
        "facility_id": ids.to_numpy(dtype=object),
        "name": names.astype(str).to_numpy(dtype=object),
        "capacity": capacity,
        "location_method": method,
        "region": np.where(outside, None, regions.names[np.maximum(region, 0)]),
        "group": np.where(outside, None, regions.groups[np.maximum(region, 0)]),
    }, geometry=loc, crs=regions.crs)
    return FacilityLayer(name=cfg.name, kind=cfg.kind, standard=cfg.standard, serves=cfg.serves,
                         facilities=facilities, access_x=ax, access_y=ay, access_facility=af,
                         has_capacity=cfg.capacity_field is not None, declared_lonlat=lonlat)


def _access_points(gdf: gpd.GeoDataFrame, cfg: LayerConfig, notes: Notes
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Access points per facility, sorted by facility: (method, x, y, facility index)."""
    geoms = gdf.geometry.values
    n = len(geoms)
    type_id = shapely.get_type_id(geoms)
    is_point = type_id == 0
    method = np.where(is_point, "point", "representative_point").astype(object)
    ax = [shapely.get_x(geoms[is_point])]
    ay = [shapely.get_y(geoms[is_point])]
    af = [np.flatnonzero(is_point)]

    other = np.flatnonzero(~is_point)
    with_entrance = np.zeros(n, dtype=bool)
    if other.size and cfg.source.osm_tags is not None:
        ex, ey, ef = _osm_entrances(gdf.iloc[other], cfg, notes)
        ef = other[ef]
        with_entrance[ef] = True
        ax.append(ex)
        ay.append(ey)
        af.append(ef)
    rep = np.flatnonzero(~is_point & ~with_entrance)
    rp = shapely.point_on_surface(geoms[rep])
    ax.append(shapely.get_x(rp))
    ay.append(shapely.get_y(rp))
    af.append(rep)
    method[with_entrance] = "entrance"

    x, y, f = np.concatenate(ax), np.concatenate(ay), np.concatenate(af)
    order = np.argsort(f, kind="stable")
    counts = pd.Series(method).value_counts()
    if (counts.index != "point").any():
        parts = ", ".join(f"{c} by {m.replace('_', ' ')}" for m, c in counts.items())
        notes.info(f"layers.{cfg.name}", f"facilities located: {parts} (polygons are measured "
                   "from their entrances where mapped, otherwise from a point inside them)")
    return method, x[order], y[order], f[order].astype(np.int64)


def _osm_entrances(polys: gpd.GeoDataFrame, cfg: LayerConfig, notes: Notes
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OSM ``entrance=*`` nodes on the outline of each polygon: (x, y, row in polys)."""
    found = [osm_tagged_nodes(p, "entrance") for p in cfg.source.paths]
    lon, lat = np.unique(np.column_stack([np.concatenate([f[0] for f in found]),
                                          np.concatenate([f[1] for f in found])]),
                         axis=0).T  # overlapping extracts repeat nodes
    if not len(lon):
        return np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
    ents = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(polys.crs).values
    tree = shapely.STRtree(ents)
    outline = shapely.boundary(polys.geometry.values)
    pi, ei = tree.query(outline, predicate="dwithin", distance=ENTRANCE_TOLERANCE_M)
    pts = ents[ei]
    return shapely.get_x(pts), shapely.get_y(pts), pi.astype(np.int64)
