"""The labeling page's server: every API route, bad inputs, path traversal, token, CLI."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from autoal.campaign import Campaign
from autoal.campaign.store import DB_NAME, Store

from support import CLASSES, csv_campaign, image_campaign, npz_image_campaign

pytest.importorskip("flask")

from autoal.campaign.web import create_app, is_loopback, make_server, serve  # noqa: E402


def _campaign_with_batch(root: Path) -> tuple[Path, Path, dict[str, str]]:
    camp, folder, truth = image_campaign(root)
    with Campaign.open(camp) as c:
        c.query(6)
    return camp, folder, truth


@pytest.fixture(scope="module")
def _template(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    return _campaign_with_batch(tmp_path_factory.mktemp("web-template"))


@pytest.fixture()
def camp(tmp_path: Path, _template) -> tuple[Path, Path, dict[str, str]]:
    """A fresh copy of an image campaign with a first batch of 6 (its data are shared: don't
    change them; use :func:`_campaign_with_batch` for that)."""
    directory, folder, truth = _template
    copy = tmp_path / "camp"
    shutil.copytree(directory, copy)
    return copy, folder, truth


def db_state(camp: Path) -> tuple[Any, ...]:
    """What a write would change: labels version, teaches, labels, rounds."""
    conn = sqlite3.connect(f"file:{camp / DB_NAME}?mode=ro", uri=True)
    try:
        return (
            conn.execute("SELECT value FROM autoal_meta WHERE key='labels_version'").fetchone(),
            conn.execute("SELECT COUNT(*) FROM teaches").fetchone(),
            conn.execute("SELECT * FROM labels ORDER BY item_id").fetchall(),
            conn.execute("SELECT COUNT(*) FROM rounds").fetchone(),
        )
    finally:
        conn.close()


def labels_of(camp: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{camp / DB_NAME}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT item_id, label FROM labels").fetchall())
    finally:
        conn.close()


def wait_query(app: Any, client: Any, timeout: float = 60.0) -> dict[str, Any]:
    app.extensions["autoal_query_runner"].join(timeout)
    job = client.get("/api/query").get_json()["job"]
    assert job["state"] != "running"
    return job


# -- page, status, batch ---------------------------------------------------------------------
def test_page_and_static_assets(camp) -> None:
    client = create_app(camp[0]).test_client()
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'src="static/app.js"' in html and "__TOKEN_QS__" not in html
    assert "Content-Security-Policy" in page.headers
    for asset, mime in (("app.js", "text/javascript"), ("app.css", "text/css")):
        r = client.get(f"/static/{asset}")
        assert r.status_code == 200 and r.mimetype == mime


def test_status(camp) -> None:
    directory, _, _ = camp
    st = create_app(directory).test_client().get("/api/status").get_json()
    assert st["items"] == 60 and st["pending"] == 6 and st["labeled"] == 0
    assert st["per_class"] == dict.fromkeys(CLASSES, 0)
    assert st["classes"] == list(CLASSES) and st["data_kind"] == "images"
    assert st["rounds"] == 1 and st["last_batch_size"] == 6
    assert st["weights_history"] == [] and st["query"] is None


def test_batch_images(camp) -> None:
    directory, folder, truth = camp
    client = create_app(directory).test_client()
    batch = client.get("/api/batch").get_json()
    assert batch["round"] == 1 and "kmeans" in batch["method"] and batch["display"] == "image"
    assert len(batch["items"]) == 6
    for item in batch["items"]:
        assert item["id"] in truth and item["label"] is None and item["guess"] is None
        assert item["source"] == item["id"] and (folder / item["source"]).is_file()
        r = client.get(item["image_url"] if item["image_url"].startswith("/")
                       else "/" + item["image_url"])
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert r.data == (folder / item["id"]).read_bytes()


def test_the_server_uses_only_the_public_campaign_api() -> None:
    """The web package reads the campaign through ``Campaign`` (batch, weights_history,
    item_source), never the database's tables: the schema can change without breaking it."""
    import ast

    import autoal.campaign.web as web

    files = sorted(Path(web.__file__).parent.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "routes.py", "app.py", "media.py"}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                   and isinstance(n.value, str)]
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        sql = [t for t in strings if any(w in t for w in ("SELECT ", "INSERT ", "UPDATE ",
                                                           "DELETE ", " JOIN ", "round_items"))]
        assert not sql, (path.name, sql)
        assert "Store" not in names and not {"conn", "execute", "_store"} & attrs, path.name


