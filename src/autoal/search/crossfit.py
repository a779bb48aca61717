"""Cross-fitting: FitNets trained on part of the labeled set score the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from autoal.data.pool_array import is_file_backed
from autoal.models import EvidenceRequest, TorchClassifier, evidence_request
from autoal.search.objectives import RidgeProbe, SearchProblem
from autoal.strategies.base import QueryStrategy
from autoal.strategies.ranks import rank_normalise, standardisation

__all__ = ["CrossFitter", "PoolFeaturizer", "folds"]

#: Pool rows projected (and passed through the SearchNet, :mod:`autoal.search.pool_mix`)
#: per step when the pool is a file (a memory map or a PoolArray).
PROJECT_CHUNK_ROWS = 65536


class PoolFeaturizer(Protocol):
    """SearchNet inputs for the pool's ``rows`` (every row when None) from their candidate
    scores."""

    def __call__(self, scores: np.ndarray, rows: slice | None = None) -> np.ndarray: ...


def folds(y: np.ndarray, n_folds: int, random_state: int) -> list[np.ndarray]:
    """Index arrays of ``n_folds`` parts of ``y``, stratified when every class allows it."""
    y = np.asarray(y)
    n_folds = min(n_folds, len(y))
    counts = np.bincount(y)
    counts = counts[counts > 0]
    splitter: StratifiedKFold | KFold
    if counts.min() >= n_folds:
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    else:
        splitter = KFold(n_folds, shuffle=True, random_state=random_state)
    return [test for _, test in splitter.split(np.zeros(len(y)), y)]


def _halves(y: np.ndarray, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(y))
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 and len(y) >= 2 * len(np.unique(y)) else None
    a, b = train_test_split(idx, test_size=0.5, random_state=random_state, stratify=stratify)
    return np.sort(a), np.sort(b)


class CrossFitter:
    """Builds one :class:`SearchProblem` per rotation of the labeled set.

    For rotation ``f``, a FitNet (a :class:`~autoal.models.TorchClassifier` of the task
    model's family on raw inputs, trained from scratch) is fitted on every part but ``f``;
    part ``f`` is what it scores. With ``with_probe`` (the lookahead objective) part ``f``
    is split in two: candidates that the search soft-selects, and a validation half on
    which the ridge probe is judged. FitNet never sees the samples it scores. A per-sample
    SearchNet sees each sample's candidate scores, the loss module's rank of it, and
    ``n_components`` principal components of its raw input (fitted on the labeled inputs).

    Parameters
    ----------
    candidates:
        The candidate strategies that score each held-out part.
    n_folds:
        Parts of the labeled set (rotations).
    fraction:
        Fraction of a scored part the soft selection takes; sets the candidates' budget.
    model, epochs, device:
        FitNet's network, training epochs and device.
    mc_samples:
        FitNet's Monte-Carlo dropout samples, drawn when a candidate reads ``mc_probs``.
    loss_module:
        Train FitNet with a loss-prediction module (its predictions feed the SearchNet).
    with_probe:
        Split each scored part into candidates and a validation half for the lookahead
        objective's ridge probe.
    ridge:
        The ridge probe's strength, relative to its training size.
    n_components:
        Principal components of the raw inputs among the SearchNet's features.
    with_features:
        Give each problem the SearchNet's features (and fit their PCA); a global-weights
        search never reads them, so it can skip that work (the problems are otherwise the
        same).
    n_resplits:
        Problems per rotation from the same FitNet (>= 1): different random candidate /
        validation halves of part ``f`` (with the probe), or different random halves of it
        as the scored set (without). Their spread is what a noise-aware search
        (:mod:`autoal.search.shrinkage`) reads as the objective's noise; FitNet is trained
        once per rotation either way.
    random_state:
        Seeds the parts, the PCA and each rotation's FitNet.
    """

    def __init__(
        self,
        candidates: Sequence[QueryStrategy],
        n_folds: int = 2,
        fraction: float = 0.25,
        model: str = "auto",
        epochs: int = 10,
        mc_samples: int = 20,
        loss_module: bool = False,
        with_probe: bool = False,
        ridge: float = 0.1,
        n_components: int = 16,
        device: str = "auto",
        random_state: int = 0,
        n_resplits: int = 1,
        with_features: bool = True,
    ) -> None:
        self.candidates = list(candidates)
        self.n_folds = n_folds
        self.fraction = fraction
        self.model = model
        self.epochs = epochs
        self.mc_samples = mc_samples
        self.loss_module = loss_module
        self.with_probe = with_probe
        self.ridge = ridge
        self.n_components = n_components
        self.device = device
        self.random_state = random_state
        self.n_resplits = n_resplits
        self.with_features = with_features
        self._fitted: dict[int, TorchClassifier] = {}
        self._last: TorchClassifier | None = None
        self._pca: PCA | None = None
        self._data: tuple[np.ndarray, np.ndarray, int] | None = None
        self._rotations: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self._pc_stats: tuple[np.ndarray, np.ndarray] | None = None

    def _fitnet(self, seed: int) -> TorchClassifier:
        kwargs = {"loss_module": True} if self.loss_module else {}
        return TorchClassifier(
            model=self.model,
            epochs=self.epochs,
            mc_samples=self.mc_samples,
            device=self.device,
            random_state=seed,
            **kwargs,
        )

    def _project(self, X: np.ndarray) -> np.ndarray:
        """Standardised principal components of raw inputs: the same axes for every rotation,
        round-independent of any FitNet (FitNets' embedding axes do not correspond). A
        file-backed pool is read :data:`PROJECT_CHUNK_ROWS` rows at a time."""
        assert self._pca is not None and self._pc_stats is not None
        if is_file_backed(X) and len(X):  # a pool on disk: projected a chunk of rows at a time
            return np.concatenate([self._project(np.array(X[s : s + PROJECT_CHUNK_ROWS]))
                                   for s in range(0, len(X), PROJECT_CHUNK_ROWS)])
        z = self._pca.transform(X.reshape(len(X), -1))
        mean, std = self._pc_stats
        return (z - mean) / std

    def _features(
        self, scores: np.ndarray, X: np.ndarray, predicted_loss: np.ndarray | None
    ) -> np.ndarray:
        """SearchNet inputs: candidate scores, the loss module's rank, raw-input components."""
        return self._stack(
            scores, X, None if predicted_loss is None else rank_normalise(predicted_loss)
        )

    def _stack(self, scores: np.ndarray, X: np.ndarray, loss_rank: np.ndarray | None) -> np.ndarray:
        """The scores, the predicted loss's rank (if any) and ``X``'s components, float32."""
        parts = [scores] if loss_rank is None else [scores, loss_rank]
        parts.append(self._project(X))
        return np.hstack(parts).astype(np.float32)

    def problems(self, X: np.ndarray, y: np.ndarray, n_classes: int) -> list[SearchProblem]:
        """One search problem per rotation of the labeled data ``(X, y)``."""
        y = np.asarray(y, dtype=np.int64)
        if len(y) < 2 * self.n_folds:
            raise ValueError(
                f"AutoAL's search needs at least {2 * self.n_folds} labeled samples, got {len(y)}"
            )
        if self.with_features:
            flat = X.reshape(len(X), -1)
            self._pca = PCA(
                n_components=min(self.n_components, *flat.shape), random_state=self.random_state
            ).fit(flat)
            self._pc_stats = standardisation(self._pca.transform(flat))
        self._data = (X, y, n_classes)
        self._rotations = []
        self._fitted = {}
        if self.n_resplits < 1:
            raise ValueError(f"n_resplits must be at least 1, got {self.n_resplits}")
        for f, held in enumerate(folds(y, self.n_folds, self.random_state)):
            train = np.setdiff1d(np.arange(len(y)), held)
            for r in range(self.n_resplits):
                seed = self.random_state + f + 7919 * r
                if self.with_probe:
                    cand_rel, val_rel = _halves(y[held], seed)
                    cand, val = held[cand_rel], held[val_rel]
                elif self.n_resplits == 1:
                    cand, val = held, held[:0]
                else:
                    cand, val = held[_halves(y[held], seed)[0]], held[:0]
                self._rotations.append((f, train, cand, val))
        return [self._problem(i, None) for i in range(len(self._rotations))]

    def refit(self, masks: Sequence[np.ndarray]) -> list[SearchProblem]:
        """The paper's alternating step: rebuild every rotation's problem with a FitNet also
        trained on its candidates, each weighted by the search's soft selection ``masks[f]``.

        The candidates' labels then reach FitNet in proportion to how much the search wants
        them, as in the published design (where FitNet is trained on the soft-selected
        held-out loss); the validation half of the lookahead probe stays unseen.
        """
        if len(masks) != len(self._rotations):
            raise ValueError(f"need one mask per rotation ({len(self._rotations)})")
        return [self._problem(f, np.asarray(m)) for f, m in enumerate(masks)]

    def _problem(self, f: int, cand_weight: np.ndarray | None) -> SearchProblem:
        assert self._data is not None, "call problems() first"
        X, y, n_classes = self._data
        fold, train, cand, val = self._rotations[f]
        if cand_weight is None and fold in self._fitted:
            fitnet = self._fitted[fold]
        elif cand_weight is None:
            fitnet = self._fitnet(self.random_state + fold)
            fitnet.fit(X[train], y[train], n_classes)
            self._fitted[fold] = fitnet
        else:
            fitnet = self._fitnet(self.random_state + fold)
            both = np.concatenate([train, cand])
            weight = np.concatenate([np.ones(len(train)), cand_weight])
            fitnet.fit(X[both], y[both], n_classes, sample_weight=weight)
        request = evidence_request(self.candidates, mc_samples=self.mc_samples)
        ev = fitnet.evidence(X[cand], X[train], y[train], request=request)
        budget = max(1, int(round(self.fraction * len(cand))))
        scores = rank_normalise(
            np.column_stack([c.score(ev, budget=budget) for c in self.candidates])
        )
        assert ev.probs is not None  # every learner gives probabilities
        probs = np.clip(ev.probs, 1e-12, 1.0)
        losses = -np.log(probs[np.arange(len(cand)), y[cand]])
        self._last = fitnet
        probe = None
        if self.with_probe:
            assert ev.embeddings is not None and ev.labeled_embeddings is not None  # FitNet's
            probe = RidgeProbe.build(
                ev.labeled_embeddings, y[train], ev.embeddings, y[cand],
                fitnet.embed(X[val]), y[val], n_classes, self.ridge,
            )
        return SearchProblem(
            scores=torch.as_tensor(scores, dtype=torch.float32),
            losses=torch.as_tensor(losses, dtype=torch.float32),
            probs=torch.as_tensor(ev.probs, dtype=torch.float32),
            features=torch.as_tensor(self._features(scores, X[cand], ev.predicted_loss))
            if self.with_features else None,
            probe=probe,
        )

    def pool_featurizer(self, X_pool: np.ndarray) -> PoolFeaturizer:
        """SearchNet inputs for the pool (or its ``rows``); the loss module's predictions (if
        any) come from the last rotation's FitNet, in one pass over the pool."""
        if self._last is None:
            raise RuntimeError("call problems() first")
        loss_rank = None
        if self._last.loss_module:
            predicted = self._last.evidence(X_pool, request=EvidenceRequest()).predicted_loss
            # ranked over the whole pool, once (a chunk reads its rows of the ranks)
            loss_rank = None if predicted is None else rank_normalise(predicted)

        def featurize(scores: np.ndarray, rows: slice | None = None) -> np.ndarray:
            X = X_pool if rows is None else X_pool[rows]
            rank = loss_rank if loss_rank is None or rows is None else loss_rank[rows]
            return self._stack(scores, X, rank)

        return featurize
