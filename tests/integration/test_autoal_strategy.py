"""AutoAL inside the simulated loop: records, determinism, K, ablations, no collapse."""

from __future__ import annotations

import numpy as np
import pytest

from autoal.loop.runner import LoopConfig, run_active_learning
from autoal.search import AutoAL
from autoal.strategies import available_strategies, get_strategy

from support import REPO_ROOT

TEN = (
    "random", "least_confidence", "margin", "entropy", "var_ratio",
    "mean_std", "bald", "kmeans", "coreset", "badge",
)
FAST = {"fitnet_epochs": 4, "search_steps": 25, "fitnet_mc_samples": 8}


def run(data, rounds=2, seed=0, **params):
    config = LoopConfig(
        init=30, budget=10, rounds=rounds, seed=seed, epochs=8, mc_samples=10,
        strategy_params={**FAST, **params},
    )
    return run_active_learning(data, "autoal", config, progress=False)


def weights_of(record):
    return [np.array(list(r["weights"].values())) for r in record["rounds"][1:]]


def test_records_weights_search_and_timings(digits_dataset):
    record = run(digits_dataset)
    names = list(AutoAL().resolved()["candidates"])
    for rnd in record["rounds"][1:]:
        assert list(rnd["weights"]) == names and list(rnd["batch_weights"]) == names
        for key in ("weights", "batch_weights"):
            values = np.array(list(rnd[key].values()))
            assert np.all((values >= 0) & (values <= 1))
            assert values.sum() == pytest.approx(1.0, abs=1e-5)
        search = rnd["search"]
        assert search["steps"] == FAST["search_steps"]
        assert search["searchnet_grad_norm_mean"] > 0
        assert np.isfinite(search["objective_first"]) and np.isfinite(search["objective_last"])
        assert rnd["seconds"]["search"] > 0 and "score" in rnd["seconds"]


def test_same_seed_same_queries(digits_dataset):
    a, b = run(digits_dataset, seed=3), run(digits_dataset, seed=3)
    assert [r["queried"] for r in a["rounds"]] == [r["queried"] for r in b["rounds"]]
    assert [r["weights"] for r in a["rounds"][1:]] == [r["weights"] for r in b["rounds"][1:]]


def test_paper_preset_runs_with_per_sample_weights(digits_dataset):
    record = run(digits_dataset, preset="paper")
    assert record["rounds"][1]["search"]["searchnet_grad_norm_mean"] > 0
    assert AutoAL(preset="paper").resolved()["weights"] == "per-sample"


@pytest.mark.parametrize("candidates", [("margin",), None])
def test_one_candidate_and_all_ten(digits_dataset, candidates):
    if candidates is None:
        candidates = TEN
        assert set(TEN) <= set(available_strategies())
    record = run(digits_dataset, rounds=1, candidates=candidates)
    weights = record["rounds"][1]["weights"]
    assert list(weights) == list(candidates)
    if len(candidates) == 1:
        assert weights["margin"] == pytest.approx(1.0)


def test_uniform_ablation_gives_equal_weights_without_search(digits_dataset):
    record = run(digits_dataset, ablation="uniform", candidates="margin,entropy,kmeans,random")
    for rnd in record["rounds"][1:]:
        assert list(rnd["weights"].values()) == pytest.approx([0.25] * 4)
        assert rnd["search"]["steps"] == 0


@pytest.mark.parametrize("weights", ["global", "per-sample"])
def test_frozen_ablation_weights_are_untouched_by_search(digits_dataset, weights):
    search = "adam" if weights == "per-sample" else None  # shrinkage moves global logits
    record = run(digits_dataset, rounds=3, ablation="frozen", weights=weights, search=search)
    for rnd in record["rounds"][1:]:
        assert rnd["search"]["steps"] == 0
    w = weights_of(record)
    assert not np.allclose(w[0], 1.0 / len(w[0]))  # random, not uniform
    if weights == "global":
        assert all(np.allclose(w[0], wi) for wi in w[1:])


def test_no_loss_module_ablation_drops_the_loss_feature(digits_dataset):
    strategy = AutoAL(preset="paper", ablation="no-loss-module")
    assert strategy.resolved()["loss_module"] is False
    assert AutoAL(preset="paper").resolved()["loss_module"] is True
    # The SearchNet's inputs lose the loss module's column: one parameter row fewer.
    n_in = {}
    for ablation in ("none", "no-loss-module"):
        s = get_strategy("autoal", random_state=0, preset="paper", ablation=ablation, **FAST)
        config = LoopConfig(init=30, budget=10, rounds=1, seed=0, epochs=4, mc_samples=10)
        run_active_learning(digits_dataset, s, config, progress=False)
        n_in[ablation] = s._state["searchnet"]["body.0.weight"].shape[1]
    assert n_in["none"] == n_in["no-loss-module"] + 1


