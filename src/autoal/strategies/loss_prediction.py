"""Learning loss for active learning (Yoo & Kweon, CVPR 2019) as a strategy of its own."""

from __future__ import annotations

import numpy as np

from autoal.evidence import Evidence
from autoal.strategies.base import QueryStrategy
from autoal.strategies.registry import register_strategy

__all__ = ["LossPrediction"]


@register_strategy
class LossPrediction(QueryStrategy):
    """Rank the pool by the loss a loss-prediction module predicts for each sample.

    The module (:mod:`autoal.models.loss_module`) is trained jointly with the task model;
    the simulated loop turns it on for any strategy that requires ``predicted_loss``
    (``TorchClassifier(loss_module=True)``). Higher predicted loss = more worth labeling.
    """

    name = "loss_prediction"
    required_fields = ("predicted_loss",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return ``Evidence.predicted_loss``."""
        self._check(evidence)
        assert evidence.predicted_loss is not None
        return np.asarray(evidence.predicted_loss, dtype=np.float64).copy()
