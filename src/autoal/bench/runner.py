"""The grid runner: every (data set, regime, variant, seed) cell of a config, resumable.

Each cell runs :func:`~autoal.loop.runner.run_active_learning` and writes
``DIR/runs/<dataset>__<regime>__<variant>__<seed>.json`` atomically (the schema of
``autoal run`` plus a ``"bench"`` entry naming the cell). A cell whose file exists with the
same fingerprint (and, where the file records them, the same strategy parameters) is
skipped, so re-running the command resumes; a killed run loses only the cells in flight.
A cell that raises leaves ``DIR/errors/<cell>.txt`` and the others go on.
"""

from __future__ import annotations

import fcntl
import inspect
import json
import multiprocessing as mp
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from autoal.bench.config import BenchConfig, Cell
from autoal.io import write_bytes_atomic, write_json_atomic, write_text_atomic

__all__ = [
    "BenchResult",
    "build_strategy",
    "BenchLockedError",
    "StaleResultsError",
    "cell_path",
    "default_workers",
    "estimate_seconds",
    "pending_cells",
    "run_bench",
    "run_cell",
    "strategy_parameters",
]


class BenchLockedError(RuntimeError):
    """Another ``autoal bench`` is running on the same output folder."""


class StaleResultsError(ValueError):
    """Run files in the output folder were made with different settings than the config's."""


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


def cell_path(out: Path, cell: Cell) -> Path:
    """``out/runs/<cell>.json``."""
    return Path(out) / "runs" / f"{cell.name}.json"


def _error_path(out: Path, cell: Cell) -> Path:
    return Path(out) / "errors" / f"{cell.name}.txt"


def strategy_parameters(strategy: Any) -> dict[str, Any]:
    """The strategy's constructor parameters with their values (defaults included), and,
    where it has one, its ``resolved()`` options (AutoAL's preset values), as JSON values.

    A run file stores them, so that a resumed benchmark notices when the code now builds
    the same config cell with other values (e.g. a changed preset or constructor default).
    """
    names = [n for n in inspect.signature(type(strategy).__init__).parameters if n != "self"]
    params = {n: getattr(strategy, n) for n in names if hasattr(strategy, n)}
    resolved = getattr(strategy, "resolved", None)
    if callable(resolved):
        params["resolved"] = resolved()
    return json.loads(json.dumps(params, sort_keys=True))


def build_strategy(cell: Cell) -> Any:
    """The cell's strategy, seeded with the cell's seed, with the run's defaults
    (:func:`~autoal.loop.runner.run_options`: ALBL's horizon is the cell's ``rounds``)."""
    from autoal.loop.runner import run_options
    from autoal.strategies import get_strategy

    options = run_options(cell.variant.strategy, cell.variant.options, cell.settings["rounds"])
    return get_strategy(cell.variant.strategy, random_state=cell.seed, **options)


def _parameters_changed(cell: Cell, stored: dict[str, Any]) -> str | None:
    """Why the stored parameters no longer match what the config builds now, or None."""
    try:
        strategy = build_strategy(cell)
    except (TypeError, ValueError) as err:
        return f"its strategy cannot be built any more: {err}"
    now = strategy_parameters(strategy)
    if now != stored:
        keys = sorted(k for k in set(now) | set(stored) if now.get(k) != stored.get(k))
        return f"strategy parameters changed ({', '.join(keys)}), e.g. a preset or default"
    return None


