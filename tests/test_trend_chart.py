"""The trend chart (values over the years, issue 14's seat demand): its SVG read back
through its own axis ticks, and the report drawing a section that holds one.

Positions are turned back into data with a scale fitted to the ticks' label text and
pixel positions, so the tests check what a reader sees against the values given.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np
import pytest

from equiserve.notes import Notes
from equiserve.outputs.report import render_report
from equiserve.outputs.report.charts import trend_svg
from equiserve.outputs.report.render import SectionRenderer
from equiserve.outputs.style import group_colours
from equiserve.results.sections import (
    STUDY,
    Figure,
    TrendChart,
    TrendLine,
    group_colour,
    section,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return root


def with_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if cls in e.get("class", "").split()]


def ticks(root: ET.Element, name: str) -> tuple[list[str], list[float]]:
    """Labels of the labelled ticks and their pixel positions along the axis ``name``."""
    (group,) = with_class(root, "g", name)
    coord = "x1" if name == "x-axis" else "y1"
    tick_groups = [t for t in with_class(group, "g", "tick") if t.find(f"{SVG}text") is not None]
    return ([t.find(f"{SVG}text").text for t in tick_groups],
            [float(t.find(f"{SVG}line").get(coord)) for t in tick_groups])


def fitted(root: ET.Element, name: str) -> np.ndarray:
    """(slope, offset) from data to pixels, fitted to the axis' tick labels."""
    labels, pixels = ticks(root, name)
    values = [float(t.replace(",", "")) for t in labels]
    coef = np.polyfit(values, pixels, 1)
    np.testing.assert_allclose(np.polyval(coef, values), pixels, atol=0.01)  # linear
    return coef


def markers(root: ET.Element) -> list[tuple[float, float, str]]:
    return [(float(c.get("cx")), float(c.get("cy")), c.find(f"{SVG}title").text)
            for c in with_class(root, "circle", "marker")]


def polylines(root: ET.Element) -> list[ET.Element]:
    return with_class(root, "polyline", "series")


def vertices(line: ET.Element) -> np.ndarray:
    return np.array([[float(v) for v in p.split(",")] for p in line.get("points").split()])


NEED = ("places needed", "#1f77b4", [2020, 2025, 2030], [1180.0, 1436.0, 1712.5], False)
REACH = ("places in reach", "#ff7f0e", [2020, 2025, 2030], [950.0, 950.0, 1020.0], True)


def test_markers_map_back_to_the_values_through_the_axis_ticks():
    root = parse(trend_svg([NEED, REACH], "places", "Schools"))
    x_coef, y_coef = fitted(root, "x-axis"), fitted(root, "y-axis")
    got = markers(root)
    assert len(got) == 6
    expected = [(label, x, y) for label, _, xs, ys, _ in (NEED, REACH)
                for x, y in zip(xs, ys, strict=True)]
    for (cx, cy, _), (_, x, y) in zip(got, expected, strict=True):
        assert abs(np.polyval(x_coef, x) - cx) <= 0.5
        assert abs(np.polyval(y_coef, y) - cy) <= 0.5
    # the hover text: "label, year: value unit"
    assert [t for _, _, t in got] == [
        "places needed, 2020: 1,180 places", "places needed, 2025: 1,436 places",
        "places needed, 2030: 1,712.5 places", "places in reach, 2020: 950 places",
        "places in reach, 2025: 950 places", "places in reach, 2030: 1,020 places"]
    # each line's polyline runs through its markers
    need_line, reach_line = polylines(root)
    np.testing.assert_allclose(vertices(need_line), [m[:2] for m in got[:3]], atol=0.01)
    np.testing.assert_allclose(vertices(reach_line), [m[:2] for m in got[3:]], atol=0.01)


