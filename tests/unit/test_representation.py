"""The representation option of the diversity strategies and the label-free features."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import Evidence, MissingEvidenceError
from autoal.features import label_free_features, load_feature_vectors
from autoal.strategies import get_strategy
from autoal.strategies.registry import strategy_class

EMBEDDING_BASED = ["kmeans", "coreset", "typiclust", "probcover", "uherding", "cluster_margin",
                   "tcm"]
D = 6


def _data(seed=0):
    """Features with four planted clusters, embeddings that are pure noise."""
    rng = np.random.default_rng(seed)
    centres = np.eye(D)[:4] * 10
    cluster = np.repeat(np.arange(4), 30)
    feats = centres[cluster] + rng.normal(scale=0.5, size=(120, D))
    noise = rng.normal(size=(120, 3))
    probs = rng.dirichlet(np.ones(4), size=120)
    lab = [0, 1]
    return feats, noise, probs, cluster, lab


def _evidence(feats, noise, probs, lab, space):
    pool = np.setdiff1d(np.arange(len(feats)), lab)
    common = dict(
        probs=probs[pool], labeled_probs=probs[lab], labeled_targets=np.array([0, 0]),
        labeled_inputs=feats[lab],
    )
    if space == "features":
        return Evidence(
            embeddings=noise[pool], labeled_embeddings=noise[lab],
            features=feats[pool], labeled_features=feats[lab], **common,
        )
    return Evidence(embeddings=feats[pool], labeled_embeddings=feats[lab], **common)


@pytest.mark.parametrize("name", EMBEDDING_BASED)
def test_features_option_measures_in_the_features(name):
    """With representation="features" a strategy picks exactly what it picks when the same
    vectors are the model's embeddings."""
    feats, noise, probs, _, lab = _data()
    in_features = get_strategy(name, random_state=4, representation="features").select(
        _evidence(feats, noise, probs, lab, "features"), budget=5
    )
    as_embeddings = get_strategy(name, random_state=4).select(
        _evidence(feats, noise, probs, lab, "model"), budget=5
    )
    np.testing.assert_array_equal(in_features, as_embeddings)


def test_features_change_the_picks_of_a_diversity_strategy():
    feats, noise, probs, cluster, lab = _data()
    ev = _evidence(feats, noise, probs, lab, "features")
    pool_cluster = np.delete(cluster, lab)
    picks = get_strategy("typiclust", random_state=0, representation="features").select(ev, 3)
    assert sorted(pool_cluster[picks]) == [1, 2, 3]  # cluster 0 holds the labeled points


@pytest.mark.parametrize("name", EMBEDDING_BASED)
def test_missing_features_name_the_field(name):
    feats, noise, probs, _, lab = _data()
    ev = _evidence(feats, noise, probs, lab, "model")
    with pytest.raises(MissingEvidenceError, match="features"):
        get_strategy(name, random_state=0, representation="features").select(ev, budget=3)
    no_labeled = Evidence(**{**ev.__dict__, "features": feats[2:]})
    if name in ("kmeans", "cluster_margin"):
        return  # they never read the labeled set
    with pytest.raises(MissingEvidenceError, match="labeled_features"):
        get_strategy(name, random_state=0, representation="features").select(
            no_labeled, budget=3
        )


@pytest.mark.parametrize("name", EMBEDDING_BASED)
def test_requires_follows_the_representation(name):
    assert "embeddings" in get_strategy(name).requires
    swapped = get_strategy(name, representation="features").requires
    assert "features" in swapped and "embeddings" not in swapped
    assert get_strategy(name).requires == strategy_class(name).required_fields


@pytest.mark.parametrize("name", EMBEDDING_BASED)
def test_unknown_representation_is_a_value_error(name):
    feats, noise, probs, _, lab = _data()
    with pytest.raises(ValueError, match="representation must be one of"):
        get_strategy(name, representation="pixels").select(
            _evidence(feats, noise, probs, lab, "model"), budget=3
        )


def test_evidence_checks_the_features_shapes():
    with pytest.raises(ValueError, match="pool size"):
        Evidence(probs=np.full((5, 2), 0.5), features=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="feature columns"):
        Evidence(features=np.zeros((4, 3)), labeled_features=np.zeros((2, 2)))
    assert Evidence(features=np.zeros((4, 3))).n_samples == 4


# ------------------------------------------------------------------------------ features
def test_label_free_features_are_a_standardised_pca():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3, 4))  # any input shape: flattened to 12 columns
    F = label_free_features(X, n_components=5)
    assert F.shape == (200, 5) and F.dtype == np.float32
    np.testing.assert_allclose(F.mean(axis=0), 0, atol=1e-5)
    assert np.all(np.diff(F.var(axis=0)) <= 1e-6)  # components by decreasing variance
    # standardised: rescaling one input column changes nothing (up to component signs)
    X2 = X.copy()
    X2[:, 0, 0] *= 1000.0
    np.testing.assert_allclose(
        np.abs(label_free_features(X2, n_components=5)), np.abs(F), atol=1e-3
    )
    assert not np.allclose(
        np.abs(label_free_features(X2, n_components=5, standardize=False)), np.abs(F), atol=1e-3
    )
    assert label_free_features(X, n_components=50).shape == (200, 12)  # capped by the columns
    np.testing.assert_array_equal(label_free_features(X, n_components=5), F)  # deterministic


def test_label_free_features_keep_planted_clusters_apart():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 40)) * 5
    cluster = np.repeat(np.arange(3), 50)
    F = label_free_features(centres[cluster] + rng.normal(size=(150, 40)), n_components=2)
    means = np.array([F[cluster == c].mean(axis=0) for c in range(3)])
    spread = max(F[cluster == c].std(axis=0).max() for c in range(3))
    gaps = np.linalg.norm(means[:, None] - means[None], axis=2)[np.triu_indices(3, 1)]
    assert gaps.min() > 4 * spread


def test_label_free_features_refuse_bad_input():
    with pytest.raises(ValueError, match="at least 2 samples"):
        label_free_features(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="NaN"):
        label_free_features(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="n_components"):
        label_free_features(np.zeros((4, 4)), n_components=0)


def test_load_feature_vectors(tmp_path):
    good = tmp_path / "f.npy"
    np.save(good, np.arange(12, dtype=np.float64).reshape(4, 3))
    arr = load_feature_vectors(good, n_samples=4)
    assert arr.shape == (4, 3) and arr.dtype == np.float32
    with pytest.raises(ValueError, match="4 rows but the data set has 5"):
        load_feature_vectors(good, n_samples=5)
    flat = tmp_path / "flat.npy"
    np.save(flat, np.zeros(4))
    with pytest.raises(ValueError, match="2-D"):
        load_feature_vectors(flat)
    bad = tmp_path / "nan.npy"
    np.save(bad, np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="finite"):
        load_feature_vectors(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_feature_vectors(tmp_path / "missing.npy")
