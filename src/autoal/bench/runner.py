"""The grid runner: every (data set, regime, variant, seed) cell of a config, resumable.

Each cell runs :func:`~autoal.loop.runner.run_active_learning` and writes
``DIR/runs/<dataset>__<regime>__<variant>__<seed>.json`` atomically (the schema of
``autoal run`` plus a ``"bench"`` entry naming the cell). A cell whose file exists with the
same fingerprint (and, where the file records them, the same strategy parameters) is
skipped (:mod:`autoal.bench.resume`), so re-running the command resumes; a killed run
loses only the cells in flight.
A cell that raises leaves ``DIR/errors/<cell>.txt`` and the others go on.
Cells run in this process, in worker processes that write their own files
(:mod:`.processes`), or as Ray tasks whose records this process writes (:mod:`.ray_runner`);
one cell is :mod:`.cell`.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from autoal.bench.cell import error_text, run_cell
from autoal.bench.grid import BenchConfig, Cell
from autoal.bench.processes import run_in_processes
from autoal.bench.resume import error_path, pending_cells
from autoal.io import write_bytes_atomic, write_text_atomic

__all__ = ["BenchLockedError", "BenchResult", "default_workers", "run_bench", "run_cell"]


class BenchLockedError(RuntimeError):
    """Another ``autoal bench`` is running on the same output folder."""


@dataclass
class BenchResult:
    """What :func:`run_bench` did.

    Attributes
    ----------
    ran:
        Cells computed by this call.
    skipped:
        Cells already finished before this call.
    failed:
        Cells that raised: ``{cell: one-line error}``; details in ``DIR/errors/<cell>.txt``.
    seconds:
        Wall time of the call.
    """

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1




# ----------------------------------------------------------------------------- one cell
def _run_cell_safe(args: tuple[Cell, Path]) -> tuple[str, str, str | None]:
    """Run a cell; on an exception write ``errors/<cell>.txt`` and report it (no raise)."""
    cell, out = args
    try:
        run_cell(cell, out)
        return ("ok", cell.name, None)
    except Exception as err:  # a failed cell must not stop the grid
        write_text_atomic(error_path(out, cell), error_text(cell, traceback.format_exc()))
        line = f"{type(err).__name__}: {err}".splitlines()[0][:300]
        return ("failed", cell.name, line)


# ----------------------------------------------------------------------------- the grid
@contextmanager
def _lock(out: Path) -> Iterator[None]:
    out.mkdir(parents=True, exist_ok=True)
    fh = (out / ".bench.lock").open("a")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BenchLockedError(
                f"another autoal bench is running on {out} (lock {out / '.bench.lock'})"
            ) from None
        yield
    finally:
        fh.close()


def _clean_temp_files(out: Path) -> None:
    """Remove temporary files a killed writer left behind (we hold the folder's lock)."""
    for sub in ("runs", "errors"):
        for tmp in (out / sub).glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so that ``kill`` also stops the worker processes."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_bench(
    config: BenchConfig,
    out: str | Path,
    *,
    workers: int | None = None,
    threads: int | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
    config_text: bytes | None = None,
    ray: str | None = None,
) -> BenchResult:
    """Run every unfinished cell of ``config`` into ``out`` with ``workers`` processes, or as
    tasks on a Ray cluster.

    Parameters
    ----------
    config:
        A validated configuration (:func:`~autoal.bench.config.load_config`).
    out:
        Output folder; ``runs/`` and ``errors/`` are created in it.
    workers:
        Worker processes (default: the cores available). With more than one, each worker
        uses ``cores // workers`` torch threads (at least 1) and processes are started with
        the ``spawn`` method; with one, cells run in this process on every core. Not used
        with ``ray``.
    threads:
        Torch threads per worker, overriding ``cores // workers``. On a machine shared with
        other jobs, 1 thread per process can be many times faster than 2: torch's OpenMP
        threads wait on each other when a core is taken. With ``ray``: the CPUs (and torch
        threads) of each cell's task, default 1.
    progress:
        Show one progress bar over the cells, with an ETA.
    echo:
        Where to print one-line notes.
    config_text:
        The config file's bytes, copied to ``out/config.toml`` once the folder is locked.
    ray:
        Run the cells as Ray tasks (:mod:`autoal.bench.ray_runner`) on the cluster whose
        head is at this ``host:port``, or on a local cluster started here for ``"local"``
        (or the cluster this process is already connected to). The cluster is joined before
        ``out`` is touched: an address that cannot be reached raises
        :class:`~autoal.scale.ray_engine.RayUnreachableError` and writes nothing. A task
        that fails is retried only when its worker died.

    Returns
    -------
    BenchResult
        Cells run, skipped and failed. Interrupting (Ctrl-C, SIGTERM) stops the workers
        (cancels the Ray tasks) and raises KeyboardInterrupt; finished cells are kept.
    """
    from autoal.models import configure_threads

    out = Path(out)
    t_start = time.perf_counter()
    cores = default_workers()
    workers = cores if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    if ray is not None:
        from autoal.bench.ray_runner import connect_cluster

        threads = 1 if threads is None else int(threads)
        connect_cluster(ray, config.cells(), threads)  # before out/ is touched
    result = BenchResult()
    with _lock(out), _sigterm_as_interrupt():
        _clean_temp_files(out)
        todo, done = pending_cells(config, out)
        if config_text is not None:
            write_bytes_atomic(out / "config.toml", config_text)
        result.skipped = [c.name for c in done]
        total = len(todo) + len(done)
        if not todo:
            echo(f"all {total} cells are finished in {out / 'runs'}; nothing to run")
            result.seconds = time.perf_counter() - t_start
            return result
        workers = min(workers, len(todo))
        threads = max(1, cores // workers) if threads is None else int(threads)
        how = (f"as Ray tasks of {threads} CPU(s)" if ray is not None
               else f"with {workers} worker(s) x {threads} torch thread(s)")
        echo(f"{len(todo)} of {total} cells to run ({len(done)} finished) {how}")
        bar = tqdm(total=total, initial=len(done), desc="cells", unit="cell",
                   disable=not progress, dynamic_ncols=True, smoothing=0.0)

        def record(status: tuple[str, str, str | None]) -> None:
            state, name, error = status
            if state == "ok":
                result.ran.append(name)
            else:
                result.failed[name] = error or "failed"
                bar.write(f"cell {name} failed: {error}")
            bar.update(1)
            bar.set_postfix(failed=len(result.failed), refresh=False)

        jobs = [(cell, out) for cell in todo]
        try:
            if ray is not None:
                from autoal.bench.ray_runner import run_on_ray

                run_on_ray(todo, out, threads, record)
            elif workers == 1:
                configure_threads(threads)
                for job in jobs:
                    bar.set_postfix_str(job[0].name, refresh=True)
                    record(_run_cell_safe(job))
            else:
                run_in_processes(jobs, workers, threads, record, _run_cell_safe)
        finally:
            bar.close()
    result.seconds = time.perf_counter() - t_start
    return result
