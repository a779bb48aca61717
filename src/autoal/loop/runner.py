"""The simulated active-learning loop: labels come from the data set's ground truth."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from autoal.data import Dataset
from autoal.loop.metrics import aubc
from autoal.models import DEFAULT_MC_SAMPLES, TorchClassifier
from autoal.strategies import QueryStrategy, get_strategy

__all__ = ["LoopConfig", "run_active_learning", "run_options", "validate_sizes", "pool_indices"]


@dataclass
class LoopConfig:
    """Protocol settings of one simulated run (see docs/ and the benchmark protocol)."""

    init: int = 100
    budget: int = 100
    rounds: int = 10
    seed: int = 0
    pool_size: int | None = None
    model: str = "auto"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    mc_samples: int = DEFAULT_MC_SAMPLES
    device: str = "auto"
    strategy_params: dict[str, Any] = field(default_factory=dict)


def validate_sizes(config: LoopConfig, n_train: int) -> int:
    """Check the protocol fits the pool before any training; return the pool size."""
    for name in ("init", "budget"):
        if getattr(config, name) < 1:
            raise ValueError(f"--{name} must be at least 1, got {getattr(config, name)}")
    if config.rounds < 0:
        raise ValueError(f"--rounds must be non-negative, got {config.rounds}")
    pool = n_train if config.pool_size is None else config.pool_size
    if pool < 1:
        raise ValueError(f"--pool-size must be at least 1, got {pool}")
    if pool > n_train:
        raise ValueError(f"--pool-size {pool} exceeds the {n_train} training samples")
    need = config.init + config.budget * config.rounds
    if need > pool:
        raise ValueError(
            f"init + budget * rounds = {config.init} + {config.budget} * {config.rounds} = "
            f"{need} exceeds the pool of {pool} samples"
        )
    return pool


def pool_indices(n_train: int, pool_size: int | None, seed: int) -> np.ndarray:
    """The training-split indices that form the pool: all, or a seeded random subset."""
    if pool_size is None or pool_size >= n_train:
        return np.arange(n_train)
    return np.sort(np.random.default_rng([seed, 1]).choice(n_train, pool_size, replace=False))


def _needs(strategy: QueryStrategy, name: str) -> bool:
    return name in getattr(strategy, "requires", ())


def run_options(strategy: str, params: Mapping[str, Any], rounds: int) -> dict[str, Any]:
    """A strategy's constructor options with the defaults that follow from the run.

    ALBL's EXP4.P horizon is the number of query rounds (at least 1) unless ``params`` sets
    it. ``autoal run``, ``autoal bench`` and :func:`run_active_learning` all build their
    strategies with these options.
    """
    options = dict(params)
    if strategy == "albl":
        options.setdefault("horizon", max(int(rounds), 1))
    return options


def run_active_learning(
    dataset: Dataset,
    strategy: str | QueryStrategy,
    config: LoopConfig,
    *,
    progress: bool = True,
    learner_factory: Callable[[int], Any] | None = None,
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run ``config.rounds`` rounds of pool-based active learning and return the run record.

    The record has the schema of ``autoal run``'s JSON: ``dataset``, ``strategy``, ``seed``,
    ``config``, ``rounds`` (round 0 is the random initial set) and ``aubc``. ``queried``
    holds indices into the pool. Every strategy run with the same seed sees the same pool,
    the same initial set and the same model initialisation in each round.

    ``learner_factory(round_seed)`` builds the learner; the default is a
    :class:`~autoal.models.TorchClassifier` with the config's settings.
    """
    pool_size = validate_sizes(config, len(dataset.X_train))
    if isinstance(strategy, str):
        params = run_options(strategy, config.strategy_params, config.rounds)
        config = replace(config, strategy_params=params)  # the record says what ran
        strategy = get_strategy(strategy, random_state=config.seed, **params)
    pool = pool_indices(len(dataset.X_train), config.pool_size, config.seed)
    X_pool, y_pool = dataset.X_train[pool], dataset.y_train[pool]
    n_classes = dataset.n_classes

    def make_learner(round_seed: int) -> Any:
        if learner_factory is not None:
            return learner_factory(round_seed)
        return TorchClassifier(
            model=config.model,
            epochs=config.epochs,
            batch_size=config.batch_size,
            lr=config.lr,
            mc_samples=config.mc_samples,
            device=config.device,
            random_state=round_seed,
            loss_module=_needs(strategy, "predicted_loss"),
        )

    rng = np.random.default_rng([config.seed, 2])
    labeled_order = list(rng.choice(pool_size, config.init, replace=False))
    is_labeled = np.zeros(pool_size, dtype=bool)
    is_labeled[labeled_order] = True
    rounds: list[dict[str, Any]] = []
    queried = np.asarray(labeled_order, dtype=np.int64)
    bar = tqdm(
        total=config.rounds + 1,
        desc=f"{dataset.name}/{strategy.name}/seed {config.seed}",
        disable=not progress,
        leave=False,
    )
    learner = None
    for rnd in range(config.rounds + 1):
        record: dict[str, Any] = {"round": rnd}
        seconds: dict[str, float] = {}
        if rnd > 0:
            unlabeled = np.flatnonzero(~is_labeled)
            lab = np.asarray(labeled_order)
            t0 = time.perf_counter()
            evidence = learner.evidence(
                X_pool[unlabeled],
                X_pool[lab],
                y_pool[lab],
                mc_samples=config.mc_samples if _needs(strategy, "mc_probs") else 0,
                with_inputs=_needs(strategy, "inputs") or _needs(strategy, "labeled_targets"),
            )
            seconds["evidence"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            picked = strategy.select(evidence, config.budget)
            select_seconds = time.perf_counter() - t0
            info = dict(strategy.round_info())
            parts = info.pop("seconds", {})
            # The strategy's own parts (e.g. search) are split out of select, not counted twice.
            seconds["select"] = max(select_seconds - sum(parts.values()), 0.0)
            seconds.update(parts)
            record.update(info)
            queried = unlabeled[np.asarray(picked, dtype=np.int64)]
            is_labeled[queried] = True
            labeled_order.extend(int(i) for i in queried)
        lab = np.asarray(labeled_order)
        t0 = time.perf_counter()
        learner = make_learner(config.seed * 1000 + rnd).fit(X_pool[lab], y_pool[lab], n_classes)
        seconds["train"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        accuracy = float((learner.predict(dataset.X_test) == dataset.y_test).mean())
        seconds["test"] = time.perf_counter() - t0
        record.update(
            labeled=int(is_labeled.sum()),
            accuracy=accuracy,
            queried=[int(i) for i in queried],
            seconds={k: round(v, 4) for k, v in seconds.items()},
        )
        rounds.append(record)
        if on_round is not None:
            on_round(record)
        bar.update(1)
        bar.set_postfix(labeled=record["labeled"], acc=f"{accuracy:.3f}")
    bar.close()
    cfg = asdict(config)
    cfg["pool_size"] = pool_size
    return {
        "dataset": dataset.name,
        "classes": list(dataset.classes),
        "strategy": strategy.name,
        "seed": config.seed,
        "config": cfg,
        "rounds": rounds,
        "aubc": aubc([r["labeled"] for r in rounds], [r["accuracy"] for r in rounds]),
    }
