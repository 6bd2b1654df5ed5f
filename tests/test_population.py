"""Tests of equiserve.inputs.population: rasters, vector grids and points, census totals.

Every total is checked against an independent computation: NumPy sums over the pixels
written, with pixel centres placed in regions by shapely on the test's own coordinates;
pyproj for the centres of reprojected pixels; shapely areas of the region polygons for
the census cell pieces; and the published 2020 census figures for Zhuhai.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from equiserve.config import (
    CensusPopulation,
    CensusSubgroup,
    RasterSubgroup,
    RegionsConfig,
    SourceSpec,
)
from equiserve.errors import DataError, DataQualityWarning
from equiserve.inputs.population import (
    PopulationGrid,
    load_population,
    population_from_census,
    population_from_raster,
    population_from_vector,
)
from equiserve.inputs.regions import Regions, load_regions
from equiserve.notes import Notes
from equiserve.testing import TINY_CRS, TINY_ORIGIN, tiny_population, tiny_regions, write_raster

UTM = pyproj.CRS.from_user_input(TINY_CRS)
WGS84 = pyproj.CRS.from_epsg(4326)
X0, Y0 = TINY_ORIGIN
NODATA = -9999.0


@pytest.fixture
def regions(tiny_region_set: Regions) -> Regions:
    return tiny_region_set


def _region_of(x: np.ndarray, y: np.ndarray, polygons) -> np.ndarray:
    """Region index of each point (-1: none), with shapely, one polygon at a time."""
    out = np.full(np.shape(x), -1)
    for i, poly in enumerate(polygons):
        out[(out < 0) & shapely.contains_xy(poly, x, y)] = i
    return out


def _sorted_xy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    order = np.lexsort((np.round(y, 3), np.round(x, 3)))
    return np.column_stack([np.asarray(x)[order], np.asarray(y)[order]])


def _quiet(func, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return func(*args, **kw)


# ---------------------------------------------------------------------------------------
# raster


# UTM raster: 100 m pixels from (X0 - 3030, Y0 + 2070), 77 x 21 pixels: it covers the
# regions' bounding box (X0-3000..X0+4600, Y0..Y0+2000) and every pixel overlaps it, so
# the window read is the whole raster. Pixel centres (X0 - 2980 + 100 k) never fall on a
# region border (multiples of 100 m from X0), so the centre-in-region test is unambiguous.
UTM_ORIGIN = (X0 - 3030.0, Y0 + 2070.0)
UTM_SHAPE = (21, 77)


def _tiny_bands(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    total = rng.integers(0, 60, UTM_SHAPE).astype(np.float64)
    total[rng.random(UTM_SHAPE) < 0.15] = 0.0
    nodata = rng.random(UTM_SHAPE) < 0.1
    nan = ~nodata & (rng.random(UTM_SHAPE) < 0.05)
    kids = np.floor(total * 0.12)
    total[nodata] = NODATA
    kids[nodata] = NODATA
    total[nan] = np.nan
    kids[nan] = np.nan
    return total, kids


def _pixel_centres(transform, shape) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.indices(shape)
    x = transform.c + transform.a * (cols + 0.5)
    y = transform.f + transform.e * (rows + 0.5)
    return x, y


def test_raster_with_nodata_matches_an_independent_sum(tmp_path, regions):
    total, kids = _tiny_bands()
    transform = from_origin(*UTM_ORIGIN, 100.0, 100.0)
    path = write_raster(tmp_path / "pop.tif", [total, kids], transform, "EPSG:32649")

    notes = Notes()
    grid = _quiet(population_from_raster, path, regions,
                  subgroups={"kids": RasterSubgroup(band=2)}, notes=notes)

    # independent: valid pixels (not nodata, not NaN), centre inside a region
    cx, cy = _pixel_centres(transform, UTM_SHAPE)
    valid = np.isfinite(total) & (total != NODATA)
    reg = _region_of(cx, cy, tiny_regions().geometry.values)
    inside = valid & (reg >= 0)
    want_total = total[inside].sum()
    assert want_total > 10_000  # the test has something to count
    assert grid.total == pytest.approx(want_total, rel=1e-6)
    assert grid.total + grid.outside_population == pytest.approx(total[valid].sum(), rel=1e-6)
    assert grid.source_total == pytest.approx(total[valid].sum(), rel=1e-6)
    assert grid.outside_population == pytest.approx(total[valid & (reg < 0)].sum(), rel=1e-6)
    assert grid.outside_population > 0
    np.testing.assert_allclose(np.bincount(grid.region, grid.population, minlength=3),
                               [total[inside & (reg == i)].sum() for i in range(3)], rtol=1e-9)

    # one cell per populated pixel inside a region, at the pixel centre
    populated = inside & (total > 0)
    assert len(grid) == populated.sum()
    np.testing.assert_allclose(_sorted_xy(grid.x, grid.y),
                               _sorted_xy(cx[populated], cy[populated]), rtol=0, atol=1e-6)
    assert grid.cell_area_m2 == pytest.approx(10_000.0)
    assert grid.kind == "raster"

    # the subgroup band follows the cells
    assert grid.subgroups["kids"].sum() == pytest.approx(kids[populated].sum(), rel=1e-9)
    assert (grid.subgroups["kids"] <= grid.population).all()

    n_nodata = int((~valid).sum())
    assert any(f"{n_nodata:,} nodata" in n.message for n in notes)
    assert any("outside every region" in n.message for n in notes if n.level == "warning")

    # cell polygons are the pixels
    areas = grid.geometry().area.to_numpy()
    np.testing.assert_allclose(areas, 10_000.0)


def test_raster_beyond_the_regions_is_read_in_a_window(tmp_path, regions):
    # the same pixels plus 20 columns of dense population east of the regions' bounding
    # box: they are outside the window and change neither the grid nor what is "outside"
    total, kids = _tiny_bands()
    wide = np.hstack([total, np.full((UTM_SHAPE[0], 20), 500.0)])
    transform = from_origin(*UTM_ORIGIN, 100.0, 100.0)
    path_small = write_raster(tmp_path / "small.tif", [total], transform, "EPSG:32649")
    path_wide = write_raster(tmp_path / "wide.tif", [wide], transform, "EPSG:32649")
    small = _quiet(population_from_raster, path_small, regions)
    big = _quiet(population_from_raster, path_wide, regions)
    assert big.total == pytest.approx(small.total, rel=1e-12)
    assert big.outside_population == pytest.approx(small.outside_population, rel=1e-12)
    assert big.total + big.outside_population == pytest.approx(big.source_total, rel=1e-12)


def test_raster_in_wgs84_is_reprojected(tmp_path, regions):
    # 0.001 deg pixels over the tiny study; nodata and zero pixels sprinkled in
    lon0, lat1, step = 113.095, 22.257, 0.001
    shape = (30, 95)
    rng = np.random.default_rng(11)
    values = rng.integers(1, 30, shape).astype(np.float64)
    values[rng.random(shape) < 0.1] = NODATA
    values[rng.random(shape) < 0.1] = 0.0
    transform = from_origin(lon0, lat1, step, step)
    path = write_raster(tmp_path / "pop_wgs84.tif", [values], transform, "EPSG:4326")
    grid = _quiet(population_from_raster, path, regions)

    # independent: pixel centres in degrees, projected with pyproj, tested with shapely
    rows, cols = np.indices(shape)
    lon = lon0 + step * (cols + 0.5)
    lat = lat1 - step * (rows + 0.5)
    x, y = pyproj.Transformer.from_crs(WGS84, UTM, always_xy=True).transform(lon, lat)
    reg = _region_of(x, y, tiny_regions().geometry.values)
    keep = (values > 0) & (reg >= 0)
    assert keep.sum() > 100
    assert len(grid) == keep.sum()
    np.testing.assert_allclose(_sorted_xy(grid.x, grid.y), _sorted_xy(x[keep], y[keep]),
                               rtol=0, atol=1e-6)
    assert grid.total == pytest.approx(values[keep].sum(), rel=1e-9)
    np.testing.assert_allclose(np.bincount(grid.region, grid.population, minlength=3),
                               [values[keep & (reg == i)].sum() for i in range(3)], rtol=1e-9)
    assert grid.cell_area_m2 is None  # pixels in degrees have no single area in metres


def test_negative_pixels_are_an_error(tmp_path, regions):
    total, _ = _tiny_bands()
    total[5, 20] = -3.0
    path = write_raster(tmp_path / "neg.tif", [total],
                         from_origin(*UTM_ORIGIN, 100.0, 100.0), "EPSG:32649")
    with pytest.raises(DataError, match=r"neg\.tif.*1 pixel\(s\) have negative population"):
        _quiet(population_from_raster, path, regions)


def test_raster_without_crs_is_an_error(tmp_path, regions):
    total, _ = _tiny_bands()
    path = write_raster(tmp_path / "nocrs.tif", [total],
                         from_origin(*UTM_ORIGIN, 100.0, 100.0), None)
    with rasterio.open(path) as src:
        assert src.crs is None
    with pytest.raises(DataError, match=r"nocrs\.tif.*no CRS.*crs ="):
        population_from_raster(path, regions)
    # declaring the CRS makes it usable
    grid = _quiet(population_from_raster, path, regions, crs=UTM)
    assert grid.total > 0


def test_missing_band_is_an_error(tmp_path, regions):
    total, _ = _tiny_bands()
    path = write_raster(tmp_path / "one.tif", [total],
                         from_origin(*UTM_ORIGIN, 100.0, 100.0), "EPSG:32649")
    with pytest.raises(DataError, match="band 2 requested"):
        _quiet(population_from_raster, path, regions, subgroups={"kids": RasterSubgroup(band=2)})


# ---------------------------------------------------------------------------------------
# vector grid and points


def test_vector_grid_conserves_population(regions):
    pop = tiny_population()
    notes = Notes()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # clean input: no warning
        grid = population_from_vector(pop.to_crs(WGS84), "pop", regions, {"kids": "kids"},
                                      notes=notes)
    assert grid.kind == "polygons"
    assert grid.total == pytest.approx(float(pop["pop"].sum()), rel=1e-12)
    assert grid.source_total == pytest.approx(float(pop["pop"].sum()), rel=1e-12)
    assert grid.outside_population == 0.0
    assert grid.subgroups["kids"].sum() == pytest.approx(float(pop["kids"].sum()), rel=1e-12)
    assert len(grid) == int((pop["pop"] > 0).sum())
    # each 200 m square lies inside one region: compare per-region sums
    c = pop.geometry.centroid
    reg = _region_of(c.x.to_numpy(), c.y.to_numpy(), tiny_regions().geometry.values)
    want = np.bincount(reg, pop["pop"].to_numpy(float), minlength=3)
    np.testing.assert_allclose(np.bincount(grid.region, grid.population, minlength=3), want,
                               rtol=1e-12)
    # cell shapes are the squares (areas after a WGS84 round trip)
    np.testing.assert_allclose(grid.geometry().area, 40_000.0, rtol=1e-6)


def test_vector_points_outside_regions_are_counted_as_outside(regions):
    pts = gpd.GeoDataFrame(
        {"people": [120.0, 80.0, 0.0, 55.0, 33.0, 7.0]},
        geometry=shapely.points([(X0 + 100, Y0 + 100), (X0 - 2500, Y0 + 1900),
                                 (X0 + 500, Y0 + 500), (X0 + 4300, Y0 + 300),
                                 (X0 + 3000, Y0 + 1000), (X0 - 5000, Y0)]),
        crs=UTM)
    notes = Notes()
    with pytest.warns(DataQualityWarning, match="outside every region"):
        grid = population_from_vector(pts.to_crs(WGS84), "people", regions, notes=notes)
    reg = _region_of(np.asarray(shapely.get_x(pts.geometry.values)),
                     np.asarray(shapely.get_y(pts.geometry.values)),
                     tiny_regions().geometry.values)
    people = pts["people"].to_numpy()
    assert grid.kind == "points"
    assert grid.total == pytest.approx(people[reg >= 0].sum())  # 120 + 80 + 55
    assert grid.total == pytest.approx(255.0)
    assert grid.outside_population == pytest.approx(people[reg < 0].sum())  # 33 + 7
    assert grid.total + grid.outside_population == pytest.approx(grid.source_total)
    assert len(grid) == 3  # the zero point is left out
    np.testing.assert_allclose(np.sort(grid.region), [0, 1, 2])
    assert "40 people" in next(n.message for n in notes if "outside" in n.message)


def test_vector_missing_counts_warn_and_count_as_zero(regions):
    pop = tiny_population()
    pop.loc[[0, 5, 9], "pop"] = np.nan
    notes = Notes()
    with pytest.warns(DataQualityWarning, match="3 feature"):
        grid = population_from_vector(pop, "pop", regions, notes=notes)
    assert grid.total == pytest.approx(float(np.nansum(pop["pop"])), rel=1e-12)
    assert any("'pop'" in n.message and n.level == "warning" for n in notes)


def test_vector_missing_field_and_negative_counts(regions):
    pop = tiny_population()
    with pytest.raises(DataError, match=r"count_field = 'people'.*pop, kids"):
        population_from_vector(pop, "people", regions)
    pop.loc[3, "pop"] = -1
    with pytest.raises(DataError, match="negative"):
        population_from_vector(pop, "pop", regions)


# ---------------------------------------------------------------------------------------
# census


def _check_census(grid: PopulationGrid, regions: Regions, totals) -> None:
    """Each region's total is conserved and its cell pieces tile it exactly."""
    n = len(regions.gdf)
    totals = np.asarray(totals, float)
    np.testing.assert_allclose(np.bincount(grid.region, grid.population, minlength=n), totals,
                               rtol=1e-9)
    assert grid.total == pytest.approx(totals.sum(), rel=1e-9)
    pieces = grid.geometry().to_numpy()
    region_area = regions.gdf.area.to_numpy()
    np.testing.assert_allclose(np.bincount(grid.region, shapely.area(pieces), minlength=n),
                               region_area, rtol=1e-6)
    # no piece leaks out of its region and pieces do not overlap
    for i, poly in enumerate(regions.gdf.geometry.values):
        mine = pieces[grid.region == i]
        assert shapely.union_all(mine).area == pytest.approx(poly.area, rel=1e-6)
        assert shapely.difference(shapely.union_all(mine), poly).area < 1e-6 * poly.area
    # each cell's point lies on its own piece, hence in its own region (a concave piece's
    # centroid may not: on a coast, by a hole or a border)
    assert shapely.intersects_xy(pieces, grid.x, grid.y).all()
    np.testing.assert_array_equal(regions.locate(grid.x, grid.y), grid.region)


