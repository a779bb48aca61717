"""What the page shows of an item: its image file, an image array as PNG, or feature values.

Images are served by item id from the campaign's own records, and only when the file
resolves to a path inside the data folder.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoal.campaign.config import CampaignConfig
from autoal.campaign.errors import DataError
from autoal.campaign.png import array_png

if TYPE_CHECKING:  # pragma: no cover
    from flask import Response

    from autoal.campaign.items import Items

__all__ = ["MAX_FEATURES", "DataCache", "MediaError", "array_png", "display", "features",
           "image_response"]

#: Feature values shown per item of vector data (the rest are counted).
MAX_FEATURES = 48
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
        ".bmp": "image/bmp", ".gif": "image/gif"}


class MediaError(Exception):
    """An item has nothing to show (answered 404 with the message)."""


class DataCache:
    """The campaign's data read with :func:`~autoal.campaign.items.load_items`, for arrays.

    Only ``.npz`` and CSV data are read (to render array images or show feature values);
    the reading is redone when the file's size or modification time changes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: tuple[Items, dict[str, int]] | None = None

    def get(self, cfg: CampaignConfig) -> tuple[Items, dict[str, int]]:
        """The items and a map item id -> row, read again if the file changed."""
        from autoal.campaign.items import load_items
        from autoal.data import DatasetError

        path = Path(cfg.data_path)
        try:
            st = path.stat()
        except OSError as err:
            raise DataError(f"cannot read the campaign's data {path}: {err}") from None
        key = (str(path), st.st_mtime_ns, st.st_size, cfg.label_column, cfg.id_column)
        with self._lock:
            if self._key != key or self._value is None:
                try:
                    items = load_items(path, cfg.data_kind, label_column=cfg.label_column,
                                       id_column=cfg.id_column)
                except DatasetError as err:
                    raise DataError(f"cannot read the campaign's data: {err}") from None
                self._value = (items, {item_id: k for k, item_id in enumerate(items.ids)})
                self._key = key
            return self._value


def display(cfg: CampaignConfig, cache: DataCache) -> str:
    """``"image"`` or ``"features"``: how the page shows this campaign's items."""
    if cfg.data_kind == "images":
        return "image"
    if cfg.data_kind == "npz":
        items, _ = cache.get(cfg)
        return "image" if items.X.ndim == 4 else "features"
    return "features"


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def features(cfg: CampaignConfig, cache: DataCache, ids: list[str]) -> dict[str, Any]:
    """Item id -> ``{"names", "values", "more"}``: the first feature values, as in the data."""
    import numpy as np

    items, pos = cache.get(cfg)
    n_feat = items.X.shape[1]
    names = items.feature_names or [f"x{j}" for j in range(n_feat)]
    out: dict[str, Any] = {}
    for item_id in ids:
        k = pos.get(item_id)
        if k is None:
            continue
        x = items.X[k, :MAX_FEATURES].astype(np.float64)
        if items.mean is not None and items.std is not None:
            mean = items.mean[:MAX_FEATURES].astype(np.float64)
            std = items.std[:MAX_FEATURES].astype(np.float64)
            x = x * std + mean
            # undo float32 noise: keep 6 significant digits of each feature's scale
            step = 10.0 ** (np.floor(np.log10(np.maximum(np.abs(mean) + std, 1e-12))) - 5)
            x = np.round(x / step) * step
        out[item_id] = {
            "names": names[:MAX_FEATURES],
            "values": [_finite(float(f"{v:.6g}")) for v in x],
            "more": max(0, n_feat - MAX_FEATURES),
        }
    return out


def image_response(cfg: CampaignConfig, cache: DataCache, item_id: str,
                   source: str) -> Response:
    """The image of an item whose recorded ``source`` is known.

    Raises
    ------
    MediaError
        The file is missing, outside the data folder or not an image; or the data are
        feature vectors.
    """
    from flask import Response, send_file

    if cfg.data_kind == "images":
        root = Path(cfg.data_path).resolve()
        try:
            path = Path(source).resolve(strict=True)
        except (OSError, RuntimeError):
            raise MediaError(f"the image of item {item_id!r} is missing") from None
        if (not path.is_relative_to(root) or not path.is_file()
                or path.suffix.lower() not in MIME):
            raise MediaError(f"the image of item {item_id!r} is outside the data folder or "
                             "not an image")
        return send_file(path, mimetype=MIME[path.suffix.lower()], max_age=0, etag=True,
                         conditional=True)
    if cfg.data_kind == "npz":
        items, pos = cache.get(cfg)
        k = pos.get(item_id)
        if items.X.ndim == 4 and k is not None:
            return Response(array_png(items.X[k]), mimetype="image/png")
    raise MediaError(f"item {item_id!r} has no image: this campaign's data are feature vectors")
