"""Checking that a benchmark config fits its data: each data set loaded once, before any run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from autoal.bench.grid import BenchConfig
from autoal.names import IMAGE_NETS

if TYPE_CHECKING:
    from autoal.data import Dataset

__all__ = ["check_data"]


def check_data(
    config: BenchConfig, loader: Callable[..., Dataset] | None = None
) -> list[str]:
    """Load each data set once and check every regime fits it; return the problems found.

    Checks that the data set loads, that its ``features`` file (if any) has a row per
    training sample, that ``init + budget * rounds`` fits the pool, that
    ``pool_size`` does not exceed the training split, and that ``cnn``/``resnet18`` are
    only asked of image data.
    """
    from autoal.loop import LoopConfig, validate_sizes

    if loader is None:
        from autoal.data import load_dataset

        loader = load_dataset
    problems: list[str] = []
    for name, spec in config.datasets.items():
        try:
            data = loader(spec.source, label_column=spec.label_column)
        except ValueError as err:  # DatasetError is a ValueError
            problems.append(f"data set {name!r}: {err}")
            continue
        if spec.features is not None:
            from autoal.features import load_feature_vectors

            try:
                load_feature_vectors(spec.features, len(data.X_train))
            except ValueError as err:
                problems.append(f"data set {name!r}: {err}")
        for regime, s in config.settings.get(name, {}).items():
            loop = LoopConfig(**{k: s[k] for k in ("init", "budget", "rounds", "pool_size")})
            try:
                validate_sizes(loop, len(data.X_train))
            except ValueError as err:
                msg = str(err).replace("--", "")
                problems.append(f"data set {name!r}, regime {regime!r}: {msg}")
            if s["model"] in IMAGE_NETS and data.kind != "image":
                problems.append(
                    f"data set {name!r}, regime {regime!r}: model {s['model']} needs image "
                    f"data; {name} is vector data"
                )
        del data
    return problems
