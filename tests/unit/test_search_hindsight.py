"""The hindsight reward (autoal.search.hindsight): its formula on hand-made cases, planted
signal, determinism, the noise-aware step from the prior, and AutoAL's rounds with it."""

from __future__ import annotations

import numpy as np
import pytest

from autoal.search import AutoAL
from autoal.search.hindsight import (
    brier_loss,
    hindsight_rewards,
    probe_brier,
    run_hindsight_search,
    top_part,
)
from autoal.search.mixture import GlobalWeights

from support import full_evidence


def test_top_part_takes_each_candidates_highest_and_breaks_ties_by_position():
    scores = np.array([[0.1, 0.5], [0.9, 0.5], [0.5, 0.5], [0.7, 0.0]])
    assert top_part(scores, 0.5).tolist() == [[1, 3], [0, 1]]
    assert top_part(scores, 0.2).tolist() == [[1], [0]]  # ceil(0.8) = 1
    with pytest.raises(ValueError, match="fraction"):
        top_part(scores, 0.0)


def test_brier_loss_exact():
    probs = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    # (0.25 + 0.25) for the first (true class 0); (1 + 1) for the second (true class 2)
    assert brier_loss(probs, np.array([0, 2])) == pytest.approx((0.5 + 2.0) / 2)


def test_a_one_class_probe_predicts_that_class():
    z = np.zeros((3, 2))
    assert probe_brier(z, np.array([1, 1, 1]), z[:2], np.array([1, 0]), 3) == 1.0


def _inputs(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3))


def test_reward_formula_with_a_class_frequency_probe():
    """With C -> 0 the logistic probe predicts the training part's class frequencies, so the
    rewards follow from the formula by hand. A = four 0s and two 1s: each of the 2 stratified
    folds trains on (0, 0, 1) and holds out (0, 0, 1), so L(T) = (2 * 2/9 + 8/9) / 3 = 4/9."""
    y_before = np.array([0, 0, 0, 0, 1, 1])
    y_batch = np.array([0, 0, 1, 1])
    scores = np.array([[1.0, 0.0, 0.0], [0.9, 1.0, 0.0], [0.0, 0.9, 0.9], [0.1, 0.0, 1.0]])
    rewards = hindsight_rewards(_inputs(6, 0), y_before, _inputs(4, 1), y_batch, scores, 2,
                                fraction=0.5, n_folds=2, C=1e-9)

    def brier(q1: float) -> float:  # held out (0, 0, 1) under constant P(class 1) = q1
        return (2 * 2 * q1**2 + 2 * (1 - q1) ** 2) / 3

    base = brier(1 / 3)
    expected = [base - brier(1 / 5),  # picks (0, 0): T + S = four 0s, one 1
                base - brier(2 / 5),  # picks (0, 1)
                base - brier(3 / 5)]  # picks (1, 1)
    assert base == pytest.approx(4 / 9)
    assert rewards.shape == (2, 3)
    np.testing.assert_allclose(rewards, [expected, expected], atol=1e-4)


def test_picks_of_the_only_class_seen_change_nothing():
    y_before = np.zeros(6, dtype=int)
    scores = np.array([[1.0, 0.0], [0.0, 1.0]])
    rewards = hindsight_rewards(_inputs(6, 0), y_before, _inputs(2, 1), np.array([0, 1]),
                                scores, 2, fraction=0.5)
    assert np.all(rewards[:, 0] == 0.0)  # a class-0 pick: the probe still says "class 0"
    assert np.all(rewards[:, 1] < 0.0)  # a class-1 pick costs on the class-0 held-out part


