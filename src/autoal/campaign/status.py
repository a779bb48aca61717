"""Status: counts of labels, the last round and a cross-validated accuracy estimate."""

from __future__ import annotations

import json

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.datacheck import DataCheck
from autoal.campaign.errors import CampaignError
from autoal.campaign.results import CampaignStatus
from autoal.campaign.state import current_labels, latest_round
from autoal.campaign.store import Store
from autoal.campaign.training import cross_validate

__all__ = ["campaign_status"]


def campaign_status(store: Store, config: CampaignConfig, data: DataCheck, *,
                    estimate: bool = True, accept_changed: bool = False) -> CampaignStatus:
    """Counts, the last round and an estimate of the model's accuracy.

    See :meth:`autoal.campaign.Campaign.status` for ``estimate`` and the result;
    ``accept_changed`` adopts changed data instead of raising. The data is hash-checked, and
    read only for the estimate, which is cached in the database per labels version and data
    hash (written only when no other command is writing).
    """
    data.verify(accept_changed)
    cfg = config
    with store.read() as conn:
        version = store.labels_version()
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
            accuracy, note = cross_validate(cfg, data.items(accept_changed), labels)
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
