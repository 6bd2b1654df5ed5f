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
        overlays()  catchment access per block of every layer with capacity
        sections()  the scorecard: readings, Lorenz curves, tables, the life circle
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from equiserve.analysis.blocks import blocks
from equiserve.analysis.capacity import allocate_nearest_first
from equiserve.analysis.catchment import (
    WeightFn,
    gaussian_weights,
    gravity_weights,
    step_weights,
    two_step_fca,
)
from equiserve.analysis.inequality import lorenz_curve, measure_figures, stable_order
from equiserve.analysis.levels import Level
from equiserve.analysis.summary import levels_weighted_quantile
from equiserve.notes import Notes
from equiserve.results.base import OutputTable
from equiserve.results.coverage import WORKBOOK, block_boxes, cell_labels
from equiserve.results.formats import (
    capitalised,
    fmt_distance,
    fmt_m,
    fmt_min,
    fmt_num,
    fmt_pct,
    missing,
    people_label,
)
from equiserve.results.overlays import Depth, Fill, LegendEntry, Overlay
from equiserve.results.sections import (
    STUDY,
    Column,
    Figure,
    LorenzChart,
    Section,
    Series,
    Table,
    group_colour,
    para,
    section,
    table,
)

if TYPE_CHECKING:
    from equiserve.config import CatchmentConfig
    from equiserve.results.coverage import CoverageResult, LayerCoverage
    from equiserve.study import Study

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


def catchment_weights(cfg: CatchmentConfig, radius: float) -> WeightFn | None:
    """The distance-decay function of a layer's catchment method (None: all pairs weigh 1)."""
    if cfg.method == "2sfca":
        return None
    if cfg.method == "e2sfca":
        if cfg.steps:
            return step_weights(list(cfg.steps))
        return gaussian_weights(cfg.sigma or radius / 2)
    min_cost = cfg.min_cost if cfg.min_cost is not None else radius / 10
    return gravity_weights(cfg.beta, scale=1.0, min_cost=min_cost)


def layer_access(study: Study, name: str) -> LayerAccess:
    """OD, catchment access and nearest-first allocation of a layer with capacity."""
    layer = study.layers[name]
    cfg = study.config.layers[name].catchment
    assert cfg is not None
    od, places = study.od(name), layer.places
    demand = study.population.counts(layer.serves)
    alloc = allocate_nearest_first(od, demand, places, layer.standard.limit)
    return LayerAccess(od, catchment_score(study, name, demand), alloc.served, alloc.used,
                       places, cfg.method)


def catchment_score(study: Study, name: str, demand: np.ndarray) -> np.ndarray:
    """Catchment access per person of each cell for layer ``name`` (places per person
    within its standard, by the layer's catchment method) given the ``demand`` per cell."""
    layer = study.layers[name]
    cfg = study.config.layers[name].catchment
    assert cfg is not None
    radius = layer.standard.limit
    return two_step_fca(study.od(name), demand, layer.places, radius,
                        catchment_weights(cfg, radius))


