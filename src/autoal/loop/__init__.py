"""The simulated active-learning loop on a fully labeled data set, and its metrics.

:func:`run_active_learning` runs one simulated campaign (:mod:`.runner`); :func:`aubc` is the
area under its learning curve (:mod:`.metrics`); :func:`mc_topb_overlap` measures how stable
the MC strategies' batches are between two MC dropout draws (:mod:`.mc_stability`);
:class:`RunRecord` and :class:`RoundRecord` describe the record a run returns
(:mod:`.record`).
"""

from autoal.loop.mc_stability import MC_STRATEGIES, mc_topb_overlap, topb_overlap
from autoal.loop.metrics import aubc
from autoal.loop.record import BenchMeta, FeaturesInfo, RoundRecord, RunConfig, RunRecord
from autoal.loop.runner import (
    LoopConfig,
    pool_indices,
    run_active_learning,
    run_options,
    validate_sizes,
)

__all__ = [
    "BenchMeta",
    "FeaturesInfo",
    "LoopConfig",
    "MC_STRATEGIES",
    "RoundRecord",
    "RunConfig",
    "RunRecord",
    "aubc",
    "mc_topb_overlap",
    "pool_indices",
    "run_active_learning",
    "run_options",
    "topb_overlap",
    "validate_sizes",
]
