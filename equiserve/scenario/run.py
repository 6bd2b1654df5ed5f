"""Run a scenario: baseline and plan through the same analysis, then compare.

    Study (baseline) ──► coverage + scorecard ─┐
        │ apply_scenario (changes table)        ├─► compare (scenario_summary.csv)
        ▼                                       │   track_targets (scenario_targets.csv)
    Study (plan) ─────► coverage + scorecard ──┘   -> ScenarioResult
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from equiserve.config.scenario import ScenarioConfig, load_scenario
from equiserve.scenario.apply import apply_scenario
from equiserve.scenario.compare import check_targets, compare, track_targets
from equiserve.scenario.result import ScenarioResult

if TYPE_CHECKING:
    from equiserve.results.coverage import CoverageResult
    from equiserve.study import Progress, Study


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
