"""Their own embeddings (--features), Label Studio tasks and exports, scikit-learn models."""

from __future__ import annotations

import csv
import json
import pickle
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from sklearn.ensemble import RandomForestClassifier

from autoal.campaign import Campaign, CampaignError, DataError, TeachValidationError
from autoal.campaign.items import attach_features, load_items
from autoal.cli import main

from support import DIGITS, load_digits, write_digits_csv


def cli(*args: Any, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["campaign", *map(str, args)])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


@pytest.fixture()
def pngs(tmp_path: Path) -> tuple[Path, dict[str, str], np.ndarray]:
    """120 digit PNGs (80 loose, 40 in class folders 0 and 1) and 'embeddings' in the
    documented order (the relative paths, sorted)."""
    d = load_digits()
    folder = tmp_path / "pngs"
    truth = {}
    for i in range(120):
        rel = f"img{i:03d}.png" if i < 80 else f"{d.target[i] % 2}/img{i:03d}.png"
        if i >= 80 and d.target[i] not in (0, 1):
            rel = f"img{i:03d}.png"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((d.images[i] * 255 / 16).astype(np.uint8), mode="L").save(folder / rel)
        truth[rel] = str(d.target[i]) if "/" not in rel else rel.split("/")[0]
    order = sorted(truth)
    emb = np.stack([d.data[int(Path(r).stem[3:])] * 3.0 + 1.0 for r in order])
    return folder, truth, emb


