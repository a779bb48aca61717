"""A query: train on the labels so far, pick the next batch, store it as a round.

The model is trained outside any lock; the write lock is taken only to store the round, after
checking that the labels did not change meanwhile (else the query trains again). A query on
the labels the pending batch was computed from (also after a teach and its undo) returns that
batch without training.
"""

from __future__ import annotations

import json
import sqlite3

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.datacheck import DataCheck
from autoal.campaign.errors import CampaignError
from autoal.campaign.hooks import now, pause_point
from autoal.campaign.results import QueryResult, jsonable
from autoal.campaign.state import (
    LABELS_DIGEST,
    current_labels,
    labels_digest,
    latest_round,
    round_result,
)
from autoal.campaign.store import Store
from autoal.campaign.training import select_batch

__all__ = ["QUERY_ATTEMPTS", "run_query"]

#: How often a query trains again when labels keep landing while it trains.
QUERY_ATTEMPTS = 3


def run_query(store: Store, config: CampaignConfig, data: DataCheck, n: int, *,
              refresh: bool = False, accept_changed: bool = False) -> QueryResult:
    """Pick ``n`` items to label next and store them as the pending batch.

    See :meth:`autoal.campaign.Campaign.query` for ``n``, ``refresh``, the result and the
    errors; ``accept_changed`` adopts changed data instead of raising. When labels land
    while the model trains, it trains again, up to :data:`QUERY_ATTEMPTS` times (then
    :class:`CampaignError`).
    """
    if isinstance(n, bool) or int(n) != n or int(n) < 1:
        raise CampaignError(f"the batch size must be a positive integer, got {n!r}")
    n = int(n)
    data.verify(accept_changed)
    for _ in range(QUERY_ATTEMPTS):
        with store.read() as conn:
            version = store.labels_version()
            latest = latest_round(conn)
            labels = current_labels(conn)
            digest = labels_digest(labels)
            # the same labels as the pending batch's (also after a teach and its undo)
            if latest is not None and not refresh and (
                    latest["labels_version"] == version
                    or json.loads(latest["info"]).get(LABELS_DIGEST) == digest):
                result = round_result(conn, config, latest, reused=True)
                if n != latest["n_requested"]:
                    result.notes.append(
                        f"this is the pending batch of {len(result.items)} items from round "
                        f"{result.round}; teach it first or pass --refresh for a new batch"
                    )
                return result
        items = data.items(accept_changed)
        computed = select_batch(config, items, labels, n, round_no=_next_round(latest))
        pause_point("query:trained")
        with store.write() as conn:
            if store.labels_version() != version:
                continue  # a teach or undo landed meanwhile: compute again
            now_latest = latest_round(conn)
            same = (now_latest is None and latest is None) or (
                now_latest is not None and latest is not None
                and now_latest["round_id"] == latest["round_id"]
            )
            if not same and not refresh and now_latest["labels_version"] == version:
                # Another query made a batch from the same labels meanwhile: use it.
                return round_result(conn, config, now_latest, reused=True)
            method, picked, guesses, confidences, info = computed
            cur = conn.execute(
                "INSERT INTO rounds (created_at, labels_version, n_requested, n_labeled, "
                "method, info) VALUES (?, ?, ?, ?, ?, ?)",
                (now(), version, n, sum(1 for _, lab in labels if lab != SKIP), method,
                 json.dumps(jsonable({**info, LABELS_DIGEST: digest}))),
            )
            round_id = int(cur.lastrowid)
            conn.executemany(
                "INSERT INTO round_items (round_id, rank, item_id, guess, confidence) "
                "VALUES (?, ?, ?, ?, ?)",
                [(round_id, r, items.ids[i], g, c)
                 for r, (i, g, c) in enumerate(zip(picked, guesses, confidences, strict=True))],
            )
            pause_point("query:in-transaction")
            return round_result(conn, config, latest_round(conn), reused=False)
    raise CampaignError(
        "the labels kept changing while this query was computing (other commands are "
        "teaching); run the query again"
    )


def _next_round(latest: sqlite3.Row | None) -> int:
    return 1 if latest is None else int(latest["round_id"]) + 1
