"""Worker pools: how many, and the thread settings their processes start with."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from dlsr.workers import (
    MIN_TASKS_PER_WORKER,
    THREAD_VARIABLES,
    auto_workers,
    map_in_workers,
    one_thread_per_child,
    torch_threads,
    worker_pool,
)


def child_settings() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}


def test_auto_workers_is_one_per_cpu_for_enough_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dlsr.workers.available_cpus", lambda: 4)
    assert auto_workers(0) == auto_workers(2 * MIN_TASKS_PER_WORKER - 1) == 1  # not worth starting a pool
    assert auto_workers(2 * MIN_TASKS_PER_WORKER) == 2
    assert auto_workers(10_000) == 4


def test_children_start_with_one_thread_and_the_parent_gets_its_settings_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with one_thread_per_child(), multiprocessing.get_context("spawn").Pool(1) as pool:
        seen = pool.apply(child_settings)
    assert seen == dict.fromkeys(THREAD_VARIABLES, "1")
    assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ


def square_and_settings(value: int) -> tuple[int, dict[str, str | None]]:
    return value * value, child_settings()


@pytest.mark.parametrize("ordered", [True, False])
def test_map_in_workers_runs_every_item_in_one_thread_children(ordered: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    results = list(map_in_workers(square_and_settings, range(20), 2, ordered=ordered))
    squares = [square for square, _ in results]
    assert squares == [i * i for i in range(20)] if ordered else sorted(squares) == [i * i for i in range(20)]
    assert all(settings == dict.fromkeys(THREAD_VARIABLES, "1") for _, settings in results)
    assert os.environ["OMP_NUM_THREADS"] == "7"


def test_an_interrupted_pool_is_wholly_stopped_when_the_block_is_left() -> None:
    """Workers and the pool's manager thread are gone as the interrupt leaves `worker_pool`: nothing of the pool
    is left for Python's exit hooks, which on some versions print a traceback after our one-line message when
    they meet a manager thread still closing its pipe."""
    with pytest.raises(KeyboardInterrupt), worker_pool(2) as pool:
        for _ in range(4):
            pool.submit(time.sleep, 30)  # the pool starts its workers and manager thread on the first submit
        processes = list(pool._processes.values())  # type: ignore[attr-defined]
        manager = pool._executor_manager_thread  # type: ignore[attr-defined]
        raise KeyboardInterrupt
    assert processes and not any(process.is_alive() for process in processes)
    assert manager is not None and not manager.is_alive()


def test_map_in_workers_runs_in_this_process_for_one_worker() -> None:
    assert [pid for _, pid in map_in_workers(lambda i: (i, os.getpid()), range(3), 1, ordered=True)] == [
        os.getpid()
    ] * 3


def test_torch_threads_restores_the_setting_even_on_error() -> None:
    import torch

    before = torch.get_num_threads()
    wanted = 1 if before != 1 else 2
    with torch_threads(wanted):
        assert torch.get_num_threads() == wanted
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"), torch_threads(wanted):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