def pending_cells(config: BenchConfig, out: Path) -> tuple[list[Cell], list[Cell]]:
    """Split the config's cells into (to run, already finished).

    A cell is finished when its run file parses and carries the cell's fingerprint and, where
    the file records them (files written since they are), the strategy parameters the config
    builds now. Older files are checked by fingerprint only.

    Raises
    ------
    StaleResultsError
        When a run file exists for a cell but was made with other settings (a changed
        config, or code that now builds the strategy with other parameters): resuming would
        mix two protocols in one summary.
    """
    todo: list[Cell] = []
    done: list[Cell] = []
    stale: list[str] = []
    for cell in config.cells():
        path = cell_path(out, cell)
        if not path.exists():
            todo.append(cell)
            continue
        try:
            record = json.loads(path.read_text())
            fingerprint = record["bench"]["fingerprint"]
        except (OSError, ValueError, KeyError, TypeError):
            todo.append(cell)  # unreadable (cannot happen with atomic writes): redo it
            continue
        stored = record["bench"].get("parameters")
        if fingerprint != cell.fingerprint():
            stale.append(cell.name)
        elif stored is not None and (why := _parameters_changed(cell, stored)):
            stale.append(f"{cell.name} ({why})")
        else:
            done.append(cell)
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise StaleResultsError(
            f"{len(stale)} run file(s) in {Path(out) / 'runs'} were made with different "
            f"settings than this config ({shown}); use another --out folder or delete them"
        )
    return todo, done


# ----------------------------------------------------------------------------- one cell
_DATA_CACHE: dict[tuple[str, str], Any] = {}


