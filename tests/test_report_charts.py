"""Inline SVG charts: distance curves and Lorenz curves, read back from the SVG itself.

Pixel positions are turned back into data through the chart's own axis ticks (their label
text and position), so the tests check that what a reader sees on the axes matches the
curves.
"""

from __future__ import annotations

import doctest
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from equiserve.analysis.inequality import gini, lorenz_curve
from equiserve.outputs.report import charts
from equiserve.outputs.report.charts import (
    LinearScale,
    distance_cdf_svg,
    downsample_monotone,
    format_tick,
    lorenz_svg,
    nice_step,
    nice_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<img src=x onerror=alert(1)>"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}title").text
    return root


def with_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if cls in e.get("class", "").split()]


def axis(root: ET.Element, name: str) -> LinearScale:
    """The pixel -> data mapping of an axis, fitted to its tick positions and labels."""
    (group,) = with_class(root, "g", name)
    coord = "x1" if name == "x-axis" else "y1"
    values, pixels = [], []
    for tick in with_class(group, "g", "tick"):
        values.append(float(tick.find(f"{SVG}text").text.replace(",", "")))
        pixels.append(float(tick.find(f"{SVG}line").get(coord)))
    assert len(values) >= 3
    slope, offset = np.polyfit(values, pixels, 1)
    # every tick sits where its label says (a linear axis)
    np.testing.assert_allclose(np.polyval([slope, offset], values), pixels, atol=0.01)
    return LinearScale(0.0, 1.0, offset, offset + slope)


def curves(root: ET.Element) -> list[np.ndarray]:
    """Each series' vertices in data units (x, y)."""
    x, y = axis(root, "x-axis"), axis(root, "y-axis")
    out = []
    for line in with_class(root, "polyline", "series"):
        px = np.array([[float(v) for v in p.split(",")] for p in line.get("points").split()])
        out.append(np.column_stack([x.invert(px[:, 0]), y.invert(px[:, 1])]))
    return out


def legend_texts(root: ET.Element) -> list[str]:
    (legend,) = with_class(root, "g", "legend")
    return [e.find(f"{SVG}text").text for e in with_class(legend, "g", "legend-entry")]


# -- ticks and scales -----------------------------------------------------------------

def test_doctests_of_the_helpers_hold():
    result = doctest.testmod(charts)
    assert result.attempted >= 6 and result.failed == 0


def test_nice_steps_are_1_2_5_and_give_about_five_intervals():
    for span in np.geomspace(1e-3, 1e7, 157).tolist():
        step = nice_step(span)
        mantissa = step / 10 ** np.floor(np.log10(step) + 1e-9)
        assert round(mantissa, 9) in (1.0, 2.0, 5.0), span
        assert 3 <= span / step <= 8, span
        ticks = nice_ticks(0.0, span)
        assert ticks[0][0] == 0.0 and ticks[-1][0] <= span * (1 + 1e-9), span
        assert span - ticks[-1][0] < step * (1 + 1e-9), span  # no room for one more tick


def test_tick_labels_have_thousands_separators_and_the_step_s_decimals():
    assert format_tick(1_234_567, 1000) == "1,234,567"
    assert format_tick(0.30000000000000004, 0.1) == "0.3"
    assert format_tick(2.5, 0.5) == "2.5"
    assert [label for _, label in nice_ticks(0, 12_000)] == [
        "0", "2,000", "4,000", "6,000", "8,000", "10,000", "12,000"]


def test_linear_scale_round_trips():
    s = LinearScale(0.0, 600.0, 64.0, 536.0)
    assert s(0) == 64.0 and s(600) == 536.0 and s(300) == 300.0
    np.testing.assert_allclose(s.invert(s(np.array([12.5, 499.0]))), [12.5, 499.0])
    with pytest.raises(ValueError):
        LinearScale(1.0, 1.0, 0.0, 10.0)


# -- distance curves ----------------------------------------------------------------

