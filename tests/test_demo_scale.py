"""Tests of equiserve.datasets.demo.scale: the demo city tiled N times (here N = 2).

The 2x files are compared with the 1x demo read independently: raster sums with rasterio,
features with geopandas, the street file with pyosmium, and the coverage of the 2x study
with that of the 1x study (the tiles are the same city, and nothing reaches across the sea
between them).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import rasterio
from rasterio.features import rasterize

from equiserve.datasets.demo import write_demo_inputs
from equiserve.datasets.demo.scale import write_scaled_demo_inputs
from equiserve.study import Study

UTM = "EPSG:32649"
GROUPS = ("east", "west", "island")
LAYERS = {  # file, id field
    "schools.gpkg": "id",
    "clinics.geojson": "id",
    "art_centres.shp": "id",
    "sports_parks.parquet": "id",
    "bus_stops.csv": "stop_id",
    "regions.gpkg": "code",
}


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_inputs(tmp_path_factory.mktemp("demo1")).parent


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scaled_demo_inputs(tmp_path_factory.mktemp("demo2"), 2).parent


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"stop_id": str, "name": str})
    if path.suffix == ".parquet":
        return gpd.read_parquet(path)
    return gpd.read_file(path)


def _people(folder: Path) -> dict[tuple[int, str], float]:
    """Exact sums (math.fsum) of both bands, over the study and per group."""
    regions = gpd.read_file(folder / "regions.gpkg").to_crs(UTM)
    with rasterio.open(folder / "population.tif") as ds:
        bands, nodata = ds.read().astype(np.float64), ds.nodata
        shapes = [(geom, GROUPS.index(g) + 1)
                  for geom, g in zip(regions.geometry, regions["group"], strict=True)]
        group = rasterize(shapes, out_shape=ds.shape, transform=ds.transform, fill=0)
    out = {}
    for b, band in enumerate(bands, start=1):
        land = band != nodata
        out[b, "study"] = math.fsum(band[land])
        for g, name in enumerate(GROUPS, start=1):
            out[b, name] = math.fsum(band[land & (group == g)])
    return out


def test_scale_one_is_the_demo(tmp_path: Path, one: Path) -> None:
    folder = write_scaled_demo_inputs(tmp_path / "s1", 1).parent
    names = sorted(p.name for p in one.iterdir())
    assert sorted(p.name for p in folder.iterdir()) == names
    for name in names:
        if name.endswith(".gpkg"):  # a GeoPackage holds the time it was written
            pd.testing.assert_frame_equal(_read(folder / name), _read(one / name))
        else:
            assert (folder / name).read_bytes() == (one / name).read_bytes(), name
    with pytest.raises(ValueError, match="scale"):
        write_scaled_demo_inputs(tmp_path / "s0", 0)


def test_population_doubles_and_tiles_are_copies(one: Path, two: Path) -> None:
    a, b = _people(one), _people(two)
    assert a.keys() == b.keys()
    for key in a:
        assert b[key] == 2 * a[key], key
    with rasterio.open(one / "population.tif") as s, rasterio.open(two / "population.tif") as t:
        small, big = s.read(), t.read()
        assert (t.crs, t.res, t.nodata, t.count) == (s.crs, s.res, s.nodata, s.count)
        windows = []  # tiles are offset by whole kilometres: try every 10th row and column
        for r in range(0, big.shape[1] - small.shape[1] + 1, 10):
            for c in range(0, big.shape[2] - small.shape[2] + 1, 10):
                if np.array_equal(big[:, r:r + small.shape[1], c:c + small.shape[2]], small):
                    x, y = t.xy(r, c, offset="ul")
                    windows.append((x - s.bounds.left, y - s.bounds.top))
    assert (0.0, 0.0) in windows and len(windows) == 2
    land = (big[0] != t.nodata).sum()
    assert land == 2 * (small[0] != s.nodata).sum()


@pytest.mark.parametrize("file", LAYERS)
def test_facilities_double_with_unique_ids(one: Path, two: Path, file: str) -> None:
    a, b = _read(one / file), _read(two / file)
    assert len(b) == 2 * len(a)
    assert b[LAYERS[file]].is_unique and b["name"].is_unique == a["name"].is_unique
    first = b.iloc[:len(a)].reset_index(drop=True)
    second = b.iloc[len(a):].reset_index(drop=True)
    pd.testing.assert_frame_equal(first.drop(columns="geometry", errors="ignore"),
                                  a.drop(columns="geometry", errors="ignore"))
    assert (second[LAYERS[file]] == a[LAYERS[file]] + "-t2").all()
    assert (second["name"] == a["name"] + " 2").all()
    if file == "regions.gpkg":
        assert b["name"].is_unique and (b["group"] == pd.concat([a["group"]] * 2).values).all()


def _osm(path: Path) -> tuple[list[int], list[int], int]:
    nodes, ways, refs = [], [], 0
    for obj in osmium.FileProcessor(str(path)):
        if isinstance(obj, osmium.osm.Node):
            nodes.append(obj.id)
        elif isinstance(obj, osmium.osm.Way):
            ways.append(obj.id)
            refs += len(obj.nodes)
    return nodes, ways, refs


def test_streets_double_with_unique_ids(one: Path, two: Path) -> None:
    n1, w1, r1 = _osm(one / "streets.osm.pbf")
    n2, w2, r2 = _osm(two / "streets.osm.pbf")
    assert (len(n2), len(w2), r2) == (2 * len(n1), 2 * len(w1), 2 * r1)
    assert len(set(n2)) == len(n2) and len(set(w2)) == len(w2)
    assert n2[:len(n1)] == n1 and w2[:len(w1)] == w1  # tile 1 keeps its ids


def _summary(folder: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's data-quality notes
        study = Study.load(folder / "study.toml")
        summary = study.coverage().summary
    return summary.set_index(["layer", "level", "name"])


def test_coverage_of_two_tiles_is_that_of_one(one: Path, two: Path) -> None:
    a, b = _summary(one), _summary(two)
    # tile 1 keeps its region names: every figure of its regions is that of the 1x study,
    # to the last bit, so nothing routes (or is nearest) across the sea to tile 2
    regions = a.xs("region", level="level", drop_level=False)
    pd.testing.assert_frame_equal(b.loc[regions.index], regions, check_exact=True)
    # tile 2 is the same city; its street nodes and bus stops are written in degrees
    # (1e-7 in OSM: about 1 cm), so a cell exactly at a standard may fall the other way
    for level in ("study", "group"):
        x, y = a.xs(level, level="level"), b.xs(level, level="level")
        assert (y["population"] == 2 * x["population"]).all()
        assert (y["facilities"] == 2 * x["facilities"]).all()
        assert np.allclose(y["coverage_pct"], x["coverage_pct"], rtol=0, atol=0.01)
    second = b.xs("region", level="level")
    second = second[second.index.get_level_values("name").str.endswith(" 2")]
    assert len(second) == len(regions)
    assert (second["facilities"].to_numpy() == regions["facilities"].to_numpy()).all()
    exact = np.isclose(second["coverage_pct"].to_numpy(), regions["coverage_pct"].to_numpy(),
                       rtol=0, atol=1e-9)
    assert exact.mean() > 0.9


def test_cli_demo_scale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from equiserve.cli import app
    from equiserve.datasets.demo import scale
    from equiserve.testing import write_tiny_study

    calls = []

    def fake(folder: Path, n: int, seed: int = 2017) -> Path:
        calls.append((n, seed))
        return write_tiny_study(folder)

    monkeypatch.setattr(scale, "write_scaled_demo_inputs", fake)
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "o"), "--scale", "3"])
    assert result.exit_code == 0, result.output
    assert calls == [(3, 2017)] and "tiled 3 times" in result.output
    assert (tmp_path / "o" / "report.html").is_file()
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "p"), "--scale", "0"])
    assert result.exit_code == 2 and not (tmp_path / "p").exists()
