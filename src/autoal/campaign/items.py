"""Reading a campaign's data (CSV, ``.npz`` or a folder of images) and its content hash.

The readers are :mod:`autoal.data`'s; this module turns their output into campaign *items*:
a stable id per item, where it came from (``source``), the labels already in the data, the
model input, and a SHA-256 over the data's bytes that later commands compare with the one
stored at init to notice changed data.

Item ids: a CSV's ``id`` column (or the row number ``0, 1, ...`` when there is none), the row
number for an ``.npz``, and the image's path relative to the folder (``cat/img01.png``) for a
folder of images.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DATA_KINDS", "Items", "content_hash", "detect_kind", "load_items"]

#: The kinds of data a campaign can label.
DATA_KINDS = ("table", "npz", "images")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def detect_kind(path: str | os.PathLike[str]) -> str:
    """``"images"`` for a folder, ``"npz"`` for ``.npz``, ``"table"`` for ``.csv``/``.tsv``.

    Raises
    ------
    autoal.data.DatasetError
        If ``path`` does not exist or has another suffix.
    """
    from autoal.data import DatasetError

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"data not found: {path}")
    if path.is_dir():
        return "images"
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix in _TABLE_SUFFIXES:
        return "table"
    raise DatasetError(
        f"unsupported data {path}: expected a .csv file, an .npz file or a folder of images"
    )


def _image_files(root: Path) -> list[Path]:
    """The files :func:`autoal.data.read_image_folder` reads, in its order."""
    from autoal.data.formats import IMAGE_SUFFIXES

    def images(folder: Path) -> list[Path]:
        return sorted(
            p for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
        )

    files = images(root)
    for sub in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        files += images(sub)
    return files


def _hash_files(root: Path | None, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        if root is not None:
            digest.update(f.relative_to(root).as_posix().encode("utf-8") + b"\0")
        with f.open("rb") as fh:
            digest.update(str(os.fstat(fh.fileno()).st_size).encode("ascii") + b"\0")
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def content_hash(path: str | os.PathLike[str], kind: str) -> str:
    """SHA-256 of the data's bytes (for a folder: of every image's relative path and bytes).

    Cheap compared with reading the data: nothing is decoded.

    Raises
    ------
    autoal.data.DatasetError
        If the data cannot be found or read.
    """
    from autoal.data import DatasetError

    path = Path(path)
    try:
        if kind == "images":
            if not path.is_dir():
                raise DatasetError(f"folder not found: {path}")
            return _hash_files(path, _image_files(path))
        if not path.is_file():
            raise DatasetError(f"file not found: {path}")
        return _hash_files(None, [path])
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err}") from None


@dataclass
class Items:
    """A campaign's data as read now.

    Attributes
    ----------
    kind : str
        One of :data:`DATA_KINDS`.
    X : numpy.ndarray
        Model input: vectors ``(N, D)`` standardised with the mean and standard deviation
        over all items, or images ``(N, C, H, W)`` in ``[0, 1]``.
    ids : list of str
        Unique item ids.
    sources : list of str
        ``"row i"`` (0-based data row) or the image path relative to the folder.
    labels : list
        Labels found in the data: ``str`` class names, ``int`` class indices (``.npz`` with
        integer ``y``) or ``None`` (unlabeled).
    content_hash : str
        See :func:`content_hash`.
    mean, std : numpy.ndarray or None
        The standardisation of vector data (``None`` for images).
    feature_names : list of str or None
        A CSV's feature columns.
    """

    kind: str
    X: np.ndarray
    ids: list[str]
    sources: list[str]
    labels: list[str | int | None]
    content_hash: str
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    feature_names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = X.mean(axis=0, dtype=np.float64)
    std = X.std(axis=0, dtype=np.float64)
    std = np.where(std > 1e-8, std, 1.0)
    return ((X - mean) / std).astype(np.float32), mean.astype(np.float32), std.astype(np.float32)


def load_items(
    path: str | os.PathLike[str],
    kind: str | None = None,
    *,
    label_column: str = "label",
    id_column: str = "id",
) -> Items:
    """Read the data at ``path`` as campaign items.

    Parameters
    ----------
    path : path
        A CSV, an ``.npz`` (``X``, optional ``y`` with ``-1`` = unlabeled) or a folder of
        images (loose images are unlabeled; class sub-folders hold labeled images).
    kind : str, optional
        Skip detection (see :func:`detect_kind`).
    label_column, id_column : str
        CSV columns holding known labels and item ids (both optional in the file).

    Raises
    ------
    autoal.data.DatasetError
        Unreadable or invalid data; the message names the file and the problem.
    """
    from autoal.data import DatasetError, read_image_folder, read_npz, read_table

    path = Path(path)
    kind = kind or detect_kind(path)
    if kind == "table":
        digest = content_hash(path, kind)
        X, labels, ids, names = read_table(path, label_column=label_column, id_column=id_column)
        X, mean, std = _standardise(X)
        sources = [f"row {i}" for i in range(len(ids))]
        return Items(kind, X, list(ids), sources, list(labels), digest, mean, std, list(names))
    if kind == "npz":
        digest = content_hash(path, kind)
        X, y = read_npz(path)
        mean = std = None
        if X.ndim == 2:
            X, mean, std = _standardise(X)
        n = len(X)
        if y is None:
            found: list[str | int | None] = [None] * n
        elif y.dtype.kind in "iu":
            found = [None if v < 0 else int(v) for v in y.tolist()]
        else:
            found = [None if not str(v).strip() else str(v).strip() for v in y.tolist()]
        ids = [str(i) for i in range(n)]
        return Items(kind, X, ids, [f"row {i}" for i in range(n)], found, digest, mean, std)
    if kind == "images":
        X, labels, files = read_image_folder(path)
        root = path
        digest = _hash_files(root, list(files))
        rel = [Path(f).relative_to(root).as_posix() for f in files]
        return Items(kind, X, rel, list(rel), list(labels), digest)
    raise DatasetError(f"unknown data kind {kind!r}; expected one of {', '.join(DATA_KINDS)}")
