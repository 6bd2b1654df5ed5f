"""coverage.gpkg and the GeoParquet files, read back independently (sqlite3, pyogrio,
pyarrow, shapely on the raw WKB) and compared value by value with the coverage result's
arrays: ids, people, regions, distances and times (inf where no facility is reachable),
covered and served flags, access, the cell centres, the CRS; the gaps view against gaps
recomputed from the arrays; --cells polygons; --format parquet; bad choices."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pyogrio
import pyproj
import pytest
import shapely
from typer.testing import CliRunner

from equiserve import Study, write
from equiserve.cli import app
from equiserve.errors import DataQualityWarning
from equiserve.outputs.tables import geometry_wkb, point_wkb
from equiserve.results.coverage import distance_column


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    """The tiny study on its streets (minutes and metres, unreachable cells), its coverage
    and scorecard, written three ways: default, --cells polygons, --format parquet."""
    from equiserve.testing import write_tiny_study

    tmp = tmp_path_factory.mktemp("gpkg")
    cfg = write_tiny_study(tmp / "in", network=True,
                           school_std='{ mode = "walk", distance_m = 500 }',
                           clinic_std='{ mode = "walk", minutes = 15 }')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(cfg)
        cov = study.coverage()
        eq = study.equity(cov)
        areas = study.service_areas(cov)
    outs = {}
    for name, kw in {"points": {}, "polygons": {"cells": "polygons"},
                     "parquet": {"table_format": "parquet"},
                     "parquet_polygons": {"table_format": "parquet", "cells": "polygons"}
                     }.items():
        outs[name] = write(study, cov, eq, areas, out_dir=tmp / name, basemap=None, **kw)
    return study, cov, eq, outs


def expected_cells(study, cov, eq) -> dict[str, np.ndarray]:
    """Every column of the cells layer, from the result's arrays."""
    pop = study.population
    out = {"cell_id": np.arange(len(pop)), "population": pop.population,
           "children_6_11": pop.subgroups["children_6_11"],
           "region": study.regions.names[pop.region].astype(str),
           "group": study.regions.groups[pop.region].astype(str)}
    for name, c in cov.layers.items():
        out[distance_column(name, c.unit)] = c.distance
        out[f"covered_{name}"] = c.covered
        if name in eq.access:
            out[f"access_{name}"] = eq.access[name].score
            out[f"served_{name}"] = eq.access[name].served
    out["life_circle_score"] = eq.life_circle
    out["life_circle_all"] = eq.life_circle_all
    return out


def expected_gaps(study, cov) -> dict[str, np.ndarray]:
    """The gaps layer recomputed from the arrays, cell by cell in Python."""
    names = list(cov.layers)
    rows = []
    for i in range(len(study.population)):
        missed = [n for n in names
                  if not cov.layers[n].covered[i] and cov.layers[n].weights[i] > 0]
        if missed:
            rows.append((i, len(missed), ", ".join(missed),
                         *[cov.layers[n].weights[i] if n in missed else 0.0 for n in names]))
    cols = list(zip(*rows, strict=True))
    pop = study.population
    ids = np.array(cols[0])
    out = {"cell_id": ids, "population": pop.population[ids],
           "region": study.regions.names[pop.region[ids]].astype(str),
           "group": study.regions.groups[pop.region[ids]].astype(str),
           "n_gaps": np.array(cols[1]), "gap_layers": np.array(cols[2], dtype=object)}
    for j, n in enumerate(names):
        out[f"unserved_{n}"] = np.array(cols[3 + j], dtype=float)
    return out


def assert_columns(got, expected: dict[str, np.ndarray]) -> None:
    assert [c for c in got.columns if c != "geometry"] == list(expected)
    for col, want in expected.items():
        have = np.asarray(got[col])
        if want.dtype.kind == "f":
            np.testing.assert_array_equal(have.astype(float), want, err_msg=col)
        else:
            assert have.astype(want.dtype).tolist() == want.tolist(), col


def sqlite_rows(path: Path, layer: str) -> tuple[list[str], list[tuple]]:
    con = sqlite3.connect(path)
    try:
        cur = con.execute(f'SELECT * FROM "{layer}"')
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def gpkg_point_xy(blob: bytes) -> tuple[float, float]:
    """x, y of a GeoPackage point blob (header 'GP', version, flags, srs id, envelope)."""
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
    point = shapely.from_wkb(blob[8 + envelope:])
    return point.x, point.y


