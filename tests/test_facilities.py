"""Tests of equiserve.inputs.facilities.load_facility_layer: access points, checks and notes.

Access points are checked against coordinates projected independently with pyproj (points
and hand-written OSM entrance nodes) or against shapely containment (polygons); region
assignment against the hand-built regions of equiserve.testing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from equiserve.config import LayerConfig, SourceSpec, StraightLine
from equiserve.errors import DataError, DataQualityWarning
from equiserve.inputs.facilities import FacilityLayer, load_facility_layer
from equiserve.inputs.regions import Regions
from equiserve.notes import Notes
from equiserve.testing import TINY_CRS, TINY_ORIGIN, tiny_facilities, tiny_regions

UTM = pyproj.CRS.from_user_input(TINY_CRS)
WGS84 = pyproj.CRS.from_epsg(4326)
TO_UTM = pyproj.Transformer.from_crs(WGS84, UTM, always_xy=True)
X0, Y0 = TINY_ORIGIN


@pytest.fixture
def regions() -> Regions:
    gdf = tiny_regions().rename(columns={"name": "region"})
    return Regions(gdf[["region", "group", "geometry"]])


def _layer(path: Path, name: str = "schools", **kw) -> LayerConfig:
    src = {k: kw.pop(k) for k in ("filter", "osm_tags", "layer", "crs") if k in kw}
    return LayerConfig(name=name, kind="school", standard=StraightLine(distance_m=500.0),
                       source=SourceSpec(path=path, key=f"layers.{name}", **src), **kw)


def _load(cfg: LayerConfig, regions: Regions, notes: Notes | None = None) -> FacilityLayer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_facility_layer(cfg, regions, notes)


def _write_schools(folder: Path, frame: gpd.GeoDataFrame | None = None) -> Path:
    path = folder / "schools.gpkg"
    # written in WGS84 so that the loader has to project to the working CRS
    (tiny_facilities()["schools"] if frame is None else frame).to_crs(WGS84).to_file(
        path, layer="schools", driver="GPKG")
    return path


# ---------------------------------------------------------------------------------------
# points


def test_points_are_their_own_access_points(tmp_path, regions):
    schools = tiny_facilities()["schools"]
    notes = Notes()
    cfg = _layer(_write_schools(tmp_path), id_field="id", name_field="name",
                 capacity_field="seats")
    layer = _load(cfg, regions, notes)
    fac = layer.facilities
    assert len(layer) == 4
    assert list(fac["facility_id"]) == ["S1", "S2", "S3", "S4"]
    assert list(fac["name"]) == list(schools["name"])
    assert (fac["location_method"] == "point").all()
    assert layer.has_capacity
    # one access point per facility, at the point itself (after a WGS84 round trip)
    np.testing.assert_array_equal(layer.access_facility, [0, 1, 2, 3])
    np.testing.assert_allclose(layer.access_x, schools.geometry.x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(layer.access_y, schools.geometry.y, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fac.geometry.x, schools.geometry.x, rtol=0, atol=1e-6)
    assert pyproj.CRS(fac.crs).equals(UTM)
    # S1 (500, 500) and S2 (1700, 1500) lie in Core, S3 (-2000, 1000) in Farms;
    # S4 (2600, 300) lies between Core and Isle, in no region
    # (pandas 3 str columns hold a missing region as NaN, not None)
    assert list(fac["region"].iloc[:3]) == ["Core", "Core", "Farms"]
    assert list(fac["group"].iloc[:3]) == ["east", "east", "west"]
    assert pd.isna(fac["region"].iloc[3]) and pd.isna(fac["group"].iloc[3])
    # no note about how polygons were located
    assert not [n for n in notes if n.level == "info"]


def test_missing_capacity_is_noted_and_nan(tmp_path, regions):
    notes = Notes()
    cfg = _layer(_write_schools(tmp_path), id_field="id", name_field="name",
                 capacity_field="seats")
    with pytest.warns(DataQualityWarning):
        layer = load_facility_layer(cfg, regions, notes)
    cap = layer.facilities["capacity"].to_numpy()
    np.testing.assert_array_equal(cap[[0, 1, 3]], [900.0, 600.0, 300.0])
    assert np.isnan(cap[2])
    msgs = [n.message for n in notes if n.level == "warning" and "seats" in n.message]
    assert len(msgs) == 1
    assert "Farms Primary" in msgs[0] and "1 of 4" in msgs[0]


def test_facility_outside_every_region_is_kept_with_a_warning(tmp_path, regions):
    notes = Notes()
    cfg = _layer(_write_schools(tmp_path), id_field="id", name_field="name",
                 capacity_field="seats")
    with pytest.warns(DataQualityWarning) as record:  # outside + missing capacity
        layer = load_facility_layer(cfg, regions, notes)
    assert any("outside every region" in str(w.message) for w in record)
    row = layer.facilities.iloc[3]
    assert row["name"] == "Harbour School"
    assert pd.isna(row["region"]) and pd.isna(row["group"])  # no region, missing value
    msgs = [n.message for n in notes if "outside every region" in n.message]
    assert len(msgs) == 1 and "Harbour School" in msgs[0]
    assert "Core Primary" not in msgs[0]


def test_duplicate_ids_are_noted_and_kept(tmp_path, regions):
    schools = tiny_facilities()["schools"].iloc[:3].copy()
    schools["id"] = ["S1", "S1", "S2"]
    notes = Notes()
    cfg = _layer(_write_schools(tmp_path, schools), id_field="id")
    with pytest.warns(DataQualityWarning, match="more than once"):
        layer = load_facility_layer(cfg, regions, notes)
    assert list(layer.facilities["facility_id"]) == ["S1", "S1", "S2"]
    assert len(layer.access_x) == 3
    msgs = [n.message for n in notes if "more than once" in n.message]
    assert len(msgs) == 1
    assert "S1" in msgs[0] and "S2" not in msgs[0]


def test_ids_default_to_layer_name_and_row(tmp_path, regions):
    cfg = _layer(_write_schools(tmp_path), name="clinics")
    layer = _load(cfg, regions)
    assert list(layer.facilities["facility_id"]) == [f"clinics-{i}" for i in range(1, 5)]
    assert not layer.has_capacity
    assert layer.facilities["capacity"].isna().all()


# ---------------------------------------------------------------------------------------
# polygons


def test_polygons_use_a_point_inside(tmp_path, regions):
    # a C-shaped school ground whose centroid falls in its empty middle
    c_shape = shapely.Polygon([(X0 + 100, Y0 + 100), (X0 + 900, Y0 + 100), (X0 + 900, Y0 + 300),
                               (X0 + 300, Y0 + 300), (X0 + 300, Y0 + 700), (X0 + 900, Y0 + 700),
                               (X0 + 900, Y0 + 900), (X0 + 100, Y0 + 900)])
    square = shapely.box(X0 - 2500, Y0 + 500, X0 - 2300, Y0 + 700)
    assert not c_shape.contains(c_shape.centroid)
    gdf = gpd.GeoDataFrame({"name": ["C school", "Square school"]},
                           geometry=[c_shape, square], crs=UTM)
    path = tmp_path / "grounds.gpkg"
    gdf.to_file(path, driver="GPKG")
    notes = Notes()
    layer = _load(_layer(path), regions, notes)
    fac = layer.facilities
    assert list(fac["location_method"]) == ["representative_point"] * 2
    assert len(layer.access_x) == 2
    for i, poly in enumerate([c_shape, square]):
        pt = shapely.Point(layer.access_x[i], layer.access_y[i])
        assert poly.contains(pt), (i, pt)
        assert fac.geometry.iloc[i].equals(pt)
    assert list(fac["region"]) == ["Core", "Farms"]
    infos = [n for n in notes if n.level == "info"]
    assert len(infos) == 1
    assert "2 by representative point" in infos[0].message


OSM_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand-written for equiserve tests">
{nodes}
 <way id="100" version="1">
  {park_a_refs}
  <tag k="leisure" v="park"/>
  <tag k="name" v="Park A"/>
 </way>
 <way id="200" version="1">
  {park_b_refs}
  <tag k="leisure" v="park"/>
  <tag k="name" v="Park B"/>
 </way>
</osm>
"""


