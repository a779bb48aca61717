"""Reading a campaign's data (CSV, ``.npz`` or a folder of images) and its content hash.

The readers are :mod:`autoal.data`'s; this module turns their output into campaign *items*:
a stable id per item, where it came from (``source``), the labels already in the data, the
model input, and a SHA-256 over the data's bytes that later commands compare with the one
stored at init to notice changed data (see :mod:`autoal.campaign.fingerprint`).

Item ids: a CSV's ``id`` column (or the row number ``0, 1, ...`` when there is none), the row
number for an ``.npz`` or an array pool (a ``.npy`` file or a folder of ``.npy`` shards, read
memory-mapped and never copied whole; its vectors are used as given, not standardised),
and the image's path relative to the folder (``cat/img01.png``) for a folder of images.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autoal.campaign.fingerprint import FileRecord, scan

__all__ = ["DATA_KINDS", "FEATURE_SUFFIXES", "Items", "attach_features", "content_hash",
           "detect_kind", "feature_order", "file_digest", "load_items"]

#: The kinds of data a campaign can label.
DATA_KINDS = ("table", "npz", "images", "array")
#: Files a campaign reads its own feature vectors from (``--features``).
FEATURE_SUFFIXES = (".npy", ".csv")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def detect_kind(path: str | os.PathLike[str], *,
                features: str | os.PathLike[str] | None = None) -> str:
    """``"images"`` for a folder, ``"npz"`` for ``.npz``, ``"table"`` for ``.csv``/``.tsv``;
    ``"array"`` for a ``.npy`` file or a folder of ``.npy`` shards (feature vectors or
    embeddings, memory-mapped: one item per row) that holds no images.

    Parameters
    ----------
    path : path
        The data.
    features : path, optional
        The campaign's ``--features`` file: kept inside a folder of images, it is not taken
        for an array shard.

    Raises
    ------
    autoal.data.DatasetError
        If ``path`` does not exist or has another suffix, or is a folder holding both
        ``.npy`` files and images (loose or in class sub-folders): the message says how to
        choose.
    """
    from autoal.data import DatasetError

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"data not found: {path}")
    if path.is_dir():
        from autoal.data.formats.npy import shard_paths

        own = None if features is None else Path(features).resolve()
        shards = [p for p in shard_paths(path) if p.resolve() != own]
        if not shards:
            return "images"
        image = _first_image(path)
        if image is not None:
            raise DatasetError(_ambiguous_folder(path, image, [p.name for p in shards]))
        return "array"
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return "npz"
    if suffix == ".npy":
        return "array"
    if suffix in _TABLE_SUFFIXES:
        return "table"
    raise DatasetError(
        f"unsupported data {path}: expected a .csv file, an .npz file, a .npy file (or a "
        "folder of .npy shards) or a folder of images"
    )


def _first_image(folder: Path) -> str | None:
    """The first image (relative path) found where a folder of images keeps them: loose at
    the top or in a class sub-folder (hidden entries left out, as the image reader does),
    first in name order; None when there is none. Stops at the first folder holding one."""
    from autoal.data.formats import IMAGE_SUFFIXES

    suffixes = tuple(IMAGE_SUFFIXES)

    def image_in(directory: str) -> str | None:
        with os.scandir(directory) as entries:
            return min((e.name for e in entries
                        if not e.name.startswith(".") and e.is_file()
                        and os.path.splitext(e.name)[1].lower() in suffixes), default=None)

    found = image_in(str(folder))
    if found is not None:
        return found
    with os.scandir(folder) as entries:
        subs = sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))
    for sub in subs:
        found = image_in(os.path.join(folder, sub))
        if found is not None:
            return f"{sub}/{found}"
    return None


def _ambiguous_folder(folder: Path, image: str, shards: list[str]) -> str:
    """The message for a folder holding both images and ``.npy`` files."""
    named = ", ".join(shards[:3]) + (" ..." if len(shards) > 3 else "")
    rows = (f"give --data the .npy itself (--data {folder / shards[0]})" if len(shards) == 1
            else "move the .npy shards into a folder of their own and give --data that folder")
    return (
        f"{folder} holds both images (e.g. {image}) and .npy files ({named}), so it is not "
        "clear what to label: to label the images, move the .npy files out of the folder "
        "(to train on one as the images' feature vectors, pass it with --features); to "
        f"label the rows of the array, {rows}"
    )


def content_hash(path: str | os.PathLike[str], kind: str) -> str:
    """The data's content hash (see :mod:`autoal.campaign.fingerprint`), reading every byte.

    Cheap compared with reading the data: nothing is decoded. Campaigns use
    :func:`~autoal.campaign.fingerprint.scan` with their cache of file hashes instead, which
    reads only files whose stat signature changed.

    Raises
    ------
    autoal.data.DatasetError
        If the data cannot be found or read.
    """
    return scan(path, kind).digest


@dataclass
class Items:
    """A campaign's data as read now.

    Attributes
    ----------
    kind : str
        One of :data:`DATA_KINDS`.
    X : numpy.ndarray
        Model input: vectors ``(N, D)`` standardised with the mean and standard deviation
        over all items, or images ``(N, C, H, W)`` in ``[0, 1]``; for an array pool its
        memory map (or :class:`~autoal.data.PoolArray`), as given.
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
    file_records : dict or None
        The data files' hashes and stat signatures found while hashing, for the campaign's
        cache (see :class:`~autoal.campaign.fingerprint.Scan`).
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
    file_records: dict[str, FileRecord] | None = None

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
    known: Mapping[str, Sequence[int | str]] | None = None,
    features: str | os.PathLike[str] | None = None,
    checked_hash: str | None = None,
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
    known : mapping, optional
        File hashes from an earlier scan: files whose stat signature is unchanged are not
        hashed again (see :func:`~autoal.campaign.fingerprint.scan`).
    features : path, optional
        The user's own feature vectors, which become the model input (see
        :func:`attach_features`).
    checked_hash : str, optional
        The content hash of data already checked for NaN and infinite values (a campaign's
        stored hash, checked at init or when the change was accepted): an array pool with
        this hash is not read through again for the check. Other kinds are always checked
        (they are read whole anyway).

    Raises
    ------
    autoal.data.DatasetError
        Unreadable or invalid data; the message names the file and the problem.
    """
    items = _load(path, kind, label_column=label_column, id_column=id_column, known=known,
                  checked_hash=checked_hash)
    return items if features is None else attach_features(items, features)


def _load(path: str | os.PathLike[str], kind: str | None, *, label_column: str, id_column: str,
          known: Mapping[str, Sequence[int | str]] | None,
          checked_hash: str | None = None) -> Items:
    from autoal.data import DatasetError, read_image_folder, read_npz, read_table

    path = Path(path)
    kind = kind or detect_kind(path)
    mean: np.ndarray | None
    std: np.ndarray | None
    if kind == "table":
        hashed = scan(path, kind, known)
        X, labels, ids, names = read_table(path, label_column=label_column, id_column=id_column)
        X, mean, std = _standardise(X)
        sources = [f"row {i}" for i in range(len(ids))]
        return Items(kind, X, list(ids), sources, list(labels), hashed.digest, mean, std,
                     list(names), hashed.records)
    if kind == "npz":
        hashed = scan(path, kind, known)
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
        return Items(kind, X, ids, [f"row {i}" for i in range(n)], found, hashed.digest, mean,
                     std, file_records=hashed.records)
    if kind == "images":
        X, labels, files = read_image_folder(path)
        hashed = scan(path, kind, known, files=files)
        rel = [Path(f).relative_to(path).as_posix() for f in files]
        return Items(kind, X, rel, list(rel), list(labels), hashed.digest,
                     file_records=hashed.records)
    if kind == "array":
        return _load_array(path, known, checked_hash)
    raise DatasetError(f"unknown data kind {kind!r}; expected one of {', '.join(DATA_KINDS)}")


def _load_array(path: Path, known: Mapping[str, Sequence[int | str]] | None,
                checked_hash: str | None) -> Items:
    """A ``.npy`` or a folder of ``.npy`` shards: one unlabeled item per row, id = row
    number; memory-mapped, not standardised. Checked for NaN/inf a slice at a time unless
    its content hash is ``checked_hash`` (reading a large pool whole on every command would
    cost more than the command)."""
    from autoal.data import DatasetError
    from autoal.data.formats.npy import check_finite_rows, open_rows

    hashed = scan(path, "array", known)
    X = open_rows(path)
    if X.ndim != 2:
        raise DatasetError(f"{path}: expected vectors, one row per item (N, D); got shape "
                           f"{X.shape}")
    if hashed.digest != checked_hash:
        check_finite_rows(X, str(path))
    n = len(X)
    ids = [str(i) for i in range(n)]
    return Items("array", X, ids, [f"row {i}" for i in range(n)], [None] * n, hashed.digest,
                 file_records=hashed.records)


def file_digest(path: str | os.PathLike[str]) -> str:
    """``sha256:`` hex digest of a file's bytes (the features file's check)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def feature_order(items: Items) -> list[str]:
    """The item ids in the order the rows of a ``.npy`` of features must follow: the data's
    rows for a CSV or ``.npz``; for a folder of images, the images' paths relative to the
    folder (``cat/img01.png``), sorted as strings."""
    return sorted(items.ids) if items.kind == "images" else list(items.ids)


