"""`autoal run` end to end on digits, and its bad-input paths (exit 2, nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from autoal.cli import main
from autoal.strategies import get_strategy

TINY = ["--init", "20", "--budget", "10", "--rounds", "2", "--epochs", "3", "--quiet"]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run.json"
    result = invoke("run", "--dataset", "digits", "--strategy", "margin", "--seed", "1",
                    "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    return out


def test_run_writes_the_documented_schema(digits_run):
    record = json.loads(digits_run.read_text())
    assert {"dataset", "strategy", "seed", "config", "rounds", "aubc"} <= set(record)
    assert record["dataset"] == "digits" and record["strategy"] == "margin"
    assert [r["round"] for r in record["rounds"]] == [0, 1, 2]
    assert [r["labeled"] for r in record["rounds"]] == [20, 30, 40]
    assert len(record["rounds"][0]["queried"]) == 20
    for r in record["rounds"]:
        assert 0.0 <= r["accuracy"] <= 1.0
        assert {"train"} <= set(r["seconds"])
    assert {"evidence", "select", "train"} <= set(record["rounds"][1]["seconds"])
    queried = [i for r in record["rounds"] for i in r["queried"]]
    assert len(queried) == len(set(queried)) == 40
    labeled = [r["labeled"] for r in record["rounds"]]
    acc = [r["accuracy"] for r in record["rounds"]]
    assert record["aubc"] == pytest.approx(np.trapezoid(acc, labeled) / (labeled[-1] - labeled[0]))


def test_same_arguments_same_json(digits_run, tmp_path):
    out = tmp_path / "again.json"
    result = invoke("run", "--dataset", "digits", "--strategy", "margin", "--seed", "1",
                    "--out", str(out), *TINY)
    assert result.exit_code == 0
    a, b = json.loads(digits_run.read_text()), json.loads(out.read_text())
    for rec in (a, b):
        for r in rec["rounds"]:
            r.pop("seconds")
    assert a == b


def test_autoal_run_records_weights(tmp_path):
    out = tmp_path / "autoal.json"
    result = invoke("run", "--dataset", "digits", "--strategy", "autoal", "--candidates",
                    "margin,kmeans", "--objective", "max_loss", "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert set(record["rounds"][1]["weights"]) == {"margin", "kmeans"}
    assert record["config"]["strategy_params"]["objective"] == "max_loss"


def bad(tmp_path, *args: str, message: str):
    out = tmp_path / "never.json"
    result = invoke("run", "--out", str(out), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()
    assert not list(tmp_path.glob(".never.json*"))


def test_albl_run_takes_the_number_of_rounds_as_its_horizon(tmp_path):
    out = tmp_path / "albl.json"
    result = invoke("run", "--dataset", "digits", "--strategy", "albl", "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["config"]["strategy_params"] == {"horizon": 2}
    assert [r["round"] for r in record["rounds"]] == [0, 1, 2]


def test_threads_option(tmp_path):
    import torch

    out = tmp_path / "t.json"
    result = invoke("run", "--dataset", "digits", "--strategy", "random", "--out", str(out),
                    "--threads", "0", *TINY)
    assert result.exit_code == 2 and "--threads must be at least 1" in result.output
    assert not out.exists()
    before = torch.get_num_threads()
    try:
        result = invoke("run", "--dataset", "digits", "--strategy", "random", "--out",
                        str(out), "--threads", "1", *TINY)
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 1 and out.exists()
    finally:
        torch.set_num_threads(before)


def test_unknown_strategy_lists_names(tmp_path):
    bad(tmp_path, "--dataset", "digits", "--strategy", "nope", *TINY, message="margin")


def test_unknown_dataset_lists_names(tmp_path):
    bad(tmp_path, "--dataset", "nope", "--strategy", "margin", *TINY, message="fashion-mnist")


def test_protocol_larger_than_pool(tmp_path):
    bad(tmp_path, "--dataset", "digits", "--strategy", "margin", "--init", "20",
        "--budget", "500", "--rounds", "5", message="exceeds the pool")


def test_autoal_options_need_autoal(tmp_path):
    bad(tmp_path, "--dataset", "digits", "--strategy", "margin", "--objective", "max_loss",
        *TINY, message="--objective only apply with --strategy autoal")


def test_bad_autoal_candidate(tmp_path):
    bad(tmp_path, "--dataset", "digits", "--strategy", "autoal", "--candidates", "margin,zzz",
        *TINY, message="zzz")


def test_nan_features(tmp_path):
    path = tmp_path / "nan.npz"
    X = np.random.default_rng(0).normal(size=(200, 3))
    X[5, 1] = np.nan
    np.savez(path, X=X, y=np.arange(200) % 2)
    bad(tmp_path, "--dataset", str(path), "--strategy", "margin", *TINY, message="NaN")


def test_labels_that_are_not_class_ids(tmp_path):
    path = tmp_path / "float.npz"
    np.savez(path, X=np.zeros((200, 3)), y=np.linspace(0, 1, 200))
    bad(tmp_path, "--dataset", str(path), "--strategy", "margin", *TINY, message="label")


def test_empty_and_unreadable_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    bad(tmp_path, "--dataset", str(empty), "--strategy", "margin", *TINY, message="empty")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    bad(tmp_path, "--dataset", str(junk), "--strategy", "margin", *TINY, message="junk.npz")


def test_cnn_on_vector_data(tmp_path):
    bad(tmp_path, "--dataset", "digits", "--strategy", "margin", "--model", "cnn", *TINY,
        message="needs image data")


def test_strategies_command_lists_all():
    result = invoke("strategies")
    assert result.exit_code == 0
    assert {"margin", "autoal", "badge"} <= set(result.output.split())


def test_strategies_share_the_pool_initial_set_and_round0_model(digits_dataset):
    from autoal.loop.runner import LoopConfig, run_active_learning

    data = digits_dataset
    config = LoopConfig(init=20, budget=10, rounds=1, seed=4, pool_size=600, epochs=3)
    a = run_active_learning(data, "margin", config, progress=False)
    b = run_active_learning(data, "kmeans", config, progress=False)
    assert a["rounds"][0]["queried"] == b["rounds"][0]["queried"]
    assert a["rounds"][0]["accuracy"] == b["rounds"][0]["accuracy"]
    assert a["rounds"][1]["queried"] != b["rounds"][1]["queried"]
    other_seed = run_active_learning(
        data, "margin", LoopConfig(**{**config.__dict__, "seed": 5}), progress=False
    )
    assert other_seed["rounds"][0]["queried"] != a["rounds"][0]["queried"]


def test_the_loop_gives_albl_by_name_the_number_of_rounds_as_horizon(monkeypatch,
                                                                    digits_dataset):
    from autoal.loop import runner as loop

    built = []
    real = loop.get_strategy

    def spy(name, **kwargs):
        strategy = real(name, **kwargs)
        built.append(strategy)
        return strategy

    monkeypatch.setattr(loop, "get_strategy", spy)
    data = digits_dataset
    config = loop.LoopConfig(init=20, budget=10, rounds=2, seed=0, pool_size=300, epochs=2,
                             mc_samples=5)
    record = loop.run_active_learning(data, "albl", config, progress=False)
    assert built[-1].horizon == 2
    assert record["config"]["strategy_params"] == {"horizon": 2}   # the record says what ran
    given = loop.LoopConfig(**{**config.__dict__, "strategy_params": {"horizon": 7}})
    loop.run_active_learning(data, "albl", given, progress=False)
    assert built[-1].horizon == 7


def test_run_options_give_albl_the_rounds_as_horizon_and_leave_the_rest():
    from autoal.loop.runner import run_options

    assert run_options("albl", {}, 10) == {"horizon": 10}
    assert run_options("albl", {"horizon": 3, "delta": 0.2}, 10) == {"horizon": 3, "delta": 0.2}
    assert run_options("albl", {}, 0) == {"horizon": 1}
    params = {"preset": "paper"}
    assert run_options("autoal", params, 10) == params
    assert run_options("autoal", params, 10) is not params   # a copy: callers may extend it


def test_run_with_label_free_features_records_them_and_changes_the_space(tmp_path,
                                                                         digits_dataset):
    from autoal.loop import LoopConfig, run_active_learning

    data = digits_dataset
    cfg = LoopConfig(init=20, budget=10, rounds=2, epochs=2, seed=0, mc_samples=5)
    model_run = run_active_learning(data, get_strategy("coreset", random_state=0), cfg,
                                    progress=False)
    pca_run = run_active_learning(
        data, get_strategy("coreset", random_state=0, representation="features"), cfg,
        progress=False)
    assert "features" not in model_run and "features_path" not in model_run["config"]
    assert pca_run["features"] == {"source": "pca", "dim": 50}
    # the first batch comes from the same model but another space: other picks
    assert model_run["rounds"][1]["queried"] != pca_run["rounds"][1]["queried"]
    # the user's vectors: the raw pixels themselves, one row per training sample
    vectors = tmp_path / "v.npy"
    np.save(vectors, data.X_train.reshape(len(data.X_train), -1))
    out = tmp_path / "run.json"
    res = CliRunner().invoke(main, [
        "run", "--dataset", "digits", "--strategy", "coreset", "--representation", "features",
        "--features", str(vectors), "--init", "20", "--budget", "10", "--rounds", "1",
        "--epochs", "2", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    run = json.loads(out.read_text())
    assert run["features"] == {"source": str(vectors), "dim": 64}
    assert run["config"]["strategy_params"]["representation"] == "features"


def test_run_refuses_bad_features_before_any_work(tmp_path):
    vectors = tmp_path / "v.npy"
    np.save(vectors, np.zeros((7, 3)))
    base = ["run", "--dataset", "digits", "--init", "20", "--budget", "10", "--rounds", "1",
            "--out", str(tmp_path / "r.json"), "--quiet"]
    res = CliRunner().invoke(main, [*base, "--strategy", "coreset", "--representation",
                                    "features", "--features", str(vectors)])
    assert res.exit_code == 2 and "have 7 rows but the data set has" in res.output
    res = CliRunner().invoke(main, [*base, "--strategy", "coreset", "--features", str(vectors)])
    assert res.exit_code == 2 and "--features only applies with --representation features" in (
        res.output)
    res = CliRunner().invoke(main, [*base, "--strategy", "margin", "--representation",
                                    "features"])
    assert res.exit_code == 2 and "margin" in res.output
    assert not (tmp_path / "r.json").exists()


def test_autoal_coverage_query_and_shrinkage_search_from_the_cli(tmp_path):
    out = tmp_path / "a.json"
    res = CliRunner().invoke(main, [
        "run", "--dataset", "digits", "--strategy", "autoal", "--init", "20", "--budget", "10",
        "--rounds", "1", "--epochs", "2", "--weights", "global", "--search", "shrinkage",
        "--prior", "budget", "--batch", "kmeanspp", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    run = json.loads(out.read_text())
    params = run["config"]["strategy_params"]
    assert (params["batch"], params["search"], params["prior"]) == ("kmeanspp", "shrinkage",
                                                                    "budget")
    assert run["rounds"][1]["query"]["batch"] == "kmeanspp"
    assert "prior" in run["rounds"][1]["search"]
    res = CliRunner().invoke(main, [
        "run", "--dataset", "digits", "--strategy", "margin", "--batch", "kmeanspp",
        "--out", str(tmp_path / "m.json")])
    assert res.exit_code == 2 and "--batch only apply with --strategy autoal" in res.output
