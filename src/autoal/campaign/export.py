"""Export: every label to a CSV, optionally a model trained on all of them; or the pending
batch as Label Studio tasks (see :mod:`autoal.campaign.labelstudio`)."""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import numpy as np

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.datacheck import DataCheck
from autoal.campaign.errors import CampaignError
from autoal.campaign.results import ExportResult
from autoal.campaign.state import current_labels
from autoal.campaign.store import Store
from autoal.campaign.training import model_payload

__all__ = ["export", "export_label_studio"]


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
    if payload is not None and "estimator" in payload:  # a scikit-learn model: a pickle
        import pickle

        assert model is not None  # payload is only built for a model path
        write_bytes_atomic(model, pickle.dumps(payload))
        result.model_path = str(model)
    elif payload is not None:
        import torch

        blob = io.BytesIO()
        torch.save(payload, blob)
        assert model is not None
        write_bytes_atomic(model, blob.getvalue())
        result.model_path = str(model)
    return result


def export_label_studio(
    store: Store,
    config: CampaignConfig,
    data: DataCheck,
    out: str | os.PathLike[str],
    *,
    image_url_prefix: str | None = None,
    accept_changed: bool = False,
) -> ExportResult:
    """Write the pending batch as Label Studio import tasks (and the labeling config).

    See :meth:`autoal.campaign.Campaign.export_label_studio`.

    Raises
    ------
    CampaignError
        No pending items; changed or unreadable data.
    """
    from pathlib import Path
    from urllib.parse import quote

    from autoal.campaign.labelstudio import label_config, make_tasks, write_tasks
    from autoal.campaign.state import read_batch

    batch = read_batch(store, config)
    pending = batch.pending
    if not pending:
        raise CampaignError("no pending items to export: run `autoal campaign query` first"
                            if batch.round is None else
                            f"every item of round {batch.round} is labeled: query the next "
                            "batch first")
    items = data.items(accept_changed)
    row = {item_id: k for k, item_id in enumerate(items.ids)}
    kind = "image" if config.data_kind == "images" else "features"
    raw_images = None
    if config.data_kind == "npz":
        from autoal.data import read_npz

        X, _ = read_npz(config.data_path)
        if X.ndim == 4:
            kind, raw_images = "image", X
    rows = []
    for item in pending:
        entry: dict[str, Any] = {"id": item.id, "guess": item.guess,
                                 "confidence": item.confidence}
        k = row[item.id]
        if config.data_kind == "images":
            path = Path(config.data_path) / item.source
            entry["image"] = ("/data/local-files/?d=" + quote(str(path).lstrip("/"), safe="/")
                              if image_url_prefix is None
                              else image_url_prefix + quote(item.source, safe="/"))
        elif raw_images is not None:
            import base64

            from autoal.campaign.png import array_png

            entry["image"] = ("data:image/png;base64,"
                              + base64.b64encode(array_png(raw_images[k])).decode("ascii"))
        else:
            x = items.X[k].astype(np.float64)
            if items.mean is not None and items.std is not None:
                x = x * items.std + items.mean  # the values as in the data
            entry["features"] = [float(v) for v in x]
        rows.append(entry)
    tasks = make_tasks(rows, kind, f"autoal {config.strategy} round {batch.round}")
    config_path = write_tasks(Path(out), tasks, label_config(config.classes, kind))
    return ExportResult(labels_path=str(out), n_labels=len(tasks),
                        model_path=None, config_path=str(config_path))
