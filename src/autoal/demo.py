"""``make demo``: a few strategies compared on a small Fashion-MNIST protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from autoal.data import DatasetError, load_dataset
from autoal.io import write_json_atomic
from autoal.loop import LoopConfig, run_active_learning
from autoal.models import configure_threads
from autoal.report.plots import plot_learning_curves, plot_weights

__all__ = ["DEMO_STRATEGIES", "run_demo", "format_table"]

DEMO_STRATEGIES = ("random", "entropy", "margin", "autoal")


def format_table(records: dict[str, dict[str, Any]]) -> str:
    """A plain-text table of AUBC, final accuracy and time per round, best AUBC first."""
    lines = [f"{'strategy':<12} {'AUBC':>7} {'final acc':>10} {'s/round':>8}"]
    for name, rec in sorted(records.items(), key=lambda kv: -kv[1]["aubc"]):
        per_round = [sum(r["seconds"].values()) for r in rec["rounds"][1:]] or [0.0]
        lines.append(
            f"{name:<12} {rec['aubc']:>7.4f} {rec['rounds'][-1]['accuracy']:>10.4f} "
            f"{sum(per_round) / len(per_round):>8.2f}"
        )
    return "\n".join(lines)


def run_demo(
    out: Path, progress: bool = True, strategies: tuple[str, ...] = DEMO_STRATEGIES
) -> dict[str, dict[str, Any]]:
    """Run the demo protocol, print a table, write run JSONs and PNGs under ``out``."""
    from autoal.strategies import available_strategies

    configure_threads()
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
    records: dict[str, dict[str, Any]] = {}
    for name in strategies:
        records[name] = run_active_learning(data, name, config, progress=progress)
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
