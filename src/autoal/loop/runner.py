"""The simulated active-learning loop: labels come from the data set's ground truth."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, cast

import numpy as np
from tqdm.auto import tqdm

from autoal.data import Dataset, take_rows
from autoal.loop.metrics import aubc
from autoal.loop.record import FeaturesInfo, RoundRecord, RunConfig, RunRecord
from autoal.models import DEFAULT_MC_SAMPLES, Learner, evidence_request, torch_classifier_for
from autoal.strategies import QueryStrategy, get_strategy

__all__ = ["LoopConfig", "run_active_learning", "run_options", "validate_sizes", "pool_indices"]


@dataclass
class LoopConfig:
    """Protocol settings of one simulated run (see docs/ and the benchmark protocol).

    Attributes
    ----------
    init:
        Random labels before the first query (round 0).
    budget:
        Labels queried per round.
    rounds:
        Query rounds.
    seed:
        Seeds the pool subset, the initial set, the strategy and each round's model.
    pool_size:
        A random subset of the training split of this size forms the pool (None: all).
    model, epochs, batch_size, lr:
        The :class:`~autoal.models.TorchClassifier`'s network and training schedule.
    mc_samples:
        Monte-Carlo dropout samples ``T`` for strategies that read ``mc_probs``.
    device:
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    strategy_params:
        Options of a strategy given by name (the record stores them as run).
    features_path:
        A ``.npy`` of label-free feature vectors, one row per training sample, for strategies
        built with ``representation="features"`` (None: a standardised PCA of the pool's
        inputs, :func:`autoal.features.label_free_features`, fitted once per run).
    """

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
    features_path: str | None = None


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
    learner_factory: Callable[[int], Learner] | None = None,
    on_round: Callable[[RoundRecord], None] | None = None,
) -> RunRecord:
    """Run ``config.rounds`` rounds of pool-based active learning and return the run record.

    The record has the schema of ``autoal run``'s JSON: ``dataset``, ``strategy``, ``seed``,
    ``config``, ``rounds`` (round 0 is the random initial set) and ``aubc``. ``queried``
    holds indices into the pool. Every strategy run with the same seed sees the same pool,
    the same initial set and the same model initialisation in each round.

    ``learner_factory(round_seed)`` builds the learner (any
    :class:`~autoal.models.Learner`; test accuracy is the argmax of its ``predict_proba``);
    the default is a :class:`~autoal.models.TorchClassifier` with the config's settings.
    ``on_round(round_record)`` is called after each round and may add keys to the record.
    """
    pool_size = validate_sizes(config, len(dataset.X_train))
    if isinstance(strategy, str):
        params = run_options(strategy, config.strategy_params, config.rounds)
        config = replace(config, strategy_params=params)  # the record says what ran
        strategy = get_strategy(strategy, random_state=config.seed, **params)
    pool = pool_indices(len(dataset.X_train), config.pool_size, config.seed)
    # A memory-mapped pool (an array folder) is never copied: its subsets are lazy rows.
    X_pool, y_pool = take_rows(dataset.X_train, pool), dataset.y_train[pool]
    n_classes = dataset.n_classes

    def make_learner(round_seed: int) -> Learner:
        if learner_factory is not None:
            return learner_factory(round_seed)
        return torch_classifier_for(strategy, config, round_seed)

    request = evidence_request(strategy, mc_samples=config.mc_samples)
    features, features_info = _run_features(
        request.fields, X_pool, pool, len(dataset.X_train), config
    )
    rng = np.random.default_rng([config.seed, 2])
    labeled_order = list(rng.choice(pool_size, config.init, replace=False))
    is_labeled = np.zeros(pool_size, dtype=bool)
    is_labeled[labeled_order] = True
    rounds: list[RoundRecord] = []
    queried = np.asarray(labeled_order, dtype=np.int64)
    bar = tqdm(
        total=config.rounds + 1,
        desc=f"{dataset.name}/{strategy.name}/seed {config.seed}",
        disable=not progress,
        leave=False,
    )
    learner: Learner | None = None
    for rnd in range(config.rounds + 1):
        record: dict[str, Any] = {"round": rnd}
        seconds: dict[str, float] = {}
        if rnd > 0:
            unlabeled = np.flatnonzero(~is_labeled)
            lab = np.asarray(labeled_order)
            assert learner is not None  # trained at the end of the previous round
            t0 = time.perf_counter()
            evidence = learner.evidence(
                take_rows(X_pool, unlabeled),
                X_pool[lab],
                y_pool[lab],
                request=request,
            )
            if features is not None:
                evidence = replace(
                    evidence, features=features[unlabeled], labeled_features=features[lab]
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
        predicted = np.asarray(learner.predict_proba(dataset.X_test)).argmax(axis=1)
        accuracy = float((predicted == dataset.y_test).mean())
        seconds["test"] = time.perf_counter() - t0
        record.update(
            labeled=int(is_labeled.sum()),
            accuracy=accuracy,
            queried=[int(i) for i in queried],
            seconds={k: round(v, 4) for k, v in seconds.items()},
        )
        rounds.append(cast(RoundRecord, record))
        if on_round is not None:
            on_round(rounds[-1])
        bar.update(1)
        bar.set_postfix(labeled=record["labeled"], acc=f"{accuracy:.3f}")
    bar.close()
    cfg = asdict(config)
    cfg["pool_size"] = pool_size
    if cfg["features_path"] is None:
        del cfg["features_path"]  # records of runs without features keep their old shape
    run: RunRecord = {
        "dataset": dataset.name,
        "classes": list(dataset.classes),
        "strategy": strategy.name,
        "seed": config.seed,
        "config": cast(RunConfig, cfg),
        "rounds": rounds,
        "aubc": aubc([r["labeled"] for r in rounds], [r["accuracy"] for r in rounds]),
    }
    if features_info is not None:
        run["features"] = features_info
    return run


def _run_features(
    fields: tuple[str, ...], X_pool: np.ndarray, pool: np.ndarray, n_train: int,
    config: LoopConfig,
) -> tuple[np.ndarray | None, FeaturesInfo | None]:
    """The run's label-free features of the pool, once per run, when a strategy reads them
    (``representation="features"``), and what the record says of them."""
    if "features" not in fields and "labeled_features" not in fields:
        return None, None
    from autoal.features import label_free_features, load_feature_vectors

    if config.features_path is not None:
        features = take_rows(load_feature_vectors(config.features_path, n_train), pool)
        source = str(config.features_path)
    else:
        features = label_free_features(X_pool, random_state=config.seed)
        source = "pca"
    return features, {"source": source, "dim": int(features.shape[1])}
