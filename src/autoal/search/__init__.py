"""AutoAL: differentiable search over a mixture of query strategies.

The strategy is :class:`AutoAL` (registered as ``"autoal"``); the pieces are FitNet
cross-fitting (:mod:`.crossfit`), the mixture and soft selection (:mod:`.mixture`), the
objectives (:mod:`.objectives`), the optimiser loops (:mod:`.trainer`: Adam;
:mod:`.shrinkage`: noise-aware steps from a prior, :mod:`.prior`) and the coverage-aware
query (:mod:`.coverage_query`).
"""

from autoal.search.coverage_query import BATCH_MODES, coverage_batch
from autoal.search.mixture import GlobalWeights, SearchNet, combine, soft_mask, soft_threshold
from autoal.search.objectives import RidgeProbe, SearchProblem
from autoal.search.presets import PRESETS
from autoal.search.prior import candidate_prior, diversity_share
from autoal.search.shrinkage import run_shrinkage_search
from autoal.search.strategy import AutoAL
from autoal.search.trainer import SearchOptions, SearchTrace, run_search

__all__ = [
    "AutoAL",
    "BATCH_MODES",
    "GlobalWeights",
    "PRESETS",
    "RidgeProbe",
    "SearchNet",
    "SearchOptions",
    "SearchProblem",
    "SearchTrace",
    "candidate_prior",
    "combine",
    "coverage_batch",
    "diversity_share",
    "run_search",
    "run_shrinkage_search",
    "soft_mask",
    "soft_threshold",
]
