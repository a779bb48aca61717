"""Exact values of each scoring formula on small hand-made evidence, and planted geometry."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import Evidence
from autoal.strategies import get_strategy
from autoal.strategies.base import top_k

P = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.4, 0.4, 0.2],
        [1.0, 0.0, 0.0],
        [0.5, 0.3, 0.2],
    ]
)


def score(name: str, **fields) -> np.ndarray:
    return get_strategy(name, random_state=0).score(Evidence(**fields))


def test_least_confidence():
    np.testing.assert_allclose(score("least_confidence", probs=P), [0.3, 0.6, 0.0, 0.5])


def test_margin():
    np.testing.assert_allclose(score("margin", probs=P), [0.5, 1.0, 0.0, 0.8])


def test_entropy():
    def h(*p):
        return -sum(x * np.log(x) for x in p if x > 0)

    expected = [h(0.7, 0.2, 0.1), h(0.4, 0.4, 0.2), 0.0, h(0.5, 0.3, 0.2)]
    np.testing.assert_allclose(score("entropy", probs=P), expected)


# Two samples, T = 4 MC draws, 2 classes.
MC = np.array(
    [
        [[0.9, 0.1], [0.6, 0.4]],
        [[0.8, 0.2], [0.3, 0.7]],
        [[0.7, 0.3], [0.2, 0.8]],
        [[0.6, 0.4], [0.4, 0.6]],
    ]
)


def test_var_ratio_is_the_true_variation_ratio():
    # Sample 0: all 4 draws vote class 0 -> 0. Sample 1: votes 0,1,1,1 -> 1 - 3/4.
    np.testing.assert_allclose(score("var_ratio", mc_probs=MC), [0.0, 0.25])


def test_var_ratio_differs_from_least_confidence():
    # Same mean probabilities, different vote spread: 1 - max p cannot tell them apart.
    confident = np.array([[[0.6, 0.4]], [[0.6, 0.4]]])
    split = np.array([[[0.9, 0.1]], [[0.3, 0.7]]])
    mc = np.concatenate([confident, split], axis=1)
    s = score("var_ratio", mc_probs=mc)
    assert s[0] == 0.0 and s[1] == 0.5


def test_mean_std():
    expected = [MC[:, 0, 0].std(), MC[:, 1, 0].std()]  # both classes share the same std
    np.testing.assert_allclose(score("mean_std", mc_probs=MC), expected)
    np.testing.assert_allclose(expected[0], np.sqrt(0.0125))


def test_bald_is_mutual_information():
    def h(p):
        return -sum(x * np.log(x) for x in p if x > 0)

    expected = []
    for i in range(2):
        mean = MC[:, i].mean(axis=0)
        expected.append(h(mean) - np.mean([h(MC[t, i]) for t in range(4)]))
    np.testing.assert_allclose(score("bald", mc_probs=MC), expected)


def test_bald_is_zero_when_all_draws_agree():
    mc = np.repeat(np.array([[[0.5, 0.5], [0.9, 0.1]]]), 5, axis=0)
    np.testing.assert_allclose(score("bald", mc_probs=mc), [0.0, 0.0], atol=1e-12)


def test_grad_embeddings_closed_form():
    ev = Evidence(probs=np.array([[0.25, 0.75]]), embeddings=np.array([[2.0, -1.0]]))
    # argmax is class 1: delta = (0.25, -0.25); outer product with (2, -1), row-major.
    np.testing.assert_allclose(ev.grad_embeddings(), [[0.5, -0.25, -0.5, 0.25]])


def test_top_k_breaks_ties_randomly_but_reproducibly():
    s = np.array([1.0, 1.0, 1.0, 0.0])
    picks = {tuple(top_k(s, 1, np.random.default_rng(seed))) for seed in range(20)}
    assert picks == {(0,), (1,), (2,)}
    np.testing.assert_array_equal(
        top_k(s, 2, np.random.default_rng(7)), top_k(s, 2, np.random.default_rng(7))
    )


def blobs(rng: np.random.Generator):
    near = rng.normal(0, 0.1, size=(50, 2))
    far = rng.normal(0, 0.1, size=(5, 2)) + np.array([20.0, 0.0])
    return np.vstack([near, far])


def test_coreset_reaches_the_far_cluster_first():
    rng = np.random.default_rng(0)
    emb = blobs(rng)
    labeled = rng.normal(0, 0.1, size=(10, 2))
    idx = get_strategy("coreset", random_state=0).select(
        Evidence(embeddings=emb, labeled_embeddings=labeled), budget=1
    )
    assert idx[0] >= 50


def test_coreset_without_labeled_covers_both_clusters():
    emb = blobs(np.random.default_rng(1))
    idx = get_strategy("coreset", random_state=0).select(Evidence(embeddings=emb), budget=2)
    assert (idx < 50).sum() == 1 and (idx >= 50).sum() == 1


def test_coreset_never_repeats_on_duplicate_points():
    emb = np.zeros((6, 2))
    idx = get_strategy("coreset", random_state=0).select(Evidence(embeddings=emb), budget=6)
    assert sorted(idx) == list(range(6))


def test_kmeans_picks_one_point_per_cluster_nearest_its_centre():
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    offsets = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    emb = np.vstack([c + offsets for c in centres])  # the centre point is each cluster's first
    idx = get_strategy("kmeans", random_state=0).select(Evidence(embeddings=emb), budget=3)
    assert sorted(idx) == [0, 5, 10]


@pytest.mark.parametrize("seed", range(3))
def test_badge_first_pick_is_the_largest_gradient(seed):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), size=30)
    emb = rng.normal(size=(30, 4))
    ev = Evidence(probs=probs, embeddings=emb)
    norms = np.linalg.norm(ev.grad_embeddings(), axis=1)
    scores = get_strategy("badge", random_state=seed).score(ev, budget=5)
    assert int(np.argmax(scores)) == int(np.argmax(norms))


def test_badge_prefers_distinct_gradients():
    # 20 copies of one uncertain sample and one different uncertain sample: a batch of 2
    # must contain both kinds, never two copies.
    probs = np.array([[0.5, 0.5]] * 20 + [[0.4, 0.6]])
    emb = np.array([[1.0, 0.0]] * 20 + [[0.0, 1.0]])
    idx = get_strategy("badge", random_state=0).select(
        Evidence(probs=probs, embeddings=emb), budget=2
    )
    assert 20 in idx


def test_random_is_uniform_over_the_pool():
    ev = Evidence(probs=np.full((10, 2), 0.5))
    counts = np.zeros(10)
    strategy = get_strategy("random", random_state=0)
    for _ in range(2000):
        counts[strategy.select(ev, budget=1)] += 1
    assert counts.min() > 150 and counts.max() < 250


def test_mc_dropout_draws_are_one_dropout_mask_applied_to_every_sample():
    """Solve each draw's logits for the per-unit scale: it must be 0 or 1/(1-p) per unit."""
    from autoal.models import TorchClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 5)).astype(np.float32), np.arange(300) % 3
    model = TorchClassifier(model="mlp", epochs=2, random_state=0).fit(X, y, 3)
    emb = model.embed(X).astype(np.float64)
    mc = model.mc_probs_from_embeddings(emb.astype(np.float32), 5).astype(np.float64)
    W = model.net_.head.weight.detach().cpu().numpy().astype(np.float64)
    b = model.net_.head.bias.detach().cpu().numpy().astype(np.float64)
    p = model.net_.dropout_p
    alive = np.abs(emb).max(axis=0) > 1e-6
    e = emb[:, alive]
    Wc = W[:, alive] - W[:, alive].mean(axis=0)  # logits are known up to a per-sample shift
    A = (e[:, None, :] * Wc[None, :, :]).reshape(-1, alive.sum())
    masks = []
    for t in range(5):
        logits = np.log(mc[t])
        target = (logits - logits.mean(axis=1, keepdims=True) - (b - b.mean())).ravel()
        scale, *_ = np.linalg.lstsq(A, target, rcond=None)
        kept = scale > 1.0 / (2 * (1 - p))
        np.testing.assert_allclose(scale, np.where(kept, 1 / (1 - p), 0.0), atol=1e-2)
        masks.append(kept)
    assert 0.3 < np.mean(masks) < 0.7  # about half the units dropped (p = 0.5)
    assert not np.array_equal(masks[0], masks[1])
