"""The ``shortfall`` paint (issue 14: places short or to spare per 1 km block): blocks
drawn by the public map builder get the class colours and legend rows of hand-worked
edges; gap classes stay as they were beside it."""

from __future__ import annotations

import base64
import json
import re

import folium
import geopandas as gpd
import numpy as np
import shapely

from equiserve.outputs.maps import build_map
from equiserve.outputs.maps.builder import shortfall_edges
from equiserve.outputs.maps.compact import CompactLayer, feature_properties, spec_of
from equiserve.outputs.maps.legend import _Legend
from equiserve.outputs.maps.raster import read_png
from equiserve.outputs.style import BALANCED_COLOUR, SHORT_COLOURS, SPARE_COLOURS
from equiserve.results.overlays import Depth, Fill, LegendEntry, Overlay

CRS = "EPSG:32649"  # UTM 49N, Zhuhai
X0, Y0 = 720_000.0, 2_460_000.0
SECTION = "Places short per 1 km block (2030)"


def _blocks(first: int, values: list[float]) -> gpd.GeoDataFrame:
    """Blocks in a row from column ``first``, a tooltip column of each block's value."""
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000)
             for i in range(first, first + len(values))]
    return gpd.GeoDataFrame({"short": [f"{v:,.1f}" for v in values]}, geometry=boxes,
                            crs=CRS)


def _overlay(name: str, frame: gpd.GeoDataFrame, values: list[float],
             scheme: str = "shortfall", section: str = SECTION) -> Overlay:
    return Overlay(name, frame, Fill(scheme, values=np.array(values)),  # type: ignore[arg-type]
                   (("short", "Places short"),), Depth.BLOCKS, LegendEntry(section), grid=1000.0)


def _map(overlays: list[Overlay]) -> folium.Map:
    extent = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 40_000, Y0 + 1000)], crs=CRS)
    return build_map(["schools"], [], extent, overlays, "test")


def _layers(fmap: folium.Map) -> dict[str, dict]:
    return {c.layer_name: spec_of(c) for c in fmap._children.values()
            if isinstance(c, CompactLayer)}


def _legend_rows(fmap: folium.Map) -> dict[str, list[str]]:
    """Legend section title -> its row labels (unescaped)."""
    box = next(c for c in fmap._children.values() if isinstance(c, _Legend))
    html = json.loads(box.payload.replace("<\\/", "</"))
    out: dict[str, list[str]] = {}
    for part in re.split(r"<h4>", html)[1:]:
        title = part[:part.index("</h4>")]
        out[title] = re.findall(r'<div class="eq-row"><svg.*?</svg><span>(.*?)</span>', part)
    return out


def _fills(spec: dict) -> list[str]:
    return [p["fill"] for p in feature_properties(spec)]


# Two overlays (two layers): classes are shared, so the edges come from all 13 values.
# Sizes of the blocks not balanced (|v| >= 0.5; -0.4, 0 and NaN are balanced), sorted:
# 0.5, 1, 2, 7, 15, 20, 26, 80, 140, 600 (n = 10; linear quantiles at (n - 1) q):
#   25 %: 2 + 0.25 * 5 = 3.25 -> 2;  50 %: 15 + 0.5 * 5 = 17.5 -> 10;
#   75 %: 26 + 0.75 * 54 = 66.5 -> 50;  90 %: 140 + 0.1 * 460 = 186 -> 100
# edges [0.5, 2, 10, 50, 100, inf]: classes 0..4, a lower edge inside its class.
FIRST = [-0.4, 0.0, float("nan"), 1.0, -7.0, 15.0, 26.0]
SECOND = [-80.0, 140.0, 600.0, -2.0, 20.0, -0.5]
EXPECTED_FIRST = [BALANCED_COLOUR, BALANCED_COLOUR, BALANCED_COLOUR, SHORT_COLOURS[0],
                  SPARE_COLOURS[1], SHORT_COLOURS[2], SHORT_COLOURS[2]]
EXPECTED_SECOND = [SPARE_COLOURS[3], SHORT_COLOURS[4], SHORT_COLOURS[4], SPARE_COLOURS[1],
                   SHORT_COLOURS[2], SPARE_COLOURS[0]]


