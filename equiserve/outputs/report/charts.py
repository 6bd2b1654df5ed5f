"""Inline SVG charts for the self-contained HTML report: distance curves, Lorenz curves,
bars and trends over the years.

Pure functions returning one SVG string each: no external files, no script, no
matplotlib. Every text that may come from a user's files (series labels, titles, the
measure) is escaped with :func:`html.escape`; colours must be hex strings (``#1f77b4``)
and are checked, so nothing a caller passes can break out of an attribute.

The charts are accessible images: ``role="img"``, a ``<title>`` and a ``<desc>`` stating
the figures in words. Elements carry classes (``x-axis``, ``y-axis``, ``tick``,
``series``, ``marker``, ``limit``, ``equality``, ``legend``) so the report's CSS and the tests can
find them; no ``id`` is used, so several charts can share one page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from numpy.typing import ArrayLike

from equiserve.results.formats import fmt_pct, missing

__all__ = [
    "LinearScale",
    "bar_chart_svg",
    "distance_cdf_svg",
    "downsample_monotone",
    "format_tick",
    "lorenz_svg",
    "nice_step",
    "nice_ticks",
    "trend_svg",
]

#: Width of every chart in pixels.
WIDTH = 560
#: Most vertices drawn per curve.
MAX_VERTICES = 200

_FONT = 'font-family="sans-serif"'
_AXIS = "#333"
_GRID = "#e3e3e3"
_MUTED = "#888"
_ROW = 18  # legend row height
_CHAR_PX = 6.2  # mean width of a character at font-size 11, for legend truncation
_COLOUR_RE = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")

_X_TITLES = {"m": "Distance to the nearest (m)", "min": "Travel time to the nearest (min)"}
_DEFAULT_X_MAX = {"m": 1000.0, "min": 30.0}  # when no one can reach a facility at all


@dataclass(frozen=True)
class LinearScale:
    """Maps data values linearly to pixels: ``d0 -> p0`` and ``d1 -> p1``.

    For a y axis pointing up give ``p0`` the bottom pixel and ``p1`` the top one.

    >>> y = LinearScale(0, 100, 226, 36)
    >>> y(50), y.invert(131.0)
    (131.0, 50.0)
    """

    d0: float
    d1: float
    p0: float
    p1: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.d0) and math.isfinite(self.d1)) or self.d1 == self.d0:
            raise ValueError(f"a scale needs two different finite data ends; got {self.d0!r} "
                             f"and {self.d1!r}")

    def __call__(self, value: ArrayLike) -> np.ndarray | float:
        """Pixel position of ``value`` (a float for a scalar, else an array)."""
        v = np.asarray(value, dtype=float)
        out = self.p0 + (v - self.d0) * ((self.p1 - self.p0) / (self.d1 - self.d0))
        return float(out) if out.ndim == 0 else out

    def invert(self, pixel: ArrayLike) -> np.ndarray | float:
        """Data value at ``pixel`` (a float for a scalar, else an array)."""
        p = np.asarray(pixel, dtype=float)
        out = self.d0 + (p - self.p0) * ((self.d1 - self.d0) / (self.p1 - self.p0))
        return float(out) if out.ndim == 0 else out


def nice_step(span: float, target: int = 5) -> float:
    """The tick step of 1, 2 or 5 x 10^k giving closest to ``target`` intervals over ``span``.

    >>> nice_step(600), nice_step(100), nice_step(0.9), nice_step(25_000)
    (100.0, 20.0, 0.2, 5000.0)
    """
    if not (math.isfinite(span) and span > 0):
        raise ValueError(f"span must be a positive finite number; got {span!r}")
    k = math.floor(math.log10(span / target))

    def step(m: int) -> float:  # m x 10^k without the rounding of 0.1 * 3
        return m * 10.0 ** k if k >= 0 else m / 10.0 ** -k

    return min((step(m) for m in (1, 2, 5, 10)),
               key=lambda s: (abs(math.log(span / s / target)), -s))


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def format_tick(value: float, step: float) -> str:
    """A tick label: thousands separators and as many decimals as the step needs.

    >>> format_tick(12500, 2500), format_tick(0.6000000001, 0.2), format_tick(-1e-12, 0.5)
    ('12,500', '0.6', '0.0')
    """
    text = f"{value:,.{_decimals(step)}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def nice_ticks(lo: float, hi: float, target: int = 5,
               step: float | None = None) -> list[tuple[float, str]]:
    """Ticks ``(value, label)`` every ``step`` (default a :func:`nice_step`) in ``[lo, hi]``.

    >>> nice_ticks(0, 600)
    [(0.0, '0'), (100.0, '100'), (200.0, '200'), (300.0, '300'), (400.0, '400'), \
(500.0, '500'), (600.0, '600')]
    >>> [label for _, label in nice_ticks(0, 2600, target=4)]
    ['0', '500', '1,000', '1,500', '2,000', '2,500']
    """
    step = nice_step(hi - lo, target) if step is None else step
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    values = [round(i * step, _decimals(step)) for i in range(first, last + 1)]
    return [(float(v), format_tick(v, step)) for v in values]


def downsample_monotone(x: ArrayLike, y: ArrayLike,
                        max_vertices: int = MAX_VERTICES) -> np.ndarray:
    """Indices of at most ``max_vertices`` vertices of a polyline rising in both x and y.

    The kept vertices are vertices of the input (so exact there), always include the
    first and the last, and keep the order, so the result is monotone as well. They are
    spread evenly along the curve's length in axis-normalised units (``dx / x span +
    dy / y span``), and both ends of every segment longer than that spacing are kept:
    long steps stay exact, and a dropped stretch deviates from its chord by at most
    ``2 / (max_vertices // 2)`` of an axis.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if max_vertices < 4:
        raise ValueError(f"max_vertices must be at least 4; got {max_vertices}")
    if n <= max_vertices:
        return np.arange(n)
    span_x, span_y = x[-1] - x[0], y[-1] - y[0]
    length = np.zeros(n - 1)
    if span_x > 0:
        length += np.diff(x) / span_x
    if span_y > 0:
        length += np.diff(y) / span_y
    s = np.concatenate([[0.0], np.cumsum(length)])
    n_targets = (max_vertices - 2) // 2
    if not s[-1] > 0:
        return np.array([0, n - 1])
    targets = s[-1] * np.arange(1, n_targets + 1) / (n_targets + 1)
    right = np.clip(np.searchsorted(s, targets, side="right"), 1, n - 1)
    return np.unique(np.concatenate([[0, n - 1], right - 1, right]))


def _upper_quantile(curves: Sequence[_Cdf], q: float) -> float:
    """The smallest distance with at least ``q`` of the reachable people of all the curves
    together within it (the axis end), or 0 if no one can reach one: read off the curves
    by binary searches, with no sort of the people again.

    >>> c = _cdf("a", "#000000", [1.0, 2.0, 3.0, np.inf], [1.0, 1.0, 2.0, 4.0])
    >>> near = _cdf("b", "#000000", [0.5], [1.0])
    >>> _upper_quantile([c], 0.5), _upper_quantile([c], 0.25), _upper_quantile([c, near], 0.9)
    (2.0, 1.0, 3.0)
    """
    def within(x: float) -> float:  # the people of all curves within x
        return sum(_share_within(c, x) * c.people / 100.0 for c in curves)

    target = q * sum(c.people * (1.0 - c.unreachable / 100.0) for c in curves) * (1 - 1e-12)
    found, last = [], [c.x[-1] for c in curves if len(c.x)]
    for c in curves:  # the answer is a distance of some curve: a binary search in each
        lo, hi = 0, len(c.x)
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if within(c.x[mid]) >= target else (mid + 1, hi)
        if lo < len(c.x):
            found.append(c.x[lo])
    # none reaches the target only by rounding: the farthest distance then
    return float(min(found)) if found else float(max(last, default=0.0))


def _colour(colour: str) -> str:
    if not isinstance(colour, str) or not _COLOUR_RE.fullmatch(colour):
        raise ValueError(f"colours must be hex strings like '#1f77b4'; got {colour!r}")
    return colour


def _number(v: float) -> str:
    """A standard or limit as text: 500 -> '500', 1500 -> '1,500', 12.5 -> '12.5'."""
    if v == round(v):
        return f"{v:,.0f}"
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def _pct(v: float) -> str:
    """A share in % with one decimal that never rounds a non-zero share to 0 or 100."""
    if 0 < v < 0.05:
        return "<0.1"
    if 99.95 <= v < 100:
        return ">99.9"
    return f"{v:.1f}"


def _points(xs: ArrayLike, ys: ArrayLike) -> str:
    return " ".join(f"{a:.2f},{b:.2f}" for a, b in zip(np.ravel(xs).tolist(),
                                                        np.ravel(ys).tolist(), strict=True))


def _open(height: int, title: str, desc: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" {_FONT} font-size="11">'
            f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"]


def _heading(title: str) -> str:
    if not title:
        return ""
    return (f'<text class="chart-title" x="{WIDTH / 2:.0f}" y="20" text-anchor="middle" '
            f'font-size="13" font-weight="bold">{escape(title)}</text>')


def _no_data(title: str) -> str:
    name = title or "Chart"
    return "".join(_open(60, f"{name}: no data", "There are no people to show.")
                   + [_heading(title),
                      f'<text class="no-data" x="{WIDTH / 2:.0f}" y="44" text-anchor="middle" '
                      f'fill="{_MUTED}">no data</text></svg>'])


def _x_axis(scale: LinearScale, ticks: list[tuple[float, str]], top: float, bottom: float,
            title: str) -> str:
    parts = ['<g class="x-axis">']
    for value, label in ticks:
        px = scale(value)
        parts.append(f'<g class="tick" data-value="{value:g}">'
                     f'<line x1="{px:.2f}" y1="{top}" x2="{px:.2f}" y2="{bottom}" '
                     f'stroke="{_GRID}"/>'
                     f'<line x1="{px:.2f}" y1="{bottom}" x2="{px:.2f}" y2="{bottom + 4}" '
                     f'stroke="{_AXIS}"/>'
                     + (f'<text x="{px:.2f}" y="{bottom + 16}" text-anchor="middle">{label}'
                        "</text>" if label else "") + "</g>")
    mid = (scale.p0 + scale.p1) / 2
    parts.append(f'<line x1="{scale.p0}" y1="{bottom}" x2="{scale.p1}" y2="{bottom}" '
                 f'stroke="{_AXIS}"/>'
                 f'<text class="axis-title" x="{mid:.1f}" y="{bottom + 34}" '
                 f'text-anchor="middle" font-size="12">{escape(title)}</text></g>')
    return "".join(parts)


def _y_axis(scale: LinearScale, ticks: list[tuple[float, str]], left: float, right: float,
            title: str) -> str:
    parts = ['<g class="y-axis">']
    for value, label in ticks:
        py = scale(value)
        parts.append(f'<g class="tick" data-value="{value:g}">'
                     f'<line x1="{left}" y1="{py:.2f}" x2="{right}" y2="{py:.2f}" '
                     f'stroke="{_GRID}"/>'
                     f'<line x1="{left - 4}" y1="{py:.2f}" x2="{left}" y2="{py:.2f}" '
                     f'stroke="{_AXIS}"/>'
                     f'<text x="{left - 7}" y="{py + 4:.2f}" text-anchor="end">{label}</text>'
                     "</g>")
    mid = (scale.p0 + scale.p1) / 2
    parts.append(f'<line x1="{left}" y1="{scale.p0}" x2="{left}" y2="{scale.p1}" '
                 f'stroke="{_AXIS}"/>'
                 f'<text class="axis-title" x="16" y="{mid:.1f}" text-anchor="middle" '
                 f'font-size="12" transform="rotate(-90 16 {mid:.1f})">{escape(title)}</text>'
                 "</g>")
    return "".join(parts)


def _legend_entry(x: float, y: float, colour: str, label: str, max_chars: int,
                  dashed: bool = False, suffix: str = "") -> str:
    """A swatch and ``label + suffix``; a long label is shortened (the suffix never is)
    and then given in full as the entry's tooltip."""
    text = label + suffix
    room = max(8, max_chars - len(suffix))
    shown = text if len(label) <= room else label[:room - 1] + "…" + suffix
    full = f"<title>{escape(text)}</title>" if shown != text else ""
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (f'<g class="legend-entry">{full}'
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 18:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{colour}" stroke-width="3"{dash}/>'
            f'<text x="{x + 24:.1f}" y="{y:.1f}">{escape(shown)}</text></g>')


def _polyline(xs: ArrayLike, ys: ArrayLike, colour: str, label: str,
              dashed: bool = False) -> str:
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round"{dash} points="{_points(xs, ys)}">'
            f"<title>{escape(label)}</title></polyline>")


@dataclass(frozen=True)
class _Cdf:
    label: str
    colour: str
    x: np.ndarray  # distinct finite distances, ascending
    y: np.ndarray  # share of people (%) within each of them
    unreachable: float  # share of people (%) who cannot reach one
    people: float  # in the series


def _cdf(label: object, colour: str, distance: ArrayLike, weights: ArrayLike) -> _Cdf | None:
    """The weighted cumulative distribution of one series (None if it holds no people)."""
    d = np.asarray(distance, dtype=float)
    w = np.asarray(weights, dtype=float)
    if d.ndim != 1 or d.shape != w.shape:
        raise ValueError(f"series {label!s}: distance and weights must be 1-D arrays of one "
                         f"length; got shapes {d.shape} and {w.shape}")
    if np.isinf(w).any() or (w < 0).any():
        raise ValueError(f"series {label!s}: weights must be finite numbers of people >= 0")
    if (d < 0).any():
        raise ValueError(f"series {label!s}: distances must be >= 0 (inf for unreachable)")
    people = w > 0  # NaN weights hold no one
    d, w = d[people], w[people]
    total = w.sum()
    if not total > 0:
        return None
    finite = np.isfinite(d)  # inf (and NaN) distances: these people never reach one
    order = np.argsort(d[finite])  # ties' order moves no share: only runs' ends are read
    ds = d[finite][order]
    cum = np.cumsum(w[finite][order]) / total
    last = np.ones(len(ds), dtype=bool)
    last[:-1] = ds[1:] != ds[:-1]  # the share within x counts every cell at x
    unreachable = float(w[~finite].sum() / total)
    ys = 100.0 * cum[last]
    if unreachable == 0 and len(ys):
        ys[-1] = 100.0  # no rounding short of 100 % when everyone can reach one
    return _Cdf(str(label), _colour(colour), ds[last], ys, 100.0 * unreachable, float(total))


def _share_within(c: _Cdf, x: float) -> float:
    """Share of the series' people (%) within ``x``."""
    i = int(np.searchsorted(c.x, x, side="right"))
    return float(c.y[i - 1]) if i > 0 else 0.0


def _staircase(c: _Cdf, x_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the step curve from (0, 0) to (x_max, share within x_max)."""
    keep = c.x <= x_max
    ux, uy = c.x[keep], c.y[keep]
    before = np.concatenate([[0.0], uy])[:-1]  # the share just short of each step
    xs = np.concatenate([[0.0], np.repeat(ux, 2), [x_max]])
    ys = np.concatenate([[0.0], np.column_stack([before, uy]).ravel(),
                         [uy[-1] if len(uy) else 0.0]])
    same = np.zeros(len(xs), dtype=bool)
    same[1:] = (xs[1:] == xs[:-1]) & (ys[1:] == ys[:-1])
    return xs[~same], ys[~same]


def distance_cdf_svg(series: Sequence[tuple[str, str, ArrayLike, ArrayLike]], unit: str,
                     limit: float | None = None, title: str = "",
                     x_max: float | None = None) -> str:
    """Share of people living within each distance (or travel time) of the nearest facility.

    Parameters
    ----------
    series : sequence of (label, colour, distance, weights)
        One curve each: a label (escaped), a hex colour, the distance per cell in
        ``unit`` (``inf`` or NaN for people who cannot reach a facility) and the people
        per cell (zeros and NaN hold no one). Series without people are skipped.
    unit : {"m", "min"}
        Metres or minutes; sets the x-axis title.
    limit : float, optional
        The standard (500 m, 15 min), drawn as a dashed vertical line.
    title : str
        Shown above the chart and used as its accessible title.
    x_max : float, optional
        Right end of the x axis. Default: the 95th population-weighted percentile of the
        finite distances of all series times 1.1, at least ``1.2 * limit``, rounded up to
        a tick.

    Returns
    -------
    str
        An ``<svg>`` element. Each curve is the weighted cumulative share (%) of the
        series' people within x, drawn as steps (with at most :data:`MAX_VERTICES`
        vertices, exact at each); people who cannot reach a facility never enter it, so
        the curve ends below 100 % and the legend says ``label (x % unreachable)``. A
        small "no data" chart when no series holds people.

    Raises
    ------
    ValueError
        On an unknown unit, a colour that is not hex, negative distances or weights,
        infinite weights, mismatched lengths, or a limit or x_max that is not positive.
    """
    if unit not in _X_TITLES:
        raise ValueError(f"unit must be 'm' or 'min'; got {unit!r}")
    for name, v in (("limit", limit), ("x_max", x_max)):
        if v is not None and not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number; got {v!r}")
    curves = [c for label, colour, distance, w in series
              if (c := _cdf(label, colour, distance, w)) is not None]
    if not curves:
        return _no_data(title)

    if x_max is None:
        hi = 1.1 * _upper_quantile(curves, 0.95)
        if limit is not None:
            hi = max(hi, 1.2 * limit)
        if not hi > 0:
            hi = _DEFAULT_X_MAX[unit]
        step = nice_step(hi)
        x_step: float | None = step
        x_max = math.ceil(hi / step - 1e-9) * step  # the axis ends on a tick
    else:
        x_step = None

    left, right, top, plot_h = 64, 24, 36, 190
    bottom = top + plot_h
    n_cols = 1 if len(curves) == 1 else 2
    n_rows = math.ceil(len(curves) / n_cols)
    height = bottom + 56 + _ROW * (n_rows - 1) + 12
    xs_scale = LinearScale(0.0, x_max, left, WIDTH - right)
    ys_scale = LinearScale(0.0, 100.0, bottom, top)

    within = f" within {_number(limit)} {unit}" if limit is not None else ""
    desc = "; ".join(
        f"{c.label}: "
        + (f"{_pct(_share_within(c, limit))} % of people{within}" if limit is not None
           else f"{_pct(100 - c.unreachable)} % can reach one")
        + (f", {_pct(c.unreachable)} % unreachable" if c.unreachable > 0 else "")
        for c in curves) + "."
    name = title or f"Share of people by {_X_TITLES[unit][0].lower()}{_X_TITLES[unit][1:]}"
    parts = _open(height, name, desc)
    parts.append(_heading(title))
    parts.append(_y_axis(ys_scale, nice_ticks(0, 100), left, WIDTH - right,
                         "Share of people (%)"))
    parts.append(_x_axis(xs_scale, nice_ticks(0, x_max, step=x_step), top, bottom, _X_TITLES[unit]))
    if limit is not None and limit <= x_max:
        px = xs_scale(limit)
        near_end = px > WIDTH - right - 110
        tx, anchor = (px - 4, "end") if near_end else (px + 4, "start")
        parts.append(f'<g class="limit" data-value="{limit:g}">'
                     f'<line x1="{px:.2f}" y1="{top}" x2="{px:.2f}" y2="{bottom}" '
                     f'stroke="{_AXIS}" stroke-width="1.5" stroke-dasharray="5 4"/>'
                     f'<text x="{tx:.2f}" y="{top + 12}" text-anchor="{anchor}" stroke="#fff" '
                     'stroke-width="3" paint-order="stroke">'
                     f"standard {_number(limit)} {unit}</text></g>")
    legend = ['<g class="legend">']
    col_w = (WIDTH - left - right) / n_cols
    for i, c in enumerate(curves):
        xs, ys = _staircase(c, x_max)
        keep = downsample_monotone(xs, ys)
        parts.append(_polyline(xs_scale(xs[keep]), ys_scale(ys[keep]), c.colour, c.label))
        suffix = f" ({_pct(c.unreachable)} % unreachable)" if c.unreachable else ""
        row, col = divmod(i, n_cols)
        legend.append(_legend_entry(left + col * col_w, bottom + 56 + row * _ROW, c.colour,
                                    c.label, int((col_w - 30) / _CHAR_PX), suffix=suffix))
    parts.append("".join(legend) + "</g></svg>")
    return "".join(parts)


def lorenz_svg(curves: Sequence[tuple[str, str, ArrayLike, ArrayLike]], title: str = "",
               measure: str = "access") -> str:
    """Lorenz curves of an access measure against the equality diagonal, in a square plot.

    Parameters
    ----------
    curves : sequence of (label, colour, p, l)
        One curve each: a label (escaped; put the Gini in it if wanted), a hex colour,
        the cumulative population share ``p`` and the cumulative share of the measure
        ``l``, both in ``[0, 1]`` and of one length, as returned by
        :func:`equiserve.analysis.inequality.lorenz_curve`. Points with NaN are dropped;
        curves with fewer than two points left are skipped.
    title : str
        Shown above the chart and used as its accessible title.
    measure : str
        Names the measure in the y-axis title "Cumulative share of <measure> (%)".

    Returns
    -------
    str
        An ``<svg>`` element (a small "no data" chart when no curve is left).

    Raises
    ------
    ValueError
        On a colour that is not hex, ``p`` and ``l`` of different shapes, or shares
        outside ``[0, 1]``.
    """
    kept = []
    for label, colour, p, lv in curves:
        p = np.asarray(p, dtype=float)
        lv = np.asarray(lv, dtype=float)
        if p.ndim != 1 or p.shape != lv.shape:
            raise ValueError(f"curve {label!s}: p and l must be 1-D arrays of one length; got "
                             f"shapes {p.shape} and {lv.shape}")
        ok = np.isfinite(p) & np.isfinite(lv)
        p, lv = p[ok], lv[ok]
        if ((p < -1e-9) | (p > 1 + 1e-9) | (lv < -1e-9) | (lv > 1 + 1e-9)).any():
            raise ValueError(f"curve {label!s}: p and l are shares and must lie in [0, 1]")
        if len(p) >= 2:
            kept.append((str(label), _colour(colour), 100 * np.clip(p, 0, 1),
                         100 * np.clip(lv, 0, 1)))
    if not kept:
        return _no_data(title)

    left, top, side = 64, 36, 210
    bottom = top + side
    legend_x = left + side + 36
    height = max(bottom + 50, top + _ROW * (len(kept) + 1) + 8)
    xs_scale = LinearScale(0.0, 100.0, left, left + side)
    ys_scale = LinearScale(0.0, 100.0, bottom, top)
    ticks = nice_ticks(0, 100)
    name = title or f"Lorenz curves of {measure}"
    desc = ("Cumulative share of people against cumulative share of " + measure
            + ", people sorted from the lowest value; the further below the diagonal, "
            "the more unequal. Curves: " + "; ".join(k[0] for k in kept) + ".")
    parts = _open(height, name, desc)
    parts.append(_heading(title))
    parts.append(_y_axis(ys_scale, ticks, left, left + side,
                         f"Cumulative share of {measure} (%)"))
    parts.append(_x_axis(xs_scale, ticks, top, bottom, "Cumulative share of people (%)"))
    parts.append(f'<line class="equality" x1="{left}" y1="{bottom}" x2="{left + side}" '
                 f'y2="{top}" stroke="{_MUTED}" stroke-dasharray="4 3"/>')
    max_chars = int((WIDTH - legend_x - 30) / _CHAR_PX)
    legend = ['<g class="legend">',
              _legend_entry(legend_x, top + 10, _MUTED, "equality", max_chars, dashed=True)]
    for i, (label, colour, p, lv) in enumerate(kept):
        keep = downsample_monotone(p, lv)
        parts.append(_polyline(xs_scale(p[keep]), ys_scale(lv[keep]), colour, label))
        legend.append(_legend_entry(legend_x, top + 10 + _ROW * (i + 1), colour, label,
                                    max_chars))
    parts.append("".join(legend) + "</g></svg>")
    return "".join(parts)


def bar_chart_svg(labels: Sequence[str], values: Sequence[float], colours: Sequence[str],
                  unit: str = "%", vmax: float = 100.0) -> str:
    """Horizontal bars of ``values`` (0 to ``vmax``, in ``unit``) with their labels and
    figures; labels are escaped, colours checked.

    >>> bar_chart_svg(["east"], [41.25], ["#1f77b4"]).count("<rect")
    1
    """
    bar_h, gap, left, width = 22, 6, 130, 360
    height = len(labels) * (bar_h + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" '
             f'height="{height}" role="img">']
    for i, (lab, val, colour) in enumerate(zip(labels, values, colours, strict=True)):
        y = gap + i * (bar_h + gap)
        w = 0 if missing(val) else max(0.0, min(val, vmax)) / vmax * width
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h * 0.7:.1f}" text-anchor="end" '
            f'font-size="12">{escape(str(lab))}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{_colour(colour)}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="12">'
            f'{fmt_pct(val)} {escape(unit)}</text>')
    parts.append(f'<line x1="{left}" y1="0" x2="{left}" y2="{height}" stroke="#333"/></svg>')
    return "".join(parts)


def _year(x: float) -> str:
    """An x value of a trend as written on its axis: years as integers, no separator.

    >>> _year(2025.0), _year(2025.5)
    ('2025', '2025.5')
    """
    return f"{x:.0f}" if x == round(x) else f"{x:g}"


def _amount(v: float) -> str:
    """A value of a trend in words: thousands separators, one decimal at most.

    >>> _amount(1234.56), _amount(12.0), _amount(0.25)
    ('1,234.6', '12', '0.2')
    """
    return _number(round(v, 1))


def _year_ticks(years: np.ndarray, pixels: np.ndarray, room: float = 34.0
                ) -> list[tuple[float, str]]:
    """A tick at every year, labelled every ``step`` years from the first (all, else 2,
    5, 10, ...: the least that leaves ``room`` pixels between labels; the others
    unlabelled).

    >>> [lab for _, lab in _year_ticks(np.arange(2020.0, 2031.0), np.arange(11) * 15.0)]
    ['2020', '', '', '', '', '2025', '', '', '', '', '2030']
    """
    shown = np.ones(len(years), dtype=bool)  # first all (years need not be integers)
    for step in (2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if np.diff(pixels[shown]).min(initial=np.inf) >= room:
            break
        shown = np.isclose(np.mod(years - years[0], step), 0)
    return [(float(v), _year(v) if s else "") for v, s in zip(years, shown, strict=True)]


def _runs(ok: np.ndarray) -> list[np.ndarray]:
    """Indices of the runs of True in ``ok`` (the pieces of a line between NaN values).

    >>> [r.tolist() for r in _runs(np.array([True, True, False, True, False, False]))]
    [[0, 1], [3]]
    """
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    return [np.arange(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _trend_line(label: object, colour: str, x: ArrayLike, y: ArrayLike
                ) -> tuple[str, str, np.ndarray, np.ndarray]:
    """One line's label, checked colour and values sorted by x."""
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValueError(f"line {label!s}: x and y must be 1-D of one length; got shapes "
                         f"{xs.shape} and {ys.shape}")
    if not np.isfinite(xs).all():
        raise ValueError(f"line {label!s}: x (years) must be finite numbers")
    if np.isinf(ys).any():
        raise ValueError(f"line {label!s}: y must be finite numbers (NaN for a gap)")
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if (np.diff(xs) == 0).any():
        raise ValueError(f"line {label!s}: x values must be distinct; got {xs.tolist()}")
    return str(label), _colour(colour), xs, ys


def trend_svg(lines: Sequence[tuple[str, str, ArrayLike, ArrayLike, bool]], unit: str,
              title: str = "") -> str:
    """Values over the years: one line per series, a point marker at each value.

    Parameters
    ----------
    lines : sequence of (label, colour, x, y, dashed)
        One line each: a label (escaped), a hex colour, the x values (years, distinct,
        any order) and the values at them (NaN: no value, the line has a gap there), and
        whether the line is dashed.
    unit : str
        The values' unit (e.g. "places"): the y-axis title and the markers' hover text.
    title : str
        Shown above the chart and used as its accessible title.

    Returns
    -------
    str
        An ``<svg>`` element. The x axis has a tick at every distinct x of all lines
        (written as integers: "2025"; when they are too close to label all, every 2nd,
        5th, 10th, ... from the first is labelled), the y axis runs from 0 (or a tick
        below the least value when one is negative) to a nice number at or above the
        largest value. Each run of values between NaN values is one polyline (a run of
        one value only a marker); every value has a circle marker whose ``<title>``
        reads "label, year: value unit". A legend names every line, solid or dashed. A
        small "no data" chart when there is no line or no value at all.

    Raises
    ------
    ValueError
        On a colour that is not hex, x and y of different lengths, x that are not finite
        or repeat within a line, or infinite values.

    >>> svg = trend_svg([("need", "#1f77b4", [2020, 2030], [100, 250], False)], "places")
    >>> svg.count("<circle"), svg.count("<polyline")
    (2, 1)
    """
    kept = [(*_trend_line(label, colour, x, y), bool(dashed))
            for label, colour, x, y, dashed in lines]
    values = np.concatenate([ln[3] for ln in kept]) if kept else np.array([])
    values = values[np.isfinite(values)]
    if not len(values):
        return _no_data(title)

    years = np.unique(np.concatenate([ln[2] for ln in kept]))
    pad = 0.06 * (years[-1] - years[0]) if len(years) > 1 else 1.0  # markers off the axes
    hi = float(values.max()) if values.max() > 0 else 1.0
    step = nice_step(hi - min(0.0, float(values.min())))
    y_lo = math.floor(min(0.0, float(values.min())) / step + 1e-9) * step
    y_hi = math.ceil(hi / step - 1e-9) * step  # the axis ends on a tick

    left, right, top, plot_h = 64, 24, 36, 190
    bottom = top + plot_h
    n_cols = 1 if len(kept) == 1 else 2
    n_rows = math.ceil(len(kept) / n_cols)
    height = bottom + 56 + _ROW * (n_rows - 1) + 12
    xs_scale = LinearScale(float(years[0]) - pad, float(years[-1]) + pad, left, WIDTH - right)
    ys_scale = LinearScale(y_lo, y_hi, bottom, top)

    desc = "; ".join(
        f"{label}: " + ", ".join(f"{_year(a)} {_amount(b)}" if np.isfinite(b)
                                 else f"{_year(a)} no value" for a, b in zip(x, y, strict=True))
        for label, _, x, y, _ in kept) + f" ({unit})."
    parts = _open(height, title or f"{unit[:1].upper() + unit[1:]} by year", desc)
    parts.append(_heading(title))
    parts.append(_y_axis(ys_scale, nice_ticks(y_lo, y_hi, step=step), left, WIDTH - right,
                         unit[:1].upper() + unit[1:]))
    parts.append(_x_axis(xs_scale, _year_ticks(years, np.atleast_1d(xs_scale(years))), top,
                         bottom, "Year"))
    legend = ['<g class="legend">']
    col_w = (WIDTH - left - right) / n_cols
    for i, (label, colour, x, y, dashed) in enumerate(kept):
        px, py = np.atleast_1d(xs_scale(x)), np.atleast_1d(ys_scale(np.nan_to_num(y)))
        for run in _runs(np.isfinite(y)):
            if len(run) > 1:
                parts.append(_polyline(px[run], py[run], colour, label, dashed))
        parts.append("".join(
            f'<circle class="marker" cx="{px[k]:.2f}" cy="{py[k]:.2f}" r="3.5" '
            f'fill="{colour}" stroke="#fff" stroke-width="1">'
            f"<title>{escape(f'{label}, {_year(x[k])}: {_amount(y[k])} {unit}')}</title>"
            "</circle>" for k in np.flatnonzero(np.isfinite(y))))
        row, col = divmod(i, n_cols)
        legend.append(_legend_entry(left + col * col_w, bottom + 56 + row * _ROW, colour,
                                    label, int((col_w - 30) / _CHAR_PX), dashed=dashed))
    parts.append("".join(legend) + "</g></svg>")
    return "".join(parts)
