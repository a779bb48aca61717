"""The run record: the JSON that ``autoal run`` writes, ``autoal bench`` stores per cell and
``autoal report`` reads.

These are typing-only descriptions (``TypedDict``) of plain dicts: the records stay JSON
objects, and a record written before a key was added still loads (the later keys are
optional).
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["BenchMeta", "FeaturesInfo", "RoundRecord", "RunConfig", "RunRecord"]


class _RoundRequired(TypedDict):
    round: int
    labeled: int
    accuracy: float
    queried: list[int]
    seconds: dict[str, float]


class RoundRecord(_RoundRequired, total=False):
    """One round of a run: round 0 is the random initial set, each later one a query.

    Always present: ``round``, ``labeled`` (labels after the round), ``accuracy`` (test
    accuracy of the model trained on them), ``queried`` (pool indices labeled in the round,
    in pick order) and ``seconds`` (named timings: ``evidence``, ``select``, ``train``,
    ``test`` and a strategy's own parts such as ``search``). The other keys are what a
    strategy's ``round_info()`` adds (AutoAL: ``weights``, ``batch_weights``, ``search``;
    ALBL: ``weights``, ``albl``; ...) or what the benchmark adds (``mc_overlap``).
    """

    weights: dict[str, float]
    batch_weights: dict[str, float]
    search: dict[str, Any]
    albl: dict[str, Any]
    tcm: dict[str, Any]
    uherding: dict[str, float]
    cluster_margin: dict[str, int]
    probcover_delta: float
    mc_overlap: dict[str, Any]


class _RunConfigRequired(TypedDict):
    init: int
    budget: int
    rounds: int
    seed: int
    pool_size: int
    model: str
    epochs: int
    batch_size: int
    lr: float
    mc_samples: int
    device: str
    strategy_params: dict[str, Any]


class RunConfig(_RunConfigRequired, total=False):
    """The :class:`~autoal.loop.LoopConfig` a run used, with ``pool_size`` resolved to the
    pool's size; ``features_path`` only when the run was given feature vectors."""

    features_path: str


class FeaturesInfo(TypedDict):
    """Which label-free features a run's strategy read: ``source`` (``"pca"`` or the
    ``.npy`` path) and their dimension ``dim``."""

    source: str
    dim: int


class _BenchRequired(TypedDict):
    dataset: str
    regime: str
    variant: str
    seed: int


class BenchMeta(_BenchRequired, total=False):
    """The ``"bench"`` entry of a benchmark cell's run record: which cell it is (``cell``,
    ``dataset``, ``source``, ``regime``, ``variant``, ``strategy``, ``options``, ``seed``,
    ``settings``, ``fingerprint``), the strategy's parameters and how long the cell took.

    Run files from before this metadata carried every key hold only the four that the
    file name gives (``dataset``, ``regime``, ``variant``, ``seed``); the report adds
    ``strategy``.
    """

    cell: str
    source: str
    strategy: str
    options: dict[str, Any]
    settings: dict[str, Any]
    fingerprint: str
    parameters: dict[str, Any]
    wall_seconds: float
    torch_threads: int


class _RunRequired(TypedDict):
    dataset: str
    classes: list[str]
    strategy: str
    seed: int
    config: RunConfig
    rounds: list[RoundRecord]
    aubc: float


class RunRecord(_RunRequired, total=False):
    """One simulated run, as :func:`~autoal.loop.run_active_learning` returns it.

    ``dataset``, ``classes`` (class names, index = class id), ``strategy`` (its registered
    name), ``seed``, ``config`` (:class:`RunConfig`), ``rounds`` (one
    :class:`RoundRecord` per round, round 0 first) and ``aubc`` (the normalised area under
    the budget curve); ``features`` (:class:`FeaturesInfo`) when the strategy read
    label-free features, and ``bench`` (:class:`BenchMeta`) in a benchmark's run files.
    """

    features: FeaturesInfo
    bench: BenchMeta
