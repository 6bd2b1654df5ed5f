"""The interactive map: equiserve's map.html against GeoPandas ``.explore()`` on the same gaps.

The peers stop at ``GeoDataFrame.explore()`` (folium). Drawn on the bundled demo city
(90,522 populated 100 m cells), one layer (primary schools, 500 m walk): the people beyond
the standard cell by cell with ``explore()`` (the gap cells and the schools), against
equiserve's map (``outputs.maps``) for the same layer (gaps in 1 km blocks, schools, regions,
legend, Leaflet inlined). Then equiserve's full map of all six layers with service areas
and access. Times are ``time.perf_counter`` seconds (best of 3 for equiserve, 1 for
explore, after a warm-up call); sizes are the saved HTML in MB. Each ``explore()`` map
still loads Leaflet from CDNs (it does not open offline); equiserve's maps need nothing.
Nothing is asserted about time; the unserved people drawn are checked to be the same on
both maps.

Usage::

    python benchmarks/bench_map.py           # the demo city
    python benchmarks/bench_map.py --quick   # the tiny test study
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
import warnings
from pathlib import Path

from _timing import timed  # benchmarks/_timing.py

from equiserve.errors import DataQualityWarning
from equiserve.outputs.maps import build_map, save_map, study_map
from equiserve.study import Study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the tiny study instead of the demo")
    args = ap.parse_args()
    warnings.simplefilter("ignore", DataQualityWarning)
    tmp = Path(tempfile.mkdtemp())
    if args.quick:
        from equiserve.testing import write_tiny_study

        cfg, layer = write_tiny_study(tmp / "in"), "schools"
    else:
        from equiserve.datasets.demo import write_demo_inputs

        cfg, layer = write_demo_inputs(tmp / "in"), "primary_schools"
    study = Study.load(cfg)
    result = study.coverage()
    equity = study.equity(result)
    cov = result.layers[layer]

    # the peer: every gap cell of the layer, coloured by its unserved people, + facilities
    cells = result.cells_frame()
    gap = ~cov.covered & (cov.weights > 0)
    gaps = cells.loc[gap, ["region", "geometry"]].assign(unserved=cov.weights[gap].round(1))
    fac = study.layers[layer].facilities[["facility_id", "name", "geometry"]]

    def explore() -> Path:
        m = gaps.explore(column="unserved", tiles=None, cmap="Oranges")
        fac.explore(m=m, color="red")
        path = tmp / "explore.html"
        m.save(path)
        return path

    gaps.head(1).explore(tiles=None)  # warm up (imports, templates) before timing
    t0 = time.perf_counter()
    peer = explore()
    t_peer = time.perf_counter() - t0

    def one_layer() -> Path:
        path = tmp / "equiserve_one.html"
        overlays = [result.regions_overlay(), *result.gap_overlays([layer]),
                    *result.facility_overlays([layer])]
        save_map(build_map(list(study.layers), study.regions.group_names, study.regions.gdf,
                           overlays, study.config.name), path)
        return path

    def all_layers() -> Path:
        path = tmp / "equiserve_all.html"
        save_map(study_map(study, result, equity, areas, basemap=None), path)
        return path

    t_one, one = timed(one_layer)
    areas = study.service_areas(result)
    t_all, full = timed(all_layers)

    # same people drawn: the blocks sum the gap cells
    blocks = result.gap_blocks(layer)
    assert abs(blocks["unserved"].sum() - gaps["unserved"].sum()) <= len(blocks) + len(gaps) * 0.05
    cdn = len(re.findall(r'src="https?://', peer.read_text(encoding="utf-8")))
    assert not re.search(r'src="https?://', one.read_text(encoding="utf-8"))

    def mb(p: Path) -> float:
        return p.stat().st_size / 1e6

    print(f"{len(study.population):,} populated cells; layer {layer}: {gap.sum():,} gap cells "
          f"({cov.weights[gap].sum():,.0f} people beyond the standard), {len(fac):,} "
          "facilities")
    print(f"{'map':54} {'time (s)':>9} {'size (MB)':>10} {'features':>9}")
    print(f"{'GeoPandas explore(): gap cells + facilities':54} {t_peer:9.2f} {mb(peer):10.1f} "
          f"{len(gaps) + len(fac):9,}")
    print(f"{'equiserve map, same layer (1 km blocks)':54} {t_one:9.2f} "
          f"{mb(one):10.1f} {len(blocks) + len(fac):9,}")
    print(f"{'equiserve map, all layers + areas + access':54} {t_all:9.2f} "
          f"{mb(full):10.1f}")
    print(f"ratio explore / equiserve (same layer): time {t_peer / t_one:.1f}x, size "
          f"{mb(peer) / mb(one):.1f}x; explore() loads {cdn} scripts from CDNs, equiserve 0")


if __name__ == "__main__":
    main()
