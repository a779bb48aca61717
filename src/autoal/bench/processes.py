"""Cells in worker processes that survive a worker's death: spawned workers with one torch
thread setting each, one cell per worker at a time, lost cells rerun alone."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from autoal.bench.grid import Cell
from autoal.bench.resume import error_path
from autoal.io import write_text_atomic

__all__ = ["WORKER_DEATHS_ALLOWED", "run_in_processes"]

_Job = tuple[Cell, Path]




def _init_worker(threads: int) -> None:
    from autoal.models import configure_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    configure_threads(threads)


#: How often a cell may lose its worker process (SIGKILL, out of memory) before it fails.
WORKER_DEATHS_ALLOWED = 2

_Outcome = tuple[str, str, str | None]
_Record = Callable[[_Outcome], None]
_Run = Callable[[_Job], _Outcome]


def run_in_processes(
    jobs: list[_Job], workers: int, threads: int, record: _Record, run: _Run
) -> None:
    """Run ``run(job)`` for ``jobs`` in ``workers`` spawned processes, at most one cell per
    worker at a time; ``record`` gets each result (``run`` never raises: see the runner).

    A worker that dies in a cell (SIGKILL, the kernel's out-of-memory killer) breaks the
    pool, and every cell then in flight is lost; no cell had started beyond those, since no
    more cells than workers are handed out. (A ``multiprocessing.Pool`` would wait forever
    for the dead worker's cell.) The lost cells are run again one at a time, where a death
    can only be the cell's own: a cell that loses its worker :data:`WORKER_DEATHS_ALLOWED`
    times alone is recorded as failed; the other cells go on.
    """
    pending = list(jobs)
    suspects: list[_Job] = []  # in flight when a pool broke: rerun alone
    deaths: dict[str, int] = {}
    while pending or suspects:
        alone = bool(suspects)
        batch = [suspects.pop(0)] if alone else pending
        lost, pending_after = _pool_pass(batch, 1 if alone else workers, threads, record, run)
        if not alone:
            pending = pending_after
        if len(lost) > 1:
            suspects += lost  # any of them may have died: find out alone
            continue
        for cell, out in lost:  # it ran alone: its worker died in it
            deaths[cell.name] = deaths.get(cell.name, 0) + 1
            if deaths[cell.name] < WORKER_DEATHS_ALLOWED:
                suspects.append((cell, out))
                continue
            line = (f"its worker process died {deaths[cell.name]} times (killed by a signal, "
                    "e.g. SIGKILL or out of memory)")
            write_text_atomic(error_path(out, cell), f"cell: {cell.name}\n\n{line}\n")
            record(("failed", cell.name, line))


def _pool_pass(
    jobs: list[_Job], workers: int, threads: int, record: _Record, run: _Run
) -> tuple[list[_Job], list[_Job]]:
    """Run ``jobs`` in a fresh pool until they are done or a worker dies.

    Returns the cells lost with the pool (in flight when it broke) and those not started.
    """
    queue = list(jobs)
    size = min(workers, len(queue))
    with _thread_env(threads):  # native thread pools read these when they load
        pool = ProcessPoolExecutor(size, mp_context=mp.get_context("spawn"),
                                   initializer=_init_worker, initargs=(threads,))
    in_flight: dict[Future[tuple[str, str, str | None]], _Job] = {}
    lost: list[_Job] = []
    try:
        while (queue or in_flight) and not lost:
            while queue and len(in_flight) < size:
                job = queue.pop(0)
                in_flight[pool.submit(run, job)] = job
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                job = in_flight.pop(future)
                try:
                    record(future.result())
                except BrokenProcessPool:
                    lost.append(job)
        if lost:  # the pool is broken: every cell still in flight is lost too
            lost += list(in_flight.values())
        pool.shutdown(wait=True)
    except BaseException:
        _terminate(pool)  # Ctrl-C / SIGTERM: stop the cells in flight
        raise
    return lost, queue


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers now (the executor has no public way before Python 3.14)."""
    processes = list(getattr(pool, "_processes", {}).values())
    for proc in processes:
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        proc.join()


_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@contextmanager
def _thread_env(threads: int) -> Iterator[None]:
    """Set the native thread-pool sizes that spawned workers inherit, then restore them."""
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: str(threads) for k in _THREAD_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
