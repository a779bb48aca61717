"""A labelled data set held as ``.npy`` arrays in a folder, memory-mapped, never copied.

Layout (every ``X`` may be one ``.npy`` file or a folder of ``.npy`` shards, see
:func:`autoal.data.formats.npy.open_rows`)::

    data/
      X_train.npy   (or X_train/shard-00000.npy, ...)   features or embeddings, (N, D)
      y_train.npy                                       one label per row
      X_test.npy    (or X_test/)                        (M, D)
      y_test.npy
      classes.txt                                       optional: one class name per line

Labels are integers (or strings); with ``classes.txt`` they are class ids ``0 .. C-1``
indexing its lines, else classes are the sorted distinct labels. The vectors are used as
given: unlike a ``.npz`` or a CSV, an array pool is not standardised (that would need a
copy of the pool), so give it on the scale the model should see (a foundation model's
embeddings usually are). ``float32`` arrays stay memory maps; other numeric dtypes are
converted as their rows are read. Nothing is read whole but the labels; the NaN/inf check
reads the arrays a bounded slice at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from autoal.data.dataset import Dataset, DatasetError
from autoal.data.formats.npy import check_finite_rows, open_rows
from autoal.data.labels import encode_labels

__all__ = ["ARRAY_FOLDER_FILES", "is_array_folder", "load_array_folder"]

#: What an array folder holds (the X parts may be shard folders instead of files).
ARRAY_FOLDER_FILES = ("X_train.npy", "y_train.npy", "X_test.npy", "y_test.npy")


def _x_path(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.npy", folder / stem):
        if candidate.exists():
            return candidate
    return None


def is_array_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds an ``X_train.npy`` file or an ``X_train`` shard folder."""
    return _x_path(Path(folder), "X_train") is not None


def load_array_folder(folder: str | Path) -> Dataset:
    """Load an array folder (see the module docstring) as a :class:`Dataset`.

    Raises
    ------
    DatasetError
        A missing file (named), arrays whose row counts differ (both named), shards that do
        not fit together (the odd one named), non-finite values (the file and the row),
        labels that are not class ids.
    """
    folder = Path(folder).expanduser()
    arrays: dict[str, Any] = {}
    for stem in ("X_train", "X_test"):
        path = _x_path(folder, stem)
        if path is None:
            raise DatasetError(f"{folder}: no {stem}.npy (nor a {stem}/ folder of .npy "
                               f"shards); an array folder holds {', '.join(ARRAY_FOLDER_FILES)}")
        X = open_rows(path, name=str(path))
        if X.ndim != 2:
            raise DatasetError(f"{path}: expected vectors (N, D), got shape {X.shape}")
        arrays[stem] = (path, X)
    (train_path, X), (test_path, X_test) = arrays["X_train"], arrays["X_test"]
    if X.shape[1] != X_test.shape[1]:
        raise DatasetError(f"{train_path} has {X.shape[1]} columns but {test_path} has "
                           f"{X_test.shape[1]}")
    y = _labels(folder / "y_train.npy", len(X), train_path)
    y_test = _labels(folder / "y_test.npy", len(X_test), test_path)
    classes = _classes(folder / "classes.txt")
    if classes is None:
        codes, classes = encode_labels(np.concatenate([y, y_test]))
        y, y_test = codes[: len(y)], codes[len(y):]
    else:
        for path, labels in ((folder / "y_train.npy", y), (folder / "y_test.npy", y_test)):
            if labels.dtype.kind not in "iu" or (
                len(labels) and (labels.min() < 0 or labels.max() >= len(classes))
            ):
                raise DatasetError(f"{path}: with classes.txt the labels must be class ids "
                                   f"0..{len(classes) - 1} (its {len(classes)} lines)")
    if len(np.unique(y)) < 2:
        raise DatasetError(f"{folder / 'y_train.npy'}: need at least 2 classes")
    check_finite_rows(X, str(train_path))
    check_finite_rows(X_test, str(test_path))
    return Dataset(
        name=folder.name, X_train=X, y_train=y, X_test=X_test, y_test=y_test,
        classes=classes,
        description=f"array folder {folder.name} (memory-mapped, not standardised), "
                    f"{len(X)} train / {len(X_test)} test",
    )


def _labels(path: Path, n_rows: int, x_path: Path) -> np.ndarray:
    """A 1-D label array with one label per row of ``x_path``."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; an array folder needs one label per row "
                           f"of {x_path.name}")
    try:
        y = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise DatasetError(f"{path} is not a readable .npy file: {err}") from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DatasetError(f"{path}: expected one label per row, got shape {y.shape}")
    if len(y) != n_rows:
        raise DatasetError(f"{path} has {len(y)} labels but {x_path} has {n_rows} rows")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            raise DatasetError(f"{path}: label {y[bad[0]]} at row {bad[0]} is not a class id")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iuUS":
        raise DatasetError(f"{path}: labels must be integers or strings, got {y.dtype}")
    return y.astype(np.int64) if y.dtype.kind in "iu" else y.astype(str)


def _classes(path: Path) -> list[str] | None:
    if not path.is_file():
        return None
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = [n for n in names if n]
    if len(names) < 2 or len(set(names)) != len(names):
        raise DatasetError(f"{path}: expected at least 2 distinct class names, one per line")
    return names
