"""The campaign database's schema, its migrations, and the checks that a file is ours.

:data:`SCHEMA` creates a database of the current :data:`SCHEMA_VERSION`; :data:`MIGRATIONS`
takes one of version ``v`` to ``v + 1`` (run by :meth:`~autoal.campaign.store.Store.open` in
one transaction with the new version number). Schema version 2 added the ``file_hashes``
table, a cache of the data files' hashes keyed by their stat signature (see
:mod:`autoal.campaign.fingerprint`). Schema version 3 added the audit (``audit_items``,
``audit_predictions``: the random sample behind the accuracy estimate, see
:mod:`autoal.campaign.audit`) and ``round_predictions`` (each round's guesses on the unlabeled
items, compared between rounds by the stopping rule, see :mod:`autoal.campaign.stopping`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autoal.campaign.errors import CorruptCampaignError, SchemaVersionError

__all__ = ["APP_ID", "DB_NAME", "MIGRATIONS", "SCHEMA", "SCHEMA_VERSION", "check_meta",
           "check_not_empty", "run_script"]

#: File name of the database inside a campaign folder.
DB_NAME = "campaign.db"
#: Value of ``autoal_meta.app``: marks the database as an autoal campaign.
APP_ID = "autoal-campaign"
#: Version of the schema this code writes; a newer database is refused.
SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE autoal_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per item of the data (a CSV/npz row or an image file), keyed by its id.
CREATE TABLE items (
    item_id TEXT PRIMARY KEY,
    pos     INTEGER NOT NULL,            -- position in the data as last read
    source  TEXT NOT NULL,               -- "row 12" or the image file relative to the data
    present INTEGER NOT NULL DEFAULT 1   -- 0: gone from the data after an accepted change
);
-- Each change of labels: the labels found at init, a teach, a sync after changed data.
CREATE TABLE teaches (
    teach_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('init', 'teach', 'sync')),
    created_at TEXT NOT NULL,
    source     TEXT,                     -- the labels file of a teach
    n_changes  INTEGER NOT NULL,
    undone_at  TEXT                      -- set by undo
);
-- The current label of each labeled or skipped item ('skip' = excluded).
CREATE TABLE labels (
    item_id  TEXT PRIMARY KEY REFERENCES items(item_id),
    label    TEXT NOT NULL,
    seq      INTEGER NOT NULL,           -- labeling order (the event that set it)
    teach_id INTEGER NOT NULL REFERENCES teaches(teach_id)
);
-- Every label change with the value it replaced, so that undo can restore it.
CREATE TABLE label_events (
    event_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    teach_id     INTEGER NOT NULL REFERENCES teaches(teach_id),
    item_id      TEXT NOT NULL REFERENCES items(item_id),
    old_label    TEXT,
    old_seq      INTEGER,
    old_teach_id INTEGER,
    new_label    TEXT NOT NULL
);
-- Each query: the batch picked, and what the strategy reported (e.g. AutoAL's weights).
CREATE TABLE rounds (
    round_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at     TEXT NOT NULL,
    labels_version INTEGER NOT NULL,     -- the labels the batch was computed from
    n_requested    INTEGER NOT NULL,
    n_labeled      INTEGER NOT NULL,
    method         TEXT NOT NULL,
    info           TEXT NOT NULL         -- JSON
);
CREATE TABLE round_items (
    round_id   INTEGER NOT NULL REFERENCES rounds(round_id),
    rank       INTEGER NOT NULL,
    item_id    TEXT NOT NULL REFERENCES items(item_id),
    guess      TEXT,
    confidence REAL,
    PRIMARY KEY (round_id, rank)
);
CREATE INDEX label_events_by_teach ON label_events(teach_id);
"""

# Version 2: a cache of the data files' hashes, keyed by their stat signature.
_FILE_HASHES = """
-- The data's files as last hashed (see autoal.campaign.fingerprint): a file whose size,
-- mtime and ctime are unchanged is not read again to check the data's content hash.
CREATE TABLE file_hashes (
    rel      TEXT PRIMARY KEY,           -- path relative to the data folder ('' for a file)
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    digest   TEXT NOT NULL               -- hex SHA-256 of the size and the bytes
)
"""
SCHEMA += _FILE_HASHES

