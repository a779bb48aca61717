"""autoal.report.hindsight: the search's favourite per round against the best in hindsight."""

from __future__ import annotations

import pytest

from autoal.report import write_report
from autoal.report.aggregate import summarise
from autoal.report.hindsight import agreement, story_markdown, weight_story

from support import fake_run


def _single(name: str, seed: int, accuracies: list[float]) -> dict:
    run = fake_run(name, seed, float(sum(accuracies) / len(accuracies)), strategy=name,
                   n_rounds=len(accuracies))
    for r, acc in zip(run["rounds"], accuracies, strict=True):
        r["accuracy"] = acc
    return run


def _runs() -> list[dict]:
    # rounds 1, 2: AutoAL leans to a then to b; on their own, a leads after round 1 and b
    # after round 2 in the mean over both seeds (seed 1 alone would say otherwise at round 1)
    runs = []
    for seed, (a1, b1) in enumerate([(0.70, 0.60), (0.62, 0.64)]):
        runs.append(fake_run("autoal", seed, 0.6, weights=[[0.7, 0.3], [0.2 + 0.1 * seed,
                                                                        0.8 - 0.1 * seed]]))
        runs.append(_single("a", seed, [0.5, a1, 0.71]))
        runs.append(_single("b", seed, [0.5, b1, 0.80]))
    return runs


def test_favourites_best_and_regret_per_round():
    runs = _runs()
    autoal = [r for r in runs if r["bench"]["variant"] == "autoal"]
    singles = {n: [r for r in runs if r["bench"]["variant"] == n] for n in ("a", "b")}
    story = weight_story(autoal, singles)
    assert [(s.round, s.favourite, s.best) for s in story] == [(1, "a", "a"), (2, "b", "b")]
    assert story[0].favourite_weight == pytest.approx(0.7)
    assert story[1].favourite_weight == pytest.approx(0.75)  # mean of 0.8 and 0.7
    assert story[0].best_accuracy == pytest.approx(0.66)
    assert agreement(story) == (2, 2, pytest.approx(0.0))


def test_a_wrong_favourite_costs_its_accuracy_gap_and_ties_have_none():
    runs = _runs()
    autoal = [r for r in runs if r["bench"]["variant"] == "autoal"]
    for r in autoal:
        r["rounds"][2]["weights"] = {"a": 0.9, "b": 0.1}
        r["rounds"][1]["weights"] = {"a": 0.5, "b": 0.5}
    singles = {n: [r for r in runs if r["bench"]["variant"] == n] for n in ("a", "b")}
    story = weight_story(autoal, singles)
    assert story[0].favourite is None and story[0].regret is None and not story[0].agrees
    assert story[1].favourite == "a" and story[1].best == "b"
    assert story[1].regret == pytest.approx(0.80 - 0.71)
    assert agreement(story) == (0, 2, pytest.approx(0.09))


def test_fewer_than_two_candidates_run_alone_means_no_story():
    runs = [r for r in _runs() if r["bench"]["variant"] != "b"]
    (group,) = summarise(runs)
    assert story_markdown(group) == []  # "a" alone would be the best by default
    (group,) = summarise(_runs())
    assert story_markdown(group)


def test_report_prints_the_story_and_plots_the_markers(tmp_path):
    import json

    (tmp_path / "runs").mkdir()
    for r in _runs():
        m = r["bench"]
        (tmp_path / "runs" / f"d__low__{m['variant']}__{m['seed']}.json").write_text(
            json.dumps(r))
    write_report(tmp_path)
    text = (tmp_path / "summary.md").read_text()
    assert "| autoal | 2 | 2 of 2 | 0.000 | a b |" in text
    assert (tmp_path / "weights-d-low.png").stat().st_size > 0


def test_run_facts_sums_the_story_over_groups(tmp_path, capsys):
    import json
    import runpy

    from support import REPO_ROOT

    (tmp_path / "runs").mkdir()
    for dataset in ("d", "e"):
        for r in _runs():
            m = r["bench"]
            m["dataset"] = dataset
            (tmp_path / "runs" / f"{dataset}__low__{m['variant']}__{m['seed']}.json").write_text(
                json.dumps(r))
    main = runpy.run_path(str(REPO_ROOT / "benchmarks" / "run_facts.py"), run_name="x")["main"]
    assert main([str(tmp_path), "hindsight"]) == 0
    assert "autoal: favourite = best in 4 of 4 rounds, mean regret 0.000" in capsys.readouterr().out


def test_run_facts_says_when_equal_weights_have_no_favourite(tmp_path, capsys):
    import json
    import runpy

    from support import REPO_ROOT

    (tmp_path / "runs").mkdir()
    for r in _runs():
        m = r["bench"]
        if m["variant"] == "autoal":
            for rnd in r["rounds"][1:]:
                rnd["weights"] = {"a": 0.5, "b": 0.5}
        (tmp_path / "runs" / f"d__low__{m['variant']}__{m['seed']}.json").write_text(
            json.dumps(r))
    main = runpy.run_path(str(REPO_ROOT / "benchmarks" / "run_facts.py"), run_name="x")["main"]
    assert main([str(tmp_path), "hindsight"]) == 0
    out = capsys.readouterr().out
    assert ("autoal: favourite = best in 0 of 2 rounds, no regret: no round had a favourite "
            "that ran alone" in out) and "nan" not in out
