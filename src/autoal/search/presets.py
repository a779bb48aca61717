"""AutoAL's presets: the options each fixes (their names: :data:`autoal.names.PRESET_NAMES`)."""

from __future__ import annotations

from typing import Any

from autoal.strategies.registry import PAPER_CANDIDATES

__all__ = ["LEGACY_RESOLVED", "PRESETS", "PRESET_KEYS"]

# Search and query options every preset shared before wave 2; a preset may now fix them.
_WAVE1_SEARCH: dict[str, Any] = {
    "search_lr": 0.1,
    "kappa": 2.0,
    "n_resplits": 1,
    "coverage_power": 1.0,
    "coverage_pool": "all",
    "candidates": PAPER_CANDIDATES,
}

# The options each preset fixes; an option a user sets explicitly overrides its preset.
PRESETS: dict[str, dict[str, Any]] = {
    # The published design, its numerical bugs fixed.
    "paper": {
        "weights": "per-sample",
        "objective": "max_loss",
        "threshold": "gmm",
        "loss_module": True,
        "coverage": 0.0,
        "fitnet_alternations": 1,
        "batch": "topk",
        "search": "adam",
        "prior": "uniform",
        **_WAVE1_SEARCH,
    },
    # Wave 1's default, by the rule pre-registered in benchmarks/select.toml: the sel-* variant
    # with the best mean AUBC rank over its three groups (sel-persample-lookahead, 3.67). It
    # loses to margin; see docs/RESULTS.md, section 4.
    "autoal-v1": {
        "weights": "per-sample",
        "objective": "lookahead",
        "threshold": "quantile",
        "loss_module": False,
        "coverage": 0.0,
        "fitnet_alternations": 0,
        "batch": "topk",
        "search": "adam",
        "prior": "uniform",
        **_WAVE1_SEARCH,
    },
}
# The default preset, by the rule pre-registered at the top of benchmarks/select-v2.toml: the
# v2-* variant with the best mean AUBC rank over its three groups, v2-kppP-shrink-budget (4.00;
# v2-kppP-prior 4.33, margin 7.00; the reference tcm 2.00; docs/RESULTS.md, section 6c):
# global weights, the shrinkage search from the budget prior over 2 x 2 cross-fitted
# problems, the look-ahead objective and the k-means++ coverage query with the budget power.
PRESETS["autoal"] = {
    **PRESETS["autoal-v1"],
    "weights": "global",
    "search": "shrinkage",
    "prior": "budget",
    "n_resplits": 2,
    "kappa": 2.0,
    "search_lr": 0.05,
    "objective": "lookahead",
    "batch": "kmeanspp",
    "coverage_power": "budget",
}

#: The options a preset fixes (the keys of every preset).
PRESET_KEYS: tuple[str, ...] = tuple(PRESETS["paper"])

#: Options added to the presets after run files began to record AutoAL's resolved options,
#: with the values that reproduce the runs from before they existed. A resumed benchmark
#: takes a stored record without such a key as made with this value, or, for an option that
#: was a plain constructor parameter before, with the parameter's stored value (see
#: ``autoal.bench.resume``).
LEGACY_RESOLVED: dict[str, Any] = {
    "batch": "topk",
    "search": "adam",
    "prior": "uniform",
    **{k: v for k, v in _WAVE1_SEARCH.items() if k != "candidates"},
}
