"""Helpers of the teach and web property tests (no tests here): a digits campaign with odd
ids, a model of what it must hold, the documented teach rules, and cell strategies.

``tests/integration/test_property_teach.py`` and ``test_property_web.py`` build the campaign
once per module (:func:`build_template`) and run each example on a fresh copy (:func:`fresh`).
"""

from __future__ import annotations

import contextlib
import csv
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from autoal.campaign import Campaign, CampaignError
from autoal.campaign.store import DB_NAME

from support import digits_012

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


def build_template(root: Path) -> tuple[Path, Model]:
    """A digits campaign in ``root`` with odd ids, two teaches (one a skip) and a batch with
    guesses, and its model."""
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


def refusal_kind(err: CampaignError) -> str:
    """The kind of a refusal for the statistics: its first problem without names or numbers."""
    problems = getattr(err, "problems", None) or [str(err)]
    text = re.sub(r"^(line|entry|task) \d+[^:]*: ", "", problems[0])
    text = re.sub(r"'[^']*'|\d+", "_", re.split(r"[(:;]", text)[0])
    return "refused: " + " ".join(w for w in text.split()[:6] if "/" not in w)


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
