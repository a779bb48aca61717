"""Weight statistics of the benchmark summary on hand-made runs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from autoal.experiment.summary import summarise, to_markdown
from autoal.experiment.weight_stats import total_variation, weight_stats


def _run(seed: int, weights: list[list[float]] | None, variant: str = "autoal",
         strategy: str = "autoal", aubc: float = 0.5) -> dict:
    rounds = [{"round": 0, "labeled": 10, "accuracy": 0.5, "seconds": {"train": 1.0}}]
    for i in range(1, 4):
        r = {"round": i, "labeled": 10 + 5 * i, "accuracy": 0.5, "seconds": {"train": 1.0}}
        if weights is not None:
            r["weights"] = dict(zip(("a", "b"), weights[i - 1], strict=True))
        rounds.append(r)
    return {
        "aubc": aubc, "config": {}, "rounds": rounds,
        "bench": {"dataset": "d", "regime": "low", "variant": variant, "seed": seed,
                  "strategy": strategy},
    }


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


def test_summary_reports_the_weights_of_variants_that_record_them():
    runs = [_run(0, SWITCHING), _run(1, STEADY)]
    runs += [_run(s, None, variant="margin", strategy="margin", aubc=0.6) for s in (0, 1)]
    (group,) = summarise(runs)
    assert set(group.weights) == {"autoal"}
    md = to_markdown([group])
    assert "| autoal | a 0.83, b 0.17 | a (83%) | 0.50 | 0.33 |" in md
