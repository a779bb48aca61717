"""Strategy registry: look strategies up by name."""

from __future__ import annotations

import importlib
from typing import Any

from autoal.strategies.base import QueryStrategy

__all__ = [
    "PAPER_CANDIDATES",
    "register_strategy",
    "get_strategy",
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


def get_strategy(name: str, random_state: int | None = None, **params: Any) -> QueryStrategy:
    """Build the strategy registered as ``name`` with ``random_state`` and its own ``params``."""
    _load_all()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise UnknownStrategyError(
            f"unknown strategy {name!r}; valid names: {', '.join(sorted(_REGISTRY))}"
        ) from None
    return cls(random_state=random_state, **params)
