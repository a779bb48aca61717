"""Training the campaign's model: picking a batch, estimating accuracy, the exported model.

Everything here works on data in memory (:class:`~autoal.campaign.items.Items` and the list
of labels) and never touches the database, so it runs outside any lock.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.errors import CampaignError
from autoal.campaign.estimators import is_sklearn_model, make_estimator
from autoal.campaign.items import Items

if TYPE_CHECKING:
    from autoal.models import SklearnClassifier, TorchClassifier

__all__ = [
    "diversity_features",
    "make_learner",
    "model_payload",
    "select_batch",
]


def make_learner(
    config: CampaignConfig, round_seed: int, n_train: int
) -> TorchClassifier | SklearnClassifier:
    """The campaign's model, untrained: a :class:`~autoal.models.TorchClassifier` (or, for
    a scikit-learn model, a :class:`~autoal.models.sklearn_model.SklearnClassifier`).

    Trained for ``config.epochs`` epochs, or more so that at least ``config.min_steps``
    optimiser steps are made on ``n_train`` labels.
    """
    from autoal.models import TorchClassifier

    if is_sklearn_model(config.model):
        from autoal.models.sklearn_model import SklearnClassifier

        return SklearnClassifier(make_estimator(config.model, round_seed))
    cfg = config
    steps_per_epoch = max(1, math.ceil(n_train / cfg.batch_size))
    epochs = max(cfg.epochs, math.ceil(cfg.min_steps / steps_per_epoch))
    return TorchClassifier(model=cfg.model, epochs=epochs, batch_size=cfg.batch_size,
                           random_state=round_seed)


def diversity_features(X: np.ndarray, seed: int, max_dim: int = 50) -> np.ndarray:
    """Features for the diverse start: the (standardised) inputs, PCA-reduced if wide.

    Parameters
    ----------
    X : numpy.ndarray
        The model inputs, ``(N, ...)``.
    seed : int
        Seeds the PCA.
    max_dim : int
        Inputs wider than this are reduced to ``max_dim`` principal components.
    """
    from autoal.data import is_file_backed

    if is_file_backed(X):  # an array pool: used as it is, or PCA-reduced in chunks
        from autoal.features import label_free_features

        if int(np.prod(X.shape[1:])) <= max_dim or len(X) <= max_dim:
            return X
        return label_free_features(X, max_dim, random_state=seed, standardize=False)
    flat = X.reshape(len(X), -1).astype(np.float64)
    if flat.shape[1] <= max_dim or len(flat) <= max_dim:
        return flat
    from sklearn.decomposition import PCA

    return PCA(n_components=max_dim, random_state=seed).fit_transform(flat)


def select_batch(
    config: CampaignConfig, items: Items, labels: list[tuple[str, str]], n: int, round_no: int,
    *, pool_guesses: dict[str, str] | None = None,
) -> tuple[str, list[int], list[str | None], list[float | None], dict[str, Any]]:
    """Train on the labels and pick ``n`` items to label next (no database access).

    With labels in fewer than two classes the pick is diverse: k-means over the features
    (no labels) or core-set from the labeled items; otherwise the campaign's model is
    trained and the campaign's strategy selects.

    Parameters
    ----------
    config : CampaignConfig
        The campaign's settings.
    items : Items
        The data.
    labels : list of (item_id, label)
        The current labels (``skip`` included), in labeling order.
    n : int
        Batch size (fewer when fewer items are left; a note says so).
    round_no : int
        The round's number, which seeds the round.
    pool_guesses : dict, optional
        Filled with the trained model's guess (class name) for every unlabeled item (left
        empty by a diverse start, which trains no model).

    Returns
    -------
    tuple
        ``(method, item positions, guesses, confidences, info)``; ``info`` holds the
        strategy's ``round_info()`` and the ``notes`` for the user.

    Raises
    ------
    CampaignError
        Nothing left to label, or the strategy cannot run.
    """
    from autoal.data import take_rows
    from autoal.evidence import Evidence, MissingEvidenceError
    from autoal.models import evidence_request
    from autoal.strategies import get_strategy

    cfg = config
    done = {item_id for item_id, _ in labels}
    # positions of the labeled items only: a pool of a million items needs no id -> row map
    pos = {item_id: i for i, item_id in enumerate(items.ids) if item_id in done}
    pool = np.fromiter((i for i, item_id in enumerate(items.ids) if item_id not in done),
                       dtype=np.int64)
    if len(pool) == 0:
        raise CampaignError("every item is labeled or skipped: nothing left to query")
    notes: list[str] = []
    if n > len(pool):
        notes.append(f"only {len(pool)} items are left to label")
        n = len(pool)
    class_id = {c: k for k, c in enumerate(cfg.classes)}
    lab = [(pos[i], class_id[lab]) for i, lab in labels if lab != SKIP and i in pos]
    lab_idx = np.array([p for p, _ in lab], dtype=np.int64)
    y_lab = np.array([c for _, c in lab], dtype=np.int64)
    round_seed = cfg.seed * 1000 + round_no
    if len(np.unique(y_lab)) < 2:
        feats = diversity_features(items.X, cfg.seed)
        if len(lab_idx):
            method = "coreset (diverse start: a model needs labels in 2 classes)"
            strategy = get_strategy("coreset", random_state=round_seed)
            ev = Evidence(embeddings=take_rows(feats, pool),
                          labeled_embeddings=feats[lab_idx])
        else:
            method = "kmeans (diverse start: no labels yet)"
            strategy = get_strategy("kmeans", random_state=round_seed)
            # nothing labeled (or only skipped): usually the pool is every item, not copied;
            # a file-backed pool is indexed lazily
            ev = Evidence(embeddings=feats if len(pool) == len(feats)
                          else take_rows(feats, pool))
        picked = np.asarray(strategy.select(ev, n), dtype=np.int64)
        return (method, pool[picked].tolist(), [None] * n, [None] * n,
                {"notes": notes})
    learner = make_learner(cfg, round_seed, len(lab_idx)).fit(
        items.X[lab_idx], y_lab, len(cfg.classes)
    )
    strategy = get_strategy(cfg.strategy, random_state=round_seed)
    ev = learner.evidence(take_rows(items.X, pool), items.X[lab_idx], y_lab,
                          request=evidence_request(strategy))
    try:
        picked = np.asarray(strategy.select(ev, n), dtype=np.int64)
    except MissingEvidenceError as err:
        raise CampaignError(f"strategy {cfg.strategy!r} cannot run here: {err}") from None
    info = dict(strategy.round_info())
    info["notes"] = notes
    assert ev.probs is not None  # every learner gives probabilities
    if pool_guesses is not None:
        pool_guesses.update(zip((items.ids[i] for i in pool),
                                (cfg.classes[k] for k in ev.probs.argmax(axis=1)), strict=True))
    probs = ev.probs[picked]
    guesses: list[str | None] = [cfg.classes[k] for k in probs.argmax(axis=1)]
    confidences: list[float | None] = [float(p) for p in probs.max(axis=1)]
    return cfg.strategy, pool[picked].tolist(), guesses, confidences, info


def model_payload(config: CampaignConfig, items: Items, labels: list[tuple[str, str]]
                  ) -> dict[str, Any]:
    """Train the campaign's model on every label; the dict that ``export`` saves.

    Raises
    ------
    CampaignError
        Fewer than 2 classes have labels.
    """
    from autoal import __version__

    cfg = config
    pos = {item_id: i for i, item_id in enumerate(items.ids)}
    class_id = {c: k for k, c in enumerate(cfg.classes)}
    lab = [(pos[i], class_id[v]) for i, v in labels if v != SKIP and i in pos]
    if len({c for _, c in lab}) < 2:
        raise CampaignError("a model needs labels in at least 2 classes; teach more first")
    idx = np.array([p for p, _ in lab], dtype=np.int64)
    y = np.array([c for _, c in lab], dtype=np.int64)
    learner = make_learner(cfg, cfg.seed * 1000, len(idx)).fit(items.X[idx], y,
                                                              len(cfg.classes))
    if is_sklearn_model(cfg.model):
        return {
            "format": "autoal-campaign-sklearn/1", "estimator": learner.estimator_,
            "model": cfg.model, "classes": list(cfg.classes),
            "class_ids": learner.estimator_.classes_.tolist(),
            "mean": None if items.mean is None else items.mean.tolist(),
            "std": None if items.std is None else items.std.tolist(),
            "feature_names": items.feature_names, "n_labels": len(idx),
            "autoal_version": __version__,
        }
    return {
        "format": "autoal-campaign-model/1",
        "state_dict": {k: v.detach().cpu() for k, v in learner.net_.state_dict().items()},
        "model": cfg.model,
        "classes": list(cfg.classes),
        "input_shape": list(items.X.shape[1:]),
        "mean": None if items.mean is None else items.mean.tolist(),
        "std": None if items.std is None else items.std.tolist(),
        "feature_names": items.feature_names,
        "n_labels": len(idx),
        "autoal_version": __version__,
    }