def estimate_seconds(
    pending: Sequence[Cell], finished: Sequence[Cell], out: Path
) -> tuple[float, int]:
    """Estimated compute seconds of the pending cells, from the finished cells' wall times.

    A pending cell costs the mean ``bench.wall_seconds`` of the finished cells of the same
    data set, regime and variant, else of the same data set and regime; a cell with neither
    is not estimated. Divide by the number of workers for wall time.

    Returns
    -------
    tuple
        ``(seconds, cells without an estimate)``.
    """
    by_kind: dict[tuple[str, ...], list[float]] = {}
    for cell in finished:
        try:
            run = json.loads(cell_path(out, cell).read_text())
            seconds = float(run["bench"]["wall_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        by_kind.setdefault((cell.dataset.name, cell.regime, cell.variant.name), []).append(seconds)
        by_kind.setdefault((cell.dataset.name, cell.regime), []).append(seconds)
    total, unknown = 0.0, 0
    for cell in pending:
        known = by_kind.get((cell.dataset.name, cell.regime, cell.variant.name)) or by_kind.get(
            (cell.dataset.name, cell.regime)
        )
        if known:
            total += sum(known) / len(known)
        else:
            unknown += 1
    return total, unknown


def _dataset(cell: Cell) -> Any:
    from autoal.data import load_dataset

    key = (cell.dataset.source, cell.dataset.label_column)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_dataset(cell.dataset.source, label_column=cell.dataset.label_column)
    return _DATA_CACHE[key]


def run_cell(cell: Cell, out: Path) -> dict[str, Any]:
    """Run one cell, write its run file atomically and return the record."""
    import numpy as np

    from autoal.loop.runner import LoopConfig, pool_indices, run_active_learning

    data = _dataset(cell)
    s = cell.settings
    config = LoopConfig(
        init=s["init"],
        budget=s["budget"],
        rounds=s["rounds"],
        seed=cell.seed,
        pool_size=s["pool_size"],
        model=s["model"],
        epochs=s["epochs"],
        batch_size=s["batch_size"],
        lr=s["lr"],
        mc_samples=s["mc_samples"],
        device=s["device"],
        strategy_params=dict(cell.variant.options),
    )
    strategy = build_strategy(cell)
    kwargs: dict[str, Any] = {}
    if cell.variant.mc_overlap:
        from autoal.loop.mc_stability import mc_topb_overlap
        from autoal.models import TorchClassifier

        holder: dict[str, Any] = {}
        pool = pool_indices(len(data.X_train), config.pool_size, config.seed)
        X_pool = data.X_train[pool]
        labeled = np.zeros(len(pool), dtype=bool)

        def factory(round_seed: int) -> Any:
            holder["learner"] = TorchClassifier(
                model=config.model, epochs=config.epochs, batch_size=config.batch_size,
                lr=config.lr, mc_samples=config.mc_samples, device=config.device,
                random_state=round_seed,
                loss_module="predicted_loss" in getattr(strategy, "requires", ()),
            )
            return holder["learner"]

        def on_round(record: dict[str, Any]) -> None:
            labeled[np.asarray(record["queried"], dtype=np.int64)] = True
            unlabeled = np.flatnonzero(~labeled)
            if len(unlabeled) >= config.budget:
                record["mc_overlap"] = {
                    "mc_samples": config.mc_samples,
                    "budget": config.budget,
                    **mc_topb_overlap(holder["learner"], X_pool[unlabeled], config.budget),
                }

        kwargs = {"learner_factory": factory, "on_round": on_round}
    parameters = strategy_parameters(strategy)  # before the run: state is private
    t0 = time.perf_counter()
    record = run_active_learning(data, strategy, config, progress=False, **kwargs)
    import torch

    record["bench"] = {
        **cell.metadata(),
        "parameters": parameters,
        "wall_seconds": round(time.perf_counter() - t0, 3),
        "torch_threads": torch.get_num_threads(),
    }
    write_json_atomic(cell_path(out, cell), record)
    _error_path(out, cell).unlink(missing_ok=True)
    return record


def _run_cell_safe(args: tuple[Cell, Path]) -> tuple[str, str, str | None]:
    """Run a cell; on an exception write ``errors/<cell>.txt`` and report it (no raise)."""
    cell, out = args
    try:
        run_cell(cell, out)
        return ("ok", cell.name, None)
    except Exception as err:  # a failed cell must not stop the grid
        text = (
            f"cell: {cell.name}\nstrategy: {cell.variant.strategy} {dict(cell.variant.options)}\n"
            f"settings: {dict(cell.settings)}\n\n{traceback.format_exc()}"
        )
        write_text_atomic(_error_path(out, cell), text)
        line = f"{type(err).__name__}: {err}".splitlines()[0][:300]
        return ("failed", cell.name, line)


def _init_worker(threads: int) -> None:
    from autoal.models import configure_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    configure_threads(threads)


#: How often a cell may lose its worker process (SIGKILL, out of memory) before it fails.
WORKER_DEATHS_ALLOWED = 2

_Job = tuple[Cell, Path]
_Record = Callable[[tuple[str, str, str | None]], None]


def _run_in_processes(jobs: list[_Job], workers: int, threads: int, record: _Record) -> None:
    """Run ``jobs`` in ``workers`` spawned processes, at most one cell per worker at a time.

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
        lost, pending_after = _pool_pass(batch, 1 if alone else workers, threads, record)
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
            write_text_atomic(_error_path(out, cell), f"cell: {cell.name}\n\n{line}\n")
            record(("failed", cell.name, line))


def _pool_pass(
    jobs: list[_Job], workers: int, threads: int, record: _Record
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
                in_flight[pool.submit(_run_cell_safe, job)] = job
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
) -> BenchResult:
    """Run every unfinished cell of ``config`` into ``out`` with ``workers`` processes.

    Parameters
    ----------
    config:
        A validated configuration (:func:`~autoal.bench.config.load_config`).
    out:
        Output folder; ``runs/`` and ``errors/`` are created in it.
    workers:
        Worker processes (default: the cores available). With more than one, each worker
        uses ``cores // workers`` torch threads (at least 1) and processes are started with
        the ``spawn`` method; with one, cells run in this process on every core.
    threads:
        Torch threads per worker, overriding ``cores // workers``. On a machine shared with
        other jobs, 1 thread per process can be many times faster than 2: torch's OpenMP
        threads wait on each other when a core is taken.
    progress:
        Show one progress bar over the cells, with an ETA.
    echo:
        Where to print one-line notes.
    config_text:
        The config file's bytes, copied to ``out/config.toml`` once the folder is locked.

    Returns
    -------
    BenchResult
        Cells run, skipped and failed. Interrupting (Ctrl-C, SIGTERM) stops the workers
        and raises KeyboardInterrupt; finished cells are kept.
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
        echo(
            f"{len(todo)} of {total} cells to run ({len(done)} finished) with {workers} "
            f"worker(s) x {threads} torch thread(s)"
        )
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
            if workers == 1:
                configure_threads(threads)
                for job in jobs:
                    bar.set_postfix_str(job[0].name, refresh=True)
                    record(_run_cell_safe(job))
            else:
                _run_in_processes(jobs, workers, threads, record)
        finally:
            bar.close()
    result.seconds = time.perf_counter() - t_start
    return result