def hand_chart() -> ET.Element:
    # 4 people: 1 at 100 m, 1 at 300 m, 2 who cannot reach a school
    d = np.array([100.0, 300.0, np.inf])
    w = np.array([1.0, 1.0, 2.0])
    return parse(distance_cdf_svg([("East", "#1f77b4", d, w)], "m", limit=500,
                                  title="Schools"))


def test_hand_worked_curve_steps_to_25_and_ends_at_50_percent():
    root = hand_chart()
    (pts,) = curves(root)
    # the default axis: 95th percentile 300 m x 1.1 = 330 < 1.2 x 500 = 600 m
    expected = [(0, 0), (100, 0), (100, 25), (300, 25), (300, 50), (600, 50)]
    np.testing.assert_allclose(pts, expected, atol=0.05)
    assert pts[-1, 1] == pytest.approx(50.0, abs=0.01)  # the unreachable never arrive


def test_hand_worked_legend_limit_and_description():
    root = hand_chart()
    assert legend_texts(root) == ["East (50.0 % unreachable)"]
    (limit,) = with_class(root, "g", "limit")
    line = limit.find(f"{SVG}line")
    assert line.get("x1") == line.get("x2")
    assert line.get("stroke-dasharray")
    assert axis(root, "x-axis").invert(float(line.get("x1"))) == pytest.approx(500, abs=0.01)
    assert limit.find(f"{SVG}text").text == "standard 500 m"
    desc = root.find(f"{SVG}desc").text
    assert "East: 50.0 % of people within 500 m, 50.0 % unreachable" in desc
    assert root.find(f"{SVG}title").text == "Schools"


def test_axis_titles_state_units():
    d, w = np.array([3.0, 7.5, 12.0]), np.ones(3)
    root = parse(distance_cdf_svg([("walk", "#d62728", d, w)], "min", limit=15))
    titles = [e.text for e in with_class(root, "text", "axis-title")]
    assert titles == ["Share of people (%)", "Travel time to the nearest (min)"]
    assert [t.find(f"{SVG}text").text for t in with_class(with_class(root, "g", "y-axis")[0],
                                                          "g", "tick")] == [
        "0", "20", "40", "60", "80", "100"]
    assert legend_texts(root) == ["walk"]  # no "unreachable" when everyone reaches one
    (pts,) = curves(root)
    assert pts[-1, 1] == pytest.approx(100.0, abs=0.01)
    with pytest.raises(ValueError, match="unit"):
        distance_cdf_svg([("walk", "#d62728", d, w)], "km")


def test_curve_is_cut_at_x_max_at_the_share_within_it():
    d = np.array([100.0, 300.0, 900.0])
    root = parse(distance_cdf_svg([("a", "#123", d, np.ones(3))], "m", x_max=600))
    (pts,) = curves(root)
    assert pts[-1, 0] == pytest.approx(600, abs=0.01)
    assert pts[-1, 1] == pytest.approx(200 / 3, abs=0.01)
    assert pts[:, 0].max() <= 600.01
    ticks = [float(t.find(f"{SVG}text").text.replace(",", ""))
             for t in with_class(with_class(root, "g", "x-axis")[0], "g", "tick")]
    assert ticks[0] == 0 and ticks[-1] <= 600


def test_default_x_range_from_the_95th_percentile_and_the_limit():
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 1000, 2000)
    w = rng.integers(1, 20, 2000).astype(float)
    order = np.argsort(d)
    q95 = d[order][np.searchsorted(np.cumsum(w[order]), 0.95 * w.sum())]
    for limit, low in [(None, 1.1 * q95), (300.0, 1.1 * q95), (2000.0, 2400.0)]:
        root = parse(distance_cdf_svg([("a", "#123456", d, w)], "m", limit=limit))
        (pts,) = curves(root)
        x_end = pts[-1, 0]
        assert low <= x_end < 2 * low  # rounded up, not far
        ticks = [float(t.find(f"{SVG}text").text.replace(",", ""))
                 for t in with_class(with_class(root, "g", "x-axis")[0], "g", "tick")]
        assert ticks[-1] == pytest.approx(x_end, abs=0.01)  # the axis ends on a tick


