"""AutoAL's search: it learns (non-zero gradient), finds planted signal, does not collapse."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support_search import PLANTERS, K, planted_lookahead, planted_max_loss

from autoal.search import (
    GlobalWeights,
    RidgeProbe,
    SearchNet,
    SearchOptions,
    combine,
    run_search,
    soft_threshold,
)
from autoal.strategies.ranks import rank_normalise


@pytest.mark.parametrize("objective", ["max_loss", "lookahead"])
@pytest.mark.parametrize("weights", ["global", "per-sample"])
def test_gradient_is_nonzero_and_weights_move(objective, weights):
    problem = PLANTERS[objective](position=1, seed=0)
    model = GlobalWeights(K) if weights == "global" else SearchNet(K, K)
    before = [p.detach().clone() for p in model.parameters()]
    trace = run_search(model, [problem], SearchOptions(objective=objective, steps=20))
    assert trace.grad_norm[0] > 1e-4
    # Non-zero while the temperature is warm; a saturated SearchNet may go flat at the end.
    assert min(trace.grad_norm[: len(trace.grad_norm) // 2]) > 0
    pairs = zip(model.parameters(), before, strict=True)
    moved = sum(float((p.detach() - b).abs().sum()) for p, b in pairs)
    assert moved > 1e-3


@pytest.mark.parametrize("objective", ["max_loss", "lookahead"])
@pytest.mark.parametrize("position", range(K))
@pytest.mark.parametrize("seed", range(3))
def test_planted_candidate_wins_global_search(objective, position, seed):
    problems = [PLANTERS[objective](position, seed * 10 + r) for r in range(2)]
    model = GlobalWeights(K)
    trace = run_search(
        model, problems, SearchOptions(objective=objective, steps=60, random_state=seed)
    )
    weights = torch.softmax(model.logits.detach(), dim=0).numpy()
    assert int(np.argmax(weights)) == position, weights
    assert weights[position] > 0.7, weights
    assert trace.objective_after < trace.objective_before


@pytest.mark.parametrize("objective", ["max_loss", "lookahead"])
@pytest.mark.parametrize("position", range(K))
@pytest.mark.parametrize("seed", range(2))
def test_planted_candidate_wins_per_sample_search(objective, position, seed):
    problems = [PLANTERS[objective](position, 100 + 10 * seed + r) for r in range(2)]
    torch.manual_seed(seed)
    model = SearchNet(K, K)
    options = SearchOptions(objective=objective, steps=100, weight_decay=1e-2)
    run_search(model, problems, options)
    with torch.no_grad():
        weights = torch.softmax(model(problems[0].features), dim=1).mean(dim=0).numpy()
    assert int(np.argmax(weights)) == position, weights
    assert weights[position] > 0.4, weights  # uniform would be 0.25


def test_planted_candidate_wins_with_gmm_threshold():
    problems = [planted_max_loss(2, r) for r in range(2)]
    model = GlobalWeights(K)
    run_search(model, problems, SearchOptions(objective="max_loss", threshold="gmm", steps=60))
    assert int(torch.argmax(model.logits)) == 2


def test_no_signal_no_drift():
    """With nothing to gain (every sample has the same loss) the weights stay uniform: no
    other term of the search (such as a budget penalty) pulls them on its own."""
    problem = planted_max_loss(0, 0)
    problem.losses = torch.ones_like(problem.losses)
    model = GlobalWeights(K)
    run_search(model, [problem], SearchOptions(objective="max_loss", steps=60))
    weights = torch.softmax(model.logits.detach(), dim=0).numpy()
    np.testing.assert_allclose(weights, 1 / K, atol=1e-3)


def test_combined_score_is_not_invariant_to_weight_scale():
    scores = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    logits = torch.tensor([[1.0, 0.0]]).expand(3, -1)
    s1, _ = combine(scores, logits)
    s3, _ = combine(scores, 3.0 * logits)
    assert not torch.allclose(s1, s3)


def test_gmm_threshold_cuts_about_the_fraction():
    rng = np.random.default_rng(0)
    s = torch.as_tensor(np.concatenate([rng.normal(0, 1, 800), rng.normal(5, 1, 200)]))
    theta = soft_threshold(s, 0.2, "gmm")
    assert 0.15 < float((s > theta).float().mean()) < 0.25
    q = soft_threshold(s, 0.2, "quantile")
    assert float((s > q).float().mean()) == pytest.approx(0.2, abs=0.002)


def test_ridge_probe_val_loss_drops_when_clean_points_are_added():
    problem = planted_lookahead(0, 0)
    clean = (problem.scores[:, 0] > 0.5).float()
    noisy = 1.0 - clean
    base = problem.probe.val_loss(torch.zeros(len(clean)))
    assert problem.probe.val_loss(clean) < base < problem.probe.val_loss(noisy)


def test_rank_normalise_exact():
    np.testing.assert_allclose(
        rank_normalise(np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 5.0]])),
        [[1.0, 0.25], [0.0, 0.25], [0.5, 1.0]],
    )


def test_ridge_probe_survives_dead_features():
    """A feature constant on the training part (a dead ReLU unit) that one candidate and many
    validation samples activate must not blow the validation loss up."""
    rng = np.random.default_rng(0)
    x_train = np.hstack([rng.normal(size=(30, 3)), np.zeros((30, 1))])
    x_cand = np.hstack([rng.normal(size=(20, 3)), np.zeros((20, 1))])
    x_cand[0, 3] = 0.3
    x_val = np.hstack([rng.normal(size=(20, 3)), np.ones((20, 1))])
    y_train, y_cand, y_val = (rng.integers(0, 2, n) for n in (30, 20, 20))
    probe = RidgeProbe.build(x_train, y_train, x_cand, y_cand, x_val, y_val, 2)
    assert float(probe.val_loss(torch.ones(20))) < 2.0
