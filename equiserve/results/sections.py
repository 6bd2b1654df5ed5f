"""Report sections as data: headings, paragraphs, tables and charts, no HTML.

A result's ``sections()`` returns :class:`Section` trees built from these blocks;
:mod:`equiserve.outputs.report` renders them (escaping every text) into the one report
template. Charts are specifications (values and colours), drawn as inline SVG there.

Colours are hex colours (``#1f77b4``) or tokens the renderer resolves: ``"study"`` (the
whole study), ``"before"`` (a baseline) and ``"group:<name>"`` (the colour of a region
group, the same as on the map).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from equiserve.results.formats import Format

#: Colour of the whole study in charts.
STUDY = "study"
#: Colour of a baseline ("before") in paired bars.
BEFORE = "before"


def group_colour(group: str) -> str:
    """The colour token of a region group."""
    return f"group:{group}"


@dataclass(frozen=True)
class Strong:
    """Bold text inside a paragraph."""

    text: str


@dataclass(frozen=True)
class Link:
    """A link inside a paragraph or a table cell (to a file beside the report, or an
    anchor)."""

    text: str
    href: str


Inline = str | Strong | Link


@dataclass(frozen=True)
class Paragraph:
    """Text; ``style`` "meta" is small print, "strong" a highlighted reading."""

    parts: tuple[Inline, ...]
    style: Literal["plain", "meta", "strong"] = "plain"


def para(*parts: Inline, style: Literal["plain", "meta", "strong"] = "plain") -> Paragraph:
    """A paragraph of ``parts`` (strings, :class:`Strong`, :class:`Link`)."""
    return Paragraph(tuple(p for p in parts if p != ""), style)


@dataclass(frozen=True)
class Column:
    """A table column: the row key it shows, its header (with the unit) and format.

    ``low_below`` / ``low_above`` highlight a value under / over a threshold (coverage
    below 50 %, places short of a norm); ``empty`` is written for a missing value;
    ``numeric`` right-aligns a column of pre-written numbers.
    """

    key: str
    header: str
    format: Format = "text"
    low_below: float | None = None
    low_above: float | None = None
    empty: str | None = None
    numeric: bool | None = None

    @property
    def right_aligned(self) -> bool:
        return self.numeric if self.numeric is not None else self.format != "text"


@dataclass(frozen=True)
class Table:
    """Rows (mappings of column key to value) under a header.

    ``class_key`` names the row key whose value becomes the row's style (``level``:
    study / group / region rows are shaded); a row's ``"_class"`` entry overrides it.
    Without ``header`` the first column is a row header (a key-value table); a row may
    have fewer cells, the last then spans the rest.
    """

    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    class_key: str | None = "level"
    header: bool = True


def table(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]],
          class_key: str | None = "level", header: bool = True) -> Table:
    return Table(tuple(columns), tuple(rows), class_key, header)


@dataclass(frozen=True)
class Series:
    """One curve of a chart: label, colour and its values (with weights, or the Lorenz
    curve's x and y)."""

    label: str
    colour: str
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars of ``values`` (in ``unit``, up to ``vmax``)."""

    labels: tuple[str, ...]
    values: tuple[float, ...]
    colours: tuple[str, ...]
    unit: str = "%"
    vmax: float = 100.0


@dataclass(frozen=True)
class DistributionChart:
    """Cumulative share of people within each distance or time; ``series.x`` are the
    distances, ``series.y`` the people; a dashed line at ``limit``."""

    series: tuple[Series, ...]
    unit: str
    limit: float


@dataclass(frozen=True)
class LorenzChart:
    """Lorenz curves: ``series.x`` population shares, ``series.y`` shares of ``measure``."""

    series: tuple[Series, ...]
    measure: str


@dataclass(frozen=True)
class TrendLine:
    """One line of a :class:`TrendChart`: label, colour token, values per x (years);
    ``dashed`` draws it dashed (e.g. places in reach beside a solid line of places needed)."""

    label: str
    colour: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    dashed: bool = False


@dataclass(frozen=True)
class TrendChart:
    """Values over the years: one line per :class:`TrendLine` (a point marker at each x),
    y axis from 0 in ``unit`` (e.g. "places"), x axis the years given."""

    lines: tuple[TrendLine, ...]
    unit: str
    title: str = ""


Chart = BarChart | DistributionChart | LorenzChart | TrendChart


@dataclass(frozen=True)
class Figure:
    """A chart with its caption."""

    chart: Chart
    caption: str


@dataclass(frozen=True)
class FigureRow:
    """Figures side by side."""

    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Section:
    """A titled part of the report; ``level`` 2 or 3 (a sub-section), ``aside`` a small
    note after the title, ``anchor`` the id links point to."""

    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    level: Literal[2, 3] = 2
    anchor: str | None = None
    aside: str | None = None


Block = Paragraph | Table | Figure | FigureRow | Section


def section(title: str, *blocks: Block | None, level: Literal[2, 3] = 2,
            anchor: str | None = None, aside: str | None = None) -> Section:
    """A section of the blocks that are not None."""
    return Section(title, tuple(b for b in blocks if b is not None), level, anchor, aside)


def before_after_chart(levels: Sequence[str], names: Sequence[str],
                       before: Sequence[float], after: Sequence[float],
                       labels: tuple[str, str] = ("before", "after")) -> BarChart:
    """Paired bars of coverage % per study/group: grey before, the group's colour after."""
    levels, names = list(levels), list(names)
    return BarChart(
        tuple(f"{n} {when}" for n in names for when in labels),
        tuple(float(v) for b, a in zip(before, after, strict=True) for v in (b, a)),
        tuple(c for lv, n in zip(levels, names, strict=True)
              for c in (BEFORE, STUDY if lv == "study" else group_colour(str(n)))))
