"""Teach and undo: validate labels, then change them in one transaction; revert a teach.

A teach checks every label first (unknown ids, unknown classes, conflicting duplicates,
changes of existing labels without ``relabel``) and writes nothing when any is wrong; the
changes it makes are logged with the labels they replace, so that :func:`undo` can restore
them.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.datacheck import DataCheck
from autoal.campaign.errors import CampaignError, DataError, TeachValidationError
from autoal.campaign.hooks import now, pause_point
from autoal.campaign.results import TeachResult, UndoResult
from autoal.campaign.store import Store

__all__ = ["read_labels_file", "teach", "undo", "validate_labels"]


def teach(
    store: Store,
    config: CampaignConfig,
    data: DataCheck,
    labels: str | os.PathLike[str] | Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    relabel: bool = False,
    source: str | None = None,
    accept_changed: bool = False,
) -> TeachResult:
    """Add labels, all in one transaction, after validating every one of them.

    See :meth:`autoal.campaign.Campaign.teach` for ``labels``, ``relabel`` and ``source``;
    ``accept_changed`` adopts changed data instead of raising.

    Raises
    ------
    TeachValidationError
        Listing every problem; nothing is written.
    CampaignError
        Unreadable labels file, changed data, busy.
    """
    found: list[str] = []  # problems found while reading the file
    if isinstance(labels, (str, os.PathLike)) and Path(labels).suffix.lower() == ".json":
        from autoal.campaign.labelstudio import read_export

        rows, ignored, found = read_export(Path(labels))
        where = source = source or str(Path(labels))
    elif isinstance(labels, (str, os.PathLike)):
        rows, ignored, where = read_labels_file(Path(labels))
        source = source or str(Path(labels))
    else:
        pairs = labels.items() if isinstance(labels, Mapping) else labels
        rows = [(f"entry {k + 1}", str(i).strip(), str(v).strip())
                for k, (i, v) in enumerate(pairs)]
        ignored = sum(1 for _, _, v in rows if not v)
        rows = [r for r in rows if r[2]]
        where = source or "the labels"
    data.verify(accept_changed)
    with store.write() as conn:
        known = {r[0] for r in conn.execute("SELECT item_id FROM items WHERE present = 1")}
        current = dict(conn.execute("SELECT item_id, label FROM labels").fetchall())
        try:
            changes, result = validate_labels(rows, known, current, config.classes,
                                              relabel=relabel, where=where)
        except TeachValidationError as err:
            if not found:
                raise
            raise TeachValidationError(where, found + err.problems, err.needs_relabel) from None
        if found:
            raise TeachValidationError(where, found)
        result.ignored_blank = ignored
        if changes:
            result.teach_id = store.apply_labels(changes, kind="teach", source=source)
        pause_point("teach:in-transaction")
    pause_point("teach:after-commit")
    return result


def validate_labels(
    rows: list[tuple[str, str, str]],
    known: set[str],
    current: Mapping[str, str],
    classes: tuple[str, ...],
    *,
    relabel: bool = False,
    where: str = "the labels",
) -> tuple[dict[str, str], TeachResult]:
    """Check every label of a teach; return the changes to make and their counts.

    Parameters
    ----------
    rows : list of (location, item_id, label)
        The labels given, non-empty; ``location`` names the row in messages (``line 3``).
        ``skip`` in any letter case is the skip label.
    known : set of str
        The ids of the items in the data.
    current : mapping
        Item id -> its label now (``skip`` included).
    classes : tuple of str
        The campaign's classes.
    relabel : bool
        Allow changing a label given earlier.
    where : str
        Names the labels in the error message.

    Returns
    -------
    changes : dict
        Item id -> new label, for the labels that differ from the current ones.
    result : TeachResult
        Counts of the changes (``teach_id`` None, ``ignored_blank`` 0: set by the caller).

    Raises
    ------
    TeachValidationError
        Listing every problem: empty or unknown ids, unknown classes, conflicting duplicates,
        changes of existing labels without ``relabel``, no labels at all.
    """
    problems: list[str] = []
    needs_relabel = False
    allowed = set(classes) | {SKIP}
    first: dict[str, tuple[str, str]] = {}
    for loc, item_id, given in rows:
        label = SKIP if given.lower() == SKIP else given
        if not item_id:
            problems.append(f"{loc}: empty id")
            continue
        if item_id not in known:
            problems.append(f"{loc}: unknown id {item_id!r}")
        if label not in allowed:
            problems.append(
                f"{loc}: unknown class {label!r} (classes: {', '.join(classes)}; "
                f"or {SKIP!r} to exclude the item)"
            )
        if item_id in first and first[item_id][1] != label:
            problems.append(
                f"{loc}: id {item_id!r} is given conflicting labels: "
                f"{first[item_id][1]!r} ({first[item_id][0]}) and {label!r}"
            )
        first.setdefault(item_id, (loc, label))
        old = current.get(item_id)
        if old is not None and old != label and not relabel and label in allowed:
            needs_relabel = True
            problems.append(
                f"{loc}: id {item_id!r} is already labeled {old!r}; not changing it "
                f"to {label!r} without relabel"
            )
    if not rows and not problems:
        problems.append(f"no labels found in {where}")
    if problems:
        raise TeachValidationError(where, problems, needs_relabel)
    changes = {i: lab for i, (_, lab) in first.items() if current.get(i) != lab}
    result = TeachResult(
        teach_id=None,
        added=sum(1 for i, lab in changes.items() if i not in current and lab != SKIP),
        relabeled=sum(1 for i, lab in changes.items() if i in current and lab != SKIP),
        skipped=sum(1 for lab in changes.values() if lab == SKIP),
        unchanged=len(first) - len(changes),
        ignored_blank=0,
    )
    return changes, result


def undo(store: Store) -> UndoResult:
    """Revert the last teach that is still in effect (labels found at init stay).

    Raises
    ------
    CampaignError
        Nothing to undo; busy.
    """
    with store.write() as conn:
        row = conn.execute(
            "SELECT * FROM teaches WHERE kind = 'teach' AND undone_at IS NULL "
            "ORDER BY teach_id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise CampaignError("nothing to undo: no teach is in effect")
        events = conn.execute(
            "SELECT * FROM label_events WHERE teach_id = ? ORDER BY event_id DESC",
            (row["teach_id"],),
        ).fetchall()
        for k, ev in enumerate(events):
            if ev["old_label"] is None:
                conn.execute("DELETE FROM labels WHERE item_id = ?", (ev["item_id"],))
            else:
                conn.execute(
                    "UPDATE labels SET label = ?, seq = ?, teach_id = ? WHERE item_id = ?",
                    (ev["old_label"], ev["old_seq"], ev["old_teach_id"], ev["item_id"]),
                )
            if k == len(events) // 2:
                pause_point("undo:mid-transaction")
        conn.execute("UPDATE teaches SET undone_at = ? WHERE teach_id = ?",
                     (now(), row["teach_id"]))
        store.set_meta("labels_version", str(store.labels_version() + 1))
        pause_point("undo:in-transaction")
    return UndoResult(int(row["teach_id"]), len(events), row["source"], row["created_at"])


def read_labels_file(path: Path) -> tuple[list[tuple[str, str, str]], int, str]:
    """Rows ``(line, id, label)`` of a labels CSV, the count of blank labels, its name.

    The CSV needs the columns ``id`` and ``label`` (others are ignored); rows with an empty
    label are counted, not returned.

    Raises
    ------
    DataError
        The file is missing, unreadable, empty or lacks a column.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path} is empty; expected a CSV with columns id,label")
            cols = [h.strip() for h in header]
            missing = [c for c in ("id", "label") if c not in cols]
            if missing:
                raise DataError(
                    f"{path} lacks the column(s) {', '.join(missing)}; expected a header row "
                    f"with id,label (found: {', '.join(cols) or 'nothing'})"
                )
            ci, cl = cols.index("id"), cols.index("label")
            rows, ignored = [], 0
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) <= max(ci, cl) or not record[cl].strip():
                    ignored += 1  # no label given for this row (yet)
                    continue
                rows.append((f"line {reader.line_num}", record[ci].strip(), record[cl].strip()))
    except FileNotFoundError:
        raise DataError(f"labels file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"cannot read {path}: {err}") from None
    return rows, ignored, str(path)