def planted(position: int, seed: int, k: int = 4, n_before: int = 60, n_batch: int = 40):
    """Two Gaussian classes; half the batch carries flipped labels; only candidate
    ``position`` ranks the correctly labeled batch samples first."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=5)

    def sample(m: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(m, 5))
        return x, (x @ w > 0).astype(np.int64)

    x_a, y_a = sample(n_before)
    x_b, y_b = sample(n_batch)
    flipped = rng.random(n_batch) < 0.5
    y_b = np.where(flipped, 1 - y_b, y_b)
    scores = rng.random((n_batch, k))
    scores[:, position] = (~flipped) + 0.3 * rng.random(n_batch)
    return x_a, y_a, x_b, y_b, scores


@pytest.mark.parametrize("position", [0, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_candidate_whose_picks_help_gets_the_highest_reward(position, seed):
    x_a, y_a, x_b, y_b, scores = planted(position, seed)
    rewards = hindsight_rewards(x_a, y_a, x_b, y_b, scores, 2, n_resplits=4, random_state=seed)
    mean = rewards.mean(axis=0)
    assert int(np.argmax(mean)) == position
    prior = np.full(4, 0.3)
    prior[position] = 0.1  # the prior disfavours it
    model = GlobalWeights(4, np.log(prior))
    trace = run_hindsight_search(model, rewards, lr=0.05, steps=100)
    weights = np.exp(model.logits.detach().numpy()) / np.exp(model.logits.detach().numpy()).sum()
    # It gains weight; a random candidate whose picks happen to help about as much may keep
    # its share (the rule moves only where rewards differ beyond their standard error).
    assert weights[position] > 3 * prior[position]
    clearly_worse = (rewards[:, position:position + 1] - rewards).mean(axis=0) > 0.04
    assert np.all(weights[clearly_worse] < prior[clearly_worse])
    assert trace.objective_after < trace.objective_before  # the expected reward went up


def test_rewards_are_deterministic():
    x_a, y_a, x_b, y_b, scores = planted(1, 5)
    a = hindsight_rewards(x_a, y_a, x_b, y_b, scores, 2, n_resplits=2, random_state=3)
    b = hindsight_rewards(x_a, y_a, x_b, y_b, scores, 2, n_resplits=2, random_state=3)
    assert np.array_equal(a, b)


def test_candidates_that_pick_alike_stay_exactly_at_the_prior():
    x_a, y_a, x_b, y_b, scores = planted(0, 4)
    same = np.repeat(scores[:, :1], 3, axis=1)
    rewards = hindsight_rewards(x_a, y_a, x_b, y_b, same, 2, n_resplits=2)
    prior = np.log(np.array([0.5, 0.3, 0.2]))
    model = GlobalWeights(3, prior)
    trace = run_hindsight_search(model, rewards, lr=0.05, steps=50)
    assert np.array_equal(model.logits.detach().numpy(), prior.astype(np.float32))
    assert trace.shrinkage == 0.0


def test_bad_rewards_shape_and_kappa():
    model = GlobalWeights(3)
    with pytest.raises(ValueError, match="rewards"):
        run_hindsight_search(model, np.zeros((2, 4)), lr=0.1, steps=1)
    with pytest.raises(ValueError, match="kappa"):
        run_hindsight_search(model, np.zeros((2, 3)), lr=0.1, steps=1, kappa=-1)


HINDSIGHT = {"preset": "autoal-v1", "objective": "hindsight", "weights": "global",
             "search": "shrinkage", "prior": "budget", "search_steps": 30}


def grown(evidence, picked: np.ndarray):
    """The next round's evidence: the picks move, in order, to the end of the labeled set."""
    from dataclasses import replace

    rest = np.setdiff1d(np.arange(evidence.n_samples), picked)
    labels = np.arange(evidence.n_samples) % 4  # any labels: the reward only needs some
    return replace(
        evidence, probs=evidence.probs[rest], mc_probs=evidence.mc_probs[:, rest],
        embeddings=evidence.embeddings[rest], predicted_loss=evidence.predicted_loss[rest],
        inputs=evidence.inputs[rest],
        labeled_inputs=np.concatenate([evidence.labeled_inputs, evidence.inputs[picked]]),
        labeled_targets=np.concatenate([evidence.labeled_targets, labels[picked]]),
        labeled_embeddings=np.concatenate([evidence.labeled_embeddings,
                                           evidence.embeddings[picked]]),
        labeled_probs=np.concatenate([evidence.labeled_probs, evidence.probs[picked]]),
    )


def test_autoal_rounds_reward_the_last_batch_and_repeat_exactly():
    def two_rounds():
        strategy = AutoAL(random_state=2, **HINDSIGHT)
        first_ev = full_evidence(1)
        first = strategy.select(first_ev, 12)
        info1 = strategy.round_info()
        second = strategy.select(grown(first_ev, first), 12)
        return first, info1, second, strategy.round_info()

    first, info1, second, info2 = two_rounds()
    assert info1["search"]["hindsight"] == "no previous batch"
    assert list(info1["weights"].values()) == pytest.approx(info1["search"]["prior"], abs=1e-6)
    record = info2["search"]["hindsight"]
    assert record["batch"] == 12 and record["problems"] == 2  # 2 folds x 1 resplit
    assert len(record["reward_mean"]) == len(info2["weights"])
    again = two_rounds()
    assert first.tolist() == again[0].tolist() and second.tolist() == again[2].tolist()
    assert info2["weights"] == again[3]["weights"]


def test_a_labeled_set_that_did_not_grow_by_the_batch_falls_back_to_the_prior():
    strategy = AutoAL(random_state=0, **HINDSIGHT)
    evidence = full_evidence(0)
    strategy.select(evidence, 10)
    strategy.select(evidence, 10)  # the same labeled set again: no batch to reward
    search = strategy.round_info()["search"]
    assert search["hindsight"] == "the labeled set did not grow by exactly the last batch"
    assert search["steps"] == 0


