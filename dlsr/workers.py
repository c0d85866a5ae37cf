"""Worker processes and thread counts: batch jobs (`dlsr data synth`, `dlsr eval`, training's image cache) run in
spawned workers, one numeric thread each, and `map_in_workers` is the one way the package runs a function over many
items; `torch_threads` is the one way a block runs with another torch thread count."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

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


def process_rank() -> int:
    """This process's rank in a `torchrun` job (its RANK variable); 0 outside one. Rank 0 reports for the job."""
    return int(os.environ.get("RANK", "0"))


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


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with `threads` torch intra-op threads; the previous setting comes back after, even on error."""
    import torch  # here, not at the top: `import dlsr.workers` stays free of torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


PARENT_POLL_SECONDS = 0.5
"""How often a worker checks that its parent is alive (it exits within this time of the parent's death)."""


class _SpawnProcess(multiprocessing.context.SpawnProcess):
    """A spawned process that starts with Ctrl-C blocked, until `_worker_setup` ignores it.

    A terminal's Ctrl-C reaches every process of the foreground group. A worker interrupted inside the pool's
    queues can leave a lock or semaphore held, and the parent's shutdown then waits for it forever (measured: 2 of
    14 interrupts hung). The parent alone decides what an interrupt means and stops its workers; a blocked signal
    mask survives fork and exec, so the worker is covered from its first instruction, imports included.
    """

    def start(self) -> None:
        if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups to share a Ctrl-C with
            super().start()
            return
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnProcess


def _worker_setup(parent: int) -> None:
    """Pool initializer: ignore Ctrl-C (see `_SpawnProcess`) and exit when the parent process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def watch() -> None:
        # A parent killed with SIGKILL cannot stop its workers: orphans would keep their memory, and the
        # resource tracker that shares their pipe, alive. An orphan's parent id changes (to init or a subreaper).
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="dlsr-parent-watch", daemon=True).start()


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` spawned processes, one numeric thread each (`one_thread_per_child`), that die with
    this process: they ignore Ctrl-C and exit when it is killed; leaving the block by an exception (an interrupt
    included) terminates them at once instead of waiting for their tasks.

    spawn, not fork: the parent holds torch's threads, which a fork would copy in an undefined state.
    """
    with one_thread_per_child():
        pool = ProcessPoolExecutor(workers, mp_context=_SpawnContext(), initializer=_worker_setup,
                                   initargs=(os.getpid(),))  # fmt: skip
        try:
            yield pool
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the workers now and drop the queued tasks (no waiting on a worker that may never answer)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # Python 3.14 has terminate_workers()
    manager = getattr(pool, "_executor_manager_thread", None)
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=2)
    # The pool's manager thread closes its wake-up pipe as it ends. Before CPython fixed gh-125451 the exit hook
    # of concurrent.futures could write to that pipe while it closed, printing an "Exception ignored ... Bad file
    # descriptor" traceback after our one-line "interrupted"; with the workers gone the thread ends at once.
    if manager is not None and manager.is_alive():
        manager.join(timeout=2)


IN_FLIGHT_PER_WORKER = 4
"""Tasks queued per worker at a time: enough to keep every worker busy, few enough that memory stays flat."""


def map_in_workers(
    function: Callable[[Item], Result], items: Iterable[Item], workers: int, *, ordered: bool = False
) -> Generator[Result, None, None]:
    """`function` over `items`: in this process for `workers` <= 1, else in a `worker_pool` of `workers`.

    At most IN_FLIGHT_PER_WORKER tasks per worker are queued at a time, so a long run holds few results in memory.
    `function` and the items must pickle (a module-level function or class instance). Closing the iterator early
    (or an exception in the caller, an interrupt included) stops the workers at once.

    Args:
        function: the task.
        items: its inputs, consumed lazily.
        workers: worker processes.
        ordered: results in the order of `items`; otherwise as they finish (a slow item holds up nothing).

    Returns:
        A generator of the results (close it to stop the workers early).
    """
    if workers <= 1:
        yield from map(function, items)
        return
    window = IN_FLIGHT_PER_WORKER * workers
    with worker_pool(workers) as pool:
        if ordered:
            queue: deque[Future[Result]] = deque()
            for item in items:
                queue.append(pool.submit(function, item))
                if len(queue) >= window:
                    yield queue.popleft().result()
            while queue:
                yield queue.popleft().result()
            return
        pending: set[Future[Result]] = set()
        for item in items:
            pending.add(pool.submit(function, item))
            if len(pending) >= window:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in finished)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in finished)
