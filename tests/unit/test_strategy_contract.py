"""The contract every registered query strategy passes (new strategies get it for free)."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import ActiveLearner, Evidence, MissingEvidenceError
from autoal.data import Dataset
from autoal.loop import LoopConfig, run_active_learning
from autoal.models import Learner
from autoal.strategies import available_strategies, get_strategy

from support import C, D, FeatureLearner, N, T, full_evidence, planted_blobs

# Strategies whose per-round cost is dominated by their own search; the contract runs them on
# the same evidence, with raw inputs attached.
ALL = available_strategies()


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return full_evidence()


def test_the_ten_base_strategies_are_registered():
    expected = {
        "random", "least_confidence", "margin", "entropy", "var_ratio",
        "mean_std", "bald", "kmeans", "coreset", "badge",
    }
    assert expected <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_score_shape_and_finite(name, evidence):
    scores = get_strategy(name, random_state=0).score(evidence)
    assert scores.shape == (N,)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("budget", [1, 7, N])
def test_select_distinct_in_range_and_budget(name, budget, evidence):
    idx = get_strategy(name, random_state=0).select(evidence, budget=budget)
    assert idx.shape == (budget,)
    assert np.issubdtype(idx.dtype, np.integer)
    assert len(np.unique(idx)) == budget
    assert idx.min() >= 0 and idx.max() < N


@pytest.mark.parametrize("name", ALL)
def test_same_random_state_same_result(name, evidence):
    a = get_strategy(name, random_state=3).select(evidence, budget=10)
    b = get_strategy(name, random_state=3).select(evidence, budget=10)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("budget", [0, -1, N + 1])
def test_bad_budget_is_a_value_error(name, budget, evidence):
    with pytest.raises(ValueError, match="budget"):
        get_strategy(name, random_state=0).select(evidence, budget=budget)


@pytest.mark.parametrize("name", ALL)
def test_missing_field_names_it(name, evidence):
    strategy = get_strategy(name, random_state=0)
    if not strategy.requires:
        pytest.skip(f"{name} needs no evidence fields")
    for field in strategy.requires:
        stripped = Evidence(**{**evidence.__dict__, field: None, **_pair(field)})
        with pytest.raises(MissingEvidenceError, match=field):
            strategy.select(stripped, budget=5)


def _pair(field: str) -> dict:
    # labeled_inputs and labeled_targets must be given together.
    if field in ("labeled_inputs", "labeled_targets"):
        return {"labeled_inputs": None, "labeled_targets": None}
    return {}


@pytest.mark.parametrize("name", ALL)
def test_select_picks_the_top_of_its_own_score(name, evidence):
    """With a budget, select returns exactly the top-b of score(budget=b) (same seed)."""
    b = 9
    scores = get_strategy(name, random_state=5).score(evidence, budget=b)
    idx = get_strategy(name, random_state=5).select(evidence, budget=b)
    # Batch strategies consume randomness in score; compare on a fresh instance each time.
    top = np.sort(scores)[-b:]
    assert np.sort(scores[idx]).tolist() == pytest.approx(top.tolist())


def test_unknown_strategy_lists_valid_names():
    with pytest.raises(ValueError, match="valid names: .*margin"):
        get_strategy("no-such-strategy")


# ----------------------------------------------------------------------------------------------
# What can fail: picking labeled samples, and scores that do not match the pick.
#
# Our API keeps the labeled set out of the pool: Evidence describes the unlabeled pool, with
# the labeled set in separate ``labeled_*`` fields, and every index a strategy returns points
# into that pool. "Told which samples are labeled" therefore means three things, each tested
# for every registered strategy:
# - the loop passes only unlabeled samples: ``run_active_learning`` never queries a labeled
#   pool index, even when the pool holds exact copies of labeled points;
# - ``ActiveLearner.query(X_pool, n, exclude=...)`` never returns an excluded index (the
#   strategy never sees those samples), and a pool with copies of labeled points is allowed;
# - a strategy that measures distance to the labeled set (core-set) sees a copy of a labeled
#   point as covered and picks it only after every uncovered point.

FAST = {  # options that keep the searching strategies quick on toy data
    "autoal": {"fitnet_epochs": 1, "search_steps": 3, "device": "cpu"},
}


def test_the_feature_learner_is_a_learner():
    assert isinstance(FeatureLearner(), Learner)


def _toy(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points in 5-D around ``C`` planted centres, and their classes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(C, 5)) * 4
    y = np.arange(n) % C
    return planted_blobs(centres, y, rng).astype(np.float32), y


def _learner(name: str, X_lab: np.ndarray, y_lab: np.ndarray, seed: int = 0) -> ActiveLearner:
    al = ActiveLearner(FeatureLearner(), strategy=name, random_state=seed, mc_samples=T,
                       strategy_params=FAST.get(name))
    return al.fit(X_lab, y_lab)


@pytest.mark.parametrize("name", ALL)
def test_active_learner_never_picks_an_excluded_sample(name):
    """The pool starts with exact copies of the labeled points and excludes them: no pick
    among them, the picks are distinct, and excluded samples score -inf."""
    X, y = _toy(90)
    X_lab, y_lab = X[:24], y[:24]
    pool = np.vstack([X_lab, X[24:]])  # rows 0..23 equal the labeled points
    excluded = np.arange(24)
    al = _learner(name, X_lab, y_lab)
    idx, scores = al.query(pool, n=10, return_scores=True, exclude=excluded)
    assert len(set(idx.tolist())) == 10 and idx.min() >= 24 and idx.max() < len(pool)
    assert np.all(scores[excluded] == -np.inf) and np.all(np.isfinite(scores[24:]))
    # the same pick without scores, and the same as not passing the copies (same seed)
    plain = _learner(name, X_lab, y_lab).query(pool, n=10, exclude=excluded)
    np.testing.assert_array_equal(plain, idx)
    without = _learner(name, X_lab, y_lab).query(pool[24:], n=10)
    np.testing.assert_array_equal(idx, without + 24)


@pytest.mark.parametrize("name", ALL)
def test_a_pool_holding_copies_of_labeled_points_is_allowed(name):
    X, y = _toy(60)
    X_lab, y_lab = X[:20], y[:20]
    pool = np.vstack([X_lab, X[20:]])
    idx = _learner(name, X_lab, y_lab).query(pool, n=len(pool))
    assert sorted(idx.tolist()) == list(range(len(pool)))  # every sample exactly once


def test_exclude_is_checked():
    X, y = _toy(40)
    al = _learner("margin", X[:10], y[:10])
    with pytest.raises(ValueError, match="n must be an integer in 1..2 .the pool less exclude"):
        al.query(X[10:15], n=3, exclude=[0, 1, 2])
    with pytest.raises(ValueError, match="outside 0..4"):
        al.query(X[10:15], n=1, exclude=[5])
    with pytest.raises(ValueError, match="flatnonzero"):
        al.query(X[10:15], n=1, exclude=np.ones(5, dtype=bool))
    np.testing.assert_array_equal(al.query(X[10:15], n=5, exclude=[]),
                                  al.query(X[10:15], n=5))


def _dataset(n_train: int = 48) -> Dataset:
    """A toy data set whose training split holds every point twice (rows i and i + n/2)."""
    X, y = _toy(n_train // 2 + 40, seed=1)
    half = n_train // 2
    X_train, y_train = np.vstack([X[:half], X[:half]]), np.concatenate([y[:half], y[:half]])
    return Dataset(name="toy", X_train=X_train, y_train=y_train, X_test=X[half:],
                   y_test=y[half:], classes=[str(c) for c in range(C)], description="toy")


@pytest.mark.parametrize("name", ALL)
def test_the_loop_never_queries_a_labeled_sample(name):
    data = _dataset()
    config = LoopConfig(init=8, budget=6, rounds=4, seed=0, mc_samples=T,
                        strategy_params=FAST.get(name, {}))
    run = run_active_learning(data, name, config, progress=False,
                              learner_factory=lambda seed: FeatureLearner(seed))
    queried = [i for r in run["rounds"] for i in r["queried"]]
    assert len(queried) == len(set(queried)) == 8 + 6 * 4  # no index labeled twice
    assert [r["labeled"] for r in run["rounds"]] == [8, 14, 20, 26, 32]


@pytest.mark.parametrize("seed", range(3))
def test_coreset_takes_copies_of_labeled_points_last(seed):
    """Copies of labeled points are at distance 0 from the labeled set: core-set picks
    every one of the 5 new points before any copy."""
    rng = np.random.default_rng(seed)
    lab = rng.normal(size=(12, D))
    new = rng.normal(size=(5, D)) + 3.0
    pool = np.vstack([lab, new])
    ev = Evidence(embeddings=pool, labeled_embeddings=lab)
    idx = get_strategy("coreset", random_state=seed).select(ev, budget=8)
    assert sorted(idx[:5].tolist()) == list(range(12, 17))


# -- return_scores is meaningful ------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_returned_scores_rank_the_batch_first_in_pick_order(name):
    """The picked samples hold the n highest scores, in pick order, and the pick is the one
    ``query`` makes without scores (same seed)."""
    X, y = _toy(100)
    n = 8
    idx, scores = _learner(name, X[:30], y[:30]).query(X[30:], n=n, return_scores=True)
    assert scores.shape == (70,) and np.all(np.isfinite(scores))
    rest = np.delete(scores, idx)
    assert scores[idx].min() >= rest.max()
    assert np.all(np.diff(scores[idx]) <= 0)  # earlier picks score at least as high
    np.testing.assert_array_equal(idx, _learner(name, X[:30], y[:30]).query(X[30:], n=n))


@pytest.mark.parametrize("name", ALL)
def test_a_batch_strategy_s_batch_outscores_the_rest_strictly(name, evidence):
    """A batch strategy (its score depends on the budget) keeps scores whose top-b is
    exactly its batch, strictly decreasing in pick order: no tie at the boundary that
    tie-breaking could resolve differently."""
    b = 9
    plain = get_strategy(name, random_state=5).score(evidence)
    with_budget = get_strategy(name, random_state=5).score(evidence, budget=b)
    if np.array_equal(plain, with_budget):
        pytest.skip(f"{name}'s score does not depend on the budget: it picks its top-b")
    strategy = get_strategy(name, random_state=5)
    idx = strategy.select(evidence, budget=b)
    kept = strategy.last_scores_
    assert kept.shape == (N,)
    assert kept[idx].min() > np.delete(kept, idx).max()
    assert np.all(np.diff(kept[idx]) < 0)