def test_the_cells_layer_holds_every_value_of_the_result(run):
    study, cov, eq, outs = run
    path = outs["points"]["coverage.gpkg"]
    assert np.isinf(cov.layers["clinics"].distance).any()  # unreachable cells are written
    cells = pyogrio.read_dataframe(path, layer="cells")
    assert_columns(cells, expected_cells(study, cov, eq))
    assert cells.crs == study.crs
    assert (cells.geom_type == "Point").all()
    np.testing.assert_array_equal(cells.geometry.x, study.population.x)
    np.testing.assert_array_equal(cells.geometry.y, study.population.y)
    info = pyogrio.read_info(path, layer="cells")
    assert dict(zip(info["fields"], info["dtypes"], strict=True))["cell_id"] == "int32"
    assert info["dtypes"][list(info["fields"]).index("covered_clinics")] == "bool"


def test_sqlite_reads_the_same_cells_and_the_index_and_srs(run):
    """Without GDAL: the raw table, its point blobs, the R-tree and the CRS record."""
    study, cov, _eq, outs = run
    path = outs["points"]["coverage.gpkg"]
    names, rows = sqlite_rows(path, "cells")
    col = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    assert col["cell_id"] == list(range(len(study.population)))
    np.testing.assert_array_equal(np.array(col["population"], float),
                                  study.population.population)
    dist = np.array([np.inf if v is None else v for v in col["time_clinics_min"]], float)
    np.testing.assert_array_equal(dist, cov.layers["clinics"].distance)
    assert col["covered_schools"] == cov.layers["schools"].covered.astype(int).tolist()
    xy = np.array([gpkg_point_xy(b) for b in col["geom"]])
    np.testing.assert_array_equal(xy, study.population.xy)
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM rtree_cells_geom").fetchone()[0] == len(rows)
        srs = con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = "
                          "'cells'").fetchone()[0]
        wkt = con.execute("SELECT definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
                          (srs,)).fetchone()[0]
        assert pyproj.CRS(wkt) == study.crs
    finally:
        con.close()


def test_gaps_is_a_registered_view_with_the_gap_cells(run):
    study, cov, _eq, outs = run
    path = outs["points"]["coverage.gpkg"]
    want = expected_gaps(study, cov)
    assert 0 < len(want["cell_id"]) < len(study.population)
    gaps = pyogrio.read_dataframe(path, layer="gaps")
    assert_columns(gaps, want)
    np.testing.assert_array_equal(gaps.geometry.x, study.population.x[want["cell_id"]])
    assert gaps.crs == study.crs
    info = pyogrio.read_info(path, layer="gaps")
    assert list(info["dtypes"]) == ["int32", "float64", "object", "object", "int32",
                                    "object", "float64", "float64"]
    con = sqlite3.connect(path)
    try:
        kinds = dict(con.execute("SELECT name, type FROM sqlite_master WHERE name IN "
                                 "('cells', 'gaps')").fetchall())
        assert kinds == {"cells": "table", "gaps": "view"}  # no second copy
        assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'gaps'"
                           ).fetchone() == ("features",)
        assert con.execute("SELECT column_name, geometry_type_name FROM "
                           "gpkg_geometry_columns WHERE table_name = 'gaps'").fetchone() \
            == ("geom", "POINT")
    finally:
        con.close()
    # GDAL's filters run on the view like on a table
    some = pyogrio.read_dataframe(path, layer="gaps", where="n_gaps = 2")
    assert some["cell_id"].tolist() == want["cell_id"][want["n_gaps"] == 2].tolist()


def test_cells_polygons_are_the_cell_shapes(run):
    study, cov, eq, outs = run
    shapes = study.population.geometry().values
    for path in (outs["polygons"]["coverage.gpkg"],):
        cells = pyogrio.read_dataframe(path, layer="cells")
        assert_columns(cells, expected_cells(study, cov, eq))
        assert shapely.equals_exact(cells.geometry.values, shapes, tolerance=0).all()
        gaps = pyogrio.read_dataframe(path, layer="gaps")  # the view takes them too
        ids = expected_gaps(study, cov)["cell_id"]
        assert shapely.equals_exact(gaps.geometry.values, shapes[ids], tolerance=0).all()
    table = pq.read_table(outs["parquet_polygons"]["cells.parquet"])
    geoms = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    assert shapely.equals_exact(geoms, shapes, tolerance=0).all()


