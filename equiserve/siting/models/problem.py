"""What a location model is given on one layer (:class:`SitingProblem`) and how the registry
(:mod:`equiserve.siting.models.registry`) describes a model (:class:`LocationModel`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from equiserve.siting.models.result import SitingResult

_T = TypeVar("_T")


@dataclass(frozen=True)
class SitingProblem:
    """Inputs of a location model on one layer: columns are existing facilities first
    (``fixed``), then candidates."""

    coverage: sp.csr_matrix            # cells x columns, bool: column within the standard
    weights: np.ndarray                # people per cell
    fixed: np.ndarray                  # int column indices always open (existing facilities)
    cost: sp.csr_matrix | None = None  # cells x columns costs up to max_cost (p-median)
    max_cost: float | None = None
    groups: np.ndarray | None = None   # group label per cell (maxmin)
    capacity: np.ndarray | None = None  # places per column (capacitated)


#: How a registered model is solved: (problem, count, target share for lscp, time_limit_s).
Solver = Callable[[SitingProblem, int | None, float, float | None], SitingResult]


@dataclass(frozen=True)
class LocationModel:
    """A location model as the registry offers it: what it needs and how to solve it."""

    name: str                 # "mclp"
    objective_text: str       # what the objective counts, with its unit
    needs_count: bool         # False only for lscp
    needs_capacity: bool      # True only for capacitated
    reach_factor: float       # costs are needed up to reach_factor x the standard
    maximize: bool
    solve: Solver             # (problem, count, target share for lscp, time_limit_s)
    objective_is_share: bool = False  # the objective is a share (0-1), shown as a percent


def required(value: _T | None, what: str, model: str) -> _T:
    """``value``, or a ``ValueError`` saying that ``model`` needs ``what``."""
    if value is None:
        raise ValueError(f"model {model!r} needs {what}")
    return value
