"""Build a :class:`PopulationGrid` from a raster, a vector grid or points, or census totals.

Every constructor keeps only populated cells inside the regions, and records what it
left out, so that ``grid.total + grid.outside_population == grid.source_total``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from equiserve.config import (
    CensusPopulation,
    PopulationConfig,
    RasterPopulation,
    RasterSubgroup,
    VectorPopulation,
)
from equiserve.errors import DataError
from equiserve.inputs.population.checks import HasData, check_population
from equiserve.inputs.population.grid import PopulationGrid
from equiserve.inputs.regions import Regions
from equiserve.io.tables import read_table
from equiserve.io.vector import apply_filter, read_vector
from equiserve.notes import Notes

#: A weighting function for census spreading: cell shapes -> weight per cell.
Weights = Callable[[gpd.GeoSeries], np.ndarray]
#: Polygons covering less than this share of the regions' area are not a grid that tiles
#: them (buildings, compounds): where they are missing is not where data are missing.
TILING_SHARE = 0.5
#: Mean radius of the Earth (m), for the area of a pixel of a geographic raster.
EARTH_RADIUS_M = 6_371_008.8


def load_population(cfg: PopulationConfig, regions: Regions,
                    notes: Notes | None = None) -> PopulationGrid:
    """Build the population grid a study configuration asks for."""
    notes = Notes() if notes is None else notes
    match cfg:
        case RasterPopulation():
            return population_from_raster(cfg.source.path, regions, band=cfg.band,
                                          subgroups=cfg.subgroups, crs=cfg.source.crs,
                                          notes=notes)
        case VectorPopulation():
            gdf = read_vector(cfg.source, notes)
            return population_from_vector(gdf, cfg.count_field, regions,
                                          {k: s.field for k, s in cfg.subgroups.items()},
                                          notes=notes,
                                          where=f"[population] {cfg.source.path.name}")
        case CensusPopulation():
            return _census_from_config(cfg, regions, notes)


# ---------------------------------------------------------------------------------------
# raster


def population_from_raster(path: str | Path, regions: Regions, band: int = 1,
                           subgroups: Mapping[str, RasterSubgroup] | None = None,
                           crs: pyproj.CRS | str | None = None,
                           notes: Notes | None = None) -> PopulationGrid:
    """Cells from a population raster (e.g. WorldPop 100 m), one per populated pixel.

    Only the window covering the regions is read. Nodata pixels (and NaN) are ignored and
    counted in a note; negative values are an error. ``source_total`` is the sum of valid
    pixels in that window.
    """
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    notes = Notes() if notes is None else notes
    path = Path(path)
    where = f"[population] {path.name}"
    if not path.exists():
        raise DataError(f"{where}: file not found: {path}")
    try:
        src = rasterio.open(path)
    except Exception as exc:
        raise DataError(f"{where}: cannot open raster: {exc}") from None
    with src:
        if isinstance(crs, str):
            raise DataError(f"{where}: rasters in {crs} are not supported; reproject the "
                            "raster to WGS84 or a projected CRS first")
        src_crs = crs or (pyproj.CRS.from_user_input(src.crs) if src.crs else None)
        if src_crs is None:
            raise DataError(f"{where}: the raster has no CRS; declare it with crs = "
                            "\"EPSG:....\" in [population]")
        bounds = transform_bounds(regions.crs, src_crs, *regions.gdf.total_bounds)
        win = from_bounds(*bounds, transform=src.transform)
        c0, r0 = np.floor(win.col_off), np.floor(win.row_off)
        c1, r1 = np.ceil(win.col_off + win.width), np.ceil(win.row_off + win.height)
        c0, r0 = max(int(c0), 0), max(int(r0), 0)
        c1, r1 = min(int(c1), src.width), min(int(r1), src.height)
        if c1 <= c0 or r1 <= r0:
            raise DataError(f"{where}: the raster does not overlap the regions; check its "
                            "CRS and extent")
        win = Window(c0, r0, c1 - c0, r1 - r0)
        transform = src.window_transform(win)

        def read(b: int, p: Path | None = None) -> np.ma.MaskedArray:
            ds = src if p is None else rasterio.open(p)
            try:
                if b > ds.count:
                    raise DataError(f"{where}: band {b} requested but "
                                    f"{(p or path).name} has {ds.count} band(s)")
                if p is not None and (ds.width, ds.height, ds.transform) != (
                        src.width, src.height, src.transform):
                    raise DataError(f"[population.subgroups] {p.name} is not on the same grid "
                                    f"as {path.name}; resample it to the same grid")
                arr = ds.read(b, window=win, masked=True).astype(np.float64)
            finally:
                if p is not None:
                    ds.close()
            return np.ma.masked_invalid(arr)

        total = read(band)
        nodata = src.nodata
        sub_arrays = {name: read(spec.band or 1, spec.path)
                      for name, spec in (subgroups or {}).items()}

    valid = ~np.ma.getmaskarray(total)
    values = total.filled(0.0)
    n_nodata = int((~valid).sum())
    if not valid.any():
        raise DataError(f"{where}: every pixel over the regions is nodata (nodata value "
                        f"{nodata}); check the band, the nodata value and that the raster "
                        "covers the study area")
    if n_nodata:
        notes.info("population", f"{n_nodata:,} nodata pixel(s) in {path.name} ignored")
    negative = valid & (values < 0)
    if negative.any():
        raise DataError(f"{where}: {int(negative.sum())} pixel(s) have negative population "
                        f"(min {values[negative].min():g}); set them to nodata or 0")
    rows, cols = np.nonzero(values > 0)
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f
    cx, cy = cols + 0.5, rows + 0.5
    sx, sy = c + a * cx + b * cy, f + d * cx + e * cy
    to_work = pyproj.Transformer.from_crs(src_crs, regions.crs, always_xy=True)
    x, y = to_work.transform(sx, sy)
    pop = values[rows, cols]
    subs = {k: np.asarray(arr.filled(0.0)[rows, cols]) for k, arr in sub_arrays.items()}
    cell_area = abs(a * e - b * d) if src_crs.is_projected else None
    # a pixel of a geographic raster shrinks with the cosine of its latitude
    areas = cell_area if cell_area is not None else (
        abs(a * e - b * d) * (np.pi / 180 * EARTH_RADIUS_M) ** 2 * np.cos(np.radians(sy)))
    to_src = pyproj.Transformer.from_crs(regions.crs, src_crs, always_xy=True)

    def has_data(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        col, row = ~transform * to_src.transform(px, py)
        col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
        ok = (row >= 0) & (row < valid.shape[0]) & (col >= 0) & (col < valid.shape[1])
        out = np.zeros(len(px), dtype=bool)
        out[ok] = valid[row[ok], col[ok]]
        return out

    def make_geometry() -> np.ndarray:
        corners_c = np.stack([cols, cols + 1, cols + 1, cols, cols], axis=1)
        corners_r = np.stack([rows, rows, rows + 1, rows + 1, rows], axis=1)
        px, py = c + a * corners_c + b * corners_r, f + d * corners_c + e * corners_r
        px, py = to_work.transform(px, py)
        return shapely.polygons(np.stack([px, py], axis=-1))

    return _finish(x, y, pop, subs, regions, "raster", float(values[valid].sum()), notes,
                   cell_area, make_geometry, where=where, areas=areas, has_data=has_data)


# ---------------------------------------------------------------------------------------
# vector


def population_from_vector(gdf: gpd.GeoDataFrame, count_field: str, regions: Regions,
                           subgroup_fields: Mapping[str, str | None] | None = None,
                           notes: Notes | None = None,
                           where: str = "[population]") -> PopulationGrid:
    """Cells from polygons (a vector grid) or points with a count field.

    Polygons are represented by their centroid (or a point on their surface when the
    centroid falls outside); features with zero population are left out.
    """
    notes = Notes() if notes is None else notes
    fields = {count_field: "count_field"} | {
        f: f"subgroups.{k}.field" for k, f in (subgroup_fields or {}).items() if f}
    for fld, key in fields.items():
        if fld not in gdf.columns:
            raise DataError(f"{where}: {key} = {fld!r} is not a field; fields: "
                            + ", ".join(c for c in gdf.columns if c != "geometry"))
    gdf = gdf.to_crs(regions.crs)

    def counts(fld: str) -> np.ndarray:
        vals = pd.to_numeric(gdf[fld], errors="coerce").to_numpy(float)
        missing = ~np.isfinite(vals)
        if missing.any():
            notes.warn("population", f"{int(missing.sum())} feature(s) have no numeric "
                       f"{fld!r} in {where}; counted as 0")
            vals = np.where(missing, 0.0, vals)
        if (vals < 0).any():
            raise DataError(f"{where}: {int((vals < 0).sum())} feature(s) have negative "
                            f"{fld!r}; population counts must be >= 0")
        return vals

    pop = counts(count_field)
    subs = {k: counts(f) for k, f in (subgroup_fields or {}).items() if f}
    geoms = gdf.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    pts = shapely.centroid(geoms)
    bad = ~is_point & ~shapely.intersects(geoms, pts)
    if bad.any():
        pts[bad] = shapely.point_on_surface(geoms[bad])
    keep = pop > 0
    kind = "points" if is_point.all() else "polygons"
    polys = np.asarray(geoms)[keep]
    areas = shapely.area(np.asarray(geoms))  # 0 for points
    has_data = None
    # every polygon is data, with people or none; only a grid that tiles the land tells
    # where data are missing (building footprints or compounds cover a fraction of it)
    if kind == "polygons" and areas.sum() >= TILING_SHARE * regions.area:
        tree = shapely.STRtree(np.asarray(geoms)[~is_point])

        def has_data(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            hit = np.zeros(len(x), dtype=bool)
            hit[tree.query(shapely.points(x, y), predicate="intersects")[0]] = True
            return hit

    return _finish(shapely.get_x(pts)[keep], shapely.get_y(pts)[keep], pop[keep],
                   {k: v[keep] for k, v in subs.items()}, regions, kind, float(pop.sum()),
                   notes, None, None if kind == "points" else (lambda: polys), where=where,
                   areas=None if kind == "points" else areas[keep], has_data=has_data)


# ---------------------------------------------------------------------------------------
# census


def population_from_census(regions: Regions, totals: np.ndarray, cell_size_m: float = 100.0,
                           subgroup_totals: Mapping[str, np.ndarray] | None = None,
                           weights: Weights | None = None,
                           notes: Notes | None = None,
                           where: str = "[population] census totals") -> PopulationGrid:
    """Spread a total per region over a regular grid clipped to the region's land.

    Each region is cut into the squares of a grid aligned to multiples of ``cell_size_m``
    in the working CRS; squares on the coastline or a region border are clipped to it. A
    region's total is shared out in proportion to the cells' weights: by default their
    land area (uniform density, the simplest dasymetric method). Pass ``weights`` (cell
    shapes -> weight per cell) for better ancillary data, e.g. built-up area.

    Parameters
    ----------
    regions : Regions
    totals : ndarray
        Population of each region, aligned with region indices.
    cell_size_m : float
        Side of the grid squares in metres.
    subgroup_totals : dict of str to ndarray, optional
        Subgroup totals per region, spread the same way.
    weights : callable, optional
        Dasymetric weights; must return non-negative finite values.
    """
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    notes = Notes() if notes is None else notes
    totals = np.asarray(totals, dtype=float)
    s = float(cell_size_m)
    xs, ys, pops, regs, pieces, areas = [], [], [], [], [], []
    subs: dict[str, list[np.ndarray]] = {k: [] for k in (subgroup_totals or {})}
    for i, geom in enumerate(regions.gdf.geometry.values):
        xmin, ymin, xmax, ymax = geom.bounds
        x0, y1 = np.floor(xmin / s) * s, np.ceil(ymax / s) * s
        width = int(np.ceil((xmax - x0) / s))
        height = int(np.ceil((y1 - ymin) / s))
        transform = from_origin(x0, y1, s, s)
        touched = rasterize([(geom, 1)], (height, width), transform=transform,
                            all_touched=True, dtype="uint8").astype(bool)
        edge = rasterize([(geom.boundary, 1)], (height, width), transform=transform,
                         all_touched=True, dtype="uint8").astype(bool) & touched
        rows, cols = np.nonzero(touched)
        bx0 = x0 + cols * s
        by1 = y1 - rows * s
        on_edge = edge[rows, cols]
        cells = shapely.box(bx0, by1 - s, bx0 + s, by1)
        cells[on_edge] = _clip_cells(geom, cells[on_edge], rows[on_edge], cols[on_edge], s,
                                     x0, y1)
        area = shapely.area(cells)
        nonzero = area > 0
        cells, area = cells[nonzero], area[nonzero]
        if weights is None:
            w = area
        else:
            w = np.asarray(weights(gpd.GeoSeries(cells, crs=regions.crs)), dtype=float)
            if w.shape != area.shape or not np.isfinite(w).all() or (w < 0).any():
                raise DataError("census weights must return one finite, non-negative weight "
                                f"per cell ({area.size} for region {regions.names[i]!r})")
        wsum = w.sum()
        if wsum <= 0:
            if totals[i] > 0:
                raise DataError(f"region {regions.names[i]!r} has population {totals[i]:,.0f} "
                                "but no land (or zero weight) to place it on")
            continue
        share = w / wsum
        cent = shapely.centroid(cells)
        # a clipped piece can be concave or in parts (coast, hole, border) and its centroid
        # then falls outside it, at sea or in another region: use a point on its surface
        off = ~shapely.intersects(cells, cent)
        if off.any():
            cent[off] = shapely.point_on_surface(cells[off])
        xs.append(shapely.get_x(cent))
        ys.append(shapely.get_y(cent))
        areas.append(area)
        pops.append(totals[i] * share)
        regs.append(np.full(share.size, i, dtype=np.int32))
        pieces.append(cells)
        for k, sub in (subgroup_totals or {}).items():
            subs[k].append(np.asarray(sub, dtype=float)[i] * share)

    def cat(parts: list[np.ndarray], dtype: type = float) -> np.ndarray:
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

    geoms = cat(pieces, object)
    keep = cat(pops) > 0
    geoms_kept = geoms[keep]
    grid = PopulationGrid(
        x=cat(xs)[keep], y=cat(ys)[keep], population=cat(pops)[keep],
        region=cat(regs, np.int32)[keep], crs=regions.crs, kind="census",
        source_total=float(totals.sum()), outside_population=0.0,
        subgroups={k: cat(v)[keep] for k, v in subs.items()}, cell_area_m2=s * s,
        make_geometry=lambda: geoms_kept,
    )
    how = "land area (uniform density)" if weights is None else "the given weights"
    notes.info("population", f"census totals spread over {len(grid):,} cells of {s:g} m "
               f"in proportion to {how}")
    check_population(grid, regions, notes, where, cat(areas)[keep])
    return grid


def _clip_cells(geom: shapely.Geometry, cells: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                s: float, x0: float, y1: float, tile: int = 16) -> np.ndarray:
    """Intersect edge cells with the region, tile by tile.

    The region is first cut to each ``tile`` x ``tile`` block of cells (a fast rectangle
    clip), so each cell is intersected with a small piece instead of the whole coastline.
    """
    out = np.empty(len(cells), dtype=object)
    key = (rows // tile) * (int(cols.max()) // tile + 1) + cols // tile if len(cols) else cols
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for idx in np.split(order, bounds):
        if not idx.size:
            continue
        tr, tc = rows[idx[0]] // tile, cols[idx[0]] // tile
        piece = shapely.clip_by_rect(geom, x0 + tc * tile * s, y1 - (tr + 1) * tile * s,
                                     x0 + (tc + 1) * tile * s, y1 - tr * tile * s)
        out[idx] = shapely.intersection(piece, cells[idx])
    return out


def _norm_key(value: object) -> str:
    """Join keys compare as text, with 440403.0 and 440403 the same."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _census_from_config(cfg: CensusPopulation, regions: Regions, notes: Notes
                        ) -> PopulationGrid:
    table = cfg.table
    where = f"[population] table {table.name}"
    if not table.exists():
        raise DataError(f"{where}: file not found: {table}")
    df = read_table(table, where="[population] table", encoding=cfg.encoding,
                    sheet=cfg.sheet, notes=notes, subject="population")
    if cfg.filter:
        df = apply_filter(df, cfg.filter, "[population] filter", table)
    sub_fields = {k: s.field for k, s in cfg.subgroups.items() if s.field}
    for fld, key in [(cfg.key_field, "key_field"), (cfg.value_field, "value_field")] + [
            (f, f"subgroups.{k}.field") for k, f in sub_fields.items()]:
        if fld not in df.columns:
            raise DataError(f"{where}: {key} = {fld!r} is not a column; columns: "
                            + ", ".join(map(str, df.columns)))
    if cfg.region_key_field not in regions.gdf.columns:
        raise DataError(f"[population] region_key_field = {cfg.region_key_field!r} is not a "
                        "field of the region layer; fields: "
                        + ", ".join(c for c in regions.gdf.columns if c != "geometry"))
    keys = df[cfg.key_field].map(_norm_key)
    dup = keys[keys.duplicated()].unique()
    if len(dup):
        raise DataError(f"{where}: key {', '.join(dup)} appears more than once in "
                        f"{cfg.key_field!r} (after filter); narrow the filter so each region "
                        "has one row")
    values = pd.to_numeric(df[cfg.value_field], errors="coerce")
    if values.isna().any() or (values < 0).any():
        raise DataError(f"{where}: {cfg.value_field!r} must be a non-negative number in "
                        "every row")
    by_key = dict(zip(keys, values, strict=True))
    region_keys = regions.gdf[cfg.region_key_field].map(_norm_key)
    missing = [n for n, k in zip(regions.names, region_keys, strict=True) if k not in by_key]
    if missing:
        notes.warn("population", f"no census row for region(s) {', '.join(missing)} in "
                   f"{table.name}; their population is 0")
    unused = sorted(set(by_key) - set(region_keys))
    if unused:
        notes.warn("population", f"census row(s) {', '.join(unused)} in {table.name} match no "
                   "region and are not used")
    totals = np.array([by_key.get(k, 0.0) for k in region_keys], dtype=float)
    sub_totals = {}
    for name, spec in cfg.subgroups.items():
        if spec.field:
            col = pd.to_numeric(df[spec.field], errors="coerce")
            if col.isna().any():
                notes.warn("population", f"{int(col.isna().sum())} row(s) of {table.name} have "
                           f"no numeric {spec.field!r} (subgroup {name}); counted as 0")
                col = col.fillna(0.0)
            m = dict(zip(keys, col, strict=True))
            sub_totals[name] = np.array([m.get(k, 0.0) for k in region_keys], dtype=float)
        else:
            sub_totals[name] = totals * float(spec.share or 0.0)
    weights = None
    if cfg.weights is not None:
        pts = read_vector(cfg.weights.source, notes).to_crs(regions.crs)
        if pts.empty:
            raise DataError(f"[population.weights] {cfg.weights.source.path.name}: no points "
                            "(after filter)")
        pts = pts.geometry.representative_point()
        weights = settlement_weights(np.column_stack([pts.x, pts.y]), cfg.weights.sigma_m,
                                     cfg.weights.floor)
        notes.info("population", f"census totals weighted towards {len(pts)} settlement "
                   f"points of {cfg.weights.source.path.name} (Gaussian, sigma "
                   f"{cfg.weights.sigma_m:,.0f} m, floor {cfg.weights.floor:g}): a proxy for "
                   "a population grid")
    return population_from_census(regions, totals, cfg.cell_size_m, sub_totals,
                                  weights=weights, notes=notes, where=where)


