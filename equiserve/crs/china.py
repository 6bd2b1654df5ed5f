"""GCJ-02 and BD-09, the Chinese map services' coordinate systems, and WGS84.

Chinese map services publish coordinates in two obfuscated systems that no EPSG code
describes:

* **GCJ-02** ("Mars coordinates"; Amap/Gaode, Tencent, DataV, Google China): WGS84 plus
  a smooth, position-dependent offset of a few hundred metres (about +0.0051 deg lon and
  -0.0030 deg lat, 350-650 m, in Zhuhai). The offset is applied only inside a rough
  bounding box of China.
* **BD-09** (Baidu): GCJ-02 with a further rotation and shift.

Files holding such numbers are usually tagged EPSG:4326 all the same, so they must be
converted to WGS84 before they meet OpenStreetMap, Tianditu or any projected layer.

Every transform here is vectorised with NumPy: a call converts all coordinates at once
and iterative inverses loop over whole arrays, never over single points.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from typing import Any, Literal, overload

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BD09",
    "GCJ02",
    "bd09_from_gcj02",
    "bd09_from_wgs84",
    "from_wgs84_geometries",
    "gcj02_from_bd09",
    "gcj02_from_wgs84",
    "in_china",
    "special_crs_name",
    "to_wgs84_geometries",
    "wgs84_from_bd09",
    "wgs84_from_gcj02",
]

#: The Chinese datums that are not a pyproj CRS.
ChinaDatum = Literal["GCJ-02", "BD-09"]

GCJ02: ChinaDatum = "GCJ-02"
"""Canonical name of the Chinese GCJ-02 ("Mars") coordinate system."""
BD09: ChinaDatum = "BD-09"
"""Canonical name of Baidu's BD-09 coordinate system."""

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323

# Rough bounding box of China inside which GCJ-02 applies its offset.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# Baidu BD-09 constants.
_X_PI = math.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

_DEFAULT_TOL_DEG = 1e-9
_DEFAULT_MAX_ITER = 30

_SPECIAL_NAMES: dict[str, ChinaDatum] = {
    "gcj02": GCJ02,
    "gcj": GCJ02,
    "mars": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
}

_Pair = tuple[Any, Any]


# ---------------------------------------------------------------------------
# array helpers


def _as_float_arrays(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """Broadcast ``lon`` and ``lat`` to float arrays; report whether both were scalars."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    scalar = lon_a.ndim == 0 and lat_a.ndim == 0
    lon_b, lat_b = np.broadcast_arrays(lon_a, lat_a)
    # copies: broadcast views are read-only and may share memory with the input
    return np.array(lon_b, dtype=np.float64), np.array(lat_b, dtype=np.float64), scalar


def _out(lon: NDArray[np.float64], lat: NDArray[np.float64], scalar: bool) -> _Pair:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (lon, lat) lies inside the rough bounding box where GCJ-02 (and so
    BD-09) applies.

    >>> in_china([113.55, 2.35], [22.27, 48.85]).tolist()
    [True, False]
    """
    return _in_china(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))


