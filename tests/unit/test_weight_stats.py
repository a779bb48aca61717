"""Weight statistics of the benchmark summary on hand-made runs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from autoal.report import summarise, to_markdown
from autoal.report.weight_stats import batch_pool_distance, total_variation, weight_stats

from support import fake_run


def _run(seed: int, weights: list[list[float]] | None, variant: str = "autoal",
         strategy: str = "autoal", aubc: float = 0.5) -> dict:
    return fake_run(variant, seed, aubc, strategy=strategy, n_rounds=4, accuracy=0.5,
                    weights=weights)


SWITCHING = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
STEADY = [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]


def test_total_variation_is_half_the_l1_distance():
    assert total_variation(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == 1.0
    assert total_variation(np.array([0.5, 0.5]), np.array([0.7, 0.3])) == pytest.approx(0.2)
    assert total_variation(np.array([0.2, 0.8]), np.array([0.2, 0.8])) == 0.0


def test_weight_stats_of_a_switching_and_a_steady_seed():
    st = weight_stats([_run(0, SWITCHING), _run(1, STEADY)])
    assert st is not None
    assert st.candidates == ("a", "b")
    assert st.mean == pytest.approx({"a": 5 / 6, "b": 1 / 6})
    assert st.top_share == pytest.approx({"a": 5 / 6, "b": 1 / 6})
    # seed 0 changes fully twice, seed 1 never: (1 + 1 + 0 + 0) / 4
    assert st.round_to_round == pytest.approx(0.5)
    # the seeds agree in rounds 1 and 3 and are disjoint in round 2
    assert st.between_seeds == pytest.approx(1 / 3)
    assert (st.n_seeds, st.n_rounds) == (2, 3)
    assert st.leaders(1) == [("a", pytest.approx(5 / 6))]


def test_one_seed_has_no_between_seed_distance_and_no_weights_give_none():
    st = weight_stats([_run(0, STEADY)])
    assert st is not None and st.between_seeds is None and st.round_to_round == 0.0
    assert weight_stats([_run(0, None, variant="margin", strategy="margin")]) is None


def test_ties_share_the_top_credit_and_non_finite_rounds_are_left_out():
    uniform = [[0.5, 0.5], [0.5, 0.5], [float("nan"), float("nan")]]
    st = weight_stats([_run(0, uniform)])
    assert st is not None
    assert st.top_share == pytest.approx({"a": 0.5, "b": 0.5})
    assert st.mean == pytest.approx({"a": 0.5, "b": 0.5})
    assert st.round_to_round == 0.0 and st.n_rounds == 2
    assert st.most_often_largest() == ("a", 0.5)  # a tie goes to the first name


def test_seeds_are_compared_round_by_round_not_by_position():
    late_switch = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    full = _run(0, late_switch)
    gap = _run(1, late_switch)
    del gap["rounds"][2]["weights"]  # seed 1 records no weights in round 2
    st = weight_stats([full, gap])
    assert st is not None
    assert st.n_rounds == 2  # rounds 1 and 3, which both seeds have
    # by round number they agree; by list position round 2 would meet round 3 (distance 1)
    assert st.between_seeds == 0.0
    # seed 0: round 1 -> 2: 0, 2 -> 3: 1; seed 1: round 1 -> 3: 1
    assert st.round_to_round == pytest.approx(2 / 3)


def test_different_candidate_sets_are_refused_and_the_report_goes_on():
    odd = _run(1, STEADY)
    for r in odd["rounds"][1:]:
        r["weights"] = {"a": 1.0, "c": 0.0}
    with pytest.raises(ValueError, match="records weights for"):
        weight_stats([_run(0, STEADY), odd])
    with pytest.warns(UserWarning, match="no weights table for autoal"):
        (group,) = summarise([_run(0, STEADY), odd])
    assert group.weights == {}


def test_summary_reports_the_weights_of_variants_that_record_them():
    runs = [_run(0, SWITCHING), _run(1, STEADY)]
    runs += [_run(s, None, variant="margin", strategy="margin", aubc=0.6) for s in (0, 1)]
    (group,) = summarise(runs)
    assert set(group.weights) == {"autoal"}
    md = to_markdown([group])
    assert "| autoal | a 0.83, b 0.17 | a (83%) | 0.50 | 0.33 | 0.500 | — | — |" in md


def test_batch_weights_are_summarised_apart_from_the_pool_weights():
    runs = [_run(0, STEADY), _run(1, STEADY)]
    # the pool leans to a, the queried points to b
    for run in runs:
        for r in run["rounds"][1:]:
            r["batch_weights"] = {"a": 0.25, "b": 0.75}
    st = weight_stats(runs, "batch_weights")
    assert st is not None and st.mean == pytest.approx({"a": 0.25, "b": 0.75})
    pool = weight_stats(runs)
    assert pool is not None and pool.mean == {"a": 1.0, "b": 0.0}
    (group,) = summarise(runs)
    assert group.batch_weights["autoal"].leaders(1) == [("b", pytest.approx(0.75))]
    # pool weights one-hot on a (0.5 from uniform); batch 0.75 from the pool's mix
    assert "| 0.00 | 0.00 | 0.500 | b 0.75, a 0.25 | 0.750 |" in to_markdown([group])
    assert batch_pool_distance(runs) == pytest.approx(0.75)
    assert batch_pool_distance([_run(0, STEADY)]) is None
    with pytest.raises(ValueError, match="records batch_weights for"):
        odd = _run(2, STEADY)
        odd["rounds"][1]["batch_weights"] = {"a": 1.0}
        odd["rounds"][2]["batch_weights"] = {"a": 0.5, "c": 0.5}
        weight_stats([odd], "batch_weights")


def test_a_uniform_mix_is_at_distance_zero_from_uniform():
    uniform = [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
    st = weight_stats([_run(0, uniform)])
    assert st is not None and st.from_uniform == 0.0
    st = weight_stats([_run(0, [[0.75, 0.25], [0.5, 0.5], [0.5, 0.5]])])
    assert st is not None and st.from_uniform == pytest.approx(0.25 / 3)
