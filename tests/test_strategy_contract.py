"""The contract every registered query strategy passes (new strategies get it for free)."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import Evidence, MissingEvidenceError
from autoal.strategies import available_strategies, get_strategy

N, C, D, T = 120, 4, 6, 8

# Strategies whose per-round cost is dominated by their own search; the contract runs them on
# the same evidence, with raw inputs attached.
ALL = available_strategies()


def full_evidence(seed: int = 0, n: int = N) -> Evidence:
    rng = np.random.default_rng(seed)
    mc = rng.dirichlet(np.ones(C) * 0.7, size=(T, n))
    centres = rng.normal(size=(C, 2)) * 3
    y_lab = np.arange(40) % C
    x_pool = centres[rng.integers(0, C, n)] + rng.normal(size=(n, 2))
    x_lab = centres[y_lab] + rng.normal(size=(40, 2))
    return Evidence(
        probs=mc.mean(axis=0),
        mc_probs=mc,
        embeddings=rng.normal(size=(n, D)),
        labeled_embeddings=rng.normal(size=(40, D)),
        labeled_probs=rng.dirichlet(np.ones(C), size=40),
        predicted_loss=rng.random(n),
        inputs=x_pool.astype(np.float32),
        labeled_inputs=x_lab.astype(np.float32),
        labeled_targets=y_lab,
    )


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
