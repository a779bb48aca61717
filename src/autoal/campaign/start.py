"""``init``: read the data, check the settings, create the campaign's database atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from autoal.campaign.config import CampaignConfig, parse_classes, resolve_strategy
from autoal.campaign.datacheck import initial_labels, item_rows
from autoal.campaign.errors import CampaignError, DataError
from autoal.campaign.estimators import PROVIDED_SKLEARN, resolve_model
from autoal.campaign.items import Items, detect_kind, file_digest, load_items
from autoal.campaign.store import Store
from autoal.campaign.store_schema import DB_NAME

__all__ = ["create"]


def create(
    directory: str | os.PathLike[str],
    data: str | os.PathLike[str],
    classes: str | Iterable[str],
    *,
    strategy: str,
    model: str,
    seed: int,
    epochs: int,
    min_steps: int,
    label_column: str,
    id_column: str,
    busy_timeout: float,
    audit: float = 0.1,
    features: str | os.PathLike[str] | None = None,
) -> tuple[Store, Items, list[str]]:
    """Create a campaign's database (see :meth:`autoal.campaign.Campaign.init`).

    Returns
    -------
    store : Store
        The new database, open.
    items : Items
        The data as read.
    notes : list of str
        Messages for the user (e.g. a strategy fallback).

    Raises
    ------
    CampaignError
        As :meth:`~autoal.campaign.Campaign.init`.
    """
    from autoal.data import DatasetError

    directory = Path(directory)
    Store._check_absent(directory / DB_NAME)  # before any slow work: refuse at once
    notes: list[str] = []
    names = parse_classes(classes)
    sklearn_model = resolve_model(model)
    if sklearn_model is not None:
        if strategy == "autoal":
            notes.append(f"strategy 'autoal' needs a torch model; with {model} the campaign "
                         "uses 'margin' (pass --strategy to choose another)")
            strategy = "margin"
        strategy = resolve_strategy(strategy, notes, PROVIDED_SKLEARN)
    else:
        strategy = resolve_strategy(strategy, notes)
    if sklearn_model is None and model not in ("auto", "mlp", "cnn"):
        raise CampaignError(f"unknown model {model!r}; use auto, mlp, cnn, "
                            "sklearn:ClassName or a pickled estimator (.pkl)")
    if int(epochs) < 1:
        raise CampaignError(f"epochs must be at least 1, got {epochs}")
    if not 0 <= float(audit) < 1:
        raise CampaignError(f"the audit share must be at least 0 and below 1, got {audit}")
    if int(min_steps) < 0:
        raise CampaignError(f"min_steps must be non-negative, got {min_steps}")
    data_path = Path(data).expanduser().resolve()
    features_path = None if features is None else Path(features).expanduser().resolve()
    try:
        kind = detect_kind(data_path, features=features_path)
        items = load_items(data_path, kind, label_column=label_column, id_column=id_column,
                           features=features_path)
    except DatasetError as err:
        raise DataError(str(err)) from None
    if kind == "images":
        _refuse_links_outside(data_path, items.sources)
    is_image = items.X.ndim == 4
    resolved = sklearn_model or (model if model != "auto" else ("cnn" if is_image else "mlp"))
    if sklearn_model is not None and is_image:
        raise CampaignError(f"model {model} needs feature vectors; this data holds images "
                            "(give --features with a vector per image, or use --model cnn)")
    if resolved == "cnn" and not is_image:
        raise CampaignError("model 'cnn' needs images; this data holds feature vectors")
    labels = initial_labels(items, names)
    config = CampaignConfig(
        data_path=str(data_path), data_kind=kind, classes=names, strategy=strategy,
        model=resolved, seed=int(seed), epochs=int(epochs), min_steps=int(min_steps),
        label_column=label_column, id_column=id_column, audit=float(audit),
        features_path=None if features_path is None else str(features_path),
    )
    from autoal import __version__

    store = Store.create(
        directory,
        meta={"config": config.to_json(), "data_hash": items.content_hash,
              "autoal_version": __version__,
              **({} if features_path is None else {"features_hash": file_digest(features_path)})},
        items=item_rows(items),
        labels=labels,
        busy_timeout=busy_timeout,
        file_hashes=[(rel, *r) for rel, r in (items.file_records or {}).items()],
    )
    return store, items, notes


def _refuse_links_outside(root: Path, sources: Iterable[str]) -> None:
    """Refuse images that resolve (through symbolic links) to files outside ``root``.

    The page serves only files inside the data folder, so such an item could never be shown.
    """
    outside = [s for s in sources if not (root / s).resolve().is_relative_to(root)]
    if outside:
        shown = ", ".join(outside[:5]) + (" ..." if len(outside) > 5 else "")
        raise DataError(
            f"{len(outside)} image(s) in {root} are symbolic links to files outside it "
            f"({shown}); copy the files into the folder or remove the links"
        )
