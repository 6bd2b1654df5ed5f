"""Scenarios: a plan's changes to a study's facilities, run against the baseline.

See :mod:`.config` for the plan file, :mod:`.gazetteer` for placing facilities by name,
:mod:`.apply` for building the plan's study, :mod:`.compare` for the before/after tables
and target tracking, and :mod:`.run` for the whole run and its outputs.
"""

from equiserve.config.scenario import ScenarioConfig, load_scenario, parse_scenario
from equiserve.inputs.gazetteer import Gazetteer
from equiserve.scenario.apply import apply_scenario
from equiserve.scenario.compare import compare, track_targets
from equiserve.scenario.run import (
    SCENARIO_OUTPUTS,
    ScenarioResult,
    run_scenario,
    write_scenario_outputs,
)

__all__ = ["SCENARIO_OUTPUTS", "Gazetteer", "ScenarioConfig", "ScenarioResult",
           "apply_scenario", "compare", "load_scenario", "parse_scenario", "run_scenario",
           "track_targets", "write_scenario_outputs"]
