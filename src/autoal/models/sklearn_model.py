"""A scikit-learn classifier behind the learner contract (probabilities, optional embeddings)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from autoal.data.pool_array import is_file_backed
from autoal.evidence import Evidence, EvidenceRequest

__all__ = ["SklearnClassifier", "EMBEDDINGS", "PREDICT_CHUNK_ROWS"]

#: Values of ``SklearnClassifier(embeddings=...)``.
EMBEDDINGS = ("none", "input")
#: Rows per ``predict_proba`` call of the estimator (larger pools are split).
PREDICT_CHUNK_ROWS = 1 << 15


class SklearnClassifier(BaseEstimator):
    """Any scikit-learn classifier with ``predict_proba`` as a :class:`~autoal.models.Learner`.

    Its evidence has ``probs`` (and ``labeled_probs`` for the labeled set), so it serves the
    strategies that read probabilities (random, least confidence, margin, entropy, and with
    raw inputs AutoAL over such candidates). A scikit-learn model has no dropout, so it
    gives no ``mc_probs``, and no loss module, so no ``predicted_loss``. Probabilities
    always have one column per class id ``0..n_classes-1``, also for classes absent from
    the labeled set. Inputs are flattened to ``(N, features)`` before they reach the
    estimator.

    Parameters
    ----------
    estimator:
        An unfitted scikit-learn classifier with ``predict_proba`` (a
        :class:`~sklearn.pipeline.Pipeline` too); :meth:`fit` trains a clone of it.
    embeddings:
        ``"none"`` (default): no embeddings, since a scikit-learn classifier exposes no
        learned representation in general. ``"input"``: the features the final estimator
        reads (for a Pipeline, the output of its transforming steps; else the flattened
        inputs) serve as ``embeddings`` and ``labeled_embeddings``, which enables k-means,
        coreset and BADGE. For a linear model on those features BADGE's gradient embedding
        is then exactly the gradient of the loss in the model's weights.
    """

    def __init__(self, estimator: BaseEstimator, embeddings: str = "none") -> None:
        self.estimator = estimator
        self.embeddings = embeddings

    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int | None = None) -> SklearnClassifier:
        """Fit a clone of the estimator on flattened ``X`` and class ids ``y``.

        ``n_classes`` defaults to ``max(y) + 1``.
        """
        if not hasattr(self.estimator, "predict_proba"):
            raise TypeError(f"{type(self.estimator).__name__} has no predict_proba")
        if self.embeddings not in EMBEDDINGS:
            raise ValueError(
                f"embeddings must be one of {', '.join(EMBEDDINGS)}, got {self.embeddings!r}"
            )
        X = _flat(X)
        y = np.asarray(y, dtype=np.int64)
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"fit needs matching non-empty X and y, got {len(X)} and {len(y)}")
        self.n_classes_ = int(n_classes if n_classes is not None else y.max() + 1)
        if y.min() < 0 or y.max() >= self.n_classes_:
            raise ValueError(f"class ids must lie in 0..{self.n_classes_ - 1}, got {np.unique(y)}")
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise RuntimeError("this SklearnClassifier is not fitted yet; call fit first")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, n_classes)``."""
        self._check_fitted()
        columns = self.estimator_.classes_.astype(np.int64)
        probs = np.zeros((len(X), self.n_classes_))
        # One call for a pool of up to PREDICT_CHUNK_ROWS rows (as always); a larger one (a
        # memory-mapped pool) is read and predicted a bounded slice of rows at a time.
        for start in range(0, max(len(X), 1), PREDICT_CHUNK_ROWS):
            rows = slice(start, start + PREDICT_CHUNK_ROWS)
            probs[rows, columns] = self.estimator_.predict_proba(_flat(X[rows]))
        return probs

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most likely class id per sample."""
        return self.predict_proba(X).argmax(axis=1)

    def embed(self, X: np.ndarray) -> np.ndarray:
        """The final estimator's input features of ``X``, ``(N, D)`` (see ``embeddings``)."""
        self._check_fitted()
        if isinstance(self.estimator_, Pipeline) and len(self.estimator_.steps) > 1:
            parts = [self.estimator_[:-1].transform(_flat(X[s : s + PREDICT_CHUNK_ROWS]))
                     for s in range(0, max(len(X), 1), PREDICT_CHUNK_ROWS)]
            return np.asarray(np.concatenate(parts), dtype=np.float64)
        if is_file_backed(X) and X.ndim == 2:
            return X  # a memory-mapped pool's rows are the features: not copied
        return np.asarray(_flat(X), dtype=np.float64)

    def evidence(
        self,
        X_pool: np.ndarray,
        X_labeled: np.ndarray | None = None,
        y_labeled: np.ndarray | None = None,
        *,
        request: EvidenceRequest | None = None,
    ) -> Evidence:
        """``probs`` of the pool and ``labeled_probs`` of ``X_labeled`` (when given);
        ``embeddings`` with ``embeddings="input"``; the raw data with
        ``request.with_inputs``. Never ``mc_probs`` or ``predicted_loss``."""
        request = EvidenceRequest() if request is None else request
        with_emb = self.embeddings == "input"
        has_labeled = X_labeled is not None
        with_inputs = request.with_inputs and has_labeled and y_labeled is not None
        return Evidence(
            probs=self.predict_proba(X_pool),
            embeddings=self.embed(X_pool) if with_emb else None,
            labeled_embeddings=(
                self.embed(X_labeled) if with_emb and X_labeled is not None else None
            ),
            labeled_probs=self.predict_proba(X_labeled) if X_labeled is not None else None,
            inputs=X_pool if request.with_inputs else None,
            labeled_inputs=X_labeled if with_inputs else None,
            labeled_targets=y_labeled if with_inputs else None,
        )


def _flat(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    return X.reshape(len(X), -1)