# -- --features ---------------------------------------------------------------------------------
def test_features_npy_and_csv_give_the_same_input_in_item_order(tmp_path: Path, pngs) -> None:
    folder, truth, emb = pngs
    np.save(tmp_path / "emb.npy", emb)
    order = sorted(truth)
    shuffled = np.random.default_rng(0).permutation(len(order))
    with (tmp_path / "emb.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(f"e{j}" for j in range(emb.shape[1]))])
        w.writerows([order[k], *emb[k]] for k in shuffled)
    items = load_items(folder)
    a = attach_features(items, tmp_path / "emb.npy")
    b = attach_features(items, tmp_path / "emb.csv")
    assert a.X.shape == (120, 64) and np.allclose(a.X, b.X)
    # row of item i is the embedding of its file, standardised
    k = items.ids.index("img005.png")
    expected = (emb[order.index("img005.png")] - emb.mean(0)) / np.where(
        emb.std(0) > 1e-8, emb.std(0), 1)
    assert np.allclose(a.X[k], expected, atol=1e-5)
    assert b.feature_names == [f"e{j}" for j in range(64)] and a.ids == items.ids


def test_features_train_the_model_and_the_page_shows_images(tmp_path: Path, pngs) -> None:
    pytest.importorskip("flask")
    from autoal.campaign.web import create_app

    folder, truth, emb = pngs
    np.save(tmp_path / "emb.npy", emb)
    camp = tmp_path / "camp"
    out = cli("init", camp, "--data", folder, "--features", tmp_path / "emb.npy",
              "--classes", ",".join(DIGITS), "--epochs", 2, "--strategy", "margin")
    assert "model mlp" in out  # vectors, so an MLP although the data are images
    with Campaign.open(camp) as c:
        assert c.config.features_path == str((tmp_path / "emb.npy").resolve())
        for _ in range(2):
            c.teach({i.id: truth[i.id] for i in c.query(10).items})
        c.export(tmp_path / "l.csv", model=tmp_path / "m.pt")
    import torch

    assert torch.load(tmp_path / "m.pt", weights_only=False)["input_shape"] == [64]
    batch = create_app(camp).test_client().get("/api/batch").get_json()
    assert batch["display"] == "image"
    assert all(i["image_url"].startswith("api/image?id=") for i in batch["items"])
    # the features file may not change under the campaign
    np.save(tmp_path / "emb.npy", emb[::-1])
    with Campaign.open(camp) as c, pytest.raises(DataError, match="features .* changed"):
        c.query(5, refresh=True)


def test_features_that_do_not_match_the_items_are_exit_2(tmp_path: Path, pngs) -> None:
    folder, truth, emb = pngs
    np.save(tmp_path / "short.npy", emb[:-1])
    out = cli("init", tmp_path / "c1", "--data", folder, "--features", tmp_path / "short.npy",
              "--classes", ",".join(DIGITS), code=2)
    assert "119 rows but the data has 120 items" in out and "sorted" in out
    with (tmp_path / "f.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "a"])
        w.writerows([[r, 1.0] for r in sorted(truth)[1:]] + [["nope.png", 2.0]])
    out = cli("init", tmp_path / "c2", "--data", folder, "--features", tmp_path / "f.csv",
              "--classes", ",".join(DIGITS), code=2)
    assert "1 item(s) have no row" in out and "nope.png" in out
    np.save(tmp_path / "flat.npy", np.zeros(120))
    out = cli("init", tmp_path / "c3", "--data", folder, "--features", tmp_path / "flat.npy",
              "--classes", ",".join(DIGITS), code=2)
    assert "2-D numeric array" in out
    cli("init", tmp_path / "c4", "--data", folder, "--features", tmp_path / "none.npy",
        "--classes", ",".join(DIGITS), code=2)
    assert not any((tmp_path / f"c{k}" / "campaign.db").exists() for k in range(1, 5))


# -- Label Studio -------------------------------------------------------------------------------
def ls_annotation(choice: str | list[str], *, cancelled: bool = False) -> dict:
    """An annotation as in Label Studio's documented JSON export (task_format)."""
    choices = choice if isinstance(choice, list) else [choice]
    return {"id": 1001, "result": [{"from_name": "label", "id": "Dx_aB91ISN", "to_name": "image",
                                    "type": "choices", "value": {"choices": choices}}],
            "was_cancelled": cancelled, "ground_truth": False,
            "created_at": "2021-03-09T22:16:08.728353Z",
            "updated_at": "2021-03-09T22:16:08.728378Z", "lead_time": 4.288,
            "result_count": 0, "task": 1, "completed_by": 10}


def as_ls_export(tasks: list[dict], labels: dict[str, Any]) -> list[dict]:
    """What Label Studio exports after labeling the imported tasks."""
    out = []
    for k, task in enumerate(tasks, 1):
        done = dict(task, id=k, project=83, created_at="2021-03-09T21:52:49.513742Z")
        given = labels.get(task["data"]["id"])
        done["annotations"] = [] if given is None else (
            given if isinstance(given, list) else [ls_annotation(given)])
        out.append(done)
    return out


def test_label_studio_round_trip(tmp_path: Path, pngs) -> None:
    folder, truth, emb = pngs
    camp = tmp_path / "camp"
    with Campaign.init(camp, folder, DIGITS, strategy="margin", model="mlp", epochs=2,
                       min_steps=20, audit=0.2) as c:
        c.teach({i.id: truth[i.id] for i in c.query(10).items})
        batch = c.query(10)
    out = cli("export", camp, "--format", "label-studio", "--out", tmp_path / "tasks.json")
    assert "10 Label Studio tasks" in out
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    config = ET.parse(tmp_path / "tasks.label-config.xml").getroot()
    image = config.find("Image")
    choices = config.find("Choices")
    assert image is not None and choices is not None and image.get("value") == "$image"
    assert [c.get("value") for c in choices.findall("Choice")] == DIGITS
    assert [t["data"]["id"] for t in tasks] == [i.id for i in batch.items]
    by_id = {i.id: i for i in batch.items}
    for task in tasks:  # the documented import format: data + predictions[].result[]
        item = by_id[task["data"]["id"]]
        assert task["data"]["image"] == "/data/local-files/?d=" + str(
            folder / item.source).lstrip("/")
        if item.audit:
            assert "predictions" not in task  # the guess stays hidden
            continue
        (pred,) = task["predictions"]
        (res,) = pred["result"]
        assert res["type"] == "choices" and res["value"] == {"choices": [item.guess]}
        assert res["from_name"] == choices.get("name") and res["to_name"] == image.get("name")
        assert pred["score"] == pytest.approx(item.confidence)
    ids = [t["data"]["id"] for t in tasks]
    labels: dict[str, Any] = {i: truth[i] for i in ids[:7]}
    labels[ids[7]] = [ls_annotation(truth[ids[7]]), ls_annotation("skip", cancelled=True)]
    # ids[8], ids[9]: not labeled in Label Studio yet
    export = tmp_path / "export.json"
    export.write_text(json.dumps(as_ls_export(tasks, labels)))
    out = cli("teach", camp, export)
    assert "8 new" in out and "2 rows without a label ignored" in out
    with Campaign.open(camp) as c:
        got = {i.id: i.label for i in c.batch().items}
    assert got == {i: (truth[i] if k < 8 else None) for k, i in enumerate(ids)}
    # --image-url-prefix
    cli("export", camp, "--format", "label-studio", "--out", tmp_path / "t2.json",
        "--image-url-prefix", "http://files.example/digits/")
    t2 = json.loads((tmp_path / "t2.json").read_text())
    assert [t["data"]["image"] for t in t2] == [
        "http://files.example/digits/" + by_id[i].source for i in ids[8:]]


def test_label_studio_export_is_validated_like_a_csv(tmp_path: Path, pngs) -> None:
    folder, truth, _ = pngs
    camp = tmp_path / "camp"
    with Campaign.init(camp, folder, DIGITS, strategy="margin", model="mlp", epochs=2,
                       min_steps=20) as c:
        ids = [i.id for i in c.query(6).items]
    tasks = [{"data": {"id": i, "image": "x"}} for i in ids]
    bad = as_ls_export(tasks, {ids[0]: "ten", ids[1]: [ls_annotation("1"), ls_annotation("2")],
                               ids[2]: ["3", "4"] and [ls_annotation(["3", "4"])],
                               ids[3]: truth[ids[3]]})
    bad[4]["data"] = {"image": "y"}  # no id
    bad.append({"data": {"id": "ghost.png"}, "annotations": [ls_annotation("1")]})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with Campaign.open(camp) as c:
        before = c.status().labeled  # the class folders' labels
        with pytest.raises(TeachValidationError) as err:
            c.teach(path)
        problems = "\n".join(err.value.problems)
        assert "unknown class 'ten'" in problems or "'ten'" in problems
        assert "annotations disagree (1, 2)" in problems
        assert "chose 2 classes" in problems
        assert "task 5 (Label Studio id 5): no data.id" in problems
        assert "unknown id 'ghost.png'" in problems
        assert c.status().labeled == before  # nothing was written
    out = cli("teach", camp, path, code=2)
    assert "nothing was written" in out
    (tmp_path / "notjson.json").write_text("{")
    assert "cannot read" in cli("teach", camp, tmp_path / "notjson.json", code=2)
    (tmp_path / "obj.json").write_text('{"a": 1}')
    assert "no data.id" in cli("teach", camp, tmp_path / "obj.json", code=2)


def test_label_studio_tasks_for_vectors_carry_the_features(tmp_path: Path) -> None:
    d = load_digits()
    path = tmp_path / "d.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(f"p{j}" for j in range(64))])
        w.writerows([f"r{i}", *map(int, d.data[i])] for i in range(100))
    with Campaign.init(tmp_path / "camp", path, DIGITS, epochs=2, min_steps=0) as c:
        with pytest.raises(CampaignError, match="query"):
            c.export_label_studio(tmp_path / "t.json")
        c.query(5)
        r = c.export_label_studio(tmp_path / "t.json")
    assert r.n_labels == 5
    tasks = json.loads((tmp_path / "t.json").read_text())
    for t in tasks:
        row = int(t["data"]["id"][1:])
        assert t["data"]["features"] == pytest.approx(d.data[row].tolist(), abs=1e-3)
        assert t["data"]["text"].startswith(t["data"]["id"] + ": ")
    assert 'value="$text"' in (tmp_path / "t.label-config.xml").read_text()


# -- scikit-learn models ------------------------------------------------------------------------
@pytest.fixture()
def digits400_csv(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The first 400 digits as a CSV with ids ``r0..r399``: (path, id -> class)."""
    d = load_digits()
    path = tmp_path / "d.csv"
    return path, write_digits_csv(path, d.data[:400], d.target, prefix="r")


def test_sklearn_model_by_name(tmp_path: Path, digits400_csv) -> None:
    data, truth = digits400_csv
    camp = tmp_path / "camp"
    out = cli("init", camp, "--data", data, "--classes", ",".join(DIGITS), "--model",
              "sklearn:LogisticRegression", "--strategy", "autoal")
    assert "model sklearn:LogisticRegression" in out and "strategy margin" in out
    assert "'autoal' needs a torch model" in out
    for _ in range(3):
        rows = list(csv.DictReader(cli("query", camp, "-n", 30, "--format", "csv"
                                       ).splitlines()))
        ids = [r["id"] for r in rows]
        cli("teach", camp, _labels_csv(tmp_path / "l.csv", {i: truth[i] for i in ids}))
    st = json.loads(cli("status", camp, "--json"))
    assert st["model"] == "sklearn:LogisticRegression"
    assert st["accuracy_estimate"]["value"] > 0.7  # logistic regression on digits
    cli("export", camp, "--out", tmp_path / "labels.csv", "--model", tmp_path / "m.pkl")
    payload = pickle.loads((tmp_path / "m.pkl").read_bytes())
    est = payload["estimator"]
    X = (load_digits().data[:400] - np.array(payload["mean"])) / np.array(payload["std"])
    pred = [payload["classes"][payload["class_ids"][k]] for k in est.predict(X)]
    assert np.mean([p == truth[f"r{i}"] for i, p in enumerate(pred)]) > 0.8


def _labels_csv(path: Path, labels: dict[str, str]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label"])
        w.writerows(labels.items())
    return path


def test_pickled_estimator_and_bad_models(tmp_path: Path, digits400_csv) -> None:
    data, truth = digits400_csv
    with (tmp_path / "rf.pkl").open("wb") as fh:
        pickle.dump(RandomForestClassifier(n_estimators=20), fh)
    with Campaign.init(tmp_path / "camp", data, DIGITS, model=str(tmp_path / "rf.pkl"),
                       strategy="entropy") as c:
        assert c.config.model == "pickle:" + str((tmp_path / "rf.pkl").resolve())
        for _ in range(2):
            batch = c.query(20)
            c.teach({i.id: truth[i.id] for i in batch.items})
        assert any(i.guess for i in c.query(20).items)
    for model, message in (("sklearn:NoSuchModel", "no scikit-learn classifier"),
                           ("sklearn:logisticregression", "did you mean LogisticRegression"),
                           ("sklearn:SVC", "no predict_proba"),
                           (str(tmp_path / "missing.pkl"), "no such file"),
                           ("gbm", "unknown model")):
        out = cli("init", tmp_path / "bad", "--data", data, "--classes", ",".join(DIGITS),
                  "--model", model, code=2)
        assert message in out, (model, out)
    with (tmp_path / "scaler.pkl").open("wb") as fh:
        from sklearn.preprocessing import StandardScaler

        pickle.dump(StandardScaler(), fh)
    out = cli("init", tmp_path / "bad", "--data", data, "--classes", ",".join(DIGITS),
              "--model", tmp_path / "scaler.pkl", code=2)
    assert "not a scikit-learn classifier" in out
    out = cli("init", tmp_path / "bad", "--data", data, "--classes", ",".join(DIGITS),
              "--model", "sklearn:LogisticRegression", "--strategy", "coreset", code=2)
    assert "coreset" in out and "choose another strategy" in out
    assert not (tmp_path / "bad" / "campaign.db").exists()