def _node(nid: int, lon: float, lat: float, tags: dict[str, str] | None = None) -> str:
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
    return f' <node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}" version="1">{inner}</node>'


def test_osm_polygons_use_their_entrances(tmp_path):
    # Park A: a square with two entrance nodes on its outline (midpoints of the south and
    # east sides, vertices of the way); Park B: a square without entrances. Node 31 is an
    # entrance 22 m south of Park A (beyond the 5 m tolerance), node 32 one far away.
    a = {1: (113.550, 22.270), 2: (113.551, 22.270), 3: (113.552, 22.270),
         4: (113.552, 22.271), 5: (113.552, 22.272), 6: (113.550, 22.272)}
    b = {11: (113.560, 22.270), 12: (113.562, 22.270), 13: (113.562, 22.272),
         14: (113.560, 22.272)}
    entrances = {2: "main", 4: "yes", 31: "yes", 32: "yes"}
    stray = {31: (113.551, 22.2698), 32: (113.570, 22.280)}
    nodes = [_node(i, *xy, {"entrance": entrances[i]} if i in entrances else None)
             for i, xy in (a | b | stray).items()]
    ref = "\n  ".join
    xml = OSM_TEMPLATE.format(
        nodes="\n".join(nodes),
        park_a_refs=ref(f'<nd ref="{i}"/>' for i in [1, 2, 3, 4, 5, 6, 1]),
        park_b_refs=ref(f'<nd ref="{i}"/>' for i in [11, 12, 13, 14, 11]))
    path = tmp_path / "parks.osm"
    path.write_text(xml, encoding="utf-8")

    # regions: one box around both parks in UTM 49N
    bx, by = TO_UTM.transform([113.54, 113.58], [22.26, 22.29])
    regions = Regions(gpd.GeoDataFrame({"region": ["Gongbei"], "group": ["east"]},
                                       geometry=[shapely.box(bx[0], by[0], bx[1], by[1])],
                                       crs=UTM))
    notes = Notes()
    cfg = _layer(path, name="parks", osm_tags={"leisure": "park"})
    layer = _load(cfg, regions, notes)
    fac = layer.facilities
    assert list(fac["name"]) == ["Park A", "Park B"]
    assert list(fac["facility_id"]) == ["way/100", "way/200"]
    assert list(fac["location_method"]) == ["entrance", "representative_point"]
    assert list(fac["region"]) == ["Gongbei", "Gongbei"]

    # Park A: exactly its two entrances, projected independently
    ex, ey = TO_UTM.transform([a[2][0], a[4][0]], [a[2][1], a[4][1]])
    on_a = layer.access_facility == 0
    assert on_a.sum() == 2
    got = sorted(zip(layer.access_x[on_a], layer.access_y[on_a], strict=True))
    want = sorted(zip(ex, ey, strict=True))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert (fac.geometry.x.iloc[0], fac.geometry.y.iloc[0]) in [
        pytest.approx(w, abs=1e-6) for w in want]

    # Park B: one point inside its outline
    on_b = layer.access_facility == 1
    assert on_b.sum() == 1
    bx, by = TO_UTM.transform(*np.array(list(b.values())).T)
    park_b = shapely.Polygon(np.column_stack([bx, by]))
    assert park_b.contains(shapely.Point(layer.access_x[on_b][0], layer.access_y[on_b][0]))

    infos = [n.message for n in notes if n.level == "info" and n.subject == "layers.parks"]
    assert len(infos) == 1
    assert "1 by entrance" in infos[0] and "1 by representative point" in infos[0]


