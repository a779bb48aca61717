"""The labeling workflow: :class:`Campaign` with init, query, teach, status, undo and export.

Every method returns plain data (dataclasses with ``to_dict``) and raises a
:class:`~autoal.campaign.store.CampaignError` subclass with a message meant for the user;
:mod:`autoal.campaign.cli` only formats them. State lives in the campaign folder's SQLite
database (see :mod:`autoal.campaign.store` for the durability and concurrency model); the
data stays where it is and is re-read (and its hash checked) by the commands that need it.

A :class:`Campaign` holds one SQLite connection: use it from one thread (open one per thread
or per request; opening is cheap).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoal.campaign.fingerprint import FileRecord, is_legacy_hash, legacy_folder_hash, scan
from autoal.campaign.items import Items, detect_kind, load_items
from autoal.campaign.store import (
    DB_NAME,
    DEFAULT_BUSY_TIMEOUT,
    CampaignBusyError,
    CampaignError,
    Store,
    now,
    pause_point,
)

__all__ = [
    "SKIP",
    "Batch",
    "BatchItem",
    "Campaign",
    "CampaignConfig",
    "CampaignStatus",
    "DataChangedError",
    "DataError",
    "ExportResult",
    "QueryItem",
    "QueryResult",
    "RoundWeights",
    "TeachResult",
    "TeachValidationError",
    "UndoResult",
]

#: The label that excludes an item from the campaign.
SKIP = "skip"
#: Evidence fields the campaign's torch model provides.
_PROVIDED = {"probs", "mc_probs", "embeddings", "labeled_embeddings", "labeled_probs", "inputs",
             "labeled_inputs", "labeled_targets"}
_QUERY_ATTEMPTS = 3


class DataError(CampaignError):
    """The campaign's data (or a labels file) is missing, unreadable or invalid."""


class DataChangedError(CampaignError):
    """The data's content hash differs from the one stored; see ``accept_changed_data``."""


class TeachValidationError(CampaignError):
    """A teach found problems; nothing was written.

    Attributes
    ----------
    problems : list of str
        Every problem found, one line each.
    needs_relabel : bool
        Whether some problems are labels that would change existing labels.
    """

    def __init__(self, source: str, problems: list[str], needs_relabel: bool = False) -> None:
        self.problems = problems
        self.needs_relabel = needs_relabel
        n = len(problems)
        head = f"{source} has {n} problem{'s' if n != 1 else ''}; nothing was written:"
        hint = ("\n  (pass --relabel / relabel=True to change labels already given)"
                if needs_relabel else "")
        super().__init__(head + "".join(f"\n  {p}" for p in problems) + hint)


@dataclass(frozen=True)
class CampaignConfig:
    """Settings fixed at init, stored in the database.

    Attributes
    ----------
    data_path : str
        Absolute path of the data.
    data_kind : str
        ``"table"``, ``"npz"`` or ``"images"``.
    classes : tuple of str
        Class names; a class id is its index.
    strategy : str
        Registered query strategy used once two classes have labels.
    model : str
        ``"mlp"`` or ``"cnn"`` (resolved from ``"auto"``).
    seed : int
        Seeds models, strategies and the diverse start.
    epochs : int
        Training epochs (raised for small label sets to at least ``min_steps`` updates).
    label_column, id_column : str
        CSV columns of known labels and item ids.
    batch_size, min_steps : int
        Training batch size and the minimum number of optimiser steps per fit.
    """

    data_path: str
    data_kind: str
    classes: tuple[str, ...]
    strategy: str
    model: str
    seed: int = 0
    epochs: int = 20
    label_column: str = "label"
    id_column: str = "id"
    batch_size: int = 64
    min_steps: int = 100

    def to_json(self) -> str:
        """The config as JSON."""
        return json.dumps({**asdict(self), "classes": list(self.classes)})

    @classmethod
    def from_json(cls, text: str) -> CampaignConfig:
        """Parse :meth:`to_json` output (unknown keys from newer versions are ignored)."""
        raw = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        raw = {k: v for k, v in raw.items() if k in known}
        raw["classes"] = tuple(raw["classes"])
        return cls(**raw)


@dataclass
class QueryItem:
    """One item to label: its id, where it is, and the model's current guess."""

    id: str
    source: str
    guess: str | None
    confidence: float | None

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class QueryResult:
    """The batch to label next.

    Attributes
    ----------
    round : int
        The round's number (1, 2, ...).
    items : list of QueryItem
        The batch, most informative first.
    method : str
        How it was picked (the strategy, or the diverse start).
    reused : bool
        True when this is the pending batch of an earlier query (nothing new was learned).
    n_labeled : int
        Labels the model was trained on.
    info : dict
        What the strategy reported (``round_info()``), e.g. AutoAL's ``weights``.
    notes : list of str
        Messages for the user (fallbacks, smaller batch than asked).
    """

    round: int
    items: list[QueryItem]
    method: str
    reused: bool
    n_labeled: int
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        out = asdict(self)
        out["items"] = [i.to_dict() for i in self.items]
        return out