# Version 3: the audit sample and the rounds' predictions on the unlabeled items.
_AUDIT = """;
-- Items drawn uniformly at random from the unlabeled items to estimate accuracy: their labels
-- are kept out of training until a strategy picks the item (promoted_round).
CREATE TABLE audit_items (
    item_id        TEXT PRIMARY KEY REFERENCES items(item_id),
    drawn_round    INTEGER NOT NULL REFERENCES rounds(round_id),
    promoted_round INTEGER REFERENCES rounds(round_id)
);
-- The guess of each round's model for every audit item it did not train on, recorded when
-- the round was picked (before the labels of that round's audit items arrived).
CREATE TABLE audit_predictions (
    round_id INTEGER NOT NULL REFERENCES rounds(round_id),
    item_id  TEXT NOT NULL REFERENCES items(item_id),
    guess    TEXT NOT NULL,
    PRIMARY KEY (round_id, item_id)
);
-- The latest model rounds' guesses on every item they did not train on (the last two rounds
-- are kept: the stopping rule compares them).
CREATE TABLE round_predictions (
    round_id INTEGER NOT NULL REFERENCES rounds(round_id),
    item_id  TEXT NOT NULL,
    guess    TEXT NOT NULL,
    PRIMARY KEY (round_id, item_id)
)
"""
SCHEMA += _AUDIT

# Migrations from version v to v + 1 (SQL scripts, run in one transaction with the version).
MIGRATIONS: dict[int, str] = {1: _FILE_HASHES, 2: _AUDIT}


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements inside the current transaction (no implicit commit)."""
    for stmt in script.split(";"):
        if stmt.strip():
            conn.execute(stmt)


def check_not_empty(db_path: Path) -> None:
    """Refuse an empty file (SQLite would take it for an empty database and write to it).

    Only ``stat`` is used: opening and closing a descriptor of the database file would drop
    the POSIX locks every SQLite connection of this process holds on it (``close`` releases
    all of a process's ``fcntl`` locks on a file), and another process could then checkpoint
    and reset the WAL under them; SQLite itself tells a foreign file (:func:`check_meta`).
    """
    try:
        size = db_path.stat().st_size
    except OSError as err:
        raise CorruptCampaignError(f"cannot read {db_path}: {err}") from None
    if size == 0:
        raise CorruptCampaignError(
            f"{db_path} is an empty file, so it is not an autoal campaign database; "
            "nothing was changed (move the file away or use another folder)"
        )


def check_meta(conn: sqlite3.Connection, path: Path) -> None:
    """Check that ``conn`` holds an autoal campaign this code can use (read-only).

    Raises
    ------
    CorruptCampaignError
        No ``autoal_meta`` table, not our ``app``, unreadable version, or damaged.
    SchemaVersionError
        The schema is newer than :data:`SCHEMA_VERSION`.
    """
    try:
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'autoal_meta'"
        ).fetchone()
    except sqlite3.DatabaseError as err:
        if getattr(err, "sqlite_errorname", "") != "SQLITE_NOTADB":
            raise
        raise CorruptCampaignError(
            f"{path} is not an SQLite database, so it is not an autoal campaign database; "
            "nothing was changed (move the file away or use another folder)"
        ) from None
    if not has_meta:
        raise CorruptCampaignError(
            f"{path} is an SQLite database but not an autoal campaign (no autoal_meta "
            "table); nothing was changed"
        )
    meta = dict(conn.execute("SELECT key, value FROM autoal_meta").fetchall())
    if meta.get("app") != APP_ID or "schema_version" not in meta:
        raise CorruptCampaignError(
            f"{path} has an autoal_meta table but is not an autoal campaign "
            "database; nothing was changed"
        )
    try:
        version = int(meta["schema_version"])
    except ValueError:
        raise CorruptCampaignError(
            f"{path}: unreadable schema_version {meta['schema_version']!r}"
        ) from None
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} has schema version {version}, written by a newer autoal; this "
            f"autoal (schema version {SCHEMA_VERSION}) cannot open it; upgrade autoal"
        )
    result = conn.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise CorruptCampaignError(f"{path} is damaged: {result}; nothing was changed")