def _in_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """True where (lon, lat) lies inside the rough bounding box where GCJ-02 applies."""
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _fixed_point_inverse(
    forward: Callable[[NDArray[np.float64], NDArray[np.float64]], _Pair],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    start: tuple[NDArray[np.float64], NDArray[np.float64]],
    tol_deg: float,
    max_iter: int,
    name: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``forward(x) == (lon, lat)`` for x by fixed-point iteration from ``start``.

    Each step moves every unconverged point by the residual ``forward(x) - target``;
    this converges because the offsets vary slowly with position. NaN inputs stay NaN.
    """
    if not tol_deg > 0:
        raise ValueError(f"tol_deg must be a positive number of degrees, got {tol_deg!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}")
    shape = lon.shape
    lon = lon.ravel()
    lat = lat.ravel()
    x = np.array(start[0], dtype=np.float64).ravel()
    y = np.array(start[1], dtype=np.float64).ravel()
    todo = np.ones(lon.shape, dtype=bool)
    for _ in range(max_iter):
        fx, fy = forward(x[todo], y[todo])
        dx = fx - lon[todo]
        dy = fy - lat[todo]
        err = np.maximum(np.abs(dx), np.abs(dy))
        # NaN errors compare False and are treated as done
        still = err >= tol_deg
        idx = np.flatnonzero(todo)
        x[idx] -= np.where(still, dx, 0.0)
        y[idx] -= np.where(still, dy, 0.0)
        todo[idx[~still]] = False
        if not todo.any():
            return x.reshape(shape), y.reshape(shape)
    # one last check of the points updated in the final step
    fx, fy = forward(x[todo], y[todo])
    err = np.maximum(np.abs(fx - lon[todo]), np.abs(fy - lat[todo]))
    n_bad = int(np.count_nonzero(err >= tol_deg))
    if n_bad:
        warnings.warn(
            f"{name}: {n_bad} point(s) did not converge to {tol_deg:g} deg in "
            f"{max_iter} iterations (largest error {float(np.max(err)):.3g} deg); "
            "points on the edge of the China bounding box can do this. "
            "Pass a larger max_iter or tol_deg if this is expected.",
            RuntimeWarning,
            stacklevel=3,
        )
    return x.reshape(shape), y.reshape(shape)


# ---------------------------------------------------------------------------
# GCJ-02


def _gcj_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat), without the box test."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    t_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    t_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (t_lat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    dlon = (t_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * pi)
    return dlon, dlat


def _gcj_forward(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    inside = _in_china(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


@overload
def gcj02_from_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair: ...
def gcj02_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 longitude/latitude to GCJ-02 ("Mars") coordinates.

    The standard public algorithm (Krasovsky ellipsoid, a = 6378245.0 m,
    e^2 = 0.00669342162296594323). The offset is applied only inside the rough
    bounding box of China (lon 72.004-137.8347, lat 0.8293-55.8271); points outside it,
    and NaNs, are returned unchanged.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        GCJ-02 longitude and latitude in degrees: floats when both inputs are scalars,
        otherwise float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = gcj02_from_wgs84(113.55, 22.27)   # Zhuhai
    >>> round(lon - 113.55, 4), round(lat - 22.27, 4)
    (0.0051, -0.003)
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    return _out(*_gcj_forward(lon_a, lat_a), scalar)


@overload
def wgs84_from_gcj02(
    lon: float, lat: float, tol_deg: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def wgs84_from_gcj02(
    lon: ArrayLike, lat: ArrayLike, tol_deg: float = ..., max_iter: int = ...
) -> _Pair: ...
def wgs84_from_gcj02(
    lon: ArrayLike,
    lat: ArrayLike,
    tol_deg: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> _Pair:
    """Convert GCJ-02 longitude/latitude back to WGS84, exactly.

    GCJ-02 has no closed-form inverse. Starting from ``g - (f(g) - g)`` (the usual
    one-step approximation, accurate to a few metres), each iteration subtracts the
    residual ``f(w) - g`` until ``max(|f(w) - g|) < tol_deg`` for every point, where
    ``f`` is :func:`gcj02_from_wgs84`. Points outside China come back unchanged.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees; broadcast against each other.
    tol_deg : float, default 1e-9
        Largest accepted round-trip error in degrees (1e-9 deg is about 0.1 mm).
    max_iter : int, default 30
        Iteration limit; a ``RuntimeWarning`` names the points that did not converge
        (in practice only points straddling the edge of the China bounding box).

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS84 longitude and latitude in degrees.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    flon, flat = _gcj_forward(lon_a, lat_a)
    start = (lon_a - (flon - lon_a), lat_a - (flat - lat_a))
    x, y = _fixed_point_inverse(
        _gcj_forward, lon_a, lat_a, start, tol_deg, max_iter, "wgs84_from_gcj02"
    )
    return _out(x, y, scalar)


# ---------------------------------------------------------------------------
# BD-09


def _bd_forward(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _bd_inverse_closed_form(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


@overload
def bd09_from_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair: ...
def bd09_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 longitude/latitude to Baidu BD-09 (the standard Baidu formula).

    ``z = hypot(x, y) + 2e-5 sin(y x_pi)``, ``theta = atan2(y, x) + 3e-6 cos(x x_pi)``
    with ``x_pi = pi * 3000 / 180``, then ``(z cos(theta) + 0.0065, z sin(theta) + 0.006)``.
    Applied everywhere (Baidu has no China test).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        BD-09 longitude and latitude in degrees.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    return _out(*_bd_forward(lon_a, lat_a), scalar)


@overload
def gcj02_from_bd09(
    lon: float, lat: float, tol_deg: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def gcj02_from_bd09(
    lon: ArrayLike, lat: ArrayLike, tol_deg: float = ..., max_iter: int = ...
) -> _Pair: ...
def gcj02_from_bd09(
    lon: ArrayLike,
    lat: ArrayLike,
    tol_deg: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> _Pair:
    """Convert Baidu BD-09 longitude/latitude to GCJ-02, as an exact inverse.

    The usual closed-form formula is only approximate (errors of order 1e-6 deg, about
    0.1 m), so its result is refined by fixed-point iteration until
    :func:`bd09_from_gcj02` reproduces the input to within ``tol_deg``.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.
    tol_deg : float, default 1e-9
        Largest accepted round-trip error in degrees.
    max_iter : int, default 30
        Iteration limit (convergence normally takes two or three steps).

    Returns
    -------
    lon, lat : float or numpy.ndarray
        GCJ-02 longitude and latitude in degrees.
    """
    lon_a, lat_a, scalar = _as_float_arrays(lon, lat)
    start = _bd_inverse_closed_form(lon_a, lat_a)
    x, y = _fixed_point_inverse(
        _bd_forward, lon_a, lat_a, start, tol_deg, max_iter, "gcj02_from_bd09"
    )
    return _out(x, y, scalar)


@overload
def wgs84_from_bd09(
    lon: float, lat: float, tol_deg: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def wgs84_from_bd09(
    lon: ArrayLike, lat: ArrayLike, tol_deg: float = ..., max_iter: int = ...
) -> _Pair: ...
def wgs84_from_bd09(
    lon: ArrayLike,
    lat: ArrayLike,
    tol_deg: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> _Pair:
    """Convert Baidu BD-09 longitude/latitude to WGS84 (BD-09 -> GCJ-02 -> WGS84).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.
    tol_deg, max_iter
        Passed to :func:`gcj02_from_bd09` and :func:`wgs84_from_gcj02`.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS84 longitude and latitude in degrees.
    """
    g_lon, g_lat = gcj02_from_bd09(lon, lat, tol_deg, max_iter)
    return wgs84_from_gcj02(g_lon, g_lat, tol_deg, max_iter)


@overload
def bd09_from_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair: ...
def bd09_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 longitude/latitude to Baidu BD-09 (WGS84 -> GCJ-02 -> BD-09).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        BD-09 longitude and latitude in degrees.
    """
    return bd09_from_gcj02(*gcj02_from_wgs84(lon, lat))


# ---------------------------------------------------------------------------
# names and geometries


def special_crs_name(value: object) -> ChinaDatum | None:
    """Recognise the Chinese non-EPSG systems by any usual spelling.

    Case, spaces and punctuation are ignored, so ``"gcj02"``, ``"GCJ-02"``,
    ``"gcj_02"`` and ``"Mars"`` all give ``"GCJ-02"``, and ``"BD09"``, ``"bd-09"``,
    ``"bd09ll"`` and ``"Baidu"`` give ``"BD-09"``.

    Parameters
    ----------
    value : str
        A CRS name as written by a user. Non-strings give None.

    Returns
    -------
    str or None
        ``"GCJ-02"``, ``"BD-09"`` or None when ``value`` names neither.
    """
    if not isinstance(value, str):
        return None
    key = re.sub(r"[^0-9a-z]", "", value.lower())
    return _SPECIAL_NAMES.get(key)


def _special_or_raise(value: str, argname: str) -> ChinaDatum:
    name = special_crs_name(value)
    if name is None:
        raise ValueError(
            f"{argname}={value!r} is not a Chinese map coordinate system; "
            "expected 'GCJ-02' (Amap, Tencent, 'Mars') or 'BD-09' (Baidu). "
            "Reproject ordinary CRSs with GeoSeries.to_crs instead."
        )
    return name


def _xy_transformer(
    func: Callable[[NDArray[np.float64], NDArray[np.float64]], _Pair],
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """Wrap a (lon, lat) -> (lon, lat) function for :func:`shapely.transform`.

    The wrapper receives an (N, 2) or (N, 3) coordinate array; it converts columns 0
    and 1 and leaves any z column as it was.
    """

    def transform(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.array(coords, dtype=np.float64, copy=True)
        if out.shape[0]:
            out[:, 0], out[:, 1] = func(out[:, 0], out[:, 1])
        return out

    return transform


_KEEP = object()


def _apply_to_geometries(geoms: Any, func: Callable[..., _Pair], crs_out: Any) -> Any:
    transform = _xy_transformer(func)
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a dependency
        gpd = None
    if gpd is not None and isinstance(geoms, gpd.GeoDataFrame):
        raise TypeError(
            "pass the geometry column (gdf.geometry), not the whole GeoDataFrame; "
            "e.g. gdf = gdf.set_geometry(to_wgs84_geometries(gdf.geometry, 'GCJ-02'))"
        )
    if gpd is not None and isinstance(geoms, gpd.GeoSeries):
        values = shapely.transform(np.asarray(geoms.values), transform, include_z=None)
        crs = geoms.crs if crs_out is _KEEP else crs_out
        return gpd.GeoSeries(values, index=geoms.index, crs=crs, name=geoms.name)
    return shapely.transform(geoms, transform, include_z=None)


def to_wgs84_geometries(geoms: Any, source: str) -> Any:
    """Convert geometries whose coordinates are GCJ-02 or BD-09 numbers to WGS84.

    Parameters
    ----------
    geoms : shapely geometry, array_like of geometries or geopandas.GeoSeries
        Geometries holding GCJ-02 or BD-09 longitude/latitude (typically read from a
        file tagged EPSG:4326, since no EPSG code describes these systems).
    source : str
        ``"GCJ-02"`` or ``"BD-09"``, in any spelling :func:`special_crs_name` accepts.

    Returns
    -------
    same kind as ``geoms``
        Geometries with WGS84 longitude/latitude. A GeoSeries keeps its index and name
        and is tagged EPSG:4326. Z coordinates, if any, are kept unchanged.

    Raises
    ------
    ValueError
        If ``source`` is not GCJ-02 or BD-09.
    """
    name = _special_or_raise(source, "source")
    func = wgs84_from_gcj02 if name == GCJ02 else wgs84_from_bd09
    return _apply_to_geometries(geoms, func, "EPSG:4326")


def from_wgs84_geometries(geoms: Any, target: str) -> Any:
    """Convert WGS84 geometries to GCJ-02 or BD-09 numbers (to draw on Chinese base maps).

    Parameters
    ----------
    geoms : shapely geometry, array_like of geometries or geopandas.GeoSeries
        Geometries in WGS84 longitude/latitude.
    target : str
        ``"GCJ-02"`` or ``"BD-09"``, in any spelling :func:`special_crs_name` accepts.

    Returns
    -------
    same kind as ``geoms``
        Geometries holding GCJ-02 or BD-09 longitude/latitude. A GeoSeries keeps its
        index, name and CRS tag (EPSG:4326 by convention, as in files from Amap or
        Baidu), so record the real system elsewhere, e.g. in a column or file name.
        Z coordinates, if any, are kept unchanged.

    Raises
    ------
    ValueError
        If ``target`` is not GCJ-02 or BD-09.
    """
    name = _special_or_raise(target, "target")
    func = gcj02_from_wgs84 if name == GCJ02 else bd09_from_wgs84
    return _apply_to_geometries(geoms, func, _KEEP)


