"""Label-free representations of the data, computed once per run.

Diversity strategies built with ``representation="features"`` (see
:mod:`autoal.strategies.representation`) measure distances in ``Evidence.features`` /
``Evidence.labeled_features`` instead of the task model's embeddings, which are poor with
20-100 labels. Two sources:

- :func:`label_free_features`: the default, a standardised PCA of the inputs, fitted once
  per run on the pool and the labeled set together (no labels used);
- :func:`load_feature_vectors`: the user's own vectors (e.g. a foundation model's
  embeddings), one row per sample, from a ``.npy`` file.

A run computes the features once for all its samples and then slices them per round:
``Evidence(features=F[pool_idx], labeled_features=F[labeled_idx], ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from autoal.chunks import row_slices
from autoal.data.pool_array import first_nonfinite_row, is_file_backed

__all__ = ["DEFAULT_COMPONENTS", "label_free_features", "load_feature_vectors"]

#: Dimension of the default label-free representation.
DEFAULT_COMPONENTS = 50


def label_free_features(
    inputs: np.ndarray,
    n_components: int = DEFAULT_COMPONENTS,
    random_state: int = 0,
    standardize: bool = True,
) -> np.ndarray:
    """A standardised PCA of ``inputs``: the default label-free representation.

    Each input is flattened to one row; each column is standardised to zero mean and unit
    variance (``standardize=True``; constant columns are only centred), then projected on
    the first ``min(n_components, n_samples, n_columns)`` principal components (scikit-learn's
    PCA, randomised SVD on large inputs, seeded by ``random_state``). Fit it once per run on
    every sample the run may query or label (pool and initial labeled set together): no
    label is used, so the features do not change as labels arrive.

    Parameters
    ----------
    inputs:
        The model inputs, ``(N, ...)``.
    n_components:
        Number of principal components kept (default :data:`DEFAULT_COMPONENTS`).
    random_state:
        Seed of the randomised SVD.
    standardize:
        Standardise each input column before the PCA (else only centre it).

    A memory-mapped ``inputs`` (or a :class:`~autoal.data.PoolArray`) is read a bounded
    chunk at a time, never copied: the columns' means and deviations and their covariance
    are summed over chunks and the components are its leading eigenvectors (an exact PCA,
    not randomised; each component's sign is fixed so that its largest entry is positive).

    Returns
    -------
    numpy.ndarray
        ``(N, k)`` float32 features, ``k = min(n_components, N, columns)``.
    """
    if is_file_backed(inputs):
        return _chunked_features(inputs, n_components, standardize)
    flat = np.asarray(inputs).reshape(len(inputs), -1).astype(np.float64)
    if flat.shape[0] < 2:
        raise ValueError(f"label-free features need at least 2 samples, got {flat.shape[0]}")
    if int(n_components) != n_components or n_components < 1:
        raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
    if not np.all(np.isfinite(flat)):
        raise ValueError("inputs contain NaN or infinite values")
    flat = StandardScaler(with_std=standardize).fit_transform(flat)
    k = min(int(n_components), *flat.shape)
    pca = PCA(n_components=k, random_state=random_state)
    return pca.fit_transform(flat).astype(np.float32)


def _chunked_features(inputs: Any, n_components: int, standardize: bool) -> np.ndarray:
    """:func:`label_free_features` of a file-backed pool, reading it in row chunks."""
    n = len(inputs)
    width = int(np.prod(inputs.shape[1:]))
    if n < 2:
        raise ValueError(f"label-free features need at least 2 samples, got {n}")
    if int(n_components) != n_components or n_components < 1:
        raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
    if first_nonfinite_row(inputs) is not None:
        raise ValueError("inputs contain NaN or infinite values")

    def chunks() -> Iterator[tuple[slice, np.ndarray]]:
        for rows in row_slices(n, width):
            yield rows, np.array(inputs[rows], dtype=np.float64).reshape(-1, width)

    mean = sum(np.sum(x, axis=0) for _, x in chunks()) / n
    scatter = np.zeros((width, width))
    for _, x in chunks():
        x -= mean
        scatter += x.T @ x
    scale = np.sqrt(np.diag(scatter) / n) if standardize else np.ones(width)
    scale = np.where(scale > 0, scale, 1.0)
    values, vectors = np.linalg.eigh(scatter / np.outer(scale, scale))
    k = min(int(n_components), n, width)
    top = vectors[:, np.argsort(values)[::-1][:k]]
    top *= np.where(top[np.abs(top).argmax(axis=0), np.arange(k)] < 0, -1.0, 1.0)
    out = np.empty((n, k), dtype=np.float32)
    for rows, x in chunks():
        out[rows] = ((x - mean) / scale) @ top
    return out


def load_feature_vectors(path: str | Path, n_samples: int | None = None) -> np.ndarray:
    """The user's own feature vectors: a 2-D ``.npy`` array, one finite row per sample.

    Parameters
    ----------
    path:
        The ``.npy`` file (rows in the data set's sample order).
    n_samples:
        The number of samples the data set has; a file with another row count is refused.

    Raises
    ------
    ValueError
        Naming the file and the problem: unreadable, not 2-D, non-finite values, or a row
        count other than ``n_samples``.
    """
    path = Path(path)
    try:  # memory-mapped: checked in slices, and a float32 file is never copied whole
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read feature vectors from {path}: {err}") from None
    if arr.ndim != 2:
        raise ValueError(f"feature vectors in {path} must be 2-D (samples x dims), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or first_nonfinite_row(arr) is not None:
        raise ValueError(f"feature vectors in {path} must be finite numbers")
    if n_samples is not None and len(arr) != n_samples:
        raise ValueError(
            f"feature vectors in {path} have {len(arr)} rows but the data set has "
            f"{n_samples} samples"
        )
    return arr if arr.dtype == np.float32 else arr.astype(np.float32)
