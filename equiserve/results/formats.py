"""How figures are written in reports, tables and map tooltips: one place for every format.

Pure functions of numbers (no HTML): results use them to compose sentences and tooltip
values, the report renderer to fill table cells. A missing value (None or NaN) is "–",
an infinite distance "unreachable".

>>> fmt_people(1234.4), fmt_pct(41.25), fmt_m(float("inf")), fmt_index(-0.0001)
('1,234', '41.2', 'unreachable', '0.000')
"""

from __future__ import annotations

import math
import re
from typing import Literal

import numpy as np

#: Names of the cell formats of :class:`equiserve.results.sections.Column`.
Format = Literal["text", "people", "pct", "m", "min", "num", "ratio", "index", "count",
                 "deg"]
MISSING = "–"


def missing(v: object) -> bool:
    """None or NaN."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_people(v: float | None) -> str:
    """People (or any count) as a whole number with thousands separators."""
    return MISSING if missing(v) else f"{v:,.0f}"


def fmt_pct(v: float | None) -> str:
    """A percentage with one decimal."""
    return MISSING if missing(v) else f"{v:.1f}"


def fmt_m(v: float | None) -> str:
    """A distance in whole metres ('unreachable' for infinity)."""
    if missing(v):
        return MISSING
    assert v is not None
    return "unreachable" if math.isinf(v) else f"{v:,.0f}"


def fmt_min(v: float | None) -> str:
    """A travel time in minutes with one decimal ('unreachable' for infinity)."""
    if missing(v):
        return MISSING
    assert v is not None
    return "unreachable" if math.isinf(v) else f"{v:,.1f}"


def fmt_num(v: float | None) -> str:
    """A figure with three significant digits, without exponent (1,920 / 63.2 / 1.19)."""
    if missing(v):
        return MISSING
    assert v is not None
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_ratio(v: float | None) -> str:
    """A ratio with two decimals."""
    if v is None or math.isnan(v) or math.isinf(v):
        return MISSING
    return f"{v:.2f}"


def fmt_index(v: float | None) -> str:
    """An inequality index with three decimals (never "-0.000")."""
    if missing(v):
        return MISSING
    assert v is not None
    return f"{0.0 if abs(v) < 5e-4 else v:.3f}"


def fmt_count(v: float | None) -> str:
    """A whole count with thousands separators (no rounding of fractions expected)."""
    return MISSING if v is None or math.isnan(v) else f"{int(v):,}"


def fmt_deg(v: float | None) -> str:
    """Longitude or latitude in degrees with six decimals (about 0.1 m)."""
    return MISSING if missing(v) else f"{v:.6f}"


def fmt_distance(unit: str) -> Format:
    """The cell format of a layer's distances: metres or minutes."""
    return "m" if unit == "m" else "min"


FORMATS = {"people": fmt_people, "pct": fmt_pct, "m": fmt_m, "min": fmt_min,
           "num": fmt_num, "ratio": fmt_ratio, "index": fmt_index, "count": fmt_count,
           "deg": fmt_deg}


def format_value(v: object, fmt: Format) -> str:
    """``v`` written in format ``fmt``; strings pass unchanged (a cell already written).

    >>> format_value(1234.5, "people"), format_value(None, "pct"), format_value("yes", "m")
    ('1,234', '–', 'yes')
    """
    if isinstance(v, str):
        return v
    if fmt == "text":
        return "" if v is None else str(v)
    if v is None:
        return FORMATS[fmt](None)
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
        raise TypeError(f"a {fmt} figure must be a number, not {v!r}")
    return FORMATS[fmt](float(v))


def people_label(serves: str | None) -> str:
    """'children_6_11' -> 'children 6–11'; None -> 'the population'."""
    if not serves:
        return "the population"
    return re.sub(r"(\d+)_(\d+)", "\\1–\\2", serves).replace("_", " ")


def capitalised(s: str) -> str:
    """``s`` with its first letter upper-case."""
    return s[:1].upper() + s[1:]
