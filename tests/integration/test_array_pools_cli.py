"""Array pools end to end: `autoal run`, a bench config and a campaign on a memory-mapped
.npy or a folder of .npy shards, and their bad input (exit 2 naming the file)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autoal.cli import main
from autoal.scale.shards import write_shards

from support import tiny_bench_config, write_array_folder

TINY = ["--init", "20", "--budget", "10", "--rounds", "2", "--epochs", "2", "--quiet",
        "--device", "cpu", "--mc-samples", "5"]


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def plus_minus_one(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Columns of +1 and -1 in equal numbers: mean exactly 0 and deviation exactly 1, so a
    .npz's standardisation leaves them unchanged and an array folder (used as given) agrees."""
    X = np.ones((n, d), dtype=np.float32)
    for j in range(d):
        X[rng.permutation(n)[: n // 2], j] = -1.0
    return X


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("arrays")
    rng = np.random.default_rng(0)
    X, X_test = plus_minus_one(600, 6, rng), plus_minus_one(200, 6, rng)
    w = rng.normal(size=(6, 3))
    y, y_test = (X @ w).argmax(axis=1), (X_test @ w).argmax(axis=1)
    np.savez(root / "d.npz", X=X, y=y, X_test=X_test, y_test=y_test)
    for name, shards in (("folder", 0), ("sharded", 3)):
        write_array_folder(root / name, X, y, X_test, y_test, shards=shards)
    return root


def run_record(path: Path) -> list:
    record = json.loads(path.read_text())
    return [(r["queried"], r["accuracy"]) for r in record["rounds"]]


@pytest.mark.parametrize("strategy", ["margin", "kmeans", "bald"])
def test_run_on_an_array_folder_is_the_run_on_the_same_npz(data, tmp_path, strategy):
    runs = {}
    for source in ("d.npz", "folder", "sharded"):
        out = tmp_path / f"{source}.json"
        res = invoke("run", "--dataset", data / source, "--strategy", strategy, "--out", out,
                     *TINY)
        assert res.exit_code == 0, res.output
        runs[source] = run_record(out)
    assert runs["folder"] == runs["d.npz"] == runs["sharded"]


def test_a_bench_config_may_name_an_array_folder(data, tmp_path):
    text = tiny_bench_config('m = { strategy = "margin" }').replace(
        "[datasets.digits]", f'[datasets.mine]\npath = "{data / "sharded"}"')
    config = tmp_path / "c.toml"
    config.write_text(text)
    res = invoke("bench", config, "--out", tmp_path / "out", "--workers", "1")
    assert res.exit_code == 0, res.output
    (run_file,) = (tmp_path / "out" / "runs").glob("*.json")
    record = json.loads(run_file.read_text())
    assert record["dataset"] == "sharded" and len(record["rounds"]) == 2


def test_a_run_on_a_bad_array_folder_is_exit_2_naming_the_file(data, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    write_shards(np.zeros((30, 6), np.float32), bad / "X_train", 2)
    np.save(bad / "X_train" / "shard-00001.npy", np.zeros((15, 5), np.float32))
    for key in ("y_train", "X_test", "y_test"):
        np.save(bad / f"{key}.npy", np.load(data / "folder" / f"{key}.npy"))
    res = invoke("run", "--dataset", bad, "--strategy", "margin", "--out", tmp_path / "o.json")
    assert res.exit_code == 2 and "shard-00001.npy has rows of shape (5,)" in res.output
    (bad / "X_train" / "shard-00001.npy").unlink()
    res = invoke("run", "--dataset", bad, "--strategy", "margin", "--out", tmp_path / "o.json")
    assert res.exit_code == 2 and "y_train.npy has 600 labels" in res.output
    assert not (tmp_path / "o.json").exists()


# ----------------------------------------------------------------------------- campaigns
def teach_batch(directory: Path, batch_csv: str, tmp_path: Path) -> None:
    rows = list(csv.DictReader(batch_csv.splitlines()))
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label"])
        w.writerows((r["id"], "ab"[k % 2]) for k, r in enumerate(rows))
    assert invoke("campaign", "teach", directory, labels).exit_code == 0


def test_a_campaign_on_a_npy_and_on_its_shards_picks_the_same_rows(tmp_path):
    X = np.random.default_rng(1).normal(size=(900, 8)).astype(np.float32)
    np.save(tmp_path / "pool.npy", X)
    write_shards(X, tmp_path / "shards", 3)
    batches = {}
    for name in ("pool.npy", "shards"):
        directory = tmp_path / f"c-{name}"
        res = invoke("campaign", "init", directory, "--data", tmp_path / name,
                     "--classes", "a,b", "--epochs", "2")
        assert res.exit_code == 0, res.output
        assert "900 items" in res.output
        first = invoke("campaign", "query", directory, "-n", "6", "--format", "csv")
        assert first.exit_code == 0, first.output
        teach_batch(directory, first.output, tmp_path)
        second = invoke("campaign", "query", directory, "-n", "5", "--format", "csv")
        assert second.exit_code == 0, second.output
        rows = list(csv.DictReader(second.output.splitlines()))
        assert all(r["source"] == f"row {r['id']}" for r in rows)
        batches[name] = (first.output, [r["id"] for r in rows])
    assert batches["pool.npy"] == batches["shards"]


def test_a_campaign_refuses_a_bad_shard_by_name(tmp_path):
    write_shards(np.zeros((40, 4), np.float32), tmp_path / "shards", 2)
    np.save(tmp_path / "shards" / "shard-00001.npy", np.zeros((20, 4), np.float64))
    res = invoke("campaign", "init", tmp_path / "c", "--data", tmp_path / "shards",
                 "--classes", "a,b")
    assert res.exit_code == 2 and "shard-00001.npy" in res.output and "float64" in res.output
    assert not (tmp_path / "c").exists()
    np.save(tmp_path / "nan.npy", np.array([[0.0, 1.0], [np.nan, 2.0]], np.float32))
    res = invoke("campaign", "init", tmp_path / "c", "--data", tmp_path / "nan.npy",
                 "--classes", "a,b")
    assert res.exit_code == 2 and "nan.npy contains NaN" in res.output


def test_a_campaign_query_without_scratch_space_says_so_and_changes_nothing(tmp_path,
                                                                            monkeypatch):
    import shutil
    from collections import namedtuple

    X = np.random.default_rng(2).normal(size=(300, 4)).astype(np.float32)
    np.save(tmp_path / "pool.npy", X)
    directory = tmp_path / "c"
    assert invoke("campaign", "init", directory, "--data", tmp_path / "pool.npy", "--classes",
                  "a,b", "--epochs", "1", "--strategy", "bald").exit_code == 0
    first = invoke("campaign", "query", directory, "-n", "6", "--format", "csv")
    teach_batch(directory, first.output, tmp_path)
    before = invoke("campaign", "status", directory).output
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 0, 100))
    res = invoke("campaign", "query", directory, "-n", "5", "--format", "csv")
    assert res.exit_code == 1, res.output
    assert "scratch space" in res.output and "the campaign was not changed" in res.output
    assert "Traceback" not in res.output
    monkeypatch.undo()
    assert invoke("campaign", "status", directory).output == before
    assert invoke("campaign", "query", directory, "-n", "5").exit_code == 0
