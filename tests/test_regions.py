"""Regions: splitting far-off parts (islands) into a region of their own."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from equiserve.config import RegionsConfig, SourceSpec, SplitSpec
from equiserve.errors import DataError
from equiserve.inputs.regions import load_regions
from equiserve.notes import Notes


@pytest.fixture
def coast(tmp_path):
    """A mainland (10 km square) with a near islet (1 km off) and two far islands (20 km)."""
    x0, y0 = 720_000.0, 2_460_000.0
    main = shapely.box(x0, y0, x0 + 10_000, y0 + 10_000)
    near = shapely.box(x0 + 11_000, y0, x0 + 11_500, y0 + 500)
    far1 = shapely.box(x0 + 30_000, y0, x0 + 31_000, y0 + 1_000)
    far2 = shapely.box(x0 + 30_000, y0 + 5_000, x0 + 30_500, y0 + 5_500)
    other = shapely.box(x0 - 10_000, y0, x0, y0 + 10_000)
    gdf = gpd.GeoDataFrame({"name": ["Coast", "Inland"], "code": [1, 2]},
                           geometry=[shapely.MultiPolygon([main, near, far1, far2]), other],
                           crs=32649)
    path = tmp_path / "regions.gpkg"
    gdf.to_file(path, driver="GPKG")
    return path, main, near, far1, far2


def _load(path, *splits):
    cfg = RegionsConfig(source=SourceSpec(path=path, key="regions"), name_field="name",
                        group_map={"Coast": "east", "Inland": "west"}, split=tuple(splits))
    notes = Notes()
    return load_regions(cfg, None, notes), notes


def test_far_parts_become_a_region(coast):
    path, main, near, far1, far2 = coast
    reg, notes = _load(path, SplitSpec(region="Coast", name="Isles", group="island",
                                       min_distance_m=5000, fields={"code": 9}))
    gdf = reg.gdf.set_index("region")
    assert list(gdf.index) == ["Coast", "Inland", "Isles"]
    assert gdf.loc["Isles", "group"] == "island" and gdf.loc["Isles", "code"] == 9
    assert gdf.loc["Isles", "geometry"].area == pytest.approx(far1.area + far2.area)
    # the near islet stays; nothing is lost or counted twice
    assert gdf.loc["Coast", "geometry"].area == pytest.approx(main.area + near.area)
    assert gdf.loc["Coast", "geometry"].intersection(gdf.loc["Isles", "geometry"]).area == 0
    assert reg.locate(np.array([far1.centroid.x]), np.array([far1.centroid.y]))[0] == 2
    assert any("2 polygon part(s)" in n.message for n in notes)


def test_bad_splits_say_why(coast):
    path = coast[0]
    with pytest.raises(DataError, match="no such region; regions: Coast, Inland"):
        _load(path, SplitSpec(region="Coastal", name="Isles", group="island", min_distance_m=5000))
    with pytest.raises(DataError, match="no part of it lies more than 50,000 m"):
        _load(path, SplitSpec(region="Coast", name="Isles", group="island", min_distance_m=50_000))
    with pytest.raises(DataError, match="already exists"):
        _load(path, SplitSpec(region="Coast", name="Inland", group="island", min_distance_m=5000))
    with pytest.raises(DataError, match="adcode are not fields"):
        _load(path, SplitSpec(region="Coast", name="Isles", group="island",
                              min_distance_m=5000, fields={"adcode": 1}))
