"""``.npz`` archives: ``X``/``y`` (and a test split), or MedMNIST's layout."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from autoal.data.dataset import DatasetError
from autoal.data.formats.checks import check_file, to_model_input

__all__ = ["read_npz", "read_npz_splits"]

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
    assert X is not None  # found["X"] was checked above
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
