"""Loading a benchmark folder's run files, and the per-run numbers the report reads."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from autoal.loop import BenchMeta, RunRecord

__all__ = ["load_runs", "round_seconds"]


def _meta(run: dict[str, Any], path: Path) -> BenchMeta | None:
    meta = run.get("bench")
    if isinstance(meta, dict) and {"dataset", "regime", "variant", "seed"} <= set(meta):
        return cast("BenchMeta", meta)
    parts = path.stem.split("__")
    if len(parts) != 4:
        return None
    try:
        seed = int(parts[3])
    except ValueError:
        return None
    return {"dataset": parts[0], "regime": parts[1], "variant": parts[2], "seed": seed,
            "strategy": run.get("strategy", parts[2])}


def load_runs(out: str | Path) -> list[RunRecord]:
    """Every run record in ``out/runs/*.json``, each with its ``"bench"`` metadata.

    Files that do not parse or do not name their cell are skipped with a warning.
    """
    runs = []
    for path in sorted((Path(out) / "runs").glob("*.json")):
        try:
            run = json.loads(path.read_text())
            meta = _meta(run, path)
            if meta is None or not run.get("rounds"):
                raise ValueError("not a benchmark cell")
        except (OSError, ValueError) as err:
            warnings.warn(f"skipping {path}: {err}", stacklevel=2)
            continue
        run["bench"] = {**meta, "strategy": meta.get("strategy", run.get("strategy"))}
        runs.append(run)
    return runs


def round_seconds(run: RunRecord) -> float:
    """Mean over rounds >= 1 of the sum of a round's timings (round 0 when there is no other)."""
    rounds = [r for r in run["rounds"] if r.get("round", 0) >= 1] or run["rounds"][:1]
    return float(np.mean([sum(r.get("seconds", {}).values()) for r in rounds]))
