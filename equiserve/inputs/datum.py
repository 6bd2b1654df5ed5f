"""Is a layer declared WGS84 really in GCJ-02 or BD-09? A check by comparing readings.

Chinese web maps (Amap, Tencent, Baidu) publish coordinates in GCJ-02 or BD-09, and files
exported from them are usually tagged EPSG:4326 all the same: the commonest coordinate
mistake there is. Read as WGS84 such points sit 300-700 m (GCJ-02) or about 1.2 km (BD-09)
from where they are, in a direction the datum's formula predicts.

The check reads the numbers three ways: as declared, as GCJ-02 and as BD-09 (each
converted to WGS84), and scores every reading against data known to be in WGS84 (the
OpenStreetMap street network, or OSM points against region boundaries):

* a point layer: the median distance (m) of its points to the nearest street (no street
  network, no check);
* regions: the share of reference points (street nodes, OSM facilities) outside them.

A street grid is dense, so moving points a few hundred metres in *any* direction can
bring points that were far from a street (the middle of school grounds) nearer to one.
So each alternative reading is also compared with *controls*: the same shift turned by
45°, 90°, ... 315°. The file is reported as misread only when the alternative reading
beats the declared one by half and more (and by a minimum margin) and beats every
control (points: by that margin too): then the improvement is the datum's own direction,
not chance.

Everything here is pure: the scores come from the caller (:mod:`equiserve.study`), which
knows the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyproj

from equiserve.config import SourceSpec
from equiserve.config.sources import OSM_XML_SUFFIXES
from equiserve.crs import BD09, GCJ02, ChinaDatum, in_china, wgs84_from_bd09, wgs84_from_gcj02

#: A score of the data moved by ``shift`` ((n, 2) metres in the working CRS, one row per
#: sample point); lower is better.
Score = Callable[[np.ndarray], float]

#: An alternative reading must score at most this share of the declared one...
MAX_RATIO = 0.5
#: ... and at most this share of the best control (the same shift in other directions).
MAX_CONTROL_RATIO = 0.8
#: Turns of the controls (degrees).
CONTROL_TURNS = (45, 90, 135, 180, 225, 270, 315)


@dataclass(frozen=True)
class Misread:
    """A layer whose coordinates read better in another datum than the declared one.

    Attributes
    ----------
    datum : "GCJ-02" or "BD-09"
        The datum the numbers are in, by the check.
    declared, corrected, control : float
        The score as declared, read in ``datum``, and the best of the controls.
    shift_m : float
        Median distance (m) between the two readings of a point.
    bearing : str
        Compass direction from the declared reading to the corrected one (e.g. "SW").
    """

    datum: ChinaDatum
    declared: float
    corrected: float
    control: float
    shift_m: float
    bearing: str


def reads_lonlat(spec: SourceSpec, crs: pyproj.CRS | None) -> bool:
    """Whether a source's numbers are plain longitude/latitude said to be WGS84 (or
    CGCS2000, a few cm from it): not OpenStreetMap (WGS84 by definition), not declared
    GCJ-02 or BD-09, and in a geographic CRS."""
    if spec.path.name.lower().endswith(OSM_XML_SUFFIXES) or isinstance(spec.crs, str):
        return False
    return crs is not None and crs.is_geographic


def datum_shifts(lon: np.ndarray, lat: np.ndarray, crs: pyproj.CRS
                 ) -> dict[ChinaDatum, np.ndarray]:
    """Per point, how far (an (n, 2) array of metres in ``crs``) reading its numbers as
    GCJ-02 or BD-09 moves it; zero outside China, where neither datum applies."""
    to_work = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x0, y0 = to_work.transform(lon, lat)
    china = in_china(lon, lat)[:, None]
    out: dict[ChinaDatum, np.ndarray] = {}
    for datum, convert in ((GCJ02, wgs84_from_gcj02), (BD09, wgs84_from_bd09)):
        x1, y1 = to_work.transform(*convert(lon, lat))
        out[datum] = np.where(china, np.column_stack([np.asarray(x1) - x0,
                                                      np.asarray(y1) - y0]), 0.0)
    return out


def _turn(shift: np.ndarray, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return shift @ rot


COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _bearing(shift: np.ndarray) -> str:
    dx, dy = np.median(shift, axis=0)
    angle = (np.degrees(np.arctan2(dx, dy)) + 360) % 360
    return COMPASS[int((angle + 22.5) // 45) % 8]


def misread_datum(shifts: dict[ChinaDatum, np.ndarray], score: Score, min_gain: float,
                  control_gain: float | None = None) -> Misread | None:
    """The datum the data read best in, if it is not the declared one.

    Parameters
    ----------
    shifts : dict
        :func:`datum_shifts` at the sample points the score uses.
    score : callable
        Score of the data moved by a shift (lower is better).
    min_gain : float
        Smallest improvement over the declared reading that counts (in the score's unit).
    control_gain : float, optional
        Smallest improvement over the best control (default ``min_gain``). 0 lets a tie
        at a perfect score pass: a region check whose every reference point is inside
        both when read in the datum and when moved as far in a nearby direction.

    Examples
    --------
    Points 500 m east of a line they belong on, as GCJ-02 numbers are of WGS84 streets:

    >>> x = np.arange(50) % 7 * 700.0  # where the points are: on the streets x = 0, 700, ...
    >>> def score(shift):  # median distance to the streets, read 500 m east of them
    ...     moved = (x + 500 + shift[:, 0]) % 700
    ...     return float(np.median(np.minimum(moved, 700 - moved)))
    >>> shifts = {"GCJ-02": np.tile([-500.0, 0.0], (50, 1)),
    ...           "BD-09": np.tile([-1100.0, -300.0], (50, 1))}
    >>> found = misread_datum(shifts, score, min_gain=15)
    >>> found.datum, found.declared, found.corrected, found.bearing
    ('GCJ-02', 200.0, 0.0, 'W')
    """
    zero = np.zeros_like(next(iter(shifts.values())))
    declared = score(zero)
    best: Misread | None = None
    for datum, shift in shifts.items():
        size = np.hypot(shift[:, 0], shift[:, 1])
        if not size.size or np.median(size) < 1.0:  # outside China: nothing to compare
            continue
        corrected = score(shift)
        if corrected > MAX_RATIO * declared or declared - corrected < min_gain:
            continue
        control = min(score(_turn(shift, t)) for t in CONTROL_TURNS)
        margin = min_gain if control_gain is None else control_gain
        if corrected > MAX_CONTROL_RATIO * control or control - corrected < margin:
            continue
        if best is None or corrected < best.corrected:
            best = Misread(datum, declared, corrected, control, float(np.median(size)),
                           _bearing(shift))
    return best


def misread_message(found: Misread, key: str, what: str, unit: str,
                    fix: str = 'set crs = "{datum}" in [{key}]') -> str:
    """The warning for a misread layer: what was compared, the figures and the fix
    (``fix`` with ``{datum}`` and ``{key}`` filled in)."""
    fmt = (lambda v: f"{100 * v:.2f} %") if unit == "%" else (lambda v: f"{v:,.0f} m")
    return (f"the coordinates look like {found.datum} numbers (Chinese web maps) declared "
            f"as WGS84: {what} is {fmt(found.corrected)} read as {found.datum} but "
            f"{fmt(found.declared)} as declared (moved as far in another direction: at best "
            f"{fmt(found.control)}"
            + (", so the direction is not certain" if found.control <= found.corrected else "")
            + f"); as declared every point is about "
            f"{found.shift_m:,.0f} m {_opposite(found.bearing)} of where {found.datum} "
            f"puts it. If the file came from Amap, Tencent or Baidu, "
            + fix.format(datum=found.datum, key=key))


def _opposite(bearing: str) -> str:
    return COMPASS[(COMPASS.index(bearing) + 4) % 8]


# ---------------------------------------------------------------------------------------
# scores


#: Distance (m) from points (x, y in the working CRS) to the nearest street, capped at
#: the third argument.
StreetDistance = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def street_score(x: np.ndarray, y: np.ndarray, street_distance: StreetDistance,
                 cap_m: float = 2000.0) -> Score:
    """Median distance (m) of the points (``x``, ``y``), moved by a shift, to the nearest
    street (``street_distance``), each distance capped at ``cap_m``."""

    def score(shift: np.ndarray) -> float:
        return float(np.median(street_distance(x + shift[:, 0], y + shift[:, 1], cap_m)))

    return score


def outside_score(land: object, x: np.ndarray, y: np.ndarray) -> Score:
    """Share of the reference points (``x``, ``y``) outside ``land`` when ``land`` moves
    by a shift (the points move back by it)."""
    import shapely

    shapely.prepare(land)

    def score(shift: np.ndarray) -> float:
        inside = shapely.intersects_xy(land, x - shift[:, 0], y - shift[:, 1])
        return float(1.0 - inside.mean())

    return score


# ---------------------------------------------------------------------------------------
# the checks

#: Fewest points a check needs to say anything.
MIN_POINTS = 5
#: Smallest gain in median distance to a street (m) that counts.
MIN_GAIN_M = 15.0
#: Smallest number of reference points that must move inside the regions to count.
MIN_GAIN_POINTS = 10
#: Most points a check uses (a fixed sample beyond).
MAX_POINTS = 50_000


def _lonlat(x: np.ndarray, y: np.ndarray, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def any_in_china(x: np.ndarray, y: np.ndarray, crs: pyproj.CRS) -> bool:
    """Whether any of the points (in ``crs``) lies where GCJ-02 and BD-09 apply: else
    there is nothing to check."""
    return bool(len(x)) and bool(in_china(*_lonlat(np.asarray(x, float),
                                                    np.asarray(y, float), crs)).any())


def _sample(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= MAX_POINTS:
        return x, y
    pick = np.random.default_rng(0).choice(len(x), MAX_POINTS, replace=False)
    return x[pick], y[pick]


def check_points(key: str, x: np.ndarray, y: np.ndarray, crs: pyproj.CRS,
                 street_distance: StreetDistance,
                 fix: str = 'set crs = "{datum}" in [{key}]') -> str | None:
    """The warning for points declared WGS84 that read better as GCJ-02 or BD-09, or None.

    Scored by the median distance to the nearest street (``street_distance``, in
    ``crs``); the datum's reading must also beat every control by :data:`MIN_GAIN_M`. (Region
    boundaries are no test for points: facilities often lie just outside a district and
    serve it, and moving them a few hundred metres inland in any direction "fixes" them.)
    ``fix`` is what the warning tells the user to set (see :func:`misread_message`).
    """
    x, y = _sample(np.asarray(x, float), np.asarray(y, float))
    if len(x) < MIN_POINTS:
        return None
    shifts = datum_shifts(*_lonlat(x, y, crs), crs)
    found = misread_datum(shifts, street_score(x, y, street_distance), MIN_GAIN_M)
    what = "the median distance of its points to the nearest street"
    return None if found is None else misread_message(found, key, what, "m", fix)


def check_regions(land: object, ref_x: np.ndarray, ref_y: np.ndarray, crs: pyproj.CRS
                  ) -> str | None:
    """The warning for regions declared WGS84 that read better as GCJ-02 or BD-09, or
    None: scored by the share of reference points (OpenStreetMap street nodes and
    facilities, WGS84 by definition) outside them."""
    x, y = _sample(np.asarray(ref_x, float), np.asarray(ref_y, float))
    if len(x) < MIN_POINTS:
        return None
    shifts = datum_shifts(*_lonlat(x, y, crs), crs)
    found = misread_datum(shifts, outside_score(land, x, y), MIN_GAIN_POINTS / len(x),
                          control_gain=0.0)
    what = "the share of OpenStreetMap street nodes and facilities outside them"
    return None if found is None else misread_message(found, "regions", what, "%")