@pytest.mark.parametrize("cell", [100.0, 300.0, 137.0])
def test_census_conserves_totals_and_area(regions, cell):
    totals = [1000.0, 2500.0, 37.0]
    notes = Notes()
    grid = population_from_census(regions, np.array(totals), cell_size_m=cell, notes=notes)
    _check_census(grid, regions, totals)
    assert grid.source_total == pytest.approx(3537.0)
    assert grid.outside_population == 0.0
    # uniform density: people per m2 equal in every piece of a region
    dens = grid.population / shapely.area(grid.geometry().to_numpy())
    for i, t in enumerate(totals):
        np.testing.assert_allclose(dens[grid.region == i],
                                   t / regions.gdf.geometry.iloc[i].area, rtol=1e-9)
    assert any("census totals spread" in n.message for n in notes)


def test_census_on_irregular_regions(regions):
    cx, cy = X0 + 10_000.0, Y0 + 10_000.0
    rotated = shapely.affinity.rotate(shapely.box(cx - 700, cy - 400, cx + 700, cy + 400), 33.0)
    circle = shapely.Point(cx + 3000, cy).buffer(850.0, quad_segs=64)
    holed = shapely.Polygon(shapely.box(cx - 900, cy + 2000, cx + 900, cy + 3500).exterior,
                            [shapely.Point(cx, cy + 2750).buffer(300.0).exterior.coords])
    two_parts = shapely.MultiPolygon([shapely.box(cx + 2000, cy + 2000, cx + 2260, cy + 2130),
                                      shapely.box(cx + 2600, cy + 2400, cx + 2655, cy + 2441)])
    reg = Regions(gpd.GeoDataFrame({"region": ["rot", "circle", "holed", "islets"],
                                    "group": ["a", "a", "b", "b"]},
                                   geometry=[rotated, circle, holed, two_parts], crs=UTM))
    totals = [1234.0, 987.0, 4321.0, 12.0]
    grid = _quiet(population_from_census, reg, np.array(totals), cell_size_m=100.0)
    _check_census(grid, reg, totals)
    # no person is placed in the hole
    hole = shapely.Point(cx, cy + 2750).buffer(299.0)
    assert not shapely.intersects_xy(hole, grid.x, grid.y).any()


