"""The compact map encoding: PNGs (read back with Pillow as well as our reader), block
images placed on Web Mercator (checked against pyproj), tooltip arrays decoded back to the
overlay's values, service-area pixels against shapely."""

from __future__ import annotations

import base64
import io

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image
from pyproj import Transformer

from equiserve.crs import gcj02_from_wgs84
from equiserve.outputs.maps import build_map, resolve_basemap
from equiserve.outputs.maps.compact import (
    CompactLayer,
    column,
    column_values,
    feature_properties,
    point_lonlat,
    spec_of,
)
from equiserve.outputs.maps.raster import PixelGrid, area_mask, palette_png, read_png
from equiserve.outputs.style import GAP_COLOURS
from equiserve.results.overlays import Depth, Fill, Overlay, Symbol

CRS = "EPSG:32649"  # UTM 49N, Zhuhai
X0, Y0 = 720_000.0, 2_460_000.0


def _png(spec: dict) -> bytes:
    return base64.b64decode(spec["img"].split(",", 1)[1])


def _layers(fmap: folium.Map) -> dict[str, dict]:
    return {c.layer_name: spec_of(c) for c in fmap._children.values()
            if isinstance(c, CompactLayer)}


def _merc(lon: float, lat: float) -> tuple[float, float]:  # EPSG:3857 by pyproj
    return Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)


@pytest.mark.parametrize("n_colours", [3, 20])
def test_palette_png_reads_back_with_pillow(n_colours):
    rng = np.random.default_rng(1)
    index = rng.integers(0, n_colours + 1, size=(37, 53)).astype(np.uint8)
    index[5:20, 10:40] = 2  # runs, as blocks have
    colours = [f"#{rng.integers(0, 2**24):06x}" for _ in range(n_colours)]
    png = palette_png(index, colours, alpha=[200] * n_colours)
    img = Image.open(io.BytesIO(png))
    assert img.mode == "P" and img.size == (53, 37)
    np.testing.assert_array_equal(np.array(img), index)
    pal = img.getpalette()[: 3 * (n_colours + 1)]
    assert [f"#{pal[i]:02x}{pal[i + 1]:02x}{pal[i + 2]:02x}" for i in range(3, len(pal), 3)
            ] == colours
    assert list(img.info["transparency"])[: n_colours + 1] == [0] + [200] * n_colours
    ours, ours_colours = read_png(png)
    np.testing.assert_array_equal(ours, index)
    assert ours_colours == colours


def _blocks(cells: list[tuple[int, int]], unserved: list[float]) -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
             for i, j in cells]
    return gpd.GeoDataFrame({"layer": "schools", "unserved": [f"{v:,.0f}" for v in unserved]},
                            geometry=boxes, crs=CRS)


def _gap_map(frame: gpd.GeoDataFrame, values: np.ndarray, base=None) -> dict:
    o = Overlay("Gaps: schools", frame, Fill("gaps", values=values),
                (("layer", "Layer"), ("unserved", "Unserved (people)")), Depth.BLOCKS,
                grid=1000.0)
    fmap = build_map(["schools"], [], frame, [o], "test", base)
    return _layers(fmap)["Gaps: schools"]


def _pixel(spec: dict, lon: float, lat: float) -> tuple[int, int]:
    """Row and column of the image pixel holding a point, from the image's bounds alone
    (as Leaflet stretches it: linearly in Web Mercator); (0, 0) when off the image (the
    tests' images leave that corner empty)."""
    (s, w), (n, e) = spec["bounds"]
    (x0, y0), (x1, y1) = _merc(w, s), _merc(e, n)
    index, _ = read_png(_png(spec))
    mx, my = _merc(lon, lat)
    col = int(np.floor((mx - x0) / (x1 - x0) * index.shape[1]))
    row = int(np.floor((y1 - my) / (y1 - y0) * index.shape[0]))
    if not (0 <= row < index.shape[0] and 0 <= col < index.shape[1]):
        return 0, 0
    return row, col


def test_hand_worked_grid_has_its_colours_at_the_blocks_on_web_mercator():
    """Three blocks (unserved 0, 300 and 5,000) and a hole where no block is. Gap edges
    by hand: quartiles 150, 300, 2,650 and 90th percentile 4,120, rounded down to 1-2-5
    numbers: [0, 100, 200, 2,000, inf]; so classes 0, 2 and 3."""
    cells = [(0, 0), (1, 0), (0, 2)]
    values = np.array([0.0, 300.0, 5000.0])
    spec = _gap_map(_blocks(cells, values.tolist()), values)
    index, palette = read_png(_png(spec))
    to_wgs = Transformer.from_crs(CRS, 4326, always_xy=True)
    expected = [GAP_COLOURS[0], GAP_COLOURS[2], GAP_COLOURS[3]]
    for (i, j), colour in zip(cells, expected, strict=True):
        for fx, fy in ((0.5, 0.5), (0.1, 0.1), (0.9, 0.9), (0.1, 0.9)):  # centre, near corners
            lon, lat = to_wgs.transform(X0 + (i + fx) * 1000, Y0 + (j + fy) * 1000)
            r, c = _pixel(spec, lon, lat)
            assert palette[index[r, c] - 1] == colour, ((i, j), (fx, fy))
    lon, lat = to_wgs.transform(X0 + 1500, Y0 + 2500)  # no block there
    assert index[_pixel(spec, lon, lat)] == 0
    # edges: half a pixel at most off (pixels of 1/32 block: 31 m): 50 m inside and
    # outside the east edge of block (1, 0)
    for dx, inside in ((-50.0, True), (50.0, False)):
        lon, lat = to_wgs.transform(X0 + 2000 + dx, Y0 + 500)
        assert (index[_pixel(spec, lon, lat)] != 0) == inside, dx


