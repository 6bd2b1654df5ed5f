"""coverage.gpkg and the GeoParquet files: the writer against GeoPandas ``to_file``.

The peer is what equiserve did before issue 16 and what a GeoPandas user writes: every
layer with ``GeoDataFrame.to_file(engine="pyogrio")``, the cells as polygons and the gaps
as a second layer of polygons. Against it, equiserve's writer (``outputs.tables``): cells
as points from their coordinates, gaps a view of the cells, every layer from Arrow; then
the same with ``--cells polygons``, and ``--format parquet``. Printed per method: seconds
(wall and CPU), the growth of peak memory over the resident set before writing (VmHWM,
Linux) and the size of the files. Each method runs in a fresh process of its own (the
study computed there: coverage, scorecard, dissolved service areas), so that memory one
method freed does not hide another's; then the gaps view and the peer's gaps layer are
checked to hold the same cells and people. Nothing is asserted about time.

Usage::

    python benchmarks/bench_gpkg.py /tmp/X8/inputs/study.toml   # e.g. the 8x demo's inputs
    python benchmarks/bench_gpkg.py --quick                      # the tiny test study
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio

from equiserve.errors import DataQualityWarning
from equiserve.outputs.tables import Files, write_gpkg, write_parquet
from equiserve.study import Study

_STATUS, _CLEAR = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def _hwm_mb() -> float:
    for line in _STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    for line in _STATUS.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measured(label: str, fn: Callable[[Path], None], folder: Path) -> None:
    folder.mkdir(parents=True)
    try:
        _CLEAR.write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        pass
    before = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    fn(folder)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    print(f"{label:44s} {seconds:6.2f} s ({cpu:5.2f} s CPU)  peak +{_hwm_mb() - before:5.0f} "
          f"MB over {before:5.0f} MB  {size:7.1f} MB  "
          f"({', '.join(sorted(p.name for p in folder.iterdir()))})", flush=True)


METHODS = {"peer": "GeoPandas to_file (polygons, gaps copied)",
           "points": "equiserve: points, gaps a view",
           "polygons": "equiserve: --cells polygons",
           "parquet": "equiserve: --format parquet"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", help="study.toml (default: the demo city)")
    ap.add_argument("--quick", action="store_true", help="the tiny study instead")
    ap.add_argument("--only", choices=list(METHODS), help="one method, in this process")
    ap.add_argument("--folder", type=Path, help="where --only writes")
    args = ap.parse_args()
    warnings.simplefilter("ignore", DataQualityWarning)
    if args.only is None:  # every method in a process of its own, then the check
        tmp = Path(tempfile.mkdtemp())
        for name in METHODS:
            extra = ["--quick"] if args.quick else [args.config] if args.config else []
            subprocess.run([sys.executable, __file__, *extra, "--only", name, "--folder",
                            str(tmp / name)], check=True)
        check(tmp)
        return
    tmp = Path(tempfile.mkdtemp())
    if args.quick:
        from equiserve.testing import write_tiny_study

        cfg: str | Path = write_tiny_study(tmp / "in")
    elif args.config:
        cfg = args.config
    else:
        from equiserve.datasets.demo import write_demo_inputs

        cfg = write_demo_inputs(tmp / "in")
    study = Study.load(cfg)
    cov = study.coverage()
    equity = study.equity(cov)
    areas = study.service_areas(cov)
    results = [cov, equity, areas]
    if args.only == "peer":
        print(f"{len(study.population):,} cells, {len(study.layers)} layers")

    def peer(folder: Path) -> None:
        path = folder / "coverage.gpkg"
        layers = {"cells": equity.cells_frame(), "facilities": cov.facilities_frame(),
                  "regions": cov.regions_frame(), "gaps": cov.gaps_frame(),
                  "service_areas_dissolved": areas.dissolved}
        for name, frame in layers.items():
            frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")

    def ours(polygons: bool, table_format: str) -> Callable[[Path], None]:
        def run(folder: Path) -> None:
            files = Files.of(results, table_format)  # type: ignore[arg-type]
            for name, layers in files.gpkg.items():
                write_gpkg(layers, folder / name, polygons)
            for name, t in files.parquet.items():
                write_parquet(t, folder / name, polygons)
        return run

    method = {"peer": peer, "points": ours(False, "gpkg"), "polygons": ours(True, "gpkg"),
              "parquet": ours(False, "parquet")}[args.only]
    measured(METHODS[args.only], method, args.folder)


def check(tmp: Path) -> None:
    """The gaps view holds the peer's gaps layer: the same cells, the same people."""
    a = pyogrio.read_dataframe(tmp / "peer" / "coverage.gpkg", layer="gaps",
                               read_geometry=False)
    b = pyogrio.read_dataframe(tmp / "points" / "coverage.gpkg", layer="gaps",
                               read_geometry=False)
    assert (a["cell_id"].to_numpy() == b["cell_id"].to_numpy()).all()
    for name in [c for c in a.columns if c.startswith("unserved_")]:
        np.testing.assert_array_equal(a[name], b[name])
    print(f"gaps: {len(b):,} cells, the same in the view as in the peer's layer")


if __name__ == "__main__":
    main()
