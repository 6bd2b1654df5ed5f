"""The quick benchmark modes still run (their comparisons assert equal results inside)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize("args", [["bench_catchment.py", "--quick"],
                                  ["bench_siting.py", "--quick", "--no-spopt"],
                                  ["bench_map.py", "--quick"],
                                  ["bench_attach.py", "--quick"],
                                  ["bench_report.py", "--quick"],
                                  ["bench_plain.py", "--quick"],
                                  ["bench_gpkg.py", "--quick"],
                                  ["bench_batch.py", "--quick"]])
def test_quick_benchmark_runs(args):
    # this tree's package, not another one installed (a worktree beside the checkout)
    path = os.pathsep.join([str(BENCH.parent), *filter(None, [os.environ.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, str(BENCH / args[0]), *args[1:]],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": path})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
