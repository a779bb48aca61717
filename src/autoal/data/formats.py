"""Low-level readers: IDX, CSV tables, ``.npz`` archives and folders of images.

Every reader validates what it returns and raises :class:`DatasetError` with a message that
names the file and the problem. Labels may be missing here (a labeling campaign reads
unlabelled data); :func:`autoal.data.load_dataset` is stricter.
"""

from __future__ import annotations

import csv
import gzip
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from .dataset import DatasetError

__all__ = [
    "IMAGE_SUFFIXES",
    "Table",
    "check_finite",
    "parse_table",
    "read_idx",
    "read_image_folder",
    "read_npz",
    "read_npz_splits",
    "read_table",
    "to_model_input",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GREY_BANDS = {"L", "1", "I", "F"}


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


# ----------------------------------------------------------------------------- IDX
def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not.

    Parameters
    ----------
    path : str or Path
        ``*-ubyte`` or ``*-ubyte.gz`` file.

    Returns
    -------
    numpy.ndarray
        The array, in native byte order, with the shape stored in the header.
    """
    path = check_file(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path} is not an IDX file (bad magic number)")
    ndim, dtype = data[3], np.dtype(_IDX_DTYPES[data[2]])
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path} is truncated (header cut short)")
    dims = np.frombuffer(data, ">u4", count=ndim, offset=4).astype(np.int64)
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(data) != expected:
        raise DatasetError(
            f"{path} is truncated or corrupt: {len(data)} bytes, header says {expected}"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


# ----------------------------------------------------------------------------- arrays
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
    for a in present:
        if a.dtype.kind not in "biuf":
            raise DatasetError(f"{name} must be numeric, got dtype {a.dtype}")
        if a.ndim not in (2, 3, 4):
            raise DatasetError(f"{name} must have 2, 3 or 4 dimensions, got shape {a.shape}")
        if len(a) == 0:
            raise DatasetError(f"{name} has no rows")
        if a.size == 0:
            raise DatasetError(f"{name} has rows without values (shape {a.shape})")
        check_finite(a, name)
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


def _check_labels(y: np.ndarray, n: int, name: str, path: Path) -> np.ndarray:
    """Validate raw labels: 1-D (or (N, 1)), length ``n``; numeric ones integral and >= -1."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DatasetError(
            f"{path}: {name} must be one label per row, got shape {y.shape} "
            "(multi-label data is not supported)"
        )
    if len(y) != n:
        raise DatasetError(f"{path}: X has {n} rows but {name} has {len(y)} labels")
    if y.dtype.kind in "US":
        return y.astype(str)
    if y.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: {name} must hold integers or strings, got dtype {y.dtype}")
    if y.dtype.kind == "f":
        frac = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if frac.size:
            raise DatasetError(
                f"{path}: {name} holds labels that are not class ids: non-integer value "
                f"{y[frac[0]]} at row {frac[0]}"
            )
    y = y.astype(np.int64)
    if len(y) and y.min() < -1:
        raise DatasetError(
            f"{path}: {name} holds labels that are not class ids: negative value {y.min()} "
            "(only -1, meaning unlabelled, is allowed)"
        )
    return y


# ----------------------------------------------------------------------------- npz
_NPZ_KEYS = {"X": ("X", "x"), "y": ("y", "Y"), "X_test": ("X_test", "x_test"),
             "y_test": ("y_test", "Y_test")}
_MEDMNIST = ("train_images", "train_labels", "val_images", "val_labels", "test_images",
             "test_labels")


