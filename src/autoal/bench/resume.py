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
from typing import TYPE_CHECKING, Any

from autoal.bench.grid import BenchConfig, Cell

if TYPE_CHECKING:
    from autoal.strategies import QueryStrategy

__all__ = [
    "StaleResultsError",
    "build_strategy",
    "canonical_parameters",
    "cell_path",
    "error_path",
    "estimate_seconds",
    "parameters_changed",
    "pending_cells",
    "reuse_cells",
    "strategy_parameters",
]


class StaleResultsError(ValueError):
    """Run files in the output folder were made with different settings than the config's."""


def cell_path(out: Path, cell: Cell) -> Path:
    """``out/runs/<cell>.json``."""
    return Path(out) / "runs" / f"{cell.name}.json"


def error_path(out: Path, cell: Cell) -> Path:
    """``out/errors/<cell>.txt``: why the cell failed (removed once it succeeds)."""
    return Path(out) / "errors" / f"{cell.name}.txt"


def strategy_parameters(strategy: QueryStrategy) -> dict[str, Any]:
    """The strategy's constructor parameters with their values (defaults included), and,
    where it has one, its ``resolved()`` options (AutoAL's preset values), as JSON values.

    A run file stores them, so that a resumed benchmark notices when the code now builds
    the same config cell with other values (e.g. a changed preset or constructor default).
    """
    params = dict(strategy.get_params(deep=False))
    resolved = getattr(strategy, "resolved", None)
    if callable(resolved):
        params["resolved"] = resolved()
    return json.loads(json.dumps(params, sort_keys=True))


def build_strategy(cell: Cell) -> QueryStrategy:
    """The cell's strategy, seeded with the cell's seed, with the run's defaults
    (:func:`~autoal.loop.runner.run_options`: ALBL's horizon is the cell's ``rounds``)."""
    from autoal.loop import run_options
    from autoal.strategies import get_strategy

    options = run_options(cell.variant.strategy, cell.variant.options, cell.settings["rounds"])
    return get_strategy(cell.variant.strategy, random_state=cell.seed, **options)


def parameters_changed(cell: Cell, stored: dict[str, Any]) -> str | None:
    """Why the stored parameters no longer match what the config builds now, or None."""
    try:
        strategy = build_strategy(cell)
    except (TypeError, ValueError) as err:
        return f"its strategy cannot be built any more: {err}"
    now = strategy_parameters(strategy)
    # A parameter added since the file was written changes nothing while it keeps its default
    # (e.g. `representation="model"` on kmeans): the file ran what the default does.
    defaults = {
        name: p.default
        for name, p in inspect.signature(type(strategy).__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    added_at_default = {
        k for k in set(now) - set(stored)
        if k in defaults and json.loads(json.dumps(defaults[k])) == now[k]
    }
    legacy = getattr(type(strategy), "legacy_resolved", {})
    now, stored = canonical_parameters(now, legacy), canonical_parameters(stored, legacy)
    changed = sorted(
        k for k in (set(now) | set(stored)) - added_at_default if now.get(k) != stored.get(k)
    )
    if changed:
        return f"strategy parameters changed ({', '.join(changed)}), e.g. a preset or default"
    return None


def canonical_parameters(params: Any, legacy: dict[str, Any] | None = None) -> Any:
    """Stored strategy parameters in one form whatever code wrote them, for comparing two run
    files: the resolved options added since the file was written (the keys of ``legacy``,
    default AutoAL's ``LEGACY_RESOLVED``) filled in with the values it ran with — the plain
    constructor parameter it stored where the option was one (e.g. ``search_lr``), else the
    legacy value — and every parameter left None (the preset's) replaced by its resolved
    value, since an explicit value equal to the preset's runs the same as none. Records
    without resolved options (every strategy but AutoAL) are returned as they are."""
    if not isinstance(params, dict) or not isinstance(params.get("resolved"), dict):
        return params
    if legacy is None:
        from autoal.search.presets import LEGACY_RESOLVED

        legacy = LEGACY_RESOLVED
    resolved = dict(params["resolved"])
    for key, value in legacy.items():
        if key not in resolved:
            plain = params.get(key)
            resolved[key] = plain if plain is not None else json.loads(json.dumps(value))
    return {**{k: resolved[k] if v is None and k in resolved else v
               for k, v in params.items()}, "resolved": resolved}


def _stale_reason(cell: Cell, path: Path) -> str | None:
    """None when ``path`` is a finished run of ``cell``; otherwise why it is not (raises
    :class:`ValueError` when the file cannot be read as a run file)."""
    try:
        record = json.loads(path.read_text())
        fingerprint = record["bench"]["fingerprint"]
        stored = record["bench"].get("parameters")
    except (OSError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a run file: {err}") from None
    if fingerprint != cell.fingerprint():
        return "made with other settings"
    if stored is not None:
        return parameters_changed(cell, stored)
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
            why = _stale_reason(cell, path)
        except ValueError:
            todo.append(cell)  # unreadable (cannot happen with atomic writes): redo it
            continue
        if why is not None:
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


def reuse_cells(config: BenchConfig, out: Path, source: Path) -> tuple[list[str], list[str]]:
    """Copy into ``out`` the finished runs of this config's cells that ``source`` holds.

    A run file of ``source`` is reused when ``out`` has none for its cell and it would count
    as finished in ``out`` (the cell's fingerprint, and the strategy parameters the code
    builds now); the copy is atomic. Returns ``(copied, not reused)`` cell names, the second
    for files of ``source`` that were made with other settings or cannot be read.
    """
    from autoal.io import write_bytes_atomic

    copied: list[str] = []
    refused: list[str] = []
    for cell in config.cells():
        mine, theirs = cell_path(out, cell), cell_path(source, cell)
        if mine.exists() or not theirs.is_file():
            continue
        try:
            why = _stale_reason(cell, theirs)
        except ValueError:
            why = "unreadable"
        if why is not None:
            refused.append(f"{cell.name} ({why})")
            continue
        write_bytes_atomic(mine, theirs.read_bytes())
        copied.append(cell.name)
    return copied, refused


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