def test_census_weights_move_people(regions):
    def west_half(cells: gpd.GeoSeries) -> np.ndarray:
        xmin, _, xmax, _ = cells.total_bounds  # the region's cells only
        return (cells.centroid.x < (xmin + xmax) / 2).to_numpy(float)

    totals = np.array([1000.0, 2500.0, 37.0])
    notes = Notes()
    grid = population_from_census(regions, totals, cell_size_m=100.0, weights=west_half,
                                  notes=notes)
    np.testing.assert_allclose(np.bincount(grid.region, grid.population, minlength=3), totals,
                               rtol=1e-9)
    for i, poly in enumerate(regions.gdf.geometry.values):
        xmin, ymin, xmax, ymax = poly.bounds
        mine = grid.region == i
        assert (grid.x[mine] < (xmin + xmax) / 2).all()  # nobody in the east half
        # uniform within the west half: each 100 m cell holds total / (west cells)
        n_west = round((xmax - xmin) / 2 / 100) * round((ymax - ymin) / 100)
        np.testing.assert_allclose(grid.population[mine], totals[i] / n_west, rtol=1e-9)
    assert any("the given weights" in n.message for n in notes)


def test_census_bad_weights_and_no_land(regions):
    with pytest.raises(DataError, match="non-negative weight"):
        population_from_census(regions, np.array([1.0, 2.0, 3.0]),
                               weights=lambda cells: -np.ones(len(cells)))
    with pytest.raises(DataError, match="'Core' has population"):
        population_from_census(regions, np.array([1.0, 2.0, 3.0]),
                               weights=lambda cells: np.zeros(len(cells)))


