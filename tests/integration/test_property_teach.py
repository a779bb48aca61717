"""Property tests: teach files and the labeling server's JSON API against one campaign.

Random id/label CSVs (known, unknown, duplicated and empty ids; classes, unknown and empty
labels, ``skip`` in any case; BOMs, CRLF or CR line ends, ragged rows, huge cells, bytes that
are not UTF-8, truncation) taught through :meth:`Campaign.teach` and ``autoal campaign
teach``; random Label Studio exports; random bodies POSTed to ``/api/label``, ``/api/undo``,
``/api/accept`` and ``/api/query`` (random types, missing keys, huge strings, deep nesting,
invalid JSON, cross-site and CSRF-less browser requests) through Flask's test client.

Each example starts from a fresh copy of the module's campaign and keeps a model of its labels
(and of what each undo restores), built from the documented rules. After every file or request:
the whole of it is committed or none of it (the labels table equals the model's); a refusal is
a CampaignError (the CLI: exit 2) or a 4xx with an ``error`` message, never a 500;
``PRAGMA integrity_check`` is ok; the label counts equal what was accepted.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import event, given
from hypothesis import strategies as st

from autoal.campaign import Campaign, CampaignError
from autoal.campaign.store import DB_NAME
from autoal.cli import main

from support import digits_012

pytest.importorskip("flask")

from autoal.campaign.web import create_app  # noqa: E402
from autoal.campaign.web.security import CSRF_HEADER  # noqa: E402

CLASSES = ("zero", "one", "twö")
#: Item ids that need quoting or are not ASCII (init strips " sp " to "sp").
ODD_IDS = ["é-1", "a,b", 'q"t', "日本", " sp ", "x y"]
RAW_IDS = [f"r{k}" for k in range(24)] + ODD_IDS
IDS = tuple(i.strip() for i in RAW_IDS)
SKIP = "skip"
MAX_BODY = 64 * 1024


# -- the campaign and its model -----------------------------------------------------------------
@dataclass
class Model:
    """What the campaign must hold: labels, the labels each undo restores, counters."""

    labels: dict[str, str]
    undo: list[dict[str, str]]
    teaches: int
    version: int
    batch: dict[str, str | None] = field(default_factory=dict)  # current batch: id -> guess

    def apply(self, new: dict[str, str]) -> None:
        """A teach of ``new`` (validated): record it if it changes anything."""
        changed = {i: lab for i, lab in new.items() if self.labels.get(i) != lab}
        if changed:
            self.undo.append(dict(self.labels))
            self.labels = {**self.labels, **changed}
            self.teaches += 1
            self.version += 1


def db_state(directory: Path) -> tuple[dict[str, str], int, int]:
    """Labels, teaches and labels version of the campaign, after an integrity check."""
    conn = sqlite3.connect(f"file:{directory / DB_NAME}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        labels = dict(conn.execute("SELECT item_id, label FROM labels").fetchall())
        teaches = conn.execute("SELECT COUNT(*) FROM teaches").fetchone()[0]
        version = conn.execute(
            "SELECT value FROM autoal_meta WHERE key = 'labels_version'").fetchone()[0]
    finally:
        conn.close()
    return labels, int(teaches), int(version)


def check_db(directory: Path, model: Model) -> None:
    assert db_state(directory) == (model.labels, model.teaches, model.version)


def read_batch(directory: Path) -> dict[str, str | None]:
    with Campaign.open(directory) as c:
        return {i.id: i.guess for i in c.batch().items}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Model]:
    """A digits campaign with odd ids, two teaches (one a skip) and a batch with guesses."""
    root = tmp_path_factory.mktemp("teach-props")
    images, target = digits_012(len(RAW_IDS))
    data = root / "digits.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(f"p{j}" for j in range(64))])
        for item_id, img in zip(RAW_IDS, images, strict=True):
            w.writerow([item_id, *(int(v) for v in img.ravel())])
    truth = {i: CLASSES[int(y)] for i, y in zip(IDS, target, strict=True)}
    directory = root / "camp"
    Campaign.init(directory, data, CLASSES, strategy="margin", model="mlp", epochs=2,
                  min_steps=0).close()
    with Campaign.open(directory) as c:
        c.query(6)
        first = {i.id: truth[i.id] for i in c.batch().items}
        anchors = {next(i for i in IDS if truth[i] == k): k for k in CLASSES}
        taught = {**first, **anchors}
        c.teach(taught)
        skipped = next(i for i in IDS if i not in taught)
        c.teach({skipped: SKIP})
        c.query(6)
    labels, teaches, version = db_state(directory)
    assert labels == {**taught, skipped: SKIP} and teaches == 2
    model = Model(labels, [{}, taught], teaches, version, read_batch(directory))
    assert any(g for i, g in model.batch.items() if i not in labels), "no guess to accept"
    return directory, model


@contextlib.contextmanager
def fresh(template: tuple[Path, Model]) -> Iterator[tuple[Path, Model]]:
    """A copy of the template campaign and of its model, removed afterwards."""
    directory, model = template
    with tempfile.TemporaryDirectory(prefix="autoal-teach-props-") as tmp:
        copy = Path(tmp) / "camp"
        shutil.copytree(directory, copy)
        yield copy, Model(dict(model.labels), [dict(u) for u in model.undo], model.teaches,
                          model.version, dict(model.batch))


def judge(rows: list[tuple[str, str]], current: dict[str, str],
          relabel: bool) -> tuple[dict[str, str] | None, bool]:
    """The documented rules of a teach: the labels it sets (None: refused, nothing written)
    and whether a refusal is about changing labels without ``relabel``."""
    allowed = {*CLASSES, SKIP}
    first: dict[str, str] = {}
    refused = not rows
    needs_relabel = False
    for item_id, text in rows:
        label = SKIP if text.lower() == SKIP else text
        if not item_id:
            refused = True
            continue
        refused |= item_id not in IDS or label not in allowed
        refused |= first.setdefault(item_id, label) != label
        old = current.get(item_id)
        if old is not None and old != label and label in allowed and not relabel:
            refused = needs_relabel = True
    return (None if refused else first), needs_relabel


# -- teach files --------------------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
HUGE = st.sampled_from([3_000, 131_072, 131_073, 300_000]).map(lambda n: "7" * n)
ID_CELLS = st.one_of(
    st.sampled_from(IDS), st.sampled_from(IDS), st.sampled_from(["", "  ", "\t"]), TEXT,
    st.sampled_from(IDS).map(lambda i: f" {i}\t"), st.sampled_from(IDS).map(str.upper), HUGE)
LABEL_CELLS = st.one_of(
    st.sampled_from(CLASSES), st.sampled_from(CLASSES),
    st.sampled_from([SKIP, "SKIP", "Skip", " skip ", "", " ", "\u00a0"]), TEXT,
    st.sampled_from(CLASSES).map(str.upper), st.sampled_from(CLASSES).map(lambda c: f" {c} "),
    HUGE)
VALID_ID_CELLS = st.sampled_from(IDS) | st.sampled_from(IDS).map(lambda i: f" {i}\t")
VALID_LABEL_CELLS = st.sampled_from([*CLASSES, *CLASSES, SKIP, "SKIP", " Skip", "", " one "])
HEADERS = {
    "plain": ["id", "label"], "swapped": ["label", "id"], "extra": ["note", "id", "x", "label"],
    "spaced": [" id", "label\t"], "twice": ["id", "label", "label"], "no label": ["id", "lab"],
    "no id": ["ID", "label"],
}
BAD_BYTES = [b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xc0\xaf"]


@st.composite
def label_files(draw: st.DrawFn) -> bytes:
    """The bytes of a labels CSV, mostly well-formed, sometimes broken on purpose."""
    header = HEADERS[draw(st.sampled_from(sorted(HEADERS)))]
    ci = header.index("id") if "id" in header else 0
    cl = header.index("label") if "label" in header else 1
    records: list[list[str]] = [list(header)]
    # half the files have only plausible rows, so that many are accepted
    ids, labels = ((VALID_ID_CELLS, VALID_LABEL_CELLS) if draw(st.booleans())
                   else (ID_CELLS, LABEL_CELLS))
    for _ in range(draw(st.integers(0, 10))):
        cells = [draw(TEXT) for _ in header]
        cells[ci], cells[cl] = draw(ids), draw(labels)
        shape = draw(st.sampled_from(["full", "full", "full", "short", "long", "blank"]))
        if shape == "short":
            cells = cells[: draw(st.integers(0, max(ci, cl)))]
        elif shape == "long":
            cells += draw(st.lists(TEXT, min_size=1, max_size=3))
        elif shape == "blank":
            cells = [draw(st.sampled_from(["", " ", "\t"])) for _ in cells]
        records.append(cells)
    if draw(st.integers(0, 9)) == 0:  # a duplicated row
        records.append(list(draw(st.sampled_from(records))))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerows(records)
    text = "\ufeff" * draw(st.sampled_from([0, 0, 1, 2])) + buf.getvalue()
    raw = text.encode(draw(st.sampled_from(["utf-8"] * 6 + ["utf-16"])))
    damage = draw(st.sampled_from(["none"] * 6 + ["bad byte", "truncated", "empty", "random"]))
    if damage == "bad byte":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(BAD_BYTES)) + raw[at:]
    elif damage == "truncated":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == "empty":
        raw = b""
    elif damage == "random":
        raw = draw(st.binary(max_size=200))
    event(f"damage: {damage}")
    return raw


def expected_file(raw: bytes, current: dict[str, str],
                  relabel: bool) -> tuple[dict[str, str] | None, int]:
    """What teaching the file must do, by the documented rules (the csv module as the
    reference for CSV syntax): the labels set (None: refused) and the rows without a label."""
    try:
        records = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None, 0
    if not records:
        return None, 0
    cols = [h.strip() for h in records[0]]
    if "id" not in cols or "label" not in cols:
        return None, 0
    ci, cl = cols.index("id"), cols.index("label")
    rows, ignored = [], 0
    for rec in records[1:]:
        if not any(cell.strip() for cell in rec):
            continue
        if len(rec) <= max(ci, cl) or not rec[cl].strip():
            ignored += 1
            continue
        rows.append((rec[ci].strip(), rec[cl].strip()))
    return judge(rows, current, relabel)[0], ignored


@given(files=st.lists(st.tuples(label_files(), st.booleans(), st.booleans()),
                      min_size=1, max_size=3))
def test_teach_files_commit_all_rows_or_none(template, files) -> None:
    with fresh(template) as (directory, model), tempfile.TemporaryDirectory() as tmp:
        for k, (raw, relabel, via_cli) in enumerate(files):
            path = Path(tmp) / f"labels{k}.csv"
            path.write_bytes(raw)
            new, ignored = expected_file(raw, model.labels, relabel)
            if via_cli:
                args = ["campaign", "teach", str(directory), str(path)]
                result = CliRunner().invoke(main, args + (["--relabel"] if relabel else []))
                assert result.exit_code == (2 if new is None else 0), (result.output,
                                                                       result.exception)
                if new is None:
                    assert "error:" in result.output
                else:
                    model.apply(new)
                    n_labeled = sum(1 for v in model.labels.values() if v != SKIP)
                    assert f"now {n_labeled} labeled" in result.output
            else:
                try:
                    with Campaign.open(directory) as c:
                        taught = c.teach(path, relabel=relabel)
                except CampaignError as err:
                    assert new is None, f"refused a valid file: {err}"
                    assert str(err).strip()
                else:
                    assert new is not None, f"accepted a file the rules refuse: {taught}"
                    before = model.labels
                    model.apply(new)
                    added = [i for i, v in new.items() if i not in before and v != SKIP]
                    assert taught.added == len(added)
                    assert taught.skipped == sum(1 for i, v in new.items()
                                                 if v == SKIP and before.get(i) != SKIP)
                    assert taught.unchanged == sum(1 for i, v in new.items()
                                                   if before.get(i) == v)
                    assert taught.ignored_blank == ignored
            event("refused" if new is None else "committed")
            check_db(directory, model)


LS_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT | st.sampled_from(IDS)
    | st.sampled_from(CLASSES),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "data", "annotations", "result", "type", "value", "choices",
                         "was_cancelled"]) | TEXT, kids, max_size=4),
    max_leaves=16)


@st.composite
def label_studio_tasks(draw: st.DrawFn) -> Any:
    """A Label Studio export: well-formed tasks with random parts, or any JSON at all."""
    def part(good: Any) -> Any:  # mostly the well-formed part, sometimes any JSON
        return good if draw(st.integers(0, 5)) else draw(LS_JSON)

    def task() -> Any:
        choices = part(draw(st.lists(st.sampled_from([*CLASSES, SKIP]), min_size=1,
                                     max_size=2)))
        value = part({"choices": choices})
        result = part([{"type": "choices", "value": value}])
        annotations = part([{"result": result}])
        data = part({"id": draw(st.sampled_from(IDS))})
        return {"data": data, "annotations": annotations}

    if draw(st.integers(0, 4)) == 0:
        return draw(LS_JSON)
    return [task() for _ in range(draw(st.integers(0, 4)))]


@given(tasks=label_studio_tasks(), relabel=st.booleans(),
       nesting=st.sampled_from([0, 0, 0, 50, 5_000]))
def test_label_studio_exports_commit_all_or_nothing(template, tasks, relabel, nesting) -> None:
    with fresh(template) as (directory, model), tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.json"
        text = json.dumps(tasks)
        path.write_text("[" * nesting + text + "]" * nesting, encoding="utf-8")
        before = dict(model.labels)
        try:
            with Campaign.open(directory) as c:
                taught = c.teach(path, relabel=relabel)
        except CampaignError as err:
            assert str(err).strip()
            event("refused")
        else:
            labels = db_state(directory)[0]
            changed = {i: v for i, v in labels.items() if before.get(i) != v}
            assert set(before) <= set(labels) and set(changed) <= set(IDS)
            assert set(changed.values()) <= {*CLASSES, SKIP}
            assert relabel or not set(changed) & set(before)
            assert taught.added == sum(1 for i, v in changed.items()
                                       if i not in before and v != SKIP)
            model.apply(changed)
            event("committed")
        check_db(directory, model)


# -- the labeling server's API ------------------------------------------------------------------
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
    n, refresh = data.get("n", 6), data.get("refresh", True)
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


# -- the failures these properties found, kept as regular tests ---------------------------------
@pytest.mark.parametrize(("tasks", "problem"), [
    ([{"data": {"id": "r0"}, "annotations": True}], "task 1: annotations is not a list"),
    ([{"data": {"id": "r0"}, "annotations": [{"result": [{"type": "choices",
                                                         "value": [None]}]}]}],
     "task 1: a result's value is not an object"),
    ([{"data": {"id": "r0"}, "annotations": [{"result": 3}]}],
     "task 1: an annotation's result is not a list"),
    ([{"data": {"id": "r0"}, "annotations": [{"result": [
        {"type": "choices", "value": {"choices": "zero"}}]}]}], "value.choices is not a list"),
])
def test_label_studio_export_of_the_wrong_shape_is_refused(template, tmp_path, tasks,
                                                           problem) -> None:
    """Were a TypeError or AttributeError (a string of choices: its letters taken as
    classes); now a problem naming the task, and nothing written."""
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    with fresh(template) as (directory, model):
        with Campaign.open(directory) as c, pytest.raises(CampaignError) as err:
            c.teach(path)
        assert problem in str(err.value)
        check_db(directory, model)


def test_deeply_nested_json_is_refused_not_a_crash(template, tmp_path) -> None:
    """Was a RecursionError: out of ``teach`` (a Label Studio export) and a 500 from the
    server (any POST body); now a DataError and a 400."""
    path = tmp_path / "export.json"
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with fresh(template) as (directory, model):
        with Campaign.open(directory) as c, pytest.raises(CampaignError, match="too deeply"):
            c.teach(path)
        client = create_app(directory).test_client()
        for route in ("label", "undo", "accept", "query"):
            r = client.post(f"/api/{route}", data="[" * 5000 + "]" * 5000,
                            content_type="application/json")
            assert r.status_code == 400 and "nested too deeply" in r.get_json()["error"]
        check_db(directory, model)
