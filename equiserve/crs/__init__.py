"""Coordinate reference systems: GCJ-02 / BD-09 (:mod:`.china`) apart from the policy for the
projected working CRS (:mod:`.projected`)."""

from equiserve.crs.china import (
    BD09,
    GCJ02,
    ChinaDatum,
    bd09_from_gcj02,
    bd09_from_wgs84,
    from_wgs84_geometries,
    gcj02_from_bd09,
    gcj02_from_wgs84,
    in_china,
    special_crs_name,
    to_wgs84_geometries,
    wgs84_from_bd09,
    wgs84_from_gcj02,
)
from equiserve.crs.projected import check_projected_metres, parse_crs, utm_crs_for

__all__ = [
    "BD09",
    "GCJ02",
    "ChinaDatum",
    "bd09_from_gcj02",
    "bd09_from_wgs84",
    "check_projected_metres",
    "from_wgs84_geometries",
    "gcj02_from_bd09",
    "gcj02_from_wgs84",
    "in_china",
    "parse_crs",
    "special_crs_name",
    "to_wgs84_geometries",
    "utm_crs_for",
    "wgs84_from_bd09",
    "wgs84_from_gcj02",
]
