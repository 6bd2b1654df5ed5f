"""The population grid: populated cells as NumPy arrays in the working CRS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pyproj


@dataclass
class PopulationGrid:
    """Populated cells of a study, index-aligned arrays.

    Attributes
    ----------
    x, y : ndarray of float
        Cell centres (or population points) in the working CRS, metres.
    population : ndarray of float
        People per cell.
    region : ndarray of int32
        Index of the region holding each cell (into :class:`~equiserve.inputs.regions.Regions`).
    subgroups : dict of str to ndarray
        Subgroup counts per cell (e.g. ``children_6_11``), each aligned with ``population``.
    crs : pyproj.CRS
        The working CRS.
    kind : str
        How the cells were made: ``raster``, ``polygons``, ``points`` or ``census``.
    source_total : float
        Total population in the source (all valid values, inside regions or not).
    outside_population : float
        Population of source cells outside every region, left out of the grid.
    cell_area_m2 : float or None
        Nominal cell area for regular grids.
    make_geometry : callable
        Returns the cell shapes (polygons, or points for point sources) on demand.
    """

    x: np.ndarray
    y: np.ndarray
    population: np.ndarray
    region: np.ndarray
    crs: pyproj.CRS
    kind: str
    source_total: float
    outside_population: float = 0.0
    subgroups: dict[str, np.ndarray] = field(default_factory=dict)
    cell_area_m2: float | None = None
    make_geometry: Callable[[], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.population)

    @property
    def total(self) -> float:
        """Total population of the grid (inside the regions)."""
        return float(self.population.sum())

    @property
    def xy(self) -> np.ndarray:
        """Cell centres as an (n, 2) array."""
        return np.column_stack([self.x, self.y])

    def counts(self, subgroup: str | None) -> np.ndarray:
        """Counts per cell of the total population (None) or a named subgroup."""
        if subgroup is None:
            return self.population
        return self.subgroups[subgroup]

    def geometry(self) -> gpd.GeoSeries:
        """Cell shapes in the working CRS (polygons; points for point sources)."""
        if self.make_geometry is None:
            geoms = gpd.points_from_xy(self.x, self.y)
        else:
            geoms = self.make_geometry()
        return gpd.GeoSeries(geoms, crs=self.crs)

    def subset(self, keep: np.ndarray) -> PopulationGrid:
        """A grid of the cells where ``keep`` is true (geometry follows lazily)."""
        make = self.make_geometry
        return PopulationGrid(
            x=self.x[keep], y=self.y[keep], population=self.population[keep],
            region=self.region[keep], crs=self.crs, kind=self.kind,
            source_total=self.source_total, outside_population=self.outside_population,
            subgroups={k: v[keep] for k, v in self.subgroups.items()},
            cell_area_m2=self.cell_area_m2,
            make_geometry=None if make is None else (lambda: np.asarray(make())[keep]),
        )