@pytest.mark.parametrize("params", [{"search": "adam", "weights": "global"},
                                    {"weights": "per-sample"}])
def test_hindsight_needs_the_shrinkage_search_and_sets_it_where_left_none(params):
    with pytest.raises(ValueError, match="hindsight"):
        AutoAL(objective="hindsight", **params).validate()
    wave1 = AutoAL(preset="autoal-v1", objective="hindsight").resolved()  # per-sample, adam
    assert (wave1["weights"], wave1["search"]) == ("global", "shrinkage")
    plain = AutoAL(preset="autoal-v1", objective="lookahead").resolved()
    assert (plain["weights"], plain["search"]) == ("per-sample", "adam")


def test_in_the_loop_every_round_after_the_first_rewards_its_last_batch(digits_dataset):
    from autoal.loop.runner import LoopConfig, run_active_learning

    config = LoopConfig(init=30, budget=10, rounds=3, seed=0, epochs=2, mc_samples=5,
                        strategy_params={**HINDSIGHT, "batch": "kmeanspp"})
    record = run_active_learning(digits_dataset, "autoal", config, progress=False)
    searches = [r["search"] for r in record["rounds"][1:]]
    assert searches[0]["hindsight"] == "no previous batch"
    for search in searches[1:]:
        assert search["hindsight"]["batch"] == 10 and search["steps"] == 30
        assert np.all(np.isfinite(search["hindsight"]["reward_mean"]))


def test_batch_order_matches_rows_in_any_order_and_counts_duplicates():
    from autoal.search.hindsight_round import batch_order

    remembered = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0]])
    added = remembered[[3, 0, 1, 2]].astype(np.float32)  # another order and dtype
    order = batch_order(added, remembered)
    assert order is not None
    np.testing.assert_array_equal(added[order], remembered)
    assert sorted(order.tolist()) == [0, 1, 2, 3]  # each added row used once
    assert batch_order(added[[0, 1, 2, 2]], remembered) is None  # a duplicate for another row
    assert batch_order(added[:3], remembered) is None
    assert batch_order(added + 1e-3, remembered) is None


def test_scores_that_select_does_not_use_are_not_kept():
    strategy = AutoAL(random_state=0, **HINDSIGHT)
    evidence = full_evidence(0)
    strategy.score(evidence, budget=10)
    held = [k for k, v in strategy._state.items()
            if isinstance(v, np.ndarray) and v.shape[0] == evidence.n_samples]
    assert held == []  # nothing pool-sized outlives score()
    picked = strategy.select(evidence, 10)
    remembered = strategy._state["hindsight_batch"]
    assert remembered["scores"].shape == (10, len(strategy.resolved()["candidates"]))
    np.testing.assert_array_equal(remembered["inputs"], evidence.inputs[picked])


@pytest.mark.parametrize("order", ["reversed", "shuffled", "in two calls"])
def test_active_learner_rewards_a_batch_taught_back_in_any_order(order):
    from sklearn.linear_model import LogisticRegression

    from autoal import ActiveLearner

    digits = __import__("support").load_digits()
    X, y = digits.data[:400], digits.target[:400]
    params = {**HINDSIGHT,  # the budget prior counts labeled targets: no embeddings needed
              "candidates": "margin,entropy,least_confidence,random"}

    def second_round(reorder) -> tuple[list[int], dict]:
        al = ActiveLearner(LogisticRegression(max_iter=300), strategy="autoal",
                           random_state=0, strategy_params=params)
        al.fit(X[:40], y[:40])
        pool = np.arange(40, 400)
        idx = al.query(X[pool], n=20)
        taught = pool[idx][reorder(np.arange(20))]
        if order == "in two calls":
            al.teach(X[taught[:7]], y[taught[:7]]).teach(X[taught[7:]], y[taught[7:]])
        else:
            al.teach(X[taught], y[taught])
        rest = np.setdiff1d(pool, taught)
        return al.query(X[rest], n=20).tolist(), al.strategy_.round_info()

    rng = np.random.default_rng(0)
    reorders = {"reversed": lambda a: a[::-1], "shuffled": lambda a: rng.permutation(a),
                "in two calls": lambda a: a[::-1]}
    picks, info = second_round(reorders[order])
    same_picks, same_info = second_round(lambda a: a)  # taught back in query order
    assert isinstance(info["search"]["hindsight"], dict)  # the batch was found and rewarded
    assert info["search"]["hindsight"]["batch"] == 20
    assert info["search"]["hindsight"] == same_info["search"]["hindsight"]
    assert info["weights"] == same_info["weights"] and picks == same_picks
