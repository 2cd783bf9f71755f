"""Worker processes of ``augment run``, started cheaply.

A spawned worker is a fresh interpreter that imports NumPy, SciPy, scikit-learn (through
:class:`augment.base.BaseTransform`), h5py and every transform before it can work: 1.5-3 s
each, on every run. Where the platform has it (Linux, macOS) the workers are instead forked
from a *fork server* (``multiprocessing``'s ``forkserver`` start method) that has imported
those modules once (:data:`PRELOAD`), so each worker is ready in milliseconds. The server is a
single-threaded process of its own (not a fork of this one, whose threads could hold locks),
started by :func:`start_server` — the command line calls it first thing, so the server's
imports overlap with this process's own. Elsewhere (Windows) the workers are spawned.

The workers receive the :class:`~augment.output.shard.ShardJob` once (pool initializer), then
only shard numbers and record lists; each writes its own shard files, so no signal ever
crosses a process boundary.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import time

#: Modules the fork server imports before it forks any worker: everything a pipeline and
#: a shard need (an unimportable one is skipped by ``multiprocessing``).
PRELOAD = ("numpy", "scipy.signal", "scipy.fft", "h5py", "yaml", "sklearn.base",
           "augment.serialization", "augment.transforms.spatial",
           "augment.transforms.anatomical", "augment.transforms.noise",
           "augment.transforms.device", "augment.datasets", "augment.output.shard",
           "augment.output.pool")

#: Environment that keeps BLAS/OpenMP single-threaded in the fork server (forking a
#: process with live threads can deadlock the child); the workers already fill the cores.
_ONE_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_JOB = None  # the worker process's ShardJob (set once by the pool initializer)
_READY_AT = None  # time.time() when this worker was ready to work


def start_method() -> str:
    """``"forkserver"`` where the platform has it, else ``"spawn"``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"


@contextlib.contextmanager
def _single_threaded_env():
    saved = {k: os.environ.get(k) for k in _ONE_THREAD_ENV}
    os.environ.update({k: "1" for k in _ONE_THREAD_ENV})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_server():
    """Start the fork server now, if there is one and it is not running yet.

    Returns at once: the server imports :data:`PRELOAD` in its own process while the caller
    goes on (loading the pipeline, indexing the dataset). Calling it again is harmless.
    """
    if start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(list(PRELOAD))  # no effect once the server runs
    with _single_threaded_env():
        forkserver.ensure_running()


def make_pool(job, workers):
    """A process pool of ``workers`` processes that each hold ``job``."""
    start_server()
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(start_method()),
        initializer=_init_worker, initargs=(job,))


def _init_worker(job):
    global _JOB, _READY_AT
    _JOB = job
    try:  # one BLAS thread per worker: the workers already fill the cores
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    _READY_AT = time.time()


def work(shard, infos):
    """Run one shard in a worker.

    Returns ``(shard, (n_records_done, skipped), cpu_s, ready_at)``: the CPU seconds of each
    stage for this shard, and the wall-clock time at which this worker became ready.
    """
    before = dict(_JOB.cpu_s)
    result = _JOB.run_shard(shard, infos)
    cpu_s = {k: v - before[k] for k, v in _JOB.cpu_s.items()}
    return shard, result, cpu_s, _READY_AT
