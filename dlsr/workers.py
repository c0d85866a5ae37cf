"""Worker processes for batch jobs (`dlsr data synth`, `dlsr eval`): spawned, one numeric thread each."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The variables that size the thread pools of OpenMP (torch, scipy), OpenBLAS and MKL, and the threads of
`dlsr.nearest`'s search."""


MIN_TASKS_PER_WORKER = 16
"""`auto_workers` starts no more workers than this many tasks can keep busy: a spawned worker costs about a
second to start (imports, compiled-code cache), which a handful of samples would not pay back."""


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one, else all of them)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def auto_workers(tasks: int) -> int:
    """Worker processes for `tasks` independent tasks: one per CPU, fewer for a small batch, 1 (in-process) for
    fewer than 2 * MIN_TASKS_PER_WORKER."""
    return max(1, min(available_cpus(), tasks // MIN_TASKS_PER_WORKER))


@contextmanager
def one_thread_per_child() -> Iterator[None]:
    """Processes started inside the block run one OpenMP/BLAS thread each; this process's settings come back after.

    A pool of N workers on N cores is already full: a second thread in each only contends for the cores, and
    idle OpenBLAS/OpenMP threads spin for a while after every call, taking CPU time from the other workers
    (measured on `dlsr eval --workers 2`: 5.8 samples/s with this, 3.9 without). The variables must be set before
    a child starts, because numpy and torch read them when they are first imported, which a spawned worker does
    before any initializer of the pool runs. Pools that start processes lazily (`ProcessPoolExecutor`) must
    therefore be used entirely inside the block.
    """
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
