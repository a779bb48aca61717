"""The :class:`Dataset` container and the :class:`DatasetError` raised by every loader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autoal.data.pool_array import PoolArray, first_nonfinite_row

__all__ = ["Dataset", "DatasetError"]


class DatasetError(ValueError):
    """A data set could not be found, read or validated.

    The message names the problem (and, for a missing built-in set, how to get it).
    """


@dataclass(eq=False, repr=False)
class Dataset:
    """A labelled train/test split ready for a task model.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"fashion-mnist"`` or the stem of a user file.
    X_train, X_test : numpy.ndarray
        ``float32``. Vectors ``(N, D)`` standardised with train-split statistics, or images
        ``(N, C, H, W)`` with values in ``[0, 1]``. A memory-mapped array or a
        :class:`~autoal.data.pool_array.PoolArray` (an array pool, see
        :mod:`autoal.data.array_folder`) is kept as it is, never copied; its vectors are
        used as given (not standardised).
    y_train, y_test : numpy.ndarray
        ``int64`` class ids ``0 .. n_classes - 1``.
    classes : list of str
        Class names; index = class id.
    description : str
        One line naming the source and the split.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    description: str

    def __post_init__(self) -> None:
        self.X_train = _as_float32(self.X_train)
        self.X_test = _as_float32(self.X_test)
        self.y_train = np.asarray(self.y_train, dtype=np.int64)
        self.y_test = np.asarray(self.y_test, dtype=np.int64)
        self.classes = [str(c) for c in self.classes]
        for split in ("train", "test"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if X.ndim not in (2, 4):
                raise DatasetError(f"X_{split} must be (N, D) or (N, C, H, W), got {X.shape}")
            if first_nonfinite_row(X) is not None:
                raise DatasetError(f"X_{split} contains NaN or infinite values")
            if y.ndim != 1 or len(y) != len(X):
                raise DatasetError(
                    f"X_{split} has {len(X)} rows but y_{split} has shape {y.shape}"
                )
            if len(y) and (y.min() < 0 or y.max() >= len(self.classes)):
                raise DatasetError(
                    f"y_{split} holds ids outside 0..{len(self.classes) - 1} "
                    f"({len(self.classes)} classes)"
                )
        if self.X_train.shape[1:] != self.X_test.shape[1:]:
            raise DatasetError(
                f"X_train rows are {self.X_train.shape[1:]} but X_test rows are "
                f"{self.X_test.shape[1:]}"
            )

    @property
    def kind(self) -> str:
        """``"image"`` for ``(N, C, H, W)`` inputs, else ``"vector"``."""
        return "image" if self.X_train.ndim == 4 else "vector"

    @property
    def n_classes(self) -> int:
        """Number of classes (``len(classes)``)."""
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, ``X_train.shape[1:]``."""
        return tuple(self.X_train.shape[1:])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, kind={self.kind!r}, train={len(self.y_train)}, "
            f"test={len(self.y_test)}, input_shape={self.input_shape}, "
            f"n_classes={self.n_classes})"
        )


def _as_float32(X: Any) -> Any:
    """``X`` as float32 rows; a float32 array (a memory map too) or a PoolArray is not
    copied (a PoolArray of another dtype converts the rows it reads)."""
    if isinstance(X, PoolArray):
        return X if X.dtype == np.float32 else PoolArray(X.parts, X.rows, np.float32)
    if isinstance(X, np.ndarray) and X.dtype == np.float32:
        return X
    return np.asarray(X, dtype=np.float32)
