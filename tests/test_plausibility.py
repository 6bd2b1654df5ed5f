"""Populations that read without error but are implausible get a note, or an error where
every figure would be meaningless (equiserve.inputs.population.checks).

The expected figures are worked out independently: region shares from the test's own
pixel layout, pixel areas of a geographic raster from pyproj.Geod polygon areas.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from rasterio.transform import from_origin

from equiserve.config import RasterSubgroup
from equiserve.config.study import load_config
from equiserve.errors import ConfigError, DataError, DataQualityWarning
from equiserve.inputs.population import (
    population_from_census,
    population_from_raster,
    population_from_vector,
)
from equiserve.inputs.regions import Regions
from equiserve.notes import Notes
from equiserve.settings import IMPOSSIBLE_DENSITY_KM2, MAX_DENSITY_KM2
from equiserve.testing import (
    TINY_ORIGIN,
    tiny_population,
    tiny_regions,
    write_raster,
    write_tiny_study,
)

X0, Y0 = TINY_ORIGIN
NODATA = -9999.0


@pytest.fixture
def regions(tiny_region_set: Regions) -> Regions:
    return tiny_region_set


def _raster(path: Path, bands: list[np.ndarray], transform, crs="EPSG:32649") -> Path:
    return write_raster(path, bands, transform, crs, NODATA, dtype="float64")


def _load(func, *args, **kw) -> tuple[object, Notes]:
    notes = Notes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return func(*args, notes=notes, **kw), notes


def _warnings(notes: Notes) -> list[str]:
    return [n.message for n in notes if n.level == "warning"]


def _share(msg: str, region: str) -> float:
    """The share (%) of a region's land without data, as the message gives it."""
    return float(re.search(rf"{region} \((\d+)%\)", msg).group(1))


# The regions: Core X0..X0+2000, Farms X0-3000..X0-1000, Isle X0+4000..X0+4600 (y Y0..+2000).
# A 100 m raster from X0-3000 to X0+4600 covers all three; its columns 0-19 are Farms,
# 30-49 Core and 70-75 Isle (rows 14-19 only: the Isle is 600 m square). Inside the
# regions are 400 + 400 + 36 pixels.
def _full(value: float = 10.0) -> np.ndarray:
    return np.full((20, 76), value)


TRANSFORM = from_origin(X0 - 3000, Y0 + 2000, 100.0, 100.0)


def test_a_raster_missing_two_regions_names_them(tmp_path, regions):
    total = _full()
    total[:, :30] = NODATA     # Farms: no data at all
    total[:, 70:] = NODATA     # Isle: none either
    total[:, 30:35] = NODATA   # Core: a quarter (5 of 20 columns) without data
    grid, notes = _load(population_from_raster, _raster(tmp_path / "p.tif", [total],
                                                        TRANSFORM), regions)
    assert grid.total == pytest.approx(10.0 * 20 * 15)
    text = " ".join(_warnings(notes))
    assert "Farms, Isle have no people" in text
    assert "the source has no data over them" in text
    msg = next(m for m in _warnings(notes) if "no data over part of" in m)
    assert _share(msg, "Farms") == 100 and _share(msg, "Isle") == 100
    assert _share(msg, "Core") == pytest.approx(25, abs=2)  # measured on a sample


def test_a_raster_that_stops_short_of_a_region_is_reported(tmp_path, regions):
    """Outside the raster's extent is no data too (the window is cut to the raster)."""
    total = _full()[:, :50]    # ends at X0 + 2000: the Isle lies beyond it
    grid, notes = _load(population_from_raster, _raster(tmp_path / "p.tif", [total],
                                                        TRANSFORM), regions)
    msg = next(m for m in _warnings(notes) if "no data over part of" in m)
    assert "Isle (100%)" in msg and "Core" not in msg and "Farms" not in msg


def test_a_complete_raster_has_no_coverage_note(tmp_path, regions):
    grid, notes = _load(population_from_raster, _raster(tmp_path / "p.tif", [_full()],
                                                        TRANSFORM), regions)
    assert grid.total == pytest.approx(10.0 * 836)
    assert [m for m in _warnings(notes) if "outside every region" not in m] == []