@pytest.mark.parametrize("objective", ["max_loss", "lookahead"])
def test_ten_rounds_without_collapse(digits_dataset, objective):
    """Over 10 rounds the logits stay finite and bounded (no drift into saturation), every
    round's search still has gradient, and the weights keep responding to the data."""
    record = run(
        digits_dataset, rounds=10, objective=objective, weights="global",
        candidates="margin,entropy,kmeans,bald",
    )
    for rnd in record["rounds"][1:]:
        logits = np.array(rnd["search"]["logits"])
        assert np.all(np.isfinite(logits)) and np.ptp(logits) < 30, logits
        assert rnd["search"]["searchnet_grad_norm_mean"] > 0
        w = np.array(list(rnd["weights"].values()))
        assert np.all(np.isfinite(w)) and w.sum() == pytest.approx(1.0, abs=1e-5)
    weights = weights_of(record)
    assert any(not np.allclose(a, b, atol=1e-3) for a, b in zip(weights, weights[1:], strict=False))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"preset": "nope"}, "preset"),
        ({"objective": "nope"}, "objective"),
        ({"weights": "nope"}, "weights"),
        ({"ablation": "nope"}, "ablation"),
        ({"candidates": "margin,nope"}, "nope"),
        ({"candidates": "margin,albl"}, "learn across rounds"),
        ({"candidates": ""}, "at least one"),
        ({"candidates": "margin,margin"}, "repeated"),
        ({"n_folds": 1}, "n_folds"),
        ({"select_fraction": 1.5}, "select_fraction"),
    ],
)
def test_bad_options_name_the_problem(params, message):
    with pytest.raises(ValueError, match=message):
        get_strategy("autoal", **params)


def test_alternating_fitnet_step_trains_on_the_selected_candidates(digits_dataset):
    from autoal.search.crossfit import CrossFitter

    X, y = digits_dataset.X_train[:120], digits_dataset.y_train[:120]
    fitter = CrossFitter([get_strategy("margin"), get_strategy("entropy")], epochs=15)
    first = fitter.problems(X, y, 10)
    again = fitter.refit([np.ones(len(p.losses)) for p in first])
    for before, after in zip(first, again, strict=True):
        # FitNet now saw every candidate with full weight: their loss collapses.
        assert float(after.losses.mean()) < 0.5 * float(before.losses.mean())
    with pytest.raises(ValueError, match="one mask per rotation"):
        fitter.refit([np.ones(3)])


def test_paper_preset_with_alternations_searches_twice(digits_dataset):
    record = run(digits_dataset, rounds=1, preset="paper", fitnet_alternations=1)
    search = record["rounds"][1]["search"]
    assert search["steps"] == 2 * FAST["search_steps"]
    assert search["alternations"] == 1


def test_the_autoal_presets_are_the_selection_runs_winners():
    """benchmarks/select.toml's rule picked sel-persample-lookahead (docs/RESULTS.md, 3), now
    the ``autoal-v1`` preset; select-v2.toml's picked v2-kppP-shrink-budget, now ``autoal``
    (section 6c)."""

    from autoal.bench import load_config

    for config, preset, winner, runner_up in (
        ("select.toml", "autoal-v1", "sel-persample-lookahead", "sel-persample-lookahead-cov"),
        ("select-v2.toml", "autoal", "v2-kppP-shrink-budget", "v2-kppP-prior"),
    ):
        variants = load_config(REPO_ROOT / "benchmarks" / config).variants
        chosen = AutoAL(**variants[winner].options)  # the contenders name preset autoal-v1
        assert (chosen.resolved(), chosen.ablation) == (AutoAL(preset=preset).resolved(), "none")
        other = AutoAL(**variants[runner_up].options)
        assert (other.resolved(), other.ablation) != (AutoAL(preset=preset).resolved(), "none")


TWELVE = (
    "least_confidence", "margin", "entropy", "var_ratio", "mean_std", "bald", "kmeans",
    "badge", "typiclust", "probcover", "uherding", "coreset",
)


def test_twelve_candidates_with_batch_strategies_and_coverage_query(digits_dataset):
    """K = 12 incl. the batch strategies; each one's score in the search is its batch first."""
    record = run(digits_dataset, rounds=2, candidates=TWELVE, weights="global", search="shrinkage",
                 prior="budget", n_resplits=2, batch="kmeanspp")
    for rnd in record["rounds"][1:]:
        assert list(rnd["weights"]) == list(TWELVE)
        assert sum(rnd["weights"].values()) == pytest.approx(1.0, abs=1e-5)
        assert rnd["search"]["rotations"] == 4  # 2 folds x 2 resplits
        assert len(set(rnd["queried"])) == 10
        assert rnd["query"]["batch"] == "kmeanspp"


def test_shrinkage_search_is_deterministic_and_records_its_prior(digits_dataset):
    params = dict(weights="global", search="shrinkage", prior="budget", n_resplits=2,
                  batch="coverage")
    a, b = run(digits_dataset, seed=5, **params), run(digits_dataset, seed=5, **params)
    assert [r["queried"] for r in a["rounds"]] == [r["queried"] for r in b["rounds"]]
    assert [r["weights"] for r in a["rounds"][1:]] == [r["weights"] for r in b["rounds"][1:]]
    search = a["rounds"][1]["search"]
    assert search["searchnet_grad_norm_mean"] > 0 and 0 <= search["shrinkage"] <= 1
    names = list(AutoAL().resolved()["candidates"])
    prior = dict(zip(names, search["prior"], strict=True))
    assert max(prior, key=prior.get) == "kmeans"  # 3 labels per class: diversity first


def test_prior_ablation_uses_the_budget_prior_without_search(digits_dataset):
    record = run(digits_dataset, ablation="prior", prior="budget")
    for rnd in record["rounds"][1:]:
        assert rnd["search"] == {"steps": 0, "ablation": "prior"}
        assert max(rnd["weights"], key=rnd["weights"].get) == "kmeans"


def test_shrinkage_needs_global_weights():
    with pytest.raises(ValueError, match="global"):
        AutoAL(search="shrinkage", weights="per-sample").validate()
