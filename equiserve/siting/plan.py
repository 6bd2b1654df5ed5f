"""Choose new sites for a layer: candidates, marginal gains, a location model, outputs.

    Study + CoverageResult (+ EquityResult)
      -> candidates (file, gap cells or lattice)  -> cells x (existing + candidates) matrices
      -> marginal gains per candidate              -> candidates.csv
      -> location model (existing sites fixed)     -> selected.gpkg, sites_summary.csv,
                                                      sites_map.html, sites_report.html
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from equiserve.errors import ConfigError, DataError
from equiserve.siting.candidates import Candidates, candidates_from_gaps
from equiserve.siting.evaluate import candidate_costs, marginal_gains, within
from equiserve.study import people_by_region

if TYPE_CHECKING:
    from equiserve.outputs.maps.basemap import BaseMap
    from equiserve.scorecard import EquityResult
    from equiserve.study import CoverageResult, Study

SITES_OUTPUTS = ("candidates.csv", "selected.gpkg", "sites_summary.csv", "sites_solution.csv",
                 "sites_map.html", "sites_report.html")
#: What each model's objective counts (with its unit), for reports and the command line.
OBJECTIVE_TEXT = {
    "mclp": "people within the standard",
    "lscp": "people within the standard",
    "pmedian": "total people × distance to the nearest site",
    "capacitated": "people with a place within the standard",
    "maxmin": "worst group's coverage",
}
MODELS = ("mclp", "lscp", "pmedian", "capacitated", "maxmin")
#: p-median costs are stored up to this many times the standard; farther = unassigned.
PMEDIAN_REACH = 4.0


@dataclass
class SitesPlan:
    """Result of :func:`plan_sites`."""

    layer: str
    model: str
    candidates: Candidates
    gains: pd.DataFrame
    solution: object  # equiserve.siting.models.SitingResult
    selected: gpd.GeoDataFrame
    summary: pd.DataFrame
    covered_after: np.ndarray  # per cell: within the standard once the chosen sites exist


def plan_sites(study: Study, result: CoverageResult, layer: str, model: str = "mclp",
               count: int | None = None, candidates: Candidates | None = None,
               target: float = 0.95, spacing_m: float | None = None,
               capacity: float | None = None, time_limit_s: float | None = 60.0,
               equity: EquityResult | None = None) -> SitesPlan:
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
    """
    if layer not in study.layers:
        raise ConfigError(f"--layer {layer!r} is not a layer of the study; layers: "
                          + ", ".join(study.layers))
    if model not in MODELS:
        raise ConfigError(f"--model {model!r} is not valid; expected one of {', '.join(MODELS)}")
    lay = study.layers[layer]
    std = lay.standard
    if model == "capacitated" and not lay.has_capacity:
        raise ConfigError(f"the capacitated model needs capacities, but layer {layer!r} has no "
                          f"capacity_field; add one in [layers.{layer}] or choose another model")
    if model != "lscp" and (count is None or count < 1):
        raise ConfigError(f"--count = {count!r} must be a number of new sites >= 1 for model "
                          f"{model}")
    if not 0 < target <= 1:
        raise ConfigError(f"--target = {target} must be a share in (0, 1], e.g. 0.95")
    if candidates is None:
        spacing = spacing_m or (std.distance_m if std.distance_m else 500.0)
        candidates = candidates_from_gaps(study, result, layer, spacing)
    cands = Candidates(candidates.gdf.copy(), candidates.source)  # never change the caller's
    if capacity is not None:
        cap = cands.gdf["capacity"].to_numpy(float)
        cands.gdf["capacity"] = np.where(np.isfinite(cap), cap, capacity)
    if model == "capacitated" and not np.isfinite(cands.gdf["capacity"].to_numpy(float)).all():
        raise ConfigError("the capacitated model needs a capacity for every candidate: give "
                          "--capacity PLACES (or a capacity field in the candidates file)")
    if model != "lscp" and count > len(cands):
        raise ConfigError(f"--count {count} is larger than the {len(cands)} candidate sites; "
                          "ask for fewer sites or give more candidates")

    from equiserve.scorecard import layer_od
    from equiserve.siting import models as m

    limit = std.limit
    # p-median needs costs beyond the standard; the coverage models only within it
    reach = PMEDIAN_REACH * limit if model == "pmedian" else limit
    cand_od = candidate_costs(study, layer, cands, cutoff=reach)
    existing_od = layer_od(study, layer, cutoff=reach)
    cover = within(cand_od, limit)
    gains = marginal_gains(study, result, layer, cands, cover, equity)
    existing = within(existing_od, limit)
    n_ex = existing.shape[1]
    A = sp.hstack([existing, cover], format="csr")
    cov = result.layers[layer]
    w = cov.weights
    fixed = np.arange(n_ex)
    groups = np.asarray(study.regions.groups, dtype=object)[study.population.region]
    if model == "mclp":
        sol = m.maximize_coverage(A, w, count, fixed=fixed, time_limit_s=time_limit_s)
    elif model == "lscp":
        try:
            sol = m.minimize_facilities(A, w, target=target, fixed=fixed,
                                        time_limit_s=time_limit_s)
        except m.InfeasibleError as exc:
            unc = getattr(exc, "uncoverable", np.empty(0, dtype=np.int64))
            where = people_by_region(study, np.isin(np.arange(len(w)), unc), w) or "none"
            raise DataError(f"no set of the {len(cands)} candidates reaches {100 * target:g} % "
                            f"coverage for {layer}: {exc}. People no site can reach: {where}"
                            ) from None
    elif model == "maxmin":
        sol = m.maximize_min_coverage(A, w, groups, count, fixed=fixed,
                                      time_limit_s=time_limit_s)
    elif model == "capacitated":
        cap = np.concatenate([np.nan_to_num(lay.facilities["capacity"].to_numpy(float)),
                              cands.gdf["capacity"].to_numpy(float)])
        sol = m.maximize_capacitated_coverage(A, w, cap, count, fixed=fixed,
                                              time_limit_s=time_limit_s)
    else:
        cost = sp.hstack([existing_od, cand_od], format="csr")
        sol = m.p_median(cost, w, count, fixed=fixed, time_limit_s=time_limit_s,
                         max_cost=reach)
    chosen = np.asarray(sol.selected, dtype=np.int64) - n_ex
    chosen = chosen[chosen >= 0]
    after = np.asarray(A[:, np.concatenate([fixed, chosen + n_ex])].sum(axis=1) > 0).ravel()
    summary = before_after(study, w, cov.covered, after)
    selected = cands.gdf.iloc[chosen].copy()
    gains_by_id = gains.set_index("candidate_id")
    for col in ("new_covered", "coverage_after_pct", "worst_region_after"):
        selected[col] = gains_by_id.loc[selected["candidate_id"], col].to_numpy()
    selected.insert(0, "model", model)
    gains["selected"] = gains["candidate_id"].isin(selected["candidate_id"])
    return SitesPlan(layer, model, cands, gains, sol, selected, summary, after)


