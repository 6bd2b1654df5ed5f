"""Population: a grid of populated cells from a raster, a vector grid/points or census totals."""

from equiserve.inputs.population.grid import PopulationGrid
from equiserve.inputs.population.sources import (
    load_population,
    population_from_census,
    population_from_raster,
    population_from_vector,
)

__all__ = [
    "PopulationGrid",
    "load_population",
    "population_from_census",
    "population_from_raster",
    "population_from_vector",
]
