"""SklearnClassifier: a scikit-learn classifier behind the learner contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from autoal import EvidenceRequest
from autoal.models import SklearnClassifier
from autoal.strategies import get_strategy

from support import planted_blobs


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0], [6.0, 6.0]])
    y = np.repeat(np.arange(4), 30)
    X = planted_blobs(centres, y, rng)
    return X, y


def test_probabilities_have_a_column_per_class_also_for_absent_classes(blobs):
    X, y = blobs
    keep = np.isin(y, [0, 2])
    clf = SklearnClassifier(LogisticRegression()).fit(X[keep], y[keep], n_classes=4)
    probs = clf.predict_proba(X)
    assert probs.shape == (120, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert np.all(probs[:, [1, 3]] == 0.0)
    raw = clf.estimator_.predict_proba(X)
    np.testing.assert_array_equal(probs[:, [0, 2]], raw)
    assert set(clf.predict(X)) <= {0, 2}


def test_fit_trains_a_clone_and_leaves_the_given_estimator_alone(blobs):
    X, y = blobs
    est = LogisticRegression()
    clf = SklearnClassifier(est).fit(X, y)
    assert not hasattr(est, "coef_")
    assert clf.n_classes_ == 4 and (clf.predict(X) == y).mean() > 0.95
    copy = clone(clf)
    assert copy.get_params(deep=False).keys() == {"estimator", "embeddings"}
    assert copy.estimator is not est and copy.get_params()["estimator__C"] == est.C
    assert not hasattr(copy, "estimator_")


def test_images_are_flattened(blobs):
    X, y = blobs
    images = np.repeat(X[:, None, :, None], 3, axis=3)  # (N, 1, 2, 3)
    clf = SklearnClassifier(LogisticRegression()).fit(images, y)
    flat = SklearnClassifier(LogisticRegression()).fit(images.reshape(120, -1), y)
    np.testing.assert_allclose(clf.predict_proba(images), flat.predict_proba(images))


def test_evidence_holds_probabilities_and_what_the_request_asks(blobs):
    X, y = blobs
    clf = SklearnClassifier(LogisticRegression()).fit(X[:80], y[:80])
    ev = clf.evidence(X[80:])
    np.testing.assert_array_equal(ev.probs, clf.predict_proba(X[80:]))
    assert ev.mc_probs is None and ev.embeddings is None and ev.predicted_loss is None
    assert ev.labeled_probs is None and ev.inputs is None
    ev = clf.evidence(X[80:], X[:80], y[:80], request=EvidenceRequest(with_inputs=True,
                                                                      mc_samples=10))
    assert ev.mc_probs is None  # no dropout: a scikit-learn model cannot sample
    np.testing.assert_array_equal(ev.labeled_probs, clf.predict_proba(X[:80]))
    np.testing.assert_array_equal(ev.inputs, X[80:])
    np.testing.assert_array_equal(ev.labeled_inputs, X[:80])
    np.testing.assert_array_equal(ev.labeled_targets, y[:80])


def test_input_embeddings_are_what_the_final_estimator_reads(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    clf = SklearnClassifier(pipe, embeddings="input").fit(X[:80], y[:80])
    ev = clf.evidence(X[80:], X[:80], y[:80])
    scaler = StandardScaler().fit(X[:80])
    np.testing.assert_allclose(ev.embeddings, scaler.transform(X[80:]))
    np.testing.assert_allclose(ev.labeled_embeddings, scaler.transform(X[:80]))
    plain = SklearnClassifier(LogisticRegression(), embeddings="input").fit(X, y)
    np.testing.assert_array_equal(plain.evidence(X[:5]).embeddings, X[:5])


def test_kmeans_on_input_embeddings_covers_planted_clusters(blobs):
    X, y = blobs
    clf = SklearnClassifier(NearestCentroid(), embeddings="input").fit(X, y)
    picked = get_strategy("kmeans", random_state=0).select(clf.evidence(X), 4)
    assert sorted(y[picked]) == [0, 1, 2, 3]  # one pick per planted blob


def test_bad_use_is_a_clear_error(blobs):
    X, y = blobs

    class NoProba:
        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match="NoProba has no predict_proba"):
        SklearnClassifier(NoProba()).fit(X, y)
    with pytest.raises(ValueError, match="embeddings must be one of"):
        SklearnClassifier(LogisticRegression(), embeddings="deep").fit(X, y)
    with pytest.raises(RuntimeError, match="not fitted"):
        SklearnClassifier(LogisticRegression()).predict_proba(X)
    with pytest.raises(ValueError, match="class ids"):
        SklearnClassifier(LogisticRegression()).fit(X, y, n_classes=2)
    with pytest.raises(ValueError, match="matching"):
        SklearnClassifier(LogisticRegression()).fit(X, y[:-1])
