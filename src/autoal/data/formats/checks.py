"""Checks every reader shares: the file exists, values are finite, arrays in model layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autoal.data.dataset import DatasetError

__all__ = ["check_file", "check_finite", "to_model_input"]

def check_file(path: str | Path) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` if it is a non-empty file.

    Raises
    ------
    DatasetError
        If the file does not exist, is a folder or is empty.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetError(f"file not found: {path}")
    if path.is_dir():
        raise DatasetError(f"expected a file but {path} is a folder")
    if path.stat().st_size == 0:
        raise DatasetError(f"{path} is empty (0 bytes)")
    return path


def check_finite(X: np.ndarray, name: str = "X") -> None:
    """Raise :class:`DatasetError` if ``X`` holds NaN or infinite values.

    The message names the first bad row (0-based index into ``X``).
    """
    if not np.issubdtype(X.dtype, np.inexact) or X.size == 0:
        return
    bad = np.flatnonzero(~np.isfinite(X.reshape(len(X), -1)).all(axis=1))
    if bad.size:
        raise DatasetError(f"{name} contains NaN or infinite values (first bad row: {bad[0]})")


def to_model_input(*arrays: np.ndarray | None, name: str = "X") -> list[np.ndarray | None]:
    """Convert raw feature arrays to the layout and scale models expect.

    ``ndim == 2``: vectors, returned as ``float32`` (not standardised). ``ndim == 3``: grey
    images ``(N, H, W)``. ``ndim == 4``: images, channels-last if the last axis is 1 or 3,
    else channels-first. Images become ``float32 (N, C, H, W)`` in ``[0, 1]``: integer
    pixels are divided by 255 (by the dtype's maximum if larger values occur); float pixels
    already in ``[0, 1]`` are kept, those in ``[0, 255]`` are divided by 255. All arrays share
    one scale (decided on all of them together).

    Parameters
    ----------
    *arrays : numpy.ndarray or None
        E.g. ``X`` and ``X_test``; ``None`` entries pass through.
    name : str
        Name used in error messages.

    Returns
    -------
    list of numpy.ndarray or None
    """
    present = [a for a in arrays if a is not None]
    for p in present:
        if p.dtype.kind not in "biuf":
            raise DatasetError(f"{name} must be numeric, got dtype {p.dtype}")
        if p.ndim not in (2, 3, 4):
            raise DatasetError(f"{name} must have 2, 3 or 4 dimensions, got shape {p.shape}")
        if len(p) == 0:
            raise DatasetError(f"{name} has no rows")
        if p.size == 0:
            raise DatasetError(f"{name} has rows without values (shape {p.shape})")
        check_finite(p, name)
    if len({a.ndim for a in present}) > 1:
        shapes = " and ".join(str(a.shape) for a in present)
        raise DatasetError(f"{name}: train and test arrays differ in layout: {shapes}")
    if not present or present[0].ndim == 2:
        return [None if a is None else a.astype(np.float32) for a in arrays]
    divisor = _pixel_divisor(present, name)
    out: list[np.ndarray | None] = []
    for a in arrays:
        if a is not None:
            if a.ndim == 3:
                a = a[:, None]
            elif a.shape[-1] in (1, 3):
                a = a.transpose(0, 3, 1, 2)
            a = np.array(a, dtype=np.float32, order="C")  # always a copy: scaled in place
            if divisor != 1:
                a /= np.float32(divisor)
        out.append(a)
    return out


def _pixel_divisor(arrays: list[np.ndarray], name: str) -> float:
    lo = min(float(a.min()) for a in arrays)
    hi = max(float(a.max()) for a in arrays)
    if arrays[0].dtype.kind == "b":
        return 1.0
    if arrays[0].dtype.kind in "iu":
        if lo < 0:
            raise DatasetError(f"{name}: image pixels must be >= 0, found {lo:g}")
        return 255.0 if hi <= 255 else float(np.iinfo(arrays[0].dtype).max)
    if lo >= 0 and hi <= 1:
        return 1.0
    if lo >= 0 and hi <= 255:
        return 255.0
    raise DatasetError(
        f"{name}: image values must lie in [0, 1] or [0, 255], found {lo:g} .. {hi:g}"
    )
