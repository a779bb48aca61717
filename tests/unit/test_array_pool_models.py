"""Learners, features and ActiveLearner on memory-mapped pools: the same answers as on the
arrays in memory, read a slice at a time."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from autoal import ActiveLearner
from autoal.data import PoolArray, open_rows
from autoal.features import label_free_features
from autoal.models import SklearnClassifier, TorchClassifier, evidence_request
from autoal.scale.shards import write_shards
from autoal.strategies import get_strategy


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(3)
    y = np.arange(3000) % 4
    centres = rng.normal(0, 2.0, size=(4, 12))
    X = (centres[y] + rng.normal(size=(3000, 12))).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def pools(blobs, tmp_path_factory):
    """The blobs in memory, memory-mapped, and as three shards."""
    root = tmp_path_factory.mktemp("pool")
    np.save(root / "x.npy", blobs[0])
    write_shards(blobs[0], root / "shards", 3)
    return {"memory": blobs[0], "memmap": np.load(root / "x.npy", mmap_mode="r"),
            "shards": open_rows(root / "shards")}


def test_torch_evidence_on_a_memory_map_equals_in_memory(blobs, pools):
    X, y = blobs
    model = TorchClassifier(epochs=2, random_state=0).fit(X[:200], y[:200], 4)
    request = evidence_request(get_strategy("kmeans"), mc_samples=5)
    ref = model.evidence(X, X[:200], y[:200], request=request)
    for name in ("memmap", "shards"):
        ev = model.evidence(pools[name], X[:200], y[:200], request=request)
        for field in ("probs", "embeddings", "mc_probs", "labeled_embeddings"):
            np.testing.assert_array_equal(getattr(ev, field), getattr(ref, field))


def test_a_memory_map_scored_by_probabilities_keeps_no_embeddings(blobs, pools):
    X, y = blobs
    model = TorchClassifier(epochs=2, random_state=0).fit(X[:200], y[:200], 4)
    request = evidence_request(get_strategy("margin"))
    ref = model.evidence(X, request=request)
    assert ref.embeddings is not None  # in memory: as always
    for name in ("memmap", "shards"):
        ev = model.evidence(pools[name], X[:200], y[:200], request=request)
        assert ev.embeddings is None and ev.labeled_embeddings is not None
        np.testing.assert_allclose(ev.probs, ref.probs, rtol=1e-5, atol=1e-6)
        assert np.array_equal(get_strategy("margin").select(ev, 50),
                              get_strategy("margin").select(ref, 50))


def test_sklearn_probabilities_in_row_chunks_equal_one_call(blobs, pools, monkeypatch):
    from autoal.models import sklearn_model

    X, y = blobs
    model = SklearnClassifier(LogisticRegression(max_iter=500)).fit(X[:300], y[:300] % 3, 4)
    whole = model.predict_proba(X)
    monkeypatch.setattr(sklearn_model, "PREDICT_CHUNK_ROWS", 700)
    for name in ("memory", "memmap", "shards"):
        np.testing.assert_allclose(model.predict_proba(pools[name]), whole, rtol=1e-12)
    assert whole[:, 3].max() == 0.0  # a class without labels keeps its column


def test_chunked_pca_of_a_memory_map_matches_scikit_learn(blobs, pools, monkeypatch):
    import autoal.chunks

    X = blobs[0]
    monkeypatch.setattr(autoal.chunks, "CHUNK_BYTES", 40_000)  # many chunks
    for standardize in (True, False):
        got = label_free_features(pools["shards"], n_components=5, standardize=standardize)
        Z = StandardScaler(with_std=standardize).fit_transform(X.astype(np.float64))
        ref = PCA(n_components=5, svd_solver="full").fit_transform(Z)
        assert got.shape == (3000, 5) and got.dtype == np.float32
        # the same components up to each one's sign
        signs = np.sign(np.sum(got * ref, axis=0))
        np.testing.assert_allclose(got, ref * signs, rtol=1e-4, atol=1e-4)
    assert label_free_features(pools["memmap"], 5).shape == (3000, 5)


@pytest.mark.parametrize("strategy", ["margin", "kmeans"])
def test_active_learner_queries_a_memory_map_as_the_array(blobs, pools, strategy):
    X, y = blobs
    labeled = np.arange(0, 3000, 61)
    al = ActiveLearner(TorchClassifier(epochs=2), strategy=strategy, random_state=1)
    al.fit(X[labeled], y[labeled])
    ref, ref_scores = al.query(X, 20, return_scores=True, exclude=labeled)
    for name in ("memmap", "shards"):
        al.fit(X[labeled], y[labeled])  # kmeans' generator starts afresh
        picked, scores = al.query(pools[name], 20, return_scores=True, exclude=labeled)
        np.testing.assert_array_equal(picked, ref)
        if strategy == "margin":
            np.testing.assert_allclose(scores, ref_scores, rtol=1e-5)
    sk = ActiveLearner(LogisticRegression(max_iter=500), strategy="margin")
    sk.fit(X[labeled], y[labeled])
    np.testing.assert_array_equal(sk.query(pools["shards"], 10), sk.query(X, 10))
    assert isinstance(pools["shards"], PoolArray)