def test_blocks_decode_to_the_overlay_values_and_cells():
    cells = [(3, 1), (0, 0), (2, 5), (2, 6)]
    values = np.array([10.0, 4000.0, 150.0, 700.0])
    frame = _blocks(cells, values.tolist())
    frame.loc[2, "layer"] = "<b>x</b> & y"
    spec = _gap_map(frame, values)
    props = feature_properties(spec)
    assert [p["unserved"] for p in props] == ["10", "4,000", "150", "700"]
    assert [p["layer"] for p in props] == ["schools", "schools", "&lt;b&gt;x&lt;/b&gt; &amp; y",
                                           "schools"]
    # edges by hand: quantiles 115, 425, 1,525, 2,620 -> [0, 100, 200, 1,000, 2,000, inf]
    assert [p["fill"] for p in props] == [GAP_COLOURS[k] for k in (0, 4, 1, 2)]
    # cells: (bx - bx0) * ny + (by - by0) over the blocks' range: 4 columns, ny = 7 rows
    assert np.cumsum(spec["cells"]).tolist() == [3 * 7 + 1, 0, 2 * 7 + 5, 2 * 7 + 6]


def test_gcj02_base_map_shifts_the_block_image():
    cells = [(0, 0)]
    values = np.array([500.0])
    spec = _gap_map(_blocks(cells, [500.0]), values, base=resolve_basemap("amap"))
    index, _ = read_png(_png(spec))
    assert index[0, 0] == 0
    to_wgs = Transformer.from_crs(CRS, 4326, always_xy=True)
    # GCJ-02 moves Zhuhai about 540 m east and 300 m south: a point 100 m inside the
    # block's west edge is drawn in the block only where GCJ-02 puts it
    lon, lat = to_wgs.transform(X0 + 100, Y0 + 500)
    assert index[_pixel(spec, *gcj02_from_wgs84(lon, lat))] != 0
    assert index[_pixel(spec, lon, lat)] == 0


def test_columns_encode_compactly_and_decode():
    assert column(["a", "a", "a"]) == {"k": "a"}
    many = ["x", "y"] * 10
    enc = column(many)
    assert set(enc) == {"u", "c"} and column_values(enc, 20) == many
    assert column(["<i>", "b"]) == {"v": ["&lt;i&gt;", "b"]}
    assert column([1, 2]) == {"v": [1, 2]}


def test_points_decode_to_their_coordinates():
    pts = gpd.GeoDataFrame({"name": ["a", "b"]},
                           geometry=gpd.points_from_xy([113.123456, 113.2], [22.1, 22.254321]),
                           crs=4326)
    o = Overlay("schools (2)", pts, Symbol("layer", "schools"), (("name", "Name"),),
                Depth.FACILITIES)
    spec = _layers(build_map(["schools"], [], pts, [o], "t"))["schools (2)"]
    np.testing.assert_allclose(point_lonlat(spec), [[113.12346, 22.1], [113.2, 22.25432]],
                               atol=1e-9)
    assert feature_properties(spec) == [{"name": "a"}, {"name": "b"}]


def test_area_mask_matches_shapely_with_holes_and_islands():
    outer = shapely.Polygon([(0, 0), (40, 0), (40, 30), (0, 30)],
                            [[(5, 5), (35, 5), (35, 25), (5, 25)]])
    island = shapely.Polygon([(10, 10), (20, 10), (15, 20)])
    other = shapely.Point(50, 15).buffer(6)
    geoms = np.array([shapely.MultiPolygon([outer, island]), other])
    grid = PixelGrid(-3.0, 33.0, 0.7, 90, 52)
    mask = area_mask(geoms, grid)
    cx, cy = grid.centres()
    gx, gy = np.meshgrid(cx, cy)
    union = shapely.union_all(geoms)
    expect = shapely.contains_xy(union, gx, gy)
    on_edge = shapely.distance(union.boundary, shapely.points(gx, gy)) < 1e-9
    assert ((mask == expect) | on_edge).all()
    assert mask.sum() > 1000


def test_an_empty_service_area_is_drawn_as_an_empty_layer():
    """A layer whose facilities reach nothing has an empty dissolved area: no image to
    make, the overlay is still listed (with its one feature, drawn nowhere)."""
    frame = gpd.GeoDataFrame({"layer": ["schools"], "standard": ["500 m"]},
                             geometry=[shapely.Polygon()], crs=CRS)
    o = Overlay("Service area: schools", frame, Fill("layer", layer="schools"),
                (("layer", "Service area of"),), Depth.AREAS)
    extent = _blocks([(0, 0)], [1.0])
    fmap = build_map(["schools"], [], extent, [o], "t")
    layer = next(c for c in fmap._children.values() if getattr(c, "layer_name", "") == o.name)
    assert isinstance(layer, folium.GeoJson) and len(layer.data["features"]) == 1
