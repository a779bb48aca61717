"""The learner contract, and the one place that maps a strategy to the evidence it needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np

from autoal.evidence import INPUT_FIELDS, Evidence, EvidenceRequest
from autoal.models.torch_model import DEFAULT_MC_SAMPLES

__all__ = ["Learner", "Requiring", "evidence_request"]


@runtime_checkable
class Learner(Protocol):
    """What the loop, the campaign and :class:`~autoal.ActiveLearner` call on a model.

    :class:`~autoal.models.TorchClassifier`, :class:`~autoal.models.SklearnClassifier` and
    any object with these three methods satisfy it (``isinstance(obj, Learner)`` checks that
    the methods exist, not their signatures).

    ``fit(X, y, n_classes=None)`` trains on class ids ``y`` in ``0..n_classes-1`` and
    returns the learner; ``predict_proba(X)`` gives ``(N, n_classes)`` probabilities;
    ``evidence(X_pool, X_labeled, y_labeled, request=...)`` gives the :class:`Evidence`
    about the pool that ``request`` asks for (``None``: the learner's default), as far as
    the learner can compute it, leaving what it cannot as None.
    """

    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int | None = None) -> Learner:
        """Train on ``(X, y)``; ``n_classes`` defaults to ``max(y) + 1``."""
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, n_classes)``."""
        ...

    def evidence(
        self,
        X_pool: np.ndarray,
        X_labeled: np.ndarray | None = None,
        y_labeled: np.ndarray | None = None,
        *,
        request: EvidenceRequest | None = None,
    ) -> Evidence:
        """What the strategies need about the pool (and the labeled set), per ``request``."""
        ...


class Requiring(Protocol):
    """Anything with a ``requires`` tuple of :class:`Evidence` field names (a strategy)."""

    @property
    def requires(self) -> tuple[str, ...]:
        """The evidence fields it reads."""
        ...


def evidence_request(
    strategy: Requiring | Iterable[Requiring], mc_samples: int = DEFAULT_MC_SAMPLES
) -> EvidenceRequest:
    """What a learner must compute for ``strategy`` (or for every strategy in an iterable).

    ``mc_probs`` asks for ``mc_samples`` Monte-Carlo samples (none otherwise); ``inputs``,
    ``labeled_inputs`` or ``labeled_targets`` ask for the raw data to ride along;
    ``predicted_loss`` asks for a learner trained with a loss-prediction module.

    Parameters
    ----------
    strategy:
        A query strategy, or several (their needs are joined).
    mc_samples:
        ``T`` when a strategy reads ``mc_probs``.
    """
    strategies = list(strategy) if isinstance(strategy, Iterable) else [strategy]
    fields: list[str] = []
    for s in strategies:
        fields += [f for f in s.requires if f not in fields]
    return EvidenceRequest(
        fields=tuple(fields),
        mc_samples=int(mc_samples) if "mc_probs" in fields else 0,
        with_inputs=any(f in fields for f in INPUT_FIELDS),
        loss_module="predicted_loss" in fields,
    )
