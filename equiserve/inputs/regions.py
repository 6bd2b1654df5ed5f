"""Regions of a study (districts) and their groups (east / west / island).

:func:`load_regions` reads the region polygons, picks the working CRS (the UTM zone of
the study area unless the config names one) and returns a :class:`Regions` whose
:meth:`Regions.locate` assigns points to regions in one vectorised pass per region.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from equiserve.config import RegionsConfig, SplitSpec
from equiserve.crs import utm_crs_for
from equiserve.errors import DataError
from equiserve.inputs.datum import reads_lonlat
from equiserve.io.vector import WGS84, project, read_vector
from equiserve.notes import Notes


@dataclass
class Regions:
    """Region polygons in the working CRS.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        One row per region, columns ``region``, ``group`` and ``geometry`` (polygonal) plus
        the source's own attributes; the row order defines region indices.
    """

    gdf: gpd.GeoDataFrame
    #: Whether the source's numbers were read as WGS84 longitude/latitude as declared
    #: (then :mod:`equiserve.inputs.datum` checks that they are not GCJ-02 or BD-09).
    declared_lonlat: bool = False

    @property
    def names(self) -> np.ndarray:
        """Region names, index-aligned with region indices."""
        return self.gdf["region"].to_numpy(dtype=object)

    @property
    def groups(self) -> np.ndarray:
        """Group of each region, index-aligned with region indices."""
        return self.gdf["group"].to_numpy(dtype=object)

    @property
    def group_names(self) -> list[str]:
        """The groups in order of first appearance (east, west, island, ...)."""
        return list(dict.fromkeys(self.groups))

    @property
    def group_index(self) -> np.ndarray:
        """Index in :attr:`group_names` of each region's group."""
        order = {g: i for i, g in enumerate(self.group_names)}
        return np.array([order[g] for g in self.groups], dtype=np.int64)

    @property
    def area(self) -> float:
        """Area of all regions (m²)."""
        return float(shapely.area(self.gdf.geometry.values).sum())

    @property
    def crs(self) -> pyproj.CRS:
        """The working CRS (projected, metres)."""
        return self.gdf.crs

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the region containing each point, -1 where none does.

        Points on a shared boundary go to the first region in file order.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.full(x.shape, -1, dtype=np.int32)
        for i, geom in enumerate(self.gdf.geometry.values):
            xmin, ymin, xmax, ymax = geom.bounds
            cand = np.flatnonzero((out < 0) & (x >= xmin) & (x <= xmax) & (y >= ymin)
                                  & (y <= ymax))
            if cand.size:
                shapely.prepare(geom)
                inside = shapely.intersects_xy(geom, x[cand], y[cand])
                out[cand[inside]] = i
        return out


