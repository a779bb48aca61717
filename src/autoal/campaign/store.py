"""The campaign's durable state: one SQLite database in WAL mode, with a versioned schema.

Durability and concurrency model
--------------------------------
* Every change (init, a teach, an undo, a query's batch, a data sync) is **one SQLite
  transaction**. SQLite's journal makes it atomic: after ``kill -9`` at any moment the
  database holds the state before or after the transaction, never a mix. ``synchronous=FULL``
  makes a committed transaction survive a power cut as well.
* Heavy work (reading the data, training models) happens **outside** any transaction. A
  command takes the write lock (``BEGIN IMMEDIATE``) only to validate and commit, which takes
  milliseconds, and re-checks inside the transaction that the state it computed from is still
  current (the ``labels_version`` counter).
* Serialisation is SQLite's own lock, not a lock file (a lock file left by a killed process
  would need stale-lock detection; SQLite's locks vanish with the process). A writer waits up
  to ``busy_timeout`` seconds for another writer; after that it fails with
  :class:`CampaignBusyError` ("campaign is busy: another autoal command is writing to DIR").
  Readers never wait (WAL).
* Before anything is written, :meth:`Store.open` checks that the file is SQLite, that it
  holds the ``autoal_meta`` table of an autoal campaign, and that its ``schema_version`` is
  not newer than this code's :data:`SCHEMA_VERSION`. A foreign or corrupt file is reported
  and left untouched; nothing ever creates a database over it. Only SQLite opens the file
  (see :func:`~autoal.campaign.store_schema.check_not_empty` for why).
* The schema and its migrations are in :mod:`autoal.campaign.store_schema`; opening an
  older database migrates it in one transaction. The ``file_hashes`` cache is only a memo:
  losing or skipping an update of it costs re-reading files, never a wrong answer.
* :meth:`Store.create` builds a new database under a temporary name and links it into place
  (see :mod:`autoal.campaign.store_files`): init is atomic too.

Tests kill commands at named points (:func:`autoal.campaign.hooks.pause_point`).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from autoal.campaign.errors import (
    CampaignBusyError,
    CampaignError,
    CampaignExistsError,
    CampaignNotFoundError,
    CorruptCampaignError,
    SchemaVersionError,
    is_busy,
)
from autoal.campaign.hooks import now, pause_point
from autoal.campaign.store_files import discard, publish, remove_stale_temps, temp_path
from autoal.campaign.store_schema import (
    APP_ID,
    DB_NAME,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    check_meta,
    check_not_empty,
    run_script,
)

# The errors, schema names and hooks were defined here before the split; they stay
# importable from this module.
__all__ = [
    "APP_ID",
    "DB_NAME",
    "DEFAULT_BUSY_TIMEOUT",
    "SCHEMA_VERSION",
    "CampaignBusyError",
    "CampaignError",
    "CampaignExistsError",
    "CampaignNotFoundError",
    "CorruptCampaignError",
    "SchemaVersionError",
    "Store",
    "now",
    "pause_point",
]

#: Seconds a writer waits for another writer before :class:`CampaignBusyError`.
DEFAULT_BUSY_TIMEOUT = 2.0


class Store:
    """An open campaign database.

    Use :meth:`create` or :meth:`open`; then :meth:`read` and :meth:`write` give
    transactions. The connection is in autocommit mode outside them.

    Parameters
    ----------
    conn : sqlite3.Connection
        An open connection (``isolation_level=None``).
    path : Path
        The database file.
    busy_timeout : float
        Seconds a writer waits for another writer's lock.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.conn = conn
        self.path = path
        self.busy_timeout = busy_timeout

    # -- opening ------------------------------------------------------------------------
    @staticmethod
    def _connect(path: Path, busy_timeout: float, *, create: bool = False) -> sqlite3.Connection:
        mode = "rwc" if create else "rw"
        conn = sqlite3.connect(
            f"file:{path}?mode={mode}", uri=True, timeout=busy_timeout, isolation_level=None
        )
        conn.row_factory = sqlite3.Row
        return conn

    @classmethod
    def open(cls, directory: str | os.PathLike[str], busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
             ) -> Store:
        """Open the campaign database in ``directory`` after checking it is one of ours.

        Raises
        ------
        CampaignNotFoundError
            No folder or no database in it.
        CorruptCampaignError
            The file is not SQLite, lacks the ``autoal_meta`` table or is damaged.
        SchemaVersionError
            The schema is newer than this code's :data:`SCHEMA_VERSION`.
        """
        directory = Path(directory)
        db_path = directory / DB_NAME
        if not directory.is_dir():
            raise CampaignNotFoundError(
                f"no campaign at {directory}: the folder does not exist "
                "(start one with `autoal campaign init`)"
            )
        if not db_path.exists():
            raise CampaignNotFoundError(
                f"no campaign at {directory}: {DB_NAME} is missing "
                "(start one with `autoal campaign init`)"
            )
        if not db_path.is_file():
            raise CorruptCampaignError(f"{db_path} is not a file; nothing was changed")
        check_not_empty(db_path)
        try:
            conn = cls._connect(db_path, busy_timeout)
        except sqlite3.Error as err:
            raise CorruptCampaignError(f"cannot open {db_path}: {err}") from None
        store = cls(conn, db_path, busy_timeout)
        try:
            check_meta(conn, db_path)
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            store._migrate()
        except sqlite3.OperationalError as err:
            conn.close()
            if is_busy(err):
                raise store.busy_error() from None
            raise CorruptCampaignError(f"cannot use {db_path}: {err}") from None
        except sqlite3.DatabaseError as err:
            conn.close()
            raise CorruptCampaignError(
                f"{db_path} is damaged or not an autoal campaign database ({err}); "
                "nothing was changed"
            ) from None
        except BaseException:
            conn.close()
            raise
        remove_stale_temps(directory)
        return store

    def _migrate(self) -> None:  # open's check_meta made sure schema_version exists
        version = int(cast(str, self.get_meta("schema_version")))
        while version < SCHEMA_VERSION:
            with self.write():
                current = int(cast(str, self.get_meta("schema_version")))
                if current == version:
                    run_script(self.conn, MIGRATIONS[version])
                    self.set_meta("schema_version", str(version + 1))
            version = int(cast(str, self.get_meta("schema_version")))

    @classmethod
    def create(cls, directory: str | os.PathLike[str], meta: dict[str, str],
               items: Iterable[tuple[str, int, str]], labels: dict[str, str],
               busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
               file_hashes: Iterable[Sequence[Any]] = ()) -> Store:
        """Create the database in ``directory`` atomically and return it open.

        Parameters
        ----------
        directory : path
            The campaign folder; created if missing.
        meta : dict
            Extra ``autoal_meta`` entries (``app``, ``schema_version`` and
            ``labels_version`` are added).
        items : iterable of (item_id, pos, source)
            Every item of the data.
        labels : dict
            Labels already known (item id -> class name), recorded as the ``init`` change.
        file_hashes : iterable of (rel, size, mtime_ns, ctime_ns, digest)
            The data files' hashes found while reading the data (see
            :meth:`put_file_hashes`).

        Raises
        ------
        CampaignExistsError
            A database (ours or a foreign file) is already there; it is left untouched.
        """
        directory = Path(directory)
        db_path = directory / DB_NAME
        if directory.exists() and not directory.is_dir():
            raise CampaignExistsError(f"{directory} exists and is not a folder")
        cls._check_absent(db_path)
        directory.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(directory)
        tmp = temp_path(directory)
        try:
            conn = cls._connect(tmp, busy_timeout, create=True)
            try:
                conn.execute("PRAGMA journal_mode=DELETE")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("BEGIN")
                run_script(conn, SCHEMA)
                rows = {"app": APP_ID, "schema_version": str(SCHEMA_VERSION),
                        "labels_version": "0", "created_at": now(), **meta}
                conn.executemany("INSERT INTO autoal_meta (key, value) VALUES (?, ?)",
                                 list(rows.items()))
                conn.executemany("INSERT INTO items (item_id, pos, source) VALUES (?, ?, ?)",
                                 items)
                tmp_store = cls(conn, tmp)
                tmp_store.put_file_hashes(file_hashes)
                if labels:
                    tmp_store.apply_labels(labels, kind="init", source=None)
                pause_point("init:in-transaction")
                conn.execute("COMMIT")
            finally:
                conn.close()
            publish(tmp, db_path, check_absent=cls._check_absent)
        finally:
            discard(tmp)
        return cls.open(directory, busy_timeout)

    @staticmethod
    def _check_absent(db_path: Path) -> None:
        """Raise :class:`CampaignExistsError` if anything is at ``db_path``."""
        if not (db_path.exists() or db_path.is_symlink()):
            return
        try:
            Store.open(db_path.parent).close()
        except CampaignError as err:
            raise CampaignExistsError(f"refusing to overwrite an existing file: {err}") from None
        raise CampaignExistsError(
            f"{db_path.parent} already holds a campaign database ({DB_NAME}); "
            "use another folder, or continue it with `autoal campaign query`"
        )

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self.conn.close()

    # -- transactions --------------------------------------------------------------------
    def busy_error(self) -> CampaignBusyError:
        """The error reported when the write lock cannot be taken in time."""
        return CampaignBusyError(
            f"campaign is busy: another autoal command is writing to {self.path.parent}; "
            "try again in a moment"
        )

    @contextmanager
    def write(self, busy_timeout: float | None = None) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): commit on success, roll back on error.

        Parameters
        ----------
        busy_timeout : float, optional
            Seconds to wait for the write lock this time (default: the store's timeout).

        Raises
        ------
        CampaignBusyError
            When another command holds the write lock beyond the busy timeout.
        """
        try:
            if busy_timeout is not None:
                self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            finally:
                if busy_timeout is not None:
                    self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        except sqlite3.OperationalError as err:
            if is_busy(err):
                raise self.busy_error() from None
            raise
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:  # SQLite may have rolled back already (I/O error)
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as err:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if is_busy(err):
                raise self.busy_error() from None
            raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one consistent snapshot."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    # -- helpers -------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """The ``autoal_meta`` value of ``key``."""
        row = self.conn.execute("SELECT value FROM autoal_meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        """Set an ``autoal_meta`` value (call inside :meth:`write`)."""
        self.conn.execute(
            "INSERT INTO autoal_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def get_json(self, key: str, default: Any = None) -> Any:
        """An ``autoal_meta`` value decoded from JSON."""
        value = self.get_meta(key)
        return default if value is None else json.loads(value)

    def labels_version(self) -> int:
        """The counter that every change of labels increments."""
        return int(self.get_meta("labels_version", "0") or 0)

    def apply_labels(self, changes: dict[str, str], *, kind: str, source: str | None) -> int:
        """Record ``changes`` (item id -> new label) as one change; return its id.

        Call inside a write transaction. Each change is logged with the label it replaces
        and the labels version is incremented.
        """
        conn = self.conn
        cur = conn.execute(
            "INSERT INTO teaches (kind, created_at, source, n_changes) VALUES (?, ?, ?, ?)",
            (kind, now(), source, len(changes)),
        )
        teach_id = int(cast(int, cur.lastrowid))
        items = list(changes.items())
        for i, (item_id, label) in enumerate(items):
            old = conn.execute(
                "SELECT label, seq, teach_id FROM labels WHERE item_id = ?", (item_id,)
            ).fetchone()
            cur = conn.execute(
                "INSERT INTO label_events (teach_id, item_id, old_label, old_seq, old_teach_id,"
                " new_label) VALUES (?, ?, ?, ?, ?, ?)",
                (teach_id, item_id, *(tuple(old) if old else (None, None, None)), label),
            )
            conn.execute(
                "INSERT INTO labels (item_id, label, seq, teach_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(item_id) DO UPDATE SET label = excluded.label, seq = excluded.seq,"
                " teach_id = excluded.teach_id",
                (item_id, label, int(cast(int, cur.lastrowid)), teach_id),
            )
            if i == len(items) // 2:
                pause_point(f"{kind}:mid-transaction")
        self.set_meta("labels_version", str(self.labels_version() + 1))
        return teach_id

    def file_hashes(self) -> dict[str, tuple[int, int, int, str]]:
        """The cached data file hashes: relative path -> (size, mtime_ns, ctime_ns, digest)."""
        cur = self.conn.cursor()
        cur.row_factory = None  # plain tuples: tens of thousands of rows, read often
        cur.execute("SELECT rel, size, mtime_ns, ctime_ns, digest FROM file_hashes")
        return {r[0]: r[1:] for r in cur}

    def put_file_hashes(self, rows: Iterable[Sequence[Any]],
                        removed: Iterable[str] = ()) -> None:
        """Insert or replace cached file hashes, delete those of ``removed`` paths.

        Call inside a write transaction. ``rows`` are ``(rel, size, mtime_ns, ctime_ns,
        digest)``.
        """
        self.conn.executemany("DELETE FROM file_hashes WHERE rel = ?", [(r,) for r in removed])
        self.conn.executemany(
            "INSERT OR REPLACE INTO file_hashes (rel, size, mtime_ns, ctime_ns, digest) "
            "VALUES (?, ?, ?, ?, ?)", [tuple(r) for r in rows],
        )
