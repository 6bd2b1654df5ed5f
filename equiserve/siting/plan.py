"""Choose new sites for a layer: candidates, marginal gains, a location model.

    Study + CoverageResult (+ EquityResult)
      -> candidates (file, gap cells or lattice)  -> cells x (existing + candidates) matrices
      -> marginal gains per candidate              -> SitesResult.gains (candidates.csv)
      -> a location model (existing sites fixed)   -> selected sites, coverage before/after

The models come from the registry (:mod:`equiserve.siting.models.registry`); nothing here
knows one model from another but by what the registry says it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from equiserve.errors import ConfigError, DataError
from equiserve.settings import CANDIDATE_SPACING_M, SOLVER_TIME_LIMIT_S
from equiserve.siting.candidates import Candidates, candidates_from_gaps
from equiserve.siting.evaluate import candidate_costs, marginal_gains, within
from equiserve.siting.models import InfeasibleError, SitingProblem, get_model
from equiserve.siting.result import SitesResult

if TYPE_CHECKING:
    from equiserve.results.coverage import CoverageResult
    from equiserve.results.equity import EquityResult
    from equiserve.study import Study


def plan_sites(study: Study, result: CoverageResult, layer: str, model: str = "mclp",
               count: int | None = None, candidates: Candidates | None = None,
               target: float = 0.95, spacing_m: float | None = None,
               capacity: float | None = None, time_limit_s: float | None = SOLVER_TIME_LIMIT_S,
               equity: EquityResult | None = None) -> SitesResult:
    """Evaluate candidate sites for ``layer`` and choose the best set with ``model``.

    Parameters
    ----------
    model : "mclp", "lscp", "pmedian", "capacitated" or "maxmin"
        Maximise coverage with ``count`` new sites; fewest new sites reaching ``target``
        (share of people covered); minimise the population-weighted mean distance; maximise
        people both in reach and within capacity; maximise the worst region group's
        coverage share.
    candidates : Candidates, optional
        Default: the layer's gap cells thinned to ``spacing_m`` (default: the standard's
        distance, or 500 m for minute standards).
    capacity : float, optional
        Places of every candidate without its own capacity (capacitated model).
    equity : EquityResult, optional
        The scorecard of ``result``: gives people with a place now (``new_served``), and
        the sites report its scorecard section.
    """
    if layer not in study.layers:
        raise ConfigError(f"--layer {layer!r} is not a layer of the study; layers: "
                          + ", ".join(study.layers))
    spec = get_model(model)
    lay = study.layers[layer]
    std = lay.standard
    if spec.needs_capacity and not lay.has_capacity:
        raise ConfigError(f"the {model} model needs capacities, but layer {layer!r} has no "
                          f"capacity_field; add one in [layers.{layer}] or choose another model")
    if spec.needs_count and (count is None or count < 1):
        raise ConfigError(f"--count = {count!r} must be a number of new sites >= 1 for model "
                          f"{model}")
    if not 0 < target <= 1:
        raise ConfigError(f"--target = {target} must be a share in (0, 1], e.g. 0.95")
    if candidates is None:
        spacing = spacing_m or (std.standard_m if std.standard_m else CANDIDATE_SPACING_M)
        candidates = candidates_from_gaps(study, result, layer, spacing)
    cands = Candidates(candidates.gdf.copy(), candidates.source, candidates.notes)
    if capacity is not None:
        cap = cands.gdf["capacity"].to_numpy(float)
        cands.gdf["capacity"] = np.where(np.isfinite(cap), cap, capacity)
    if spec.needs_capacity and not np.isfinite(cands.gdf["capacity"].to_numpy(float)).all():
        raise ConfigError(f"the {model} model needs a capacity for every candidate: give "
                          "--capacity PLACES (or a capacity field in the candidates file)")
    if spec.needs_count and count is not None and count > len(cands):
        raise ConfigError(f"--count {count} is larger than the {len(cands)} candidate sites; "
                          "ask for fewer sites or give more candidates")

    limit = std.limit
    reach = spec.reach_factor * limit  # p-median needs costs beyond the standard
    cand_od = candidate_costs(study, layer, cands, cutoff=reach)
    existing_od = study.od(layer, cutoff=reach)
    cover = within(cand_od, limit)
    gains = marginal_gains(study, result, layer, cands, cover, equity)
    existing = within(existing_od, limit)
    n_ex = existing.shape[1]
    A = sp.hstack([existing, cover], format="csr")
    w = result.layers[layer].weights
    problem = SitingProblem(
        coverage=A, weights=w, fixed=np.arange(n_ex),
        cost=sp.hstack([existing_od, cand_od], format="csr"), max_cost=reach,
        groups=np.asarray(study.regions.groups, dtype=object)[study.population.region],
        capacity=np.concatenate([lay.places,
                                 cands.gdf["capacity"].to_numpy(float)]))
    try:
        sol = spec.solve(problem, count, target, time_limit_s)
    except InfeasibleError as exc:
        where = study.people_by_region(np.isin(np.arange(len(w)), exc.uncoverable), w)
        what = (f"no set of the {len(cands)} candidates reaches {100 * target:g} % coverage"
                if not spec.needs_count else f"the {model} model has no solution")
        raise DataError(f"{what} for {layer}: {exc}. People no site can reach: "
                        f"{where or 'none'}") from None
    chosen = np.asarray(sol.selected, dtype=np.int64) - n_ex
    chosen = chosen[chosen >= 0]
    after = np.asarray(A[:, np.concatenate([problem.fixed, chosen + n_ex])].sum(axis=1) > 0
                       ).ravel()
    summary = before_after(study, w, result.layers[layer].covered, after)
    selected = cands.gdf.iloc[chosen].copy()
    gains_by_id = gains.set_index("candidate_id")
    for col in ("new_covered", "coverage_after_pct", "worst_region_after"):
        selected[col] = gains_by_id.loc[selected["candidate_id"], col].to_numpy()
    selected.insert(0, "model", model)
    gains["selected"] = gains["candidate_id"].isin(selected["candidate_id"])
    return SitesResult(study, result, equity, layer, model, cands, gains, sol, selected,
                       summary, after, cands.notes)


def before_after(study: Study, w: np.ndarray, before: np.ndarray, after: np.ndarray
                 ) -> pd.DataFrame:
    """Coverage before and after by study, group and region."""
    rows = []
    for lv in study.levels():
        popn, b, a = lv.sum(w), lv.sum(w * before), lv.sum(w * after)
        for k in range(len(lv)):
            pb = 100 * b[k] / popn[k] if popn[k] > 0 else np.nan
            pa = 100 * a[k] / popn[k] if popn[k] > 0 else np.nan
            rows.append({"level": lv.level, "name": lv.names[k], "group": lv.groups[k],
                         "population": popn[k], "covered_before": b[k], "covered_after": a[k],
                         "coverage_before_pct": pb, "coverage_after_pct": pa,
                         "coverage_change_pct": pa - pb, "unserved_before": popn[k] - b[k],
                         "unserved_after": popn[k] - a[k]})
    return pd.DataFrame(rows)
