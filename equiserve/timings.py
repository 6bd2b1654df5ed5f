"""Where a run's time and memory go: seconds and peak memory per stage (timings.csv).

A :class:`Timings` is told when each stage starts (the progress bar's steps: "population",
"network: walk", "service areas", "writing map.html"...); a stage ends when the next
starts. Peak memory is the largest resident set seen during the stage: on Linux a
background thread reads it (``/proc/self/statm``) every :data:`SAMPLE_S` seconds, so a
spike shorter than that can be missed; elsewhere it is the process's peak so far
(``getrusage``). Nothing is reset, so ``/usr/bin/time`` and other outside measurements of
the run stay true.

>>> t = Timings()
>>> t.step("loading"); t.step("computing"); t.close()
>>> list(t.frame().columns), list(t.frame()["stage"])
(['stage', 'seconds', 'peak_rss_mb'], ['loading', 'computing'])
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: The file every command writes its timings to, in the output folder.
TIMINGS_FILE = "timings.csv"
#: Seconds between two readings of the resident set.
SAMPLE_S = 0.02

_STATM = Path("/proc/self/statm")
_PAGE_MB = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) / 2**20


def _rss_mb() -> float | None:
    """The resident set now (MB), where the system tells it (Linux)."""
    try:
        return int(_STATM.read_text().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return None


def _peak_so_far_mb() -> float:
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
    _peak: float = 0.0
    _sampler: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def step(self, stage: str) -> None:
        """End the current stage (if any) and start ``stage``."""
        self.close()
        self._stage, self._start = stage, time.perf_counter()
        self._peak = _rss_mb() or 0.0
        if self._sampler is None and _rss_mb() is not None:
            self._stop.clear()
            self._sampler = threading.Thread(target=self._sample, daemon=True,
                                             name="equiserve-timings")
            self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            rss = _rss_mb()
            if rss is not None and rss > self._peak:
                self._peak = rss

    def _row(self) -> tuple[str, float, float]:
        assert self._stage is not None
        rss = _rss_mb()
        peak = max(self._peak, rss) if rss is not None else _peak_so_far_mb()
        return self._stage, time.perf_counter() - self._start, peak

    def close(self) -> None:
        """End the current stage (the sampler stops until the next one starts)."""
        if self._stage is not None:
            self.rows.append(self._row())
            self._stage = None
        if self._sampler is not None:
            self._stop.set()
            self._sampler.join()
            self._sampler = None

    def frame(self) -> pd.DataFrame:
        """stage, seconds, peak_rss_mb: one row per stage, in order (the current one too,
        up to now)."""
        import pandas as pd  # here: the command line starts without it

        rows = list(self.rows) + ([self._row()] if self._stage is not None else [])
        return pd.DataFrame(rows, columns=["stage", "seconds", "peak_rss_mb"])