def test_distances_of_zero_jump_at_the_origin_and_zero_weights_count_nowhere():
    d = np.array([0.0, 0.0, 200.0, 50.0])
    w = np.array([1.0, 2.0, 1.0, 0.0])  # the cell at 50 m holds no one
    (pts,) = curves(parse(distance_cdf_svg([("a", "#123456", d, w)], "m", x_max=400)))
    np.testing.assert_allclose(pts, [(0, 0), (0, 75), (200, 75), (200, 100), (400, 100)],
                               atol=0.05)


def ecdf_bounds(d: np.ndarray, w: np.ndarray, total: float, x: np.ndarray, eps: float):
    """Share (%) of ``total`` people with d < x - eps, and with d <= x + eps (finite d)."""
    order = np.argsort(d)
    ds, cw = d[order], np.concatenate([[0.0], np.cumsum(w[order])])
    lo = cw[np.searchsorted(ds, x - eps, side="left")] / total * 100
    hi = cw[np.searchsorted(ds, x + eps, side="right")] / total * 100
    return lo, hi


def test_100k_points_downsampled_exact_and_monotone():
    rng = np.random.default_rng(7)
    n = 100_000
    d = rng.gamma(2.0, 250.0, n)
    w = rng.integers(0, 40, n).astype(float)
    d[rng.random(n) < 0.03] = np.inf
    svg = distance_cdf_svg([("big", "#1f77b4", d, w)], "m", limit=500)
    root = parse(svg)
    (pts,) = curves(root)
    assert 50 <= len(pts) <= 200
    assert (np.diff(pts[:, 0]) >= -1e-9).all() and (np.diff(pts[:, 1]) >= -1e-9).all()
    # every vertex kept lies on the exact weighted step curve (either corner of a step)
    x_end = pts[-1, 0]
    eps = x_end / 476 * 0.006  # the rounding of a pixel coordinate to 2 decimals
    finite = np.isfinite(d)
    lo, hi = ecdf_bounds(d[finite], w[finite], w.sum(), pts[:, 0], eps)
    assert ((pts[:, 1] >= lo - 0.01) & (pts[:, 1] <= hi + 0.01)).all()
    unreachable = 100 * w[~finite].sum() / w.sum()
    assert legend_texts(root) == [f"big ({unreachable:.1f} % unreachable)"]
    assert len(svg) < 20_000


def test_downsampling_keeps_long_steps_whole():
    # a staircase of 10,000 small steps with one jump of half the people at x = 5000
    x = np.repeat(np.arange(10_000.0), 2)  # vertices (k, k) and (k, k + 1)
    y = np.arange(20_000.0) // 2 + np.arange(20_000) % 2
    y[2 * 5000 + 1:] += 10_000.0  # the step at x = 5000 rises by 10,001
    keep = downsample_monotone(x, y, max_vertices=200)
    assert len(keep) <= 200 and keep[0] == 0 and keep[-1] == len(x) - 1
    assert (np.diff(keep) > 0).all()
    assert 10_000 in keep and 10_001 in keep  # both ends of the big step
    # a dropped stretch spans at most 2 / 100 of the normalised length |dx| + |dy|
    a, b = keep[:-1], keep[1:]
    span = (x[b] - x[a]) / (x[-1] - x[0]) + (y[b] - y[a]) / (y[-1] - y[0])
    assert span[b > a + 1].max() <= 2 / 100 + 1e-12
    assert (downsample_monotone(x[:50], y[:50]) == np.arange(50)).all()


def test_several_series_zero_weight_skipped_and_no_data():
    d = np.array([10.0, 20.0])
    root = parse(distance_cdf_svg([("a", "#111111", d, np.ones(2)),
                                   ("empty", "#222222", d, np.zeros(2)),
                                   ("none", "#333333", np.array([]), np.array([])),
                                   ("b", "#444444", d, np.array([1.0, np.nan]))], "m"))
    assert legend_texts(root) == ["a", "b"]
    assert len(curves(root)) == 2
    for svg in (distance_cdf_svg([], "m", title="Clinics"),
                distance_cdf_svg([("empty", "#222222", d, np.zeros(2))], "m", limit=500)):
        root = parse(svg)
        assert "no data" in root.find(f"{SVG}title").text
        assert [t.text for t in with_class(root, "text", "no-data")] == ["no data"]
        assert not with_class(root, "polyline", "series")


