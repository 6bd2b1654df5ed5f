"""Report sections (:mod:`equiserve.results.sections`) as HTML: one renderer for every result.

Every text is escaped here; charts become inline SVG (:mod:`.charts`); colour tokens
(``study``, ``before``, ``group:<name>``) are resolved with the study's group colours, the
same as on the map.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from equiserve.outputs.report.charts import (
    bar_chart_svg,
    distance_cdf_svg,
    lorenz_svg,
    trend_svg,
)
from equiserve.outputs.style import group_colours
from equiserve.results.formats import format_value, missing
from equiserve.results.sections import (
    BEFORE,
    STUDY,
    BarChart,
    Block,
    Chart,
    Column,
    DistributionChart,
    Figure,
    FigureRow,
    Inline,
    Link,
    LorenzChart,
    Paragraph,
    Section,
    Strong,
    Table,
    TrendChart,
)

_FIXED = {STUDY: "#222222", BEFORE: "#bbbbbb"}


class SectionRenderer:
    """Renders sections with the colours of ``groups`` (in the study's order)."""

    def __init__(self, groups: list[str]) -> None:
        self.groups = group_colours(groups)

    def colour(self, token: str) -> str:
        if token in _FIXED:
            return _FIXED[token]
        if token.startswith("group:"):
            return self.groups.get(token.removeprefix("group:"), "#222")
        return token

    def section(self, sec: Section) -> str:
        anchor = f' id="{escape(sec.anchor)}"' if sec.anchor else ""
        aside = f" <small>{escape(sec.aside)}</small>" if sec.aside else ""
        head = f"<h{sec.level}{anchor}>{escape(sec.title)}{aside}</h{sec.level}>\n"
        return head + "".join(self.block(b) for b in sec.blocks)

    def block(self, block: Block) -> str:
        if isinstance(block, Section):
            return self.section(block)
        if isinstance(block, Paragraph):
            return self.paragraph(block)
        if isinstance(block, Table):
            return self.table(block)
        if isinstance(block, Figure):
            return self.figure(block)
        if isinstance(block, FigureRow):
            return ('<div class="charts">\n' + "".join(self.figure(f) for f in block.figures)
                    + "</div>\n")
        raise TypeError(f"not a report block: {block!r}")

    @staticmethod
    def inline(part: Inline) -> str:
        if isinstance(part, Strong):
            return f"<strong>{escape(part.text)}</strong>"
        if isinstance(part, Link):
            return f'<a href="{escape(part.href)}">{escape(part.text)}</a>'
        return escape(part)

    def paragraph(self, p: Paragraph) -> str:
        body = "".join(self.inline(x) for x in p.parts)
        if p.style == "strong":
            return f"<p><strong>{body}</strong></p>\n"
        cls = ' class="meta"' if p.style == "meta" else ""
        return f"<p{cls}>{body}</p>\n"

    def chart(self, chart: Chart) -> str:
        if isinstance(chart, BarChart):
            return bar_chart_svg(chart.labels, chart.values,
                                 [self.colour(c) for c in chart.colours], chart.unit,
                                 chart.vmax)
        if isinstance(chart, DistributionChart):
            return distance_cdf_svg([(s.label, self.colour(s.colour), s.x, s.y)
                                     for s in chart.series], unit=chart.unit,
                                    limit=chart.limit)
        if isinstance(chart, LorenzChart):
            return lorenz_svg([(s.label, self.colour(s.colour), s.x, s.y)
                               for s in chart.series], measure=chart.measure)
        if isinstance(chart, TrendChart):
            return trend_svg([(ln.label, self.colour(ln.colour), ln.x, ln.y, ln.dashed)
                              for ln in chart.lines], unit=chart.unit, title=chart.title)
        raise TypeError(f"not a chart: {chart!r}")

    def figure(self, f: Figure) -> str:
        caption = f"<figcaption>{escape(f.caption)}</figcaption>" if f.caption else ""
        return f"<figure>{self.chart(f.chart)}{caption}</figure>\n"

    @staticmethod
    def cell(col: Column, row: Mapping[str, Any]) -> tuple[str, bool]:
        """A cell's HTML and whether it is highlighted."""
        v = row.get(col.key)
        if isinstance(v, Link):
            return SectionRenderer.inline(v), False
        if col.empty is not None and (not v if col.format == "text" else missing(v)):
            return escape(col.empty), False
        low = False
        if not isinstance(v, str) and not missing(v) and v is not None:
            low = bool((col.low_below is not None and v < col.low_below)
                       or (col.low_above is not None and v > col.low_above))
        return escape(format_value(v, col.format)), low

    def table(self, t: Table) -> str:
        out = ["<table>\n"]
        if t.header:
            out.append("<tr>" + "".join(f"<th>{escape(c.header)}</th>" for c in t.columns)
                       + "</tr>\n")
        for row in t.rows:
            cls = row.get("_class") or (row.get(t.class_key) if t.class_key else None)
            out.append(f'<tr class="{escape(str(cls))}">' if cls else "<tr>")
            present = [c for c in t.columns if c.key in row]
            for i, col in enumerate(present):
                html, low = self.cell(col, row)
                span = len(t.columns) - len(present) + 1 if i == len(present) - 1 else 1
                tag = "th" if (not t.header and i == 0) else "td"
                classes = " ".join(filter(None, ["num" if col.right_aligned and span == 1
                                                 else "", "low" if low else ""]))
                attrs = (f' class="{classes}"' if classes else "") + (
                    f' colspan="{span}"' if span > 1 else "") + (
                    ' scope="row"' if tag == "th" else "")
                out.append(f"<{tag}{attrs}>{html}</{tag}>")
            out.append("</tr>\n")
        out.append("</table>\n")
        return "".join(out)