def test_x_ticks_are_the_years_and_y_runs_from_0_to_a_nice_number():
    later = ("later", "#2ca02c", [2035, 2020], [250.0, 12_345.0], False)  # any order
    root = parse(trend_svg([NEED, later], "places"))
    years, _ = ticks(root, "x-axis")
    assert years == ["2020", "2025", "2030", "2035"]
    labels, pixels = ticks(root, "y-axis")
    # 0 to 12,345: a step of 2,000 (1-2-5 x 10^k, about 5 intervals), ending on 14,000
    assert labels == ["0", "2,000", "4,000", "6,000", "8,000", "10,000", "12,000", "14,000"]
    (axis,) = with_class(root, "g", "y-axis")
    plot_bottom, plot_top = (float(axis.findall(f"{SVG}line")[0].get(k)) for k in ("y1", "y2"))
    assert pixels[0] == plot_bottom and pixels[-1] == plot_top  # the axis ends on ticks
    assert axis.find(f"{SVG}text").text == "Places"  # the unit is the axis title
    # the marker of 2020 of "later" (12,345) is read back from the y ticks
    y_coef = fitted(root, "y-axis")
    cy = next(cy for _, cy, t in markers(root) if t == "later, 2020: 12,345 places")
    assert abs(np.polyval(y_coef, 12_345.0) - cy) <= 0.5


def test_many_years_have_a_tick_each_and_a_label_every_fifth():
    years = list(range(2020, 2051))
    root = parse(trend_svg([("need", "#1f77b4", years, [float(y - 2000) for y in years],
                             False)], "places"))
    (axis,) = with_class(root, "g", "x-axis")
    assert [t.get("data-value") for t in with_class(axis, "g", "tick")] == \
        [str(y) for y in years]
    # 31 years on 472 px: 14 px a year, so every 5th year is labelled (70 px apart)
    assert ticks(root, "x-axis")[0] == ["2020", "2025", "2030", "2035", "2040", "2045", "2050"]
    x_coef, y_coef = fitted(root, "x-axis"), fitted(root, "y-axis")
    for (cx, cy, _), y in zip(markers(root), years, strict=True):
        assert abs(np.polyval(x_coef, y) - cx) <= 0.5
        assert abs(np.polyval(y_coef, y - 2000) - cy) <= 0.5


def test_a_negative_value_takes_the_axis_below_0():
    root = parse(trend_svg([("spare", "#1f77b4", [2020, 2030], [-35.0, 80.0], False)],
                           "places"))
    labels, _ = ticks(root, "y-axis")
    assert labels[0] == "-40" and "0" in labels and labels[-1] == "80"


def test_dashed_lines_and_their_legend_samples_have_a_dasharray():
    root = parse(trend_svg([NEED, REACH], "places"))
    need_line, reach_line = polylines(root)
    assert need_line.get("stroke-dasharray") is None
    assert reach_line.get("stroke-dasharray")
    assert (need_line.get("stroke"), reach_line.get("stroke")) == ("#1f77b4", "#ff7f0e")
    (legend,) = with_class(root, "g", "legend")
    entries = with_class(legend, "g", "legend-entry")
    assert [e.find(f"{SVG}text").text for e in entries] == ["places needed", "places in reach"]
    samples = [e.find(f"{SVG}line") for e in entries]
    assert samples[0].get("stroke-dasharray") is None and samples[1].get("stroke-dasharray")


def test_nan_leaves_a_gap_splitting_the_line_in_two():
    x = [2020, 2022, 2024, 2026, 2028]
    root = parse(trend_svg([("need", "#1f77b4", x, [10.0, 20.0, np.nan, 40.0, 50.0], False)],
                           "places"))
    lines = polylines(root)
    assert len(lines) == 2
    x_coef, y_coef = fitted(root, "x-axis"), fitted(root, "y-axis")
    for line, xs, ys in zip(lines, ([2020, 2022], [2026, 2028]), ([10, 20], [40, 50]),
                            strict=True):
        v = vertices(line)
        np.testing.assert_allclose(v[:, 0], np.polyval(x_coef, xs), atol=0.5)
        np.testing.assert_allclose(v[:, 1], np.polyval(y_coef, ys), atol=0.5)
    assert [t for *_, t in markers(root)] == [f"need, {y}: {v} places" for y, v in
                                              ((2020, 10), (2022, 20), (2026, 40), (2028, 50))]
    # the year with no value still has its tick
    assert ticks(root, "x-axis")[0] == ["2020", "2022", "2024", "2026", "2028"]