def test_census_subgroups_follow_the_total(regions):
    totals = np.array([1000.0, 2500.0, 37.0])
    kids = np.array([80.0, 300.0, 2.0])
    grid = _quiet(population_from_census, regions, totals, 200.0, {"kids": kids})
    np.testing.assert_allclose(np.bincount(grid.region, grid.subgroups["kids"], minlength=3),
                               kids, rtol=1e-9)
    np.testing.assert_allclose(grid.subgroups["kids"] / grid.population,
                               (kids / totals)[grid.region], rtol=1e-9)


CENSUS_CSV = """code,year,pop,kids
C1,2010,800,60
C1,2020,1000,80
F1,2010,2000,250
F1,2020,2500,300
I1,2020,37,2
X9,2020,50,5
"""


def _census_cfg(table: Path, **kw) -> CensusPopulation:
    args = {"type": "census", "table": table, "key_field": "code", "region_key_field": "code",
            "value_field": "pop", "filter": "year == 2020", "cell_size_m": 200.0} | kw
    return CensusPopulation(**args)


def test_census_from_config_with_filter(tmp_path, regions):
    table = tmp_path / "census.csv"
    table.write_text(CENSUS_CSV, encoding="utf-8")
    notes = Notes()
    cfg = _census_cfg(table, subgroups={"kids": CensusSubgroup(field="kids"),
                                        "elderly": CensusSubgroup(share=0.1)})
    with pytest.warns(DataQualityWarning, match="X9"):
        grid = load_population(cfg, regions, notes)
    _check_census(grid, regions, [1000.0, 2500.0, 37.0])
    np.testing.assert_allclose(np.bincount(grid.region, grid.subgroups["kids"], minlength=3),
                               [80.0, 300.0, 2.0], rtol=1e-9)
    np.testing.assert_allclose(grid.subgroups["elderly"], 0.1 * grid.population, rtol=1e-12)
    unused = [n.message for n in notes if "match no region" in n.message]
    assert len(unused) == 1 and "X9" in unused[0]


