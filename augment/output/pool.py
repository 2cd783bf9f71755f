"""Worker processes of ``augment run``, started cheaply.

A spawned worker is a fresh interpreter that imports NumPy, SciPy, scikit-learn (through
:class:`augment.base.BaseTransform`), h5py and every transform before it can work: 1.5-3 s
each, on every run. Where the platform has it (Linux, macOS) the workers are instead forked
from a *fork server* (``multiprocessing``'s ``forkserver`` start method) that has imported
those modules once (:data:`PRELOAD`), so each worker is ready in milliseconds. The server is a
single-threaded process of its own (not a fork of this one, whose threads could hold locks),
started by :func:`start_server` — the command line calls it first thing, so the server's
imports overlap with this process's own. Each worker still gets this process's current
``sys.path`` and working directory; its environment variables are those of the moment the
server started. Elsewhere (Windows) the workers are spawned.

The workers receive the :class:`~augment.output.shard.ShardJob` once (pool initializer), then
only shard numbers and record lists; each writes its own shard files, so no signal ever
crosses a process boundary. While they start, this process (already set up) works on shards
of its own (:func:`run_parallel`): no core waits for the imports.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import time

from shirtecg_common.errors import UserError

#: Modules the fork server imports before it forks any worker: everything a pipeline and
#: a shard need (an unimportable one is skipped by ``multiprocessing``).
PRELOAD = ("numpy", "scipy.signal", "scipy.fft", "h5py", "yaml", "sklearn.base",
           "augment.serialization", "augment.transforms.spatial",
           "augment.transforms.anatomical", "augment.transforms.noise",
           "augment.transforms.device", "augment.datasets", "augment.output.shard",
           "augment.output.pool",
           "noise_profiles")  # fitted-noise pipelines carry a NoiseProfile (+30 ms here)

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


def make_pool(job, workers, ready=None):
    """A process pool of ``workers`` processes that each hold ``job``.

    ``ready``, a ``multiprocessing`` Event of the pool's start method, is set by the first
    worker that is ready.
    """
    start_server()
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(start_method()),
        initializer=_init_worker, initargs=(job, ready))


def run_parallel(job, plan, todo, workers, progress, out):
    """Run shards ``todo`` of ``plan`` on ``workers`` processes (and this one, at first).

    A few shards per worker are queued at a time; the others wait in ``pending``. Until a
    worker is ready, this process takes pending shards itself (from the end), so the cores do
    not idle while the workers import; the workers always get the queued shards. Returns
    ``(skipped, ready_at)``: skipped records, and when each worker result's worker was ready.
    The workers' CPU time per stage is added to ``job.cpu_s``.
    """
    n_workers = min(workers, len(todo))
    ready = multiprocessing.get_context(start_method()).Event()
    pending = list(todo)
    in_flight = {}
    skipped, ready_at = [], []
    with make_pool(job, n_workers, ready) as pool:
        try:
            while pending or in_flight:
                while pending and len(in_flight) < 2 * n_workers:
                    s = pending.pop(0)
                    in_flight[pool.submit(work, s, plan[s])] = s
                if pending and not ready.is_set():
                    s = pending.pop()
                    skipped.extend(job.run_shard(s, plan[s], progress=progress.update)[1])
                    continue
                done, _ = concurrent.futures.wait(
                    in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                for fut in done:
                    del in_flight[fut]
                    _, (n_done, sk), cpu_s, at = fut.result()
                    skipped.extend(sk)
                    for k, v in cpu_s.items():
                        job.cpu_s[k] += v
                    ready_at.append(at)
                    progress.update(n_done)
        except concurrent.futures.process.BrokenProcessPool:
            raise UserError(f"a worker process died (killed, or out of memory) while writing "
                            f"{out}; the shards it finished are kept - run the same command "
                            "again to resume, perhaps with fewer --workers") from None
        except BaseException:
            for f in in_flight:
                f.cancel()
            raise
    return skipped, ready_at


def _init_worker(job, ready=None):
    global _JOB, _READY_AT
    _JOB = job
    try:  # one BLAS thread per worker: the workers already fill the cores
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    _READY_AT = time.time()
    if ready is not None:
        ready.set()


def work(shard, infos):
    """Run one shard in a worker.

    Returns ``(shard, (n_records_done, skipped), cpu_s, ready_at)``: the CPU seconds of each
    stage for this shard, and the wall-clock time at which this worker became ready.
    """
    before = dict(_JOB.cpu_s)
    result = _JOB.run_shard(shard, infos)
    cpu_s = {k: v - before[k] for k, v in _JOB.cpu_s.items()}
    return shard, result, cpu_s, _READY_AT
