"""Tests of equiserve.crs: GCJ-02 / BD-09 transforms, CRS parsing and checks, UTM choice."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from equiserve import crs as geo
from equiserve.errors import ConfigError

GEOD = pyproj.Geod(ellps="WGS84")


def _grid(lon0: float, lon1: float, lat0: float, lat1: float, n: int):
    return np.meshgrid(np.linspace(lon0, lon1, n), np.linspace(lat0, lat1, n))


GRIDS = {
    "zhuhai": _grid(113.0, 114.4, 21.7, 22.6, 60),
    "china": _grid(73.5, 135.0, 18.0, 53.5, 120),
}


# ---------------------------------------------------------------------------
# reference values published by an independent implementation
# (hujiulong/gcoord, test/unit/crs/*.spec.ts, checked there to 5 decimals)


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (geo.gcj02_from_wgs84, (123.00607541, 45.00197815)),
        (geo.wgs84_from_gcj02, (122.99395597, 44.99804071)),
        (geo.bd09_from_gcj02, (123.00636499, 45.00636899)),
        (geo.gcj02_from_bd09, (122.99363304, 44.99365430)),
        (geo.bd09_from_wgs84, (123.0124491, 45.0083293)),
        (geo.wgs84_from_bd09, (122.98762210, 44.99171540)),
    ],
)
def test_matches_published_reference_values(func, expected):
    lon, lat = func(123.0, 45.0)
    # gcoord's inverses are one-step approximations, good to about 1e-6 deg
    assert lon == pytest.approx(expected[0], abs=5e-6)
    assert lat == pytest.approx(expected[1], abs=5e-6)


# ---------------------------------------------------------------------------
# round trips


@pytest.mark.parametrize("region", sorted(GRIDS))
def test_wgs84_gcj02_round_trip(region):
    lon, lat = GRIDS[region]
    g_lon, g_lat = geo.gcj02_from_wgs84(lon, lat)
    # the transform really moved the points (else the round trip proves nothing)
    assert np.min(np.hypot(g_lon - lon, g_lat - lat)) > 1e-4
    w_lon, w_lat = geo.wgs84_from_gcj02(g_lon, g_lat)
    assert w_lon.shape == lon.shape
    assert np.max(np.abs(w_lon - lon)) < 1e-8
    assert np.max(np.abs(w_lat - lat)) < 1e-8


@pytest.mark.parametrize("region", sorted(GRIDS))
def test_gcj02_bd09_round_trip(region):
    lon, lat = GRIDS[region]
    b_lon, b_lat = geo.bd09_from_gcj02(lon, lat)
    assert np.min(np.hypot(b_lon - lon, b_lat - lat)) > 1e-3
    g_lon, g_lat = geo.gcj02_from_bd09(b_lon, b_lat)
    assert np.max(np.abs(g_lon - lon)) < 1e-8
    assert np.max(np.abs(g_lat - lat)) < 1e-8


def test_wgs84_bd09_round_trip():
    lon, lat = GRIDS["china"]
    w_lon, w_lat = geo.wgs84_from_bd09(*geo.bd09_from_wgs84(lon, lat))
    assert np.max(np.abs(w_lon - lon)) < 1e-8
    assert np.max(np.abs(w_lat - lat)) < 1e-8


def test_inverse_is_exact_where_the_one_step_formula_is_not():
    # the one-step GCJ inverse g - (f(g) - g) is off by up to metres; ours is not
    lon, lat = GRIDS["china"]
    g_lon, g_lat = geo.gcj02_from_wgs84(lon, lat)
    f_lon, f_lat = geo.gcj02_from_wgs84(g_lon, g_lat)
    one_step_lon = g_lon - (f_lon - g_lon)
    assert np.max(np.abs(one_step_lon - lon)) > 1e-6


# ---------------------------------------------------------------------------
# offset size in Zhuhai (SOURCES.md: about +0.0051 deg lon, -0.0030 deg lat, 350-650 m)


def test_zhuhai_offset_magnitude():
    lon, lat = 113.55, 22.27
    g_lon, g_lat = geo.gcj02_from_wgs84(lon, lat)
    assert 0.0049 <= g_lon - lon <= 0.0054
    assert -0.0032 <= g_lat - lat <= -0.0027
    _, _, metres = GEOD.inv(lon, lat, g_lon, g_lat)
    assert 350.0 <= metres <= 650.0


def test_zhuhai_offset_magnitude_across_the_city():
    lon, lat = GRIDS["zhuhai"]
    g_lon, g_lat = geo.gcj02_from_wgs84(lon, lat)
    _, _, metres = GEOD.inv(lon, lat, g_lon, g_lat)
    assert metres.min() >= 350.0
    assert metres.max() <= 650.0


# ---------------------------------------------------------------------------
# outside China, scalars, shapes, NaN

OUTSIDE = np.array(
    [
        [-0.1276, 51.5072],  # London
        [151.21, -33.87],  # Sydney
        [139.69, 35.69],  # Tokyo (east of the box)
        [0.0, 0.0],
        [72.0, 30.0],  # just west of the box
        [100.0, 0.8],  # just south of the box
        [100.0, 55.9],  # just north of the box
    ]
)


@pytest.mark.parametrize("func", [geo.gcj02_from_wgs84, geo.wgs84_from_gcj02])
def test_points_outside_china_unchanged(func):
    lon, lat = func(OUTSIDE[:, 0], OUTSIDE[:, 1])
    np.testing.assert_array_equal(lon, OUTSIDE[:, 0])
    np.testing.assert_array_equal(lat, OUTSIDE[:, 1])


def test_scalars_give_floats_and_arrays_keep_shape():
    lon, lat = geo.gcj02_from_wgs84(113.55, 22.27)
    assert type(lon) is float and type(lat) is float
    lons = np.full((2, 3), 113.55)
    lon2, lat2 = geo.wgs84_from_gcj02(lons, 22.27)  # broadcast scalar lat
    assert lon2.shape == (2, 3) and lat2.shape == (2, 3)
    assert lon2.dtype == np.float64
    ints = geo.gcj02_from_wgs84([113, 114], [22, 23])
    assert ints[0].dtype == np.float64


def test_nan_passes_through():
    lon, lat = geo.wgs84_from_gcj02([np.nan, 113.55], [22.27, 22.27])
    assert np.isnan(lon[0])
    assert lon[1] == pytest.approx(113.55 - 0.0051, abs=3e-4)


def test_input_arrays_not_modified():
    lon = np.array([113.55, 113.6])
    lat = np.array([22.27, 22.3])
    geo.wgs84_from_bd09(lon, lat)
    np.testing.assert_array_equal(lon, [113.55, 113.6])
    np.testing.assert_array_equal(lat, [22.27, 22.3])


# ---------------------------------------------------------------------------
# names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gcj02", "GCJ-02"),
        ("GCJ-02", "GCJ-02"),
        ("gcj_02", "GCJ-02"),
        ("Mars", "GCJ-02"),
        (" GCJ 02 ", "GCJ-02"),
        ("BD09", "BD-09"),
        ("bd-09", "BD-09"),
        ("baidu", "BD-09"),
        ("BD09LL", "BD-09"),
        ("EPSG:4326", None),
        ("wgs84", None),
        ("", None),
        (4326, None),
        (None, None),
    ],
)
def test_special_crs_name(value, expected):
    assert geo.special_crs_name(value) == expected


# ---------------------------------------------------------------------------
# geometries


def test_geometries_convert_every_vertex_and_keep_z():
    line = LineString([(113.55, 22.27, 5.0), (113.60, 22.30, 7.5)])
    poly = Polygon([(113.5, 22.2), (113.6, 22.2), (113.6, 22.3), (113.5, 22.2)])
    out = geo.to_wgs84_geometries(np.array([line, poly, None]), "gcj02")
    assert out[2] is None
    xyz = shapely.get_coordinates(out[0], include_z=True)
    exp_lon, exp_lat = geo.wgs84_from_gcj02([113.55, 113.60], [22.27, 22.30])
    np.testing.assert_allclose(xyz[:, 0], exp_lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(xyz[:, 1], exp_lat, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(xyz[:, 2], [5.0, 7.5])
    assert shapely.get_num_coordinates(out[1]) == 4


def test_single_geometry_and_bd09():
    pt = geo.from_wgs84_geometries(Point(113.55, 22.27), "Baidu")
    assert isinstance(pt, Point)
    assert (pt.x, pt.y) == pytest.approx(geo.bd09_from_wgs84(113.55, 22.27), abs=1e-12)
    back = geo.to_wgs84_geometries(pt, "BD-09")
    assert (back.x, back.y) == pytest.approx((113.55, 22.27), abs=1e-8)


def test_geoseries_keeps_index_and_is_tagged_wgs84():
    gpd = pytest.importorskip("geopandas")
    s = gpd.GeoSeries([Point(113.55, 22.27)], index=["a"], crs="EPSG:4326", name="g")
    out = geo.to_wgs84_geometries(s, "GCJ-02")
    assert isinstance(out, gpd.GeoSeries)
    assert list(out.index) == ["a"] and out.name == "g"
    assert out.crs == pyproj.CRS("EPSG:4326")
    assert out.iloc[0].x == pytest.approx(geo.wgs84_from_gcj02(113.55, 22.27)[0], abs=1e-12)
    with pytest.raises(TypeError, match="geometry column"):
        geo.to_wgs84_geometries(gpd.GeoDataFrame(geometry=s), "GCJ-02")


def test_geometry_source_must_be_special():
    with pytest.raises(ValueError, match="EPSG:3857"):
        geo.to_wgs84_geometries(Point(0, 0), "EPSG:3857")
    with pytest.raises(ValueError, match="wgs84"):
        geo.from_wgs84_geometries(Point(0, 0), "wgs84")


# ---------------------------------------------------------------------------
# real data: Amap district boundaries in GCJ-02 and the same converted to WGS84


def _median_nearest_vertex_m(a, b) -> float:
    from scipy.spatial import cKDTree

    xy_a = shapely.get_coordinates(a.to_crs(32649).values)
    xy_b = shapely.get_coordinates(b.to_crs(32649).values)
    dist, _ = cKDTree(xy_b).query(xy_a)
    return float(np.median(dist))


@pytest.mark.realdata
def test_real_amap_boundaries_convert_onto_wgs84_version(zhuhai_data):
    gpd = pytest.importorskip("geopandas")
    folder = zhuhai_data / "boundaries"
    gcj = gpd.read_file(folder / "zhuhai_districts_amap_gcj02.geojson")
    wgs = gpd.read_file(folder / "zhuhai_districts_amap_wgs84.geojson")
    assert len(shapely.get_coordinates(gcj.geometry.values)) > 1000

    converted = geo.to_wgs84_geometries(gcj.geometry, "GCJ-02")
    median_converted = _median_nearest_vertex_m(converted, wgs.geometry)
    median_raw = _median_nearest_vertex_m(gcj.geometry, wgs.geometry)
    assert median_converted < 5.0
    assert median_raw > 300.0  # the check can fail: unconverted data is far off

    # and the other way: WGS84 -> GCJ-02 lands on the raw Amap vertices
    to_gcj = geo.from_wgs84_geometries(wgs.geometry, "GCJ-02")
    assert _median_nearest_vertex_m(to_gcj, gcj.geometry) < 5.0


# ---------------------------------------------------------------------------
# UTM zone


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (113.5, 22.2, 32649),  # Zhuhai
        (151.21, -33.87, 32756),  # Sydney
        (-58.38, -34.60, 32721),  # Buenos Aires
        (-0.13, 51.51, 32630),  # London
        (180.0, 10.0, 32660),
        (180.0, -10.0, 32760),
        (-180.0, 10.0, 32601),
        (5.3, 60.4, 32632),  # Bergen: Norway exception (regular zone 31)
        (15.6, 78.2, 32633),  # Longyearbyen: Svalbard exception
        (113.5, 0.0, 32649),  # equator counts as north
    ],
)
def test_utm_crs_for(lon, lat, epsg):
    assert geo.utm_crs_for(lon, lat) == pyproj.CRS.from_epsg(epsg)


@pytest.mark.parametrize(("lon", "lat"), [(113.5, 22.2), (151.21, -33.87), (-73.9, 40.7)])
def test_utm_crs_for_agrees_with_proj_database(lon, lat):
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(lon, lat, lon, lat),
    )
    assert geo.utm_crs_for(lon, lat).to_epsg() in {int(i.code) for i in infos}


def test_utm_crs_for_rejects_bad_coordinates():
    with pytest.raises(ValueError, match="swapped"):
        geo.utm_crs_for(22.2, 113.5)
    with pytest.raises(ValueError):
        geo.utm_crs_for(float("nan"), 0.0)


# ---------------------------------------------------------------------------
# projected-metres check


def test_check_projected_metres_rejects_geographic():
    suggestion = geo.utm_crs_for(113.5, 22.2)
    with pytest.raises(ConfigError) as info:
        geo.check_projected_metres(pyproj.CRS("EPSG:4326"), "study.crs", suggestion)
    msg = str(info.value)
    assert "study.crs" in msg
    assert "EPSG:4326" in msg
    assert "metres" in msg
    assert "EPSG:32649 (UTM 49N)" in msg
    assert isinstance(info.value, ValueError)


def test_check_projected_metres_rejects_us_feet():
    with pytest.raises(ConfigError) as info:
        geo.check_projected_metres(pyproj.CRS("EPSG:2263"), "layers.schools.crs")
    msg = str(info.value)
    assert "layers.schools.crs" in msg
    assert "EPSG:2263" in msg
    assert "foot" in msg
    assert "metres" in msg
    assert "UTM" in msg


def test_check_projected_metres_accepts_utm():
    crs = pyproj.CRS("EPSG:32649")
    assert geo.check_projected_metres(crs, "study.crs") is crs
    assert geo.check_projected_metres("EPSG:3857", "study.crs").to_epsg() == 3857


def test_check_projected_metres_rejects_gcj02_name():
    with pytest.raises(ConfigError, match="study.crs"):
        geo.check_projected_metres("gcj02", "study.crs")


# ---------------------------------------------------------------------------
# parse_crs


@pytest.mark.parametrize(
    ("value", "expected"),
    [("gcj02", "GCJ-02"), ("Mars", "GCJ-02"), ("bd-09", "BD-09"), ("baidu", "BD-09")],
)
def test_parse_crs_special(value, expected):
    assert geo.parse_crs(value, "study.crs") == expected


@pytest.mark.parametrize("value", ["EPSG:4326", 4326, "epsg:4326", "+proj=longlat +datum=WGS84"])
def test_parse_crs_wgs84_spellings(value):
    crs = geo.parse_crs(value, "study.crs")
    assert isinstance(crs, pyproj.CRS)
    assert crs.equals(pyproj.CRS("EPSG:4326"), ignore_axis_order=True)


def test_parse_crs_wkt_and_crs_object():
    wkt = pyproj.CRS.from_epsg(32649).to_wkt()
    assert geo.parse_crs(wkt, "study.crs").to_epsg() == 32649
    crs = pyproj.CRS.from_epsg(4490)
    assert geo.parse_crs(crs, "study.crs") == crs


@pytest.mark.parametrize("value", ["not-a-crs", "EPSG:999999", "", None, [1, 2]])
def test_parse_crs_bad_value_message(value):
    with pytest.raises(ConfigError) as info:
        geo.parse_crs(value, "layers.schools.crs")
    msg = str(info.value)
    assert "layers.schools.crs" in msg
    assert repr(value) in msg
    for accepted in ("'EPSG:4326'", "4326", "WKT", "PROJ", "'GCJ-02'", "'BD-09'"):
        assert accepted in msg
