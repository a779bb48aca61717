"""The benchmark grid: data sets, strategy variants and the cells they make.

A :class:`BenchConfig` (read by :func:`autoal.bench.config.load_config`) holds the data sets,
the resolved settings per (data set, regime), the variants and the seeds; its
:meth:`~BenchConfig.cells` are the simulated runs, each a :class:`Cell`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autoal.loop import BenchMeta

__all__ = ["BenchConfig", "CELL_KEYS", "Cell", "DatasetSpec", "Variant"]

#: Settings of one simulated run, allowed at every level; later levels override earlier ones:
#: ``[protocol]`` < ``[regimes.R]`` < ``[datasets.D]`` < ``[datasets.D.regimes.R]``.
CELL_KEYS: dict[str, str] = {
    "init": "int",
    "budget": "int",
    "rounds": "int",
    "pool_size": "int",
    "epochs": "int",
    "model": "str",
    "mc_samples": "int",
    "batch_size": "int",
    "lr": "float",
    "device": "str",
}


@dataclass(frozen=True)
class DatasetSpec:
    """A data set of the grid: its name in file names and where :func:`load_dataset` finds it.

    Attributes
    ----------
    name:
        Key under ``[datasets]``; used in cell names.
    source:
        A built-in data set name, or the ``path`` given in the config.
    label_column:
        CSV label column (user files only).
    features:
        A ``.npy`` of label-free feature vectors, one row per training sample, for variants
        with ``representation = "features"`` (None: a standardised PCA of the inputs).
    """

    name: str
    source: str
    label_column: str = "label"
    features: str | None = None


@dataclass(frozen=True)
class Variant:
    """A named strategy configuration: one line of every summary table.

    Attributes
    ----------
    name:
        Key under ``[variants]``.
    strategy:
        Registered strategy name.
    options:
        Keyword arguments of the strategy's constructor (``random_state`` is the cell's seed).
    datasets, regimes:
        Restrict the variant to these data sets / regimes (``None``: all).
    mc_overlap:
        Record, in every round of this variant's cells, the top-b overlap of the MC
        strategies between two independent MC dropout draws.
    """

    name: str
    strategy: str
    options: Mapping[str, Any] = field(default_factory=dict)
    datasets: tuple[str, ...] | None = None
    regimes: tuple[str, ...] | None = None
    mc_overlap: bool = False


@dataclass(frozen=True)
class Cell:
    """One simulated run: a (data set, regime, variant, seed) of the grid.

    Attributes
    ----------
    dataset:
        The data set.
    regime:
        Regime name.
    variant:
        The variant.
    seed:
        Seed of the pool subset, the initial set, the model initialisation and the strategy.
    settings:
        Resolved :data:`CELL_KEYS` (``pool_size`` may be ``None``: the whole training split).
    """

    dataset: DatasetSpec
    regime: str
    variant: Variant
    seed: int
    settings: Mapping[str, Any]

    @property
    def name(self) -> str:
        """``<dataset>__<regime>__<variant>__<seed>``: the stem of the cell's run file."""
        return f"{self.dataset.name}__{self.regime}__{self.variant.name}__{self.seed}"

    def fingerprint(self) -> str:
        """A hash of everything that determines the cell's result (names excluded)."""
        payload = {
            "source": self.dataset.source,
            "label_column": self.dataset.label_column,
            "settings": dict(self.settings),
            "strategy": self.variant.strategy,
            "options": dict(self.variant.options),
            "seed": self.seed,
            "mc_overlap": self.variant.mc_overlap,
        }
        if self.dataset.features is not None:  # absent key: fingerprints from before stay
            payload["features"] = self.dataset.features
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def metadata(self) -> BenchMeta:
        """What the cell's run record stores under ``"bench"``."""
        return {
            "cell": self.name,
            "dataset": self.dataset.name,
            "source": self.dataset.source,
            "regime": self.regime,
            "variant": self.variant.name,
            "strategy": self.variant.strategy,
            "options": dict(self.variant.options),
            "seed": self.seed,
            "settings": dict(self.settings),
            "fingerprint": self.fingerprint(),
        }


@dataclass
class BenchConfig:
    """A validated benchmark configuration.

    Attributes
    ----------
    description:
        Free text from the file.
    seeds:
        Seeds of every (data set, regime, variant).
    datasets:
        Data sets by name.
    settings:
        Resolved settings per data set and regime: ``settings[dataset][regime]``.
    variants:
        Variants by name, in file order.
    dropped:
        Names of ``optional`` variants left out because their strategy is not registered.
    """

    description: str
    seeds: tuple[int, ...]
    datasets: dict[str, DatasetSpec]
    settings: dict[str, dict[str, dict[str, Any]]]
    variants: dict[str, Variant]
    dropped: list[str] = field(default_factory=list)

    def cells(self) -> list[Cell]:
        """Every cell, ordered so that partial results are useful early.

        Seed-major: all variants of every (data set, regime) for seed ``s`` come before any
        cell of the next seed.
        """
        out: list[Cell] = []
        for seed in self.seeds:
            for ds_name, regimes in self.settings.items():
                for regime, settings in regimes.items():
                    for variant in self.variants.values():
                        if variant.datasets is not None and ds_name not in variant.datasets:
                            continue
                        if variant.regimes is not None and regime not in variant.regimes:
                            continue
                        out.append(Cell(self.datasets[ds_name], regime, variant, seed, settings))
        return out