def test_blocks_get_the_class_of_hand_worked_edges_shared_by_two_overlays():
    np.testing.assert_array_equal(shortfall_edges(np.array(FIRST + SECOND)),
                                  [0.5, 2, 10, 50, 100, np.inf])
    fmap = _map([_overlay("Short: schools", _blocks(0, FIRST), FIRST),
                 _overlay("Short: clinics", _blocks(10, SECOND), SECOND)])
    layers = _layers(fmap)
    first, second = layers["Short: schools"], layers["Short: clinics"]
    assert _fills(first) == EXPECTED_FIRST
    assert _fills(second) == EXPECTED_SECOND
    # the image holds those colours (one palette entry each) at the blocks' opacity
    for spec, expected in ((first, EXPECTED_FIRST), (second, EXPECTED_SECOND)):
        index, palette = read_png(base64.b64decode(spec["img"].split(",", 1)[1]))
        assert sorted(palette) == sorted(set(expected))
        assert spec["opacity"] == 0.7
    # one set of rows for the section both overlays share: most short first, then
    # balanced, then most to spare last
    assert _legend_rows(fmap)[SECTION] == [
        "short by 100+ places", "short by 50–100 places", "short by 10–50 places",
        "short by 2–10 places", "short by 1–2 places",
        "balanced (less than half a place short or to spare)",
        "1–2 places to spare", "2–10 places to spare", "10–50 places to spare",
        "50–100 places to spare", "100+ places to spare"]


def test_large_shortfalls_have_thousands_separators_and_only_as_many_classes_as_edges():
    # sizes 1,500, 2,500, 12,000, 30,000 (n = 4, quantiles at 3 q): 25 %: 2,250 -> 2,000;
    # 50 %: 7,250 -> 5,000; 75 %: 16,500 -> 10,000; 90 %: 24,600 -> 20,000
    values = [1500.0, -2500.0, 12_000.0, 30_000.0]
    fmap = _map([_overlay("Short", _blocks(0, values), values)])
    assert _fills(_layers(fmap)["Short"]) == [SHORT_COLOURS[0], SPARE_COLOURS[1],
                                             SHORT_COLOURS[3], SHORT_COLOURS[4]]
    rows = _legend_rows(fmap)[SECTION]
    assert rows[:5] == ["short by 20,000+ places", "short by 10,000–20,000 places",
                        "short by 5,000–10,000 places", "short by 2,000–5,000 places",
                        "short by 1–2,000 places"]
    assert rows[-1] == "20,000+ places to spare"
    # sizes 3 and 6 (n = 2): 25 %: 3.75 -> 2; 50 %: 4.5 -> 2; 75 %: 5.25 -> 5; 90 %: 5.7 -> 5
    small = [3.0, -6.0, 0.0]
    np.testing.assert_array_equal(shortfall_edges(np.array(small)), [0.5, 2, 5, np.inf])
    fmap = _map([_overlay("Short", _blocks(0, small), small)])
    assert _fills(_layers(fmap)["Short"]) == [SHORT_COLOURS[1], SPARE_COLOURS[2],
                                             BALANCED_COLOUR]
    assert len(_legend_rows(fmap)[SECTION]) == 3 + 1 + 3


def test_all_balanced_blocks_are_grey_with_one_open_class_each_side():
    values = [0.0, 0.3, -0.49]
    fmap = _map([_overlay("Short", _blocks(0, values), values)])
    assert _fills(_layers(fmap)["Short"]) == [BALANCED_COLOUR] * 3
    assert _legend_rows(fmap)[SECTION] == [
        "short by 1+ places", "balanced (less than half a place short or to spare)",
        "1+ places to spare"]


def test_gap_classes_are_the_same_beside_a_shortfall_overlay():
    gaps = [0.0, 300.0, 5000.0, 120.0, 40.0]
    gap = _overlay("Gaps: schools", _blocks(0, gaps), gaps, scheme="gaps",
                   section="Gaps: unserved people per 1 km block")
    alone = _map([gap])
    beside = _map([gap, _overlay("Short", _blocks(20, FIRST + SECOND), FIRST + SECOND)])
    assert _fills(_layers(beside)["Gaps: schools"]) == _fills(_layers(alone)["Gaps: schools"])
    gap_rows = _legend_rows(alone)["Gaps: unserved people per 1 km block"]
    assert _legend_rows(beside)["Gaps: unserved people per 1 km block"] == gap_rows
    # and the shortfall's own classes are those of its values alone (as above)
    assert _fills(_layers(beside)["Short"]) == EXPECTED_FIRST + EXPECTED_SECOND
    # gaps sorted 0, 40, 120, 300, 5,000: quartiles 40, 120, 300, 90 % 3,120
    # -> gap edges [0, 20, 100, 200, 2,000, inf]
    assert gap_rows == ["0–20 people", "20–100 people", "100–200 people", "200–2,000 people",
                        "2,000+ people"]
