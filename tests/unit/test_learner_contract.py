"""The learner contract: Learner, EvidenceRequest, evidence_request, torch_classifier_for."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from autoal import Evidence, EvidenceRequest
from autoal.loop.runner import LoopConfig
from autoal.models import (
    Learner,
    SklearnClassifier,
    TorchClassifier,
    evidence_request,
    torch_classifier_for,
)
from autoal.strategies import available_strategies, get_strategy


@pytest.mark.parametrize(
    ("name", "fields", "mc", "inputs", "loss"),
    [
        ("random", (), 0, False, False),
        ("margin", ("probs",), 0, False, False),
        ("bald", ("mc_probs",), 7, False, False),
        ("badge", ("probs", "embeddings"), 0, False, False),
        ("loss_prediction", ("predicted_loss",), 0, False, True),
    ],
)
def test_evidence_request_maps_requires(name, fields, mc, inputs, loss):
    request = evidence_request(get_strategy(name), mc_samples=7)
    assert request == EvidenceRequest(fields=fields, mc_samples=mc, with_inputs=inputs,
                                      loss_module=loss)


def test_stateful_strategies_ask_for_their_candidates_needs_and_the_raw_data():
    albl = evidence_request(get_strategy("albl", candidates=("margin", "bald")), mc_samples=5)
    assert albl.mc_samples == 5 and albl.with_inputs and not albl.loss_module
    assert set(albl.fields) == {"probs", "mc_probs", "labeled_probs", "labeled_targets"}
    auto = evidence_request(get_strategy("autoal", candidates="margin,loss_prediction"))
    assert auto.with_inputs and auto.loss_module and auto.mc_samples == 0
    uniform = evidence_request(get_strategy("autoal", candidates="margin", ablation="uniform"))
    assert not uniform.with_inputs  # no search, so no raw data


def test_evidence_request_joins_several_strategies():
    joined = evidence_request([get_strategy("margin"), get_strategy("kmeans"),
                               get_strategy("mean_std")], mc_samples=3)
    assert joined.fields == ("probs", "embeddings", "mc_probs")
    assert joined.mc_samples == 3


def test_every_registered_strategy_gets_a_request_for_exactly_its_fields():
    for name in available_strategies():
        strategy = get_strategy(name)
        assert evidence_request(strategy).fields == tuple(dict.fromkeys(strategy.requires))


def test_evidence_request_checks_its_fields_and_reports_what_is_missing():
    with pytest.raises(ValueError, match="unknown Evidence field.*nope"):
        EvidenceRequest(fields=("probs", "nope"))
    with pytest.raises(ValueError, match="mc_samples"):
        EvidenceRequest(mc_samples=-1)
    request = EvidenceRequest(fields=("probs", "embeddings", "mc_probs"))
    ev = Evidence(probs=np.full((3, 2), 0.5))
    assert request.missing(ev) == ("embeddings", "mc_probs")


def test_both_classifiers_are_learners_and_plain_estimators_are_not():
    assert isinstance(TorchClassifier(), Learner)
    assert isinstance(SklearnClassifier(LogisticRegression()), Learner)
    assert not isinstance(LogisticRegression(), Learner)
    assert clone(TorchClassifier(epochs=3)).get_params()["epochs"] == 3


@pytest.fixture(scope="module")
def fitted_torch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    return TorchClassifier(model="mlp", epochs=2, mc_samples=6, device="cpu").fit(X, y), X, y


def test_torch_evidence_follows_the_request(fitted_torch):
    clf, X, y = fitted_torch
    default = clf.evidence(X[:10], X[10:], y[10:])
    assert default.mc_probs.shape == (6, 10, 2)  # request=None: the constructor's T
    assert default.inputs is None and default.labeled_embeddings.shape[0] == 50
    none = clf.evidence(X[:10], X[10:], y[10:], request=EvidenceRequest())
    assert none.mc_probs is None
    np.testing.assert_array_equal(none.probs, default.probs)
    full = clf.evidence(X[:10], X[10:], y[10:],
                        request=EvidenceRequest(mc_samples=3, with_inputs=True))
    assert full.mc_probs.shape[0] == 3
    np.testing.assert_array_equal(full.labeled_targets, y[10:])
    np.testing.assert_array_equal(full.inputs, X[:10])


def test_torch_classifier_for_takes_the_run_settings_and_the_strategy_loss_module():
    config = LoopConfig(model="mlp", epochs=3, batch_size=16, lr=0.01, mc_samples=9,
                        device="cpu")
    clf = torch_classifier_for(get_strategy("margin"), config, random_state=42)
    assert clf.get_params() == {
        **TorchClassifier().get_params(), "model": "mlp", "epochs": 3, "batch_size": 16,
        "lr": 0.01, "mc_samples": 9, "device": "cpu", "random_state": 42,
    }
    assert torch_classifier_for(get_strategy("loss_prediction"), config, 0).loss_module
    both = get_strategy("albl", candidates=("margin", "loss_prediction"))
    assert torch_classifier_for(both, config, 0).loss_module
