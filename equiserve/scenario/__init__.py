"""Scenarios: a plan's changes to a study's facilities, run against the baseline.

The plan file is read by :mod:`equiserve.config.scenario`, places are found with
:mod:`equiserve.inputs.gazetteer`; :mod:`.apply` builds the plan's study, :mod:`.compare`
the before/after tables and target tracking, :mod:`.run` the whole run and :mod:`.result`
its :class:`ScenarioResult`.
"""

from equiserve.config.scenario import ScenarioConfig, load_scenario, parse_scenario
from equiserve.inputs.gazetteer import Gazetteer
from equiserve.scenario.apply import apply_scenario
from equiserve.scenario.compare import compare, track_targets
from equiserve.scenario.result import ScenarioResult
from equiserve.scenario.run import run_scenario

__all__ = ["Gazetteer", "ScenarioConfig", "ScenarioResult", "apply_scenario", "compare",
           "load_scenario", "parse_scenario", "run_scenario", "track_targets"]