def test_census_duplicated_keys_after_filter(tmp_path, regions):
    table = tmp_path / "census.csv"
    table.write_text(CENSUS_CSV, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_population(_census_cfg(table, filter="year >= 2010"), regions)
    msg = str(err.value)
    assert "C1" in msg and "F1" in msg and "census.csv" in msg and "filter" in msg
    assert "I1" not in msg


def test_census_missing_region_row_warns(tmp_path, regions):
    table = tmp_path / "census.csv"
    table.write_text(CENSUS_CSV, encoding="utf-8")
    notes = Notes()
    with pytest.warns(DataQualityWarning):
        grid = load_population(_census_cfg(table, filter="year == 2020 and code != 'I1'"),
                               regions, notes)
    assert grid.total == pytest.approx(3500.0, rel=1e-12)
    assert not (grid.region == 2).any()
    assert any("no census row for region(s) Isle" in n.message for n in notes)


def test_census_unknown_columns(tmp_path, regions):
    table = tmp_path / "census.csv"
    table.write_text(CENSUS_CSV, encoding="utf-8")
    with pytest.raises(DataError, match=r"value_field = 'people'.*code, year, pop, kids"):
        load_population(_census_cfg(table, value_field="people"), regions)
    with pytest.raises(DataError, match=r"region_key_field = 'adcode'"):
        load_population(_census_cfg(table, region_key_field="adcode"), regions)


# ---------------------------------------------------------------------------------------
# real data: Zhuhai districts and the 2020 census


@pytest.mark.realdata
def test_zhuhai_census_2020(zhuhai_data):
    regions_cfg = RegionsConfig(
        source=SourceSpec(path=zhuhai_data / "boundaries" / "zhuhai_districts_amap_wgs84.geojson",
                          key="regions"),
        name_field="district_name",
        group_map={"香洲区": "east", "斗门区": "west", "金湾区": "west",
                   "澳门大学横琴校区": "east"},
    )
    notes = Notes()
    regions = _quiet(load_regions, regions_cfg, None, notes)
    assert pyproj.CRS(regions.crs).to_epsg() == 32649
    # SOURCES.md section 4: the 2020 census rows for 斗门区 (440403) and 金湾区 (440404),
    # and for 香洲区 the derived whole-district row (2,439,585 - 608,899 - 446,369), since
    # the polygon covers the whole district; not the 1,124,126 of its 10 direct units
    cfg = CensusPopulation(
        table=zhuhai_data / "population" / "zhuhai_population_by_district.csv",
        key_field="adcode", region_key_field="district_adcode", value_field="population",
        filter='reference_date == "2020-11-01" and '
               '(adcode in [440403, 440404] or area_name == "香洲区(行政区全域)")',
        cell_size_m=250.0,
    )
    with pytest.warns(DataQualityWarning, match="澳门大学横琴校区"):
        grid = load_population(cfg, regions, notes)
    assert grid.total == pytest.approx(2_439_585, rel=1e-6)
    by_region = dict(zip(regions.names, np.bincount(grid.region, grid.population, minlength=4),
                         strict=True))
    assert by_region["香洲区"] == pytest.approx(1_384_317, rel=1e-6)
    assert by_region["斗门区"] == pytest.approx(608_899, rel=1e-6)
    assert by_region["金湾区"] == pytest.approx(446_369, rel=1e-6)
    assert by_region["澳门大学横琴校区"] == 0.0
    missing = [n for n in notes if n.level == "warning" and "no census row" in n.message]
    assert len(missing) == 1 and "澳门大学横琴校区" in missing[0].message
    for name in ("香洲区", "斗门区", "金湾区"):
        assert name not in missing[0].message
    # the cell pieces tile each populated district (areas from SOURCES.md: ~579/652/725 km2)
    area = np.bincount(grid.region, shapely.area(grid.geometry().to_numpy()), minlength=4)
    np.testing.assert_allclose(area[:3], regions.gdf.area.to_numpy()[:3], rtol=1e-6)
    np.testing.assert_allclose(area[:3] / 1e6, [579.0, 651.8, 725.1], rtol=2e-3)
    # every cell's point is on its own piece of land (none at sea or in another district)
    assert shapely.intersects_xy(grid.geometry().to_numpy(), grid.x, grid.y).all()
    np.testing.assert_array_equal(regions.locate(grid.x, grid.y), grid.region)

    # without the scope condition both 2020 rows of 440402 survive the filter: an error
    dup = CensusPopulation(**{**cfg.__dict__,
                              "filter": 'reference_date == "2020-11-01" and '
                                        "adcode in [440402, 440403, 440404]"})
    with pytest.raises(DataError, match="key 440402 appears more than once"):
        load_population(dup, regions)


def test_census_table_keys_as_floats_match_integer_region_codes(tmp_path):
    # a CSV column with empty cells is read as float (440403.0); the join still matches
    reg = Regions(gpd.GeoDataFrame(
        {"region": ["A", "B"], "group": ["g", "g"], "adcode": np.array([440403, 440404])},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(2000, 0, 3000, 1000)], crs=UTM))
    table = tmp_path / "t.csv"
    pd.DataFrame({"adcode": [440403, 440404, None], "pop": [10.0, 20.0, 30.0]}).to_csv(
        table, index=False)
    cfg = CensusPopulation(table=table, key_field="adcode",
                           region_key_field="adcode", value_field="pop",
                           filter="adcode == adcode", cell_size_m=500.0)
    grid = load_population(cfg, reg)
    np.testing.assert_allclose(np.bincount(grid.region, grid.population), [10.0, 20.0])


