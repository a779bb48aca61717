"""``make demo``: a few strategies compared on a small Fashion-MNIST protocol."""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import click

from autoal.data import DatasetError, load_dataset
from autoal.io import write_json_atomic
from autoal.loop import LoopConfig, RunRecord, run_active_learning
from autoal.models import configure_threads
from autoal.report.plots import plot_learning_curves, plot_weights

__all__ = ["DEMO_STRATEGIES", "run_demo", "format_table"]

DEMO_STRATEGIES: tuple[str, ...] = ("random", "entropy", "margin", "autoal")


def format_table(records: dict[str, RunRecord]) -> str:
    """A plain-text table of AUBC, final accuracy and time per round, best AUBC first."""
    lines = [f"{'strategy':<12} {'AUBC':>7} {'final acc':>10} {'s/round':>8}"]
    for name, rec in sorted(records.items(), key=lambda kv: -kv[1]["aubc"]):
        per_round = [sum(r["seconds"].values()) for r in rec["rounds"][1:]] or [0.0]
        lines.append(
            f"{name:<12} {rec['aubc']:>7.4f} {rec['rounds'][-1]['accuracy']:>10.4f} "
            f"{sum(per_round) / len(per_round):>8.2f}"
        )
    return "\n".join(lines)


def default_workers(n_strategies: int) -> int:
    """One worker per core this process may use, at most one per strategy."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(n_strategies, cores))


def _run_one(dataset: str, name: str, config: LoopConfig, progress: bool) -> RunRecord:
    """One strategy's run in a worker process, on one torch thread."""
    # One thread per worker: with a worker per core, more threads only wait for each other.
    configure_threads(1)
    return run_active_learning(load_dataset(dataset), name, config, progress=progress)


def run_demo(
    out: Path,
    progress: bool = True,
    strategies: tuple[str, ...] = DEMO_STRATEGIES,
    workers: int | None = None,
) -> dict[str, RunRecord]:
    """Run the demo protocol, print a table, write run JSONs and PNGs under ``out``.

    The strategies run side by side in ``workers`` processes (default: one per core, one
    torch thread each); with ``workers=1`` they run one after another in this process.
    """
    from autoal.strategies import available_strategies

    try:
        data = load_dataset("fashion-mnist")
        config = LoopConfig(init=100, budget=100, rounds=5, seed=0, pool_size=5000, epochs=15)
    except DatasetError as err:
        click.echo(f"Fashion-MNIST is not available ({err}); running the demo on digits.")
        data = load_dataset("digits")
        config = LoopConfig(init=20, budget=20, rounds=8, seed=0, epochs=30)
    known = set(available_strategies())
    strategies = tuple(s for s in strategies if s in known)
    click.echo(
        f"Demo: {data.description}; pool {config.pool_size or len(data.X_train)}, "
        f"{config.init} initial labels + {config.rounds} rounds of {config.budget}; "
        f"strategies: {', '.join(strategies)}"
    )
    workers = default_workers(len(strategies)) if workers is None else workers
    records: dict[str, RunRecord] = {}
    if workers <= 1:
        configure_threads()
        for name in strategies:
            records[name] = run_active_learning(data, name, config, progress=progress)
            write_json_atomic(out / "runs" / f"{name}.json", records[name])
    else:
        click.echo(f"running {len(strategies)} strategies in {workers} worker processes")
        with mp.get_context("spawn").Pool(workers) as pool:
            pending = {
                name: pool.apply_async(_run_one, (data.name, name, config, progress))
                for name in strategies
            }
            for name, result in pending.items():
                records[name] = result.get()
                write_json_atomic(out / "runs" / f"{name}.json", records[name])
    click.echo(format_table(records))
    curves = plot_learning_curves(
        {k: [v] for k, v in records.items()}, out / "curves.png", title=f"{data.name} (demo)",
        highlight=["autoal"], reference="random",   # second panel when random ran
    )
    click.echo(f"learning curves: {curves}")
    if "autoal" in records:
        weights = plot_weights([records["autoal"]], out / "autoal-weights.png", title="AutoAL")
        click.echo(f"AutoAL candidate weights per round: {weights}")
    return records