def load_regions(cfg: RegionsConfig, crs: pyproj.CRS | None = None,
                 notes: Notes | None = None) -> Regions:
    """Read the region layer and project it to the working CRS.

    Parameters
    ----------
    cfg : RegionsConfig
        Source, name field and group field or mapping.
    crs : pyproj.CRS, optional
        Working CRS; when None, the UTM zone of the regions' centre is used.
    notes : Notes, optional
        Receives data-quality notes.
    """
    notes = Notes() if notes is None else notes
    gdf = read_vector(cfg.source, notes)
    lonlat = reads_lonlat(cfg.source, gdf.crs)
    where = f"[regions] {cfg.source.path.name}"
    if gdf.empty:
        raise DataError(f"{where}: no region polygons (after filter); check source and filter")
    for fld in (cfg.name_field, cfg.group_field):
        if fld is not None and fld not in gdf.columns:
            raise DataError(f"{where}: field {fld!r} not found; fields: "
                            + ", ".join(c for c in gdf.columns if c != "geometry"))
    geoms = np.array([_polygonal_part(g) for g in gdf.geometry.values], dtype=object)
    polygonal = ~shapely.is_empty(geoms)
    if not polygonal.all():
        raise DataError(f"{where}: {int((~polygonal).sum())} feature(s) are not polygons; "
                        "regions must be polygons or multipolygons")
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))

    names = gdf[cfg.name_field]
    if names.isna().any():
        raise DataError(f"{where}: {int(names.isna().sum())} region(s) have no "
                        f"{cfg.name_field!r}; every region needs a name")
    names = names.astype(str)
    dup = names[names.duplicated()].unique()
    if len(dup):
        raise DataError(f"{where}: region names in {cfg.name_field!r} must be unique; "
                        f"repeated: {', '.join(dup[:10])}")
    if cfg.group_map is not None:
        unknown = sorted(set(names) - set(cfg.group_map))
        if unknown:
            raise DataError(f"[regions] group_map has no group for region(s) "
                            f"{', '.join(unknown)}; add them to group_map")
        groups = names.map(cfg.group_map)
    else:
        groups = gdf[cfg.group_field]
        if groups.isna().any():
            raise DataError(f"{where}: {int(groups.isna().sum())} region(s) have no "
                            f"{cfg.group_field!r}")
        groups = groups.astype(str)

    if crs is None:
        centre = gdf.to_crs(WGS84).union_all().envelope.centroid
        crs = utm_crs_for(centre.x, centre.y)
    gdf = project(gdf, crs, cfg.source)
    gdf = gdf.drop(columns=[c for c in ("region", "group") if c in gdf.columns])
    gdf.insert(0, "region", names.to_numpy())
    gdf.insert(1, "group", groups.to_numpy())
    gdf = gdf.reset_index(drop=True)
    for spec in cfg.split:
        gdf = _split_far_parts(gdf, spec, notes)

    area = gdf.area.sum()
    overlap = area - gdf.union_all().area
    if overlap > 1e-4 * area:
        notes.warn("regions", f"region polygons overlap by {overlap / 1e6:,.2f} km²; points in "
                   "an overlap are counted in the first region only")
    return Regions(gdf, declared_lonlat=lonlat)


def _split_far_parts(gdf: gpd.GeoDataFrame, spec: SplitSpec, notes: Notes) -> gpd.GeoDataFrame:
    """Move the parts of ``spec.region`` far from its largest part into a new region."""
    where = f"[[regions.split]] region = {spec.region!r}"
    hit = np.flatnonzero(gdf["region"].to_numpy() == spec.region)
    if not len(hit):
        raise DataError(f"{where}: no such region; regions: {', '.join(gdf['region'])}")
    if spec.name in set(gdf["region"]):
        raise DataError(f"{where}: a region named {spec.name!r} already exists")
    i = int(hit[0])
    parts = shapely.get_parts(gdf.geometry.iloc[i])
    area = shapely.area(parts)
    far = shapely.distance(parts, parts[np.argmax(area)]) > spec.min_distance_m
    if not far.any():
        raise DataError(f"{where}: no part of it lies more than {spec.min_distance_m:,.0f} m "
                        "from its largest part; lower min_distance_m or drop the split")
    missing = [f for f in spec.fields if f not in gdf.columns]
    if missing:
        raise DataError(f"{where}: fields {', '.join(missing)} are not fields of the region "
                        "layer")
    new = gdf.iloc[[i]].copy()
    new["region"], new["group"] = spec.name, spec.group
    for f, value in spec.fields.items():
        new[f] = value
    new = new.set_geometry([shapely.multipolygons(parts[far])], crs=gdf.crs)
    gdf.loc[gdf.index[i], "geometry"] = shapely.multipolygons(parts[~far])
    notes.info("regions", f"{spec.region}: {int(far.sum())} polygon part(s) "
               f"({area[far].sum() / 1e6:,.1f} km²) farther than {spec.min_distance_m:,.0f} m "
               f"from its largest part form the region {spec.name} ({spec.group})")
    return pd.concat([gdf, new], ignore_index=True)


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a geometry (make_valid may return collections with lines)."""
    if geom is None:
        return shapely.Polygon()
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    parts = [g for g in shapely.get_parts(geom)
             if isinstance(g, shapely.Polygon | shapely.MultiPolygon)]
    return shapely.union_all(parts) if parts else shapely.Polygon()