def before_after(study: Study, w: np.ndarray, before: np.ndarray, after: np.ndarray
                 ) -> pd.DataFrame:
    """Coverage before and after by study, group and region."""
    from equiserve.scorecard import _levels

    rows = []
    for level, names, groups, labels in _levels(study):
        n = len(names)
        popn = np.bincount(labels, weights=w, minlength=n)
        b = np.bincount(labels, weights=w * before, minlength=n)
        a = np.bincount(labels, weights=w * after, minlength=n)
        for k in range(n):
            pb = 100 * b[k] / popn[k] if popn[k] > 0 else np.nan
            pa = 100 * a[k] / popn[k] if popn[k] > 0 else np.nan
            rows.append({"level": level, "name": names[k], "group": groups[k],
                         "population": popn[k], "covered_before": b[k], "covered_after": a[k],
                         "coverage_before_pct": pb, "coverage_after_pct": pa,
                         "coverage_change_pct": pa - pb, "unserved_before": popn[k] - b[k],
                         "unserved_after": popn[k] - a[k]})
    return pd.DataFrame(rows)


def write_sites_outputs(study: Study, result: CoverageResult, plan: SitesPlan,
                        out_dir: str | os.PathLike[str], equity: EquityResult | None = None,
                        basemap: BaseMap | None | Literal["config"] = "config"
                        ) -> dict[str, Path]:
    """Write the sites outputs into ``out_dir`` atomically.

    candidates.csv (gains per candidate), selected.gpkg (chosen sites and candidates),
    sites_summary.csv (coverage before/after), sites_solution.csv (objective, bound, gap),
    sites_map.html (coverage map of the layer with candidates and chosen sites) and
    sites_report.html (the coverage report with a section on the new sites).
    """
    from equiserve.io.atomic import atomic_output_dir
    from equiserve.outputs.maps import coverage_map, save_map
    from equiserve.outputs.report.html import render_report

    out = Path(out_dir).expanduser().resolve()
    with atomic_output_dir(out) as tmp:
        plan.gains.to_csv(tmp / "candidates.csv", index=False, float_format="%.10g")
        plan.summary.to_csv(tmp / "sites_summary.csv", index=False, float_format="%.10g")
        plan.selected.to_file(tmp / "selected.gpkg", layer="selected", driver="GPKG",
                              engine="pyogrio")
        plan.candidates.gdf.to_file(tmp / "selected.gpkg", layer="candidates", driver="GPKG",
                                    engine="pyogrio")
        solution_frame(plan).to_csv(tmp / "sites_solution.csv", index=False)
        fmap = coverage_map(study, result, basemap=basemap, equity=equity, plan=plan,
                            layers=[plan.layer],
                            title=f"{study.config.name}: new {plan.layer} sites ({plan.model})")
        save_map(fmap, tmp / "sites_map.html")
        (tmp / "sites_report.html").write_text(
            render_report(study, result, equity, plan=plan, map_file="sites_map.html",
                          files=("candidates.csv", "sites_summary.csv", "selected.gpkg")),
            encoding="utf-8")
    return {n: out / n for n in SITES_OUTPUTS}


def solution_frame(plan: SitesPlan) -> pd.DataFrame:
    """One row describing the solved model: objective, bound, gap, size, timing."""
    sol = plan.solution
    return pd.DataFrame([{
        "layer": plan.layer, "model": plan.model, "new_sites": len(plan.selected),
        "objective": sol.objective, "optimal": sol.optimal, "gap": sol.gap,
        "bound": sol.bound, "greedy_objective": sol.greedy_objective,
        "solve_time_s": sol.solve_time_s, "rows_after_collapse": sol.rows_after_collapse,
        "candidates": len(plan.candidates), "candidate_source": plan.candidates.source,
    }])
