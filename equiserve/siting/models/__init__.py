"""Location models solved exactly with HiGHS: MCLP, LSCP, p-median, capacitated coverage, max-min.

Every model takes plain matrices (a boolean demand x column coverage matrix, or a demand x
column cost matrix), so it can be used on its own; existing facilities are columns passed
as ``fixed``: always open, never counted in ``p``. The registry
(:mod:`equiserve.siting.models.registry`) offers them by name:
``get_model("mclp").solve(SitingProblem(...), count, target, time_limit_s)``.

Modules: one per model (``mclp``, ``lscp``, ``pmedian``, ``capacitated``, ``maxmin``), each
defining its public function and its registry entry ``MODEL``; the steps they share below
live in ``checks`` (input checks), ``reduce`` (steps 1-2), ``greedy`` (step 3) and
``solve`` (steps 4-5, gaps, the time budget); ``result`` has :class:`SitingResult` and
:class:`InfeasibleError`, ``problem`` :class:`SitingProblem` and :class:`LocationModel`.

How a model is solved
---------------------
1. **Reduce.** Rows with zero weight are dropped; for the coverage models, rows already
   covered by a fixed column become a constant, and rows no column covers are set aside;
   columns that reach nothing are dropped (and identical columns merged where that is
   exact).
2. **Collapse.** Demand rows with the same coverage signature (the same set of columns,
   and for p-median the same costs) are merged, their weights summed. Rows are matched on
   a 128-bit hash of their entries and then compared entry by entry, so the merge is exact.
   ``SitingResult.rows_after_collapse`` is the number of rows left.
3. **Greedy.** The standard greedy (largest marginal gain) gives a feasible incumbent and
   ``greedy_objective``; for MCLP a best-improvement swap search polishes it.
4. **LP relaxation** (coverage models), solved with HiGHS' interior-point method
   (``linprog(method="highs-ipm")``; dual simplex for the capacitated model): its value
   bounds the optimum, and the top LP columns (polished by the swap search for MCLP) give
   another incumbent. When the incumbent meets the bound (for integral data: the bound
   rounded down, or up for minimisation), optimality is proven without branch and bound.
   p-median skips this step: its LP is as hard as the MILP's root (simplex is fastest
   there, and branch and bound solves it anyway).
5. **MILP** (``scipy.optimize.milp``, HiGHS branch and cut, ``mip_rel_gap`` =
   ``MIP_REL_GAP``) otherwise. With ``time_limit_s`` the whole solve stops in time and
   returns the best solution found (never worse than greedy) with the proven bound and
   relative gap. HiGHS checks its limit between phases, so a large model can overrun a
   limit by a fraction of a second; with under 0.1 s left the LP is not started.

Formulations (y binary per candidate column, everything else continuous):

* MCLP / max-min / floors: ``z_k <= sum_{j covers k} y_j``, ``sum y <= p``, max
  ``sum W_k z_k`` (max-min: max ``t`` with ``share_g >= t``, then max covered weight with
  ``t`` held at its optimum).
* LSCP: set cover ``sum_{j covers k} y_j >= 1`` for a full target, else the MCLP rows
  with ``sum W_k z_k >= target weight``; min ``sum y``.
* p-median: the radius formulation (Garcia, Labbe & Marin 2011) with a chain of
  ``z_kl`` per distinct cost level of each (collapsed) row, capped at the cost of the
  nearest fixed column and at ``max_cost``.
* capacitated: assignment ``x_kj`` per (collapsed row, column) pair with
  ``x_kj <= min(W_k, cap_j) y_j`` strengthening rows.

scipy's HiGHS interface takes no MIP start, so the incumbent is not passed to branch and
bound; it is kept and returned when HiGHS finds nothing better in time. (Tried here with
highspy ``setSolution`` on the 30,000 x 1,000 benchmark: no faster, since the time goes
into the root LP.)
"""

from __future__ import annotations

from equiserve.siting.models.capacitated import maximize_capacitated_coverage
from equiserve.siting.models.lscp import minimize_facilities
from equiserve.siting.models.maxmin import maximize_min_coverage
from equiserve.siting.models.mclp import maximize_coverage
from equiserve.siting.models.pmedian import p_median
from equiserve.siting.models.problem import LocationModel, SitingProblem
from equiserve.siting.models.registry import MODELS, get_model
from equiserve.siting.models.result import InfeasibleError, SitingResult
from equiserve.siting.models.solve import MIP_REL_GAP as MIP_REL_GAP
from equiserve.siting.models.solve import OPTIMALITY_TOL as OPTIMALITY_TOL

__all__ = [
    "MODELS",
    "InfeasibleError",
    "LocationModel",
    "SitingProblem",
    "SitingResult",
    "get_model",
    "maximize_capacitated_coverage",
    "maximize_coverage",
    "maximize_min_coverage",
    "minimize_facilities",
    "p_median",
]
