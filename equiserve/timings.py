"""Where a run's time and memory go: seconds and peak memory per stage (timings.csv).

A :class:`Timings` is told when each stage starts (the progress bar's steps: "population",
"network: walk", "service areas", "writing map.html"...); a stage ends when the next
starts. Peak memory is the resident set's high-water mark during the stage: on Linux it is
reset at each stage's start (``/proc/self/clear_refs``), elsewhere it is the process's
peak so far (``getrusage``).

>>> t = Timings()
>>> t.step("loading"); t.step("computing"); t.close()
>>> list(t.frame().columns), list(t.frame()["stage"])
(['stage', 'seconds', 'peak_rss_mb'], ['loading', 'computing'])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: The file every command writes its timings to, in the output folder.
TIMINGS_FILE = "timings.csv"

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _reset_peak() -> None:
    try:
        _CLEAR_REFS.write_text("5")  # resets VmHWM, the peak resident set (Linux >= 4.0)
    except OSError:
        pass


def _peak_mb() -> float:
    """The resident set's high-water mark (MB): since the last reset on Linux, else the
    process's peak."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes or KB
    except (ImportError, OSError):
        return float("nan")


@dataclass
class Timings:
    """The stages of a run with their seconds and peak memory (MB)."""

    rows: list[tuple[str, float, float]] = field(default_factory=list)
    _stage: str | None = None
    _start: float = 0.0

    def step(self, stage: str) -> None:
        """End the current stage (if any) and start ``stage``."""
        self.close()
        self._stage, self._start = stage, time.perf_counter()
        _reset_peak()

    def close(self) -> None:
        """End the current stage."""
        if self._stage is not None:
            self.rows.append((self._stage, time.perf_counter() - self._start, _peak_mb()))
            self._stage = None

    def frame(self) -> pd.DataFrame:
        """stage, seconds, peak_rss_mb: one row per stage, in order (the current one too,
        up to now)."""
        import pandas as pd  # here: the command line starts without it

        rows = list(self.rows)
        if self._stage is not None:
            rows.append((self._stage, time.perf_counter() - self._start, _peak_mb()))
        return pd.DataFrame(rows, columns=["stage", "seconds", "peak_rss_mb"])
