"""A scikit-learn classifier behind the learner adapter (probabilities only)."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, clone

from autoal.evidence import Evidence

__all__ = ["SklearnClassifier"]


class SklearnClassifier:
    """Wraps any scikit-learn classifier with ``predict_proba``.

    Its evidence has ``probs`` only, so it serves the strategies that need nothing else
    (random, least confidence, margin, entropy). Probabilities always have one column per
    class id ``0..n_classes-1``, also for classes absent from the labeled set.
    """

    def __init__(self, estimator: ClassifierMixin) -> None:
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int | None = None) -> SklearnClassifier:
        """Fit a clone of the estimator on flattened ``X``."""
        if not hasattr(self.estimator, "predict_proba"):
            raise TypeError(f"{type(self.estimator).__name__} has no predict_proba")
        y = np.asarray(y, dtype=np.int64)
        self.n_classes_ = int(n_classes if n_classes is not None else y.max() + 1)
        self.estimator_ = clone(self.estimator).fit(np.asarray(X).reshape(len(X), -1), y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, n_classes)``."""
        raw = self.estimator_.predict_proba(np.asarray(X).reshape(len(X), -1))
        probs = np.zeros((len(raw), self.n_classes_))
        probs[:, self.estimator_.classes_.astype(np.int64)] = raw
        return probs

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most likely class id per sample."""
        return self.predict_proba(X).argmax(axis=1)

    def evidence(self, X_pool: np.ndarray, *args: object, **kwargs: object) -> Evidence:
        """Evidence with ``probs`` only."""
        return Evidence(probs=self.predict_proba(X_pool))
