"""Many studies as one job on Dask (``equiserve batch``): :mod:`.task` runs one city on a
worker, :mod:`.run` the batch (LocalCluster or a scheduler's cluster, retries, resume),
:mod:`.result` the province view (:class:`BatchResult`). The batch file is
:mod:`equiserve.config.batch`."""

from equiserve.batch.result import BatchResult
from equiserve.batch.run import run_batch
from equiserve.config.batch import BatchConfig, load_batch

__all__ = ["BatchConfig", "BatchResult", "load_batch", "run_batch"]