def settlement_weights(points_xy: np.ndarray, sigma_m: float, floor: float = 0.02) -> Weights:
    """Census weights concentrating people around settlement points.

    weight = land area x (floor + sum over points of exp(-d² / 2 sigma²)), so a cell at a
    settlement weighs about ``1 + floor`` per m² and a remote one ``floor``.

    >>> import geopandas as gpd, shapely
    >>> w = settlement_weights(np.array([[0.0, 0.0]]), 1000.0, floor=0.1)
    >>> cells = gpd.GeoSeries([shapely.box(-50, -50, 50, 50), shapely.box(2950, -50, 3050, 50)])
    >>> np.round(w(cells) / 10_000, 3).tolist()  # per m²: near 1.1, at 3 sigma 0.1 + 0.011
    [1.1, 0.111]
    """
    from scipy.spatial import cKDTree

    tree = cKDTree(points_xy)

    def weigh(cells: gpd.GeoSeries) -> np.ndarray:
        c = shapely.centroid(cells.values)
        xy = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
        near = tree.query_ball_point(xy, 5 * sigma_m)  # farther adds < 4e-6 each
        k = np.zeros(len(xy))
        for i, idx in enumerate(near):
            if idx:
                d2 = ((points_xy[idx] - xy[i]) ** 2).sum(axis=1)
                k[i] = np.exp(-d2 / (2 * sigma_m ** 2)).sum()
        return shapely.area(cells.values) * (floor + k)

    return weigh


