"""What a new user tripped on (issue 18, section 4): each fixed, each checked here."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import autoal.campaign.query as query_module
from autoal.campaign import Campaign, CampaignExistsError, DataError
from autoal.campaign.store import DB_NAME
from autoal.campaign.web.keys import class_keys
from autoal.cli import main

from support import CLASSES, REPO_ROOT, csv_campaign, image_campaign, write_png_folder

ROOT = REPO_ROOT


def test_make_demo_readme_and_walkthrough_say_where_autoal_is() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "source $(VENV)/bin/activate" in recipe.splitlines()[-1] and "@echo" in recipe
    for doc in ("README.md", "docs/campaign.md"):
        assert "source .venv/bin/activate" in (ROOT / doc).read_text(), doc


def test_undo_then_query_returns_the_undone_batch_without_training(tmp_path: Path,
                                                                   monkeypatch) -> None:
    directory, _, truth = csv_campaign(tmp_path, n=30)
    with Campaign.open(directory) as c:
        first = c.query(6)
        c.teach({i.id: truth[i.id] for i in first.items[:3]})
        c.undo()
        monkeypatch.setattr(query_module, "select_batch", lambda *a, **k: pytest.fail("trained"))
        again = c.query(6)
        assert again.reused and again.round == first.round
        assert [i.id for i in again.items] == [i.id for i in first.items]
        assert [i.id for i in c.batch().pending] == [i.id for i in first.items]
        # other labels than the batch's: a new round is trained
        c.teach({first.items[0].id: truth[first.items[0].id]})
        monkeypatch.undo()
        assert not c.query(6).reused


def test_class_keys_are_the_names_when_single_characters() -> None:
    digits = [str(k) for k in range(10)]
    assert class_keys(digits) == ({d: d for d in digits}, True)
    assert class_keys(["cat", "dog"]) == ({"cat": "1", "dog": "2"}, False)
    assert class_keys(["s", "x"]) == ({"s": "1", "x": "2"}, False)  # s is skip
    many = [f"c{k}" for k in range(12)]
    keys, own = class_keys(many)
    assert not own and list(keys.values()) == [*"123456789", "0"] and "c10" not in keys


def test_batch_api_sends_the_keys(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    from autoal.campaign.web import create_app

    directory, _, _ = csv_campaign(tmp_path, n=12)
    batch = create_app(directory).test_client().get("/api/batch").get_json()
    assert batch["keys"] == {"zero": "1", "one": "2", "two": "3"} and not batch["keys_are_names"]


def test_accept_the_guesses_of_one_item_or_the_batch(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    from autoal.campaign.web import create_app

    directory, _, truth = csv_campaign(tmp_path, n=30)
    with Campaign.open(directory) as c:
        c.teach({i.id: truth[i.id] for i in c.query(9).items})
        guessed = {i.id: i.guess for i in c.query(5).items}
    assert all(guessed.values())
    client = create_app(directory).test_client()
    one = next(iter(guessed))
    r = client.post("/api/accept", json={"ids": [one]})
    assert r.status_code == 200 and r.get_json()["accepted"] == {one: guessed[one]}
    r = client.post("/api/accept", json={"ids": [one]})
    assert r.status_code == 409 and "not pending" in r.get_json()["error"]
    r = client.post("/api/accept", json={})
    assert r.status_code == 200
    assert r.get_json()["accepted"] == {k: v for k, v in guessed.items() if k != one}
    with Campaign.open(directory) as c:
        assert {i.id: i.label for i in c.batch().items} == guessed
    assert client.post("/api/accept", json={"ids": "all"}).status_code == 400


def test_page_shows_the_weights_chart_above_the_batch() -> None:
    static = ROOT / "src/autoal/campaign/static"
    page = (static / "index.html").read_text()
    assert page.index('id="weights"') < page.index('id="batch"') and 'id="key-map"' in page
    assert 'id="accept-all"' in page
    assert "height = 260" in (static / "app.js").read_text()


def test_init_refuses_symlinks_out_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    write_png_folder(folder, n=6)
    outside = tmp_path / "secret.png"
    (folder / "img000.png").rename(outside)
    os.symlink(outside, folder / "img000.png")
    os.symlink(folder / "img001.png", folder / "inside-link.png")  # inside: fine
    with pytest.raises(DataError, match="symbolic links to files outside") as err:
        Campaign.init(tmp_path / "camp", folder, CLASSES, model="mlp")
    assert "img000.png" in str(err.value) and "inside-link" not in str(err.value)
    assert not (tmp_path / "camp" / DB_NAME).exists()


def test_init_refuses_an_existing_campaign_before_reading_the_data(tmp_path: Path,
                                                                   monkeypatch) -> None:
    import autoal.campaign.start as start

    directory, path, _ = csv_campaign(tmp_path, n=12)
    monkeypatch.setattr(start, "load_items", lambda *a, **k: pytest.fail("read the data"))
    monkeypatch.setattr(start, "resolve_strategy", lambda *a, **k: pytest.fail("strategy"))
    with pytest.raises(CampaignExistsError, match="already holds a campaign"):
        Campaign.init(directory, path, CLASSES)


def test_missing_data_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["campaign", "init", str(tmp_path / "c"), "--data",
                                       str(tmp_path / "nothere.csv"), "--classes", "a,b"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: --data {tmp_path / 'nothere.csv'}: no such file or folder"]


def test_ctrl_c_says_nothing_was_written_and_exits_130(tmp_path: Path, monkeypatch) -> None:
    directory, _, truth = csv_campaign(tmp_path, n=12)
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nr0,zero\n")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(Campaign, "teach", interrupted)
    result = CliRunner().invoke(main, ["campaign", "teach", str(directory), str(labels)])
    assert result.exit_code == 130
    assert "interrupted; nothing was written" in result.output


def test_empty_label_cell_and_option_names_in_messages(tmp_path: Path) -> None:
    from autoal.data import DatasetError, load_dataset

    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n" + "".join(f"{k},{k % 3},{k % 2}\n" for k in range(9))
                    + "9,1,\n")
    with pytest.raises(DatasetError, match="empty cell in the label column 'label'"):
        load_dataset(path)
    with pytest.raises(DatasetError, match="--label-column"):
        load_dataset(path, label_column="y")


def test_source_is_the_same_in_query_batch_and_export(tmp_path: Path) -> None:
    directory, folder, truth = image_campaign(tmp_path, n=12)
    with Campaign.open(directory) as c:
        q = {i.id: i.source for i in c.query(4).items}
        assert {i.id: i.source for i in c.batch().items} == q
        c.teach({k: truth[k] for k in q})
        c.export(tmp_path / "out.csv")
    with (tmp_path / "out.csv").open() as fh:
        exported = {r["id"]: r["source"] for r in csv.DictReader(fh)}
    assert {k: exported[k] for k in q} == q
    assert all(not Path(s).is_absolute() and (folder / s).is_file() for s in q.values())
