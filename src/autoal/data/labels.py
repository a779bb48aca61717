"""Class ids from labels: :func:`encode_labels`, shared by the loaders."""

from __future__ import annotations

import numpy as np

from autoal.data.dataset import DatasetError

__all__ = ["encode_labels"]


def encode_labels(y: np.ndarray, *, parse_numbers: bool = True) -> tuple[np.ndarray, list[str]]:
    """Map labels to class ids ``0..C-1`` in sorted order.

    Integer labels (also integral floats, and, with ``parse_numbers``, strings that all read
    as integers) sort numerically and are named ``str(label)``; other strings sort as text.

    Returns
    -------
    codes : numpy.ndarray
        ``int64`` class ids.
    classes : list of str
        Class name per id.
    """
    y = np.asarray(y)
    if y.dtype.kind in "USO":
        y = y.astype(str)
        try:
            if not parse_numbers:
                raise ValueError
            y = y.astype(np.float64)
        except ValueError:
            values, codes = np.unique(y, return_inverse=True)
            return codes.astype(np.int64).ravel(), values.tolist()
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            raise DatasetError(f"labels that are not class ids: non-integer value {y[bad[0]]} "
                               f"(row {bad[0]})")
    y = y.astype(np.int64)
    if len(y) and y.min() < 0:
        raise DatasetError(f"labels that are not class ids: negative value {y.min()} "
                           f"(row {int(np.argmin(y))}); class ids must be >= 0")
    values, codes = np.unique(y, return_inverse=True)
    return codes.astype(np.int64).ravel(), [str(v) for v in values.tolist()]
