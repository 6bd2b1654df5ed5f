"""What a location model returns: :class:`SitingResult`, or :class:`InfeasibleError`."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from equiserve.errors import EquiserveError

#: The location models by name (``SitingResult.model``, ``InfeasibleError.model``).
ModelName = Literal["mclp", "lscp", "pmedian", "capacitated", "maxmin"]


class InfeasibleError(EquiserveError, ValueError):
    """The model has no feasible solution; attributes say what cannot be reached.

    Attributes
    ----------
    model : {"mclp", "lscp", "pmedian", "capacitated", "maxmin"}
        The model that was asked for.
    uncoverable : numpy.ndarray
        Demand rows (with positive weight) that no column, fixed or candidate, covers
        (LSCP), or rows no open column can serve (p-median without ``max_cost``).
    best_share : float or None
        LSCP: the largest covered share any set of columns reaches.
    groups : list
        Equity models: the groups whose floor cannot be met.
    best_shares : dict
        Equity models: group -> the largest share that group reaches on its own with ``p``
        new columns (and all columns, when even that is short).
    """

    def __init__(self, message: str, *, model: ModelName, uncoverable: Iterable[int] = (),
                 best_share: float | None = None, groups: Iterable[Hashable] = (),
                 best_shares: Mapping[Hashable, float] | None = None) -> None:
        super().__init__(message)
        self.model = model
        self.uncoverable = np.asarray(list(uncoverable), dtype=np.int64)
        self.best_share = best_share
        self.groups = list(groups)
        self.best_shares = dict(best_shares or {})


@dataclass(frozen=True)
class SitingResult:
    """Solution of a location model.

    Attributes
    ----------
    model : str
        ``"mclp"``, ``"lscp"``, ``"pmedian"``, ``"capacitated"`` or ``"maxmin"``.
    selected : numpy.ndarray
        New (non-fixed) column indices chosen, sorted.
    objective : float
        The model's objective for ``fixed`` + ``selected`` (covered weight including what
        fixed columns cover; number of new columns; total weighted cost; people assigned;
        minimum group share).
    optimal : bool
        Proven optimal (relative gap <= ``OPTIMALITY_TOL``).
    gap : float
        Relative gap ``|bound - objective| / |objective|`` (0.0 when optimal; ``inf``
        when no feasible solution is known or the objective is 0 and the bound is not).
    bound : float
        Best proven bound on the objective (upper for maximisation, lower for
        minimisation).
    greedy_objective : float
        Objective of the greedy solution (``nan`` when greedy found no feasible one).
    solve_time_s : float
        Wall time of the whole call.
    rows_after_collapse : int
        Demand rows in the optimisation model after merging identical signatures.
    details : dict
        Model-specific results; always ``"proof"`` (``"trivial"``, ``"lp"``, ``"milp"``
        or ``None``), ``"lp_bound"``, ``"columns_in_model"``, and ``"timings"`` (seconds
        for ``"reduce"``, ``"greedy"``, ``"lp"``, ``"milp"``).
    """

    model: ModelName
    selected: np.ndarray
    objective: float
    optimal: bool
    gap: float
    bound: float
    greedy_objective: float
    solve_time_s: float
    rows_after_collapse: int
    details: dict[str, Any] = field(default_factory=dict)
