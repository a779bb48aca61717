"""Finished benchmark runs re-labelled under a renamed variant whose preset was renamed.

When a preset's name passes to a new design (AutoAL's ``autoal`` after the selection run of
issue 16), the runs made with the old design remain what the old design does under its new
name (``autoal-v1``): the same computation with other labels. :func:`rename_runs` moves the
run files of variant ``old`` to the config's variant ``new`` of the same data set, regime and
seed (or keeps its name, ``new == old``, where only the preset's name changed), after
checking that ``new`` runs exactly what each file ran: the same fingerprint once
the preset's name is put back, and the same resolved strategy parameters. Every file is
checked before any is written, so a refusal leaves the folder as it was; each file is written
atomically before its source is removed, so an interrupted rename loses nothing and running
it again completes it. Each moved file records where it came from under
``bench.renamed_from``.

Run files written before the bench recorded strategy parameters (wave 1's first runs) can be
checked by fingerprint only; they move only with ``unverified=True``, and say so
(``bench.renamed_unverified``): their label then rests on the config's word that the old
name ran what the new one does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autoal.bench.grid import BenchConfig, Cell
from autoal.bench.resume import build_strategy, cell_path, error_path, parameters_changed

__all__ = ["RenameError", "rename_runs"]


class RenameError(ValueError):
    """A run file cannot be moved to the new variant: it would not be what that variant runs."""


def _preset_of(cell: Cell) -> Any:
    return build_strategy(cell).get_params(deep=False).get("preset")


def _mismatch(
    cell: Cell, meta: Mapping[str, Any], preset: Any, unverified: bool
) -> str | None:
    """Why ``cell`` would not run what the record ``meta`` (its ``bench`` part) ran, or None."""
    old_options = dict(meta["options"])
    new_options = dict(cell.variant.options)
    old_options.pop("preset", None)
    new_options.pop("preset", None)
    if old_options != new_options:
        return f"its options {meta['options']} differ from {cell.variant.name!r}'s " \
               f"{dict(cell.variant.options)} in more than the preset"
    as_ran = dataclasses.replace(
        cell, variant=dataclasses.replace(cell.variant, options=dict(meta["options"]))
    )
    if as_ran.fingerprint() != meta["fingerprint"]:
        return "its data, settings or seed differ from the config's"
    stored = meta.get("parameters")
    if not isinstance(stored, dict):
        return None if unverified else (
            "it records no strategy parameters to check (--unverified moves it on its "
            "fingerprint alone)")
    why = parameters_changed(cell, {**stored, "preset": preset})
    return None if why is None else f"the new variant would run other settings: {why}"


def _renamed(record: dict[str, Any], cell: Cell, preset: Any) -> dict[str, Any]:
    meta = record["bench"]
    bench = {
        **meta,
        **cell.metadata(),
        "renamed_from": {k: meta[k] for k in ("cell", "variant", "options", "fingerprint")},
    }
    if isinstance(meta.get("parameters"), dict):
        bench["parameters"] = dict(meta["parameters"])
        if preset is not None:
            bench["parameters"]["preset"] = preset
    else:
        bench["renamed_unverified"] = "no recorded strategy parameters; fingerprint checked"
    out = {**record, "bench": bench}
    params = record.get("config", {}).get("strategy_params")
    if isinstance(params, dict) and "preset" in cell.variant.options:
        out["config"] = {**record["config"], "strategy_params": {**params, "preset": preset}}
    return out


def _moved_before(target: Path, meta: Mapping[str, Any], cell: Cell) -> bool:
    """Whether ``target`` is this file already moved by an interrupted earlier rename."""
    try:
        done = json.loads(target.read_text())["bench"]
        return bool(done["fingerprint"] == cell.fingerprint()
                    and done["renamed_from"]["fingerprint"] == meta["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def rename_runs(
    config: BenchConfig, out: Path, renames: Mapping[str, str], *, unverified: bool = False
) -> dict[str, int]:
    """Move the run files of each variant ``old`` in ``renames`` to the config's ``new``.

    ``unverified``: also move files that record no strategy parameters, on their options
    and fingerprint alone (they are marked ``bench.renamed_unverified``).

    Files already moved are left alone (a second run moves nothing); a rename interrupted
    between writing a target and removing its source is completed by running it again.

    Returns the number of files moved per old variant name.

    Raises
    ------
    RenameError
        When the config has no variant ``new`` or no cell for one of ``old``'s files, when a
        file's target exists already or two files would move to one target, or when ``new``
        would not run what a file ran; nothing is written then.
    """
    from autoal.io import write_json_atomic

    plan: list[tuple[Path, Cell, dict[str, Any] | None]] = []
    targets: set[Path] = set()
    moved = dict.fromkeys(renames, 0)
    by_key: dict[tuple[str, str, str, int], Cell] = {
        (c.variant.name, c.dataset.name, c.regime, c.seed): c for c in config.cells()
    }
    for new in renames.values():
        if not any(key[0] == new for key in by_key):
            raise RenameError(f"the config has no variant {new!r}")
    for path in sorted((Path(out) / "runs").glob("*.json")):
        try:
            record = json.loads(path.read_text())
            meta = record["bench"]
            old_name, key = meta["variant"], (meta["dataset"], meta["regime"], int(meta["seed"]))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise RenameError(f"{path} is not a run file: {err}") from None
        new_name = renames.get(old_name)
        if new_name is None:
            continue
        cell = by_key.get((new_name, *key))
        if cell is None:
            raise RenameError(f"{path.name}: the config's variant {new_name!r} has no cell for "
                              f"{key[0]} {key[1]} seed {key[2]}")
        target = cell_path(out, cell)
        if target == path and meta.get("fingerprint") == cell.fingerprint():
            continue  # renamed in place before
        preset = _preset_of(cell)
        why = _mismatch(cell, meta, preset, unverified)
        if why is not None:
            raise RenameError(f"{path.name} cannot become {cell.name}: {why}")
        if target in targets:
            raise RenameError(f"{path.name} cannot become {cell.name}: another file moves there")
        targets.add(target)
        if target.exists() and target != path:
            if not _moved_before(target, meta, cell):
                raise RenameError(f"{path.name} cannot become {cell.name}: {target} exists")
            plan.append((path, cell, None))  # written before; only the source is left
        else:
            plan.append((path, cell, _renamed(record, cell, preset)))
        moved[old_name] += 1
    for path, cell, new_record in plan:
        target = cell_path(out, cell)
        if new_record is not None:
            write_json_atomic(target, new_record)
        error_path(out, cell).unlink(missing_ok=True)  # a failure of the cell, now finished
        if target != path:
            path.unlink()
    return moved
