"""equiserve: measure and close gaps in basic public services.

Load a study (regions, population, facility layers) from ``study.toml``, compute who lives
within each service standard, by region and group, and write the report::

    >>> from equiserve import Study                      # doctest: +SKIP
    >>> study = Study.load("study.toml")                 # doctest: +SKIP
    >>> result = study.coverage()                        # doctest: +SKIP
    >>> result.summary.query("level == 'group'")         # doctest: +SKIP

See docs/ARCHITECTURE.md for the modules and the data flow.
"""

from __future__ import annotations

__version__ = "0.1.0"

from equiserve.config import StudyConfig, load_config, parse_config
from equiserve.errors import ConfigError, DataError, DataQualityWarning, EquiserveError
from equiserve.study import CoverageResult, LayerCoverage, Study, run_report

__all__ = [
    "ConfigError",
    "CoverageResult",
    "DataError",
    "DataQualityWarning",
    "EquiserveError",
    "LayerCoverage",
    "Study",
    "StudyConfig",
    "__version__",
    "load_config",
    "parse_config",
    "run_report",
]