def test_all_unreachable_is_a_flat_curve():
    d = np.array([np.inf, np.inf])
    root = parse(distance_cdf_svg([("island", "#2ca02c", d, np.array([3.0, 1.0]))], "m",
                                  limit=500))
    (pts,) = curves(root)
    np.testing.assert_allclose(pts[:, 1], 0.0, atol=0.01)
    assert legend_texts(root) == ["island (100.0 % unreachable)"]


def test_labels_are_escaped_and_colours_checked():
    d, w = np.array([10.0, np.inf]), np.ones(2)
    svg = distance_cdf_svg([(EVIL, "#1f77b4", d, w)], "m", limit=5, title=EVIL)
    svg2 = lorenz_svg([(EVIL, "#1f77b4", np.array([0, 0.5, 1]), np.array([0, 0.2, 1]))],
                      title=EVIL, measure=EVIL)
    for s in (svg, svg2):
        assert "<img" not in s and "&lt;img" in s
        root = parse(s)
        assert root.find(f"{SVG}title").text == EVIL  # the reader sees it verbatim
    assert legend_texts(parse(svg))[0] == f"{EVIL} (50.0 % unreachable)"
    for bad in ('red" onload="alert(1)', "red", "#12345"):
        with pytest.raises(ValueError, match="hex"):
            distance_cdf_svg([("a", bad, d, w)], "m")
        with pytest.raises(ValueError, match="hex"):
            lorenz_svg([("a", bad, np.array([0, 1.0]), np.array([0, 1.0]))])


def test_bad_inputs_are_refused():
    d = np.array([10.0, 20.0])
    with pytest.raises(ValueError, match=">= 0"):
        distance_cdf_svg([("a", "#123456", -d, np.ones(2))], "m")
    with pytest.raises(ValueError, match="weights"):
        distance_cdf_svg([("a", "#123456", d, np.array([1.0, np.inf]))], "m")
    with pytest.raises(ValueError, match="length"):
        distance_cdf_svg([("a", "#123456", d, np.ones(3))], "m")
    with pytest.raises(ValueError, match="limit"):
        distance_cdf_svg([("a", "#123456", d, np.ones(2))], "m", limit=0)


def test_long_legend_labels_are_shortened_but_keep_the_unreachable_share():
    d, w = np.array([10.0, np.inf]), np.ones(2)
    long = "A district with a very long name indeed, longer than any column"
    root = parse(distance_cdf_svg([(long, "#111111", d, w), ("b", "#222222", d, w)], "m"))
    first = with_class(with_class(root, "g", "legend")[0], "g", "legend-entry")[0]
    assert first.find(f"{SVG}text").text.endswith("… (50.0 % unreachable)")
    assert first.find(f"{SVG}title").text == f"{long} (50.0 % unreachable)"


# -- Lorenz curves --------------------------------------------------------------------

def lorenz_chart(curve_list, **kw) -> ET.Element:
    return parse(lorenz_svg(curve_list, **kw))


def test_lorenz_curve_runs_from_origin_to_one_one_with_the_diagonal():
    rng = np.random.default_rng(11)
    x = rng.lognormal(0.0, 1.0, 3000)
    w = rng.integers(1, 50, 3000)
    p, lv = lorenz_curve(x, w)
    label = f"East (Gini {gini(x, w):.3f})"
    root = lorenz_chart([(label, "#1f77b4", p, lv)], measure="places per person")
    (pts,) = curves(root)
    np.testing.assert_allclose(pts[0], [0, 0], atol=0.01)
    np.testing.assert_allclose(pts[-1], [100, 100], atol=0.01)
    np.testing.assert_allclose(pts, np.column_stack([100 * p, 100 * lv]), atol=0.01)
    (diag,) = with_class(root, "line", "equality")
    xa, ya = axis(root, "x-axis"), axis(root, "y-axis")
    ends = [(xa.invert(float(diag.get(f"x{i}"))), ya.invert(float(diag.get(f"y{i}"))))
            for i in (1, 2)]
    np.testing.assert_allclose(ends, [(0, 0), (100, 100)], atol=0.01)
    assert diag.get("stroke-dasharray")
    titles = [e.text for e in with_class(root, "text", "axis-title")]
    assert titles == ["Cumulative share of places per person (%)",
                      "Cumulative share of people (%)"]
    assert legend_texts(root) == ["equality", label]
    # square plot: 100 % spans as many pixels across as up
    assert xa(1.0) - xa(0.0) == pytest.approx(-(ya(1.0) - ya(0.0)), abs=0.01)


