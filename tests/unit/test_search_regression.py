"""Regression: the picks of existing AutoAL configurations stay those of commit 0f00786.

The hindsight objective and the cost work touched shared paths (cross-fitting without
SearchNet features for global weights, the weighted k-means++ query in blocks, the option
checks moved to autoal.search.options); every existing option combination must query what
it queried before. The goldens were recorded with the code at 0f00786 on digits (three
rounds of 10 after 30 labels, seed 1), every option not named below from the preset then
called ``autoal``, now ``autoal-v1``. The ``autoal`` preset chosen by select-v2.toml's rule
is that run's contender ``v2-kppP-shrink-budget``: it must pick what the contender picked."""

from __future__ import annotations

import pytest

from autoal.loop.runner import LoopConfig, run_active_learning

FAST = {"preset": "autoal-v1", "fitnet_epochs": 4, "search_steps": 25, "fitnet_mc_samples": 8}
SHRINK = {"weights": "global", "search": "shrinkage", "prior": "budget", "n_resplits": 2,
          "kappa": 2.0, "search_lr": 0.05}
CONFIGS = {
    # select-v2's base contender: global weights, shrinkage, look-ahead, k-means++ query
    "v2-kppP-shrink-budget": {**SHRINK, "objective": "lookahead", "batch": "kmeanspp",
                              "coverage_power": "budget"},
    "autoal": {},  # wave 1's preset: per-sample SearchNet (reads the features), Adam, top-b
    "prior": {"ablation": "prior", "prior": "budget", "batch": "kmeanspp",
              "coverage_power": "budget"},
}
GOLDEN = {
    "v2-kppP-shrink-budget": [
        [673, 1286, 202, 1281, 419, 564, 1128, 546, 740, 39],
        [1025, 718, 438, 1074, 400, 598, 187, 531, 283, 352],
        [1012, 371, 632, 1323, 1300, 970, 701, 363, 221, 1309],
    ],
    "autoal": [
        [585, 986, 592, 46, 587, 386, 208, 473, 6, 1246],
        [624, 1281, 407, 102, 479, 524, 628, 517, 1143, 824],
        [572, 816, 246, 710, 1229, 873, 780, 866, 1185, 675],
    ],
    "prior": [
        [673, 1286, 202, 1281, 419, 564, 1128, 546, 740, 39],
        [1026, 715, 439, 1076, 406, 602, 190, 534, 284, 355],
        [1017, 380, 658, 1323, 1297, 980, 728, 372, 218, 1307],
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_existing_configurations_query_what_they_queried_before(digits_dataset, name):
    config = LoopConfig(init=30, budget=10, rounds=3, seed=1, epochs=8, mc_samples=10,
                        strategy_params={**FAST, **CONFIGS[name]})
    record = run_active_learning(digits_dataset, "autoal", config, progress=False)
    assert [r["queried"] for r in record["rounds"][1:]] == GOLDEN[name]


@pytest.mark.slow
def test_the_autoal_preset_queries_what_its_selection_run_contender_queried(digits_dataset):
    """The default preset is select-v2's winner: with no option set it picks what that
    contender's options on ``autoal-v1`` picked."""
    fast = {k: v for k, v in FAST.items() if k != "preset"}
    config = LoopConfig(init=30, budget=10, rounds=3, seed=1, epochs=8, mc_samples=10,
                        strategy_params=fast)
    record = run_active_learning(digits_dataset, "autoal", config, progress=False)
    assert [r["queried"] for r in record["rounds"][1:]] == GOLDEN["v2-kppP-shrink-budget"]


def test_the_autoal_preset_resolves_to_the_contender_s_options():
    from autoal.search import AutoAL

    resolved = AutoAL().resolved()
    wave1 = AutoAL(preset="autoal-v1").resolved()
    contender = CONFIGS["v2-kppP-shrink-budget"]
    assert {k: resolved[k] for k in contender} == contender
    assert {k: v for k, v in resolved.items() if k not in contender} == {
        k: v for k, v in wave1.items() if k not in contender}
    # the shrinkage search moves global logits only: per-sample weights say how to get Adam
    with pytest.raises(ValueError, match="search='adam' or preset='autoal-v1'"):
        AutoAL(weights="per-sample").validate()
    AutoAL(weights="per-sample", search="adam").validate()
    assert AutoAL(preset="autoal-v1", weights="per-sample").resolved()["search"] == "adam"
