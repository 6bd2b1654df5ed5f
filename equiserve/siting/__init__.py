"""Siting: candidate sites for new facilities and the location models that choose among them.

The location models (:mod:`equiserve.siting.models`) take plain matrices, so they can be
used on their own; see that package's docstring for how they are solved.
"""

from __future__ import annotations

from equiserve.siting.models import (
    InfeasibleError,
    SitingResult,
    maximize_capacitated_coverage,
    maximize_coverage,
    maximize_min_coverage,
    minimize_facilities,
    p_median,
)

__all__ = [
    "InfeasibleError",
    "SitingResult",
    "maximize_capacitated_coverage",
    "maximize_coverage",
    "maximize_min_coverage",
    "minimize_facilities",
    "p_median",
]
