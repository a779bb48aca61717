"""The checks of :meth:`autoal.search.AutoAL.validate`: cheap, no work; a bad option raises a
ValueError that names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoal.names import (
    ABLATIONS,
    BATCH_MODES,
    COVERAGE_POOLS,
    OBJECTIVES,
    PRIORS,
    SEARCHES,
    THRESHOLDS,
    WEIGHTS,
)
from autoal.search.presets import PRESETS
from autoal.strategies.registry import check_candidates
from autoal.strategies.representation import REPRESENTATIONS
from autoal.strategies.subsample import check_exact_max

if TYPE_CHECKING:
    from autoal.search.strategy import AutoAL

__all__ = ["check_options"]


def check_options(strategy: AutoAL) -> None:
    """Raise ValueError naming the first bad option of ``strategy``."""
    if strategy.preset not in PRESETS:
        raise ValueError(
            f"unknown preset {strategy.preset!r}; valid presets: {', '.join(PRESETS)}"
        )
    cfg = strategy.resolved()
    checks = (
        ("weights", cfg["weights"], WEIGHTS),
        ("objective", cfg["objective"], OBJECTIVES),
        ("threshold", cfg["threshold"], THRESHOLDS),
        ("ablation", strategy.ablation, ABLATIONS),
        ("batch", cfg["batch"], BATCH_MODES),
        ("representation", strategy.representation, REPRESENTATIONS),
        ("search", cfg["search"], SEARCHES),
        ("coverage_pool", cfg["coverage_pool"], COVERAGE_POOLS),
        ("prior", cfg["prior"], PRIORS),
    )
    for name, value, valid in checks:
        if value not in valid:
            raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
    check_candidates(cfg["candidates"])
    if cfg["fitnet_alternations"] < 0:
        raise ValueError(
            f"fitnet_alternations must be non-negative, got {cfg['fitnet_alternations']}"
        )
    if strategy.gmm_every < 1:
        raise ValueError(f"gmm_every must be at least 1, got {strategy.gmm_every}")
    if strategy.n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {strategy.n_folds}")
    if not 0.0 < strategy.select_fraction < 1.0:
        raise ValueError(f"select_fraction must be in (0, 1), got {strategy.select_fraction}")
    if not 0.0 <= strategy.momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {strategy.momentum}")
    if cfg["objective"] == "hindsight" and (cfg["search"], cfg["weights"]) != (
        "shrinkage", "global"
    ):
        raise ValueError("objective='hindsight' needs weights='global' and search='shrinkage'")
    if cfg["search"] == "shrinkage" and cfg["weights"] != "global":
        raise ValueError(
            "search='shrinkage' (the autoal preset's) needs weights='global'; for per-sample "
            "weights set search='adam' or preset='autoal-v1'"
        )
    if cfg["kappa"] < 0:
        raise ValueError(f"kappa must be non-negative, got {cfg['kappa']}")
    power = cfg["coverage_power"]
    if power != "budget" and not (isinstance(power, int | float) and power >= 0):
        raise ValueError(
            f"coverage_power must be a non-negative number or 'budget', got {power!r}"
        )
    check_exact_max(strategy.exact_max_samples)
    if cfg["n_resplits"] < 1:
        raise ValueError(f"n_resplits must be at least 1, got {cfg['n_resplits']}")
    if not cfg["search_lr"] > 0:
        raise ValueError(f"search_lr must be positive, got {cfg['search_lr']}")
    if cfg["coverage"] < 0:
        raise ValueError(f"coverage must be non-negative, got {cfg['coverage']}")