@dataclass
class TeachResult:
    """What a teach committed (``teach_id`` is None when nothing changed)."""

    teach_id: int | None
    added: int
    relabeled: int
    skipped: int
    unchanged: int
    ignored_blank: int

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class UndoResult:
    """The teach that undo reverted."""

    teach_id: int
    reverted: int
    source: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class ExportResult:
    """Files written by export."""

    labels_path: str
    n_labels: int
    model_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class CampaignStatus:
    """Where a campaign stands.

    Attributes
    ----------
    items : int
        Items in the data.
    labeled, pending, skipped, unlabeled : int
        Items with a class label; in the current batch and not labeled yet; excluded with
        ``skip``; neither labeled nor skipped.
    per_class : dict
        Labels per class (every class, zeros included).
    rounds, teaches : int
        Queries made; teaches in effect (undone ones excluded).
    accuracy : float or None
        Cross-validated accuracy of the campaign's model on the labels so far.
    accuracy_note : str
        How the estimate was made, or why there is none.
    strategy, model, data_path : str
        The campaign's settings.
    last_round : dict or None
        ``round``, ``method``, ``created_at``, ``n_labeled`` and, for strategies that report
        them (AutoAL), ``weights``.
    """

    items: int
    labeled: int
    pending: int
    skipped: int
    unlabeled: int
    per_class: dict[str, int]
    rounds: int
    teaches: int
    accuracy: float | None
    accuracy_note: str
    strategy: str
    model: str
    data_path: str
    last_round: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class BatchItem:
    """One item of the latest round, with its current label.

    Attributes
    ----------
    id : str
        The item id.
    source : str
        Where the item is, as in :class:`QueryItem`: ``"row 12"`` or the image file's path.
    guess : str or None
        The model's guess when the round was picked (None for a diverse start).
    confidence : float or None
        The guess's probability.
    label : str or None
        The item's label now: a class name, ``"skip"``, or None while it is pending.
    """

    id: str
    source: str
    guess: str | None
    confidence: float | None
    label: str | None

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class Batch:
    """The latest round's batch as it stands now (see :meth:`Campaign.batch`).

    Attributes
    ----------
    round : int or None
        The round's number; None (and no items) before the first query.
    method : str or None
        How the batch was picked.
    created_at : str or None
        When the round was stored (UTC, ISO 8601).
    n_labeled : int or None
        Labels the round's model was trained on.
    n_requested : int or None
        The batch size asked for.
    items : list of BatchItem
        The round's items still in the data, most informative first, labeled ones included.
    notes : list of str
        The query's messages for the user.
    info : dict
        What the strategy reported (``round_info()``), e.g. AutoAL's ``weights``.
    """

    round: int | None
    method: str | None
    created_at: str | None
    n_labeled: int | None
    n_requested: int | None
    items: list[BatchItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> list[BatchItem]:
        """The items not labeled or skipped yet."""
        return [i for i in self.items if i.label is None]

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        out = asdict(self)
        out["items"] = [i.to_dict() for i in self.items]
        return out


@dataclass
class RoundWeights:
    """The candidate weights a strategy (AutoAL) reported for one round.

    Attributes
    ----------
    round : int
        The round's number.
    n_labeled : int
        Labels the round's model was trained on.
    weights : dict
        Candidate strategy name -> weight (None where the weight was not finite).
    """

    round: int
    n_labeled: int
    weights: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


def _finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is not finite."""
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(obj: Any) -> Any:
    """Numpy scalars/arrays and tuples to plain JSON types; dict keys to strings."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def _parse_classes(classes: str | Iterable[str]) -> tuple[str, ...]:
    items = classes.split(",") if isinstance(classes, str) else list(classes)
    names = tuple(str(c).strip() for c in items)
    if any(not n for n in names):
        raise CampaignError(f"empty class name in {','.join(names)!r}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CampaignError(f"class names must be unique; repeated: {', '.join(dup)}")
    if any(n.lower() == SKIP for n in names):
        raise CampaignError(f"{SKIP!r} cannot be a class: it is the label that excludes an item")
    if len(names) < 2:
        raise CampaignError(f"a campaign needs at least 2 classes, got {len(names)}")
    return names


def _resolve_strategy(name: str, notes: list[str]) -> str:
    from autoal.strategies import available_strategies, get_strategy

    names = available_strategies()
    if name == "autoal" and name not in names:
        notes.append("strategy 'autoal' is not available in this installation; using 'margin'")
        name = "margin"
    if name not in names:
        raise CampaignError(f"unknown strategy {name!r}; valid names: {', '.join(names)}")
    missing = set(get_strategy(name).requires) - _PROVIDED
    if missing:
        raise CampaignError(
            f"strategy {name!r} needs {', '.join(sorted(missing))}, which a campaign's model "
            "does not provide; choose another strategy"
        )
    return name


class Campaign:
    """A labeling campaign stored in a folder.

    Build one with :meth:`init` (new campaign) or :meth:`open` (existing one); close it
    with :meth:`close` or use it as a context manager.

    Examples
    --------
    >>> c = Campaign.init("my-campaign", "data.csv", ["cat", "dog"])  # doctest: +SKIP
    >>> batch = c.query(10)                                            # doctest: +SKIP
    >>> c.teach({batch.items[0].id: "cat"})                            # doctest: +SKIP
    >>> c.status().labeled                                             # doctest: +SKIP
    """

    def __init__(self, store: Store, *, accept_changed_data: bool = False) -> None:
        self._store = store
        self.accept_changed_data = accept_changed_data
        self.directory = store.path.parent
        self.config = CampaignConfig.from_json(store.get_meta("config") or "{}")
        #: Messages from :meth:`init` (e.g. a strategy fallback).
        self.notes: list[str] = []
        self._items: Items | None = None

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def init(
        cls,
        directory: str | os.PathLike[str],
        data: str | os.PathLike[str],
        classes: str | Iterable[str],
        *,
        strategy: str = "autoal",
        model: str = "auto",
        seed: int = 0,
        epochs: int = 20,
        min_steps: int = 100,
        label_column: str = "label",
        id_column: str = "id",
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Campaign:
        """Start a campaign in ``directory`` on the data at ``data``.

        Parameters
        ----------
        directory : path
            The campaign folder (created if missing). It must not hold a campaign database.
        data : path
            A CSV (feature columns; ``id_column`` and ``label_column`` when present), an
            ``.npz`` (``X``, optional ``y`` with ``-1`` = unlabeled; integer labels index
            ``classes``) or a folder of images (loose = unlabeled, class sub-folders =
            labeled).
        classes : str or iterable of str
            Class names (``"a,b,c"`` or a list); at least 2, unique, not ``"skip"``.
        strategy : str
            A registered query strategy; ``"autoal"`` falls back to ``"margin"`` (with a
            note in :attr:`notes`) when AutoAL is not installed.
        model : {"auto", "mlp", "cnn"}
            ``auto``: ``cnn`` for images, ``mlp`` for vectors.
        seed : int
            Seeds every model, strategy and the diverse start.
        epochs : int
            Training epochs per fit.
        min_steps : int
            Minimum optimiser steps per fit: small label sets get more epochs, so that the
            first rounds' models are trained at all (``0`` makes ``epochs`` exact).
        label_column, id_column : str
            CSV columns with known labels and item ids.
        busy_timeout : float
            Seconds to wait for another command's write lock.

        Returns
        -------
        Campaign
            The new campaign, open.

        Raises
        ------
        CampaignError
            Bad arguments, unreadable data, labels outside ``classes``, or an existing
            database (an autoal campaign or a foreign file, which is left untouched).
        """
        from autoal.data import DatasetError

        notes: list[str] = []
        names = _parse_classes(classes)
        strategy = _resolve_strategy(strategy, notes)
        if model not in ("auto", "mlp", "cnn"):
            raise CampaignError(f"unknown model {model!r}; use auto, mlp or cnn")
        if int(epochs) < 1:
            raise CampaignError(f"epochs must be at least 1, got {epochs}")
        if int(min_steps) < 0:
            raise CampaignError(f"min_steps must be non-negative, got {min_steps}")
        directory = Path(directory)
        Store._check_absent(directory / DB_NAME)
        data_path = Path(data).expanduser().resolve()
        try:
            kind = detect_kind(data_path)
            items = load_items(data_path, kind, label_column=label_column, id_column=id_column)
        except DatasetError as err:
            raise DataError(str(err)) from None
        is_image = items.X.ndim == 4
        resolved = model if model != "auto" else ("cnn" if is_image else "mlp")
        if resolved == "cnn" and not is_image:
            raise CampaignError("model 'cnn' needs images; this data holds feature vectors")
        labels = _initial_labels(items, names)
        config = CampaignConfig(
            data_path=str(data_path), data_kind=kind, classes=names, strategy=strategy,
            model=resolved, seed=int(seed), epochs=int(epochs), min_steps=int(min_steps),
            label_column=label_column, id_column=id_column,
        )
        from autoal import __version__

        store = Store.create(
            directory,
            meta={"config": config.to_json(), "data_hash": items.content_hash,
                  "autoal_version": __version__},
            items=_item_rows(items),
            labels=labels,
            busy_timeout=busy_timeout,
            file_hashes=[(rel, *r) for rel, r in (items.file_records or {}).items()],
        )
        campaign = cls(store)
        campaign._items = items
        campaign.notes = notes
        return campaign

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        *,
        accept_changed_data: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Campaign:
        """Open the campaign in ``directory``.

        Parameters
        ----------
        directory : path
            A folder made by :meth:`init`.
        accept_changed_data : bool
            When the data's content changed since init (or the last accepted change),
            continue with the new content: new items are added, items gone from the data
            are set aside (their labels are kept and exported), labels are matched by id.
            Without it, commands that use the data raise :class:`DataChangedError`.
        busy_timeout : float
            Seconds to wait for another command's write lock before
            :class:`~autoal.campaign.store.CampaignBusyError`.

        Raises
        ------
        CampaignNotFoundError, CorruptCampaignError, SchemaVersionError, CampaignBusyError
            See :mod:`autoal.campaign.store`; nothing is written in these cases.
        """
        return cls(Store.open(directory, busy_timeout), accept_changed_data=accept_changed_data)

    def close(self) -> None:
        """Close the database connection."""
        self._store.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Campaign({str(self.directory)!r})"

    # -- data ----------------------------------------------------------------------------
    def _check_data(self, load: bool) -> Items | None:
        """Compare the data's hash with the stored one; load the data if ``load``.

        The hash comes from :func:`~autoal.campaign.fingerprint.scan` with the campaign's
        cache of file hashes: unchanged files are verified by their stat signature, only
        new or changed ones are read. The cache is updated when it can be without waiting.
        """
        from autoal.data import DatasetError

        cfg = self.config
        store = self._store
        stored = store.get_meta("data_hash")
        known = store.file_hashes()
        items: Items | None = None
        try:
            if load and self._items is None:
                items = self._load(known)
                digest, records = items.content_hash, items.file_records or {}
            else:
                hashed = scan(cfg.data_path, cfg.data_kind, known)
                digest, records = hashed.digest, hashed.records
                if load:
                    assert self._items is not None
                    items = self._items
                    if items.content_hash != digest:
                        items = self._load(known)
                        digest, records = items.content_hash, items.file_records or {}
            # a campaign made before the cache: its folder hash has the old format
            legacy_same = (digest != stored and is_legacy_hash(stored, cfg.data_kind)
                           and legacy_folder_hash(cfg.data_path) == stored)
        except DatasetError as err:
            raise DataError(
                f"cannot read the campaign's data: {err} (the campaign uses {cfg.data_path})"
            ) from None
        self._remember_hashes(known, records, (stored, digest) if legacy_same else None)
        if digest != stored and not legacy_same:
            if not self.accept_changed_data:
                raise DataChangedError(
                    f"the data at {cfg.data_path} changed since the campaign last used it "
                    f"({stored} -> {digest}); pass --accept-changed-data (Python: "
                    "accept_changed_data=True) to continue with the new content; labels "
                    "are kept by item id"
                )
            if items is None:
                try:
                    items = self._load(known)
                except DatasetError as err:
                    raise DataError(f"cannot read the campaign's data: {err}") from None
            self._sync(items)
        if items is not None:
            self._items = items
        return items

    def _load(self, known: Mapping[str, tuple[Any, ...]]) -> Items:
        cfg = self.config
        return load_items(cfg.data_path, cfg.data_kind, label_column=cfg.label_column,
                          id_column=cfg.id_column, known=known)

    def _remember_hashes(self, known: Mapping[str, tuple[Any, ...]],
                         records: Mapping[str, FileRecord],
                         upgrade: tuple[str | None, str] | None = None) -> None:
        """Store new file hashes (and a folder hash upgraded from the old format).

        Optional: skipped, without waiting, while another command holds the write lock.
        """
        changed = [(rel, *r) for rel, r in records.items() if known.get(rel) != r]
        removed = [rel for rel in known if rel not in records]
        if not changed and not removed and upgrade is None:
            return
        store = self._store
        try:
            with store.write(busy_timeout=0):
                store.put_file_hashes(changed, removed)
                if upgrade is not None and store.get_meta("data_hash") == upgrade[0]:
                    store.set_meta("data_hash", upgrade[1])
        except CampaignBusyError:
            pass

    def _sync(self, items: Items) -> None:
        """Adopt changed data: add new items, set aside vanished ones, import new labels."""
        store = self._store
        labels = _initial_labels(items, self.config.classes)
        with store.write() as conn:
            conn.execute("UPDATE items SET present = 0")
            conn.executemany(
                "INSERT INTO items (item_id, pos, source, present) VALUES (?, ?, ?, 1) "
                "ON CONFLICT(item_id) DO UPDATE SET pos = excluded.pos, "
                "source = excluded.source, present = 1",
                _item_rows(items),
            )
            have = {r[0] for r in conn.execute("SELECT item_id FROM labels")}
            new = {k: v for k, v in labels.items() if k not in have}
            if new:
                store.apply_labels(new, kind="sync", source=self.config.data_path)
            store.set_meta("data_hash", items.content_hash)
            store.set_meta("data_synced_at", now())

    def _items_now(self) -> Items:
        items = self._check_data(load=True)
        assert items is not None
        return items

    # -- reading state ----------------------------------------------------------------------
    def _labels(self, conn: Any) -> list[tuple[str, str]]:
        """(item_id, label) of present items, in labeling order; ``skip`` included."""
        return [
            (r[0], r[1])
            for r in conn.execute(
                "SELECT l.item_id, l.label FROM labels l JOIN items i USING (item_id) "
                "WHERE i.present = 1 ORDER BY l.seq"
            )
        ]

    def _latest_round(self, conn: Any) -> Any:
        return conn.execute("SELECT * FROM rounds ORDER BY round_id DESC LIMIT 1").fetchone()

    def _round_result(self, conn: Any, row: Any, *, reused: bool) -> QueryResult:
        items = [
            QueryItem(r["item_id"], self._display_source(r["source"]), r["guess"],
                      r["confidence"])
            for r in conn.execute(
                "SELECT ri.item_id, i.source, ri.guess, ri.confidence FROM round_items ri "
                "JOIN items i USING (item_id) WHERE ri.round_id = ? ORDER BY ri.rank",
                (row["round_id"],),
            )
        ]
        info = json.loads(row["info"])
        notes = list(info.pop("notes", []))
        return QueryResult(int(row["round_id"]), items, row["method"], reused,
                           int(row["n_labeled"]), info, notes)

    def _display_source(self, source: str) -> str:
        if self.config.data_kind == "images":
            return str(Path(self.config.data_path) / source)
        return source

    # -- reading the batch -------------------------------------------------------------------
    def batch(self) -> Batch:
        """The latest round's items with their current labels (what is left to label).

        Reads the campaign's database only: the data is neither read nor hash-checked, so
        this is cheap enough to call on every page load.

        Returns
        -------
        Batch
            Empty (``round`` None) before the first query. Items that left the data after an
            accepted change are left out; labeled and skipped items stay, with their label.

        Examples
        --------
        >>> with Campaign.open("my-campaign") as c:              # doctest: +SKIP
        ...     todo = [item.id for item in c.batch().pending]
        """
        with self._store.read() as conn:
            latest = self._latest_round(conn)
            if latest is None:
                return Batch(None, None, None, None, None)
            rows = conn.execute(
                "SELECT ri.item_id, i.source, ri.guess, ri.confidence, l.label "
                "FROM round_items ri JOIN items i USING (item_id) "
                "LEFT JOIN labels l USING (item_id) "
                "WHERE ri.round_id = ? AND i.present = 1 ORDER BY ri.rank",
                (latest["round_id"],),
            ).fetchall()
        info = json.loads(latest["info"])
        notes = [str(n) for n in info.pop("notes", [])]
        items = [
            BatchItem(r["item_id"], self._display_source(r["source"]), r["guess"],
                      None if r["confidence"] is None else float(r["confidence"]), r["label"])
            for r in rows
        ]
        return Batch(int(latest["round_id"]), latest["method"], latest["created_at"],
                     int(latest["n_labeled"]), int(latest["n_requested"]), items, notes, info)

    def weights_history(self) -> list[RoundWeights]:
        """The candidate weights of every round whose strategy reported them (AutoAL).

        Returns
        -------
        list of RoundWeights
            In round order; rounds without weights (other strategies, the diverse start) are
            left out, so the list is empty for strategies that report none.
        """
        with self._store.read() as conn:
            rows = conn.execute(
                "SELECT round_id, n_labeled, info FROM rounds ORDER BY round_id"
            ).fetchall()
        history = []
        for r in rows:
            weights = json.loads(r["info"]).get("weights")
            if isinstance(weights, dict) and weights:
                history.append(RoundWeights(
                    int(r["round_id"]), int(r["n_labeled"]),
                    {str(k): _finite(v) for k, v in weights.items()
                     if isinstance(v, (int, float)) and not isinstance(v, bool)},
                ))
        return history

    def item_source(self, item_id: str) -> str | None:
        """Where an item is: ``"row 12"`` or its image file's path (as in :class:`QueryItem`).

        Parameters
        ----------
        item_id : str
            An item id.

        Returns
        -------
        str or None
            None when no item of the data (as last accepted) has that id. The path is the
            one recorded for the item joined to the data folder; it is not checked against
            the file system (resolve it before opening it).
        """
        with self._store.read() as conn:
            row = conn.execute(
                "SELECT source FROM items WHERE item_id = ? AND present = 1", (item_id,)
            ).fetchone()
        return None if row is None else self._display_source(row["source"])

    # -- query -----------------------------------------------------------------------------
    def query(self, n: int, *, refresh: bool = False) -> QueryResult:
        """Pick ``n`` items to label next and store them as the pending batch.

        Trains the campaign's model on the labels so far (outside any lock) and applies the
        strategy. With fewer than two labeled classes it starts diverse: k-means on the
        features (no labels yet) or core-set from the labeled items. Asking again before
        any teach returns the same pending batch unless ``refresh``.

        Parameters
        ----------
        n : int
            Batch size (fewer when fewer items are left).
        refresh : bool
            Pick a new batch even though the labels did not change.

        Returns
        -------
        QueryResult

        Raises
        ------
        CampaignError
            ``n < 1``, nothing left to label, data changed or unreadable, busy.
        """
        if isinstance(n, bool) or int(n) != n or int(n) < 1:
            raise CampaignError(f"the batch size must be a positive integer, got {n!r}")
        n = int(n)
        store = self._store
        self._check_data(load=False)
        for _ in range(_QUERY_ATTEMPTS):
            with store.read() as conn:
                version = store.labels_version()
                latest = self._latest_round(conn)
                if latest is not None and latest["labels_version"] == version and not refresh:
                    result = self._round_result(conn, latest, reused=True)
                    if n != latest["n_requested"]:
                        result.notes.append(
                            f"this is the pending batch of {len(result.items)} items from round "
                            f"{result.round}; teach it first or pass --refresh for a new batch"
                        )
                    return result
                labels = self._labels(conn)
            items = self._items_now()
            computed = self._compute_batch(items, labels, n, round_no=self._next_round(latest))
            pause_point("query:trained")
            with store.write() as conn:
                if store.labels_version() != version:
                    continue  # a teach or undo landed meanwhile: compute again
                now_latest = self._latest_round(conn)
                same = (now_latest is None and latest is None) or (
                    now_latest is not None and latest is not None
                    and now_latest["round_id"] == latest["round_id"]
                )
                if not same and not refresh and now_latest["labels_version"] == version:
                    # Another query made a batch from the same labels meanwhile: use it.
                    return self._round_result(conn, now_latest, reused=True)
                method, picked, guesses, confidences, info = computed
                cur = conn.execute(
                    "INSERT INTO rounds (created_at, labels_version, n_requested, n_labeled, "
                    "method, info) VALUES (?, ?, ?, ?, ?, ?)",
                    (now(), version, n, sum(1 for _, lab in labels if lab != SKIP), method,
                     json.dumps(_jsonable(info))),
                )
                round_id = int(cur.lastrowid)
                conn.executemany(
                    "INSERT INTO round_items (round_id, rank, item_id, guess, confidence) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(round_id, r, items.ids[i], g, c)
                     for r, (i, g, c) in enumerate(zip(picked, guesses, confidences, strict=True))],
                )
                pause_point("query:in-transaction")
                return self._round_result(conn, self._latest_round(conn), reused=False)
        raise CampaignError(
            "the labels kept changing while this query was computing (other commands are "
            "teaching); run the query again"
        )

    @staticmethod
    def _next_round(latest: Any) -> int:
        return 1 if latest is None else int(latest["round_id"]) + 1

    def _learner(self, round_seed: int, n_train: int) -> Any:
        from autoal.models import TorchClassifier

        cfg = self.config
        steps_per_epoch = max(1, math.ceil(n_train / cfg.batch_size))
        epochs = max(cfg.epochs, math.ceil(cfg.min_steps / steps_per_epoch))
        return TorchClassifier(model=cfg.model, epochs=epochs, batch_size=cfg.batch_size,
                               random_state=round_seed)

    def _compute_batch(
        self, items: Items, labels: list[tuple[str, str]], n: int, round_no: int
    ) -> tuple[str, list[int], list[str | None], list[float | None], dict[str, Any]]:
        """Train and select; returns (method, item positions, guesses, confidences, info)."""
        from autoal.evidence import Evidence, MissingEvidenceError
        from autoal.models import DEFAULT_MC_SAMPLES
        from autoal.strategies import get_strategy

        cfg = self.config
        pos = {item_id: i for i, item_id in enumerate(items.ids)}
        done = {item_id for item_id, _ in labels}
        pool = np.array([i for i, item_id in enumerate(items.ids) if item_id not in done],
                        dtype=np.int64)
        if len(pool) == 0:
            raise CampaignError("every item is labeled or skipped: nothing left to query")
        notes: list[str] = []
        if n > len(pool):
            notes.append(f"only {len(pool)} items are left to label")
            n = len(pool)
        class_id = {c: k for k, c in enumerate(cfg.classes)}
        lab = [(pos[i], class_id[lab]) for i, lab in labels if lab != SKIP and i in pos]
        lab_idx = np.array([p for p, _ in lab], dtype=np.int64)
        y_lab = np.array([c for _, c in lab], dtype=np.int64)
        round_seed = cfg.seed * 1000 + round_no
        if len(np.unique(y_lab)) < 2:
            feats = _diversity_features(items.X, cfg.seed)
            if len(lab_idx):
                method = "coreset (diverse start: a model needs labels in 2 classes)"
                strategy = get_strategy("coreset", random_state=round_seed)
                ev = Evidence(embeddings=feats[pool], labeled_embeddings=feats[lab_idx])
            else:
                method = "kmeans (diverse start: no labels yet)"
                strategy = get_strategy("kmeans", random_state=round_seed)
                ev = Evidence(embeddings=feats[pool])
            picked = np.asarray(strategy.select(ev, n), dtype=np.int64)
            return (method, pool[picked].tolist(), [None] * n, [None] * n,
                    {"notes": notes})
        learner = self._learner(round_seed, len(lab_idx)).fit(
            items.X[lab_idx], y_lab, len(cfg.classes)
        )
        strategy = get_strategy(cfg.strategy, random_state=round_seed)
        requires = set(getattr(strategy, "requires", ()))
        ev = learner.evidence(
            items.X[pool], items.X[lab_idx], y_lab,
            mc_samples=DEFAULT_MC_SAMPLES if "mc_probs" in requires else 0,
            with_inputs=bool(requires & {"inputs", "labeled_inputs", "labeled_targets"}),
        )
        try:
            picked = np.asarray(strategy.select(ev, n), dtype=np.int64)
        except MissingEvidenceError as err:
            raise CampaignError(f"strategy {cfg.strategy!r} cannot run here: {err}") from None
        info = dict(strategy.round_info())
        info["notes"] = notes
        probs = ev.probs[picked]
        guesses = [cfg.classes[k] for k in probs.argmax(axis=1)]
        confidences = [float(p) for p in probs.max(axis=1)]
        return cfg.strategy, pool[picked].tolist(), guesses, confidences, info

    # -- teach -----------------------------------------------------------------------------
    def teach(
        self,
        labels: str | os.PathLike[str] | Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        relabel: bool = False,
        source: str | None = None,
    ) -> TeachResult:
        """Add labels, all in one transaction, after validating every one of them.

        Parameters
        ----------
        labels : path, mapping or iterable of (id, label)
            A CSV file with columns ``id`` and ``label`` (other columns are ignored, rows
            with an empty label are skipped), a mapping id -> label, or pairs. The label
            ``"skip"`` excludes an item.
        relabel : bool
            Allow changing the label of an item labeled (or skipped) before.
        source : str, optional
            Recorded as where the labels came from (defaults to the file's path).

        Returns
        -------
        TeachResult

        Raises
        ------
        TeachValidationError
            Listing every problem: unknown ids, unknown classes, conflicting duplicates,
            changes of existing labels without ``relabel``. Nothing is written.
        CampaignError
            Unreadable labels file, changed data, busy.
        """
        if isinstance(labels, (str, os.PathLike)):
            rows, ignored, where = _read_labels_file(Path(labels))
            source = source or str(Path(labels))
        else:
            pairs = labels.items() if isinstance(labels, Mapping) else labels
            rows = [(f"entry {k + 1}", str(i).strip(), str(v).strip())
                    for k, (i, v) in enumerate(pairs)]
            ignored = sum(1 for _, _, v in rows if not v)
            rows = [r for r in rows if r[2]]
            where = source or "the labels"
        self._check_data(load=False)
        store = self._store
        cfg = self.config
        with store.write() as conn:
            known = {r[0] for r in conn.execute("SELECT item_id FROM items WHERE present = 1")}
            current = dict(conn.execute("SELECT item_id, label FROM labels").fetchall())
            problems: list[str] = []
            needs_relabel = False
            allowed = set(cfg.classes) | {SKIP}
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
                        f"{loc}: unknown class {label!r} (classes: {', '.join(cfg.classes)}; "
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
                ignored_blank=ignored,
            )
            if changes:
                result.teach_id = store.apply_labels(changes, kind="teach", source=source)
            pause_point("teach:in-transaction")
        pause_point("teach:after-commit")
        return result

    # -- undo ------------------------------------------------------------------------------
    def undo(self) -> UndoResult:
        """Revert the last teach that is still in effect (labels found at init stay).

        Raises
        ------
        CampaignError
            Nothing to undo; busy.
        """
        store = self._store
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

    # -- status ----------------------------------------------------------------------------
    def status(self, *, estimate: bool = True) -> CampaignStatus:
        """Counts, the last round and an estimate of the model's accuracy.

        Parameters
        ----------
        estimate : bool
            Cross-validate the campaign's model on the labels (up to 3 stratified folds,
            trained like a query's model; cached per labels version). Otherwise the data
            is only hash-checked, not read.

        Returns
        -------
        CampaignStatus
        """
        self._check_data(load=False)
        store = self._store
        cfg = self.config
        with store.read() as conn:
            version = store.labels_version()
            n_items = conn.execute("SELECT COUNT(*) FROM items WHERE present = 1").fetchone()[0]
            labels = self._labels(conn)
            latest = self._latest_round(conn)
            pending = 0
            last_round = None
            if latest is not None:
                pending = conn.execute(
                    "SELECT COUNT(*) FROM round_items ri JOIN items i USING (item_id) "
                    "WHERE ri.round_id = ? AND i.present = 1 AND ri.item_id NOT IN "
                    "(SELECT item_id FROM labels)", (latest["round_id"],),
                ).fetchone()[0]
                info = json.loads(latest["info"])
                last_round = {
                    "round": int(latest["round_id"]), "method": latest["method"],
                    "created_at": latest["created_at"], "n_labeled": int(latest["n_labeled"]),
                    "weights": info.get("weights"),
                }
            rounds = conn.execute("SELECT COUNT(*) FROM rounds").fetchone()[0]
            teaches = conn.execute(
                "SELECT COUNT(*) FROM teaches WHERE kind = 'teach' AND undone_at IS NULL"
            ).fetchone()[0]
            cache = store.get_json("accuracy_cache")
        per_class = {c: 0 for c in cfg.classes}
        skipped = 0
        for _, lab in labels:
            if lab == SKIP:
                skipped += 1
            elif lab in per_class:
                per_class[lab] += 1
        labeled = sum(per_class.values())
        accuracy, note = None, "not estimated"
        if estimate:
            key = f"{version}:{store.get_meta('data_hash')}"
            if cache and cache.get("key") == key:
                accuracy, note = cache["accuracy"], cache["note"]
            else:
                accuracy, note = self._cross_validate(self._items_now(), labels)
                try:
                    with store.write(busy_timeout=0):
                        if store.labels_version() == version:
                            store.set_meta("accuracy_cache", json.dumps(
                                {"key": key, "accuracy": accuracy, "note": note}))
                except CampaignError:
                    pass  # the cache is optional; another command is writing
        return CampaignStatus(
            items=int(n_items), labeled=labeled, pending=int(pending), skipped=skipped,
            unlabeled=int(n_items) - labeled - skipped, per_class=per_class,
            rounds=int(rounds), teaches=int(teaches), accuracy=accuracy, accuracy_note=note,
            strategy=cfg.strategy, model=cfg.model, data_path=cfg.data_path,
            last_round=last_round,
        )

    def _cross_validate(self, items: Items, labels: list[tuple[str, str]]
                        ) -> tuple[float | None, str]:
        from sklearn.model_selection import StratifiedKFold

        cfg = self.config
        pos = {item_id: i for i, item_id in enumerate(items.ids)}
        class_id = {c: k for k, c in enumerate(cfg.classes)}
        lab = [(pos[i], class_id[v]) for i, v in labels if v != SKIP and i in pos]
        if not lab:
            return None, "no labels yet"
        idx = np.array([p for p, _ in lab], dtype=np.int64)
        y = np.array([c for _, c in lab], dtype=np.int64)
        classes, counts = np.unique(y, return_counts=True)
        keep_classes = classes[counts >= 2]
        if len(keep_classes) < 2:
            return None, "needs at least 2 labels in each of 2 classes"
        keep = np.isin(y, keep_classes)
        idx, y = idx[keep], y[keep]
        k = int(min(3, counts[counts >= 2].min()))
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=cfg.seed)
        correct = 0
        for f, (tr, te) in enumerate(folds.split(idx, y)):
            learner = self._learner(cfg.seed * 1000 + 999 - f, len(tr))
            learner.fit(items.X[idx[tr]], y[tr], len(cfg.classes))
            correct += int((learner.predict(items.X[idx[te]]) == y[te]).sum())
        note = f"{k}-fold cross-validation on {len(y)} labels"
        if (~keep).any() or len(keep_classes) < len(cfg.classes):
            note += f" of {len(keep_classes)} classes with at least 2 labels"
        return correct / len(y), note

    # -- export ----------------------------------------------------------------------------
    def export(
        self,
        out: str | os.PathLike[str],
        *,
        model: str | os.PathLike[str] | None = None,
        include_skipped: bool = False,
    ) -> ExportResult:
        """Write every label to a CSV and, optionally, a model trained on all of them.

        Parameters
        ----------
        out : path
            CSV with columns ``id,label,source`` in data order (written atomically). Items
            that left the data after an accepted change are included.
        model : path, optional
            Where to ``torch.save`` a dict: ``state_dict``, ``model`` (net name),
            ``classes``, ``input_shape``, ``mean``/``std`` (the standardisation of vector
            inputs, or None), ``feature_names``, ``n_labels``, ``autoal_version``. Written
            atomically. Rebuild with ``autoal.models.build_net(model, input_shape,
            len(classes))`` and ``load_state_dict``.
        include_skipped : bool
            Also write the ``skip`` rows.

        Returns
        -------
        ExportResult
        """
        from autoal.io import write_bytes_atomic, write_text_atomic

        store = self._store
        with store.read() as conn:
            rows = conn.execute(
                "SELECT l.item_id, l.label, i.source FROM labels l JOIN items i "
                "USING (item_id) ORDER BY i.present DESC, i.pos"
            ).fetchall()
        rows = [r for r in rows if include_skipped or r[1] != SKIP]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["id", "label", "source"])
        writer.writerows((r[0], r[1], r[2]) for r in rows)
        result = ExportResult(labels_path=str(out), n_labels=sum(1 for r in rows
                                                                   if r[1] != SKIP))
        payload = None
        if model is not None:
            payload = self._model_payload()
        write_text_atomic(out, buf.getvalue())
        if payload is not None:
            import torch

            blob = io.BytesIO()
            torch.save(payload, blob)
            write_bytes_atomic(model, blob.getvalue())
            result.model_path = str(model)
        return result

    def _model_payload(self) -> dict[str, Any]:
        from autoal import __version__

        items = self._items_now()
        cfg = self.config
        with self._store.read() as conn:
            labels = self._labels(conn)
        pos = {item_id: i for i, item_id in enumerate(items.ids)}
        class_id = {c: k for k, c in enumerate(cfg.classes)}
        lab = [(pos[i], class_id[v]) for i, v in labels if v != SKIP and i in pos]
        if len({c for _, c in lab}) < 2:
            raise CampaignError("a model needs labels in at least 2 classes; teach more first")
        idx = np.array([p for p, _ in lab], dtype=np.int64)
        y = np.array([c for _, c in lab], dtype=np.int64)
        learner = self._learner(cfg.seed * 1000, len(idx)).fit(items.X[idx], y,
                                                                len(cfg.classes))
        return {
            "format": "autoal-campaign-model/1",
            "state_dict": {k: v.detach().cpu() for k, v in learner.net_.state_dict().items()},
            "model": cfg.model,
            "classes": list(cfg.classes),
            "input_shape": list(items.X.shape[1:]),
            "mean": None if items.mean is None else items.mean.tolist(),
            "std": None if items.std is None else items.std.tolist(),
            "feature_names": items.feature_names,
            "n_labels": len(idx),
            "autoal_version": __version__,
        }


