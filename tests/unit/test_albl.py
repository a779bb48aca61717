"""ALBL: the bandit moves toward the expert whose picks are rewarded."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import Evidence
from autoal.strategies import QueryStrategy, get_strategy
from autoal.strategies.albl import ALBL, DEFAULT_CANDIDATES
from autoal.strategies.registry import _REGISTRY

C = 3


class _LowIndex(QueryStrategy):
    """Test expert: prefers samples with a low value of embedding 0."""

    name = "_test_low"
    requires = ("embeddings",)

    def score(self, evidence, budget=None):
        self._check(evidence)
        return -evidence.embeddings[:, 0]


class _HighIndex(QueryStrategy):
    """Test expert: prefers samples with a high value of embedding 0."""

    name = "_test_high"
    requires = ("embeddings",)

    def score(self, evidence, budget=None):
        self._check(evidence)
        return evidence.embeddings[:, 0].copy()


@pytest.fixture
def experts():
    _REGISTRY.update({"_test_low": _LowIndex, "_test_high": _HighIndex})
    yield ("_test_low", "_test_high")
    for name in ("_test_low", "_test_high"):
        _REGISTRY.pop(name, None)


def simulate(strategy: ALBL, rounds: int, budget: int = 5, n_pool: int = 400, seed: int = 0):
    """A loop where labeling the upper half of the pool makes a good model.

    Pool sample i has embedding (i / n_pool, noise). After a round that queried samples of
    the upper half (the high expert's picks) the "model" is right on every labeled sample,
    otherwise wrong on all: the importance-weighted accuracy, ALBL's reward, is 1 after a
    high pick and 0 after a low one.
    """
    rng = np.random.default_rng(seed)
    emb = np.column_stack([np.arange(n_pool) / n_pool, rng.normal(size=n_pool)])
    y = rng.integers(0, C, n_pool)
    labeled = list(rng.choice(n_pool, 10, replace=False))
    last_batch = np.array([], dtype=int)
    history = []
    for _ in range(rounds):
        unl = np.setdiff1d(np.arange(n_pool), labeled)
        lab = np.asarray(labeled)
        good = len(last_batch) > 0 and bool(np.all(last_batch >= n_pool // 2))
        right = y[lab] if good else (y[lab] + 1) % C
        labeled_probs = np.full((len(lab), C), 0.1)
        labeled_probs[np.arange(len(lab)), right] = 0.8
        ev = Evidence(
            probs=rng.dirichlet(np.ones(C), len(unl)),
            embeddings=emb[unl],
            labeled_probs=labeled_probs,
            labeled_inputs=emb[lab].astype(np.float32),
            labeled_targets=y[lab],
        )
        picked = strategy.select(ev, budget)
        last_batch = unl[picked]
        labeled.extend(int(i) for i in last_batch)
        history.append(strategy.round_info())
    return history


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probability_moves_to_the_rewarded_expert(experts, order, seed):
    cands = experts if order == 0 else experts[::-1]
    albl = ALBL(random_state=seed, candidates=cands, uniform_expert=False, horizon=30)
    history = simulate(albl, rounds=60, seed=seed)
    first = history[0]["weights"]
    last = history[-1]["weights"]
    assert first == pytest.approx({"_test_low": 0.5, "_test_high": 0.5})
    # EXP4.P moves by pmin / 2 per reward: slowly, but steadily toward the rewarded expert
    assert last["_test_high"] > 0.7 > 0.3 > last["_test_low"]
    p_high = [h["weights"]["_test_high"] for h in history]
    deciles = [np.mean(p_high[i : i + 10]) for i in range(0, 60, 10)]
    assert deciles == sorted(deciles)
    rewards = [h["albl"]["reward"] for h in history[1:]]
    assert all(r is not None and 0.0 <= r <= 1.0 for r in rewards)


def test_uniform_expert_and_weights_schema(experts):
    albl = ALBL(random_state=0, candidates=experts, horizon=10)
    history = simulate(albl, rounds=4)
    for h in history:
        assert list(h["weights"]) == ["_test_low", "_test_high", "random"]
        assert sum(h["weights"].values()) == pytest.approx(1.0)
        assert min(h["weights"].values()) >= albl.p_min - 1e-12
        assert h["albl"]["chosen"] in h["weights"]
    assert history[0]["albl"]["reward"] is None


def test_reward_is_the_importance_weighted_accuracy(experts):
    # With identical batches from every expert, q(x) = 1/b on the batch: all weights are
    # equal and IW-ACC is the plain accuracy on the queried points.
    albl = ALBL(random_state=0, candidates=(experts[1],), uniform_expert=False)
    n, b = 50, 4
    emb = np.column_stack([np.arange(n) / n, np.zeros(n)])
    y = np.zeros(n, dtype=int)
    ev0 = Evidence(embeddings=emb[10:], labeled_probs=np.full((10, C), 1 / C),
                   labeled_inputs=emb[:10], labeled_targets=y[:10])
    picked = albl.select(ev0, b)
    assert sorted(picked + 10) == [46, 47, 48, 49]
    lab = np.r_[np.arange(10), 10 + picked]
    probs = np.tile([0.8, 0.1, 0.1], (len(lab), 1))
    probs[-1] = [0.1, 0.8, 0.1]  # one of the four queried points is wrong
    ev1 = Evidence(embeddings=emb[10:46], labeled_probs=probs,
                   labeled_inputs=emb[lab], labeled_targets=y[lab])
    albl.select(ev1, b)
    assert albl.round_info()["albl"]["reward"] == pytest.approx(0.75)


def test_a_broken_labeled_order_drops_the_reward(experts):
    albl = ALBL(random_state=0, candidates=experts)
    n = 60
    emb = np.column_stack([np.arange(n) / n, np.zeros(n)])
    ev = Evidence(embeddings=emb, labeled_probs=np.full((5, C), 1 / C),
                  labeled_inputs=emb[:5], labeled_targets=np.zeros(5, int))
    albl.select(ev, 3)
    albl.select(ev, 3)  # the labeled set did not grow by the last batch
    assert albl.round_info()["albl"]["reward"] is None


def test_defaults_and_validation():
    albl = get_strategy("albl", random_state=0)
    assert albl.candidates == DEFAULT_CANDIDATES
    assert albl.experts == (*DEFAULT_CANDIDATES, "random")
    assert {"probs", "mc_probs", "embeddings", "labeled_probs", "labeled_targets"} <= set(
        albl.requires
    )
    assert 0 < albl.p_min <= 1 / len(albl.experts)
    bad = [
        ({"candidates": ("margin", "nope")}, "unknown or unusable candidate.*nope"),
        ({"candidates": ("margin", "autoal")}, "unusable candidate.*autoal"),
        ({"delta": 0.0}, "delta"),
        ({"candidates": ("margin", "entropy"), "pmin": 0.6}, "pmin"),
        ({"candidates": ()}, "at least one"),
        ({"horizon": 0}, "horizon"),
    ]
    for params, message in bad:
        albl = ALBL(**params)  # the constructor only stores (scikit-learn convention)
        assert albl.get_params()["delta"] == params.get("delta", 0.1)
        with pytest.raises(ValueError, match=message):
            albl.validate()
        with pytest.raises(ValueError, match=message):  # first use checks too
            albl.select(Evidence(probs=np.full((4, C), 1 / C)), 1)
        with pytest.raises(ValueError, match=message):
            get_strategy("albl", **params)

def _tied_var_ratio_evidence(n=60, t=10):
    """MC samples where every pool sample has the same variation ratio (7 of 10 votes for
    its modal class), so var_ratio's scores all tie."""
    mc = np.zeros((t, n, C))
    mc[:7, :, 0] = 1.0
    mc[7:, :, 1] = 1.0
    probs = mc.mean(axis=0)
    return Evidence(probs=probs, mc_probs=mc, labeled_probs=probs[:4],
                    labeled_targets=np.zeros(4, dtype=int), labeled_inputs=np.zeros((4, 2)))


def test_var_ratio_expert_breaks_ties_at_random_as_var_ratio_does():
    ev = _tied_var_ratio_evidence()
    assert np.unique(get_strategy("var_ratio").score(ev)).size == 1
    picks = [
        sorted(ALBL(random_state=s, candidates=("var_ratio",), uniform_expert=False)
               .select(ev, budget=5).tolist())
        for s in range(4)
    ]
    assert all(p != list(range(5)) for p in picks)  # not the lowest indices
    assert len({tuple(p) for p in picks}) == 4  # a different draw per seed
    again = ALBL(random_state=2, candidates=("var_ratio",), uniform_expert=False)
    assert sorted(again.select(ev, budget=5).tolist()) == picks[2]


def test_experts_without_ties_advise_their_top_scores():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(C), size=50)
    ev = Evidence(probs=probs, labeled_probs=probs[:4], labeled_targets=np.zeros(4, dtype=int),
                  labeled_inputs=np.zeros((4, 2)))
    picks = ALBL(random_state=0, candidates=("margin",), uniform_expert=False).select(ev, 6)
    margin = get_strategy("margin").score(ev)
    np.testing.assert_array_equal(picks, np.argsort(-margin)[:6])
