"""Labeling campaigns: the workflow (Python API) and the ``autoal campaign`` commands."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autoal.campaign import (
    SCHEMA_VERSION,
    Campaign,
    CampaignError,
    CampaignExistsError,
    CampaignNotFoundError,
    CorruptCampaignError,
    DataChangedError,
    DataError,
    SchemaVersionError,
    TeachValidationError,
)
from autoal.campaign.store import DB_NAME
from autoal.cli import main

from support import DIGITS, load_digits, write_digits_csv

CLASSES = ",".join(DIGITS)


def write_labels(path: Path, pairs: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label"])
        w.writerows(pairs)
    return path


def cli(*args: Any, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["campaign", *map(str, args)])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


# -- end to end --------------------------------------------------------------------------------
@pytest.mark.slow
def test_end_to_end_csv_cli(tmp_path: Path, digits_csv) -> None:
    data, truth = digits_csv
    camp = tmp_path / "camp"
    out = cli("init", camp, "--data", data, "--classes", CLASSES, "--strategy", "margin")
    assert "500 items" in out
    accuracies = []
    for rnd, n in enumerate((10, 20, 30, 40, 50)):
        text = cli("query", camp, "-n", n, "--format", "csv")
        rows = list(csv.DictReader(text.splitlines()))
        assert list(rows[0]) == ["id", "source", "guess", "confidence", "label"]
        assert len(rows) == n and len({r["id"] for r in rows}) == n
        if rnd == 0:  # diverse start: no model yet
            assert all(r["guess"] == "" for r in rows)
            assert len({truth[r["id"]] for r in rows}) >= 5  # k-means covers many digits
        else:  # the audit items (10 %, drawn at random) show no guess
            guessed = [r for r in rows if r["guess"]]
            assert n - len(guessed) in (n // 10, n // 10 + 1)
            assert all(r["guess"] in truth.values() for r in guessed)
            assert all(0.0 < float(r["confidence"]) <= 1.0 for r in guessed)
        # the same pending batch until something is taught
        again = list(csv.DictReader(cli("query", camp, "-n", n, "--format", "csv").splitlines()))
        assert [r["id"] for r in again] == [r["id"] for r in rows]
        labels = write_labels(tmp_path / f"labels{rnd}.csv", [(r["id"], truth[r["id"]])
                                                               for r in rows])
        assert "taught" in cli("teach", camp, labels)
        st = json.loads(cli("status", camp, "--json"))
        assert st["labeled"] == sum((10, 20, 30, 40, 50)[: rnd + 1])
        assert st["pending"] == 0 and st["skipped"] == 0
        assert sum(st["per_class"].values()) == st["labeled"]
        assert st["rounds"] == rnd + 1
        accuracies.append(st["accuracy"])
    # the random audit's estimate, from the first model round on
    assert accuracies[0] is None and None not in accuracies[1:]
    assert st["accuracy_estimate"]["labels"] >= 10
    text = cli("status", camp)
    assert "estimated accuracy on the unlabeled items" in text and "labeled 150" in text
    out = cli("export", camp, "--out", tmp_path / "labels.csv", "--model", tmp_path / "m.pt")
    assert "150 labels" in out
    exported = list(csv.DictReader((tmp_path / "labels.csv").open()))
    assert len(exported) == 150
    assert all(truth[r["id"]] == r["label"] for r in exported)
    _check_model_file(tmp_path / "m.pt", data_shape=(64,))


def _check_model_file(path: Path, data_shape: tuple[int, ...]) -> None:
    import torch

    from autoal.models import build_net

    payload = torch.load(path, weights_only=False)
    assert payload["classes"] == [str(d) for d in range(10)]
    assert tuple(payload["input_shape"]) == data_shape
    net = build_net(payload["model"], tuple(payload["input_shape"]), len(payload["classes"]))
    net.load_state_dict(payload["state_dict"])


@pytest.fixture(scope="module")
def png_folder(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    d = load_digits()
    folder = tmp_path_factory.mktemp("pngs")
    truth = {}
    for i in range(300):
        name = f"img{i:04d}.png"
        Image.fromarray((d.images[i] * 255 / 16).astype(np.uint8), mode="L").save(folder / name)
        truth[name] = str(d.target[i])
    return folder, truth


@pytest.mark.slow
def test_end_to_end_png_folder(tmp_path: Path, png_folder) -> None:
    folder, truth = png_folder
    camp = tmp_path / "camp"
    # an MLP on the pixels keeps this test fast; the CNN (model auto) is checked below
    c = Campaign.init(camp, folder, CLASSES, strategy="entropy", model="mlp", seed=1)
    assert c.config.data_kind == "images"
    accuracies = []
    for rnd, n in enumerate((10, 30, 40, 50)):
        batch = c.query(n)
        assert len(batch.items) == n
        assert all((folder / i.source).is_file() and Path(i.source).name == i.id
                   for i in batch.items)
        c.teach({i.id: truth[i.id] for i in batch.items})
        st = c.status()
        assert st.labeled == sum((10, 30, 40, 50)[: rnd + 1])
        accuracies.append(st.accuracy)
    assert None not in accuracies[1:]
    c.close()
    # the CLI on the same campaign: table output names the files (relative to the folder)
    text = cli("query", camp, "-n", 3)
    assert "img" in text and str(folder) not in text
    res = cli("export", camp, "--out", tmp_path / "l.csv", "--model", tmp_path / "m.pt")
    assert "130 labels" in res
    rows = list(csv.DictReader((tmp_path / "l.csv").open()))
    assert all(truth[r["id"]] == r["label"] for r in rows)


def test_images_use_a_cnn(tmp_path: Path, png_folder) -> None:
    folder, truth = png_folder
    camp = tmp_path / "camp"
    with Campaign.init(camp, folder, CLASSES, epochs=2, min_steps=0) as c:
        assert c.config.model == "cnn"
        c.teach({k: truth[k] for k in sorted(truth)[:20]})
        batch = c.query(5)
        assert len(batch.items) == 5 and all(i.guess in CLASSES for i in batch.items)
        c.export(tmp_path / "l.csv", model=tmp_path / "m.pt")
    _check_model_file(tmp_path / "m.pt", data_shape=(1, 8, 8))


# -- query ------------------------------------------------------------------------------------
def test_query_pending_batch_refresh_and_json(tmp_path: Path, digits_csv) -> None:
    data, truth = digits_csv
    c = Campaign.init(tmp_path / "c", data, CLASSES, strategy="margin")
    first = c.query(5)
    assert first.round == 1 and not first.reused and "kmeans" in first.method
    same = c.query(5)
    assert same.reused and [i.id for i in same.items] == [i.id for i in first.items]
    other_n = c.query(7)
    assert other_n.reused and other_n.notes  # tells the user it is the pending batch
    fresh = c.query(5, refresh=True)
    assert fresh.round == 2 and not fresh.reused
    st = c.status()
    assert st.pending == 5 and st.rounds == 2
    # one labeled class only: still diverse (core-set from the labeled items)
    c.teach({i.id: "3" for i in fresh.items[:2]})
    nxt = c.query(4)
    assert "coreset" in nxt.method and not {i.id for i in nxt.items} & {i.id for i in
                                                                        fresh.items[:2]}
    out = json.loads(cli("query", tmp_path / "c", "-n", 4, "--format", "json"))
    assert out["round"] == nxt.round and [i["id"] for i in out["items"]] == [
        i.id for i in nxt.items]
    with pytest.raises(CampaignError, match="positive"):
        c.query(0)
    c.close()


def test_query_when_little_is_left(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("id,a,b,label\nx1,0,1,\nx2,1,0,\nx3,5,5,u\nx4,6,5,v\n")
    c = Campaign.init(tmp_path / "c", path, "u,v", strategy="margin")
    assert c.status().labeled == 2  # labels found in the data
    res = c.query(10)
    assert len(res.items) == 2 and any("only 2" in n for n in res.notes)
    assert res.items[0].guess in ("u", "v")
    c.teach({"x1": "u", "x2": "skip"})
    with pytest.raises(CampaignError, match="nothing left"):
        c.query(1)
    st = c.status()
    assert (st.labeled, st.skipped, st.unlabeled, st.pending) == (3, 1, 0, 0)
    assert st.per_class == {"u": 2, "v": 1}
    c.close()


def test_strategy_weights_are_stored_per_round(tmp_path: Path, digits_csv, monkeypatch) -> None:
    from autoal.strategies import registry
    from autoal.strategies.uncertainty import Margin

    class Weighted(Margin):
        name = "test_weighted"

        def round_info(self) -> dict[str, Any]:
            return {"weights": {"margin": np.float32(0.75), "entropy": 0.25}, "other": [1, 2]}

    monkeypatch.setitem(registry._REGISTRY, "test_weighted", Weighted)
    data, truth = digits_csv
    c = Campaign.init(tmp_path / "c", data, CLASSES, strategy="test_weighted")
    c.teach({f"d{i}": truth[f"d{i}"] for i in range(20)})
    res = c.query(5)
    assert res.method == "test_weighted"
    assert res.info["weights"] == {"margin": 0.75, "entropy": 0.25}
    st = c.status()
    assert st.last_round["weights"] == {"margin": 0.75, "entropy": 0.25}
    c.teach({i.id: truth[i.id] for i in res.items})
    c.query(3)
    history = c.weights_history()
    assert [(h.round, h.n_labeled) for h in history] == [(1, 20), (2, 25)]
    assert history[1].weights == {"margin": 0.75, "entropy": 0.25}
    assert history[0].to_dict() == {"round": 1, "n_labeled": 20,
                                    "weights": {"margin": 0.75, "entropy": 0.25}}
    c.close()
    assert "candidate weights: margin 0.750, entropy 0.250" in cli(
        "status", tmp_path / "c", "--no-estimate")


def test_batch_shows_the_latest_round_with_current_labels(tmp_path: Path) -> None:
    X, target = load_digits().data, load_digits().target
    data = tmp_path / "d.csv"
    truth = write_digits_csv(data, X[:40], target)
    c = Campaign.init(tmp_path / "c", data, CLASSES, strategy="margin")
    empty = c.batch()
    assert (empty.round, empty.items, empty.pending, empty.n_requested) == (None, [], [], None)
    assert c.weights_history() == []  # no rounds; margin reports no weights anyway
    q = c.query(6)
    b = c.batch()
    assert (b.round, b.method, b.n_requested, b.n_labeled) == (1, q.method, 6, 0)
    assert [i.id for i in b.items] == [i.id for i in q.items]
    assert [i.source for i in b.items] == [i.source for i in q.items]
    assert all(i.label is None for i in b.items) and len(b.pending) == 6
    first, second = b.items[0].id, b.items[1].id
    c.teach({first: truth[first], second: "skip"})
    b = c.batch()
    assert {i.id: i.label for i in b.items}[first] == truth[first]
    assert {i.id: i.label for i in b.items}[second] == "skip"
    assert [i.id for i in b.pending] == [i.id for i in q.items[2:]]
    assert b.to_dict()["items"][0] == {"id": first, "source": b.items[0].source,
                                       "guess": None, "confidence": None,
                                       "label": truth[first], "audit": b.items[0].audit}
    c.undo()
    assert len(c.batch().pending) == 6  # the batch follows the labels, not a copy of them
    assert c.item_source(first) == f"row {first[1:]}" and c.item_source("nope") is None
    c.close()
    # an item that left the data (accepted change) leaves the batch, but not its round
    gone = int(first[1:])
    write_digits_csv(data, np.delete(X[:40], gone, axis=0), target)
    ids = [f"d{k}" for k in range(40) if k != gone]
    rows = data.read_text().splitlines()
    data.write_text("\n".join([rows[0]] + [f"{i},{r.split(',', 1)[1]}"
                                            for i, r in zip(ids, rows[1:], strict=True)]) + "\n")
    with Campaign.open(tmp_path / "c", accept_changed_data=True) as c:
        c.status()  # accepts the change
        b = c.batch()
        assert b.round == 1 and first not in {i.id for i in b.items} and len(b.items) == 5
        assert c.item_source(first) is None


def test_the_default_strategy_follows_the_benchmark(tmp_path: Path, digits_csv) -> None:
    from autoal.campaign.config import DEFAULT_STRATEGY

    with Campaign.init(tmp_path / "c", digits_csv[0], CLASSES) as c:
        assert c.config.strategy == DEFAULT_STRATEGY == "margin" and not c.notes


def test_autoal_fallback_to_margin(tmp_path: Path, digits_csv, monkeypatch) -> None:
    import autoal.strategies as strategies

    names = [n for n in strategies.available_strategies() if n != "autoal"]
    monkeypatch.setattr(strategies, "available_strategies", lambda: names)
    c = Campaign.init(tmp_path / "c", digits_csv[0], CLASSES, strategy="autoal")
    assert c.config.strategy == "margin" and "margin" in c.notes[0]
    c.close()
    with pytest.raises(CampaignError, match="unknown strategy"):
        Campaign.init(tmp_path / "d", digits_csv[0], CLASSES, strategy="nope")


# -- teach, undo ---------------------------------------------------------------------------
def test_teach_validates_everything_and_writes_nothing(tmp_path: Path, digits_csv) -> None:
    data, _ = digits_csv
    camp = tmp_path / "c"
    with Campaign.init(camp, data, CLASSES, strategy="margin") as c:
        c.teach({"d0": "0", "d1": "1"})
    before = Campaign.open(camp).status()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,label,comment\n"
        "d2,2,fine\n"
        "nope,3,unknown id\n"
        "d4,cat,unknown class\n"
        "d5,5,dup\n"
        "d5,6,conflicting dup\n"
        "d6,6,same dup\n"
        "d6,6,same dup\n"
        "d0,9,relabel\n"
        "d1,1,unchanged is fine\n"
        "d7,,blank is ignored\n"
    )
    out = cli("teach", camp, bad, code=2)
    assert out.startswith("error: ") and "4 problems" in out and "nothing was written" in out
    for needle in ("unknown id 'nope'", "unknown class 'cat'", "conflicting labels",
                   "already labeled '0'", "--relabel", "line 3", "line 4"):
        assert needle in out, needle
    after = Campaign.open(camp).status()
    assert after == before
    with Campaign.open(camp) as c:
        with pytest.raises(TeachValidationError) as info:
            c.teach({"d0": "9"})
        assert info.value.needs_relabel and len(info.value.problems) == 1
        with pytest.raises(TeachValidationError, match="no labels"):
            c.teach({})
    (tmp_path / "nohead.csv").write_text("item,class\nd1,1\n")
    assert "lacks the column" in cli("teach", camp, tmp_path / "nohead.csv", code=2)
    assert "not found" in cli("teach", camp, tmp_path / "missing.csv", code=2)


def test_teach_relabel_skip_undo(tmp_path: Path, digits_csv) -> None:
    data, _ = digits_csv
    camp = tmp_path / "c"
    with Campaign.init(camp, data, CLASSES, strategy="margin") as c:
        r1 = c.teach({"d0": "0", "d1": "1", "d2": "skip"})
        assert (r1.added, r1.skipped) == (2, 1)
        r2 = c.teach({"d0": "7", "d2": "2", "d3": "3"}, relabel=True)
        assert (r2.added, r2.relabeled, r2.unchanged) == (1, 2, 0)
        st = c.status()
        assert st.per_class["7"] == 1 and st.per_class["0"] == 0 and st.skipped == 0
        assert c.teach({"d0": "7"}).teach_id is None  # nothing changed: no new teach
        u = c.undo()
        assert u.teach_id == r2.teach_id and u.reverted == 3
        st = c.status()
        assert (st.labeled, st.skipped, st.per_class["0"], st.per_class["3"]) == (2, 1, 1, 0)
        c.undo()
        assert c.status().labeled == 0
        with pytest.raises(CampaignError, match="nothing to undo"):
            c.undo()
    labels = write_labels(tmp_path / "l.csv", [("d9", "9"), ("d8", "skip")])
    cli("teach", camp, labels)
    assert "2 labels reverted" in cli("undo", camp)
    assert "nothing to undo" in cli("undo", camp, code=2)
    out = cli("export", camp, "--out", tmp_path / "e.csv", "--include-skipped")
    assert "0 labels" in out


def test_export_model_needs_two_classes(tmp_path: Path, digits_csv) -> None:
    with Campaign.init(tmp_path / "c", digits_csv[0], CLASSES, strategy="margin") as c:
        c.teach({"d0": "0", "d1": "0", "d2": "skip"})
        with pytest.raises(CampaignError, match="2 classes"):
            c.export(tmp_path / "l.csv", model=tmp_path / "m.pt")
        assert not (tmp_path / "m.pt").exists()
        res = c.export(tmp_path / "l.csv", include_skipped=True)
        rows = list(csv.DictReader((tmp_path / "l.csv").open()))
        assert res.n_labels == 2 and [r["label"] for r in rows] == ["0", "0", "skip"]
        assert rows[0]["source"] == "row 0"


# -- data ------------------------------------------------------------------------------------
def test_initial_labels_npz_and_folders(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 5))
    y = np.full(30, -1)
    y[:4] = [0, 1, 2, 1]
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with Campaign.init(tmp_path / "c1", tmp_path / "d.npz", "a,b,c", strategy="margin") as c:
        st = c.status()
        assert st.per_class == {"a": 1, "b": 2, "c": 1} and st.items == 30
        with pytest.raises(CampaignError, match="nothing to undo"):
            c.undo()  # labels from the data are not a teach
    y[5] = 7
    np.savez(tmp_path / "bad.npz", X=X, y=y)
    with pytest.raises(DataError, match="class index 7"):
        Campaign.init(tmp_path / "c2", tmp_path / "bad.npz", "a,b,c")
    assert not (tmp_path / "c2" / DB_NAME).exists()
    folder = tmp_path / "imgs"
    (folder / "cat").mkdir(parents=True)
    for i in range(6):
        target = folder / "cat" if i < 2 else folder
        Image.fromarray(rng.integers(0, 255, (6, 6), dtype=np.uint8)).save(target / f"{i}.png")
    with Campaign.init(tmp_path / "c3", folder, "cat,dog", strategy="margin") as c:
        st = c.status()
        assert (st.items, st.per_class) == (6, {"cat": 2, "dog": 0})
        ids = [i.id for i in c.query(4).items]
        assert sorted(ids) == ["2.png", "3.png", "4.png", "5.png"]
        c.teach({"cat/0.png": "cat"})  # already labeled the same: fine
    with pytest.raises(CampaignError, match="at least 2 classes"):
        Campaign.init(tmp_path / "c4", folder, "cat")
    with pytest.raises(CampaignError, match="skip"):
        Campaign.init(tmp_path / "c4", folder, "cat,skip")
    with pytest.raises(CampaignError, match="cnn"):
        Campaign.init(tmp_path / "c4", tmp_path / "d.npz", "a,b,c", model="cnn")


def test_changed_data_stops_unless_accepted(tmp_path: Path) -> None:
    X, target = load_digits().data, load_digits().target
    data = tmp_path / "d.csv"
    write_digits_csv(data, X[:50], target)
    camp = tmp_path / "c"
    with Campaign.init(camp, data, CLASSES, strategy="margin") as c:
        c.teach({"d0": "0", "d1": "1"})
    write_digits_csv(data, X[:60], target, start=1)  # d0 is gone, d50..d59 are new
    for args in (("status", camp), ("query", camp, "-n", 2)):
        out = cli(*args, code=2)
        assert "changed" in out and "--accept-changed-data" in out
    labels = write_labels(tmp_path / "l.csv", [("d2", "2")])
    assert "changed" in cli("teach", camp, labels, code=2)
    out = json.loads(cli("status", camp, "--json", "--no-estimate", "--accept-changed-data"))
    assert out["items"] == 59 and out["labeled"] == 1  # d0's label is kept but set aside
    cli("teach", camp, labels)  # accepted: no complaint any more
    assert "unknown id 'd0'" in cli("teach", camp, write_labels(tmp_path / "m.csv",
                                                              [("d0", "0")]), code=2)
    cli("export", camp, "--out", tmp_path / "e.csv")
    assert {r["id"] for r in csv.DictReader((tmp_path / "e.csv").open())} == {"d0", "d1", "d2"}
    data.unlink()
    assert "cannot read the campaign's data" in cli("status", camp, code=2)


# -- the database ----------------------------------------------------------------------------
def test_init_refuses_existing_and_foreign_files(tmp_path: Path, digits_csv) -> None:
    data = digits_csv[0]
    camp = tmp_path / "c"
    Campaign.init(camp, data, CLASSES, strategy="margin").close()
    assert "already holds a campaign" in cli("init", camp, "--data", data, "--classes", "a,b",
                                             code=2)
    foreign = tmp_path / "f"
    foreign.mkdir()
    (foreign / DB_NAME).write_bytes(b"my thesis, do not delete")
    with pytest.raises(CampaignExistsError, match="refusing to overwrite"):
        Campaign.init(foreign, data, CLASSES)
    assert (foreign / DB_NAME).read_bytes() == b"my thesis, do not delete"
    with pytest.raises(CampaignNotFoundError, match="campaign init"):
        Campaign.open(tmp_path / "none")
    assert "no campaign" in cli("status", tmp_path / "none", code=2)


@pytest.mark.parametrize("content", ["garbage", "empty", "foreign-sqlite", "truncated"])
def test_corrupt_or_foreign_database_is_refused_untouched(tmp_path: Path, digits_csv,
                                                          content: str) -> None:
    camp = tmp_path / "c"
    Campaign.init(camp, digits_csv[0], CLASSES, strategy="margin").close()
    db = camp / DB_NAME
    if content == "garbage":
        db.write_bytes(b"\x00\x01 not a database" * 100)
    elif content == "empty":
        db.write_bytes(b"")
    elif content == "truncated":
        db.write_bytes(db.read_bytes()[:2000])
    else:
        db.unlink()
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE photos (name TEXT)")
        conn.commit()
        conn.close()
    before = db.read_bytes()
    with pytest.raises(CorruptCampaignError, match="nothing was changed|damaged"):
        Campaign.open(camp)
    for args in (("status", camp), ("teach", camp, camp / "x.csv"), ("undo", camp),
                 ("query", camp, "-n", 1)):
        out = cli(*args, code=2)
        assert out.startswith("error: ") and DB_NAME in out
    assert db.read_bytes() == before
    assert "refusing to overwrite" in cli("init", camp, "--data", digits_csv[0], "--classes",
                                          "a,b", code=2)
    assert db.read_bytes() == before


def test_newer_schema_is_refused(tmp_path: Path, digits_csv) -> None:
    camp = tmp_path / "c"
    Campaign.init(camp, digits_csv[0], CLASSES, strategy="margin").close()
    conn = sqlite3.connect(camp / DB_NAME)
    conn.execute("UPDATE autoal_meta SET value = ? WHERE key = 'schema_version'",
                 (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="newer autoal"):
        Campaign.open(camp)
    out = cli("status", camp, code=2)
    assert f"schema version {SCHEMA_VERSION + 1}" in out and "upgrade autoal" in out


def test_database_is_wal_and_versioned(tmp_path: Path, digits_csv) -> None:
    camp = tmp_path / "c"
    Campaign.init(camp, digits_csv[0], CLASSES, strategy="margin").close()
    conn = sqlite3.connect(camp / DB_NAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    meta = dict(conn.execute("SELECT key, value FROM autoal_meta"))
    conn.close()
    assert meta["app"] == "autoal-campaign" and int(meta["schema_version"]) == SCHEMA_VERSION
    assert meta["data_hash"].startswith("sha256:")
    assert not list(camp.glob(".campaign.db.init-*"))


def test_data_changed_error_class(tmp_path: Path, digits_csv) -> None:
    data = tmp_path / "d.csv"
    data.write_bytes(digits_csv[0].read_bytes())
    with Campaign.init(tmp_path / "c", data, CLASSES, strategy="margin") as c:
        with data.open("a") as fh:
            fh.write("d999," + ",".join(["0"] * 64) + "\n")
        with pytest.raises(DataChangedError):
            c.teach({"d1": "1"})


def test_public_names_stay_importable() -> None:
    """The workflow was split into modules; every name importable before still is, and is the
    same object from ``autoal.campaign`` and ``autoal.campaign.workflow``. The public names
    are listed once, in the package's ``__all__``."""
    import autoal.campaign as package
    import autoal.campaign.workflow as workflow

    before = ["SKIP", "Campaign", "CampaignConfig", "CampaignStatus", "DataChangedError",
              "DataError", "ExportResult", "QueryItem", "QueryResult", "TeachResult",
              "TeachValidationError", "UndoResult"]
    for name in [*before, "Batch", "BatchItem", "RoundWeights"]:
        assert name in package.__all__, name
        assert getattr(package, name) is getattr(workflow, name), name
    assert workflow.__all__ == ["Campaign"]
    for name in ("SCHEMA_VERSION", "CampaignBusyError", "CampaignError", "CampaignExistsError",
                 "CampaignNotFoundError", "CorruptCampaignError", "SchemaVersionError"):
        assert name in package.__all__ and hasattr(package, name), name
    assert issubclass(package.DataChangedError, package.CampaignError)
