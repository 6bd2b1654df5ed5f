"""Projected working CRSs: parsing a CRS a user wrote, choosing a UTM zone, the metres check.

Distances are computed in one projected CRS in metres; a geographic CRS (degrees) or a
projected one in feet is refused with a message that suggests the right UTM zone.
"""

from __future__ import annotations

import math
from typing import Any

import pyproj

from equiserve.crs.china import ChinaDatum, special_crs_name
from equiserve.errors import ConfigError


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """The WGS84 UTM zone CRS containing a longitude/latitude point.

    EPSG:326zz north of the equator (latitude >= 0), EPSG:327zz south of it. Longitude
    180 belongs to zone 60 and -180 to zone 1; other longitudes are wrapped into
    [-180, 180). The Norway (32V) and Svalbard (31X-37X) zone exceptions are applied.

    Parameters
    ----------
    lon, lat : float
        WGS84 longitude and latitude in degrees, e.g. the centre of the study area.

    Returns
    -------
    pyproj.CRS
        E.g. EPSG:32649 (UTM zone 49N) for Zhuhai (113.5, 22.2).

    Raises
    ------
    ValueError
        If a coordinate is not finite or the latitude is outside [-90, 90].
    """
    lon = float(lon)
    lat = float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90.0:
        raise ValueError(
            f"utm_crs_for needs a finite WGS84 lon/lat with -90 <= lat <= 90, "
            f"got lon={lon!r}, lat={lat!r}; are the coordinates projected or swapped?"
        )
    if lon != 180.0:
        lon = (lon + 180.0) % 360.0 - 180.0
    zone = min(int(math.floor((lon + 180.0) / 6.0)) + 1, 60)
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        zone = 32
    elif 72.0 <= lat <= 84.0 and 0.0 <= lon < 42.0:
        if lon < 9.0:
            zone = 31
        elif lon < 21.0:
            zone = 33
        elif lon < 33.0:
            zone = 35
        else:
            zone = 37
    code = (32600 if lat >= 0.0 else 32700) + zone
    return pyproj.CRS.from_epsg(code)


def _crs_label(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    if epsg is not None:
        return f"EPSG:{epsg} ({crs.name})"
    return repr(crs.name)


def _suggestion_text(suggestion: pyproj.CRS | None) -> str:
    if suggestion is None:
        return (
            "use a projected CRS in metres such as a UTM zone (EPSG:326zz north, "
            "EPSG:327zz south; e.g. EPSG:32649 (UTM 49N) for Zhuhai), "
            "or leave it out to use the UTM zone of the study area"
        )
    epsg = suggestion.to_epsg()
    code = f"EPSG:{epsg}" if epsg is not None else repr(suggestion.name)
    zone = getattr(suggestion, "utm_zone", None)
    extra = f" (UTM {zone})" if zone else f" ({suggestion.name})"
    return (
        f"use a projected CRS in metres such as {code}{extra}, "
        "or leave it out to use the UTM zone of the study area"
    )


def check_projected_metres(
    crs: pyproj.CRS | Any, what: str, suggestion: pyproj.CRS | None = None
) -> pyproj.CRS:
    """Require a projected CRS whose horizontal axes are in metres.

    Distances, buffers and service standards are all in metres, so a geographic CRS
    (degrees) or a projected CRS in feet would give wrong numbers silently.

    Parameters
    ----------
    crs : pyproj.CRS or anything pyproj.CRS.from_user_input accepts
        The CRS to check.
    what : str
        Where the CRS came from, named in the error (e.g. ``"study.crs"``).
    suggestion : pyproj.CRS, optional
        A CRS to suggest instead, usually ``utm_crs_for(*study_area_centre)``.

    Returns
    -------
    pyproj.CRS
        ``crs`` itself, as a pyproj.CRS.

    Raises
    ------
    ConfigError
        If the CRS is geographic, not projected, or its axis units are not metres.
    """
    if not isinstance(crs, pyproj.CRS):
        crs = parse_crs(crs, what)
        if isinstance(crs, str):
            raise ConfigError(
                f"{what}: {crs} is a geographic system (degrees), but distances need "
                f"metres; {_suggestion_text(suggestion)}."
            )
    label = _crs_label(crs)
    if crs.is_geographic or not crs.is_projected:
        kind = "geographic (degrees)" if crs.is_geographic else "not a projected CRS"
        raise ConfigError(
            f"{what}: {label} is {kind}, but distances need metres; {_suggestion_text(suggestion)}."
        )
    horizontal = [ax for ax in crs.axis_info if ax.direction.lower() not in ("up", "down")] or list(
        crs.axis_info
    )
    bad = [ax for ax in horizontal if not _is_metre(ax)]
    if bad:
        units = ", ".join(sorted({ax.unit_name for ax in bad}))
        raise ConfigError(
            f"{what}: {label} has axis units of {units}, but distances need metres; "
            f"{_suggestion_text(suggestion)}."
        )
    return crs


def _is_metre(axis: Any) -> bool:
    name = (axis.unit_name or "").lower()
    return name in ("metre", "meter", "m") or (
        axis.unit_auth_code == "EPSG" and axis.unit_code == "9001"
    )


def parse_crs(value: Any, what: str) -> pyproj.CRS | ChinaDatum:
    """Read a CRS as a user wrote it in a config file or on the command line.

    Parameters
    ----------
    value : str, int or pyproj.CRS
        ``"GCJ-02"`` / ``"BD-09"`` in any spelling :func:`special_crs_name` accepts,
        or anything :meth:`pyproj.CRS.from_user_input` accepts (``"EPSG:4326"``,
        ``4326``, WKT, a PROJ string, a pyproj.CRS).
    what : str
        Where the value came from, named in the error (e.g. ``"layers.schools.crs"``).

    Returns
    -------
    pyproj.CRS or str
        ``"GCJ-02"`` or ``"BD-09"`` for those systems, otherwise a pyproj.CRS.

    Raises
    ------
    ConfigError
        If the value is not a recognisable CRS.
    """
    special = special_crs_name(value)
    if special is not None:
        return special
    accepted = "an EPSG code like 'EPSG:4326' or 4326, a WKT/PROJ string, 'GCJ-02' or 'BD-09'"
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"{what}: no CRS given ({value!r}); expected {accepted}.")
    try:
        return pyproj.CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{what}: {value!r} is not a coordinate reference system pyproj recognises "
            f"({exc}); expected {accepted}."
        ) from exc
