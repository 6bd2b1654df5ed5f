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

from equiserve._version import __version__
from equiserve.config import StudyConfig, load_config, parse_config
from equiserve.errors import ConfigError, DataError, DataQualityWarning, EquiserveError
from equiserve.outputs import write
from equiserve.results.coverage import CoverageResult, LayerCoverage
from equiserve.results.equity import EquityResult
from equiserve.runs import run_report
from equiserve.study import Study

__all__ = [
    "ConfigError",
    "CoverageResult",
    "DataError",
    "DataQualityWarning",
    "EquiserveError",
    "EquityResult",
    "LayerCoverage",
    "Study",
    "StudyConfig",
    "__version__",
    "load_config",
    "parse_config",
    "run_report",
    "write",
]
