"""Independent cells (benchmark runs) as Ray tasks, with their results written by the driver.

The worker that runs a cell may be on another machine: it returns the cell's result and the
driver, the only writer, hands it to ``on_done`` (which writes it atomically), so a worker
that dies mid-cell leaves no partial file. A dead worker's cell is retried ``max_retries``
times; after that, or when the cell raises, ``on_done`` receives the error and the cell is
left for a resume.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from autoal.scale.ray_engine import connect

__all__ = ["CellOutcome", "run_cells_on_ray"]

C = TypeVar("C")


@dataclass(frozen=True)
class CellOutcome(Generic[C]):
    """What one cell gave: its ``value``, or an ``error`` (first line) and ``details``.

    Parameters
    ----------
    cell:
        The cell as given.
    value:
        What the cell's callable returned (None on error).
    error:
        ``"ExceptionType: message"`` when the cell failed, else None.
    details:
        The worker's traceback (or Ray's account of a lost worker) when the cell failed.
    """

    cell: C
    value: Any = None
    error: str | None = None
    details: str = ""

    @property
    def ok(self) -> bool:
        """True when the cell returned a value."""
        return self.error is None


def _call_cell(run_cell: Callable[[Any], Any], cell: Any, threads: int | None) -> tuple[Any, ...]:
    """Run on the worker: the cell's value, or its error and traceback (never raises, so Ray
    retries only lost workers, not a cell that fails by itself)."""
    if threads is not None:
        from autoal.models import configure_threads

        configure_threads(threads)
    try:
        return ("ok", run_cell(cell), "")
    except Exception as err:  # a failed cell must not stop the grid
        line = f"{type(err).__name__}: {err}".splitlines()[0][:300]
        return ("failed", line, traceback.format_exc())


def run_cells_on_ray(
    cells: Sequence[C],
    run_cell: Callable[[C], Any],
    on_done: Callable[[CellOutcome[C]], None],
    *,
    address: str | None = None,
    resources: Callable[[C], dict[str, float]] | None = None,
    max_retries: int = 2,
    threads: int | None = 1,
) -> list[CellOutcome[C]]:
    """Run every cell as a Ray task and call ``on_done`` in the driver as each finishes.

    Parameters
    ----------
    cells:
        The cells to run (picklable).
    run_cell:
        Runs one cell on a worker and returns its result (picklable); it must not write the
        result where the driver writes it.
    on_done:
        Called in the driver, once per cell, in order of completion.
    address:
        The Ray head's ``host:port``; None joins the connected cluster or starts a local
        one. An address that cannot be reached raises
        :class:`~autoal.scale.ray_engine.RayUnreachableError` naming it, before any cell.
    resources:
        The Ray resources of a cell (``{"num_cpus": 1, "num_gpus": 1}``); default one CPU.
    max_retries:
        How often a cell whose worker died is run again.
    threads:
        Torch threads in each task (None: leave as is).

    Returns
    -------
    Every cell's outcome, in order of completion. Ctrl-C cancels the cells in flight.
    """
    ray = connect(address)
    remote = ray.remote(_call_cell)
    pending: dict[Any, C] = {}
    for cell in cells:
        options = {"num_cpus": 1.0, **(resources(cell) if resources else {})}
        ref = remote.options(max_retries=max_retries, **options).remote(run_cell, cell, threads)
        pending[ref] = cell
    outcomes: list[CellOutcome[C]] = []
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            cell = pending.pop(ref)
            try:
                state, value, details = ray.get(ref)
            except Exception as err:  # lost workers beyond max_retries, or unpicklable cells
                line = f"{type(err).__name__}: the cell's task failed in Ray (see details)"
                state, value, details = "failed", line, str(err)
            if state == "ok":
                outcome = CellOutcome(cell, value=value)
            else:
                outcome = CellOutcome(cell, error=value, details=details)
            on_done(outcome)
            outcomes.append(outcome)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    return outcomes