def test_one_year_draws_markers_and_no_segment():
    root = parse(trend_svg([("need", "#1f77b4", [2025], [300.0], False),
                            ("reach", "#ff7f0e", [2025], [120.0], True)], "places"))
    assert polylines(root) == []
    assert ticks(root, "x-axis")[0] == ["2025"]
    (m1, m2) = markers(root)
    assert m1[0] == m2[0]  # one year, one x
    y_coef = fitted(root, "y-axis")
    assert abs(np.polyval(y_coef, 300.0) - m1[1]) <= 0.5
    assert abs(np.polyval(y_coef, 120.0) - m2[1]) <= 0.5


def test_no_lines_or_no_values_is_the_no_data_chart():
    for lines in ([], [("need", "#1f77b4", [2020, 2030], [np.nan, np.nan], False)]):
        root = parse(trend_svg(lines, "places", "Schools"))
        assert with_class(root, "text", "no-data") and not markers(root)


def test_text_is_escaped():
    svg = trend_svg([("<b>&", "#1f77b4", [2020, 2030], [1.0, 2.0], False)], "<i>places",
                    "a & b")
    assert "<b>" not in svg and "<i>" not in svg
    assert "&lt;b&gt;&amp;" in svg and "a &amp; b" in svg
    root = parse(svg)
    (legend,) = with_class(root, "g", "legend")
    assert with_class(legend, "g", "legend-entry")[0].find(f"{SVG}text").text == "<b>&"
    assert markers(root)[0][2] == "<b>&, 2020: 1 <i>places"


@pytest.mark.parametrize("line, match", [
    (("a", "red", [2020], [1.0], False), "hex"),
    (("a", "#123456", [2020, 2025], [1.0], False), "one length"),
    (("a", "#123456", [2020, 2020], [1.0, 2.0], False), "distinct"),
    (("a", "#123456", [2020, np.nan], [1.0, 2.0], False), "finite"),
    (("a", "#123456", [2020, 2025], [1.0, np.inf], False), "finite"),
])
def test_bad_lines_are_refused(line, match):
    with pytest.raises(ValueError, match=match):
        trend_svg([line], "places")


def trend_section():
    return section("Seat demand", Figure(TrendChart(
        (TrendLine("east needed", group_colour("east"), (2020.0, 2030.0), (100.0, 180.0)),
         TrendLine("east in reach", group_colour("east"), (2020.0, 2030.0), (90.0, 90.0),
                   dashed=True),
         TrendLine("study needed", STUDY, (2020.0, 2030.0), (300.0, 420.0))),
        unit="places", title="schools"), "Places needed and in reach"))


def test_the_renderer_draws_a_trend_chart_with_resolved_colours():
    html = SectionRenderer(["west", "east"]).section(trend_section())
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    root = parse(svg)
    east = group_colours(["west", "east"])["east"]
    assert [ln.get("stroke") for ln in polylines(root)] == [east, east, "#222222"]
    assert polylines(root)[1].get("stroke-dasharray")
    assert "<figcaption>Places needed and in reach</figcaption>" in html


@dataclass
class _Demand:
    notes: Notes = field(default_factory=Notes)
    heading: str | None = "seat demand"

    def sections(self):
        return [trend_section()]


def test_the_report_renders_a_section_holding_a_trend_chart(tiny_loaded):
    html = render_report(tiny_loaded, _Demand(), map_file=None)  # type: ignore[arg-type]
    assert "<h2>Seat demand</h2>" in html
    start = html.index("<svg", html.index("<h2>Seat demand</h2>"))
    root = parse(html[start:html.index("</svg>", start) + len("</svg>")])
    assert [t for *_, t in markers(root)][:2] == ["east needed, 2020: 100 places",
                                                   "east needed, 2030: 180 places"]
    assert ticks(root, "x-axis")[0] == ["2020", "2030"]
