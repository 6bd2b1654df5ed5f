"""One city of a batch, as a Dask task runs it on a worker: load its study, run what
``equiserve report`` runs, write its output folder, and send back only small tables.

    run_city(job, out_root, digest) -> CityOutcome   (never raises for the city's own
                                                       errors: they are its status)
"""

from __future__ import annotations

import json
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from equiserve.analysis.inequality import theil_t
from equiserve.analysis.province import part_sums, rounded_distribution
from equiserve.batch.jobs import CityJob
from equiserve.config import parse_config
from equiserve.errors import DataQualityWarning, EquiserveError
from equiserve.outputs import write
from equiserve.results.coverage import CoverageResult
from equiserve.results.equity import EquityResult
from equiserve.runs import report_results
from equiserve.study import Study
from equiserve.timings import Timings

#: The file in a city's folder that says its run finished, and for which inputs.
DONE_FILE = "batch_city.json"
#: The small tables a finished city keeps beside its outputs (read again by --resume).
PARTS_FILE = "batch_parts.parquet"
DISTRIBUTION_FILE = "batch_values.parquet"


@dataclass
class CityOutcome:
    """What a city's task sends back: its status and the small tables of the province
    view (summary and scorecard rows, per group sums of each measure, value
    distributions), never its cells."""

    name: str
    status: str  # "done", "failed", "skipped" (finished before, inputs unchanged)
    seconds: float = 0.0
    peak_rss_mb: float = float("nan")
    worker: str = ""
    error: str = ""
    population: float = float("nan")
    cells: int = 0
    outline: shapely.Geometry | None = None
    synthetic: bool = False
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    scorecard: pd.DataFrame = field(default_factory=pd.DataFrame)
    parts: pd.DataFrame = field(default_factory=pd.DataFrame)
    values: pd.DataFrame = field(default_factory=pd.DataFrame)


#: glibc's mallopt parameters, and the thresholds it adapts up to by itself (64-bit).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _MMAP_MAX = -1, -3, 32 * 2**20


def large_allocations_reused() -> bool:
    """Undo a Dask nanny's ``MALLOC_TRIM_THRESHOLD_`` (set for every worker it starts): it
    fixes glibc's mmap threshold, so each large NumPy temporary is a fresh mmap and array
    work runs 1.5-2x slower. Set the thresholds to what glibc adapts to unasked. True if
    done (Linux with glibc and the variable set)."""
    if not os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)
                    and libc.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_MAX))
    except (OSError, AttributeError):
        return False


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, EquiserveError) else f"{type(exc).__name__}: {text}"


def measure_tables(study: Study, cov: CoverageResult, equity: EquityResult, city: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per layer and measure (as the scorecard's: covered, distance, access), the sums of
    each region group and of the whole city (``group`` None), and the value distribution
    rounded for the pooled Gini (:mod:`equiserve.analysis.province`)."""
    groups = np.asarray(study.regions.groups, dtype=object)[study.population.region]
    parts, values = [], []
    for name, lc in cov.layers.items():
        measures = {"covered": lc.covered * 1.0, "distance": lc.distance}
        if name in equity.access:
            measures["access"] = equity.access[name].score
        for measure, x in measures.items():
            p = part_sums(x, lc.weights, groups).reset_index(names="group")
            whole = {"group": None, "weight": np.nan, "total": np.nan,
                     "theil": theil_t(x, lc.weights)}
            p = pd.concat([p, pd.DataFrame([whole])], ignore_index=True)
            parts.append(p.assign(city=city, layer=name, measure=measure))
            v, w = rounded_distribution(x, lc.weights)
            values.append(pd.DataFrame({"city": city, "layer": name, "measure": measure,
                                        "value": v, "weight": w}))
    return (pd.concat(parts, ignore_index=True),
            pd.concat(values, ignore_index=True) if values else pd.DataFrame())


def run_city(job: CityJob, out_root: str, digest: str) -> CityOutcome:
    """Run one city into ``out_root/<name>/`` (the files of ``equiserve report``, and
    :data:`DONE_FILE` with ``digest``, the hash of its inputs, once all are written)."""
    t0 = time.perf_counter()
    large_allocations_reused()
    timings = Timings()
    worker = _worker_name()
    out = Path(out_root) / job.name
    try:
        with warnings.catch_warnings():  # the notes are in the city's data_quality.csv
            warnings.simplefilter("ignore", DataQualityWarning)
            return _run(job, out, digest, timings, worker, t0)
    except MemoryError:
        return CityOutcome(job.name, "failed", time.perf_counter() - t0, worker=worker,
                           error="out of memory (MemoryError): give the workers more memory "
                                 "or run the city alone")
    except Exception as exc:  # the city's own error is its status; the batch goes on
        if not isinstance(exc, EquiserveError):
            traceback.print_exc()  # the worker's log keeps the traceback
        return CityOutcome(job.name, "failed", time.perf_counter() - t0, worker=worker,
                           error=_one_line(exc))


def _run(job: CityJob, out: Path, digest: str, timings: Timings, worker: str,
         t0: float) -> CityOutcome:
    (out / DONE_FILE).unlink(missing_ok=True)  # finished again only when all is written
    cfg = parse_config(job.study, base_dir=job.folder, origin=job.origin)
    study = Study.load(cfg, timings.step)
    results = report_results(study, timings.step)
    write(study, *results, out_dir=out, progress=timings.step, timings=timings)
    cov, equity = results[0], results[1]
    parts, values = measure_tables(study, cov, equity, job.name)
    summary = cov.summary.assign(city=job.name)
    scorecard = equity.scorecard.assign(city=job.name)
    outline = gpd.GeoSeries([shapely.simplify(study.land, 50.0)], crs=study.crs).to_crs(
        4326).iloc[0]
    parts.to_parquet(out / PARTS_FILE)
    values.to_parquet(out / DISTRIBUTION_FILE)
    (out / DONE_FILE).write_text(json.dumps({
        "city": job.name, "inputs": digest, "worker": worker,
        "population": study.population.total,
        "cells": len(study.population), "outline": shapely.to_wkt(outline),
        "synthetic": cfg.synthetic}),
        encoding="utf-8")
    peak = float(timings.frame()["peak_rss_mb"].max())
    return CityOutcome(job.name, "done", time.perf_counter() - t0, peak, worker,
                       population=study.population.total, cells=len(study.population),
                       outline=outline, synthetic=cfg.synthetic, summary=summary,
                       scorecard=scorecard, parts=parts, values=values)
