"""Resuming a benchmark: which cells are finished, stale or pending, and how long the rest takes.

A cell is finished when its run file (:func:`cell_path`) exists with the cell's fingerprint
and, where the file records them, the strategy parameters the config builds now; a file made
with other settings is stale (:class:`StaleResultsError`): resuming would mix two protocols in
one summary.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoal.bench.grid import BenchConfig, Cell

__all__ = [
    "StaleResultsError",
    "build_strategy",
    "cell_path",
    "estimate_seconds",
    "pending_cells",
    "strategy_parameters",
]


class StaleResultsError(ValueError):
    """Run files in the output folder were made with different settings than the config's."""


def cell_path(out: Path, cell: Cell) -> Path:
    """``out/runs/<cell>.json``."""
    return Path(out) / "runs" / f"{cell.name}.json"


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
    from autoal.loop import run_options
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
