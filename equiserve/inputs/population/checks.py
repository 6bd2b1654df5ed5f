"""Is a population plausible? Checks run on every grid, whatever its source.

A grid can be read without error and still be wrong: a raster that stops short of two
districts gives them no people, a pixel of 3e12 people or a subgroup band five times the
total are numbers like any other. These checks turn what would be silently wrong into a
note, or into an error where every figure would be meaningless:

* a region with no people (a warning: its coverage figures are empty);
* a region the source covers only in part (a warning naming the share);
* cells denser than :data:`~equiserve.settings.MAX_DENSITY_KM2` (a warning) or than
  :data:`~equiserve.settings.IMPOSSIBLE_DENSITY_KM2` (an error);
* subgroup counts above the total: per cell a warning, in sum an error;
* no people at all (an error).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

from equiserve.errors import DataError
from equiserve.inputs.population.grid import PopulationGrid
from equiserve.inputs.regions import Regions
from equiserve.notes import Notes
from equiserve.settings import (
    IMPOSSIBLE_DENSITY_KM2,
    MAX_DENSITY_KM2,
    MIN_POPULATION_COVER,
    SAMPLE_POINTS_PER_REGION,
)

#: Whether the source has data at points (x, y in the working CRS).
HasData = Callable[[np.ndarray, np.ndarray], np.ndarray]


def check_population(grid: PopulationGrid, regions: Regions, notes: Notes, where: str,
                     areas_m2: np.ndarray | float | None = None,
                     has_data: HasData | None = None) -> None:
    """Note (or refuse) what is implausible in ``grid`` (see the module docstring).

    Parameters
    ----------
    where : str
        The source, for messages (``"[population] pop.tif"``).
    areas_m2 : ndarray or float, optional
        Area of each cell (or of every cell) in m²; None for points (no density check).
    has_data : callable, optional
        Where the source has data (valid pixels, polygons); None: everywhere.
    """
    if grid.total <= 0:
        raise DataError(f"{where}: no people inside the regions (the source's total inside "
                        f"them is 0 of {grid.source_total:,.0f}); check the source, its band, "
                        "CRS and extent")
    _check_subgroups(grid, where, notes)
    if areas_m2 is not None:
        _check_density(grid, np.broadcast_to(np.asarray(areas_m2, float), grid.x.shape),
                       where, notes)
    uncovered = {} if has_data is None else _uncovered(regions, has_data)
    partial = {n: s for n, s in uncovered.items() if s > 1 - MIN_POPULATION_COVER}
    people = np.bincount(grid.region, weights=grid.population, minlength=len(regions.names))
    empty = [str(n) for n, p in zip(regions.names, people, strict=True) if p <= 0]
    if empty:
        notes.warn("population", f"region(s) {', '.join(empty)} have no people in {where}: "
                   "their coverage figures are empty and they count for nothing in the "
                   "group and study figures"
                   + ("" if not set(empty) & set(partial) else
                      " (the source has no data over them)"))
    if partial:
        notes.warn("population", f"{where} has no data over part of "
                   + ", ".join(f"{n} ({s:.0%})" for n, s in partial.items())
                   + ": nobody is counted there (nodata, or outside the source's extent; "
                   "water is nodata in some rasters); check that the source covers the "
                   "study area")


def _check_subgroups(grid: PopulationGrid, where: str, notes: Notes) -> None:
    pop = grid.population
    for name, sub in grid.subgroups.items():
        over = sub > pop * (1 + 1e-9) + 1e-9
        if sub.sum() > grid.total * (1 + 1e-9):
            raise DataError(f"{where}: subgroup {name} has {sub.sum():,.0f} people in all, more "
                            f"than the total population {grid.total:,.0f} "
                            f"({sub.sum() / grid.total:.1f} times); check its band, field or "
                            "share in [population.subgroups]")
        if over.any():
            ratio = np.max(sub[over] / np.maximum(pop[over], 1e-12))
            notes.warn("population", f"{int(over.sum()):,} cell(s) of {where} have more "
                       f"{name} than people (by {(sub[over] - pop[over]).sum():,.0f} in all, "
                       f"up to {ratio:.3g} times); the subgroup figures use them as given")


def _check_density(grid: PopulationGrid, areas: np.ndarray, where: str, notes: Notes) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        density = grid.population / (areas / 1e6)
    density = np.where(areas > 0, density, 0.0)
    worst = int(np.argmax(density)) if len(density) else 0
    if not len(density) or density[worst] <= MAX_DENSITY_KM2:
        return
    at = (f"{grid.population[worst]:,.4g} people on {areas[worst]:,.0f} m² at x "
          f"{grid.x[worst]:,.0f}, y {grid.y[worst]:,.0f} ({grid.crs.to_string()})")
    if density[worst] > IMPOSSIBLE_DENSITY_KM2:
        n = int((density > IMPOSSIBLE_DENSITY_KM2).sum())
        raise DataError(f"{where}: {n:,} cell(s) hold more than {IMPOSSIBLE_DENSITY_KM2:,.0f} "
                        f"people per km², more than anywhere on Earth (worst: {at}); check "
                        "the values, their unit (people per cell, not per km²) and nodata")
    high = density > MAX_DENSITY_KM2
    notes.warn("population", f"{int(high.sum()):,} cell(s) of {where} "
               f"({grid.population[high].sum():,.0f} people) are denser than "
               f"{MAX_DENSITY_KM2:,.0f} people per km², the densest city districts "
               f"(worst: {at}); check the values and their unit, unless the cells are "
               "buildings")


def _uncovered(regions: Regions, has_data: HasData) -> dict[str, float]:
    """Share of each region where the source has no data, from a regular sample
    of about :data:`SAMPLE_POINTS_PER_REGION` points per region."""
    out: dict[str, float] = {}
    for name, geom in zip(regions.names, regions.gdf.geometry.values, strict=True):
        x, y = _sample_points(geom, SAMPLE_POINTS_PER_REGION)
        if len(x):
            out[str(name)] = float(1.0 - np.mean(has_data(x, y)))
    return out


def _sample_points(geom: shapely.Geometry, n: int) -> tuple[np.ndarray, np.ndarray]:
    """About ``n`` points on a regular grid inside ``geom`` (at least its representative
    point); the grid over its bounding box has at most ``50 n`` points, so a sliver of a
    region costs no more than a square one (it gets fewer points)."""
    xmin, ymin, xmax, ymax = geom.bounds
    box_area = max((xmax - xmin) * (ymax - ymin), 1e-12)
    step = max(np.sqrt(geom.area / n), np.sqrt(box_area / (50 * n)), 1e-6)
    gx, gy = np.meshgrid(np.arange(xmin + step / 2, xmax, step),
                         np.arange(ymin + step / 2, ymax, step))
    x, y = gx.ravel(), gy.ravel()
    shapely.prepare(geom)
    inside = shapely.intersects_xy(geom, x, y)
    if not inside.any():
        p = shapely.point_on_surface(geom)
        return np.array([shapely.get_x(p)]), np.array([shapely.get_y(p)])
    return x[inside], y[inside]
