"""Tests of equiserve.datasets.demo.batch: three synthetic demo cities and their batch.toml.

City 1 is compared with a plain demo written independently, city 2's people with city 1's
(rasterio sums), the cities' places with each other (their regions read with geopandas, the
street nodes with pyosmium, the raster bounds and the new town), and batch.toml is read with
tomllib.
"""

from __future__ import annotations

import difflib
import math
import tomllib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import rasterio
import shapely

from equiserve.datasets.demo import write_demo_inputs
from equiserve.datasets.demo.batch import write_demo_batch
from equiserve.datasets.demo.scale import GAP
from equiserve.study import Study

UTM = "EPSG:32649"
N = 3


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_batch(tmp_path_factory.mktemp("batch"), N)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_inputs(tmp_path_factory.mktemp("plain")).parent


def _city(batch: Path, k: int) -> Path:
    return batch.parent / f"city_{k}"


def _regions(folder: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(folder / "regions.gpkg").to_crs(UTM)


def _people(folder: Path) -> tuple[float, float]:
    with rasterio.open(folder / "population.tif") as ds:
        bands, nodata = ds.read().astype(np.float64), ds.nodata
    return math.fsum(bands[0][bands[0] != nodata]), math.fsum(bands[1][bands[1] != nodata])


def _nodes(path: Path) -> tuple[list[int], np.ndarray]:
    ids, xy = [], []
    for obj in osmium.FileProcessor(str(path)):
        if isinstance(obj, osmium.osm.Node):
            ids.append(obj.id)
            xy.append((obj.location.lon, obj.location.lat))
    return ids, np.array(xy)


def test_batch_toml_lists_the_cities(batch: Path) -> None:
    text = batch.read_text(encoding="utf-8")
    assert text.startswith(f"# A SYNTHETIC batch of {N} demo cities "
                           "(equiserve.datasets.demo.batch.write_demo_batch)\n")
    config = tomllib.loads(text)
    assert config["batch"] == {"name": f"Demo province (synthetic, {N} cities)"}
    assert [c["name"] for c in config["city"]] == ["city_1", "city_2", "city_3"]
    for c in config["city"]:
        assert c.keys() == {"name", "study"}
        assert (batch.parent / c["study"]).is_file()
        assert Path(c["study"]).parent.name == c["name"]
    assert "equiserve batch batch.toml" in (batch.parent / "README.txt").read_text()
    assert "SYNTHETIC" in (batch.parent / "README.txt").read_text()


def test_city_1_is_the_plain_demo(batch: Path, plain: Path) -> None:
    city = _city(batch, 1)
    names = sorted(p.name for p in plain.iterdir())
    assert sorted(p.name for p in city.iterdir()) == names
    for name in names:
        if name == "study.toml":
            continue
        if name.endswith(".gpkg"):  # a GeoPackage holds the time it was written
            a, b = gpd.read_file(city / name), gpd.read_file(plain / name)
            pd.testing.assert_frame_equal(a, b)
        else:
            assert (city / name).read_bytes() == (plain / name).read_bytes(), name
    # study.toml: the demo's, but for its name and crs lines
    changed = [line for line in difflib.ndiff((plain / "study.toml").read_text().splitlines(),
                                              (city / "study.toml").read_text().splitlines())
               if line[:2] in ("- ", "+ ")]
    assert changed == ['- name = "Demo city (synthetic)"', '+ name = "Demo city 1 (synthetic)"',
                       "- # crs omitted: the UTM zone is chosen automatically",
                       '+ crs = "EPSG:32649"  # the CRS the cities are laid out in']


def test_studies_load_with_the_demo_keys(batch: Path, plain: Path) -> None:
    keys = tomllib.loads((plain / "study.toml").read_text())
    for k in range(1, N + 1):
        config = tomllib.loads((_city(batch, k) / "study.toml").read_text())
        assert config.keys() == keys.keys()
        assert config["study"] == {"name": f"Demo city {k} (synthetic)", "synthetic": True,
                                   "crs": UTM}
        assert {n: v for n, v in config.items() if n != "study"} == \
            {n: v for n, v in keys.items() if n != "study"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the demo's data-quality notes
            study = Study.load(_city(batch, k) / "study.toml", forecast=True)
        assert study.crs.to_epsg() == 32649
        assert list(study.regions.names) == list(_regions(_city(batch, k))["name"])
        people = study.population.source_total
        assert people == pytest.approx(_people(_city(batch, k))[0], rel=1e-9)
        # the new town's cells (added by the forecast) lie in this city's own regions
        assert shapely.box(*_regions(_city(batch, k)).total_bounds).contains(
            shapely.points(study.population.x, study.population.y)).all()
    assert not (_city(batch, 2) / "plan.toml").exists()


def test_cities_differ(batch: Path) -> None:
    one, two, three = (_people(_city(batch, k)) for k in (1, 2, 3))
    assert one != two and two != three and one != three
    s1 = gpd.read_file(_city(batch, 1) / "schools.gpkg")
    s2 = gpd.read_file(_city(batch, 2) / "schools.gpkg")
    assert s1["id"].str.match(r"^S\d+$").all() and s2["id"].str.match(r"^S\d+$").all()
    assert not (len(s1) == len(s2) and (s1["seats"].fillna(-1) == s2["seats"].fillna(-1)).all())


def test_city_2_is_the_next_seed_moved(batch: Path, tmp_path: Path) -> None:
    seed2 = write_demo_inputs(tmp_path / "seed2018", seed=2018).parent
    city = _city(batch, 2)
    readme = (city / "README.txt").read_text()
    assert readme.startswith((seed2 / "README.txt").read_text())
    assert "city 2 of 3" in readme and "the demo of seed 2018" in readme
    assert _people(city) == _people(seed2)
    with rasterio.open(city / "population.tif") as a, rasterio.open(seed2 / "population.tif") as b:
        assert np.array_equal(a.read(), b.read())
        dx, dy = a.bounds.left - b.bounds.left, a.bounds.top - b.bounds.top
    assert dx < 0 and dy == 0 and dx % 1000 == 0  # tile 2 of 3 lies west of tile 1
    moved, orig = _regions(city), _regions(seed2)
    assert list(moved["name"]) == list(orig["name"]) and list(moved["code"]) == list(orig["code"])
    back = shapely.transform(moved.geometry.values, lambda c: c - (dx, dy))
    assert shapely.equals_exact(back, orig.geometry.values, tolerance=1e-3).all()
    ids_a, xy_a = _nodes(city / "streets.osm.pbf")
    ids_b, xy_b = _nodes(seed2 / "streets.osm.pbf")
    assert ids_a == ids_b  # each city is its own study: the demo's OSM ids
    pts = gpd.GeoSeries.from_xy(xy_a[:, 0], xy_a[:, 1], crs=4326).to_crs(UTM)
    ref = gpd.GeoSeries.from_xy(xy_b[:, 0], xy_b[:, 1], crs=4326).to_crs(UTM)
    assert np.allclose(pts.x - ref.x, dx, atol=0.05) and np.allclose(pts.y - ref.y, dy, atol=0.05)
    town = gpd.read_file(city / "newtown.geojson").to_crs(UTM)
    assert town.geometry.iloc[0].within(moved.union_all().buffer(1.0))  # moved with the city


def test_cities_lie_apart(batch: Path) -> None:
    shapes = [_regions(_city(batch, k)).union_all() for k in range(1, N + 1)]
    for i in range(N):
        for j in range(i + 1, N):
            assert not shapes[i].intersects(shapes[j])
            assert shapes[i].distance(shapes[j]) >= GAP >= 20_000.0, (i + 1, j + 1)
    # every city's stops and population grid are with its own regions
    for k, shape in enumerate(shapes, start=1):
        with rasterio.open(_city(batch, k) / "population.tif") as ds:
            box = shapely.box(*ds.bounds)
        assert box.buffer(1.0).contains(shape) and box.intersects(shape)
        for j, other in enumerate(shapes, start=1):
            if j != k:
                assert not box.intersects(other)


def test_n_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n must be"):
        write_demo_batch(tmp_path, 0)
