"""A query: train on the labels so far, pick the next batch, store it as a round.

The model is trained outside any lock; the write lock is taken only to store the round, after
checking that the labels did not change meanwhile (else the query trains again). A query on
the labels the pending batch was computed from (also after a teach and its undo) returns that
batch without training.

A share of each batch is drawn at random for the accuracy estimate (the *audit*, see
:mod:`autoal.campaign.audit`): audit items' labels do not train the model until the strategy
picks them, and each round records its model's guesses on them and on every other item it did
not train on (for the stopping rule, :mod:`autoal.campaign.stopping`).
"""

from __future__ import annotations

import json
import sqlite3
from typing import cast

import numpy as np

from autoal.campaign.audit import audit_count, current_audit, draw_audit, record_round
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
from autoal.campaign.stopping import agreement, previous_guesses, store_guesses
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
            audit = current_audit(conn)
            unlabeled = conn.execute(
                "SELECT COUNT(*) FROM items WHERE present = 1 AND item_id NOT IN "
                "(SELECT item_id FROM labels)").fetchone()[0]
        if unlabeled == 0:
            raise CampaignError("every item is labeled or skipped: nothing left to query")
        items = data.items(accept_changed)
        round_no = _next_round(latest)
        rng = np.random.default_rng([config.seed, round_no, 1])
        n_audit = audit_count(config.audit, min(n, unlabeled), rng)
        # audit labels stay out of training (the audit items stay in the strategy's pool)
        train_labels = [(i, lab) for i, lab in labels if lab == SKIP or i not in audit]
        guesses: dict[str, str] = {}
        method, picked, picked_guesses, confidences, info = select_batch(
            config, items, train_labels, n - n_audit, round_no=round_no, pool_guesses=guesses)
        picked_ids = [items.ids[i] for i in picked]
        labeled = {i for i, _ in labels}
        taken = set(picked_ids)
        # labeled audit items the strategy picked train from now on: their places in the
        # batch go to more audit items (the audit stays a uniform sample, see audit.py)
        promoted = sum(1 for i in picked_ids if i in labeled)
        drawn = draw_audit([i for i in items.ids if i not in labeled and i not in audit
                            and i not in taken], n_audit + promoted, rng)
        entries = [(i, g, c) for i, g, c in zip(picked_ids, picked_guesses, confidences,
                                                 strict=True) if i not in labeled]
        for item_id in drawn:  # interleaved, guess hidden
            entries.insert(int(rng.integers(0, len(entries) + 1)), (item_id, None, None))
        info["audit"] = {"drawn": len(drawn), "promoted_labeled": promoted}
        remaining = {i: g for i, g in guesses.items() if i not in taken}
        pause_point("query:trained")
        with store.write() as conn:
            if store.labels_version() != version:
                continue  # a teach or undo landed meanwhile: compute again
            now_latest = latest_round(conn)
            same = (now_latest is None and latest is None) or (
                now_latest is not None and latest is not None
                and now_latest["round_id"] == latest["round_id"]
            )
            if (not same and not refresh and now_latest is not None
                    and now_latest["labels_version"] == version):
                # Another query made a batch from the same labels meanwhile: use it.
                return round_result(conn, config, now_latest, reused=True)
            if remaining:
                prev_round, prev = previous_guesses(conn)
                agreed = agreement(prev, remaining) if prev else None
                if agreed is not None:
                    info["agreement"] = {**agreed, "previous_round": prev_round}
            cur = conn.execute(
                "INSERT INTO rounds (created_at, labels_version, n_requested, n_labeled, "
                "method, info) VALUES (?, ?, ?, ?, ?, ?)",
                (now(), version, n, sum(1 for _, lab in train_labels if lab != SKIP), method,
                 json.dumps(jsonable({**info, LABELS_DIGEST: digest}))),
            )
            round_id = int(cast(int, cur.lastrowid))  # an INSERT sets it
            conn.executemany(
                "INSERT INTO round_items (round_id, rank, item_id, guess, confidence) "
                "VALUES (?, ?, ?, ?, ?)",
                [(round_id, r, i, g, c) for r, (i, g, c) in enumerate(entries)],
            )
            record_round(conn, round_id, picked=picked_ids, drawn=drawn, guesses=guesses)
            if remaining:
                store_guesses(conn, round_id, remaining)
            pause_point("query:in-transaction")
            return round_result(conn, config, cast(sqlite3.Row, latest_round(conn)),
                                reused=False)
    raise CampaignError(
        "the labels kept changing while this query was computing (other commands are "
        "teaching); run the query again"
    )


def _next_round(latest: sqlite3.Row | None) -> int:
    return 1 if latest is None else int(latest["round_id"]) + 1
