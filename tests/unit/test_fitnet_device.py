"""AutoAL's FitNets train on the task model's device unless AutoAL is told otherwise."""

from __future__ import annotations

import numpy as np
import pytest

import autoal.search.round_search as search_strategy
from autoal import Evidence
from autoal.models.torch_model import TorchClassifier
from autoal.search import AutoAL


class _Stop(Exception):
    pass


@pytest.fixture
def fitnet_device(monkeypatch):
    """Record the device AutoAL hands its cross-fitter, then stop the search."""
    seen: list[str] = []

    def fake_crossfitter(**kwargs):
        seen.append(kwargs["device"])
        raise _Stop

    monkeypatch.setattr(search_strategy, "CrossFitter", fake_crossfitter)
    return seen


def _evidence(device):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=30)
    return Evidence(
        probs=probs, mc_probs=np.stack([probs] * 4), embeddings=rng.normal(size=(30, 4)),
        inputs=rng.normal(size=(30, 5)), labeled_inputs=rng.normal(size=(12, 5)),
        labeled_targets=np.arange(12) % 3, labeled_probs=probs[:12],
        labeled_embeddings=rng.normal(size=(12, 4)), device=device,
    )


@pytest.mark.parametrize(
    ("autoal_device", "model_device", "expected"),
    [
        ("auto", "cpu", "cpu"),        # a CPU cell on a GPU machine stays on the CPU
        ("auto", "cuda:0", "cuda:0"),
        ("auto", None, "auto"),        # unknown task-model device: FitNet resolves it
        ("cpu", "cuda:0", "cpu"),      # an explicit choice wins
    ],
)
def test_fitnets_follow_the_task_models_device(fitnet_device, autoal_device, model_device,
                                               expected):
    strategy = AutoAL(random_state=0, device=autoal_device)
    with pytest.raises(_Stop):
        strategy.select(_evidence(model_device), budget=3)
    assert fitnet_device == [expected]


def test_torch_evidence_names_the_models_device():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 4)).astype(np.float32), np.arange(20) % 2
    model = TorchClassifier(model="mlp", epochs=1, device="cpu", random_state=0).fit(X, y, 2)
    assert model.evidence(X[:5]).device == "cpu"
