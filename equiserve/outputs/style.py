"""Colours and symbols shared by the map and the report, so a group looks the same in both."""

import math

#: Colours of region groups (east, west, island, ...) in order of first appearance.
GROUP_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def group_colours(groups: list[str]) -> dict[str, str]:
    """Colour of each group, by its position in ``groups`` (``Regions.group_names``)."""
    return {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups)}


#: Colours of facility layers in config order.
LAYER_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                 "#17becf", "#bcbd22", "#7f7f7f"]
#: Sequential colours of gap blocks (few to many unserved people).
GAP_COLOURS = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"]
#: Diverging colours of shortfall blocks: places short (light to dark reds), places to
#: spare (light to dark blues) and balanced (neither, a light grey).
SHORT_COLOURS = ["#fcae91", "#fb6a4a", "#ef3b2c", "#cb181d", "#99000d"]
SPARE_COLOURS = ["#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"]
BALANCED_COLOUR = "#d9d9d9"
#: Sequential colours of catchment access blocks (none in reach, then low to high).
ACCESS_COLOURS = ["#bdbdbd", "#deebf7", "#9ecae1", "#4292c6", "#08519c", "#08306b"]
#: Access classes relative to the study mean (edges of the ratio block / study).
ACCESS_RATIO_EDGES = [0.0, 0.5, 0.8, 1.25, 2.0]
#: Marker shapes of facility layers in config order (a layer keeps its colour and shape).
SHAPES = ["circle", "square", "triangle", "diamond", "pentagon", "star", "hexagon",
          "triangle-down", "cross", "octagon"]


def _polygon(n: int, r: float, c: float, rotate: float = -90.0, inner: float | None = None
             ) -> str:
    pts = []
    k = 2 * n if inner else n
    for i in range(k):
        a = math.radians(rotate + 360.0 * i / k)
        rr = inner if inner and i % 2 else r
        pts.append(f"{c + rr * math.cos(a):.1f},{c + rr * math.sin(a):.1f}")
    return " ".join(pts)


_POLYGONS = {"triangle": (3, -90.0, None), "triangle-down": (3, 90.0, None),
             "diamond": (4, -90.0, None), "pentagon": (5, -90.0, None),
             "hexagon": (6, 0.0, None), "octagon": (8, 22.5, None), "star": (5, -90.0, 0.45)}


def shape_outline(shape: str) -> list[tuple[float, float]] | None:
    """Vertices of a marker shape around its centre, in units of its radius (y down), as
    :func:`icon_svg` draws it; None for a circle. The map draws them on canvas.

    >>> shape_outline("square")
    [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    """
    if shape == "circle":
        return None
    if shape == "square":
        return [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    if shape == "cross":
        a, b = 0.3, 1.0
        pts = [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a),
               (-b, a), (-b, -a), (-a, -a)]
        return pts
    n, rot, inner = _POLYGONS[shape]
    k = 2 * n if inner else n
    out = []
    for i in range(k):
        ang = math.radians(rot + 360.0 * i / k)
        rr = inner if inner and i % 2 else 1.0
        out.append((round(rr * math.cos(ang), 3), round(rr * math.sin(ang), 3)))
    return out


def icon_svg(shape: str, colour: str, size: int = 16) -> str:
    """A marker symbol as inline SVG: ``shape`` (see :data:`SHAPES`) filled with ``colour``.

    >>> icon_svg("square", "#d62728", 10)[:40]
    '<svg xmlns="http://www.w3.org/2000/svg" '
    """
    c, r = size / 2, size / 2 - 1.5
    paint = f'fill="{colour}" stroke="#222" stroke-width="1.2"'
    if shape == "circle":
        body = f'<circle cx="{c}" cy="{c}" r="{r:.1f}" {paint}/>'
    elif shape == "square":
        body = f'<rect x="2" y="2" width="{size - 4}" height="{size - 4}" {paint}/>'
    elif shape == "cross":
        a, b = size * 0.34, size * 0.66
        pts = (f"{a:.1f},1.5 {b:.1f},1.5 {b:.1f},{a:.1f} {size - 1.5},{a:.1f} "
               f"{size - 1.5},{b:.1f} {b:.1f},{b:.1f} {b:.1f},{size - 1.5} {a:.1f},"
               f"{size - 1.5} {a:.1f},{b:.1f} 1.5,{b:.1f} 1.5,{a:.1f} {a:.1f},{a:.1f}")
        body = f'<polygon points="{pts}" {paint}/>'
    else:
        n, rot, frac = _POLYGONS[shape]
        inner = None if frac is None else r * frac
        body = f'<polygon points="{_polygon(n, r + 0.5, c, rot, inner)}" {paint}/>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}">{body}</svg>')


def swatch_svg(fill: str, stroke: str = "#555", size: int = 14, opacity: float = 1.0) -> str:
    """A filled square (legend key of an area colour)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">'
            f'<rect x="0.5" y="0.5" width="{size - 1}" height="{size - 1}" fill="{fill}" '
            f'fill-opacity="{opacity}" stroke="{stroke}"/></svg>')