def test_exact_lorenz_breakpoints_are_kept_and_long_ones_downsampled():
    p, lv = lorenz_curve([1.0, 3.0], [3, 1], n_points=None)
    (pts,) = curves(lorenz_chart([("two", "#123456", p, lv)]))
    np.testing.assert_allclose(pts, [(0, 0), (75, 50), (100, 100)], atol=0.01)

    rng = np.random.default_rng(5)
    x = rng.gamma(1.2, 1.0, 50_000)
    p, lv = lorenz_curve(x, np.ones(len(x)), n_points=None)
    (pts,) = curves(lorenz_chart([("many", "#123456", p, lv)]))
    assert len(pts) <= 200
    assert (np.diff(pts[:, 0]) >= -1e-9).all() and (np.diff(pts[:, 1]) >= -1e-9).all()
    # each vertex lies on the exact curve (up to the rounding of pixels to 2 decimals)
    eps = 100 / 210 * 0.006
    lo = np.interp(pts[:, 0] - eps, 100 * p, 100 * lv)
    hi = np.interp(pts[:, 0] + eps, 100 * p, 100 * lv)
    assert ((pts[:, 1] >= lo - eps) & (pts[:, 1] <= hi + eps)).all()


def test_lorenz_no_data_and_bad_shares():
    p = np.linspace(0, 1, 5)
    nan = np.full(5, np.nan)  # lorenz_curve of a measure whose mean is 0
    root = lorenz_chart([("zero", "#123456", p, nan)], title="Access")
    assert [t.text for t in with_class(root, "text", "no-data")] == ["no data"]
    assert parse(lorenz_svg([])).find(f"{SVG}title").text == "Chart: no data"
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lorenz_svg([("pct", "#123456", 100 * p, 100 * p)])
    with pytest.raises(ValueError, match="length"):
        lorenz_svg([("a", "#123456", p, p[:3])])


def test_axis_end_read_off_the_curves_is_the_weighted_quantile_of_all_series():
    # the axis end comes from the curves by binary searches; it equals the weighted
    # quantile of every series' reachable people pooled and sorted (the definition)
    from equiserve.outputs.report.charts import _cdf, _upper_quantile

    def pooled(values: np.ndarray, weights: np.ndarray, q: float) -> float:
        order = np.argsort(values, kind="stable")
        cum = np.cumsum(weights[order])
        k = np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left")
        return float(values[order][min(k, len(cum) - 1)])

    rng = np.random.default_rng(2)
    checked = 0
    for _ in range(300):
        curves, values, weights = [], [], []
        for _ in range(int(rng.integers(1, 5))):
            n = int(rng.integers(1, 50))
            d = np.round(rng.gamma(2, 300, n), int(rng.integers(-2, 2)))  # ties too
            d[rng.random(n) < 0.2] = np.inf
            w = rng.integers(0, 5, n).astype(float)
            c = _cdf("a", "#000000", d, w)
            if c is not None:
                curves.append(c)
                ok = np.isfinite(d) & (w > 0)
                values.append(d[ok])
                weights.append(w[ok])
        v = np.concatenate(values) if values else np.empty(0)
        if not len(v):
            continue
        q = float(rng.choice([0.1, 0.5, 0.95, 1.0]))
        assert _upper_quantile(curves, q) == pooled(v, np.concatenate(weights), q)
        checked += 1
    assert checked > 200
