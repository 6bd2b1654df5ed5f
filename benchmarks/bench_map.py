"""The interactive map: equiserve's map.html against GeoPandas ``.explore()`` drawing the same.

Both sides draw the same job: one layer's gaps (unserved people in 1 km blocks, the
blocks' tooltip fields as equiserve shows them), that layer's facilities with their names,
and the regions, on the bundled demo city tiled ``--scale`` times (1: 90,522 populated
cells, 8: 724,176). The peer is ``GeoDataFrame.explore()`` (folium GeoJSON, one feature per
block and facility, Leaflet from CDNs: it does not open offline); equiserve draws blocks as
an image with tooltips from compact arrays and facilities on canvas, Leaflet inlined. The
answer is checked: both files hold the same blocks (count and every block's unserved
people, read back from each HTML) and the same facilities. Then equiserve's full map (all
layers, access, service areas), which has no peer row. Times are ``time.perf_counter``
seconds (best of 3 for equiserve, 1 for explore, after a warm-up call); sizes are the saved
HTML in MB. Nothing is asserted about time.

Usage::

    python benchmarks/bench_map.py             # the demo city
    python benchmarks/bench_map.py --scale 8   # the demo city tiled 8 times
    python benchmarks/bench_map.py --quick     # the tiny test study
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

from _timing import timed  # benchmarks/_timing.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference"))
from digest import _COMPACT, _CONTROL, _compact_features, map_digest  # noqa: E402

from equiserve.errors import DataQualityWarning  # noqa: E402
from equiserve.outputs.maps import build_map, save_map, study_map  # noqa: E402
from equiserve.study import Study  # noqa: E402


def explore_features(html: str) -> list[list[dict]]:
    """The properties of the features of every GeoJSON layer of an explore() map."""
    out = []
    for m in re.finditer(r"geo_json_[0-9a-f]+_add\((\{.*\})\);\s*$", html, re.M):
        out.append([f.get("properties", {}) for f in json.loads(m.group(1))["features"]])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the tiny study instead of the demo")
    ap.add_argument("--scale", type=int, default=1, help="copies of the demo city")
    args = ap.parse_args()
    warnings.simplefilter("ignore", DataQualityWarning)
    tmp = Path(tempfile.mkdtemp())
    if args.quick:
        from equiserve.testing import write_tiny_study

        cfg, layer = write_tiny_study(tmp / "in"), "schools"
    else:
        from equiserve.datasets.demo.scale import write_scaled_demo_inputs

        cfg, layer = write_scaled_demo_inputs(tmp / "in", args.scale), "primary_schools"
    study = Study.load(cfg)
    result = study.coverage()
    equity = study.equity(result)
    regions, (gaps,), (facs,) = (result.regions_overlay(), result.gap_overlays([layer]),
                                 result.facility_overlays([layer]))
    blocks = gaps.frame.assign(people=gaps.paint.values)  # the numbers behind the colours
    fac = facs.frame

    def explore() -> Path:
        m = regions.frame.explore(tiles=None, color="#555", style_kwds={"fillOpacity": 0.05})
        blocks.explore(m=m, column="people", cmap="Oranges",
                       tooltip=[f for f, _ in gaps.fields],
                       tooltip_kwds={"aliases": [a for _, a in gaps.fields]})
        fac.explore(m=m, color="red", tooltip=["name"])
        path = tmp / "explore.html"
        m.save(path)
        return path

    blocks.head(1).explore(tiles=None)  # warm up (imports, templates) before timing
    t0 = time.perf_counter()
    peer = explore()
    t_peer = time.perf_counter() - t0

    def one_layer() -> Path:
        path = tmp / "equiserve_one.html"
        save_map(build_map(list(study.layers), study.regions.group_names, study.regions.gdf,
                           [regions, gaps, facs], study.config.name), path)
        return path

    def all_layers() -> Path:
        path = tmp / "equiserve_all.html"
        save_map(study_map(study, result, equity, areas, basemap=None), path)
        return path

    t_one, one = timed(one_layer)
    areas = study.service_areas(result)
    t_all, full = timed(all_layers)

    # the same answer on both maps, read back from each file
    peer_layers = explore_features(peer.read_text(encoding="utf-8"))
    ours = {o["name"]: o for o in map_digest(one)["overlays"]}
    ours_props = _compact_props(one, gaps.name)
    assert len(peer_layers) == 3 and len(peer_layers[1]) == len(blocks) == ours[gaps.name][
        "features"], "the maps hold different blocks"
    assert len(peer_layers[2]) == len(fac) == ours[facs.name]["features"]
    assert sorted(p["unserved"] for p in peer_layers[1]) == sorted(
        p["unserved"] for p in ours_props), "the blocks' unserved people differ"
    cdn = len(re.findall(r'src="https?://', peer.read_text(encoding="utf-8")))
    assert not re.search(r'src="https?://', one.read_text(encoding="utf-8"))

    def mb(p: Path) -> float:
        return p.stat().st_size / 1e6

    cov = result.layers[layer]
    gap = ~cov.covered & (cov.weights > 0)
    print(f"{len(study.population):,} populated cells; layer {layer}: {gap.sum():,} gap cells "
          f"({cov.weights[gap].sum():,.0f} people beyond the standard) in {len(blocks):,} "
          f"blocks; {len(fac):,} facilities")
    print(f"{'map (same job: regions, gap blocks with tooltips, facilities)':64} "
          f"{'time (s)':>9} {'size (MB)':>10}")
    print(f"{'GeoPandas explore()':64} {t_peer:9.2f} {mb(peer):10.1f}")
    print(f"{'equiserve':64} {t_one:9.2f} {mb(one):10.1f}")
    print(f"ratio explore / equiserve: time {t_peer / t_one:.1f}x, size "
          f"{mb(peer) / mb(one):.1f}x; same blocks and facilities on both (checked); "
          f"explore() loads {cdn} scripts from CDNs, equiserve 0")
    print(f"{'equiserve full map (all layers, access, service areas; no peer)':64} "
          f"{t_all:9.2f} {mb(full):10.1f}")


def _compact_props(path: Path, name: str) -> list[dict]:
    """The decoded tooltip properties of overlay ``name`` of an equiserve map (the
    reference digest's reader of the compact format)."""
    html = path.read_text(encoding="utf-8")
    control = {json.loads(m.group(1)): m.group(2) for m in _CONTROL.finditer(html)}
    for m in _COMPACT.finditer(html):
        if m.group(1) == control[name]:
            return _compact_features(m.group(2), json.loads(m.group(3)))[0]
    raise KeyError(name)


if __name__ == "__main__":
    main()
