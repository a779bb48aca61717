"""Uniform random sampling, the baseline every strategy must beat."""

from __future__ import annotations

import numpy as np

from autoal.evidence import Evidence
from autoal.strategies.base import QueryStrategy
from autoal.strategies.registry import register_strategy

__all__ = ["RandomSampling"]


@register_strategy
class RandomSampling(QueryStrategy):
    """Scores are independent uniform draws; needs only the pool size."""

    name = "random"
    required_fields = ()

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return one uniform [0, 1) draw per sample."""
        return self.rng.random(self._check(evidence))
