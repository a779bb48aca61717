"""One benchmark cell: compute its run record, write it, or write its error file.

:func:`compute_cell` only computes (module-level, so that worker processes and Ray tasks can
run it); :func:`write_cell` writes the run file atomically; :func:`run_cell` does both. The
process runner (:mod:`.runner`) and the Ray runner (:mod:`.ray_runner`) share them, so their
run files are the same.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoal.bench.grid import Cell
from autoal.bench.resume import build_strategy, cell_path, error_path, strategy_parameters
from autoal.io import write_json_atomic

if TYPE_CHECKING:
    from autoal.data import Dataset
    from autoal.loop import RoundRecord, RunRecord
    from autoal.models import Learner

__all__ = ["compute_cell", "error_text", "run_cell", "write_cell"]

_DATA_CACHE: dict[tuple[str, str], Dataset] = {}


def _dataset(cell: Cell) -> Dataset:
    from autoal.data import load_dataset

    key = (cell.dataset.source, cell.dataset.label_column)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_dataset(cell.dataset.source, label_column=cell.dataset.label_column)
    return _DATA_CACHE[key]


def compute_cell(cell: Cell) -> RunRecord:
    """Run one cell and return its run record (with its ``"bench"`` entry); write nothing.

    Module-level so that worker processes and Ray tasks can run it; the caller writes the
    record with :func:`write_cell`.
    """
    import numpy as np

    from autoal.loop import LoopConfig, pool_indices, run_active_learning

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
        features_path=cell.dataset.features,
    )
    strategy = build_strategy(cell)
    kwargs: dict[str, Any] = {}
    if cell.variant.mc_overlap:
        from autoal.loop import mc_topb_overlap
        from autoal.models import torch_classifier_for

        holder: dict[str, Any] = {}
        pool = pool_indices(len(data.X_train), config.pool_size, config.seed)
        X_pool = data.X_train[pool]
        labeled = np.zeros(len(pool), dtype=bool)

        def factory(round_seed: int) -> Learner:
            holder["learner"] = torch_classifier_for(strategy, config, round_seed)
            return holder["learner"]

        def on_round(record: RoundRecord) -> None:
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
    return record


def write_cell(out: Path, cell: Cell, record: RunRecord) -> None:
    """Write a finished cell's run file atomically and drop an error file of an earlier try."""
    write_json_atomic(cell_path(out, cell), record)
    error_path(out, cell).unlink(missing_ok=True)


def error_text(cell: Cell, details: str) -> str:
    """The text of ``errors/<cell>.txt``: the cell, its strategy and settings, ``details``
    (the traceback)."""
    return (
        f"cell: {cell.name}\nstrategy: {cell.variant.strategy} {dict(cell.variant.options)}\n"
        f"settings: {dict(cell.settings)}\n\n{details}"
    )


def run_cell(cell: Cell, out: Path) -> RunRecord:
    """Run one cell, write its run file atomically and return the record."""
    record = compute_cell(cell)
    write_cell(out, cell, record)
    return record
