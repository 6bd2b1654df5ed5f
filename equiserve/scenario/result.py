"""The result of a scenario: baseline and plan side by side, targets, changes, and how they
are drawn.

    tables()    scenario_summary.csv, scenario_targets.csv, scenario_changes.csv,
                scenario.xlsx
    overlays()  the plan's coverage and access, the gaps it closes per block, its new
                (ringed) and closed facilities
    sections()  the scenario (targets, baseline and plan per changed layer, changes), then
                the plan's coverage report and scorecard
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from equiserve.analysis.blocks import blocks
from equiserve.notes import Notes
from equiserve.results.base import OutputTable, about_study
from equiserve.results.coverage import block_boxes
from equiserve.results.equity import MEASURE_TEXT
from equiserve.results.formats import fmt_index, fmt_num
from equiserve.results.overlays import Depth, Fill, LegendEntry, Overlay, Symbol
from equiserve.results.sections import (
    Column,
    Figure,
    Section,
    before_after_chart,
    para,
    section,
    table,
)
from equiserve.scenario.apply import PLACED, PROXY, UNPLACED

if TYPE_CHECKING:
    from equiserve.config.scenario import ScenarioConfig
    from equiserve.results.coverage import CoverageResult
    from equiserve.results.equity import EquityResult
    from equiserve.study import Study

WORKBOOK = "scenario.xlsx"


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows with missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@dataclass
class ScenarioResult:
    """Baseline and plan (study, coverage, scorecard), the changes, comparison and targets."""

    scenario: ScenarioConfig
    baseline: Study
    baseline_result: CoverageResult
    baseline_equity: EquityResult
    plan: Study
    plan_result: CoverageResult
    plan_equity: EquityResult
    changes: pd.DataFrame
    comparison: pd.DataFrame
    targets: pd.DataFrame

    @property
    def heading(self) -> str:
        return self.scenario.name

    @property
    def notes(self) -> Notes:
        """What the baseline's analyses found (run ``baseline``), and what applying the plan
        and the plan's analyses found (run ``plan``); loading notes are the study's."""
        applied = Notes(self.plan.notes[len(self.baseline.notes):])
        return Notes([*self.baseline_result.notes.tagged("baseline"),
                      *self.baseline_equity.notes.tagged("baseline"),
                      *applied.tagged("plan"), *self.plan_result.notes.tagged("plan"),
                      *self.plan_equity.notes.tagged("plan")])

    def newly_covered(self, layer: str) -> np.ndarray:
        """People of each cell within the layer's standard under the plan but not before
        (negative where the plan's removals leave people beyond it)."""
        b, p = self.baseline_result.layers[layer], self.plan_result.layers[layer]
        return b.weights * (p.covered.astype(float) - b.covered.astype(float))

    @property
    def changed_layers(self) -> list[str]:
        """Layers whose facilities or capacities the plan changes (in study order)."""
        moved = self.changes["status"].isin([PLACED, PROXY, "removed", "changed"])
        touched = set(self.changes.loc[moved, "layer"])
        return [n for n in self.plan.layers if n in touched]

    # -- tables

    def tables(self) -> list[OutputTable]:
        return [
            OutputTable("targets", self.targets, csv="scenario_targets.csv", workbook=WORKBOOK),
            OutputTable("changes", self.changes, csv="scenario_changes.csv", workbook=WORKBOOK),
            OutputTable("comparison", self.comparison, csv="scenario_summary.csv",
                        workbook=WORKBOOK),
        ]

    def about(self) -> dict[str, str]:
        return {"scenario": self.scenario.name, **about_study(self.plan),
                "baseline/plan": "every figure of the study without and with the plan; "
                                 "change = plan - baseline"}

    # -- map

    def overlays(self) -> list[Overlay]:
        cov = self.plan_result
        changed = self.changed_layers
        return [cov.regions_overlay(), *cov.gap_overlays(shown=changed[0] if changed else None),
                *self.plan_equity.access_overlays(), *cov.facility_overlays(),
                *[o for name in changed for o in self.plan_overlays(name)]]

    def plan_overlays(self, name: str) -> list[Overlay]:
        """Gaps the plan closes (people newly within the standard per block) and the plan's
        new and closed facilities of one layer."""
        legend = f"Plan: {self.scenario.name}"
        out = []
        gain = self.newly_covered(name)
        moved = gain != 0
        if moved.any():
            pop = self.plan.population
            block_m = self.plan_result.block_m
            b = blocks(pop.x[moved], pop.y[moved], block_m, {"gain": gain[moved]})
            b = b[b["gain"].round(0) != 0]
            frame = gpd.GeoDataFrame({"layer": name,
                                      "people": [f"{v:+,.0f}" for v in b["gain"]]},
                                     geometry=block_boxes(b, block_m), crs=self.plan.crs)
            out.append(Overlay(f"Plan: gaps closed, {name}", frame,
                               Fill("change", values=b["gain"].to_numpy(), labels=(
                                   "block with people newly within the standard",
                                   "block with people newly beyond it (closures)")),
                               (("layer", "Layer"),
                                ("people", "People newly within the standard (people)")),
                               Depth.PLAN, LegendEntry(legend), grid=block_m))
        ch = self.changes
        new = ch[(ch["layer"] == name) & (ch["action"] == "add")
                 & ch["status"].isin([PLACED, PROXY])]
        if len(new):
            frame = gpd.GeoDataFrame({
                "name": new["name"].astype(str).to_numpy(),
                "status": new["status"].astype(str).to_numpy(),
                "placed_by": new["placed_by"].fillna("").astype(str).to_numpy(),
                "precision": new["precision"].fillna("").astype(str).to_numpy(),
                "region": new["region"].fillna("outside every region").astype(str).to_numpy(),
                "capacity": ["unknown" if pd.isna(c) else f"{c:,.0f} places"
                             for c in new["capacity_after"]],
            }, geometry=gpd.points_from_xy(new["lon"], new["lat"]), crs=4326)
            out.append(Overlay(
                f"Plan: new {name} ({len(frame)})", frame, Symbol("layer", name, ring=True),
                (("name", "Name"), ("status", "Status"), ("placed_by", "Placed by"),
                 ("precision", "Precision"), ("region", "Region"), ("capacity", "Capacity")),
                Depth.PLAN,
                LegendEntry(legend, f"new {name} (ringed; click for placement and precision)"),
                popup=True))
        gone = ch[(ch["layer"] == name) & (ch["action"] == "remove")]
        if len(gone):
            base = self.baseline.layers[name].facilities
            closed = base[base["facility_id"].isin(gone["facility_id"])]
            frame = gpd.GeoDataFrame({"name": closed["name"].astype(str).to_numpy(),
                                      "facility_id": closed["facility_id"].astype(str)
                                      .to_numpy()},
                                     geometry=closed.geometry.values, crs=closed.crs)
            out.append(Overlay(f"Plan: closed {name} ({len(frame)})", frame, Symbol("cross"),
                               (("name", "Closed by the plan"), ("facility_id", "Id")),
                               Depth.PLAN, LegendEntry(legend, f"{name} closed by the plan")))
        return out

    # -- report

    def layer_section(self, name: str) -> Section:
        """Baseline and plan coverage of one changed layer, and its inequality."""
        comp = self.comparison
        layer = self.plan.layers[name]
        s = comp[(comp["table"] == "summary") & (comp["layer"] == name)]
        wide = s.pivot_table(index=["level", "name"], columns="figure",
                             values=["baseline", "plan", "change"], sort=False)
        rows = [{"level": level, "name": nm,
                 **{f"{k}_{f}": r.get((k, f), np.nan) for k in ("baseline", "plan", "change")
                    for f in ("coverage_pct", "unserved_population", "facilities",
                              "population")}}
                for (level, nm), r in wide.iterrows()]
        grp = [r for r in rows if r["level"] in ("study", "group")]
        main = "access" if name in self.plan_equity.access else "covered"
        ind = comp[(comp["table"] == "indices") & (comp["layer"] == name)
                   & (comp["level"] == main) & comp["name"].isin(["gini", "theil"])]
        basis, std = layer.serves or "total population", layer.standard.describe()
        columns = [
            Column("level", "Level"), Column("name", "Name"),
            Column("plan_population", "Population (people)", "people"),
            Column("baseline_coverage_pct", "Coverage, baseline (%)", "pct"),
            Column("plan_coverage_pct", "Coverage, plan (%)", "pct"),
            Column("change_coverage_pct", "Change (percentage points)", "pct"),
            Column("baseline_unserved_population", "Unserved, baseline (people)", "people"),
            Column("plan_unserved_population", "Unserved, plan (people)", "people"),
            Column("baseline_facilities", "Facilities, baseline (count)", "people"),
            Column("plan_facilities", "Facilities, plan (count)", "people")]
        indices = "; ".join(f"{str(i.name).capitalize()} {fmt_index(i.baseline)} → "
                            f"{fmt_index(i.plan)}" for i in ind.itertuples())
        return section(
            f"{name}: baseline and plan",
            Figure(before_after_chart([r["level"] for r in grp], [r["name"] for r in grp],
                                      [r["baseline_coverage_pct"] for r in grp],
                                      [r["plan_coverage_pct"] for r in grp],
                                      ("baseline", "plan")),
                   f"Coverage (% of {basis} within {std}): baseline (grey) and plan."),
            table(columns, rows),
            para(f"Inequality ({MEASURE_TEXT[main]}): {indices} (0 = equal).", style="meta")
            if len(ind) else None,
            level=3, aside=f"({std}; people counted: {basis})")

    def scenario_section(self) -> Section:
        targets = [{**t, "targeted_text": f"{fmt_num(t['targeted'])} {t['unit']}"}
                   for t in _records(self.targets)]
        target_cols = [
            Column("label", "Target"), Column("layer", "Layer", empty="–"),
            Column("region", "Region", empty="all"),
            Column("targeted_text", "Targeted (count)", numeric=True),
            Column("placed", "Placed (count)", "num"),
            Column("placed_at_proxy", "Placed at a proxy location (count)", "num"),
            Column("already_in_baseline", "Already in the baseline data (count)", "num"),
            Column("unplaced", "Named, not placed (count)", "num"),
            Column("missing", "Still missing (count)", "num", low_above=0.0),
            Column("status", "Status")]
        changes = [{**c, "_class": "note-warning" if c["status"] == UNPLACED else None}
                   for c in _records(self.changes)]
        change_cols = [
            Column("action", "Action"), Column("layer", "Layer"), Column("name", "Name"),
            Column("status", "Status"), Column("placed_by", "Placed by", empty=""),
            Column("matched_name", "Matched place", empty=""),
            Column("precision", "Precision", empty=""), Column("region", "Region", empty=""),
            Column("capacity_before", "Places before (count)", "people"),
            Column("capacity_after", "Places after (count)", "people"),
            Column("note", "Note", empty="")]
        sc = self.scenario
        return section(
            f"Scenario: {sc.name}",
            para(sc.description) if sc.description else None,
            para("Every figure below this section describes the study with the plan; this "
                 "section compares it with the baseline (the study as it is). Changes = plan "
                 "− baseline. Tables: scenario_summary.csv (every figure), "
                 "scenario_targets.csv, scenario_changes.csv, scenario.xlsx."),
            section("Targets", table(target_cols, targets, class_key=None), para(
                '"Placed" facilities enter the plan\'s figures at the point given or found in '
                "the gazetteer (precision in the list of changes); proxies are the nearest "
                "named point (e.g. a town centre) for a facility whose own site is not known; "
                '"already in the baseline data" means the facility is in the study\'s current '
                "data, so it is not counted twice; facilities named but not placed are left "
                "out of every figure.", style="meta"), level=3),
            *[self.layer_section(n) for n in self.changed_layers],
            section("Changes", table(change_cols, changes, class_key=None), level=3),
            anchor="scenario")

    def sections(self) -> list[Section]:
        return [self.scenario_section(), *self.plan_result.sections(),
                *self.plan_equity.sections()]
