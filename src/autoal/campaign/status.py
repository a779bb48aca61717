"""Status: counts of labels, the last round, the accuracy estimate and the stopping rule.

Everything comes from the database (no model is trained): the estimate from the audit (see
:mod:`autoal.campaign.audit`), the rounds' agreement from what each query recorded (see
:mod:`autoal.campaign.stopping`).
"""

from __future__ import annotations

import json
from typing import Any

from autoal.campaign.audit import METHOD, estimate_history
from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.datacheck import DataCheck
from autoal.campaign.results import CampaignStatus
from autoal.campaign.state import current_labels, latest_round
from autoal.campaign.stopping import stopping_verdict
from autoal.campaign.store import Store

__all__ = ["campaign_status"]


def campaign_status(store: Store, config: CampaignConfig, data: DataCheck, *,
                    accept_changed: bool = False) -> CampaignStatus:
    """Counts, the last round, the accuracy estimate, its history and the stopping verdict.

    See :meth:`autoal.campaign.Campaign.status` for the result; ``accept_changed`` adopts changed
    data instead of raising. The data is hash-checked, not read.
    """
    data.verify(accept_changed)
    cfg = config
    with store.read() as conn:
        n_items = conn.execute("SELECT COUNT(*) FROM items WHERE present = 1").fetchone()[0]
        labels = current_labels(conn)
        latest = latest_round(conn)
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
        estimates = estimate_history(conn)
        rounds_info = conn.execute(
            "SELECT round_id, n_labeled, method, info FROM rounds ORDER BY round_id").fetchall()
    per_class = {c: 0 for c in cfg.classes}
    skipped = 0
    for _, lab in labels:
        if lab == SKIP:
            skipped += 1
        elif lab in per_class:
            per_class[lab] += 1
    labeled = sum(per_class.values())
    history = _history(rounds_info, estimates)
    agreements = [{"round": h["round"], "kappa": h["kappa"], "changed": h["changed"]}
                  for h in history if h["kappa"] is not None]
    current = next((h for h in reversed(history) if h["value"] is not None), None)
    accuracy_estimate = None
    if current is not None:
        accuracy_estimate = {k: current[k] for k in ("value", "low", "high", "labels")}
        accuracy_estimate.update(method=METHOD, round=current["round"])
        note = (f"random audit: {current['labels']} labels of items drawn at random, "
                f"95% interval {current['low']:.3f}-{current['high']:.3f}; the model of "
                f"round {current['round']} (trained on {current['n_labeled']} labels) on the "
                "items not yet labeled")
    elif cfg.audit <= 0:
        note = "no estimate: the audit is off (the campaign's audit share is 0)"
    else:
        note = ("no estimate yet: label the audit items of a batch (drawn at random, shown "
                "without a guess) once a model has made a round")
    return CampaignStatus(
        items=int(n_items), labeled=labeled, pending=int(pending), skipped=skipped,
        unlabeled=int(n_items) - labeled - skipped, per_class=per_class,
        rounds=int(rounds), teaches=int(teaches),
        accuracy=None if accuracy_estimate is None else accuracy_estimate["value"],
        accuracy_note=note, strategy=cfg.strategy, model=cfg.model, data_path=cfg.data_path,
        last_round=last_round, accuracy_estimate=accuracy_estimate, history=history,
        stopping=stopping_verdict(agreements),
    )


def _history(rounds: list[Any], estimates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per round: the estimate (None where the round has none) and the agreement with the
    previous model round."""
    by_round = {e["round"]: e for e in estimates}
    history = []
    for r in rounds:
        rid = int(r["round_id"])
        est = by_round.get(rid, {})
        agreed = json.loads(r["info"]).get("agreement") or {}
        history.append({
            "round": rid, "n_labeled": int(r["n_labeled"]), "method": r["method"],
            **{k: est.get(k) for k in ("value", "low", "high")},
            "labels": int(est.get("labels", 0)),
            "kappa": agreed.get("kappa"), "changed": agreed.get("changed"),
        })
    return history
