"""AutoAL: differentiable search over a mixture of query strategies.

The strategy is :class:`AutoAL` (registered as ``"autoal"``); the pieces are FitNet
cross-fitting (:mod:`.crossfit`), the mixture and soft selection (:mod:`.mixture`), the
objectives (:mod:`.objectives`) and the optimiser loop (:mod:`.trainer`).
"""

from autoal.search.mixture import GlobalWeights, SearchNet, combine, soft_mask, soft_threshold
from autoal.search.objectives import RidgeProbe, SearchProblem
from autoal.search.presets import PRESETS
from autoal.search.strategy import AutoAL
from autoal.search.trainer import SearchOptions, SearchTrace, run_search

__all__ = [
    "AutoAL",
    "GlobalWeights",
    "PRESETS",
    "RidgeProbe",
    "SearchNet",
    "SearchOptions",
    "SearchProblem",
    "SearchTrace",
    "combine",
    "run_search",
    "soft_mask",
    "soft_threshold",
]