def test_batch_before_any_query(tmp_path: Path) -> None:
    directory, _, _ = image_campaign(tmp_path)
    batch = create_app(directory).test_client().get("/api/batch").get_json()
    assert batch["round"] is None and batch["items"] == []


def test_batch_vectors_show_feature_values(tmp_path: Path) -> None:
    directory, path, _ = csv_campaign(tmp_path)
    with Campaign.open(directory) as c:
        c.query(3)
    client = create_app(directory).test_client()
    batch = client.get("/api/batch").get_json()
    assert batch["display"] == "features"
    rows = {line.split(",")[0]: line.split(",")[1:] for line in
            path.read_text().splitlines()[1:]}
    for item in batch["items"]:
        f = item["features"]
        assert f["names"][:2] == ["p0", "p1"] and f["more"] == 64 - len(f["names"])
        raw = [float(v) for v in rows[item["id"]][: len(f["values"])]]
        assert f["values"] == pytest.approx(raw, abs=1e-3)
        assert "image_url" not in item
        r = client.get("/api/image", query_string={"id": item["id"]})
        assert r.status_code == 404 and "feature vectors" in r.get_json()["error"]


@pytest.mark.parametrize("colour", [False, True])
def test_npz_images_render_png(tmp_path: Path, colour: bool) -> None:
    from PIL import Image

    directory, _ = npz_image_campaign(tmp_path, colour=colour)
    with Campaign.open(directory) as c:
        c.query(2)
    client = create_app(directory).test_client()
    batch = client.get("/api/batch").get_json()
    assert batch["display"] == "image"
    r = client.get("/" + batch["items"][0]["image_url"])
    assert r.status_code == 200 and r.mimetype == "image/png"
    import io

    img = Image.open(io.BytesIO(r.data))
    assert img.size == (8, 8) and img.mode == ("RGB" if colour else "L")


# -- label, undo -----------------------------------------------------------------------------
def test_label_is_saved_at_once_and_relabel_needs_consent(camp) -> None:
    directory, _, truth = camp
    client = create_app(directory).test_client()
    items = client.get("/api/batch").get_json()["items"]
    a, b = items[0]["id"], items[1]["id"]
    r = client.post("/api/label", json={"id": a, "label": truth[a]})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["result"]["added"] == 1 and body["status"]["labeled"] == 1
    assert body["status"]["pending"] == 5
    assert labels_of(directory) == {a: truth[a]}  # committed before the answer
    r = client.post("/api/label", json={"id": b, "label": "skip"})
    assert r.status_code == 200 and r.get_json()["status"]["skipped"] == 1
    # a different class for a labeled item: 409 without relabel, nothing written
    other = next(c for c in CLASSES if c != truth[a])
    before = db_state(directory)
    r = client.post("/api/label", json={"id": a, "label": other})
    assert r.status_code == 409 and "relabel" in r.get_json()["error"]
    assert db_state(directory) == before
    r = client.post("/api/label", json={"id": a, "label": other, "relabel": True})
    assert r.status_code == 200 and r.get_json()["result"]["relabeled"] == 1
    batch = client.get("/api/batch").get_json()
    assert {i["id"]: i["label"] for i in batch["items"]}[a] == other
    # undo reverts the last label, like the CLI's undo
    r = client.post("/api/undo", json={})
    assert r.status_code == 200 and r.get_json()["result"]["reverted"] == 1
    assert labels_of(directory) == {a: truth[a], b: "skip"}
    with Campaign.open(directory) as c:  # the CLI's view agrees
        st = c.status()
    assert st.labeled == 1 and st.skipped == 1 and st.pending == 4


