"""Exceptions and warnings raised by equiserve.

Every message names the file, layer, field or key at fault and says what would fix it.
"""

from __future__ import annotations


class EquiserveError(Exception):
    """Base class of every error equiserve raises on bad input."""


class ConfigError(EquiserveError, ValueError):
    """The study configuration (study.toml) is invalid: a key, value or path is wrong."""


class DataError(EquiserveError, ValueError):
    """An input file is unreadable or its contents cannot be used as given."""


class DataQualityWarning(UserWarning):
    """Input was usable but suspicious; the issue is also recorded in the report's notes."""