def test_an_all_nodata_raster_is_a_clear_error(tmp_path, regions):
    path = _raster(tmp_path / "p.tif", [_full(NODATA)], TRANSFORM)
    with pytest.raises(DataError, match=r"p\.tif: every pixel over the regions is nodata "
                                        r"\(nodata value -9999"):
        _load(population_from_raster, path, regions)


def test_a_raster_of_zeros_is_an_error(tmp_path, regions):
    path = _raster(tmp_path / "p.tif", [_full(0.0)], TRANSFORM)
    with pytest.raises(DataError, match="no people inside the regions"):
        _load(population_from_raster, path, regions)


def test_an_impossible_pixel_is_refused(tmp_path, regions):
    total = _full()
    total[5, 40] = 3e12
    with pytest.raises(DataError, match=r"p\.tif: 1 cell\(s\) hold more than 10,000,000 "
                                        r"people per km².*3e\+12 people on 10,000 m²"):
        _load(population_from_raster, _raster(tmp_path / "p.tif", [total], TRANSFORM),
              regions)


def test_implausible_density_is_a_warning_with_the_threshold(tmp_path, regions):
    total = _full()
    # 100 m pixels of 1 ha: 1,501 people are 150,100 per km², 1,499 are 149,900
    total[5, 40], total[6, 40], total[7, 40] = 1501, 1499, 2000
    grid, notes = _load(population_from_raster, _raster(tmp_path / "p.tif", [total],
                                                        TRANSFORM), regions)
    msg = next(m for m in _warnings(notes) if "denser than" in m)
    assert msg.startswith("2 cell(s) of [population] p.tif (3,501 people) are denser than "
                          "150,000 people per km²")
    assert "2,000 people on 10,000 m²" in msg


def test_geographic_raster_density_uses_the_pixel_area_at_its_latitude(tmp_path):
    """Pixels of 0.001° at 22° N: their area by pyproj.Geod, and the warning turns on at
    exactly MAX_DENSITY_KM2 of that area."""
    lon0, lat0, step = 113.0, 22.0, 0.001
    box = shapely.box(lon0, lat0 - 0.02, lon0 + 0.02, lat0)
    regions = Regions(gpd.GeoDataFrame({"region": ["R"], "group": ["g"]}, geometry=[box],
                                       crs=4326).to_crs("EPSG:32649"))
    geod = pyproj.Geod(ellps="WGS84")
    total = np.full((20, 20), 1.0)
    row = 10  # centre latitude lat0 - 0.0105
    lat = lat0 - (row + 0.5) * step
    area, _ = geod.polygon_area_perimeter([lon0, lon0 + step, lon0 + step, lon0],
                                          [lat - step / 2, lat - step / 2, lat + step / 2,
                                           lat + step / 2])
    limit = MAX_DENSITY_KM2 * abs(area) / 1e6  # people making the limit in that pixel
    transform = from_origin(lon0, lat0, step, step)
    for people, warned in ((limit * 1.01, True), (limit * 0.99, False)):
        total[row, 10] = people
        _, notes = _load(population_from_raster,
                         _raster(tmp_path / f"g{people:.0f}.tif", [total], transform,
                                 "EPSG:4326"), regions)
        assert any("denser than" in m for m in _warnings(notes)) == warned, people


def test_a_subgroup_band_above_the_total_is_refused(tmp_path, regions):
    total = _full()
    path = _raster(tmp_path / "p.tif", [total, total * 5], TRANSFORM)
    with pytest.raises(DataError, match=r"subgroup kids has 41,800 people in all, more than "
                                        r"the total population 8,360 \(5\.0 times\)"):
        _load(population_from_raster, path, regions,
              subgroups={"kids": RasterSubgroup(band=2)})


