"""timings.csv: every command writes where its time and memory went, stage by stage."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from equiserve.cli import app
from equiserve.timings import Timings


def test_a_report_writes_its_stage_timings(tiny_study, tmp_path):
    out = tmp_path / "out"
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["report", str(tiny_study), "--out", str(out),
                                      "--offline"])
    wall = time.perf_counter() - t0
    assert result.exit_code == 0, result.output
    t = pd.read_csv(out / "timings.csv")
    assert list(t.columns) == ["stage", "seconds", "peak_rss_mb"]
    stages = t["stage"].tolist()
    for stage in ("regions", "population", "facilities: schools", "coverage: schools",
                  "equity scorecard", "service areas", "writing tables", "writing map.html"):
        assert stage in stages
    assert stages[-1] == "writing map.html"  # the writing is in it
    assert (t["seconds"] >= 0).all() and 0 < t["seconds"].sum() <= wall
    assert (t["peak_rss_mb"] > 10).all()
    assert "timings.csv" in result.output  # listed with the outputs


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="Linux only")
def test_the_peak_is_per_stage():
    """A stage that holds 400 MB for a moment peaks 400 MB above the next, which allocates
    nothing; and nothing is reset, so the process's own peak (getrusage) is intact."""
    import resource

    t = Timings()
    t.step("big")
    block = np.ones(50_000_000)  # 400 MB
    time.sleep(0.1)
    del block
    t.step("small")
    time.sleep(0.05)
    t.close()
    big, small = t.frame()["peak_rss_mb"]
    assert big - small > 300
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 >= big - 1
    assert t._sampler is None  # the sampling thread ends with the stage
