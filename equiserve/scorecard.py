"""The equalisation scorecard: capacity, catchment access and inequality by region.

For every layer with a capacity field it builds the cell x facility cost matrix within the
standard (straight line or street), computes catchment accessibility (2SFCA, E2SFCA or a
gravity model: places per person within reach) and allocates people to places nearest
first. For every layer it then measures inequality of distance, of coverage (yes/no) and,
where there is capacity, of access, across region groups and regions, and scores every
cell on the life circle (the share of the required layers whose standard it meets).

    Study + CoverageResult -> equity(...) -> EquityResult
        .scorecard  one row per layer x level (study / group / region) x name  (equity.csv)
        .indices    one row per layer x measure x index                       (equity_indices.csv)
        .lorenz     Lorenz curve points per layer x measure                    (lorenz.csv)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from equiserve.analysis.capacity import allocate_nearest_first
from equiserve.analysis.catchment import (
    gaussian_weights,
    gravity_weights,
    step_weights,
    two_step_fca,
)
from equiserve.analysis.inequality import equity_indices, lorenz_curve, theil_decomposition
from equiserve.analysis.od import network_od, straight_line_od
from equiserve.analysis.summary import grouped_weighted_quantile

if TYPE_CHECKING:
    from equiserve.config import CatchmentConfig
    from equiserve.study import CoverageResult, Study

#: Indices written per measure (see equiserve.analysis.inequality.equity_indices).
INDEX_KEYS = ("mean", "gini", "theil", "theil_between_groups", "theil_within_groups",
              "theil_between_regions", "theil_within_regions", "cv", "best_region",
              "worst_region", "best_value", "worst_value", "worst_to_best", "excluded_weight",
              "population")


@dataclass
class LayerAccess:
    """Capacity and catchment results of one layer with a capacity field.

    ``od`` holds cell x facility costs within the standard (explicit zeros are real pairs),
    in the standard's unit; ``score`` is the catchment access per person of each cell
    (places per person within reach, distance-weighted as configured); ``served`` the
    people of each cell given a place nearest first; ``used`` the places taken at each
    facility; ``capacity`` the places per facility (unknown counted as 0).
    """

    od: sp.csr_matrix
    score: np.ndarray
    served: np.ndarray
    used: np.ndarray
    capacity: np.ndarray
    method: str


@dataclass
class EquityResult:
    """Everything the scorecard reports; see the module docstring."""

    access: dict[str, LayerAccess]
    life_circle: np.ndarray
    life_circle_all: np.ndarray
    scorecard: pd.DataFrame
    indices: pd.DataFrame
    lorenz: pd.DataFrame
    readings: dict[str, str] = field(default_factory=dict)


def catchment_weights(cfg: CatchmentConfig, radius: float):
    """The distance-decay function of a layer's catchment method (None: all pairs weigh 1)."""
    if cfg.method == "2sfca":
        return None
    if cfg.method == "e2sfca":
        if cfg.steps:
            return step_weights(list(cfg.steps))
        return gaussian_weights(cfg.sigma or radius / 2)
    min_cost = cfg.min_cost if cfg.min_cost is not None else radius / 10
    return gravity_weights(cfg.beta, scale=1.0, min_cost=min_cost)


def layer_od(study: Study, name: str, cutoff: float | None = None) -> sp.csr_matrix:
    """Cell x facility costs of a layer within ``cutoff`` (default: its standard), in the
    standard's unit (m, or min for minute standards)."""
    layer = study.layers[name]
    std = layer.standard
    pop = study.population
    cutoff = std.limit if cutoff is None else cutoff
    if not std.uses_network:
        return straight_line_od(pop.xy, layer.access_xy, layer.access_facility, len(layer),
                                cutoff)
    od = network_od(study.networks[std.mode], study.cell_snaps[std.mode],
                    study.facility_snaps[name], layer.access_facility, len(layer),
                    cutoff * std.search_scale, std.weight)
    od.data = od.data / std.search_scale
    return od


def layer_access(study: Study, name: str) -> LayerAccess:
    """OD, catchment access and nearest-first allocation of a layer with capacity."""
    layer = study.layers[name]
    cfg = study.config.layers[name].catchment
    assert cfg is not None
    radius = layer.standard.limit
    od = layer_od(study, name)
    demand = study.population.counts(layer.serves)
    capacity = np.nan_to_num(layer.facilities["capacity"].to_numpy(float), nan=0.0)
    score = two_step_fca(od, demand, capacity, radius, catchment_weights(cfg, radius))
    alloc = allocate_nearest_first(od, demand, capacity, radius)
    return LayerAccess(od, score, alloc.served, alloc.used, capacity, cfg.method)