def test_undo_with_nothing_to_undo(camp) -> None:
    r = create_app(camp[0]).test_client().post("/api/undo", json={})
    assert r.status_code == 400 and "nothing to undo" in r.get_json()["error"]


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": b"\xff\xfe", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": '["a", "b"]', "content_type": "application/json"}, 400, "JSON object"),
        ({"data": "id=img000.png&label=zero",
          "content_type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ({"data": '{"id": "img000.png", "label": "zero"}', "content_type": "text/plain"},
         415, "application/json"),
        ({"json": {"label": "zero"}}, 400, "'id'"),
        ({"json": {"id": 3, "label": "zero"}}, 400, "'id'"),
        ({"json": {"id": "img000.png"}}, 400, "'label'"),
        ({"json": {"id": "img000.png", "label": ["zero"]}}, 400, "'label'"),
        ({"json": {"id": "img000.png", "label": "zero", "relabel": "yes"}}, 400, "relabel"),
        ({"json": {"id": "nope.png", "label": "zero"}}, 400, "unknown id 'nope.png'"),
        ({"json": {"id": "../images/img000.png", "label": "zero"}}, 400, "unknown id"),
        ({"json": {"id": "img000.png", "label": "seven"}}, 400, "unknown class 'seven'"),
    ],
)
def test_label_bad_input_writes_nothing(camp, kwargs, status, words) -> None:
    directory = camp[0]
    client = create_app(directory).test_client()
    before = db_state(directory)
    r = client.post("/api/label", **kwargs)
    assert r.status_code == status, r.get_data(as_text=True)
    assert words in r.get_json()["error"]
    assert db_state(directory) == before


def test_request_body_size_is_limited(camp) -> None:
    r = create_app(camp[0]).test_client().post(
        "/api/label", data='{"id": "' + "x" * 100_000 + '"}', content_type="application/json")
    assert r.status_code == 413 and "error" in r.get_json()


def test_unknown_route_and_method(camp) -> None:
    client = create_app(camp[0]).test_client()
    assert client.get("/api/nope").status_code == 404
    assert "error" in client.get("/api/nope").get_json()
    assert client.get("/api/label").status_code == 405


def test_busy_campaign_answers_503_and_writes_nothing(tmp_path: Path) -> None:
    directory, _, truth = image_campaign(tmp_path)
    client = create_app(directory, busy_timeout=0.2).test_client()
    before = db_state(directory)
    holder = Store.open(directory)
    try:
        with holder.write():  # another command is writing
            r = client.post("/api/label", json={"id": "img000.png", "label": truth["img000.png"]})
    finally:
        holder.close()
    assert r.status_code == 503 and "busy" in r.get_json()["error"]
    assert r.headers["Retry-After"] == "1"
    assert db_state(directory) == before


def test_changed_data_is_reported(tmp_path: Path) -> None:
    directory, folder, _ = _campaign_with_batch(tmp_path)
    (folder / "img001.png").write_bytes((folder / "img002.png").read_bytes())
    client = create_app(directory).test_client()
    before = db_state(directory)
    r = client.post("/api/label", json={"id": "img000.png", "label": "zero"})
    assert r.status_code == 409 and "changed" in r.get_json()["error"]
    assert db_state(directory) == before
    ok = create_app(directory, accept_changed_data=True).test_client()
    assert ok.post("/api/label", json={"id": "img000.png", "label": "zero"}).status_code == 200


# -- images and paths ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/api/image?id=../camp/campaign.db",
        "/api/image?id=..%2Fcamp%2Fcampaign.db",
        "/api/image?id=%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/image?id=/etc/passwd",
        "/api/image?id=%2Fetc%2Fpasswd",
        "/api/image?id=images/../../camp/campaign.db",
        "/api/image?id=img000.png/../../camp/campaign.db",
        "/api/image/../../camp/campaign.db",
        "/api/image/..%2F..%2Fcamp%2Fcampaign.db",
        "/static/../campaign.db",
        "/static/..%2fweb.py",
        "/static/%2e%2e/web.py",
        "/static/%2e%2e%2fweb.py",
        "/static//etc/passwd",
        "/static/..%5cweb.py",
        "/campaign.db",
        "/images/img000.png",
    ],
)
def test_paths_outside_are_refused(camp, url: str) -> None:
    r = create_app(camp[0]).test_client().get(url)
    assert r.status_code == 404, (url, r.status_code)
    assert b"SQLite" not in r.data and b"root:" not in r.data and b"import" not in r.data


