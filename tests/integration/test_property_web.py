"""Property tests: random requests to the labeling server's JSON API against a campaign.

Random bodies POSTed to ``/api/label``, ``/api/undo``, ``/api/accept`` and ``/api/query``
(each route's keys with values of the right type, the wrong type or none; any JSON value;
random bytes; deep nesting; huge strings; empty bodies), with random content types, from a
script, a browser with and without the page's CSRF token, or another site; through Flask's
test client. Each example starts from a fresh copy of the module's campaign
(tests/support_teach.py) and keeps a model of its labels, of what each undo restores and of
the current batch. After every request: the answer's status is the one the documented API
gives (a refusal: 4xx with an ``error`` message, never a 500); the whole request is committed
or none of it (the labels table equals the model's); ``PRAGMA integrity_check`` is ok; the
label counts equal what was accepted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from support_teach import (
    CLASSES,
    ID_CELLS,
    IDS,
    LABEL_CELLS,
    MAX_BODY,
    SKIP,
    TEXT,
    Model,
    build_template,
    check_db,
    fresh,
    judge,
    read_batch,
)

pytest.importorskip("flask")

from autoal.campaign.web import create_app  # noqa: E402
from autoal.campaign.web.security import CSRF_HEADER  # noqa: E402


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Model]:
    return build_template(tmp_path_factory.mktemp("teach-props"))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(TEXT, kids, max_size=3),
    max_leaves=10)
ROUTES = ["label", "label", "label", "accept", "undo", "query"]


def route_bodies(route: str) -> st.SearchStrategy[Any]:
    """Bodies for one route: its keys with values of the right type, the wrong type, or none."""
    def some(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(values, values, values, JSON_VALUES)

    keys: dict[str, st.SearchStrategy[Any]] = {}
    if route == "label":
        keys = {"id": some(st.sampled_from(IDS) | ID_CELLS | st.just("\ud800")),
                "label": some(LABEL_CELLS | st.sampled_from(CLASSES)),
                "relabel": some(st.booleans())}
    elif route == "accept":
        keys = {"ids": some(st.lists(st.sampled_from(IDS) | TEXT, max_size=8))}
    elif route == "query":
        keys = {"n": some(st.integers(-2, 8) | st.sampled_from([499, 500, 501, 10**20])),
                "refresh": some(st.booleans())}
    return st.fixed_dictionaries({}, optional={**keys, "extra": JSON_VALUES})


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, bytes, str | None, str]:
    """(route, body bytes, content type, who sends it)."""
    route = draw(st.sampled_from(ROUTES))
    kind = draw(st.sampled_from(["route"] * 6 + ["value", "raw", "deep", "huge", "empty"]))
    if kind == "route":
        body = draw(route_bodies(route))
        try:
            raw = json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: only as an escape
            raw = json.dumps(body).encode("utf-8")
    elif kind == "value":
        raw = json.dumps(draw(JSON_VALUES)).encode("utf-8")
    elif kind == "raw":
        raw = draw(st.binary(max_size=40))
    elif kind == "deep":
        depth = draw(st.sampled_from([10, 100, 5_000, 30_000]))
        opener = draw(st.sampled_from(["[", '{"id":']))
        raw = (opener * depth + "1" + ("]" if opener == "[" else "}") * depth).encode()
    elif kind == "huge":
        size = draw(st.sampled_from([1_000, MAX_BODY - 100, MAX_BODY + 1, 200_000]))
        raw = json.dumps({"id": IDS[0], "label": "z" * size}).encode()
    else:
        raw = draw(st.sampled_from([b"", b" ", b"\n"]))
    ctype = draw(st.sampled_from(["application/json"] * 6 + [
        "application/json; charset=utf-8", "application/vnd.x+json", "text/plain", None]))
    who = draw(st.sampled_from(["script"] * 5 + ["browser", "browser without token",
                                                  "foreign site"]))
    event(f"{route}: {kind}")
    return route, raw, ctype, who


def expect(route: str, raw: bytes, ctype: str | None, who: str,
           model: Model) -> tuple[int, Any]:
    """The status the documented API must answer, and what it changes (route-specific)."""
    if who in ("browser without token", "foreign site"):
        return 403, None
    mime = (ctype or "").split(";")[0].strip()
    if mime != "application/json" and not (mime.startswith("application/")
                                           and mime.endswith("+json")):
        return 415, None
    if len(raw) > MAX_BODY:
        return 413, None
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        return 400, None
    if not isinstance(data, dict):
        return 400, None
    if route == "label":
        item_id, label, relabel = data.get("id"), data.get("label"), data.get("relabel", False)
        if not (isinstance(item_id, str) and item_id and isinstance(label, str) and label
                and isinstance(relabel, bool)):
            return 400, None
        rows = [(item_id.strip(), label.strip())] if label.strip() else []
        new, needs_relabel = judge(rows, model.labels, relabel)
        return (200, new) if new is not None else (409 if needs_relabel else 400, None)
    if route == "accept":
        ids = data.get("ids")
        if ids is not None and not (isinstance(ids, list)
                                    and all(isinstance(i, str) and i for i in ids)):
            return 400, None
        pending = {i: g for i, g in model.batch.items() if i not in model.labels}
        wanted = list(pending) if ids is None else ids
        if any(i not in pending for i in wanted):
            return 409, None
        guesses = {i: g for i in wanted if (g := pending[i])}
        return (200, guesses) if guesses else (409, None)
    if route == "undo":
        return (200, None) if model.undo else (400, None)
    n, refresh = data.get("n"), data.get("refresh", True)
    n = 6 if n is None else n  # null or left out: the last batch's size
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 500:
        return 400, None
    return (202, None) if isinstance(refresh, bool) else (400, None)


@given(calls=st.lists(requests(), min_size=1, max_size=4))
def test_web_requests_commit_all_or_nothing(template, calls) -> None:
    with fresh(template) as (directory, model):
        app = create_app(directory)
        script, browser = app.test_client(), app.test_client()
        page = browser.get("/").get_data(as_text=True)
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        headers_of = {"script": {}, "foreign site": {"Origin": "http://evil.example"},
                      "browser": {"Origin": "http://localhost", CSRF_HEADER: token},
                      "browser without token": {"Origin": "http://localhost"}}
        for route, raw, ctype, who in calls:
            status, change = expect(route, raw, ctype, who, model)
            client = browser if who.startswith("browser") else script
            kwargs = {} if ctype is None else {"content_type": ctype}
            r = client.post(f"/api/{route}", data=raw, headers=headers_of[who], **kwargs)
            body = r.get_json()
            assert r.status_code == status, (route, raw[:200], ctype, who, body)
            if status >= 400:
                assert isinstance(body["error"], str) and body["error"].strip()
            elif route in ("label", "accept"):
                model.apply(change)
                n_labeled = sum(1 for v in model.labels.values() if v != SKIP)
                assert body["status"]["labeled"] == n_labeled
            elif route == "undo":
                model.labels = model.undo.pop()
                model.version += 1
            else:
                app.extensions["autoal_query_runner"].join(120)
                job = script.get("/api/query").get_json()["job"]
                assert job["state"] == "done", job
                model.batch = read_batch(directory)
            event(f"answered {r.status_code}")
            check_db(directory, model)


# -- the failure this property found, kept as a regular test ------------------------------------
def test_deeply_nested_json_body_is_a_400_not_a_500(template) -> None:
    """Was a RecursionError, answered 500, for any POST body; now a 400 naming the problem."""
    with fresh(template) as (directory, model):
        client = create_app(directory).test_client()
        for route in ("label", "undo", "accept", "query"):
            r = client.post(f"/api/{route}", data="[" * 5000 + "]" * 5000,
                            content_type="application/json")
            assert r.status_code == 400 and "nested too deeply" in r.get_json()["error"]
        check_db(directory, model)
