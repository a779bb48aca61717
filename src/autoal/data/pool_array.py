"""Large pools without copies: rows of memory-mapped arrays, read a bounded slice at a time.

A pool given as a memory-mapped ``.npy`` (``np.load(path, mmap_mode="r")``) is a numpy array
whose rows stay on disk until read. A folder of ``.npy`` shards, a file of another float
dtype, or a subset of rows (the unlabeled part of a pool) is a :class:`PoolArray`: an object
with ``shape``, ``dtype``, ``len`` and row indexing that reads only the rows asked for.

Whoever needs the whole pool (a task model's predictions, a PCA) reads it through slices
``X[start:stop]``, which both kinds answer with an in-memory array of those rows only.
``np.asarray(pool_array)`` works too, but it copies the whole pool into memory.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["FINITE_CHECK_ELEMENTS", "LazyArray", "PoolArray", "first_nonfinite_row",
           "is_file_backed", "take_rows"]

#: Values checked per step of :func:`first_nonfinite_row` (a bounded temporary).
FINITE_CHECK_ELEMENTS = 1 << 22


class LazyArray:
    """The array-like attributes an array read on demand derives from its ``shape`` and
    ``dtype`` (:class:`PoolArray`, :class:`~autoal.data.draws_file.DrawsFile`)."""

    dtype: np.dtype[Any]

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of values."""
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        """Bytes the values take in memory (read whole), in :attr:`dtype`."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]


class PoolArray(LazyArray):
    """Consecutive row ranges of several arrays (``parts``) as one read-only array.

    Parameters
    ----------
    parts : sequence of numpy.ndarray
        The arrays whose rows, in order, form the pool (e.g. memory-mapped shards); every
        part has the same row shape.
    rows : numpy.ndarray, optional
        Only these rows of the parts' concatenation, in this order (a lazy subset);
        None: every row.
    dtype : dtype, optional
        The dtype rows are converted to when read (default: the first part's dtype).
    """

    def __init__(self, parts: Sequence[np.ndarray], rows: np.ndarray | None = None,
                 dtype: DTypeLike | None = None) -> None:
        if not parts:
            raise ValueError("a PoolArray needs at least one part")
        row_shapes = {p.shape[1:] for p in parts}
        if len(row_shapes) > 1:
            raise ValueError(f"the parts' rows differ in shape: {sorted(row_shapes)}")
        self.parts = tuple(parts)
        self._ends = np.cumsum([len(p) for p in self.parts]).astype(np.int64)
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        self.dtype = np.dtype(self.parts[0].dtype if dtype is None else dtype)

    # -- array-like attributes ------------------------------------------------------------
    @property
    def n_base_rows(self) -> int:
        """Rows in all parts together (the pool before any subset)."""
        return int(self._ends[-1])

    @property
    def shape(self) -> tuple[int, ...]:
        """``(rows, *row_shape)``."""
        n = self.n_base_rows if self.rows is None else len(self.rows)
        return (n, *self.parts[0].shape[1:])

    def __repr__(self) -> str:
        subset = "" if self.rows is None else f", a subset of {self.n_base_rows} rows"
        return (f"PoolArray(shape={self.shape}, dtype={self.dtype}, {len(self.parts)} "
                f"part(s){subset})")

    # -- reading rows ---------------------------------------------------------------------
    def __getitem__(self, key: Any) -> np.ndarray:
        """Rows as an in-memory array: ``X[i]``, ``X[a:b]``, ``X[index_array]``,
        ``X[mask]``, and a tuple whose first element is one of these."""
        if isinstance(key, tuple):
            if not key:
                return np.asarray(self)
            first = self[key[0]]
            rest = key[1:]
            return first[rest] if _is_int(key[0]) else first[(slice(None),) + rest]
        n = len(self)
        if _is_int(key):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"row {i} is out of bounds for a pool of {n} rows")
            return self._read(np.array([i % n]))[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1 and self.rows is None:
                return self._read_range(start, max(start, stop))
            return self._read(np.arange(start, stop, step))
        return self._read(row_index(key, n))

    def take(self, index: np.ndarray) -> PoolArray:
        """The rows at ``index`` as a new :class:`PoolArray`, without reading them."""
        index = np.asarray(index, dtype=np.int64)
        base = index if self.rows is None else self.rows[index]
        return PoolArray(self.parts, rows=base, dtype=self.dtype)

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        # A full copy into memory: used only by code that does not read in slices.
        out = np.empty(self.shape, dtype=self.dtype)
        step = max(1, (1 << 25) // max(1, self.dtype.itemsize * (self.size // max(len(self), 1))))
        for start in range(0, len(self), step):
            out[start : start + step] = self[start : start + step]
        return out if dtype is None else out.astype(dtype, copy=False)

    def _read_range(self, start: int, stop: int) -> np.ndarray:
        """Base rows ``start .. stop`` (no subset), from the parts they lie in."""
        out = np.empty((stop - start, *self.shape[1:]), dtype=self.dtype)
        begins = self._ends - [len(p) for p in self.parts]
        for part, lo, hi in zip(self.parts, begins, self._ends, strict=True):
            a, b = max(start, int(lo)), min(stop, int(hi))
            if a < b:
                out[a - start : b - start] = part[a - lo : b - lo]
        return out

    def _read(self, local: np.ndarray) -> np.ndarray:
        """The rows at ``local`` (indices into this array), gathered from their parts."""
        base = local if self.rows is None else self.rows[local]
        out = np.empty((len(base), *self.shape[1:]), dtype=self.dtype)
        part_of = np.searchsorted(self._ends, base, side="right")
        for p in np.unique(part_of):
            mask = part_of == p
            first = 0 if p == 0 else int(self._ends[p - 1])
            out[mask] = self.parts[int(p)][base[mask] - first]
        return out


def row_index(key: Any, n: int) -> np.ndarray:
    """An index array or boolean mask over ``n`` rows as int64 row numbers in ``0 .. n``
    (negative ones counted from the end); IndexError for a bad mask, dtype or index."""
    index = np.asarray(key)
    if index.dtype == bool:
        if index.shape != (n,):
            raise IndexError(f"a boolean mask of shape {index.shape} for {n} rows")
        index = np.flatnonzero(index)
    if index.size and not np.issubdtype(index.dtype, np.integer):
        raise IndexError(f"rows must be selected by integers, got dtype {index.dtype}")
    index = index.astype(np.int64).ravel()
    if index.size and (index.min() < -n or index.max() >= n):
        raise IndexError(f"row index out of bounds for a pool of {n} rows")
    return index % max(n, 1)


def _is_int(key: Any) -> bool:
    return isinstance(key, (int, np.integer)) and not isinstance(key, bool)


def is_file_backed(X: Any) -> bool:
    """Whether ``X`` is a :class:`PoolArray` or a view of a memory-mapped file (whose rows
    should be read in slices, never copied whole)."""
    if isinstance(X, PoolArray):
        return True
    seen = 0
    while X is not None and seen < 32:
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
        seen += 1
    return False


def take_rows(X: Any, index: np.ndarray) -> Any:
    """``X[index]``, lazily for a file-backed ``X`` (a :class:`PoolArray` of those rows;
    ``X`` itself when ``index`` is every row in order); an in-memory ``X`` is indexed as
    numpy does (a copy)."""
    index = np.asarray(index, dtype=np.int64)
    if not is_file_backed(X):
        return X[index]
    if len(index) == len(X) and np.array_equal(index, np.arange(len(X))):
        return X
    if isinstance(X, PoolArray):
        return X.take(index)
    return PoolArray([X], rows=index)


def first_nonfinite_row(X: Any) -> int | None:
    """The first row of ``X`` holding NaN or an infinite value (None: all finite), read in
    slices of about :data:`FINITE_CHECK_ELEMENTS` values."""
    if not np.issubdtype(X.dtype, np.inexact) or X.size == 0:
        return None
    per_row = max(1, X.size // max(len(X), 1))
    step = max(1, FINITE_CHECK_ELEMENTS // per_row)
    for start in range(0, len(X), step):
        block = np.asarray(X[start : start + step]).reshape(-1, per_row)
        bad = np.flatnonzero(~np.isfinite(block).all(axis=1))
        if bad.size:
            return start + int(bad[0])
    return None