def equity(study: Study, result: CoverageResult) -> EquityResult:
    """Build the equalisation scorecard of a study (see the module docstring)."""
    pop = study.population
    levels = study.levels()
    reg_groups = cell_labels(study.regions.groups, pop.region)
    reg_names = cell_labels(study.regions.names, pop.region)
    access = {name: layer_access(study, name) for name, lay in study.layers.items()
              if lay.has_capacity}

    rows: list[dict] = []
    index_rows, lorenz_rows, readings = [], [], {}
    charted: dict[str, np.ndarray] = {}  # the stable order of the report's Lorenz measure
    for name, cov in result.layers.items():
        layer = study.layers[name]
        lacc = access.get(name)
        measures = {"distance": (cov.distance, False), "covered": (cov.covered * 1.0, True)}
        if lacc is not None:
            measures["access"] = (lacc.score, True)
        # one sort per measure, shared by its indices, its Lorenz curve and the medians
        orders = {m: cov.distance_order if m == "distance" else stable_order(x)
                  for m, (x, _hb) in measures.items()}
        charted[name] = orders["access" if lacc is not None else "distance"]
        figures = {m: measure_figures(x, cov.weights, reg_groups, reg_names,
                                      higher_is_better=hb, order=orders[m])
                   for m, (x, hb) in measures.items()}
        idx = {m: f.indices for m, f in figures.items()}
        for m, f in figures.items():
            for key in INDEX_KEYS:
                index_rows.append({"layer": name, "measure": m, "index": key,
                                   "value": f.indices[key]})
            lorenz_rows.append(pd.DataFrame({"layer": name, "measure": m,
                                             "population_share": f.population_share,
                                             "measure_share": f.value_share}))
        main = "access" if lacc is not None else "covered"
        fac_lv = ({lv.level: lv.labels for lv in study.facility_levels(name)}
                  if lacc is not None else {})
        study_access = (np.sum(lacc.score * cov.weights) / cov.weights.sum()
                        if lacc is not None and cov.weights.sum() > 0 else np.nan)
        # Theil T within each group, by group name (NaN where nobody counts)
        by_group = figures[main].by_group
        group_t = dict(zip(map(str, by_group.labels.tolist()), by_group.theil, strict=True))
        norm = study.config.layers[name].norm_per_1000
        medians = levels_weighted_quantile(cov.distance, cov.weights,
                                           [(lv.labels, len(lv)) for lv in levels], 0.5,
                                           value_order=orders["distance"])
        for lv, med in zip(levels, medians, strict=True):
            w = cov.weights
            popn = lv.sum(w)
            covd = lv.sum(w * cov.covered)
            if lacc is not None:  # per name at once (bincounts), not a mask per name
                fac = fac_lv[lv.level]
                places_of = np.bincount(fac[fac >= 0], weights=lacc.capacity[fac >= 0],
                                        minlength=len(lv))
                served_of = lv.sum(lacc.served)
                access_of = lv.sum(lacc.score * w)
            for k in range(len(lv)):
                row = {
                    "layer": name, "kind": layer.kind, "level": lv.level, "name": lv.names[k],
                    "group": lv.groups[k], "population_basis": layer.serves or "total",
                    "standard": layer.standard.describe(), "unit": cov.unit,
                    "population": popn[k],
                    "coverage_pct": 100 * covd[k] / popn[k] if popn[k] > 0 else np.nan,
                    "unserved_population": popn[k] - covd[k],
                    "median_distance": med[k],
                }
                if lacc is not None:
                    places, served, in_reach = places_of[k], served_of[k], covd[k]
                    mean_access = access_of[k] / popn[k] if popn[k] > 0 else np.nan
                    row.update({
                        "capacity": places, "served_population": served,
                        "in_reach_without_place": max(in_reach - served, 0.0),
                        "access_score": mean_access,
                        "access_relative_to_study": mean_access / study_access
                        if study_access and study_access > 0 else np.nan,
                    })
                    if norm is not None:
                        required = norm * popn[k] / 1000.0
                        row.update({"norm_per_1000": norm, "places_required": required,
                                    "places_short": max(required - places, 0.0)})
                if lv.level == "study":
                    ind = idx[main]
                    row.update({"measure": main, **{key: ind[key] for key in (
                        "gini", "theil", "theil_between_groups", "theil_within_groups",
                        "theil_between_regions", "theil_within_regions", "cv",
                        "worst_to_best")}})
                elif lv.level == "group":
                    row.update({"measure": main, "theil": group_t.get(lv.names[k], np.nan)})
                rows.append(row)
        readings[name] = _reading(name, layer.serves, rows, main)

    life, life_all = life_circle_scores(study, result)
    rows.extend(_life_circle_rows(study, life, life_all, levels))
    return EquityResult(study, result, access, life, life_all, pd.DataFrame(rows),
                        pd.DataFrame(index_rows),
                        pd.concat(lorenz_rows, ignore_index=True) if lorenz_rows
                        else pd.DataFrame(), readings, charted)


def life_circle_layers(study: Study) -> tuple[str, list[str]]:
    """The life circle's name and layers (default: every layer)."""
    lc = study.config.life_circle
    return ((lc.name, list(lc.layers)) if lc is not None
            else ("life circle", list(study.layers)))


