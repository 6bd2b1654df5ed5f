"""Run a scenario: baseline and plan through the same analysis, then compare and write.

    Study (baseline) ──► coverage + scorecard ─┐
        │ apply_scenario (changes table)        ├─► compare (scenario_summary.csv)
        ▼                                       │   track_targets (scenario_targets.csv)
    Study (plan) ─────► coverage + scorecard ──┘   scenario_report.html, scenario_map.html
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from equiserve.config.scenario import ScenarioConfig, load_scenario
from equiserve.scenario.apply import PLACED, PROXY, apply_scenario
from equiserve.scenario.compare import check_targets, compare, track_targets

if TYPE_CHECKING:
    from equiserve.outputs.maps.basemap import BaseMap
    from equiserve.scorecard import EquityResult
    from equiserve.study import CoverageResult, Progress, Study

SCENARIO_OUTPUTS = ("scenario_summary.csv", "scenario_targets.csv", "scenario_changes.csv",
                    "scenario.xlsx", "scenario_report.html", "scenario_map.html",
                    "data_quality.csv")


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

    def newly_covered(self, layer: str) -> np.ndarray:
        """People of each cell within the layer's standard under the plan but not before
        (negative where the plan's removals leave people beyond it)."""
        b, p = self.baseline_result.layers[layer], self.plan_result.layers[layer]
        return b.weights * (p.covered.astype(float) - b.covered.astype(float))

    def notes_frame(self) -> pd.DataFrame:
        """Data-quality notes with a ``run`` column: ``both`` (found while loading),
        ``baseline`` or ``plan`` (found while analysing that run)."""
        n = self.baseline.loaded_notes
        parts = [(self.baseline.notes[:n], "both"), (self.baseline.notes[n:], "baseline"),
                 (self.plan.notes[n:], "plan")]
        return pd.DataFrame([(run, x.level, x.subject, x.message) for notes, run in parts
                             for x in notes], columns=["run", "level", "subject", "message"])

    @property
    def changed_layers(self) -> list[str]:
        """Layers whose facilities or capacities the plan changes (in study order)."""
        moved = self.changes["status"].isin([PLACED, PROXY, "removed", "changed"])
        touched = set(self.changes.loc[moved, "layer"])
        return [n for n in self.plan.layers if n in touched]


def run_scenario(study: Study, scenario: ScenarioConfig | str | os.PathLike[str],
                 progress: Progress | None = None, baseline_result: CoverageResult | None = None
                 ) -> ScenarioResult:
    """Apply ``scenario`` to ``study`` and analyse both.

    Parameters
    ----------
    study : Study
        The loaded baseline study (not modified).
    scenario : ScenarioConfig or path of a plan TOML
    baseline_result : CoverageResult, optional
        Reuse a coverage run of ``study`` already made.
    """
    sc = scenario if isinstance(scenario, ScenarioConfig) else load_scenario(scenario)
    check_targets(sc, list(study.layers),
                  list(dict.fromkeys([*study.regions.names, *study.regions.groups])))
    step = progress or (lambda _msg: None)
    base = baseline_result or study.coverage(step)
    step("baseline scorecard")
    base_eq = study.equity(base)
    step("applying the plan")
    plan, changes = apply_scenario(study, sc)
    plan_res = plan.coverage(step)
    step("plan scorecard")
    plan_eq = plan.equity(plan_res)
    comparison = compare(base.summary, plan_res.summary, base_eq.scorecard, plan_eq.scorecard,
                         base_eq.indices, plan_eq.indices)
    targets = track_targets(sc, changes, list(study.layers))
    return ScenarioResult(sc, study, base, base_eq, plan, plan_res, plan_eq, changes,
                          comparison, targets)


def write_scenario_outputs(res: ScenarioResult, out_dir: str | os.PathLike[str],
                           basemap: BaseMap | None | Literal["config"] = "config"
                           ) -> dict[str, Path]:
    """Write the scenario's tables, spreadsheet, report and map into ``out_dir`` atomically."""
    from equiserve.io.atomic import atomic_output_dir
    from equiserve.outputs.excel import write_xlsx
    from equiserve.outputs.maps import coverage_map, save_map
    from equiserve.outputs.report.html import render_report
    from equiserve.outputs.tables import about_table

    out = Path(out_dir).expanduser().resolve()
    with atomic_output_dir(out) as tmp:
        res.comparison.to_csv(tmp / "scenario_summary.csv", index=False, float_format="%.10g")
        res.targets.to_csv(tmp / "scenario_targets.csv", index=False, float_format="%.10g")
        res.changes.to_csv(tmp / "scenario_changes.csv", index=False, float_format="%.10g")
        notes = res.notes_frame()
        notes.to_csv(tmp / "data_quality.csv", index=False)
        about = {"scenario": res.scenario.name, **about_table(res.plan),
                 "baseline/plan": "every figure of the study without and with the plan; "
                                  "change = plan - baseline"}
        write_xlsx({"targets": res.targets, "changes": res.changes,
                    "comparison": res.comparison, "data_quality": notes},
                   tmp / "scenario.xlsx", notes=about)
        fmap = coverage_map(res.plan, res.plan_result, basemap=basemap, equity=res.plan_equity,
                            scenario=res,
                            title=f"{res.plan.config.name}: {res.scenario.name}")
        save_map(fmap, tmp / "scenario_map.html")
        (tmp / "scenario_report.html").write_text(
            render_report(res.plan, res.plan_result, res.plan_equity, scenario=res,
                          map_file="scenario_map.html",
                          files=("scenario_summary.csv", "scenario_targets.csv",
                                 "scenario_changes.csv", "scenario.xlsx")),
            encoding="utf-8")
    return {n: out / n for n in SCENARIO_OUTPUTS}
