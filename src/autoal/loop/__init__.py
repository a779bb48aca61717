"""The simulated active-learning loop on a fully labeled data set, and its metrics.

:func:`run_active_learning` runs one simulated campaign (:mod:`.runner`); :func:`aubc` is the
area under its learning curve (:mod:`.metrics`); :func:`mc_topb_overlap` measures how stable
the MC strategies' batches are between two MC dropout draws (:mod:`.mc_stability`).
"""

from autoal.loop.mc_stability import MC_STRATEGIES, mc_topb_overlap, topb_overlap
from autoal.loop.metrics import aubc
from autoal.loop.runner import (
    LoopConfig,
    pool_indices,
    run_active_learning,
    run_options,
    validate_sizes,
)

__all__ = [
    "LoopConfig",
    "MC_STRATEGIES",
    "aubc",
    "mc_topb_overlap",
    "pool_indices",
    "run_active_learning",
    "run_options",
    "topb_overlap",
    "validate_sizes",
]