def life_circle_scores(study: Study, result: CoverageResult) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: share of the life-circle layers whose standard it meets, and whether all."""
    _label, names = life_circle_layers(study)
    met = np.column_stack([result.layers[n].covered for n in names])
    return met.mean(axis=1), np.asarray(met.all(axis=1))


def _life_circle_rows(study: Study, life: np.ndarray, life_all: np.ndarray,
                      levels: list[Level]) -> list[dict]:
    label, layers = life_circle_layers(study)
    w = study.population.population
    rows = []
    for lv in levels:
        popn, all_met, mean = lv.sum(w), lv.sum(w * life_all), lv.sum(w * life)
        for k in range(len(lv)):
            rows.append({
                "layer": "life_circle", "kind": "life_circle", "level": lv.level,
                "name": lv.names[k], "group": lv.groups[k], "population_basis": "total",
                "standard": f"{label}: {', '.join(layers)}", "unit": "share",
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
        return (f"{capitalised(worst)} has {100 * lo / hi:.0f}% of {best}'s "
                f"{name.replace('_', ' ')} places within reach per head of {who} (catchment "
                f"access: {fmt_num(1000 * lo)} vs {fmt_num(1000 * hi)} places per 1,000).")
    vals = [(r["coverage_pct"], r["name"]) for r in groups]
    (lo, worst), (hi, best) = min(vals), max(vals)
    if not hi:
        return ""
    return (f"{capitalised(worst)} has {100 * lo / hi:.0f}% of {best}'s coverage for "
            f"{name.replace('_', ' ')} ({lo:.1f} % vs {hi:.1f} % of {who} within the "
            "standard).")


def lorenz_gini(p: np.ndarray, share: np.ndarray) -> float:
    """Gini of a Lorenz curve given by its vertices: 1 - 2 x the area under it (exact for
    the piecewise-linear curve).

    >>> round(lorenz_gini(np.array([0, .5, 1]), np.array([0, .25, 1])), 3)
    0.25
    """
    return float(1.0 - np.sum((p[1:] - p[:-1]) * (share[1:] + share[:-1])))


#: What each inequality measure is, in the report.
MEASURE_TEXT = {"distance": "distance or time to the nearest",
                "covered": "within the standard (1) or not (0)",
                "access": "catchment access (places per person)"}


@dataclass
class EquityResult:
    """The equalisation scorecard of ``study`` from its ``coverage``; see the module
    docstring."""

    study: Study
    coverage: CoverageResult
    access: dict[str, LayerAccess]
    life_circle: np.ndarray
    life_circle_all: np.ndarray
    scorecard: pd.DataFrame
    indices: pd.DataFrame
    lorenz: pd.DataFrame
    readings: dict[str, str] = field(default_factory=dict)
    #: per layer, the stable order of the measure its report section's Lorenz chart draws
    #: (access with capacity, else distance), kept from the scorecard: no sort again
    orders: dict[str, np.ndarray] = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)

    heading = None

    # -- tables

    def cells_frame(self, points: bool = False) -> gpd.GeoDataFrame:
        """The coverage cells with catchment access, people with a place and the life
        circle score (geometry: the cells' shapes, or their centres with ``points``)."""
        return self.coverage.cells_frame(*self._cell_columns(), points=points)

    def _cell_columns(self) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
        extra = {n: {f"access_{n}": a.score, f"served_{n}": a.served}
                 for n, a in self.access.items()}
        return extra, {"life_circle_score": self.life_circle,
                       "life_circle_all": self.life_circle_all}

    def tables(self) -> list[OutputTable]:
        return [
            OutputTable("equity", self.scorecard, csv="equity.csv", workbook=WORKBOOK),
            OutputTable("equity_indices", self.indices, csv="equity_indices.csv",
                        workbook=WORKBOOK),
            OutputTable("lorenz", self.lorenz, csv="lorenz.csv", float_format="%.6g"),
            self.coverage.cell_table(lambda: self.coverage.cell_data(*self._cell_columns())),
        ]

    def about(self) -> dict[str, str]:
        return {}

    # -- map

    def access_blocks(self, layer: str, block_m: float | None = None) -> gpd.GeoDataFrame:
        """Population-weighted mean catchment access (places per 1,000 people) per block.

        Columns: ``population`` (people counted for the layer), ``access_per_1000`` and
        ``relative`` (block access divided by the study's population-weighted mean).
        """
        pop = self.study.population
        block_m = block_m or self.coverage.block_m
        w = self.coverage.layers[layer].weights
        score = self.access[layer].score
        keep = w > 0
        b = blocks(pop.x[keep], pop.y[keep], block_m,
                   {"population": w[keep], "acc": score[keep] * w[keep]})
        mean = float((score * w).sum() / w.sum()) if w.sum() > 0 else 0.0
        per_person = b["acc"] / b["population"]
        return gpd.GeoDataFrame({
            "population": b["population"].round(0), "access_per_1000": 1000 * per_person,
            "relative": per_person / mean if mean > 0 else np.nan,
        }, geometry=block_boxes(b, block_m), crs=self.study.crs)

    def access_overlays(self, layers: list[str] | None = None) -> list[Overlay]:
        names = [n for n in (layers or list(self.coverage.layers)) if n in self.access]
        methods = "/".join(sorted({self.access[n].method.upper() for n in names}))
        legend = LegendEntry(f"Access (catchment, {methods}): block ÷ study mean",
                             note="Places within the standard per 1,000 people, shared "
                                  "among all who can reach them")
        out = []
        for name in names:
            b = self.access_blocks(name)
            if not len(b):
                continue
            rel = b["relative"].fillna(0.0).to_numpy()
            per = b["access_per_1000"].to_numpy()
            frame = gpd.GeoDataFrame({
                "layer": name, "access_per_1000": [f"{v:,.1f}" for v in per],
                "relative": [f"{v:.2f}" for v in rel],
                "population": [f"{v:,.0f}" for v in b["population"]],
            }, geometry=b.geometry.values, crs=b.crs)
            out.append(Overlay(
                f"Access: {name} (places per 1,000 people)", frame,
                Fill("access", values=np.where(per <= 0, np.nan, rel)),
                (("layer", "Layer"),
                 ("access_per_1000", "Catchment access (places per 1,000 people)"),
                 ("relative", "Relative to the study mean (×)"),
                 ("population", "People counted (people)")),
                Depth.BLOCKS, legend, show=False, grid=self.coverage.block_m))
        return out

    def overlays(self) -> list[Overlay]:
        return self.access_overlays()

    # -- report

    def _lorenz(self, name: str, x: np.ndarray, measure: str
                ) -> tuple[Figure | None, list[str]]:
        """Lorenz curves of ``x`` (layer ``name``'s) for the study and each group (the Gini
        in the labels), and the groups left out because they have none of the measure."""
        cov = self.coverage.layers[name]
        order = self.orders.get(name)
        cell_group = cell_labels(self.study.regions.groups, self.study.population.region)
        series, skipped = [], []
        for g, colour, m in [("study", STUDY, np.ones(len(x), bool)),
                             *[(g, group_colour(g), cell_group == g)
                               for g in self.study.regions.group_names]]:
            keep = m & np.isfinite(x) & (cov.weights > 0)
            if not keep.any() or x[keep].sum() <= 0:
                skipped.append(g)
                continue
            # the cells outside the group weigh nothing: the curve of the group's cells,
            # in the order of all cells restricted to them (no sort)
            p, share = lorenz_curve(x, np.where(m, cov.weights, 0.0), order=order)
            series.append(Series(f"{g} (Gini {lorenz_gini(p, share):.3f})", colour, p, share))
        if not series:
            return None, skipped
        return Figure(LorenzChart(tuple(series), measure), ""), skipped

    def layer_section(self, name: str) -> Section:
        study = self.study
        layer = study.layers[name]
        cov = self.coverage.layers[name]
        card = self.scorecard
        capacity = name in self.access
        figure = "distance" if cov.unit == "m" else "travel time"
        rows = []
        for r in (card[(card["layer"] == name) & (card["level"] == "study")].to_dict("records")
                  + card[(card["layer"] == name) & (card["level"] != "study")]
                  .to_dict("records")):
            score = r.get("access_score")
            rows.append({**r, "access_per_1000": np.nan if score is None else score * 1000,
                         "theil_within": r.get("theil") if r["level"] == "group" else ""})
        norm = study.config.layers[name].norm_per_1000
        measure = "access" if capacity else "coverage"
        columns = [Column("level", "Level"), Column("name", "Name"),
                   Column("population", "Population (people)", "people"),
                   Column("coverage_pct", "Coverage (%)", "pct"),
                   Column("unserved_population", "Unserved (people)", "people")]
        if capacity:
            columns += [Column("capacity", "Places (count)", "people"),
                        Column("served_population", "With a place within the standard "
                               "(people)", "people"),
                        Column("in_reach_without_place", "In reach but no place (people)",
                               "people")]
            if norm:
                columns += [Column("places_required", f"Places needed at {norm:g} per 1,000 "
                                   "(count)", "people"),
                            Column("places_short", "Places short of the norm (count)",
                                   "people", low_above=0.0)]
            columns += [Column("access_per_1000", "Catchment access (places per 1,000 "
                               "people)", "num"),
                        Column("access_relative_to_study", "Access relative to study (×)",
                               "ratio")]
        columns += [Column("median_distance", f"Median {figure} ({cov.unit})",
                           fmt_distance(cov.unit)),
                    Column("theil_within", f"Theil T within ({measure})", "index")]
        if capacity:
            lorenz, skipped = self._lorenz(name, self.access[name].score, "catchment access")
        else:
            lorenz, skipped = self._lorenz(name, cov.distance, f"{figure} ({cov.unit})")
        if lorenz is not None:
            missing_txt = ("no place in reach" if capacity else "no measured distance")
            lorenz = Figure(lorenz.chart, (
                f"Lorenz curves of {'catchment access' if capacity else figure} for the "
                "study and each group: the further a curve sags below the diagonal, the "
                "more unequal; Gini in brackets (0 = equal, 1 = all in one place)."
                + (f" No curve for {', '.join(skipped)}: {missing_txt} for anyone there."
                   if skipped else "")))
        reading = self.readings.get(name, "")
        return section(
            name, para(reading, style="strong") if reading else None, lorenz,
            table(columns, rows), self.indices_table(name, cov),
            level=3, aside=f"({layer.standard.describe()}; people counted: "
                           f"{layer.serves or 'total population'})")

    def indices_table(self, name: str, cov: LayerCoverage) -> Table:
        ind = self.indices[self.indices["layer"] == name]
        rows = []
        for m in ("distance", "covered", "access"):
            vals = ind[ind["measure"] == m].set_index("index")["value"]
            if vals.empty:
                continue
            d = vals.to_dict()
            mean = d.get("mean")
            if m == "access":
                mean_txt = f"{fmt_num(mean * 1000 if not missing(mean) else mean)} per 1,000"
            elif m == "covered":
                mean_txt = f"{fmt_pct(100 * mean if not missing(mean) else mean)} %"
            else:
                mean_txt = f"{(fmt_m if cov.unit == 'm' else fmt_min)(mean)} {cov.unit}"
            rows.append({**d, "label": MEASURE_TEXT[m], "mean": mean_txt})
        columns = [Column("label", "Measure"), Column("mean", "Mean", numeric=True),
                   Column("gini", "Gini", "index"), Column("theil", "Theil T", "index"),
                   Column("theil_between_groups", "between groups", "index"),
                   Column("theil_within_groups", "within groups", "index"),
                   Column("theil_between_regions", "between regions", "index"),
                   Column("theil_within_regions", "within regions", "index"),
                   Column("cv", "CV", "index"), Column("worst_region", "Worst region"),
                   Column("best_region", "Best region"),
                   Column("worst_to_best", "Worst ÷ best", "ratio"),
                   Column("excluded_weight", "Left out (people)", "people")]
        return table(columns, rows, class_key=None)

    def life_circle_section(self) -> Section:
        label, layers = life_circle_layers(self.study)
        card = self.scorecard
        rows = [{**r, "score_pct": 100 * r["life_circle_score"]}
                for r in card[card["layer"] == "life_circle"].to_dict("records")]
        return section(label, para(
            f"Share of people whose cell meets the standard of every layer of the {label} "
            f"({', '.join(layers)}), and the mean share of those layers met."),
            table([Column("level", "Level"), Column("name", "Name"),
                   Column("population", "Population (people)", "people"),
                   Column("coverage_pct", "Meeting all (%)", "pct"),
                   Column("unserved_population", "Not meeting all (people)", "people"),
                   Column("score_pct", "Mean share of layers met (%)", "pct")], rows),
            level=3)

    def sections(self) -> list[Section]:
        methods = ", ".join(sorted({a.method.upper() for a in self.access.values()}))
        intro = para(
            "Catchment access is places (seats, beds, …) within the standard per 1,000 "
            "people of the layer's population, shared among everyone who can reach them "
            f"(two-step floating catchment{': ' + methods if methods else ''}). People with "
            "a place are assigned nearest first: the closest pairs of people and places are "
            "matched first until places run out. Inequality indices are population-"
            "weighted: Gini (0 = equal, 1 = all in one place) and Theil T split exactly "
            "into a part between groups (or regions) and a part within them.", style="meta")
        return [section("Equalisation scorecard", intro,
                        *[self.layer_section(n) for n in self.study.layers],
                        self.life_circle_section(), anchor="scorecard")]