# -- helpers -------------------------------------------------------------------------------
def _item_rows(items: Items) -> list[tuple[str, int, str]]:
    """``(item_id, pos, source)`` rows for the ``items`` table."""
    return [(i, p, s) for p, (i, s) in enumerate(zip(items.ids, items.sources, strict=True))]


def _initial_labels(items: Items, classes: tuple[str, ...]) -> dict[str, str]:
    """Labels found in the data, as class names; raises listing labels outside ``classes``."""
    out: dict[str, str] = {}
    bad: dict[str, list[str]] = {}
    for item_id, lab in zip(items.ids, items.labels, strict=True):
        if lab is None:
            continue
        if isinstance(lab, int):
            name = classes[lab] if 0 <= lab < len(classes) else None
            key = f"class index {lab}"
        else:
            name = lab if lab in classes else None
            key = repr(lab)
        if name is None:
            bad.setdefault(key, []).append(item_id)
        else:
            out[item_id] = name
    if bad:
        parts = [f"{k} (ids {', '.join(v[:3])}{', ...' if len(v) > 3 else ''})"
                 for k, v in list(bad.items())[:10]]
        raise DataError(
            f"the data holds labels that are not among the classes ({', '.join(classes)}): "
            + "; ".join(parts)
        )
    return out


def _diversity_features(X: np.ndarray, seed: int, max_dim: int = 50) -> np.ndarray:
    """Features for the diverse start: the (standardised) inputs, PCA-reduced if wide."""
    flat = X.reshape(len(X), -1).astype(np.float64)
    if flat.shape[1] <= max_dim or len(flat) <= max_dim:
        return flat
    from sklearn.decomposition import PCA

    return PCA(n_components=max_dim, random_state=seed).fit_transform(flat)


def _read_labels_file(path: Path) -> tuple[list[tuple[str, str, str]], int, str]:
    """Rows ``(line, id, label)`` of a labels CSV, the count of blank labels, its name."""
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
