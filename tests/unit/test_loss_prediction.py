"""The loss-prediction module (Yoo & Kweon 2019) and the loss_prediction strategy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from autoal import Evidence
from autoal.data import Dataset
from autoal.loop.runner import LoopConfig, run_active_learning
from autoal.models import EvidenceRequest, TorchClassifier, build_net
from autoal.models.loss_module import LossPredictionModule, feature_taps, ranking_loss
from autoal.strategies import get_strategy

from support import planted_blobs


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three overlapping Gaussian blobs in 2-D: losses range from ~0 to large."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.7]])
    return planted_blobs(centres, y, rng, scale=0.8).astype(np.float32), y


def test_ranking_loss_is_zero_for_a_correct_order_beyond_the_margin():
    target = torch.tensor([3.0, 2.0, 0.5, 1.0])  # pairs (3.0, 1.0) and (2.0, 0.5)
    good = torch.tensor([5.0, 4.0, 0.0, 1.0])  # same order, gaps 4 and 4 >= margin 1
    bad = torch.tensor([0.0, 1.0, 4.0, 5.0])  # both pairs reversed
    assert ranking_loss(good, target).item() == 0.0
    # each reversed pair costs margin + |gap| = 1 + 5 and 1 + 3
    assert ranking_loss(bad, target).item() == pytest.approx(5.0)
    assert ranking_loss(torch.tensor([1.0]), torch.tensor([2.0])).item() == 0.0
    with pytest.raises(ValueError):
        ranking_loss(torch.zeros(3), torch.zeros(4))


def test_feature_taps_read_each_stage_and_the_embedding():
    cnn = build_net("cnn", (1, 28, 28), 10)
    assert feature_taps(cnn.backbone, (1, 28, 28)) == [2, 6, 9]
    assert feature_taps(cnn.backbone, (1, 28, 28), intermediate=False) == [9]
    mlp = build_net("mlp", (5,), 3)
    assert feature_taps(mlp.backbone, (5,)) == [2, 4]
    module = LossPredictionModule.for_net(cnn, (1, 28, 28))
    out = module.embed_and_predict(cnn.eval(), np.zeros((3, 1, 28, 28), np.float32),
                                   torch.device("cpu"))
    assert out[0].shape == (3, cnn.embedding_dim) and out[1].shape == (3,)


@pytest.mark.parametrize("seed", [0, 1])
def test_predicted_losses_rank_like_true_losses_on_held_out_data(seed):
    torch.set_num_threads(1)
    X, y = blobs(200, seed)
    X_test, y_test = blobs(600, seed + 100)
    clf = TorchClassifier(model="mlp", epochs=20, batch_size=32, loss_module=True,
                          random_state=seed, device="cpu").fit(X, y, 3)
    ev = clf.evidence(X_test, request=EvidenceRequest())
    assert ev.predicted_loss is not None and ev.predicted_loss.shape == (600,)
    true_loss = -np.log(np.clip(ev.probs[np.arange(len(y_test)), y_test], 1e-12, None))
    rho = spearmanr(ev.predicted_loss, true_loss).statistic
    assert rho > 0.6
    # deterministic for a seed
    again = TorchClassifier(model="mlp", epochs=20, batch_size=32, loss_module=True,
                            random_state=seed, device="cpu").fit(X, y, 3)
    np.testing.assert_allclose(again.evidence(X_test, request=EvidenceRequest()).predicted_loss,
                               ev.predicted_loss, rtol=1e-5)


def test_without_the_module_there_is_no_predicted_loss():
    X, y = blobs(40, 0)
    clf = TorchClassifier(model="mlp", epochs=1, device="cpu").fit(X, y, 3)
    assert clf.evidence(X, request=EvidenceRequest()).predicted_loss is None


def test_strategy_ranks_by_predicted_loss():
    strat = get_strategy("loss_prediction", random_state=0)
    assert strat.requires == ("predicted_loss",)
    ev = Evidence(predicted_loss=np.array([0.1, 2.0, 0.5, 3.0]))
    assert list(strat.select(ev, 2)) == [3, 1]
    np.testing.assert_array_equal(strat.score(ev), ev.predicted_loss)


def test_the_loop_trains_the_module_for_the_strategy():
    X, y = blobs(160, 3)
    X_test, y_test = blobs(60, 4)
    data = Dataset("blobs", X, y, X_test, y_test, ["a", "b", "c"], "three blobs")
    config = LoopConfig(init=20, budget=10, rounds=2, seed=0, epochs=2, device="cpu")
    record = run_active_learning(data, "loss_prediction", config, progress=False)
    assert [r["labeled"] for r in record["rounds"]] == [20, 30, 40]