def _levels(study: Study) -> list[tuple[str, list[str], list[str | None], np.ndarray]]:
    """(level, names, groups, label per cell) for study, groups and regions."""
    reg = study.regions
    groups = reg.group_names
    r = study.population.region
    return [("study", ["study"], [None], np.zeros(len(r), dtype=np.int64)),
            ("group", groups, groups, reg.group_index[r]),
            ("region", list(reg.names), list(reg.groups), r.astype(np.int64))]


def _fac_levels(study: Study, name: str) -> dict[str, np.ndarray]:
    """Label of each facility per level (-1 outside every region)."""
    fac = study.layers[name].facilities
    reg = study.regions
    groups = reg.group_names
    rmap = {n: i for i, n in enumerate(reg.names)}
    region = np.array([rmap.get(r, -1) for r in fac["region"]], dtype=np.int64)
    group = np.array([groups.index(g) if isinstance(g, str) else -1 for g in fac["group"]],
                     dtype=np.int64)
    return {"study": np.zeros(len(fac), dtype=np.int64), "group": group, "region": region}


def equity(study: Study, result: CoverageResult) -> EquityResult:
    """Build the equalisation scorecard of a study (see the module docstring)."""
    pop = study.population
    levels = _levels(study)
    reg_groups = np.asarray(study.regions.groups, dtype=object)[pop.region]
    reg_names = np.asarray(study.regions.names, dtype=object)[pop.region]
    access = {name: layer_access(study, name) for name, lay in study.layers.items()
              if lay.has_capacity}

    rows, index_rows, lorenz_rows, readings = [], [], [], {}
    for name, cov in result.layers.items():
        layer = study.layers[name]
        lacc = access.get(name)
        measures = {"distance": (cov.distance, False), "covered": (cov.covered * 1.0, True)}
        if lacc is not None:
            measures["access"] = (lacc.score, True)
        idx = {m: equity_indices(x, cov.weights, reg_groups, reg_names, higher_is_better=hb)
               for m, (x, hb) in measures.items()}
        for m, values in idx.items():
            for k in INDEX_KEYS:
                index_rows.append({"layer": name, "measure": m, "index": k, "value": values[k]})
            ps, vs = lorenz_curve(measures[m][0], cov.weights)
            lorenz_rows.append(pd.DataFrame({"layer": name, "measure": m,
                                             "population_share": ps, "measure_share": vs}))
        main = "access" if lacc is not None else "covered"
        main_x = measures[main][0]
        fac_lv = _fac_levels(study, name)
        study_access = (np.sum(lacc.score * cov.weights) / cov.weights.sum()
                        if lacc is not None and cov.weights.sum() > 0 else np.nan)
        group_theil = theil_decomposition(*_finite(main_x, cov.weights,
                                                   levels[1][3]))
        group_t = dict(zip(group_theil.labels.tolist(), group_theil.theil, strict=True))
        for level, names, groups, labels in levels:
            n = len(names)
            w = cov.weights
            popn = np.bincount(labels, weights=w, minlength=n)
            covd = np.bincount(labels, weights=w * cov.covered, minlength=n)
            med = grouped_weighted_quantile(cov.distance, w, labels, n, 0.5)
            for k in range(n):
                row = {
                    "layer": name, "kind": layer.kind, "level": level, "name": names[k],
                    "group": groups[k], "population_basis": layer.serves or "total",
                    "standard": layer.standard.describe(), "unit": cov.unit,
                    "population": popn[k],
                    "coverage_pct": 100 * covd[k] / popn[k] if popn[k] > 0 else np.nan,
                    "unserved_population": popn[k] - covd[k],
                    "median_distance": med[k],
                }
                if lacc is not None:
                    sel = labels == k
                    places = lacc.capacity[fac_lv[level] == k].sum()
                    served = lacc.served[sel].sum()
                    in_reach = (w * cov.covered)[sel].sum()
                    mean_access = (np.sum(lacc.score[sel] * w[sel]) / popn[k]
                                   if popn[k] > 0 else np.nan)
                    row.update({
                        "capacity": places, "served_population": served,
                        "in_reach_without_place": max(in_reach - served, 0.0),
                        "access_score": mean_access,
                        "access_relative_to_study": mean_access / study_access
                        if study_access and study_access > 0 else np.nan,
                    })
                    norm = study.config.layers[name].norm_per_1000
                    if norm is not None:
                        required = norm * popn[k] / 1000.0
                        row.update({"norm_per_1000": norm, "places_required": required,
                                    "places_short": max(required - places, 0.0)})
                if level == "study":
                    ind = idx[main]
                    row.update({"measure": main, "gini": ind["gini"], "theil": ind["theil"],
                                "theil_between_groups": ind["theil_between_groups"],
                                "theil_within_groups": ind["theil_within_groups"],
                                "theil_between_regions": ind["theil_between_regions"],
                                "theil_within_regions": ind["theil_within_regions"],
                                "cv": ind["cv"], "worst_to_best": ind["worst_to_best"]})
                elif level == "group":
                    row.update({"measure": main, "theil": group_t.get(k, np.nan)})
                rows.append(row)
        readings[name] = _reading(name, layer.serves, rows, main)

    life, life_all = life_circle_scores(study, result)
    rows.extend(_life_circle_rows(study, life, life_all, levels))
    scorecard = pd.DataFrame(rows)
    return EquityResult(access, life, life_all, scorecard, pd.DataFrame(index_rows),
                        pd.concat(lorenz_rows, ignore_index=True) if lorenz_rows
                        else pd.DataFrame(), readings)


