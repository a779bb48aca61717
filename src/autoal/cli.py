"""The ``autoal`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from autoal import __version__
from autoal.errors import InputError, WriteError
from autoal.names import (
    ABLATIONS,
    BATCH_MODES,
    DEVICE_NAMES,
    IMAGE_NETS,
    MODEL_NAMES,
    OBJECTIVES,
    PRESET_NAMES,
    PRIORS,
    SEARCHES,
    WEIGHTS,
)

if TYPE_CHECKING:
    from autoal.data import Dataset
    from autoal.strategies import QueryStrategy

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autoal")
def main() -> None:
    """Active learning: which samples to label next, AutoAL and its baselines."""


def _load_dataset(name: str, label_column: str) -> Dataset:
    from autoal.data import DatasetError, load_dataset

    try:
        return load_dataset(name, label_column=label_column)
    except DatasetError as err:
        raise InputError(str(err)) from None


def _build_strategy(name: str, seed: int, params: dict[str, Any]) -> QueryStrategy:
    from autoal.strategies import get_strategy

    try:
        return get_strategy(name, random_state=seed, **params)
    except TypeError as err:
        raise InputError(f"strategy {name!r} does not take these options: {err}") from None
    except ValueError as err:
        raise InputError(str(err)) from None


@main.command()
@click.option("--dataset", required=True,
              help="Built-in name, or a .npz/.csv/image-folder/array-folder path.")
@click.option("--strategy", required=True, help="Query strategy name (see `autoal strategies`).")
@click.option("--init", type=int, default=100, show_default=True, help="Initial random labels.")
@click.option("--budget", type=int, default=100, show_default=True, help="Labels per round.")
@click.option("--rounds", type=int, default=10, show_default=True, help="Query rounds.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--pool-size", type=int, default=None, help="Random subset of the training split.")
@click.option("--epochs", type=int, default=20, show_default=True)
@click.option("--model", type=click.Choice(MODEL_NAMES), default="auto",
              show_default=True, help="auto: cnn for images, mlp for vectors.")
@click.option("--mc-samples", type=int, default=None, help="MC dropout samples T.")
@click.option("--device", type=click.Choice(DEVICE_NAMES), default="auto",
              show_default=True)
@click.option("--label-column", default="label", show_default=True, help="CSV label column.")
@click.option("--preset", type=click.Choice(PRESET_NAMES), default=None,
              help="AutoAL preset [default: autoal].")
@click.option("--candidates", default=None, help="AutoAL: comma-separated candidate strategies.")
@click.option("--objective", type=click.Choice(OBJECTIVES), default=None,
              help="AutoAL search objective (default: the preset's).")
@click.option("--weights", type=click.Choice(WEIGHTS), default=None,
              help="AutoAL mixture weights (default: the preset's).")
@click.option("--coverage", type=float, default=None, help="AutoAL class-coverage weight.")
@click.option("--ablation", type=click.Choice(ABLATIONS),
              default=None, help="AutoAL ablation [default: none].")
@click.option("--batch", type=click.Choice(BATCH_MODES), default=None,
              help="AutoAL: the batch is the top of the mixed score (topk) or drawn by coverage "
                   "weighted by it (coverage: herding; kmeanspp) (default: the preset's).")
@click.option("--search", type=click.Choice(SEARCHES), default=None,
              help="AutoAL: Adam, or noise-aware steps from the prior (shrinkage; global "
                   "weights) (default: the preset's).")
@click.option("--prior", type=click.Choice(PRIORS), default=None,
              help="AutoAL: where the search starts / shrinks to (default: the preset's).")
@click.option("--representation", type=click.Choice(["model", "features"]), default=None,
              help="Diversity strategies: measure distances in the task model's embeddings "
                   "(model, their default) or in label-free features (see --features).")
@click.option("--features", "features_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="With --representation features: a .npy of feature vectors, "
                                 "one row per training sample (default: a standardised PCA "
                                 "of the inputs, fitted once per run).")
@click.option("--threads", type=int, default=None,
              help="Torch threads (default: the cores available; 1 is faster for small models "
                   "on a busy machine).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(
    dataset: str,
    strategy: str,
    init: int,
    budget: int,
    rounds: int,
    seed: int,
    out: Path,
    pool_size: int | None,
    epochs: int,
    model: str,
    mc_samples: int | None,
    device: str,
    label_column: str,
    preset: str | None,
    candidates: str | None,
    objective: str | None,
    weights: str | None,
    coverage: float | None,
    ablation: str | None,
    batch: str | None,
    search: str | None,
    prior: str | None,
    representation: str | None,
    features_path: Path | None,
    threads: int | None,
    quiet: bool,
) -> None:
    """Simulate active learning on a labeled data set and write the run as JSON.

    AutoAL's options (--preset, --candidates, --objective, --weights, --coverage,
    --ablation, --batch, --search, --prior) apply only with --strategy autoal.
    """
    from autoal.io import write_json_atomic
    from autoal.loop import (
        LoopConfig,
        run_active_learning,
        run_options,
        validate_sizes,
    )
    from autoal.models import DEFAULT_MC_SAMPLES, configure_threads, resolve_device

    autoal_options = {
        key: value
        for key, value in (
            ("preset", preset), ("candidates", candidates), ("objective", objective),
            ("weights", weights), ("coverage", coverage), ("ablation", ablation),
            ("batch", batch), ("search", search), ("prior", prior),
        )
        if value is not None
    }
    if autoal_options and strategy != "autoal":
        given = ", ".join(f"--{k}" for k in autoal_options)
        raise InputError(f"{given} only apply with --strategy autoal, not {strategy!r}")
    if features_path is not None and representation != "features":
        raise InputError("--features only applies with --representation features")
    strategy_options = dict(autoal_options)
    if representation is not None:
        strategy_options["representation"] = representation
    params = run_options(strategy, strategy_options, rounds)
    strat = _build_strategy(strategy, seed, params)
    if device == "cuda":
        try:
            resolve_device(device)
        except ValueError as err:
            raise InputError(str(err)) from None
    if epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {epochs}")
    if threads is not None and threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    if mc_samples is not None and mc_samples < 1:
        raise InputError(f"--mc-samples must be at least 1, got {mc_samples}")
    if not out.parent.exists():
        raise InputError(f"the folder of --out does not exist: {out.parent}")
    data = _load_dataset(dataset, label_column)
    config = LoopConfig(
        init=init,
        budget=budget,
        rounds=rounds,
        seed=seed,
        pool_size=pool_size,
        model=model,
        epochs=epochs,
        mc_samples=DEFAULT_MC_SAMPLES if mc_samples is None else mc_samples,
        device=device,
        strategy_params=params,
        features_path=None if features_path is None else str(features_path),
    )
    try:
        validate_sizes(config, len(data.X_train))
        if model in IMAGE_NETS and data.kind != "image":
            raise ValueError(f"--model {model} needs image data; {data.name} is vector data")
        if features_path is not None:
            from autoal.features import load_feature_vectors

            load_feature_vectors(features_path, len(data.X_train))  # checked before any work
    except ValueError as err:
        raise InputError(str(err)) from None
    configure_threads(threads)
    from autoal.data.draws_file import ScratchSpaceError

    try:
        record = run_active_learning(data, strat, config, progress=not quiet)
    except ScratchSpaceError as err:  # too little disk for a large pool's MC draws
        raise WriteError(f"{err.strerror}; nothing was written") from None
    write_json_atomic(out, record)
    if not quiet:
        click.echo(f"AUBC {record['aubc']:.4f}, final accuracy "
                   f"{record['rounds'][-1]['accuracy']:.4f}; wrote {out}")


@main.command()
def strategies() -> None:
    """List the registered query strategies."""
    from autoal.strategies import available_strategies

    for name in available_strategies():
        click.echo(name)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="demo-output",
              show_default=True)
@click.option("--quiet", is_flag=True)
@click.option("--strategies", "names", default=None, metavar="A,B,...",
              help="Comma-separated strategies to compare (default: random, entropy, margin, "
                   "autoal).")
@click.option("--workers", type=int, default=None,
              help="Strategies run side by side in this many processes, one torch thread each "
                   "(default: one per core; 1 runs them in turn in this process).")
def demo(out: Path, quiet: bool, names: str | None, workers: int | None) -> None:
    """A small comparison of strategies on Fashion-MNIST (digits when it is absent)."""
    from autoal.demo import DEMO_STRATEGIES, run_demo
    from autoal.strategies import available_strategies

    chosen = DEMO_STRATEGIES
    if names is not None:
        chosen = tuple(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))
        unknown = [n for n in chosen if n not in available_strategies()]
        if unknown or not chosen:
            raise InputError(
                f"unknown strategy {', '.join(map(repr, unknown)) or '(none given)'}; valid "
                f"strategies: {', '.join(available_strategies())}"
            )
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    run_demo(out, progress=not quiet, strategies=chosen, workers=workers)


def _register_subcommands() -> None:
    from autoal.bench.cli import bench, report
    from autoal.campaign.cli import campaign

    main.add_command(campaign)
    main.add_command(bench)
    main.add_command(report)


_register_subcommands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
