"""The analysis: pure functions on arrays. Distance to the nearest facility, who meets the
standard, catchment access, capacity allocation and inequality, by study, group and region
(:mod:`.levels`), and sums over map blocks (:mod:`.blocks`). Nothing here reads or writes
files or knows a Study."""

from equiserve.analysis.capacity import Allocation, allocate_nearest_first
from equiserve.analysis.catchment import (
    enhanced_two_step_fca,
    gaussian_weights,
    gravity_access,
    gravity_weights,
    step_weights,
    two_step_fca,
)
from equiserve.analysis.inequality import (
    TheilDecomposition,
    coefficient_of_variation,
    equity_indices,
    gini,
    group_means,
    lorenz_curve,
    theil_decomposition,
    theil_t,
)
from equiserve.analysis.nearest import nearest_facility
from equiserve.analysis.summary import (
    coverage_table,
    grouped_weighted_quantile,
    weighted_quantile,
)

__all__ = [
    "Allocation",
    "TheilDecomposition",
    "allocate_nearest_first",
    "coefficient_of_variation",
    "coverage_table",
    "enhanced_two_step_fca",
    "equity_indices",
    "gaussian_weights",
    "gini",
    "gravity_access",
    "gravity_weights",
    "group_means",
    "grouped_weighted_quantile",
    "lorenz_curve",
    "nearest_facility",
    "step_weights",
    "theil_decomposition",
    "theil_t",
    "two_step_fca",
    "weighted_quantile",
]
