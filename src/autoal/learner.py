"""``ActiveLearner``: pool-based active learning from Python, around any classifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from autoal.data.pool_array import is_file_backed, take_rows
from autoal.evidence import Evidence, EvidenceRequest, MissingEvidenceError
from autoal.models import (
    DEFAULT_MC_SAMPLES,
    Learner,
    SklearnClassifier,
    evidence_request,
)
from autoal.strategies import QueryStrategy, available_strategies, get_strategy
from autoal.strategies.diversity import batch_first_scores

__all__ = ["ActiveLearner"]


class ActiveLearner(ClassifierMixin, BaseEstimator):
    """Fit a classifier on the labels so far, ask which pool samples to label next, teach.

    ::

        al = ActiveLearner(LogisticRegression(max_iter=1000), strategy="margin")
        al.fit(X_labeled, y_labeled)            # or al.teach(...) from nothing
        idx = al.query(X_pool, n=10)            # distinct indices into X_pool
        al.teach(X_pool[idx], oracle(idx))      # adds the labels and refits

    ``X_pool`` is the unlabeled pool: pass only samples that are not labeled yet (remove
    the ones you taught, or name them in ``query(..., exclude=...)``); the learner never
    compares it with the labeled set. Labels may
    be any sortable values (class names, ids); a class first seen in :meth:`teach` is
    added. Every :meth:`fit` and :meth:`teach` trains a fresh clone of ``estimator`` on
    all labels; the strategy is kept across :meth:`teach` calls (ALBL and AutoAL learn
    across rounds: teach them the queried batch, ALBL in its order, AutoAL's hindsight
    objective in any order and in one or more calls) and rebuilt by :meth:`fit`.

    Which strategies work depends on what the estimator can say about the pool (its
    :class:`~autoal.Evidence`): a scikit-learn classifier gives probabilities only (random,
    least confidence, margin, entropy; ALBL and AutoAL over those candidates), or also
    embeddings when wrapped as ``SklearnClassifier(estimator, embeddings="input")``
    (k-means, coreset, BADGE); a :class:`~autoal.models.TorchClassifier` gives
    embeddings, Monte-Carlo dropout samples and, trained with a loss module (switched on
    here when the strategy needs it), predicted losses: every strategy. A strategy that
    needs more than the estimator gives raises :class:`~autoal.MissingEvidenceError`
    naming the missing evidence and the strategies that work with the estimator.

    Parameters
    ----------
    estimator:
        A scikit-learn classifier with ``predict_proba`` (a Pipeline too), a
        :class:`~autoal.models.TorchClassifier`, or any :class:`~autoal.models.Learner`.
        It is cloned, never changed.
    strategy:
        A registered strategy name (see :func:`~autoal.strategies.available_strategies`)
        or a :class:`~autoal.strategies.QueryStrategy`, which is cloned with its own
        parameters.
    random_state:
        Seeds a strategy given by name.
    mc_samples:
        Monte-Carlo dropout samples ``T`` for strategies that read ``mc_probs``; None:
        the estimator's own ``mc_samples`` if it has one, else
        :data:`~autoal.models.DEFAULT_MC_SAMPLES`.
    strategy_params:
        Options of a strategy given by name (e.g. ``{"candidates": "margin,entropy"}``).

    Attributes
    ----------
    learner_ : Learner
        The model trained on the current labels.
    strategy_ : QueryStrategy
        The strategy in use (its ``round_info()`` says what the last query recorded).
    classes_ : numpy.ndarray
        The sorted class labels seen so far; ``predict_proba`` columns follow them.
    X_labeled_, y_labeled_ : numpy.ndarray
        The labeled samples and their labels, in the order they were taught.
    """

    def __init__(
        self,
        estimator: Learner | BaseEstimator,
        strategy: str | QueryStrategy = "margin",
        random_state: int | None = 0,
        mc_samples: int | None = None,
        strategy_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.estimator = estimator
        self.strategy = strategy
        self.random_state = random_state
        self.mc_samples = mc_samples
        self.strategy_params = strategy_params

    # -- labels and training ------------------------------------------------------------------
    def fit(self, X_labeled: ArrayLike, y_labeled: ArrayLike) -> ActiveLearner:
        """Start afresh: build the strategy and train the estimator on these labels."""
        X, y = _as_arrays(X_labeled, y_labeled)
        if len(X) == 0:
            raise ValueError("fit needs at least one labeled sample")
        self.strategy_ = self._build_strategy()
        self.request_ = evidence_request(self.strategy_, mc_samples=self._mc_samples())
        self.X_labeled_, self.y_labeled_ = X, y
        return self._refit()

    def teach(self, X_new: ArrayLike, y_new: ArrayLike) -> ActiveLearner:
        """Add labeled samples (after the earlier ones) and retrain; before any :meth:`fit`
        this is :meth:`fit`."""
        X, y = _as_arrays(X_new, y_new)
        if not hasattr(self, "X_labeled_"):
            return self.fit(X, y)
        if X.shape[1:] != self.X_labeled_.shape[1:]:
            raise ValueError(
                f"new samples have shape {X.shape[1:]}, "
                f"the labeled ones {self.X_labeled_.shape[1:]}"
            )
        self.X_labeled_ = np.concatenate([self.X_labeled_, X])
        self.y_labeled_ = np.concatenate([self.y_labeled_, y])
        return self._refit()

    def _refit(self) -> ActiveLearner:
        self.classes_ = np.unique(self.y_labeled_)
        learner = self._make_learner()
        self.learner_ = learner.fit(self.X_labeled_, self._class_ids(), len(self.classes_))
        return self

    def _class_ids(self) -> np.ndarray:
        return np.searchsorted(self.classes_, self.y_labeled_).astype(np.int64)

    def _build_strategy(self) -> QueryStrategy:
        if isinstance(self.strategy, QueryStrategy):
            strategy = clone(self.strategy)
            strategy.validate()
            return strategy
        if isinstance(self.strategy, str):
            params = dict(self.strategy_params or {})
            return get_strategy(self.strategy, random_state=self.random_state, **params)
        raise TypeError(
            f"strategy must be a strategy name or a QueryStrategy, got {self.strategy!r}"
        )

    def _make_learner(self) -> Learner:
        est = self.estimator
        if isinstance(est, Learner):
            learner: Learner = clone(est, safe=False)
            if self.request_.loss_module and _has_param(learner, "loss_module"):
                learner.set_params(loss_module=True)  # type: ignore[attr-defined]
            return learner
        if hasattr(est, "fit") and hasattr(est, "predict_proba"):
            return SklearnClassifier(est)
        raise TypeError(
            f"estimator must be a scikit-learn classifier with predict_proba, a "
            f"TorchClassifier or a Learner (fit, predict_proba, evidence); got {type(est).__name__}"
        )

    def _mc_samples(self) -> int:
        if self.mc_samples is not None:
            return int(self.mc_samples)
        return int(getattr(self.estimator, "mc_samples", DEFAULT_MC_SAMPLES))

    # -- queries ------------------------------------------------------------------------------
    @overload
    def query(
        self, X_pool: ArrayLike, n: int = ..., return_scores: Literal[False] = ...,
        exclude: ArrayLike | None = ...,
    ) -> np.ndarray: ...

    @overload
    def query(
        self, X_pool: ArrayLike, n: int = ..., *, return_scores: Literal[True],
        exclude: ArrayLike | None = ...,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def query(
        self, X_pool: ArrayLike, n: int = 10, return_scores: bool = False,
        exclude: ArrayLike | None = None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Indices of ``n`` distinct samples of ``X_pool`` (the unlabeled pool) to label next.

        Parameters
        ----------
        X_pool : array-like
            The unlabeled pool, ``(N, ...)``: e.g. an array, ``np.load(path,
            mmap_mode="r")`` or :func:`autoal.data.open_rows` (a shard folder), which are
            read in slices, never copied whole. Only its samples can be picked; the labeled
            set is what :meth:`fit` and :meth:`teach` were given (a pool sample equal to a
            labeled one is a pool sample like any other).
        n : int
            How many to pick, ``1 <= n <= N - len(exclude)``.
        return_scores : bool
            Also return the scores ``(N,)`` behind the pick: higher means label first; the
            picked samples hold the ``n`` highest, in pick order (a batch strategy's batch
            ranks first; ties broken by the strategy's generator). Excluded samples score
            ``-inf``.
        exclude : array-like of int, optional
            Indices into ``X_pool`` never to pick (e.g. samples labeled since ``X_pool`` was
            built): the strategy sees only the other samples.
        """
        self._check_fitted()
        pool = _pool(X_pool)
        keep = _kept(len(pool), exclude)
        if isinstance(n, bool) or int(n) != n or not 1 <= n <= len(keep):
            what = "the pool" if exclude is None else "the pool less exclude"
            raise ValueError(f"n must be an integer in 1..{len(keep)} ({what}), got {n!r}")
        X_cand = pool if len(keep) == len(pool) else take_rows(pool, keep)
        evidence = self.learner_.evidence(
            X_cand, self.X_labeled_, self._class_ids(), request=self.request_
        )
        missing = self.request_.missing(evidence)
        if missing:
            raise MissingEvidenceError(self._missing_message(missing, X_cand))
        local = np.asarray(self.strategy_.select(evidence, int(n)), dtype=np.int64)
        if not return_scores:
            return keep[local]
        scores = np.full(len(pool), -np.inf)
        scores[keep] = self._scores(local, len(keep))
        return keep[local], scores

    def _scores(self, picked: np.ndarray, n_pool: int) -> np.ndarray:
        scores = getattr(self.strategy_, "last_scores_", None)
        if scores is not None and len(scores) == n_pool:
            return np.array(scores, dtype=np.float64)
        # a strategy whose select keeps no scores: its batch first, in pick order
        return batch_first_scores(picked, np.zeros(n_pool))

    # -- what works with this estimator ------------------------------------------------------
    def provided_fields(self, X_pool: ArrayLike) -> frozenset[str]:
        """The evidence fields the fitted estimator gives (probed on two pool samples)."""
        self._check_fitted()
        probe = np.asarray(_pool(X_pool)[:2])
        full = EvidenceRequest(mc_samples=2, with_inputs=True)
        lab = slice(0, 2)
        ev = self.learner_.evidence(
            probe, self.X_labeled_[lab], self._class_ids()[lab], request=full
        )
        given = {f for f in Evidence.__dataclass_fields__ if getattr(ev, f) is not None}
        if _has_param(self.learner_, "loss_module"):
            given.add("predicted_loss")  # trained with the module when a strategy asks
        return frozenset(given)

    def usable_strategies(self, X_pool: ArrayLike) -> list[str]:
        """Registered strategies (with default options) whose evidence this estimator gives."""
        given = self.provided_fields(X_pool)
        return [
            name for name in available_strategies()
            if set(get_strategy(name).requires) <= given
        ]

    def _missing_message(self, missing: tuple[str, ...], X_pool: np.ndarray) -> str:
        est = type(self.estimator).__name__
        name = getattr(self.strategy_, "name", type(self.strategy_).__name__)
        works = ", ".join(self.usable_strategies(X_pool)) or "none"
        hint = ""
        if isinstance(self.learner_, SklearnClassifier) and "embeddings" in missing:
            hint = (
                '; for embeddings, pass SklearnClassifier(estimator, embeddings="input") '
                "(the final estimator's input features)"
            )
        coverage = (
            " AutoAL's default preset also reads embeddings for its coverage query: give "
            "them as above, or add 'batch': 'topk'."
            if name == "autoal" and "embeddings" in missing else ""
        )
        return (
            f"strategy {name!r} needs evidence that {est} does not give: "
            f"{', '.join(missing)}. Strategies that work with {est}: {works}{hint}. "
            "(ALBL and AutoAL work when their candidates do, e.g. "
            f"strategy_params={{'candidates': ('margin', 'entropy')}}.{coverage})"
        )

    # -- predictions --------------------------------------------------------------------------
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``(N, len(classes_))`` of the current model."""
        self._check_fitted()
        return np.asarray(self.learner_.predict_proba(_pool(X)))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most likely class label per sample."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "learner_"):
            raise RuntimeError("this ActiveLearner has no labels yet; call fit or teach first")


def _as_arrays(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"need one label per sample: got {len(X)} samples and labels of shape {y.shape}"
        )
    return X, y


def _pool(X: ArrayLike) -> Any:
    """``X`` as an array; a memory-mapped array or a PoolArray is kept as it is (the
    learner reads it in slices), never copied."""
    return X if is_file_backed(X) else np.asarray(X)


def _kept(n_pool: int, exclude: ArrayLike | None) -> np.ndarray:
    """The pool indices not in ``exclude``, in order."""
    if exclude is None:
        return np.arange(n_pool)
    ex = np.asarray(exclude).ravel()
    if ex.size and (ex.dtype == bool or not np.issubdtype(ex.dtype, np.integer)):
        raise ValueError(
            f"exclude must hold integer indices into X_pool, got dtype {ex.dtype} "
            "(for a boolean mask, pass np.flatnonzero(mask))"
        )
    if ex.size and (ex.min() < 0 or ex.max() >= n_pool):
        raise ValueError(f"exclude holds indices outside 0..{n_pool - 1} (the pool)")
    keep = np.ones(n_pool, dtype=bool)
    keep[ex.astype(np.int64)] = False
    return np.flatnonzero(keep)


def _has_param(obj: Any, name: str) -> bool:
    get_params = getattr(obj, "get_params", None)
    return callable(get_params) and name in get_params(deep=False)
