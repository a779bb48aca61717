"""The names the library, the ``autoal`` command and the bench config accept: one home each.

They live here, apart from the code they name, because ``autoal --help`` (click choices) and
the bench config check need them without importing torch, which :mod:`autoal.models` and
:mod:`autoal.search` do. The candidate list is :data:`autoal.strategies.PAPER_CANDIDATES` and
the AutoAL presets' settings are :data:`autoal.search.presets.PRESETS`.
"""

from __future__ import annotations

__all__ = [
    "ABLATIONS",
    "BATCH_MODES",
    "COVERAGE_POOLS",
    "DEVICE_NAMES",
    "IMAGE_NETS",
    "MODEL_NAMES",
    "NET_NAMES",
    "OBJECTIVES",
    "PRESET_NAMES",
    "PRIORS",
    "SEARCHES",
    "THRESHOLDS",
    "WEIGHTS",
]

# -- task models (autoal.models) -----------------------------------------------------------
#: Networks :func:`autoal.models.build_net` builds.
NET_NAMES: tuple[str, ...] = ("mlp", "cnn", "resnet18")
#: The networks that need image data.
IMAGE_NETS: tuple[str, ...] = ("cnn", "resnet18")
#: What ``--model`` and a bench config's ``model`` accept: ``"auto"`` is cnn for images, mlp
#: for vectors.
MODEL_NAMES: tuple[str, ...] = ("auto", *NET_NAMES)
#: Devices: ``"auto"`` is CUDA when available, else CPU; ``"cuda:N"`` is accepted as well.
DEVICE_NAMES: tuple[str, ...] = ("auto", "cpu", "cuda")

# -- AutoAL's options (autoal.search) ------------------------------------------------------
#: Presets of :class:`autoal.search.AutoAL` (their settings: ``autoal.search.presets``).
PRESET_NAMES: tuple[str, ...] = ("autoal", "autoal-v1", "paper")
#: Search objectives.
OBJECTIVES: tuple[str, ...] = ("max_loss", "lookahead", "balance", "hindsight")
#: Soft-selection thresholds.
THRESHOLDS: tuple[str, ...] = ("quantile", "gmm")
#: Mixture weights: one global set, or per sample from a SearchNet.
WEIGHTS: tuple[str, ...] = ("global", "per-sample")
#: Ablations: none; equal weights; untrained random weights; no loss-prediction module; the
#: prior's weights without a search.
ABLATIONS: tuple[str, ...] = ("none", "uniform", "frozen", "no-loss-module", "prior")
#: How the search moves the weights: Adam, or noise-aware steps from a prior.
SEARCHES: tuple[str, ...] = ("adam", "shrinkage")
#: Where the search starts / shrinks to: equal weights, or the labels-per-class prior.
PRIORS: tuple[str, ...] = ("uniform", "budget")
#: How the batch is drawn from the mixed score: its top b, weighted herding, k-means++.
BATCH_MODES: tuple[str, ...] = ("topk", "coverage", "kmeanspp")
#: Which samples the coverage query draws from: all, or the top of the mixed score.
COVERAGE_POOLS: tuple[str, ...] = ("all", "budget")
