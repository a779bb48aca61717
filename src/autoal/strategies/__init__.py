"""Query strategies: each scores pool samples from :class:`~autoal.Evidence` and selects a batch.

Use :func:`get_strategy` to build one by name and :func:`available_strategies` to list them.
"""

from autoal.strategies import (  # noqa: F401  (register)
    badge,
    bayesian,
    cluster_margin,
    diversity,
    probcover,
    random,
    tcm,
    typiclust,
    uherding,
    uncertainty,
)
from autoal.strategies.base import QueryStrategy, check_budget, top_k
from autoal.strategies.registry import (
    PAPER_CANDIDATES,
    UnknownStrategyError,
    available_strategies,
    get_strategy,
    register_strategy,
)

__all__ = [
    "PAPER_CANDIDATES",
    "QueryStrategy",
    "UnknownStrategyError",
    "available_strategies",
    "check_budget",
    "get_strategy",
    "register_strategy",
    "top_k",
]
