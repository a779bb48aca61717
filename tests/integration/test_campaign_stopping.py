"""When to stop: Cohen's kappa between rounds and the stabilizing-predictions rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import make_blobs

from autoal.campaign import Campaign
from autoal.campaign.stopping import agreement, cohen_kappa, stopping_verdict
from autoal.cli import main

from support import DIGITS, load_digits, true_accuracy, write_npz


def test_kappa_on_hand_made_predictions() -> None:
    # 2x2 table [[2, 1], [1, 2]]: p_o = 4/6, p_e = 1/2, kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert cohen_kappa(list("aaabbb"), list("aabbba")) == pytest.approx(1 / 3)
    assert cohen_kappa(list("aaaa"), list("aaaa")) == 1.0  # one class, unchanged: 0/0 -> 1
    assert cohen_kappa(list("ab"), list("ba")) == pytest.approx(-1.0)
    got = agreement({"x": "a", "y": "b", "z": "a", "old": "b"}, {"x": "a", "y": "a", "z": "a",
                                                                  "new": "b"})
    assert got is not None and got["items"] == 3 and got["changed"] == pytest.approx(1 / 3)
    assert agreement({"x": "a"}, {"y": "a"}) is None


def test_verdict_needs_a_full_window_of_stable_rounds() -> None:
    rows = [{"round": r, "kappa": k} for r, k in ((2, 0.5), (3, 0.995), (4, 0.99))]
    v = stopping_verdict(rows[1:])
    assert not v["stop"] and v["mean_kappa"] is None and "2 of the 3" in v["reason"]
    v = stopping_verdict(rows)
    assert not v["stop"] and v["mean_kappa"] == pytest.approx((0.5 + 0.995 + 0.99) / 3)
    assert "continue" in v["reason"] and "0.828" in v["reason"]
    v = stopping_verdict([*rows, {"round": 5, "kappa": 1.0}])
    assert v["stop"] and v["rounds"] == [3, 4, 5] and v["kappas"] == [0.995, 0.99, 1.0]
    assert v["reason"].startswith("stop:") and v["rule"] == "stabilizing-predictions"
    assert stopping_verdict(rows, threshold=0.8)["stop"]


def run_rounds(camp: Path, data: Path, truth: dict[str, str], classes: list[str], rounds: int,
               n: int) -> list[tuple[dict, float]]:
    out = []
    with Campaign.init(camp, data, classes, strategy="margin", seed=0, epochs=5,
                       min_steps=50) as c:
        for _ in range(rounds):
            c.teach({i.id: truth[i.id] for i in c.query(n).items})
            st = c.status()
            if st.history and st.history[-1]["n_labeled"] > 0:
                out.append((st.to_dict(), true_accuracy(camp, truth)))
    return out


def test_rule_stops_once_accuracy_has_plateaued(tmp_path: Path) -> None:
    # four well-separated blobs: a few labels reach the plateau, then nothing changes
    X, y = make_blobs(n_samples=800, centers=[(0, 0), (6, 0), (0, 6), (6, 6)],
                      cluster_std=0.8, random_state=0)
    classes = ["a", "b", "c", "d"]
    data = write_npz(tmp_path / "blobs.npz", X)
    truth = {str(i): classes[t] for i, t in enumerate(y)}
    runs = run_rounds(tmp_path / "camp", data, truth, classes, rounds=10, n=10)
    verdicts = [st["stopping"]["stop"] for st, _ in runs]
    accuracy = [acc for _, acc in runs]
    assert not verdicts[0]  # no comparison yet
    first_stop = verdicts.index(True)  # the rule does say stop
    assert all(verdicts[first_stop:]) or verdicts[-1]
    # when it says stop, labeling on would not have bought more than 1 point of accuracy
    assert accuracy[first_stop] >= max(accuracy) - 0.01, (accuracy, verdicts)
    st = runs[first_stop][0]["stopping"]
    assert st["mean_kappa"] >= 0.99 and len(st["kappas"]) == 3
    # the history has the curve: one estimate and one kappa per model round
    history = runs[-1][0]["history"]
    assert [h["kappa"] is not None for h in history if h["n_labeled"]][1:] == \
        [True] * (sum(1 for h in history if h["n_labeled"]) - 1)


def test_rule_continues_while_accuracy_still_rises(tmp_path: Path) -> None:
    d = load_digits()
    data = write_npz(tmp_path / "digits.npz", d.data)
    truth = {str(i): str(t) for i, t in enumerate(d.target)}
    runs = run_rounds(tmp_path / "camp", data, truth, DIGITS, rounds=6, n=30)
    assert not any(st["stopping"]["stop"] for st, _ in runs)
    assert runs[-1][1] > runs[0][1] + 0.03  # accuracy was still rising
    last = runs[-1][0]["stopping"]
    assert last["mean_kappa"] is not None and last["mean_kappa"] < 0.99
    res = CliRunner().invoke(main, ["campaign", "status", str(tmp_path / "camp"), "--json"])
    stopping = json.loads(res.output)["stopping"]
    assert stopping["stop"] is False and stopping["rule"] == "stabilizing-predictions"
    text = CliRunner().invoke(main, ["campaign", "status", str(tmp_path / "camp")]).output
    assert "stopping rule (stabilizing-predictions): continue" in text
    assert "kappa" in text and "changed" in text
    assert np.isfinite(last["mean_kappa"])
