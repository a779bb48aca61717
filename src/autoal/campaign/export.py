"""Export: every label to a CSV, and optionally a model trained on all of them."""

from __future__ import annotations

import csv
import io
import os

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.datacheck import DataCheck
from autoal.campaign.results import ExportResult
from autoal.campaign.state import current_labels
from autoal.campaign.store import Store
from autoal.campaign.training import model_payload

__all__ = ["export"]


def export(
    store: Store,
    config: CampaignConfig,
    data: DataCheck,
    out: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | None = None,
    include_skipped: bool = False,
    accept_changed: bool = False,
) -> ExportResult:
    """Write every label to a CSV and, optionally, a model trained on all of them.

    See :meth:`autoal.campaign.Campaign.export` for the files' contents. Both files are
    written atomically, the CSV only after the model (if any) was trained.

    Raises
    ------
    CampaignError
        A model was asked for with labels in fewer than 2 classes; changed or unreadable
        data (only with ``model``).
    """
    from autoal.io import write_bytes_atomic, write_text_atomic

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
        items = data.items(accept_changed)
        with store.read() as conn:
            labels = current_labels(conn)
        payload = model_payload(config, items, labels)
    write_text_atomic(out, buf.getvalue())
    if payload is not None:
        import torch

        blob = io.BytesIO()
        torch.save(payload, blob)
        write_bytes_atomic(model, blob.getvalue())
        result.model_path = str(model)
    return result