def test_settlement_weights_conserve_totals_and_follow_the_points(regions):
    from equiserve.inputs.population.sources import settlement_weights

    totals = np.array([1000.0, 2500.0, 37.0])
    core = regions.gdf.geometry.iloc[0]
    town = np.array([[core.bounds[0] + 150.0, core.bounds[1] + 150.0]])  # SW corner of Core
    sigma, floor = 400.0, 0.05
    grid = population_from_census(regions, totals, cell_size_m=100.0,
                                  weights=settlement_weights(town, sigma, floor),
                                  notes=Notes())
    np.testing.assert_allclose(np.bincount(grid.region, grid.population, minlength=3), totals,
                               rtol=1e-12)
    # Core: people per cell proportional to floor + Gaussian of the distance to the town
    mine = grid.region == 0
    d2 = (grid.x[mine] - town[0, 0]) ** 2 + (grid.y[mine] - town[0, 1]) ** 2
    # points beyond 5 sigma are ignored by design (each would add < 4e-6)
    expect = floor + np.where(d2 <= (5 * sigma) ** 2, np.exp(-d2 / (2 * sigma ** 2)), 0.0)
    np.testing.assert_allclose(grid.population[mine], totals[0] * expect / expect.sum(),
                               rtol=1e-9)
    # a region far from every point falls back to uniform density (the floor)
    isle = grid.region == 2
    np.testing.assert_allclose(grid.population[isle], grid.population[isle].mean(), rtol=1e-6)


