"""Property tests: teach files against a campaign, through the API and the CLI.

Random id/label CSVs (known, unknown, duplicated and empty ids; classes, unknown and empty
labels, ``skip`` in any case; BOMs, CRLF or CR line ends, ragged rows, huge cells, bytes that
are not UTF-8, truncation) taught through :meth:`Campaign.teach` and ``autoal campaign
teach``, and random Label Studio exports (``.json``). Each example starts from a fresh copy of
the module's campaign (tests/support_teach.py) and keeps a model of its labels, built from the
documented rules. After every file: the whole of it is committed or none of it (the labels
table equals the model's); a refusal is a CampaignError with a message (the CLI: exit 2);
``PRAGMA integrity_check`` is ok; the label counts equal what was accepted. The web API's
requests are in test_property_web.py.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import event, given
from hypothesis import strategies as st
from support_teach import (
    CLASSES,
    ID_CELLS,
    IDS,
    LABEL_CELLS,
    SKIP,
    TEXT,
    Model,
    build_template,
    check_db,
    db_state,
    fresh,
    judge,
    refusal_kind,
)

from autoal.campaign import Campaign, CampaignError
from autoal.cli import main


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Model]:
    return build_template(tmp_path_factory.mktemp("teach-props"))


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
    # half the files have only plausible rows, each id once, so that many are accepted
    plausible = draw(st.booleans())
    order = draw(st.permutations(IDS))
    for k in range(draw(st.integers(0, 10))):
        cells = [draw(TEXT) for _ in header]
        cells[ci] = (draw(st.sampled_from([order[k], f" {order[k]}\t"])) if plausible
                     else draw(ID_CELLS))
        cells[cl] = draw(VALID_LABEL_CELLS if plausible else LABEL_CELLS)
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
                    event(refusal_kind(err))
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
    broken = draw(st.booleans())

    def part(good: Any) -> Any:  # in a broken export, now and then any JSON instead
        return draw(LS_JSON) if broken and draw(st.integers(0, 3)) == 0 else good

    def task(item_id: str) -> Any:
        choices = part(draw(st.lists(st.sampled_from([*CLASSES, SKIP]), min_size=1,
                                     max_size=draw(st.sampled_from([1, 1, 1, 2])))))
        value = part({"choices": choices})
        result = part([{"type": "choices", "value": value}])
        annotations = part([{"result": result}])
        data = part({"id": item_id})
        return {"data": data, "annotations": annotations}

    if draw(st.integers(0, 4)) == 0:
        return draw(LS_JSON)
    ids = draw(st.lists(st.sampled_from(IDS), max_size=4, unique=draw(st.booleans())))
    return [task(i) for i in ids]


@given(tasks=label_studio_tasks(), relabel=st.booleans(),
       nesting=st.sampled_from([0] * 8 + [50, 5_000]))
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
            event(refusal_kind(err))
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


def test_deeply_nested_label_studio_export_is_refused(template, tmp_path) -> None:
    """Was a RecursionError out of ``teach``; now a DataError naming the problem."""
    path = tmp_path / "export.json"
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with fresh(template) as (directory, model):
        with Campaign.open(directory) as c, pytest.raises(CampaignError, match="too deeply"):
            c.teach(path)
        check_db(directory, model)
