"""The audit: a uniform random sample of the unlabeled items behind an unbiased accuracy estimate.

Why
---
Active learning asks for the items the model finds hardest, so the model's accuracy on the
labels (e.g. by cross-validation) says little about its accuracy on the items nobody labeled:
on digits it read 0.77 while the model scored 0.97 on the rest. An estimate needs items
drawn *at random*.

How
---
Each query adds ``audit · n`` items (on average; the share is the campaign's ``audit``
setting, default 0.1) to its batch of ``n``, drawn uniformly at random from the unlabeled
items that the strategy did not pick. Their model guess is not shown (so that it cannot sway
the labeler, and "accept all guesses" leaves them alone). Their labels are kept out of
training, and every later model round records its guess for each audit item *when the round
is picked*, so no model is ever scored on an item it trained on. The strategy still sees the
audit items as unlabeled: when it picks one, the item leaves the audit (it is *promoted*) and
trains the next models; a labeled one then costs no new label.

Because the strategy chooses without knowing which items are audit items, and new audit
items are drawn uniformly from what it left, the audit items that have not been promoted are
at every round a uniform random sample of the items the round's model did not train on. The
share of them that the round's model guessed right is therefore an unbiased estimate of its
accuracy on the items not yet labeled, and it rests on every audit label so far, not only on
the latest batch's.

The interval is Wilson's score interval (Wilson 1927) at 95 %: unlike the normal
approximation it stays inside [0, 1] and keeps close to its nominal coverage for small
samples and for accuracies near 1, where campaigns live (Brown, Cai & DasGupta 2001). The
target is the accuracy on the *other* items, a finite set: the difference between the
sample's and the rest's accuracy has variance ``p(1-p)(1/n + 1/m)`` for ``n`` audit labels
and ``m`` items left, so the interval is computed with the effective sample size
``n·m/(n+m)``.

Limits: skipped audit items are left out (an estimate on the items one would label); items
that join after an accepted data change were never in the audit's draw, so for them the
estimate holds only as far as they resemble the others.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from autoal.campaign.config import SKIP

__all__ = [
    "DEFAULT_AUDIT",
    "METHOD",
    "audit_count",
    "current_audit",
    "draw_audit",
    "estimate_history",
    "record_round",
    "wilson_interval",
]

#: Default share of each batch drawn at random for the audit.
DEFAULT_AUDIT = 0.1
#: The estimate's short name in ``status --json``.
METHOD = "random-audit"
#: Two-sided 95 % normal quantile.
_Z95 = 1.959963984540054


def audit_count(share: float, n: int, rng: np.random.Generator) -> int:
    """How many of a batch of ``n`` are audit items: ``share · n`` rounded at random.

    Randomised rounding keeps the expected count at ``share · n`` also for small batches;
    at least one item of the batch is left to the strategy.
    """
    if share <= 0 or n < 2:
        return 0
    exact = share * n
    count = int(math.floor(exact)) + int(rng.random() < exact - math.floor(exact))
    return min(count, n - 1)


def wilson_interval(correct: int, n: int, rest: int | None = None,
                    z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct / n``.

    Parameters
    ----------
    correct, n : int
        Successes and trials (``n >= 1``).
    rest : int, optional
        Size of the finite set the proportion is about, apart from the sample (the items
        not labeled); the sample size is then taken as ``n·rest/(n+rest)``.
    z : float
        Normal quantile (1.96: 95 %).
    """
    if n < 1:
        raise ValueError("the interval needs at least one trial")
    p = correct / n
    m = float(n) if rest is None or rest <= 0 else n * rest / (n + rest)
    denom = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / denom
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def current_audit(conn: sqlite3.Connection) -> set[str]:
    """Ids of the audit items not promoted to training."""
    return {r[0] for r in conn.execute(
        "SELECT item_id FROM audit_items WHERE promoted_round IS NULL")}


def draw_audit(candidates: Sequence[str], count: int, rng: np.random.Generator) -> list[str]:
    """``count`` ids drawn uniformly without replacement from ``candidates``."""
    count = min(count, len(candidates))
    if count <= 0:
        return []
    picked = rng.choice(len(candidates), size=count, replace=False)
    return [candidates[int(i)] for i in picked]


def record_round(conn: sqlite3.Connection, round_id: int, *, picked: Iterable[str],
                 drawn: Iterable[str], guesses: Mapping[str, str]) -> list[str]:
    """Store a round's audit changes and its model's guesses (inside the query's write).

    Parameters
    ----------
    round_id : int
        The new round.
    picked : iterable of str
        The strategy's picks: audit items among them are promoted.
    drawn : iterable of str
        The new audit items.
    guesses : mapping
        The round model's guess (class name) for every item it did not train on; empty for
        a diverse start (no model).

    Returns
    -------
    list of str
        The promoted items that already have a label (they need none now).
    """
    picked = list(picked)
    audit = current_audit(conn)
    promoted = [i for i in picked if i in audit]
    conn.executemany("UPDATE audit_items SET promoted_round = ? WHERE item_id = ?",
                     [(round_id, i) for i in promoted])
    conn.executemany("INSERT INTO audit_items (item_id, drawn_round) VALUES (?, ?)",
                     [(i, round_id) for i in drawn])
    labeled = {r[0] for r in conn.execute("SELECT item_id FROM labels")}
    if guesses:
        audit = current_audit(conn)
        conn.executemany(
            "INSERT INTO audit_predictions (round_id, item_id, guess) VALUES (?, ?, ?)",
            [(round_id, i, guesses[i]) for i in sorted(audit) if i in guesses])
    return [i for i in promoted if i in labeled]


def _unlabeled(conn: sqlite3.Connection) -> int:
    return int(conn.execute(
        "SELECT COUNT(*) FROM items WHERE present = 1 AND item_id NOT IN "
        "(SELECT item_id FROM labels)").fetchone()[0])


def estimate_history(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The accuracy estimate of every model round, in round order.

    Each entry: ``round``, ``n_labeled`` (labels the round's model trained on), ``value``,
    ``low``, ``high`` (None without audit labels), ``labels`` (audit labels it rests on) and
    ``method``.
    """
    rest = _unlabeled(conn)
    rows = conn.execute(
        "SELECT r.round_id, r.n_labeled, COUNT(l.item_id) AS n, "
        "COALESCE(SUM(l.label = p.guess), 0) AS k "
        "FROM rounds r JOIN audit_predictions p ON p.round_id = r.round_id "
        "JOIN items i ON i.item_id = p.item_id AND i.present = 1 "
        "LEFT JOIN labels l ON l.item_id = p.item_id AND l.label != ? "
        "GROUP BY r.round_id ORDER BY r.round_id", (SKIP,),
    ).fetchall()
    history = []
    for r in rows:
        n, k = int(r["n"]), int(r["k"])
        entry: dict[str, Any] = {"round": int(r["round_id"]), "n_labeled": int(r["n_labeled"]),
                                 "value": None, "low": None, "high": None, "labels": n,
                                 "method": METHOD}
        if n:
            low, high = wilson_interval(k, n, rest)
            entry.update(value=k / n, low=low, high=high)
        history.append(entry)
    return history