def read_npz_splits(
    path: str | Path,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Read an ``.npz`` archive with its own test split if it has one.

    Accepted layouts: keys ``X``, ``y`` (optional) and optional ``X_test``, ``y_test``; or
    MedMNIST's ``train_images``, ``train_labels``, optional ``val_images``, ``val_labels``,
    ``test_images``, ``test_labels`` (validation rows are merged into train).

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file.

    Returns
    -------
    X, y, X_test, y_test
        ``X``/``X_test`` converted by :func:`to_model_input`; labels 1-D ``int64`` (``-1`` =
        unlabelled) or ``str`` arrays; missing parts are ``None``.
    """
    path = check_file(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            raw = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    not_arrays = sorted(k for k, v in raw.items() if not isinstance(v, np.ndarray))
    if not_arrays:  # np.load hands back a member without the .npy header as raw bytes
        raise DatasetError(f"{path}: member(s) {', '.join(map(repr, not_arrays))} are not "
                           "numpy arrays (.npy)")
    if "train_images" in raw:
        missing = [k for k in ("train_labels", "test_images", "test_labels") if k not in raw]
        if missing:
            raise DatasetError(f"{path}: MedMNIST layout without {', '.join(missing)}")
        parts = {"X": [raw["train_images"]], "y": [raw["train_labels"]]}
        if "val_images" in raw and "val_labels" in raw:
            parts["X"].append(raw["val_images"])
            parts["y"].append(raw["val_labels"])
        for key, arrs in parts.items():
            if len({a.shape[1:] for a in arrs}) > 1:
                raise DatasetError(f"{path}: train and val {key} shapes differ")
        try:
            joined = {key: np.concatenate(arrs) for key, arrs in parts.items()}
        except (TypeError, ValueError) as exc:  # e.g. no common dtype
            raise DatasetError(f"{path}: cannot join train and val rows: {exc}") from None
        found = {**joined, "X_test": raw["test_images"], "y_test": raw["test_labels"]}
    else:
        found = {k: next((raw[a] for a in alias if a in raw), None)
                 for k, alias in _NPZ_KEYS.items()}
        if found["X"] is None:
            raise DatasetError(
                f"{path}: no features found; expected key 'X' (with 'y', optional 'X_test', "
                f"'y_test') or MedMNIST's {', '.join(_MEDMNIST)}; found keys: "
                f"{', '.join(sorted(raw)) or 'none'}"
            )
        if (found["X_test"] is None) != (found["y_test"] is None) and found["y"] is not None:
            raise DatasetError(f"{path}: X_test and y_test must be given together")
    X, X_test = to_model_input(found["X"], found["X_test"], name="X")
    if X_test is not None and X_test.shape[1:] != X.shape[1:]:
        raise DatasetError(
            f"{path}: X rows have shape {X.shape[1:]} but X_test rows have {X_test.shape[1:]}"
        )
    y = None if found["y"] is None else _check_labels(found["y"], len(X), "y", path)
    y_test = found["y_test"]
    if y_test is not None:
        y_test = None if X_test is None else _check_labels(y_test, len(X_test), "y_test", path)
    return X, y, X_test, y_test


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read features and (optional) labels from an ``.npz`` archive.

    Parameters
    ----------
    path : str or Path
        ``.npz`` with key ``X`` (and optionally ``y``), or a MedMNIST archive (its train and
        val rows are returned; the test rows are not).

    Returns
    -------
    X : numpy.ndarray
        ``float32`` vectors ``(N, D)`` (not standardised) or images ``(N, C, H, W)`` in [0, 1].
    y : numpy.ndarray or None
        ``int64`` labels (``-1`` = unlabelled) or ``str`` labels; ``None`` if absent.
    """
    X, y, _, _ = read_npz_splits(path)
    return X, y


# ----------------------------------------------------------------------------- CSV
class Table(NamedTuple):
    """A parsed CSV table; see :func:`parse_table`."""

    X: np.ndarray
    labels: list[str | None]
    ids: list[str]
    feature_names: list[str]
    columns: list[str]
    has_labels: bool


def parse_table(
    path: str | Path,
    *,
    label_column: str = "label",
    id_column: str = "id",
    require_label_column: bool = False,
) -> Table:
    """Parse a CSV (``.tsv``: tab-separated) table; like :func:`read_table` with more detail.

    ``columns`` is the header and ``has_labels`` whether the label column exists; with
    ``require_label_column`` a missing label column is an error that lists the columns.
    """
    path = check_file(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh, delimiter=delimiter) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise DatasetError(f"{path} is empty (no header, no rows)")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if not body:
        raise DatasetError(f"{path} has a header but no rows")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DatasetError(f"{path}: column {dup!r} appears more than once in the header")
    lengths = np.array([len(r) for r in body])
    ragged = np.flatnonzero(lengths != len(header))
    if ragged.size:
        i = ragged[0]
        raise DatasetError(
            f"{path}: row {i} has {lengths[i]} fields but the header has {len(header)}"
        )
    cells = np.char.strip(np.array(body, dtype=str))
    feature_names = [h for h in header if h not in (label_column, id_column)]
    if not feature_names:
        raise DatasetError(f"{path}: no feature columns (columns: {', '.join(header)})")
    has_labels = label_column in header
    if require_label_column and not has_labels:
        raise DatasetError(f"{path}: no label column {label_column!r}; columns are: "
                           f"{', '.join(header)} (choose one with label_column)")
    labels: list[str | None] = [None] * len(body)
    if has_labels:
        labels = [c or None for c in cells[:, header.index(label_column)].tolist()]
    if id_column in header:
        ids = cells[:, header.index(id_column)].tolist()
        _check_ids(ids, path)
    else:
        ids = np.arange(len(body)).astype(str).tolist()
    X = _numeric_features(cells[:, [header.index(f) for f in feature_names]], feature_names,
                          path)
    return Table(X, labels, ids, feature_names, header, has_labels)


def _check_ids(ids: list[str], path: Path) -> None:
    values, counts = np.unique(np.array(ids, dtype=str), return_counts=True)
    if "" in values:
        raise DatasetError(f"{path}: empty id in row {ids.index('')}")
    if (counts > 1).any():
        duplicate = str(values[counts > 1][0])
        raise DatasetError(f"{path}: ids must be unique; duplicate id {duplicate!r}")


def _numeric_features(cells: np.ndarray, names: list[str], path: Path) -> np.ndarray:
    cells = np.where(cells == "", "nan", cells)
    try:
        X = cells.astype(np.float64)
    except ValueError:
        bad = []
        for j, name in enumerate(names):
            try:
                cells[:, j].astype(np.float64)
            except ValueError:
                bad.append(repr(name))
        raise DatasetError(
            f"{path}: non-numeric feature columns: {', '.join(bad)} (feature columns must hold "
            "numbers; name the label column with label_column)"
        ) from None
    try:
        check_finite(X)
    except DatasetError as exc:
        row = np.flatnonzero(~np.isfinite(X).all(axis=1))[0]
        col = names[int(np.flatnonzero(~np.isfinite(X[row]))[0])]
        raise DatasetError(f"{path}: {exc}; column {col!r} is empty or not finite") from None
    return X.astype(np.float32)


def read_table(
    path: str | Path, *, label_column: str = "label", id_column: str = "id"
) -> tuple[np.ndarray, list[str | None], list[str], list[str]]:
    """Read a CSV table of numeric features with optional labels and ids.

    Parameters
    ----------
    path : str or Path
        CSV file with a header row (``.tsv``: tab-separated).
    label_column : str
        Column holding labels; it may be absent or have empty cells (unlabelled rows).
    id_column : str
        Column holding unique row ids; absent means row numbers.

    Returns
    -------
    X : numpy.ndarray
        ``float32 (N, D)``, raw (not standardised).
    labels : list of str or None
        Label text per row; ``None`` where empty or the column is missing.
    ids : list of str
        Row ids (``"0"``, ``"1"``, ... when there is no id column).
    feature_names : list of str
        Names of the ``D`` feature columns, in file order.

    Raises
    ------
    DatasetError
        Missing, empty or unreadable file, ragged rows, non-numeric feature columns (named),
        NaN/inf or empty feature cells, duplicate ids.
    """
    table = parse_table(path, label_column=label_column, id_column=id_column)
    return table.X, table.labels, table.ids, table.feature_names


# ----------------------------------------------------------------------------- images
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
    return X, labels, files