def _finite(x: np.ndarray, w: np.ndarray, labels: np.ndarray):
    keep = np.isfinite(x) & (w > 0)
    return x[keep], w[keep], labels[keep]


def life_circle_scores(study: Study, result: CoverageResult) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: share of the life-circle layers whose standard it meets, and whether all."""
    lc = study.config.life_circle
    names = list(lc.layers) if lc is not None else list(result.layers)
    met = np.column_stack([result.layers[n].covered for n in names])
    return met.mean(axis=1), met.all(axis=1)


def _life_circle_rows(study: Study, life: np.ndarray, life_all: np.ndarray,
                      levels: list) -> list[dict]:
    lc = study.config.life_circle
    label = lc.name if lc is not None else "life circle"
    layers = ", ".join(lc.layers) if lc is not None else ", ".join(study.layers)
    w = study.population.population
    rows = []
    for level, names, groups, labels in levels:
        n = len(names)
        popn = np.bincount(labels, weights=w, minlength=n)
        all_met = np.bincount(labels, weights=w * life_all, minlength=n)
        mean = np.bincount(labels, weights=w * life, minlength=n)
        for k in range(n):
            rows.append({
                "layer": "life_circle", "kind": "life_circle", "level": level,
                "name": names[k], "group": groups[k], "population_basis": "total",
                "standard": f"{label}: {layers}", "unit": "share",
                "population": popn[k],
                "coverage_pct": 100 * all_met[k] / popn[k] if popn[k] > 0 else np.nan,
                "unserved_population": popn[k] - all_met[k],
                "life_circle_score": mean[k] / popn[k] if popn[k] > 0 else np.nan,
            })
    return rows


def _reading(name: str, serves: str | None, rows: list[dict], measure: str) -> str:
    """One sentence comparing the worst and best served groups of a layer."""
    groups = [r for r in rows if r["layer"] == name and r["level"] == "group"
              and r["population"] > 0]
    if len(groups) < 2:
        return ""
    who = people_label(serves)
    if measure == "access":
        vals = [(r["access_score"], r["name"]) for r in groups]
        (lo, worst), (hi, best) = min(vals), max(vals)
        if not hi or hi <= 0:
            return ""
        return (f"{_cap(worst)} has {100 * lo / hi:.0f}% of {best}'s {name.replace('_', ' ')} "
                f"places within reach per head of {who} (catchment access: {_fig(1000 * lo)} "
                f"vs {_fig(1000 * hi)} places per 1,000).")
    vals = [(r["coverage_pct"], r["name"]) for r in groups]
    (lo, worst), (hi, best) = min(vals), max(vals)
    if not hi:
        return ""
    return (f"{_cap(worst)} has {100 * lo / hi:.0f}% of {best}'s coverage for "
            f"{name.replace('_', ' ')} ({lo:.1f} % vs {hi:.1f} % of {who} within the "
            "standard).")


def people_label(serves: str | None) -> str:
    """'children_6_11' -> 'children 6–11'; None -> 'the population'."""
    if not serves:
        return "the population"
    return re.sub(r"(\d+)_(\d+)", "\\1–\\2", serves).replace("_", " ")


def _fig(v: float) -> str:
    """Three significant digits without exponent: 1,920 / 63.2 / 1.19."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]
