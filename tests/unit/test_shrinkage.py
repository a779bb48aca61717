"""The noise-aware search and the budget prior: moves on evidence, stays at the prior without."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support_search import PLANTERS, K, planted_max_loss

from autoal.search import GlobalWeights, SearchOptions, run_search
from autoal.search.prior import candidate_prior, diversity_share
from autoal.search.shrinkage import run_shrinkage_search, shrinkage_factor
from autoal.strategies.ranks import rank_normalise


def test_shrinkage_factor_exact():
    grads = torch.tensor([[1.0, 2.0, 1.0], [3.0, 2.0, -1.0]], dtype=torch.float64)
    mean, factor = shrinkage_factor(grads, kappa=1.0)
    # mean (2, 2, 0); se^2 = var / 2 = (1, 0, 1): factors 1 - 1/4, 1, max(0, 1 - 1/0)
    np.testing.assert_allclose(mean.numpy(), [2.0, 2.0, 0.0])
    np.testing.assert_allclose(factor.numpy(), [0.75, 1.0, 0.0])
    _, single = shrinkage_factor(grads[:1], kappa=2.0)
    np.testing.assert_allclose(single.numpy(), [1.0, 1.0, 1.0])
    _, tiny = shrinkage_factor(torch.full((3, 2), 1e-9, dtype=torch.float64), kappa=0.0)
    np.testing.assert_allclose(tiny.numpy(), [0.0, 0.0])  # rounding error, not signal


@pytest.mark.parametrize("objective", ["max_loss", "lookahead"])
@pytest.mark.parametrize("position", range(K))
@pytest.mark.parametrize("seed", range(2))
def test_planted_candidate_wins_from_a_prior_that_disfavours_it(objective, position, seed):
    problems = [PLANTERS[objective](position, seed * 10 + r) for r in range(4)]
    prior = np.full(K, 0.3)
    prior[position] = 0.1
    model = GlobalWeights(K, np.log(prior / prior.sum()))
    trace = run_shrinkage_search(model, problems, SearchOptions(objective=objective, steps=60))
    weights = torch.softmax(model.logits.detach(), dim=0).numpy()
    assert int(np.argmax(weights)) == position, weights
    assert weights[position] > 0.5, weights
    assert trace.objective_after < trace.objective_before
    assert min(trace.grad_norm[: len(trace.grad_norm) // 2]) > 0  # the gradient is alive
    assert 0 < trace.shrinkage <= 1


def test_identical_candidates_stay_exactly_at_the_prior():
    problems = [planted_max_loss(0, r) for r in range(4)]
    for p in problems:
        p.scores = p.scores[:, :1].repeat(1, K)  # every candidate ranks alike
    prior = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    model = GlobalWeights(K, prior)
    run_shrinkage_search(model, problems, SearchOptions(objective="max_loss", steps=40))
    weights = torch.softmax(model.logits.detach(), dim=0).numpy()
    np.testing.assert_allclose(weights, [0.1, 0.2, 0.3, 0.4], atol=1e-6)


def _noise_problems(seed: int) -> list:
    """Losses unrelated to every candidate: any preference is noise."""
    problems = []
    for r in range(6):
        p = planted_max_loss(0, seed * 100 + r)
        p.losses = torch.as_tensor(np.random.default_rng([seed, r]).random(len(p.losses)),
                                   dtype=torch.float32)
        problems.append(p)
    return problems


@pytest.mark.parametrize("seed", range(3))
def test_indistinguishable_candidates_stay_near_the_prior_where_adam_drifts(seed):
    problems = _noise_problems(seed)
    options = SearchOptions(objective="max_loss", steps=60)
    shrunk = GlobalWeights(K)
    run_shrinkage_search(shrunk, problems, options)
    adam = GlobalWeights(K)
    run_search(adam, problems, options)

    def from_uniform(model):
        w = torch.softmax(model.logits.detach(), dim=0).numpy()
        return 0.5 * np.abs(w - 1 / K).sum()

    assert from_uniform(shrunk) < 0.1
    assert from_uniform(shrunk) < from_uniform(adam)


def test_bad_kappa():
    with pytest.raises(ValueError, match="kappa"):
        run_shrinkage_search(GlobalWeights(K), [planted_max_loss(0, 0)], SearchOptions(),
                             kappa=-1.0)


def test_diversity_share_exact():
    assert diversity_share(20, 10) == pytest.approx(10 / 12)
    assert diversity_share(100, 10) == pytest.approx(0.5)
    assert diversity_share(1000, 10) == pytest.approx(10 / 110)


def test_prior_moves_from_diversity_to_margin_as_labels_grow():
    cands = ("margin", "entropy", "kmeans", "typiclust")
    few = candidate_prior(cands, 20, 10, floor=0.0)
    np.testing.assert_allclose(few, [1 / 6, 0.0, 5 / 12, 5 / 12])
    many = candidate_prior(cands, 1000, 10)
    assert int(np.argmax(many)) == 0 and many[0] > 0.8
    assert many.min() > 0  # the floor keeps every candidate reachable
    assert candidate_prior(cands, 20, 10, kind="uniform") == pytest.approx([0.25] * 4)


def test_prior_without_margin_or_diversity():
    only_unc = candidate_prior(("entropy", "bald"), 20, 10)
    np.testing.assert_allclose(only_unc, [0.5, 0.5])
    no_margin = candidate_prior(("entropy", "bald", "coreset"), 100, 10, floor=0.0)
    np.testing.assert_allclose(no_margin, [0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="prior"):
        candidate_prior(("margin",), 10, 10, kind="flat")


@pytest.mark.parametrize("position", range(K))
def test_balance_objective_finds_the_candidate_that_spreads_over_classes(position):
    """Only candidate ``position`` ranks one sample of each class first; the others rank
    samples of class 0 first. The balance objective (class entropy of the selection) picks it."""
    rng = np.random.default_rng(position)
    n, classes = 120, 4
    label = np.arange(n) % classes
    raw = rng.random((n, K))
    raw[:, [k for k in range(K) if k != position]] += 2.0 * (label == 0)[:, None]
    probs = np.full((n, classes), 0.02)
    probs[np.arange(n), label] = 0.94
    problems = []
    for r in range(3):
        keep = np.random.default_rng([position, r]).permutation(n)[:90]
        problems.append(planted_max_loss(0, r, n=90))
        problems[-1].scores = torch.as_tensor(rank_normalise(raw[keep]), dtype=torch.float32)
        problems[-1].probs = torch.as_tensor(probs[keep], dtype=torch.float32)
    model = GlobalWeights(K)
    run_shrinkage_search(model, problems, SearchOptions(objective="balance", steps=60))
    assert int(torch.argmax(model.logits)) == position