# ---------------------------------------------------------------------------------------
# errors


def test_empty_layer_after_filter_is_an_error(tmp_path, regions):
    cfg = _layer(_write_schools(tmp_path), filter="seats > 10000")
    with pytest.raises(DataError) as err:
        _load(cfg, regions)
    msg = str(err.value)
    assert "seats > 10000" in msg and "no features" in msg
    assert "layers.schools" in msg and "schools.gpkg" in msg


@pytest.mark.parametrize("option", ["id_field", "name_field", "capacity_field"])
def test_missing_field_lists_the_fields(tmp_path, regions, option):
    cfg = _layer(_write_schools(tmp_path), **{option: "nope"})
    with pytest.raises(DataError) as err:
        _load(cfg, regions)
    msg = str(err.value)
    assert f"{option} = 'nope'" in msg
    fields = msg.split("fields:")[1]
    assert [f.strip() for f in fields.split(",")] == ["id", "name", "seats"]


def test_layer_from_csv_in_lon_lat(tmp_path, regions):
    # the same schools as a lon/lat CSV (the tiny study's format): same access points
    schools = tiny_facilities()["schools"]
    lon, lat = pyproj.Transformer.from_crs(UTM, WGS84, always_xy=True).transform(
        schools.geometry.x, schools.geometry.y)
    path = tmp_path / "schools.csv"
    pd.DataFrame({"id": schools["id"], "name": schools["name"], "lon": lon,
                  "lat": lat}).to_csv(path, index=False)
    layer = _load(_layer(path, id_field="id"), regions)
    np.testing.assert_allclose(layer.access_x, schools.geometry.x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(layer.access_y, schools.geometry.y, rtol=0, atol=1e-6)