def test_image_needs_an_id(camp) -> None:
    r = create_app(camp[0]).test_client().get("/api/image")
    assert r.status_code == 400 and "?id=" in r.get_json()["error"]


def test_symlinks_out_of_the_data_folder_are_refused(tmp_path: Path) -> None:
    from support import write_png_folder

    folder = tmp_path / "images"
    write_png_folder(folder, 30)
    outside = tmp_path / "secret"
    write_png_folder(outside, 1)
    (folder / "inside.png").symlink_to(folder / "img001.png")  # a link that stays inside
    directory = tmp_path / "camp"
    Campaign.init(directory, folder, CLASSES, strategy="margin", model="mlp").close()
    client = create_app(directory).test_client()
    # (init refuses links to outside the folder: tests/integration/test_campaign_newuser.py)
    r = client.get("/api/image?id=inside.png")
    assert r.status_code == 200 and r.data == (folder / "img001.png").read_bytes()
    # an item's file swapped for a link to outside after init
    (folder / "img002.png").unlink()
    (folder / "img002.png").symlink_to(outside / "img000.png")
    assert client.get("/api/image?id=img002.png").status_code == 404
    # a file gone from the folder
    (folder / "img003.png").unlink()
    assert client.get("/api/image?id=img003.png").status_code == 404


# -- query -----------------------------------------------------------------------------------
def test_query_runs_in_background_and_shows_a_new_batch(camp) -> None:
    directory, _, truth = camp
    app = create_app(directory)
    client = app.test_client()
    assert client.get("/api/query").get_json() == {"job": None}
    first = client.get("/api/batch").get_json()
    for item in first["items"]:
        assert client.post("/api/label", json={"id": item["id"],
                                               "label": truth[item["id"]]}).status_code == 200
    r = client.post("/api/query", json={"n": 5})
    assert r.status_code == 202 and r.get_json()["job"]["state"] == "running"
    job = wait_query(app, client)
    assert job["state"] == "done" and job["round"] == 2 and job["method"] == "margin"
    batch = client.get("/api/batch").get_json()
    assert batch["round"] == 2 and len(batch["items"]) == 5
    assert not {i["id"] for i in batch["items"]} & {i["id"] for i in first["items"]}
    assert all(i["guess"] in CLASSES and 0 < i["confidence"] <= 1 for i in batch["items"])
    st = client.get("/api/status").get_json()
    assert st["rounds"] == 2 and st["pending"] == 5 and st["query"]["state"] == "done"
    # no body: the last batch size, a fresh batch
    r = client.post("/api/query", data="", content_type="application/json")
    assert r.status_code == 202 and r.get_json()["job"]["n"] == 5
    assert wait_query(app, client)["round"] == 3


@pytest.mark.parametrize(
    ("payload", "words"),
    [({"n": 0}, "'n'"), ({"n": "5"}, "'n'"), ({"n": 10_000}, "'n'"), ({"n": True}, "'n'"),
     ({"n": 2.5}, "'n'"), ({"n": 3, "refresh": "no"}, "refresh")],
)
def test_query_bad_input(camp, payload, words) -> None:
    directory = camp[0]
    client = create_app(directory).test_client()
    before = db_state(directory)
    r = client.post("/api/query", json=payload)
    assert r.status_code == 400 and words in r.get_json()["error"]
    assert client.get("/api/query").get_json()["job"] is None
    assert db_state(directory) == before


