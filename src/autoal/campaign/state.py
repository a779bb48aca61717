"""Reading a campaign's state from its database: labels, rounds, the batch, item sources.

Functions that take ``conn`` run inside the caller's transaction; the others open a read
transaction (one consistent snapshot) of their own.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from autoal.campaign.config import CampaignConfig
from autoal.campaign.results import Batch, BatchItem, QueryItem, QueryResult, RoundWeights, finite
from autoal.campaign.store import Store

__all__ = [
    "LABELS_DIGEST",
    "current_labels",
    "display_source",
    "item_source",
    "labels_digest",
    "latest_round",
    "read_batch",
    "round_result",
    "weights_history",
]


# An item is an audit item of the round that drew it.
_AUDIT_JOIN = ("LEFT JOIN audit_items a ON a.item_id = ri.item_id "
               "AND a.drawn_round = ri.round_id")
_AUDIT_FLAG = "a.item_id IS NOT NULL"


def current_labels(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(item_id, label) of present items, in labeling order; ``skip`` included."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT l.item_id, l.label FROM labels l JOIN items i USING (item_id) "
            "WHERE i.present = 1 ORDER BY l.seq"
        )
    ]


#: Key of a round's ``info`` holding :func:`labels_digest` of the labels it was computed from
#: (internal: left out of what the round reports).
LABELS_DIGEST = "labels_digest"


def labels_digest(labels: list[tuple[str, str]]) -> str:
    """A hash of a set of labels (order-free): equal labels, equal digest."""
    h = hashlib.sha256()
    for item_id, label in sorted(labels):
        h.update(f"{len(item_id)}:{item_id}{len(label)}:{label};".encode())
    return h.hexdigest()


def latest_round(conn: sqlite3.Connection) -> sqlite3.Row | None:
    """The ``rounds`` row of the latest query, or None before the first one."""
    return conn.execute("SELECT * FROM rounds ORDER BY round_id DESC LIMIT 1").fetchone()


def round_result(conn: sqlite3.Connection, config: CampaignConfig, row: sqlite3.Row, *,
                 reused: bool) -> QueryResult:
    """A stored round (a ``rounds`` row) as the :class:`QueryResult` a query returns."""
    items = [
        QueryItem(r["item_id"], display_source(config, r["source"]), r["guess"],
                  r["confidence"], bool(r["audit"]))
        for r in conn.execute(
            "SELECT ri.item_id, i.source, ri.guess, ri.confidence, "
            f"{_AUDIT_FLAG} AS audit FROM round_items ri JOIN items i USING (item_id) "
            f"{_AUDIT_JOIN} WHERE ri.round_id = ? ORDER BY ri.rank",
            (row["round_id"],),
        )
    ]
    info = json.loads(row["info"])
    info.pop(LABELS_DIGEST, None)
    notes = list(info.pop("notes", []))
    return QueryResult(int(row["round_id"]), items, row["method"], reused,
                       int(row["n_labeled"]), info, notes)


def display_source(config: CampaignConfig, source: str) -> str:
    """An item's recorded source as shown to users, the same in query, batch and export:
    ``row 12``, or an image's path relative to the data folder (``config.data_path``)."""
    return source


def read_batch(store: Store, config: CampaignConfig) -> Batch:
    """The latest round's items with their current labels, in one read transaction.

    See :meth:`autoal.campaign.Campaign.batch`.
    """
    with store.read() as conn:
        latest = latest_round(conn)
        if latest is None:
            return Batch(None, None, None, None, None)
        rows = conn.execute(
            "SELECT ri.item_id, i.source, ri.guess, ri.confidence, l.label, "
            f"{_AUDIT_FLAG} AS audit FROM round_items ri JOIN items i USING (item_id) "
            f"LEFT JOIN labels l USING (item_id) {_AUDIT_JOIN} "
            "WHERE ri.round_id = ? AND i.present = 1 ORDER BY ri.rank",
            (latest["round_id"],),
        ).fetchall()
    info = json.loads(latest["info"])
    info.pop(LABELS_DIGEST, None)
    notes = [str(n) for n in info.pop("notes", [])]
    items = [
        BatchItem(r["item_id"], display_source(config, r["source"]), r["guess"],
                  None if r["confidence"] is None else float(r["confidence"]), r["label"],
                  bool(r["audit"]))
        for r in rows
    ]
    return Batch(int(latest["round_id"]), latest["method"], latest["created_at"],
                 int(latest["n_labeled"]), int(latest["n_requested"]), items, notes, info)


def weights_history(store: Store) -> list[RoundWeights]:
    """The candidate weights of every round whose strategy reported them, in round order.

    See :meth:`autoal.campaign.Campaign.weights_history`.
    """
    with store.read() as conn:
        rows = conn.execute(
            "SELECT round_id, n_labeled, info FROM rounds ORDER BY round_id"
        ).fetchall()
    history = []
    for r in rows:
        weights = json.loads(r["info"]).get("weights")
        if isinstance(weights, dict) and weights:
            history.append(RoundWeights(
                int(r["round_id"]), int(r["n_labeled"]),
                {str(k): finite(v) for k, v in weights.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)},
            ))
    return history


def item_source(store: Store, config: CampaignConfig, item_id: str) -> str | None:
    """Where the present item ``item_id`` is: ``row 12`` or its image's path joined to the
    data folder; None when no present item has that id.

    See :meth:`autoal.campaign.Campaign.item_source`.
    """
    with store.read() as conn:
        row = conn.execute(
            "SELECT source FROM items WHERE item_id = ? AND present = 1", (item_id,)
        ).fetchone()
    if row is None:
        return None
    if config.data_kind == "images":
        return str(Path(config.data_path) / row["source"])
    return str(row["source"])
