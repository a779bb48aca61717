"""The diagnostic scripts under benchmarks/ run end to end on tiny settings."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from autoal.strategies.registry import PAPER_CANDIDATES

from support import REPO_ROOT

BENCHMARKS = REPO_ROOT / "benchmarks"


def _script(name: str) -> dict:
    return runpy.run_path(str(BENCHMARKS / name), run_name="not_main")


def test_agreement_sign_and_favourite_on_made_up_values():
    agreement = _script("objective_validity.py")["agreement"]
    values = {"a": 1.0, "b": 2.0, "c": 3.0}  # the search prefers low values: a first
    assert agreement(values, {"a": 0.9, "b": 0.8, "c": 0.7}) == (pytest.approx(1.0), "a")
    assert agreement(values, {"a": 0.7, "b": 0.8, "c": 0.9}) == (pytest.approx(-1.0), "a")
    rho, pick = agreement({"a": 2.0, "b": 1.0, "c": 3.0}, {"a": 0.9, "b": 0.8, "c": 0.7})
    assert pick == "b" and rho == pytest.approx(0.5)


def test_objective_validity_reports_every_objective(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ov.json"
    argv = ["objective_validity.py", "--dataset", "digits", "--labeled", "40", "--budget", "10",
            "--epochs", "3", "--fitnet-epochs", "2", "--mc-samples", "5",
            "--retrain-seeds", "2", "--json", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(BENCHMARKS / "objective_validity.py"), run_name="__main__")
    assert done.value.code == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert set(row["accuracy_after"]) == set(PAPER_CANDIDATES)
    for c, each in row["accuracy_after_each"].items():
        assert len(each) == 2 and row["accuracy_after"][c] == pytest.approx(sum(each) / 2)
    rel = row["truth_reliability"]  # null when a retraining ties every candidate
    assert rel is None or -1.0 <= rel <= 1.0
    assert set(row["objectives"]) == {"max_loss", "lookahead", "balance", "probe_ce", "probe_pca",
                                      "retrain", "hindsight", "hindsight_half", "hindsight_r8"}
    for result in row["objectives"].values():
        values = result["values"]
        assert values[result["pick"]] == min(values.values())  # the search minimises (ties: any)
        assert result["pick_accuracy"] == row["accuracy_after"][result["pick"]]
        assert result["spearman"] is None or -1.0 <= result["spearman"] <= 1.0
    assert "Spearman" in capsys.readouterr().out


def _cell(folder: Path, cell: str, epochs: int, queried, accuracy, aubc: float,
          parameters: dict | None = None) -> None:
    runs = folder / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    rounds = [{"queried": q, "accuracy": a} for q, a in zip(queried, accuracy, strict=True)]
    bench = {"cell": cell, "strategy": "margin", "source": "digits", "fingerprint": folder.name}
    if parameters is not None:
        bench["parameters"] = parameters
    run = {"bench": bench, "config": {"epochs": epochs, "seed": 0}, "rounds": rounds, "aubc": aubc}
    (runs / f"{cell}.json").write_text(json.dumps(run))


def test_rerun_drift_pairs_same_computations_and_finds_the_first_difference(tmp_path, capsys):
    main = _script("rerun_drift.py")["main"]
    a, b = tmp_path / "a", tmp_path / "b"
    _cell(a, "same", 5, [[1, 2], [3, 4]], [0.5, 0.6], 0.55)
    _cell(b, "same", 5, [[2, 1], [4, 3]], [0.5, 0.6], 0.55)  # order within a round ignored
    _cell(a, "drift", 5, [[1, 2], [3, 4], [5, 6]], [0.5, 0.6, 0.7], 0.60)
    _cell(b, "drift", 5, [[1, 2], [3, 4], [5, 7]], [0.5, 0.65, 0.7], 0.625)
    _cell(a, "other-protocol", 5, [[1]], [0.5], 0.5)
    _cell(b, "other-protocol", 9, [[1]], [0.9], 0.9)
    _cell(a, "other-preset", 5, [[1]], [0.5], 0.5, parameters={"coverage": 0.1})
    _cell(b, "other-preset", 5, [[1]], [0.6], 0.6, parameters={"coverage": 0.0})
    _cell(a, "older-file", 5, [[1]], [0.5], 0.5)  # no parameters recorded: config decides
    _cell(b, "older-file", 5, [[1]], [0.5], 0.5, parameters={"coverage": 0.0})
    _cell(a, "only-in-a", 5, [[1]], [0.5], 0.5)
    out = tmp_path / "drift.json"
    assert main([str(a), str(b), "--json", str(out)]) == 0
    written = json.loads(out.read_text())
    rows = {r["cell"]: r for r in written["rows"]}
    assert set(rows) == {"same", "drift", "older-file"}
    assert written["other_computations"] == ["other-preset", "other-protocol"]
    assert rows["same"]["first_round_queried_differs"] is None
    assert rows["same"]["first_round_accuracy_differs"] is None
    assert rows["drift"]["first_round_queried_differs"] == 2
    assert rows["drift"]["first_round_accuracy_differs"] == 1
    assert rows["drift"]["aubc_difference"] == pytest.approx(0.025)
    text = capsys.readouterr().out
    assert "3 cell(s) in both; 2 identical" in text and "max 0.0250" in text
    assert "2 cell(s) with the same name are other computations" in text


def test_rerun_drift_refuses_bad_folders_with_exit_2(tmp_path, capsys):
    main = _script("rerun_drift.py")["main"]
    assert main([str(tmp_path), str(tmp_path)]) == 2
    assert "has no runs/ folder" in capsys.readouterr().err
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "x.json").write_text('{"rounds": []}')
    assert main([str(tmp_path), str(tmp_path)]) == 2
    assert "x.json is not a bench run file" in capsys.readouterr().err


def test_rerun_drift_writes_an_empty_result_too(tmp_path):
    main = _script("rerun_drift.py")["main"]
    a, b = tmp_path / "a", tmp_path / "b"
    _cell(a, "one", 5, [[1]], [0.5], 0.5)
    _cell(b, "two", 5, [[1]], [0.5], 0.5)
    out = tmp_path / "drift.json"
    assert main([str(a), str(b), "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == {"rows": [], "other_computations": []}


def test_loss_prediction_batch_stats_on_made_up_scores():
    batch_stats = _script("loss_prediction_quality.py")["batch_stats"]
    y = np.array([0, 0, 1, 2, 0])
    pred = np.array([0, 1, 1, 0, 0])
    score = np.array([0.9, 0.8, 0.1, 0.7, 0.2])
    # top 3 by score: points 0, 1, 3 -> classes 0, 0, 2 (share 2/3); wrong on 1 and 3
    assert batch_stats(score, y, pred, 3, 3) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert batch_stats(score, y, pred, 1, 3) == (1.0, 0.0)


def test_loss_prediction_quality_runs_and_reports_every_size(tmp_path, monkeypatch, capsys):
    out = tmp_path / "lp.json"
    argv = ["loss_prediction_quality.py", "--dataset", "digits", "--labeled", "20", "40",
            "--budget", "10", "--epochs", "2", "--json", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(BENCHMARKS / "loss_prediction_quality.py"), run_name="__main__")
    assert done.value.code == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["labeled"] for r in rows] == [20, 40]
    for r in rows:
        assert -1.0 <= r["rho_predicted"] <= 1.0 and -1.0 <= r["rho_entropy"] <= 1.0
        assert 0.1 <= r["top_class_share"] <= 1.0   # digits: 10 classes
        assert 0.0 <= r["top_error"] <= 1.0
    assert "rho loss" in capsys.readouterr().out
    argv[argv.index("40")] = "2000"   # more than the pool
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(BENCHMARKS / "loss_prediction_quality.py"), run_name="__main__")
    assert done.value.code == 2


def _searching_run(variant: str, seed: int, weights: list[dict], batches: list[dict],
                   grad: float) -> dict:
    rounds = [{"round": 0, "labeled": 10, "accuracy": 0.5}]
    for i, (w, b) in enumerate(zip(weights, batches, strict=True), start=1):
        search = {"objective_first": 1.0, "objective_last": 1.0 - grad,
                  "searchnet_grad_norm_mean": grad}
        # older run files store the search record as a Python-literal string
        rounds.append({"round": i, "labeled": 10 + i, "accuracy": 0.5, "weights": w,
                       "batch_weights": b, "search": str(search) if i == 1 else search})
    return {"rounds": rounds, "bench": {"dataset": "d", "regime": "low", "variant": variant,
                                        "seed": seed}}


def test_search_health_tells_a_collapsed_search_from_a_live_one(tmp_path, capsys):
    mod = _script("search_health.py")
    runs = tmp_path / "runs"
    runs.mkdir()
    flat = {"a": 0.5, "b": 0.5}
    dead = _searching_run("dead", 0, [flat, flat], [flat, flat], grad=1e-5)
    live = _searching_run("live", 0, [{"a": 0.9, "b": 0.1}, {"a": 0.7, "b": 0.3}],
                          [{"a": 1.0, "b": 0.0}, {"a": 0.7, "b": 0.3}], grad=0.2)
    margin = {"rounds": [{"round": 0, "accuracy": 0.5}, {"round": 1, "accuracy": 0.6}],
              "bench": {"dataset": "d", "regime": "low", "variant": "margin", "seed": 0}}
    for name, run in (("dead", dead), ("live", live), ("margin", margin)):
        (runs / f"d__low__{name}__0.json").write_text(json.dumps(run))
    rows = {r["variant"]: r for r in mod["summarise"](tmp_path)}
    assert set(rows) == {"dead", "live"}   # margin did not search
    assert rows["dead"]["from_uniform"] == 0.0 and rows["dead"]["batch_vs_pool"] == 0.0
    assert rows["dead"]["grad_norm"] == pytest.approx(1e-5)
    # from uniform: 0.4 and 0.2, median 0.3; batch vs pool: 0.1 and 0, median 0.05
    assert rows["live"]["from_uniform"] == pytest.approx(0.3)
    assert rows["live"]["batch_vs_pool"] == pytest.approx(0.05)
    assert rows["live"]["objective_change"] == pytest.approx(0.2)
    assert rows["live"]["rounds"] == 2
    assert rows["dead"]["searched"] == 2
    # a round without a search (steps 0: the uniform / frozen ablations) counts, unsearched
    frozen = _searching_run("frozen", 0, [flat], [flat], grad=0.0)
    frozen["rounds"][1]["search"] = {"steps": 0, "ablation": "frozen"}
    (runs / "d__low__frozen__0.json").write_text(json.dumps(frozen))
    (runs / "d__low__broken__0.json").write_text("{")   # left out with a warning
    rows = {r["variant"]: r for r in mod["summarise"](tmp_path)}
    assert rows["frozen"]["searched"] == 0 and rows["frozen"]["grad_norm"] is None
    assert rows["frozen"]["from_uniform"] == 0.0
    assert mod["main"]([str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "| d | low | dead | 2 | 2 |" in out.out and "broken" in out.err
    assert mod["main"]([str(tmp_path / "nowhere")]) == 2


def test_run_facts_read_rewards_overlaps_and_round0_differences(tmp_path, capsys):
    mod = _script("run_facts.py")
    runs = tmp_path / "runs"
    runs.mkdir()

    def cell(variant, seed, strategy, acc0, batch, extra=None, acc1=0.9):
        rounds = [{"round": 0, "accuracy": acc0, "queried": [0, 1]},
                  {"round": 1, "accuracy": acc1, "queried": batch, **(extra or {})}]
        run = {"rounds": rounds, "bench": {"dataset": "d", "regime": "low", "variant": variant,
                                           "seed": seed, "strategy": strategy}}
        (runs / f"d__low__{variant}__{seed}.json").write_text(json.dumps(run))

    cell("a", 0, "autoal", 0.50, [2, 3, 4, 5])
    cell("b", 0, "autoal", 0.60, [2, 3, 9, 8])
    cell("a", 1, "autoal", 0.70, [2, 3, 4, 5])   # no b for seed 1: not paired
    cell("x", 0, "albl", 0.60, [7], {"albl": {"chosen": "margin", "reward": 0.95}})
    (runs / "broken.json").write_text("{")
    data = mod["load"](tmp_path)
    assert mod["overlap"](data, "a", "b", 1) == [(("d", "low", 0), 0.5)]
    [(key, diff)] = mod["round_accuracy"](data, "a", "b", 0)
    assert key == ("d", "low", 0) and diff == pytest.approx(-0.1)
    assert mod["albl_rewards"](data) == [(("d", "low", "x", 0), [("margin", 0.95)])]
    cell("b", 1, "autoal", 0.60, [2], acc1=0.7)
    data = mod["load"](tmp_path)
    assert mod["round_accuracy"](data, "a", "b", 1) == [(("d", "low", 0), pytest.approx(0.0)),
                                                        (("d", "low", 1), pytest.approx(0.2))]
    assert mod["round_accuracy"](data, "a", "b", 2) == []  # no round 2
    assert mod["main"]([str(tmp_path), "accuracy", "a", "b", "--round", "1"]) == 0
    assert "mean d / low: +0.1000" in capsys.readouterr().out
    (runs / "d__low__b__1.json").unlink()
    data = mod["load"](tmp_path)
    assert mod["main"]([str(tmp_path), "round0", "a", "b"]) == 0
    out = capsys.readouterr()
    assert "1 pair(s): min -0.1000, max -0.1000, mean -0.1000" in out.out
    assert "broken.json left out" in out.err
    assert mod["main"]([str(tmp_path / "none"), "albl-rewards"]) == 2


def test_run_facts_prior_gap_reads_weights_against_the_recorded_prior(tmp_path, capsys):
    mod = _script("run_facts.py")
    runs = tmp_path / "runs"
    runs.mkdir()
    # two seeds, rounds 1-2: margin's weight 0.6/0.2 and 0.5/0.5 against prior shares
    # 0.8/0.4 and 0.8/0.4 -> mean weight 0.45, mean prior 0.6, mean |gap| (0.2+0.2+0.3+0.1)/4
    for seed, weights in enumerate([(0.6, 0.2), (0.5, 0.5)]):
        rounds = [{"round": 0, "accuracy": 0.5}]
        for r, (w, share) in enumerate(zip(weights, (0.8, 0.4), strict=True), start=1):
            rounds.append({"round": r, "accuracy": 0.6,
                           "weights": {"kmeans": 1 - w, "margin": w},
                           "search": {"prior": [1 - share, share]},
                           "query": {"power": float(r + seed)}})
        rounds.append({"round": 3, "accuracy": 0.7, "weights": {"margin": 1.0}})  # no prior
        run = {"rounds": rounds, "bench": {"dataset": "d", "regime": "low", "variant": "a",
                                           "seed": seed, "strategy": "autoal"}}
        (runs / f"d__low__a__{seed}.json").write_text(json.dumps(run))
    data = mod["load"](tmp_path)
    [(key, g)] = mod["prior_gap"](data, "a", "margin").items()
    assert key == ("d", "low") and g.rounds == 4
    assert (g.weight, g.share, g.gap) == (pytest.approx(0.45), pytest.approx(0.6),
                                          pytest.approx(0.2))
    # per round, mean over the two seeds: round 1 weights 0.6 and 0.5 against 0.8 (gaps 0.2,
    # 0.3), powers 1 and 2; round 2 weights 0.2 and 0.5 against 0.4 (gaps 0.2, 0.1)
    assert g.by_round == {1: pytest.approx((0.55, 0.8, 0.25, 1.5)),
                          2: pytest.approx((0.35, 0.4, 0.15, 2.5))}
    assert mod["main"]([str(tmp_path), "prior-gap", "a", "--candidate", "kmeans"]) == 0
    out = capsys.readouterr().out
    assert "d__low: kmeans weight 0.55, prior 0.40, mean |gap| 0.20 (4 rounds)" in out
    assert "  round 2: weight 0.65, prior 0.60, |gap| 0.15, power 2.5" in out
    assert mod["main"]([str(tmp_path), "prior-gap", "nobody"]) == 2
    assert "no rounds of nobody" in capsys.readouterr().err


def _device_cell(folder: Path, variant: str, seed: int, device: str, aubc: float,
                 wall: float, epochs: int = 5) -> None:
    runs = folder / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    cell = f"digits__low__{variant}__{seed}"
    bench = {"cell": cell, "dataset": "digits", "regime": "low", "variant": variant,
             "strategy": variant, "source": "digits", "seed": seed, "wall_seconds": wall,
             "parameters": {"random_state": seed}}
    config = {"epochs": epochs, "seed": seed, "device": device}
    rounds = [{"seconds": {"train": 100.0}},  # round 0: not counted
              {"seconds": {"train": wall / 10, "evidence": 1.0}},
              {"seconds": {"train": wall / 5}}]
    run = {"bench": bench, "config": config, "rounds": rounds, "aubc": aubc}
    (runs / f"{cell}.json").write_text(json.dumps(run))


def test_device_compare_matches_across_devices_and_places_b_in_a_spread(tmp_path, capsys):
    main = _script("device_compare.py")["main"]
    a, b = tmp_path / "cpu", tmp_path / "gpu"
    for seed, aubc in enumerate([0.70, 0.72, 0.74]):  # mean 0.72, std 0.02
        _device_cell(a, "margin", seed, "cpu", aubc, wall=100.0 + seed)
    _device_cell(a, "random", 0, "cpu", 0.60, wall=50.0)
    _device_cell(b, "margin", 1, "cuda", 0.76, wall=20.0)
    _device_cell(b, "random", 0, "cuda", 0.61, wall=10.0, epochs=9)  # other protocol: no match
    _device_cell(b, "badge", 0, "cuda", 0.80, wall=10.0)  # not in a
    out = tmp_path / "cmp.json"
    assert main([str(a), str(b), "--json", str(out)]) == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert row["cell"] == "digits__low__margin__1"
    assert (row["device_a"], row["device_b"]) == ("cpu", "cuda")
    assert row["seeds_a"] == 3 and row["aubc_a_same_seed"] == pytest.approx(0.72)
    assert row["aubc_a_mean"] == pytest.approx(0.72) and row["aubc_a_std"] == pytest.approx(0.02)
    assert row["z"] == pytest.approx(2.0)
    assert row["wall_a"] == 101.0 and row["speedup"] == pytest.approx(101.0 / 20.0)
    # mean over rounds >= 1; a part missing from a round counts 0 there
    assert row["phases_a"] == pytest.approx({"train": (10.1 + 20.2) / 2, "evidence": 0.5})
    assert row["phases_b"] == pytest.approx({"train": (2.0 + 4.0) / 2, "evidence": 0.5})
    text = capsys.readouterr().out
    assert "1 cell(s) matched (cpu vs cuda)" in text
    assert f"| digits__low__margin__1 | 0.5 / 0.5 | {(10.1 + 20.2) / 2:.1f} / 3.0 |" in text
    assert main([str(tmp_path), str(b)]) == 2
    assert "has no runs/ folder" in capsys.readouterr().err


def test_batch_classes_reads_the_class_make_up_of_queried_batches(tmp_path, capsys,
                                                                   digits_dataset):
    mod = _script("batch_classes.py")
    assert mod["batch_stats"](np.array([3, 3, 3, 1])) == (0.75, 2)
    assert mod["batch_stats"](np.array([0, 1, 2, 3])) == (0.25, 4)
    y = digits_dataset.y_train  # pool_size None: the pool is the whole training split
    zeros, ones = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    runs = tmp_path / "runs"
    runs.mkdir()
    for seed, batch1 in enumerate([[*zeros[:3], ones[0]], [*zeros[:2], *ones[:2]]]):
        rounds = [{"queried": [0]}, {"queried": [int(i) for i in batch1]},
                  {"queried": [int(zeros[5]), int(ones[5])]}]
        bench = {"dataset": "digits", "regime": "low", "variant": "v", "source": "digits",
                 "seed": seed, "settings": {"pool_size": None}}
        (runs / f"digits__low__v__{seed}.json").write_text(
            json.dumps({"bench": bench, "rounds": rounds}))
    (row,) = mod["collect"](tmp_path, 1)
    assert row["batches"] == 2 and row["classes"] == 2.0
    assert row["largest_class_share"] == pytest.approx((0.75 + 0.5) / 2)
    (every,) = mod["collect"](tmp_path, 0)  # rounds 1 and 2 of both seeds
    assert every["batches"] == 4
    assert every["largest_class_share"] == pytest.approx((0.75 + 0.5 + 0.5 + 0.5) / 4)
    assert mod["main"]([str(tmp_path), "--round", "1"]) == 0
    assert "| v | 0.62 (2.0) |" in capsys.readouterr().out
    assert mod["main"]([str(tmp_path / "none")]) == 2


def test_strategy_cost_times_every_strategy_against_entropy(tmp_path, capsys):
    out = tmp_path / "cost.json"
    main = _script("strategy_cost.py")["main"]
    code = main(["--dataset", "digits", "--labeled", "40", "--pool", "300", "--budget", "20",
                 "--epochs", "1", "--repeats", "1", "--threads", "1",
                 "--strategies", "margin,typiclust,tcm", "--json", str(out)])
    assert code == 0
    rows = {r["strategy"]: r for r in json.loads(out.read_text())["rows"]}
    assert list(rows) == ["entropy", "margin", "typiclust", "tcm"]  # entropy added first
    assert rows["entropy"]["round_ratio"] == 1.0
    assert all(r["select_s"] > 0 and r["round_ratio"] > 0 for r in rows.values())
    assert "| typiclust |" in capsys.readouterr().out
    assert main(["--dataset", "digits", "--labeled", "1000", "--pool", "1000"]) == 2


def test_first_batch_parses_variants():
    parse = _script("first_batch.py")["parse_variant"]
    assert parse("m=margin") == ("m", "margin", {})
    name, strategy, params = parse('a=autoal:batch="kmeanspp",kappa=2.0,candidates=margin|kmeans')
    assert (name, strategy) == ("a", "autoal")
    assert params == {"batch": "kmeanspp", "kappa": 2.0, "candidates": "margin,kmeans"}


def test_scale_entry_measures_each_entry_point_on_a_small_pool(tmp_path):
    script = _script("scale_entry.py")
    folder = script["write_pool"](tmp_path, 2500)
    assert np.load(folder / "X_train.npy", mmap_mode="r").shape == (2500, 128)
    for step in ("run", "learner", "campaign-init", "campaign-start", "campaign-query"):
        out = script["step"](step, folder, "margin", tmp_path)
        assert out["peak_mb"] > 0 and out["seconds"] >= 0
        if step == "run":
            assert 0.0 <= out["accuracy"] <= 1.0
        if step == "learner":
            assert out["picked"] == 1000
        if step == "campaign-start":
            assert out["method"].startswith("kmeans (diverse start")
        if step == "campaign-query":
            assert out["method"] == "margin"


def test_rerun_drift_reads_both_parameter_formats_as_one_computation():
    from autoal.bench.resume import strategy_parameters
    from autoal.strategies import get_strategy

    same = _script("rerun_drift.py")["same_computation"]
    new = strategy_parameters(get_strategy("autoal", random_state=0, preset="autoal-v1",
                                           ablation="uniform"))
    old = {**new, "search_lr": 0.1, "resolved": {  # as written before presets fixed it
        k: v for k, v in new["resolved"].items() if k != "search_lr"}}
    run = {"bench": {"strategy": "autoal", "source": "digits"}, "config": {"seed": 0}}

    def with_params(params):
        return {**run, "bench": {**run["bench"], "parameters": params}}

    assert same(with_params(old), with_params(new))
    other = {**new, "search_lr": 0.05}
    assert not same(with_params(old), with_params(other))


def test_anchor_tables_compact_differences_and_first_batches(tmp_path, capsys, digits_dataset):
    main = _script("anchor_tables.py")["main"]
    y = digits_dataset.y_train
    zeros, ones, twos = (np.flatnonzero(y == c) for c in (0, 1, 2))
    runs = tmp_path / "runs"
    runs.mkdir()
    # v: first batch three 0s and a 1 (share 0.75); random: 0, 1, 2, 2 (0.5); margin: none read
    batches = {"v": [*zeros[:3], ones[0]], "random": [zeros[0], ones[0], *twos[:2]],
               "margin": [*zeros[:4]]}
    values = {"v": (0.80, 0.60), "random": (0.70, 0.50), "margin": (0.75, 0.55)}
    for seed in (0, 1):
        for variant, batch in batches.items():
            aubc, acc1 = values[variant]
            rounds = [{"queried": [0], "accuracy": 0.4},
                      {"queried": [int(i) for i in batch], "accuracy": acc1 + 0.01 * seed}]
            bench = {"dataset": "digits", "regime": "low", "variant": variant,
                     "source": "digits", "seed": seed, "settings": {"pool_size": None}}
            (runs / f"digits__low__{variant}__{seed}.json").write_text(
                json.dumps({"bench": bench, "rounds": rounds, "aubc": aubc + 0.01 * seed}))
    (runs / "digits__low__late__0.json").write_text(json.dumps({  # one seed only
        "bench": {"dataset": "digits", "regime": "low", "variant": "late", "source": "digits",
                  "seed": 0, "settings": {"pool_size": None}},
        "rounds": [{"queried": [0], "accuracy": 0.4},
                   {"queried": [int(i) for i in batches["margin"]], "accuracy": 0.45}],
        "aubc": 0.9}))
    assert main([str(tmp_path), "--variants", "v,late"]) == 0
    out = capsys.readouterr().out
    assert "| v | +0.0500 (2) |" in out and "| late | +0.1500 (1) |" in out
    assert "| random | 0.50 |" in out
    assert "| v | 0.75, +0.100 |" in out  # 0.60 - 0.50 on both seeds
    # both seeds differ by exactly +0.05 from margin and by +0.10 from random: a point interval
    assert main([str(tmp_path), "--variants", "v", "--intervals", "--no-first-batch"]) == 0
    out = capsys.readouterr().out
    assert "| v | +0.0500 [+0.0500, +0.0500] (2) |" in out and "0.75" not in out
    assert main([str(tmp_path), "--variants", "v", "--ref", "random", "--intervals"]) == 0
    assert "| v | +0.1000 [+0.1000, +0.1000] (2) |" in capsys.readouterr().out
    assert main([str(tmp_path), "--variants", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main([str(tmp_path / "empty"), "--variants", "v"]) == 2
    assert main([str(tmp_path), "--variants", "v", "--round", "0"]) == 2