def test_settlement_weights_from_the_config(tmp_path):
    from equiserve.config import load_config
    from equiserve.inputs.population import load_population
    from equiserve.testing import write_tiny_study

    cfg_path = write_tiny_study(tmp_path)
    pd.DataFrame({"name": ["Core town", "Nowhere"], "kind": ["town", "farm"],
                  "lon": [113.14, 113.0], "lat": [22.235, 22.0]}).to_csv(
        tmp_path / "towns.csv", index=False)
    pd.DataFrame({"code": ["C1", "F1", "I1"], "people": [5000, 3000, 100]}).to_csv(
        tmp_path / "census.csv", index=False)
    text = cfg_path.read_text(encoding="utf-8")
    start, end = text.index("[population]"), text.index("[layers.schools]")
    text = text[:start] + (
        '[population]\ntype = "census"\ntable = "census.csv"\nkey_field = "code"\n'
        'region_key_field = "code"\nvalue_field = "people"\ncell_size_m = 100\n'
        '[population.weights]\nsource = "towns.csv"\nx_field = "lon"\ny_field = "lat"\n'
        'crs = "EPSG:4326"\nfilter = "kind == \'town\'"\nsigma_m = 300\n\n') + text[end:]
    cfg_path.write_text(text.replace('serves = "children_6_11"\n', ""), encoding="utf-8")
    cfg = load_config(cfg_path)
    assert cfg.population.weights.sigma_m == 300 and cfg.population.weights.floor == 0.02
    from equiserve.inputs.regions import load_regions

    notes = Notes()
    reg = load_regions(cfg.regions, None, notes)
    grid = load_population(cfg.population, reg, notes)
    assert grid.total == pytest.approx(8100)
    assert any("1 settlement points of towns.csv" in n.message for n in notes)
    core = grid.region == 0
    town = gpd.GeoSeries.from_xy([113.14], [22.235], crs=4326).to_crs(reg.crs).iloc[0]
    near = np.hypot(grid.x - town.x, grid.y - town.y) < 200
    assert grid.population[core & near].mean() > 5 * grid.population[core & ~near].mean()
