"""Strategy registry: look strategies up by name."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from autoal.strategies.base import QueryStrategy

__all__ = [
    "PAPER_CANDIDATES",
    "register_strategy",
    "check_candidates",
    "get_strategy",
    "strategy_class",
    "available_strategies",
    "UnknownStrategyError",
]

#: The AutoAL paper's candidate pool: AutoAL's and ALBL's default candidates, and the
#: single strategies that "best single candidate" comparisons choose from.
PAPER_CANDIDATES: tuple[str, ...] = (
    "least_confidence", "margin", "entropy", "var_ratio", "mean_std", "bald", "kmeans",
)

_REGISTRY: dict[str, type[QueryStrategy]] = {}

# Strategies defined outside this package register themselves when their module is imported.
_LAZY_MODULES = (
    "autoal.search.strategy",
    "autoal.strategies.albl",
    "autoal.strategies.loss_prediction",
)


class UnknownStrategyError(ValueError):
    """Raised for a strategy name that is not registered; the message lists the valid names."""


def register_strategy(cls: type[QueryStrategy]) -> type[QueryStrategy]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"strategy name {cls.name!r} is already used by {existing.__name__}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    for module in _LAZY_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise


def available_strategies() -> list[str]:
    """Names of all registered strategies, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def strategy_class(name: str) -> type[QueryStrategy]:
    """The class registered as ``name`` (:class:`UnknownStrategyError` if there is none)."""
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownStrategyError(
            f"unknown strategy {name!r}; valid names: {', '.join(sorted(_REGISTRY))}"
        ) from None


def check_candidates(names: Sequence[str]) -> tuple[str, ...]:
    """Validate a strategy's candidate list: non-empty, no repeats, registered, stateless.

    Strategies that learn across rounds (``stateful``, e.g. ALBL and AutoAL) cannot be
    candidates: their state assumes one call per round. Raises ValueError naming the problem.
    """
    if isinstance(names, str) or not names:
        raise ValueError(f"candidates must name at least one strategy, got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"candidates are repeated: {list(names)}")
    _load_all()
    usable = sorted(n for n, cls in _REGISTRY.items() if not cls.stateful)
    unknown = [n for n in names if n not in usable]
    if unknown:
        raise ValueError(
            f"unknown or unusable candidate(s) {', '.join(map(repr, unknown))} (strategies that "
            f"learn across rounds cannot be candidates); valid names: {', '.join(usable)}"
        )
    return tuple(names)


def get_strategy(name: str, random_state: int | None = None, **params: Any) -> QueryStrategy:
    """Build the strategy registered as ``name`` with ``random_state`` and its own ``params``,
    and check the parameters (:meth:`QueryStrategy.validate`), so that a bad option fails
    here rather than at the first query."""
    strategy = strategy_class(name)(random_state=random_state, **params)
    strategy.validate()
    return strategy
