"""equiserve: measure and close gaps in basic public services.

Load a study (regions, population, facility layers) from ``study.toml``, compute who lives
within each service standard, by region and group, and write the report::

    >>> from equiserve import Study, write               # doctest: +SKIP
    >>> study = Study.load("study.toml")                 # doctest: +SKIP
    >>> coverage = study.coverage()                      # doctest: +SKIP
    >>> coverage.summary.query("level == 'group'")       # doctest: +SKIP
    >>> write(study, coverage, study.equity(coverage), out_dir="out")  # doctest: +SKIP

See docs/ARCHITECTURE.md for the modules and the data flow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from equiserve._version import __version__
from equiserve.errors import ConfigError, DataError, DataQualityWarning, EquiserveError

if TYPE_CHECKING:
    from equiserve.batch import BatchResult, load_batch, run_batch
    from equiserve.config import StudyConfig, load_config, parse_config
    from equiserve.outputs import write
    from equiserve.results.coverage import CoverageResult, LayerCoverage
    from equiserve.results.equity import EquityResult
    from equiserve.results.forecast import ForecastResult
    from equiserve.runs import run_report
    from equiserve.scenario.forecast import run_forecast
    from equiserve.study import Study

#: The public names imported on first use (PEP 562): ``import equiserve`` stays quick, so
#: the command line answers at once (``--help``, a bad output folder).
_LAZY = {
    "StudyConfig": "equiserve.config", "load_config": "equiserve.config",
    "parse_config": "equiserve.config", "write": "equiserve.outputs",
    "CoverageResult": "equiserve.results.coverage", "LayerCoverage": "equiserve.results.coverage",
    "EquityResult": "equiserve.results.equity", "run_report": "equiserve.runs",
    "Study": "equiserve.study", "ForecastResult": "equiserve.results.forecast",
    "run_forecast": "equiserve.scenario.forecast", "BatchResult": "equiserve.batch",
    "load_batch": "equiserve.batch", "run_batch": "equiserve.batch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'equiserve' has no attribute {name!r}")


__all__ = [
    "BatchResult",
    "ConfigError",
    "CoverageResult",
    "DataError",
    "DataQualityWarning",
    "EquiserveError",
    "EquityResult",
    "ForecastResult",
    "LayerCoverage",
    "Study",
    "StudyConfig",
    "__version__",
    "load_batch",
    "load_config",
    "parse_config",
    "run_batch",
    "run_forecast",
    "run_report",
    "write",
]