def test_query_error_is_reported(tmp_path: Path) -> None:
    directory, _, truth = image_campaign(tmp_path, n=12)
    with Campaign.open(directory) as c:
        c.teach(truth)
    app = create_app(directory)
    client = app.test_client()
    assert client.post("/api/query", json={"n": 2}).status_code == 202
    job = wait_query(app, client)
    assert job["state"] == "error" and "nothing left" in job["message"]


def test_no_write_lock_while_training(camp, monkeypatch) -> None:
    """Labels land while a query trains; the query then recomputes from the new labels."""
    import autoal.campaign.query as query_module

    directory, _, truth = camp
    reached, release = threading.Event(), threading.Event()
    calls = []

    def pause(name: str) -> None:
        if name == "query:trained":
            calls.append(name)
            if len(calls) == 1:
                reached.set()
                assert release.wait(30)

    monkeypatch.setattr(query_module, "pause_point", pause)
    app = create_app(directory, busy_timeout=0.5)
    client = app.test_client()
    items = client.get("/api/batch").get_json()["items"]
    for item in items[:4]:
        client.post("/api/label", json={"id": item["id"], "label": truth[item["id"]]})
    assert client.post("/api/query", json={"n": 3}).status_code == 202
    assert reached.wait(60)
    try:
        # a second query is refused while the first runs
        r = client.post("/api/query", json={"n": 3})
        assert r.status_code == 409 and r.get_json()["job"]["state"] == "running"
        t0 = time.monotonic()
        r = client.post("/api/label", json={"id": items[4]["id"], "label": "skip"})
        assert r.status_code == 200 and time.monotonic() - t0 < 0.5 + 1.0
        assert client.get("/api/query").get_json()["job"]["state"] == "running"
    finally:
        release.set()
    job = wait_query(app, client)
    assert job["state"] == "done" and len(calls) == 2  # trained again on the newer labels
    with Campaign.open(directory) as c:
        rounds = c.status().last_round
    assert rounds is not None and rounds["n_labeled"] == 4


def test_autoal_weights_per_round(tmp_path: Path) -> None:
    pytest.importorskip("autoal.search")
    directory, _, truth = image_campaign(tmp_path, strategy="autoal", n=45)
    with Campaign.open(directory) as c:
        c.teach({k: truth[k] for k in sorted(truth)[:9]})
        c.query(4)
    st = create_app(directory).test_client().get("/api/status").get_json()
    assert st["strategy"] == "autoal"
    assert [h["round"] for h in st["weights_history"]] == [1]
    weights = st["weights_history"][0]["weights"]
    assert "margin" in weights and sum(weights.values()) == pytest.approx(1.0, abs=1e-3)


# -- token and host --------------------------------------------------------------------------
def test_token_is_required_on_every_request(camp) -> None:
    directory = camp[0]
    app = create_app(directory, token="s3cret/+")
    client = app.test_client()
    before = db_state(directory)
    for method, url in (("get", "/"), ("get", "/api/status"), ("get", "/api/batch"),
                        ("get", "/static/app.js"), ("get", "/api/image?id=img000.png"),
                        ("get", "/api/query"), ("post", "/api/label"), ("post", "/api/undo"),
                        ("post", "/api/query")):
        kwargs = {"json": {"id": "img000.png", "label": "zero"}} if method == "post" else {}
        r = getattr(client, method)(url, **kwargs)
        assert r.status_code == 401, url
        assert "token" in r.get_json()["error"] and "WWW-Authenticate" in r.headers
        r = getattr(client, method)(url, headers={"Authorization": "Bearer wrong"}, **kwargs)
        assert r.status_code == 401, url
        sep = "&" if "?" in url else "?"
        assert getattr(client, method)(url + sep + "token=s3cret", **kwargs).status_code == 401
    assert db_state(directory) == before
    ok = {"Authorization": "Bearer s3cret/+"}
    assert client.get("/api/status", headers=ok).status_code == 200
    assert client.get("/api/status?token=s3cret%2F%2B").status_code == 200
    assert client.get("/static/app.js?token=s3cret%2F%2B").status_code == 200
    page = client.get("/?token=s3cret%2F%2B").get_data(as_text=True)
    assert 'src="static/app.js?token=s3cret%2F%2B"' in page
    # (this client now holds the page's CSRF cookie; a script without cookies needs no token)
    r = app.test_client().post("/api/label", json={"id": "img000.png", "label": "skip"},
                               headers=ok)
    assert r.status_code == 200