def test_subgroup_cells_above_their_total_warn(tmp_path, regions):
    total, kids = _full(), _full(1.0)
    kids[0, 40], kids[1, 41] = 14, 30  # 2 cells above their 10 people: by 4 + 20
    path = _raster(tmp_path / "p.tif", [total, kids], TRANSFORM)
    grid, notes = _load(population_from_raster, path, regions,
                        subgroups={"kids": RasterSubgroup(band=2)})
    msg = next(m for m in _warnings(notes) if "more kids than people" in m)
    assert msg.startswith("2 cell(s) of [population] p.tif have more kids than people "
                          "(by 24 in all, up to 3 times)")


def test_a_vector_grid_covering_part_of_a_region(regions):
    grid_gdf = tiny_population()
    core = tiny_regions().geometry.iloc[0]
    keep = ~(shapely.within(grid_gdf.geometry.values, core)
             & (shapely.get_x(shapely.centroid(grid_gdf.geometry.values)) < X0 + 600))
    part = grid_gdf[keep]  # Core's western 600 m (of 2,000) have no polygons
    grid, notes = _load(population_from_vector, part, "pop", regions, where="[population] g")
    msg = next(m for m in _warnings(notes) if "no data over part of" in m)
    assert _share(msg, "Core") == pytest.approx(30, abs=2) and "Farms" not in msg


def test_a_region_without_people_is_named(regions):
    gdf = tiny_population()
    isle = tiny_regions().geometry.iloc[2]
    gdf.loc[shapely.within(gdf.geometry.values, isle), "pop"] = 0
    grid, notes = _load(population_from_vector, gdf, "pop", regions, where="[population] g")
    msg = next(m for m in _warnings(notes) if "have no people" in m)
    assert msg.startswith("region(s) Isle have no people in [population] g")
    assert "no data over" not in " ".join(_warnings(notes))  # its polygons are there


def test_points_and_census_have_no_false_notes(regions):
    gdf = tiny_population()
    pts = gdf.set_geometry(gdf.geometry.centroid)
    _, notes = _load(population_from_vector, pts, "pop", regions)
    assert _warnings(notes) == []
    _, notes = _load(population_from_census, regions, np.array([5000.0, 300.0, 20.0]))
    assert _warnings(notes) == []


def test_census_denser_than_anywhere_is_refused(regions):
    area_km2 = 0.6 * 0.6  # the Isle
    with pytest.raises(DataError, match="more than 10,000,000 people per km²"):
        _load(population_from_census, regions,
              np.array([5000.0, 300.0, IMPOSSIBLE_DENSITY_KM2 * area_km2 * 1.5]))


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_standards_must_be_finite(tmp_path, value):
    path = write_tiny_study(tmp_path, school_std=f"{{ distance_m = {value} }}")
    with pytest.raises(ConfigError, match=rf"layers\.schools\.standard\.distance_m = {value} "
                                          r"is not valid; expected a finite number"):
        load_config(path)


def test_building_footprints_are_not_a_grid_with_gaps(regions):
    """Polygons covering a fraction of the land (buildings, compounds) say nothing about
    where data are missing: no coverage note (a 20 m footprint every 100 m is 4 %)."""
    import geopandas as gpd

    cells = tiny_population(cell=100.0)
    footprints = cells.set_geometry(cells.geometry.centroid.buffer(10, cap_style="square"))
    grid, notes = _load(population_from_vector, gpd.GeoDataFrame(footprints), "pop",
                        regions, where="[population] buildings.gpkg")
    assert grid.total == pytest.approx(cells["pop"].sum())
    assert not any("no data over" in m for m in _warnings(notes))


def test_a_sliver_region_is_sampled_at_a_bounded_cost():
    """A 3 km diagonal sliver 1 mm wide: its bounding box is 4.5 km², its area 3 m²; the
    grid stays at 50 x 2,000 points (it used to ask for 45 GiB)."""
    from equiserve.inputs.population.checks import _sample_points

    sliver = shapely.LineString([(X0, Y0), (X0 + 2121, Y0 + 2121)]).buffer(0.0005)
    x, y = _sample_points(sliver, 2000)
    assert len(x) >= 1
    assert shapely.intersects_xy(sliver, x, y).all()
