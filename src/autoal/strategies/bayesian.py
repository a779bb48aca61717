"""Bayesian uncertainty from Monte-Carlo dropout samples ``(T, N, C)``."""

from __future__ import annotations

import numpy as np

from autoal.chunks import score_in_chunks
from autoal.evidence import Evidence
from autoal.strategies.base import QueryStrategy
from autoal.strategies.registry import register_strategy
from autoal.strategies.uncertainty import entropy_of

__all__ = ["VariationRatio", "MeanStd", "BALD"]

# Each score reads a bounded slice of pool rows (all T draws of them) at a time: a
# (T, N, C) temporary, let alone a float64 one, never exists for a large pool.


def _var_ratio(mc: np.ndarray) -> np.ndarray:
    votes = mc.argmax(axis=2)  # (T, n)
    counts = (votes[:, :, None] == np.arange(mc.shape[2])).sum(axis=0)  # (n, C)
    return 1.0 - counts.max(axis=1) / mc.shape[0]


def _mean_std(mc: np.ndarray) -> np.ndarray:
    return mc.std(axis=0).mean(axis=1)


def _bald(mc: np.ndarray) -> np.ndarray:
    return np.maximum(entropy_of(mc.mean(axis=0)) - entropy_of(mc).mean(axis=0), 0.0)


@register_strategy
class VariationRatio(QueryStrategy):
    """Variation ratio (Gal 2017): ``1 - f_mode / T`` over the T MC predictions.

    ``f_mode`` is how many of the T dropout samples predict the most frequent class. (Not
    ``1 - max p``, which ranks exactly like least confidence.)
    """

    name = "var_ratio"
    required_fields = ("mc_probs",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return the fraction of MC samples that disagree with the modal prediction."""
        self._check(evidence)
        return score_in_chunks(evidence.mc_probs, _var_ratio, pool_axis=1)


@register_strategy
class MeanStd(QueryStrategy):
    """Mean over classes of the standard deviation (over MC samples) of ``p(c|x)``."""

    name = "mean_std"
    required_fields = ("mc_probs",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return the class-averaged MC standard deviation (population std, ddof=0)."""
        self._check(evidence)
        return score_in_chunks(evidence.mc_probs, _mean_std, pool_axis=1)


@register_strategy
class BALD(QueryStrategy):
    """BALD: mutual information ``H(mean_t p_t) - mean_t H(p_t)`` between label and weights."""

    name = "bald"
    required_fields = ("mc_probs",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return the mutual information per sample (nats), clipped at zero."""
        self._check(evidence)
        return score_in_chunks(evidence.mc_probs, _bald, pool_axis=1)
