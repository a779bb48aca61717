"""When to stop labeling: how much the predictions still change between rounds.

The rule is *stabilizing predictions* (Bloodgood & Vijay-Shanker 2009, "A Method for Stopping
Active Learning Based on Stabilizing Predictions and the Need for User-Adjustable Stopping"):
compare each model round's predictions on the items not yet labeled with the previous model
round's, by Cohen's kappa; once the average kappa of the last three comparisons is at least
0.99 (the paper's window and threshold; small-text's ``KappaAverage`` implements the same
rule), new labels no longer change what the model says about the rest of the data, and
labeling more is unlikely to pay. Each query records its comparison in the round's ``info`` as
``agreement`` (``kappa``, ``changed``: the share of items whose guess changed, ``items``:
how many were compared, ``previous_round``).
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["KAPPA_THRESHOLD", "RULE", "WINDOW", "agreement", "cohen_kappa", "previous_guesses",
           "stopping_verdict", "store_guesses"]

#: Kappa at or above which two rounds' predictions count as the same.
KAPPA_THRESHOLD = 0.99
#: Consecutive comparisons that must reach the threshold.
WINDOW = 3
#: The rule's short name.
RULE = "stabilizing-predictions"


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa between two label sequences (1.0 when they are identical)."""
    from sklearn.metrics import cohen_kappa_score

    if list(a) == list(b):
        return 1.0  # also when both hold one class only, where kappa is 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(cohen_kappa_score(list(a), list(b)))
    return value if value == value else 0.0


def agreement(previous: Mapping[str, str], now: Mapping[str, str]) -> dict[str, Any] | None:
    """Compare two rounds' guesses on the items both have one for; None when none are shared.

    Returns
    -------
    dict or None
        ``kappa``, ``changed`` (share of items whose guess changed) and ``items``.
    """
    common = sorted(set(previous) & set(now))
    if not common:
        return None
    a = [previous[i] for i in common]
    b = [now[i] for i in common]
    changed = sum(x != y for x, y in zip(a, b, strict=True)) / len(common)
    return {"kappa": cohen_kappa(a, b), "changed": changed, "items": len(common)}


def previous_guesses(conn: sqlite3.Connection) -> tuple[int | None, dict[str, str]]:
    """The latest model round's stored guesses: ``(round_id, item id -> guess)``."""
    row = conn.execute("SELECT MAX(round_id) FROM round_predictions").fetchone()
    if row is None or row[0] is None:
        return None, {}
    rid = int(row[0])
    return rid, dict(conn.execute(
        "SELECT item_id, guess FROM round_predictions WHERE round_id = ?", (rid,)).fetchall())


def store_guesses(conn: sqlite3.Connection, round_id: int, guesses: Mapping[str, str]) -> None:
    """Store a model round's guesses; keep only those of the last two model rounds."""
    conn.executemany("INSERT INTO round_predictions (round_id, item_id, guess) VALUES (?, ?, ?)",
                     [(round_id, i, g) for i, g in guesses.items()])
    conn.execute(
        "DELETE FROM round_predictions WHERE round_id NOT IN (SELECT DISTINCT round_id FROM "
        "round_predictions ORDER BY round_id DESC LIMIT 2)")


def stopping_verdict(agreements: Sequence[dict[str, Any]], *,
                     threshold: float = KAPPA_THRESHOLD, window: int = WINDOW) -> dict[str, Any]:
    """The stabilizing-predictions rule's verdict on the rounds' agreements so far.

    Parameters
    ----------
    agreements : sequence of dict
        Per model round with a predecessor, in round order: ``round``, ``kappa``,
        ``changed``, ``items``.
    threshold, window : float, int
        Stop once the mean of the last ``window`` kappas is at least ``threshold``.

    Returns
    -------
    dict
        ``rule``, ``stop`` (bool), ``threshold``, ``window``, ``kappas`` (the last
        ``window``), ``mean_kappa`` (their mean, None before ``window`` comparisons),
        ``rounds`` (theirs) and ``reason`` (one sentence with the numbers).
    """
    last = list(agreements)[-window:]
    kappas = [float(a["kappa"]) for a in last]
    mean = sum(kappas) / len(kappas) if len(kappas) == window else None
    stop = mean is not None and mean >= threshold
    shown = ", ".join(f"{k:.3f}" for k in kappas) or "none yet"
    if len(kappas) < window:
        reason = (f"continue: {len(kappas)} of the {window} round-to-round comparisons the "
                  f"rule needs (kappa {shown})")
    elif stop:
        reason = (f"stop: the predictions on the unlabeled items were stable over the last "
                  f"{window} rounds (mean kappa {mean:.3f} >= {threshold}; kappas {shown})")
    else:
        reason = (f"continue: the predictions still change (mean kappa over the last "
                  f"{window} rounds {mean:.3f} < {threshold}; kappas {shown})")
    return {"rule": RULE, "stop": bool(stop), "threshold": threshold, "window": window,
            "kappas": kappas, "mean_kappa": mean, "rounds": [int(a["round"]) for a in last],
            "reason": reason}
