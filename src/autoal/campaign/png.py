"""PNG bytes of an image array: the page's images and Label Studio's embedded images."""

from __future__ import annotations

import io
from typing import Any

__all__ = ["array_png"]


def array_png(x: Any) -> bytes:
    """PNG bytes of an image array ``(C, H, W)`` with values in ``[0, 1]``."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    arr = np.nan_to_num(arr, nan=0.0)
    pixels = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if pixels.shape[0] == 3:
        img = Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)), mode="RGB")
    else:
        img = Image.fromarray(np.ascontiguousarray(pixels[0]), mode="L")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
