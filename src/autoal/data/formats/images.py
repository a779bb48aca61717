"""Folders of images: one sub-folder per class, or a flat folder of unlabelled images."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from autoal.data.dataset import DatasetError
from autoal.data.formats.checks import to_model_input

__all__ = ["IMAGE_SUFFIXES", "read_image_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_GREY_BANDS = {"L", "1", "I", "F"}


def _list_images(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def _open_image(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            return img.copy()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DatasetError(f"cannot read image {path}: {exc}") from exc


def _fit(img: Image.Image, mode: str, size: tuple[int, int]) -> Image.Image:
    img = img if img.mode == mode else img.convert(mode)
    return img if img.size == size else img.resize(size, Image.Resampling.BILINEAR)


def read_image_folder(
    path: str | Path,
) -> tuple[np.ndarray, list[str | None], list[Path]]:
    """Read a folder of images: class sub-folders give labels, loose images are unlabelled.

    All images become grey (``"L"``) if every image is grey, else RGB; images whose size
    differs from the most common size are resized (bilinear) to it.

    Parameters
    ----------
    path : str or Path
        Folder holding image files (``.png .jpg .jpeg .bmp .gif``) and/or one sub-folder of
        image files per class. Hidden files and deeper folders are ignored.

    Returns
    -------
    X : numpy.ndarray
        ``float32 (N, C, H, W)`` in ``[0, 1]``, ``C`` = 1 or 3.
    labels : list of str or None
        Sub-folder name per image; ``None`` for images directly in ``path``.
    files : list of pathlib.Path
        The image files: loose images first, then sub-folders in sorted order.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"folder not found: {root}")
    files = _list_images(root)
    labels: list[str | None] = [None] * len(files)
    for sub in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        found = _list_images(sub)
        files += found
        labels += [sub.name] * len(found)
    if not files:
        raise DatasetError(
            f"no image files ({' '.join(IMAGE_SUFFIXES)}) in {root} or its sub-folders"
        )
    images = [_open_image(f) for f in files]
    grey = all(set(img.getbands()) - {"A"} <= _GREY_BANDS for img in images)
    mode = "L" if grey else "RGB"
    size = Counter(img.size for img in images).most_common(1)[0][0]
    pixels = np.stack([np.asarray(_fit(img, mode, size)) for img in images])
    (X,) = to_model_input(pixels, name=str(root))
    assert X is not None
    return X, labels, files
