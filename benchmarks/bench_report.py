"""`equiserve report` at city scale: the demo tiled 1, 2, 4 and 8 times, stage by stage.

For each scale the demo inputs are written once (``write_scaled_demo_inputs``), one report
warms the network cache (a cache folder of this run's own, not counted), then ``--repeat``
reports (default 3) run, each in a fresh process, as a planner runs them::

    python -m equiserve report inputs/study.toml --out OUT --offline

Per scale it prints the median of the runs for every stage of ``timings.csv`` (seconds and
peak RSS, which every run writes), the wall time of the whole process and its peak RSS
(``ru_maxrss`` of the child, from ``os.wait4``), and whether writing the outputs took no
longer than analysing (PASS/FAIL: the stages named ``writing ...`` against all others).
At the largest scale it checks the targets of issue 16: at most 30 s and 2.5 GB.

``--baseline REF`` runs the same inputs with another commit of this repository (a detached
git worktree in a temporary folder, imported first on ``PYTHONPATH``), ``--baseline-repeat``
times (default 1: the old code took minutes at 8x), and prints both side by side with the
ratio. Nothing is asserted; timings are noisy on a shared machine: run it on an idle one.

Usage::

    python benchmarks/bench_report.py                       # 1 2 4 8, median of 3
    python benchmarks/bench_report.py --scales 1 8 --baseline 1340562
    python benchmarks/bench_report.py --quick               # scale 1, one run (a smoke test)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the checkout this file sits in

from equiserve.datasets.demo.scale import write_scaled_demo_inputs  # noqa: E402

TARGET_S, TARGET_MB = 30.0, 2.5 * 1024


def run_report(study: Path, out: Path, cache: Path, code: Path) -> tuple[float, float,
                                                                          pd.DataFrame | None]:
    """One report in a fresh process with ``code`` first on the path: wall seconds, peak
    RSS (MB) and its timings.csv (None if that code writes none)."""
    env = {**os.environ, "PYTHONPATH": str(code), "EQUISERVE_CACHE_DIR": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "equiserve", "report", str(study),
                             "--out", str(out), "--offline"], env=env, cwd=code,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"report failed ({code}, {study}):\n{err.decode()[-3000:]}")
    timings = out / "timings.csv"
    return wall, usage.ru_maxrss / 1024, pd.read_csv(timings) if timings.is_file() else None


def runs(study: Path, work: Path, code: Path, repeat: int, tag: str) -> dict:
    """A warm-up report, then ``repeat`` timed ones: medians of the wall time, the peak and
    every stage."""
    cache = work / f"cache-{tag}"
    run_report(study, work / f"warm-{tag}", cache, code)
    walls, peaks, stages = [], [], []
    for i in range(repeat):
        wall, peak, timings = run_report(study, work / f"out-{tag}-{i}", cache, code)
        walls.append(wall)
        peaks.append(peak)
        if timings is not None:
            stages.append(timings.set_index("stage"))
    out = {"wall": statistics.median(walls), "peak": statistics.median(peaks),
           "walls": walls, "stages": None}
    if stages:
        both = pd.concat(stages, keys=range(len(stages)))
        out["stages"] = both.groupby(level="stage", sort=False).median()
    return out


def split(stages: pd.DataFrame) -> tuple[float, float]:
    """Seconds analysing (every stage but the writing ones) and writing."""
    writing = stages.index.str.startswith("writing")
    return float(stages["seconds"][~writing].sum()), float(stages["seconds"][writing].sum())


def print_stages(scale: int, r: dict) -> bool | None:
    """The stage table of one scale; whether writing took no longer than analysing."""
    print(f"\n{scale}x: median of {len(r['walls'])} runs: {r['wall']:.1f} s wall "
          f"(runs: {', '.join(f'{w:.1f}' for w in r['walls'])}), peak RSS {r['peak']:,.0f} MB")
    stages = r["stages"]
    if stages is None:
        print("    (this code writes no timings.csv)")
        return None
    for stage, row in stages.iterrows():
        print(f"    {stage:<34} {row['seconds']:8.2f} s  {row['peak_rss_mb']:8,.0f} MB")
    analysing, writing = split(stages)
    ok = writing <= analysing
    print(f"    analysing {analysing:.1f} s, writing {writing:.1f} s: writing <= analysing "
          f"{'PASS' if ok else 'FAIL'}")
    return ok


def baseline_code(ref: str, work: Path) -> Path:
    """A detached worktree of ``ref`` of this repository."""
    path = work / f"baseline-{ref}"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force",
                    str(path), ref], check=True, capture_output=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", metavar="REF", help="also run this commit (e.g. 1340562)")
    ap.add_argument("--baseline-repeat", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="scale 1, one run")
    ap.add_argument("--work", type=Path, help="folder for inputs and outputs "
                                              "(default: a temporary one)")
    args = ap.parse_args()
    if args.quick:
        args.scales, args.repeat = [1], 1
    print(f"equiserve report benchmark: scales {args.scales}, median of {args.repeat}; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        base = baseline_code(args.baseline, work) if args.baseline else None
        summary, passes = [], []
        try:
            for scale in args.scales:
                inputs = work / f"demo-{scale}x"
                study = write_scaled_demo_inputs(inputs, scale) if not (
                    inputs / "study.toml").is_file() else inputs / "study.toml"
                r = runs(study, work / f"run-{scale}x", ROOT, args.repeat, "new")
                passes.append(print_stages(scale, r))
                row = {"scale": scale, "wall_s": r["wall"], "peak_mb": r["peak"]}
                if r["stages"] is not None:
                    row["analysing_s"], row["writing_s"] = split(r["stages"])
                if base is not None:
                    b = runs(study, work / f"run-{scale}x", base, args.baseline_repeat, "old")
                    print(f"    baseline {args.baseline}: {b['wall']:.1f} s wall, peak "
                          f"{b['peak']:,.0f} MB -> {b['wall'] / r['wall']:.1f}x faster, "
                          f"{b['peak'] / r['peak']:.1f}x less memory")
                    row.update(baseline_s=b["wall"], baseline_mb=b["peak"])
                summary.append(row)
                print(flush=True)
        finally:
            if base is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(base)], capture_output=True)
    table = pd.DataFrame(summary).set_index("scale")
    print(table.round(1).to_string())
    print("\nwriting <= analysing at every scale: "
          + ("PASS" if all(p is not False for p in passes) else "FAIL"))
    top = table.iloc[-1]
    print(f"{table.index[-1]}x: {top['wall_s']:.1f} s (target <= {TARGET_S:.0f} s: "
          f"{'PASS' if top['wall_s'] <= TARGET_S else 'FAIL'}), peak {top['peak_mb']:,.0f} MB "
          f"(target <= {TARGET_MB:,.0f} MB: {'PASS' if top['peak_mb'] <= TARGET_MB else 'FAIL'})")


if __name__ == "__main__":
    main()