# ---------------------------------------------------------------------------------------


def _finish(x: np.ndarray, y: np.ndarray, pop: np.ndarray, subs: dict[str, np.ndarray],
            regions: Regions, kind: str, source_total: float, notes: Notes,
            cell_area: float | None, make_geometry: Callable[[], np.ndarray] | None,
            where: str, areas: np.ndarray | float | None, has_data: HasData | None
            ) -> PopulationGrid:
    """Assign cells to regions, drop those outside every region and note what was lost;
    then :func:`~equiserve.inputs.population.checks.check_population` (``areas`` of the
    cells in m², ``has_data`` where the source has data)."""
    region = regions.locate(x, y)
    grid = PopulationGrid(x=np.asarray(x, float), y=np.asarray(y, float),
                          population=np.asarray(pop, float), region=region, crs=regions.crs,
                          kind=kind, source_total=source_total, subgroups=subs,
                          cell_area_m2=cell_area, make_geometry=make_geometry)
    inside = region >= 0
    outside = float(grid.population[~inside].sum())
    if not inside.all():
        notes.warn("population", f"{int((~inside).sum()):,} populated cell(s) "
                   f"({outside:,.0f} people) lie outside every region and are left out")
    grid = grid.subset(inside)
    grid.outside_population = outside
    if isinstance(areas, np.ndarray):
        areas = areas[inside]
    check_population(grid, regions, notes, where, areas, has_data)
    return grid
