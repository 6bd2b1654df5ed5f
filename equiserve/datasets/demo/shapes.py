"""Smooth random curves and shapes: the coastlines, district boundaries, town outlines and
park outlines of the demo city.

Every function draws from the generator's single ``numpy.random.Generator``; the order of the
draws is part of the output (the same seed gives the same files).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon, box

__all__ = ["blob", "half_plane", "largest_polygon", "open_noise", "periodic_noise", "wobbly_box"]


def periodic_noise(
    rng: np.random.Generator, t: npt.NDArray[np.float64], amplitude: float
) -> npt.NDArray[np.float64]:
    """Smooth periodic noise on ``t`` in [0, 1), scaled so its largest magnitude is `amplitude`."""
    freqs = np.array([2.0, 3.0, 5.0, 7.0, 11.0, 17.0, 23.0, 31.0, 43.0])
    weights = rng.normal(size=freqs.size) / freqs**0.8
    phases = rng.uniform(0.0, 2.0 * np.pi, size=freqs.size)
    s = weights[:, None] * np.sin(2.0 * np.pi * freqs[:, None] * t[None, :] + phases[:, None])
    s = s.sum(axis=0)
    return s * (amplitude / np.abs(s).max())


def open_noise(
    rng: np.random.Generator, u: npt.NDArray[np.float64], amplitude: float
) -> npt.NDArray[np.float64]:
    """Smooth noise along `u` (metres; wavelengths 3-16 km) with max |value| = `amplitude`."""
    wavelengths = np.array([16_000.0, 9_000.0, 5_500.0, 3_000.0])
    weights = rng.normal(size=wavelengths.size) * (wavelengths / wavelengths.max()) ** 0.7
    phases = rng.uniform(0.0, 2.0 * np.pi, size=wavelengths.size)
    s = np.sin(2.0 * np.pi * u[None, :] / wavelengths[:, None] + phases[:, None])
    s = (weights[:, None] * s).sum(axis=0)
    return s * (amplitude / np.abs(s).max())


def largest_polygon(geom: shapely.Geometry) -> Polygon:
    """Return `geom` made valid, reduced to its largest polygon."""
    geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:  # pragma: no cover - cannot happen with the fixed layout
        raise RuntimeError("demo generator produced an empty polygon")
    return max(parts, key=lambda p: p.area)


def wobbly_box(
    rng: np.random.Generator, xmin: float, ymin: float, xmax: float, ymax: float, amplitude: float
) -> Polygon:
    """A rectangle whose edges are displaced radially by smooth periodic noise."""
    ring = shapely.get_coordinates(shapely.segmentize(box(xmin, ymin, xmax, ymax).exterior, 250.0))
    ring = ring[:-1]
    seg = np.hypot(*np.diff(np.vstack([ring, ring[:1]]), axis=0).T)
    t = np.concatenate([[0.0], np.cumsum(seg)[:-1]]) / seg.sum()
    centre = np.array([(xmin + xmax) / 2.0, (ymin + ymax) / 2.0])
    radial = ring - centre
    r = np.hypot(radial[:, 0], radial[:, 1])
    shifted = centre + radial * ((r + periodic_noise(rng, t, amplitude)) / r)[:, None]
    return largest_polygon(Polygon(shifted))


def half_plane(
    rng: np.random.Generator, vertical: bool, at: float, lo: float, hi: float, amplitude: float
) -> Polygon:
    """The side of a wavy cut line with smaller coordinates (west of / south of the line).

    The line runs near ``x = at`` (`vertical`) or ``y = at`` from `lo` to `hi` along the other
    axis, extended by 10 km at both ends.
    """
    u = np.linspace(lo - 10_000.0, hi + 10_000.0, 241)
    v = at + open_noise(rng, u, amplitude)
    far = at - 200_000.0
    pts = [(far, u[0]), *zip(v, u, strict=True), (far, u[-1])]
    if not vertical:
        pts = [(b, a) for a, b in pts]
    return largest_polygon(Polygon(pts))


def blob(rng: np.random.Generator, cx: float, cy: float, area: float, n: int = 120) -> Polygon:
    """A star-shaped, irregular polygon of exactly `area` square metres centred near (cx, cy).

    The shape of the islands, of the west's towns (their street grids) and of the sports
    parks; `n` is its number of vertices.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = 1.0 + periodic_noise(rng, theta / (2.0 * np.pi), 0.2)
    aspect = rng.uniform(1.0, 1.8)
    rot = rng.uniform(0.0, np.pi)
    px = r * np.cos(theta) * np.sqrt(aspect)
    py = r * np.sin(theta) / np.sqrt(aspect)
    xr = px * np.cos(rot) - py * np.sin(rot)
    yr = px * np.sin(rot) + py * np.cos(rot)
    unit = Polygon(np.column_stack([xr, yr]))
    k = np.sqrt(area / unit.area)
    return Polygon(np.column_stack([cx + k * xr, cy + k * yr]))
