"""Coverage: distance to the nearest facility, who meets the standard, by region and group."""

from equiserve.coverage.nearest import nearest_facility
from equiserve.coverage.summary import (
    coverage_table,
    grouped_weighted_quantile,
    weighted_quantile,
)

__all__ = ["coverage_table", "grouped_weighted_quantile", "nearest_facility", "weighted_quantile"]