def test_parquet_files_are_geoparquet_with_every_value(run):
    import geopandas as gpd

    study, cov, eq, outs = run
    paths = outs["parquet"]
    assert {"cells.parquet", "gaps.parquet", "coverage.gpkg"} <= set(paths)
    # the other layers stay in the GeoPackage, the per-cell ones are not copied there
    assert {str(n) for n, _ in pyogrio.list_layers(paths["coverage.gpkg"])} == {
        "facilities", "regions", "service_areas_dissolved"}
    for name, want in (("cells.parquet", expected_cells(study, cov, eq)),
                       ("gaps.parquet", expected_gaps(study, cov))):
        table = pq.read_table(paths[name])
        geo = json.loads(table.schema.metadata[b"geo"])
        column = geo["columns"][geo["primary_column"]]
        assert column["encoding"] == "WKB" and column["geometry_types"] == ["Point"]
        assert pyproj.CRS.from_json_dict(column["crs"]) == study.crs
        frame = table.to_pandas()
        assert_columns(frame, want)
        pts = shapely.from_wkb(frame["geometry"].to_numpy())
        ids = want["cell_id"]
        np.testing.assert_array_equal(shapely.get_x(pts), study.population.x[ids])
        np.testing.assert_array_equal(shapely.get_y(pts), study.population.y[ids])
        assert column["bbox"] == [float(study.population.x[ids].min()),
                                  float(study.population.y[ids].min()),
                                  float(study.population.x[ids].max()),
                                  float(study.population.y[ids].max())]
        read = gpd.read_parquet(paths[name])
        assert read.crs == study.crs and len(read) == len(ids)
        assert str(table.schema.field("region").type).startswith("dictionary")


def test_duckdb_reads_the_parquet_cells(run):
    duckdb = pytest.importorskip("duckdb")
    study, _cov, _eq, outs = run
    path = outs["parquet"]["cells.parquet"]
    total = duckdb.sql(f"SELECT sum(population) FROM read_parquet('{path}')").fetchone()[0]
    assert total == pytest.approx(study.population.total)


def test_the_report_lists_what_was_written(run):
    _study, _cov, _eq, outs = run
    html = outs["points"]["report.html"].read_text(encoding="utf-8")
    assert "gaps [a view of cells]" in html
    html = outs["parquet"]["report.html"].read_text(encoding="utf-8")
    assert '<a href="cells.parquet">cells.parquet</a> (GeoParquet: cells)' in html
    assert '<a href="gaps.parquet">gaps.parquet</a>' in html


def test_bad_choices_get_a_clear_error(run, tmp_path):
    study, cov, _eq, _outs = run
    with pytest.raises(ValueError, match="format must be one of gpkg, parquet, not 'csv'"):
        write(study, cov, out_dir=tmp_path / "o", basemap=None,
              table_format="csv")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cells must be one of points, polygons"):
        write(study, cov, out_dir=tmp_path / "o", basemap=None,
              cells="squares")  # type: ignore[arg-type]
    assert not (tmp_path / "o").exists()
    res = CliRunner().invoke(app, ["report", str(tmp_path / "study.toml"), "--out",
                                   str(tmp_path / "c"), "--format", "csv"])
    assert res.exit_code == 2
    assert "--format" in res.output and "'csv' is not one of" in res.output


def test_the_command_line_spells_the_python_choices():
    from typing import get_args

    from equiserve import cli
    from equiserve.outputs import tables

    assert get_args(cli.TableFormat) == get_args(tables.TableFormat)
    assert get_args(cli.CellGeometry) == get_args(tables.CellGeometry)


def test_point_wkb_and_mixed_parts():
    rng = np.random.default_rng(1)
    xy = rng.uniform(-1e6, 1e6, (50, 2))
    assert point_wkb(xy).to_pylist() == list(shapely.to_wkb(shapely.points(xy)))
    square = shapely.box(0, 0, 1, 1)
    both = np.array([square, shapely.MultiPolygon([shapely.box(2, 2, 3, 3), square])])
    wkb, types = geometry_wkb(both)
    back = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    assert types == ["MultiPolygon"]
    assert shapely.get_type_id(back).tolist() == [6, 6]
    assert shapely.equals(back, both).all()


def test_the_formats_hold_the_same_figures(run):
    """The reference digests (tests/reference/digest.py) of a layer are the same whether
    it is a GeoPackage table, a view or a GeoParquet file; polygons change only geometry."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))
    from digest import folder_digest

    _study, _cov, _eq, outs = run
    digests = {k: folder_digest(v["report.html"].parent) for k, v in outs.items()}
    gpkg, parquet = digests["points"]["coverage.gpkg"], digests["parquet"]
    assert gpkg["gaps"]["view"] is True and "view" not in gpkg["cells"]
    for layer in ("cells", "gaps"):
        assert parquet[f"{layer}.parquet"]["table"] == {
            k: v for k, v in gpkg[layer].items() if k != "view"}
        polygons = digests["polygons"]["coverage.gpkg"][layer]["digest"]
        assert {k for k in polygons if polygons[k] != gpkg[layer]["digest"][k]} == \
            {"geometry"}
        assert digests["parquet_polygons"][f"{layer}.parquet"]["table"]["digest"] == polygons
    for layer in ("facilities", "regions", "service_areas_dissolved"):
        assert digests["parquet"]["coverage.gpkg"][layer] == gpkg[layer]