def test_host_header_must_be_loopback_when_bound_to_loopback(camp) -> None:
    client = create_app(camp[0], allowed_hosts={"localhost"}).test_client()
    for host in ("localhost", "localhost:8765", "127.0.0.1:8765", "[::1]:8765", "127.0.0.2"):
        assert client.get("/api/status", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example"):
        r = client.get("/api/status", headers={"Host": host})
        assert r.status_code == 403 and "not allowed" in r.get_json()["error"], host


def test_is_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.2", "::", "example.com", ""]))


# -- the command -----------------------------------------------------------------------------
def test_serve_refuses_other_hosts_without_token(camp) -> None:
    result = CliRunner().invoke(serve, [str(camp[0]), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--token" in result.output
    with pytest.raises(ValueError, match="--token"):
        make_server(camp[0], "0.0.0.0", 0)


def test_serve_reports_a_missing_campaign(tmp_path: Path) -> None:
    result = CliRunner().invoke(serve, [str(tmp_path / "nothing"), "--port", "0"])
    assert result.exit_code == 2 and "no campaign" in result.output


def test_serve_is_a_campaign_subcommand() -> None:
    from autoal.campaign.cli import campaign
    from autoal.cli import main

    added = "serve" not in campaign.commands
    if added:  # until autoal.campaign.cli registers it
        campaign.add_command(serve)
    try:
        result = CliRunner().invoke(main, ["campaign", "serve", "--help"])
        assert result.exit_code == 0 and "--token" in result.output and "--port" in result.output
    finally:
        if added:
            campaign.commands.pop("serve")


def _start_server(directory: Path, *args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from autoal.campaign.web import serve; serve()", str(directory),
         "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    assert "serving campaign" in line, (line, proc.stderr.read() if proc.poll() else "")
    return proc, line.rsplit(" at ", 1)[1].strip()


def _post(url: str, payload: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.load(resp)


def test_killing_the_server_loses_nothing_and_the_cli_works_alongside(camp) -> None:
    directory, _, truth = camp
    proc, url = _start_server(directory)
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/batch", timeout=20) as resp:
            items = json.load(resp)["items"]
        ids = [i["id"] for i in items]
        # the page and the CLI label at the same time, from threads and processes
        errors: list[BaseException] = []

        def page_labels() -> None:
            try:
                for item_id in ids[:3]:
                    _post(url + "api/label", {"id": item_id, "label": truth[item_id]})
            except BaseException as err:  # noqa: BLE001
                errors.append(err)

        thread = threading.Thread(target=page_labels)
        thread.start()
        with Campaign.open(directory, busy_timeout=10) as c:
            for item_id in ids[3:]:
                c.teach({item_id: truth[item_id]})
        thread.join(60)
        assert not errors, errors
        with urllib.request.urlopen(url + "api/status", timeout=20) as resp:
            assert json.load(resp)["labeled"] == 6
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert labels_of(directory) == {i: truth[i] for i in ids}
    conn = sqlite3.connect(directory / DB_NAME)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_served_with_a_token_on_loopback(camp) -> None:
    directory = camp[0]
    proc, url = _start_server(directory, "--token", "t0k")
    try:
        assert url.endswith("/?token=t0k")
        base = url.split("?")[0]
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "api/status", timeout=20)
        assert err.value.code == 401
        err.value.close()
        with urllib.request.urlopen(base + "api/status?token=t0k", timeout=20) as resp:
            assert json.load(resp)["items"] == 60
        out = _post(base + "api/label", {"id": "img000.png", "label": "skip"}, token="t0k")
        assert out["status"]["skipped"] == 1
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert labels_of(directory) == {"img000.png": "skip"}

