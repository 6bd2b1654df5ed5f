"""`equiserve batch` on demo cities: 1 and 2 local Dask workers against plain reports.

Writes ``--cities`` demo cities (default 8, different seeds, ``write_demo_batch``), then, with
one network cache folder of this run's own:

1. ``equiserve report`` on each city, one after the other, each in a fresh process, as a
   planner would run them by hand (the first pass also fills the network cache; a second
   pass is timed);
2. ``equiserve batch`` with ``workers = 1`` (a LocalCluster of one worker process);
3. ``equiserve batch`` with ``workers = 2``.

It prints the wall time of each, the speed-up of 2 workers over 1 (expect about 2x on 2
cores), and the batch machinery's overhead per city: the 1-worker batch's wall time over
the plain reports' summed wall time, minus 1 (target: under 5 %); and, to separate the
interpreter start-up every plain report pays, the cities' own seconds inside the batch
(batch_status.csv) against the plain reports' own (their timings.csv). Nothing is
asserted; run it on an idle machine.

Usage::

    python benchmarks/bench_batch.py              # 8 cities
    python benchmarks/bench_batch.py --quick      # 1 city, no warm-up (a smoke test)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the checkout this file sits in

from equiserve.datasets.demo.batch import write_demo_batch  # noqa: E402

TARGET_OVERHEAD = 0.05


def _run(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "equiserve", *args], env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"equiserve {' '.join(args)} failed: {r.stderr[-2000:]}")
    return time.perf_counter() - t0


def _batch_file(src: Path, workers: int) -> Path:
    text = src.read_text(encoding="utf-8")
    out = src.with_name(f"batch_{workers}w.toml")
    out.write_text(text.replace("[batch]\n", f"[batch]\nworkers = {workers}\n", 1),
                   encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cities", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1 city, no warm-up")
    args = parser.parse_args()
    n = 1 if args.quick else args.cities
    with tempfile.TemporaryDirectory(prefix="equiserve-bench-batch-") as tmp:
        root = Path(tmp)
        batch = write_demo_batch(root / "inputs", n)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "EQUISERVE_CACHE_DIR": str(root / "c")}
        studies = sorted((root / "inputs").glob("city_*/study.toml"),
                         key=lambda p: int(p.parent.name.split("_")[1]))
        for s in studies if not args.quick else ():  # fills the network cache, untimed
            _run(["report", str(s), "--out", str(root / "warm" / s.parent.name),
                  "--offline"], env)
        plain, own = [], []
        for s in studies:
            out = root / "plain" / s.parent.name
            plain.append(_run(["report", str(s), "--out", str(out), "--offline"], env))
            own.append(float(pd.read_csv(out / "timings.csv")["seconds"].sum()))
        walls, status = {}, {}
        for workers in (1, 2):
            out = root / f"batch{workers}"
            walls[workers] = _run(["batch", str(_batch_file(batch, workers)), "--out",
                                   str(out), "--offline"], env)
            status[workers] = pd.read_csv(out / "batch_status.csv")
    total = sum(plain)
    print(f"{n} demo cities, {os.cpu_count()} cores")
    print(f"  plain reports, one after another: {total:7.1f} s "
          f"({total / n:.1f} s a city; {sum(own) / n:.1f} s of it inside equiserve)")
    for workers, wall in walls.items():
        inside = status[workers]["seconds"].sum()
        print(f"  batch, {workers} worker(s):           {wall:7.1f} s "
              f"(cities' own seconds {inside / n:.1f} s a city; workers used "
              f"{status[workers]['worker'].nunique()})")
    speedup = walls[1] / walls[2]
    overhead = walls[1] / total - 1
    inside = status[1]["seconds"].sum() / sum(own) - 1
    print(f"  speed-up of 2 workers over 1: {speedup:.2f}x")
    print(f"  overhead of the batch (1 worker) over plain reports: {100 * overhead:+.1f} % "
          f"of wall time ({'PASS' if overhead < TARGET_OVERHEAD else 'FAIL'}: target "
          f"< {100 * TARGET_OVERHEAD:.0f} %); inside the cities: {100 * inside:+.1f} %")


if __name__ == "__main__":
    main()
