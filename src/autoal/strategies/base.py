"""The query-strategy contract that every strategy implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from autoal.evidence import Evidence

__all__ = ["PoolTooLargeError", "QueryStrategy", "check_budget", "top_k"]


class PoolTooLargeError(ValueError):
    """Raised before any work when a pool exceeds a strategy's ``max_pool_samples``."""


def check_budget(budget: int, n_samples: int) -> int:
    """Return ``budget`` as an int after checking ``1 <= budget <= n_samples``."""
    if isinstance(budget, bool) or int(budget) != budget:
        raise ValueError(f"budget must be an integer, got {budget!r}")
    budget = int(budget)
    if budget < 1:
        raise ValueError(f"budget must be at least 1, got {budget}")
    if budget > n_samples:
        raise ValueError(f"budget {budget} exceeds the pool size {n_samples}")
    return budget


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``k`` highest scores, ties broken by a random order drawn from ``rng``."""
    tie_break = rng.permutation(len(scores))
    neg = -np.asarray(scores, dtype=np.float64)
    # Sort only the samples that can be in the top k (linear time in N, same result).
    kth = np.partition(neg, k - 1)[k - 1] if 0 < k < len(neg) else np.inf
    cand = np.flatnonzero(neg <= kth)
    order = cand[np.lexsort((tie_break[cand], neg[cand]))]
    return order[:k].astype(np.int64)


class QueryStrategy(BaseEstimator, ABC):
    """Base class: a strategy scores pool samples and selects a batch to label.

    Subclasses set ``name``, declare the :class:`Evidence` fields they read and implement
    :meth:`score`. Batch strategies (k-means, coreset, BADGE) override :meth:`select` as
    well.

    ``requires`` is read on an instance, always: a tuple of :class:`Evidence` field names.
    A strategy whose needs are fixed sets the class attribute ``required_fields``, which
    the base class's ``requires`` property returns; a strategy whose needs follow from its
    parameters (ALBL and AutoAL: the union of their candidates' needs) overrides the
    ``requires`` property. :func:`autoal.models.evidence_request` maps ``requires`` to
    what a learner must compute.

    Strategies are scikit-learn estimators: ``get_params``, ``set_params``,
    ``sklearn.base.clone`` and ``repr`` work. Constructors only store their parameters
    (every ``__init__`` argument under its own name, unchanged); :meth:`validate` checks
    them, on first use or when :func:`~autoal.strategies.get_strategy` builds the strategy.
    The random generator is created on first use from ``random_state``, so two strategies
    built with the same ``random_state`` and called in the same order give the same result.

    Parameters
    ----------
    random_state:
        Seeds the strategy's random generator (tie-breaking and any random draws).
    """

    name: ClassVar[str] = ""
    #: The evidence fields every instance of the class reads (see ``requires``).
    required_fields: ClassVar[tuple[str, ...]] = ()
    #: True for strategies that learn across rounds (ALBL, AutoAL): their state assumes one
    #: call per round of one campaign, so they cannot be candidates of another strategy.
    stateful: ClassVar[bool] = False
    #: Largest pool the strategy handles within the memory bound of docs/scale.md (pool array
    #: + 1 GB); None for strategies that read the pool in chunks or approximate above a size.
    max_pool_samples: ClassVar[int | None] = None

    def __init__(self, random_state: int | None = None) -> None:
        self.random_state = random_state
        self._rng: np.random.Generator | None = None

    @property
    def requires(self) -> tuple[str, ...]:
        """The :class:`Evidence` fields this strategy reads (default: ``required_fields``)."""
        return tuple(self.required_fields)

    def validate(self) -> None:
        """Check the parameters; raise ValueError naming a bad one (none to check here)."""

    @property
    def rng(self) -> np.random.Generator:
        """The strategy's random generator, seeded from ``random_state`` on first use."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.random_state)
        return self._rng

    def _check(self, evidence: Evidence) -> int:
        evidence.require(*self.requires)
        n = evidence.n_samples
        if self.max_pool_samples is not None and n > self.max_pool_samples:
            scalable = sorted(
                cls.name for cls in _subclasses(QueryStrategy)
                if cls.name and cls.max_pool_samples is None
            )
            raise PoolTooLargeError(
                f"strategy {self.name!r} has no approximation for pools above "
                f"{self.max_pool_samples:,} samples (this pool has {n:,}); strategies that "
                f"scale: {', '.join(scalable)}"
            )
        return n

    @abstractmethod
    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Per-sample scores, shape ``(N,)``; higher means more worth labeling.

        ``budget`` is used only by batch strategies whose score depends on the batch size.
        """

    def select(self, evidence: Evidence, budget: int) -> np.ndarray:
        """Indices of ``budget`` distinct pool samples to label next (highest scores first).

        The scores behind the pick are kept as ``last_scores_`` (see :meth:`_pick`).
        """
        n = self._check(evidence)
        budget = check_budget(budget, n)
        return self._pick(self.score(evidence, budget=budget), budget)

    def _pick(self, scores: np.ndarray, budget: int) -> np.ndarray:
        """The top ``budget`` of ``scores`` (ties broken by :attr:`rng`); keeps ``scores`` as
        ``last_scores_`` so that callers can report them with the pick (a batch strategy's
        ``score(evidence, budget)`` already ranks its batch first, in pick order)."""
        self.last_scores_ = np.asarray(scores, dtype=np.float64)
        return top_k(scores, budget, self.rng)

    def round_info(self) -> dict[str, Any]:
        """What the last :meth:`select` call wants recorded in the run (empty by default).

        A ``"seconds"`` entry (a dict of named timings) is merged into the round's timings;
        every other key is stored in the round's record as it is.
        """
        return {}


def _subclasses(cls: type) -> set[type[QueryStrategy]]:
    """Every strategy class defined so far (the registry's, once it has loaded them)."""
    found: set[type[QueryStrategy]] = set()
    sub: type[QueryStrategy]
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found