def attach_features(items: Items, path: str | os.PathLike[str]) -> Items:
    """``items`` with the user's feature vectors as the model input (standardised).

    Parameters
    ----------
    items : Items
        The data as read.
    path : path
        A ``.npy`` with one row per item, in :func:`feature_order`; or a CSV with an ``id``
        column (the item ids) and numeric feature columns, one row per item in any order.

    Raises
    ------
    autoal.data.DatasetError
        Unreadable file, not 2-D numeric and finite, or rows that do not match the items
        one to one (the message gives the counts and some of the ids).
    """
    from autoal.data import DatasetError, read_table

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"--features {path}: no such file")
    suffix = path.suffix.lower()
    names: list[str] | None = None
    if suffix == ".npy":
        try:
            F = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise DatasetError(f"cannot read the features {path}: {err}") from None
        if F.ndim != 2 or F.dtype.kind not in "iuf":
            raise DatasetError(f"the features {path} must be a 2-D numeric array (one row "
                               f"per item), got shape {F.shape} of {F.dtype}")
        order = feature_order(items)
        if len(F) != len(order):
            raise DatasetError(
                f"the features {path} have {len(F)} rows but the data has {len(order)} items; "
                "give one row per item, in the order "
                + ("of the image paths relative to the folder, sorted"
                   if items.kind == "images" else "of the data's rows")
                + f" (first ids: {', '.join(order[:3])})")
        rank = {item_id: k for k, item_id in enumerate(order)}
        F = F[[rank[i] for i in items.ids]]
    elif suffix == ".csv":
        X, _, ids, names = read_table(path, label_column="label", id_column="id")
        row = {item_id: k for k, item_id in enumerate(ids)}
        missing = [i for i in items.ids if i not in row]
        extra = [i for i in ids if i not in set(items.ids)]
        if missing or extra or len(ids) != len(items.ids):
            parts = []
            if missing:
                parts.append(f"{len(missing)} item(s) have no row ({', '.join(missing[:3])}"
                             f"{' ...' if len(missing) > 3 else ''})")
            if extra:
                parts.append(f"{len(extra)} row(s) name no item ({', '.join(extra[:3])}"
                             f"{' ...' if len(extra) > 3 else ''})")
            raise DatasetError(f"the features {path} do not match the data's {len(items.ids)} "
                               f"items by id: {'; '.join(parts)}")
        F = X[[row[i] for i in items.ids]]
    else:
        raise DatasetError(f"--features {path}: expected a .npy (one row per item) or a .csv "
                           "with an id column")
    F = np.asarray(F, dtype=np.float64)
    if not np.all(np.isfinite(F)):
        raise DatasetError(f"the features {path} hold NaN or infinite values")
    X, mean, std = _standardise(F)
    return Items(items.kind, X, items.ids, items.sources, items.labels, items.content_hash,
                 mean, std, names, items.file_records)
