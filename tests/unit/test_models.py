"""Learners: sample weights really weight the training loss."""

from __future__ import annotations

import numpy as np
import pytest

from autoal.models import TorchClassifier


def test_zero_weight_samples_are_ignored():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    flipped = 1 - y
    X2, y2 = np.vstack([X, X]), np.concatenate([y, flipped])
    weight = np.concatenate([np.ones(200), np.zeros(200)])
    model = TorchClassifier(model="mlp", epochs=30, random_state=0)
    model.fit(X2, y2, 2, sample_weight=weight)
    assert (model.predict(X) == y).mean() > 0.9
    # Equal weights on contradicting labels leave the model near chance.
    model.fit(X2, y2, 2)
    assert (model.predict(X) == y).mean() < 0.75


def test_bad_sample_weight():
    X, y = np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="sample_weight"):
        TorchClassifier(model="mlp", epochs=1).fit(X, y, 2, sample_weight=np.array([1.0, -1, 1, 1]))
