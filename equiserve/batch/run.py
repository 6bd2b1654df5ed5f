"""Run a batch of studies on Dask: a LocalCluster sized to the machine by default, or the
cluster of a scheduler address; one task per city, retried when its worker is lost.

    run_batch(cfg, out_dir, scheduler=None, resume=False) -> BatchResult

Large arrays stay on the workers: a city's task writes its own folder and returns small
tables (:class:`~equiserve.batch.task.CityOutcome`). The driver only gathers them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from pydantic import BaseModel

from equiserve._version import __version__
from equiserve.batch.jobs import CityJob, city_jobs
from equiserve.batch.result import BatchResult
from equiserve.batch.task import DISTRIBUTION_FILE, DONE_FILE, PARTS_FILE, CityOutcome, run_city
from equiserve.config import parse_config
from equiserve.config.batch import BatchConfig
from equiserve.errors import DataError, EquiserveError
from equiserve.io.atomic import check_output_dir
from equiserve.network.osm import file_hash

#: Called with (cities finished, cities in all, the cities running now).
BatchProgress = Callable[[int, int, list[str]], None]
#: Seconds to reach a scheduler before giving up.
CONNECT_TIMEOUT_S = 5


def _paths(value: Any) -> Iterator[Path]:
    """Every path in a validated configuration (its input files)."""
    if isinstance(value, Path):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _paths(getattr(value, name))
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _paths(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _paths(v)


def input_digest(job: CityJob) -> str:
    """A hash of a city's study (its tables as given) and of the content of every file it
    reads, with equiserve's version: the same digest means the same outputs."""
    h = hashlib.sha256(json.dumps(job.study, sort_keys=True, default=str).encode())
    h.update(__version__.encode())
    try:
        cfg = parse_config(job.study, base_dir=job.folder, origin=job.origin)
    except EquiserveError:
        return h.hexdigest()  # the city fails on its configuration: never "finished"
    for p in sorted(set(_paths(cfg))):
        h.update(str(p).encode())
        h.update(file_hash(p).encode() if p.is_file() else b"missing")
    return h.hexdigest()


def finished(folder: Path, digest: str) -> CityOutcome | None:
    """The outcome of a city finished before with the same inputs (``--resume``), from
    the small tables it left in its folder; None if it must run."""
    try:
        done = json.loads((folder / DONE_FILE).read_text(encoding="utf-8"))
        if done.get("inputs") != digest:
            return None
        name = str(done["city"])
        return CityOutcome(
            name, "skipped", population=float(done["population"]), cells=int(done["cells"]),
            outline=shapely.from_wkt(done["outline"]), worker="(finished before)",
            summary=pd.read_csv(folder / "summary.csv").assign(city=name),
            scorecard=pd.read_csv(folder / "equity.csv").assign(city=name),
            parts=pd.read_parquet(folder / PARTS_FILE),
            values=pd.read_parquet(folder / DISTRIBUTION_FILE),
            synthetic=bool(done.get("synthetic", False)))
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a LocalCluster of ``workers``
    single-threaded worker processes (default: one per core)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise DataError(f"cannot reach the Dask scheduler at {scheduler} within "
                            f"{CONNECT_TIMEOUT_S} s ({' '.join(str(exc).split())}); start it "
                            "(`dask scheduler`, then `dask worker <address>`) or run without "
                            "--scheduler on this machine") from None
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    threads = str(max(1, (os.cpu_count() or 1) // n))
    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off
    # glibc's adaptive mmap threshold: every large NumPy temporary is then a fresh mmap,
    # and the cities' array work ran 1.5-2x slower than in a plain report
    environ = {k: threads for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                    "OPENBLAS_NUM_THREADS")}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
            LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                         dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


def run_batch(cfg: BatchConfig, out_dir: str | os.PathLike[str],
              scheduler: str | None = None, resume: bool = False,
              progress: BatchProgress | None = None) -> BatchResult:
    """Run every city of ``cfg`` into ``out_dir/<city>/`` and gather the province view.

    Parameters
    ----------
    scheduler : str, optional
        A Dask scheduler's address (default: ``[batch] scheduler``, else a LocalCluster).
    resume : bool
        Skip cities whose folder holds a finished run of the same inputs.

    Raises
    ------
    ConfigError, DataError
        Bad batch input (a study that does not exist, a template key missing from the
        table, two cities of one name) or an unreachable scheduler, before any city runs.
        A city's own errors are its status, not an exception.
    """
    jobs = city_jobs(cfg)
    out = check_output_dir(out_dir)
    digests = {j.name: input_digest(j) for j in jobs}
    outcomes: dict[str, CityOutcome] = {}
    todo = []
    for j in jobs:
        before = finished(out / j.name, digests[j.name]) if resume else None
        if before is not None:
            outcomes[j.name] = before
        else:
            todo.append(j)
    report = progress or (lambda _done, _total, _running: None)
    report(len(outcomes), len(jobs), [])
    if todo:
        from distributed import as_completed

        with dask_client(scheduler or cfg.batch.scheduler, cfg.batch.workers) as client:
            futures = {client.submit(run_city, j, str(out), digests[j.name],
                                     key=f"city-{j.name}-{digests[j.name][:12]}",
                                     retries=cfg.batch.retries, pure=False): j.name
                       for j in todo}
            by_key = {f.key: name for f, name in futures.items()}

            def running() -> list[str]:  # the cities on a worker now
                keys = [k for ks in client.processing().values() for k in ks]
                return sorted(by_key[k] for k in keys if k in by_key)

            report(len(outcomes), len(jobs), running())
            for fut in as_completed(futures):
                name = futures[fut]
                try:
                    outcomes[name] = fut.result()
                except Exception as exc:  # the worker died (every retry), or the task's
                    outcomes[name] = CityOutcome(  # result could not come back
                        name, "failed", error=f"{type(exc).__name__}: "
                        f"{' '.join(str(exc).split())} (after {cfg.batch.retries} retries)")
                fut.release()  # gathered: a worker lost later must not run the city again
                report(len(outcomes), len(jobs), running())
    return BatchResult(cfg, [outcomes[j.name] for j in jobs])
