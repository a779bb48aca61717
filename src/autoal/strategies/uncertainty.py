"""Uncertainty sampling from the model's class probabilities."""

from __future__ import annotations

import numpy as np
from scipy.special import entr

from autoal.chunks import score_in_chunks
from autoal.evidence import Evidence
from autoal.strategies.base import QueryStrategy
from autoal.strategies.registry import register_strategy

__all__ = ["LeastConfidence", "Margin", "Entropy", "entropy_of", "margin_of"]

# Scores are computed a bounded chunk of rows at a time (autoal.chunks), so a
# memory-mapped pool of millions is read once and never copied whole.


def entropy_of(probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy (nats) along ``axis``, with ``0 log 0 = 0``."""
    return entr(probs).sum(axis=axis)


def margin_of(probs: np.ndarray) -> np.ndarray:
    """``1 - (p_top1 - p_top2)`` per row of ``probs`` (N, C) with ``C >= 2``."""
    top2 = np.partition(probs, -2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


@register_strategy
class LeastConfidence(QueryStrategy):
    """``1 - max_c p(c|x)``: the model's doubt about its own prediction."""

    name = "least_confidence"
    required_fields = ("probs",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return ``1 - max p`` per sample."""
        self._check(evidence)
        return score_in_chunks(evidence.probs, lambda p: 1.0 - p.max(axis=1))


@register_strategy
class Margin(QueryStrategy):
    """``1 - (p_top1 - p_top2)``: how close the two most likely classes are."""

    name = "margin"
    required_fields = ("probs",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return one minus the gap between the two largest probabilities."""
        self._check(evidence)
        probs = evidence.probs
        assert probs is not None  # _check required it
        if probs.shape[1] < 2:
            return np.zeros(len(probs))
        return score_in_chunks(probs, margin_of)


@register_strategy
class Entropy(QueryStrategy):
    """``-sum_c p log p``: the entropy of the predicted class distribution."""

    name = "entropy"
    required_fields = ("probs",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return the predictive entropy per sample (nats)."""
        self._check(evidence)
        return score_in_chunks(evidence.probs, entropy_of)
