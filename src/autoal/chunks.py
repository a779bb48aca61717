"""Row chunks: read a large (memory-mapped) pool a bounded slice at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

__all__ = ["CHUNK_BYTES", "chunk_rows", "row_slices", "score_in_chunks"]

#: Bytes of float64 work space one chunk may take (input slice upcast to float64).
CHUNK_BYTES = 32 * 2**20


def chunk_rows(row_elements: int, chunk_bytes: int | None = None) -> int:
    """How many rows of ``row_elements`` float64 values fit in ``chunk_bytes`` (default
    :data:`CHUNK_BYTES`, read at call time); at least one."""
    budget = CHUNK_BYTES if chunk_bytes is None else chunk_bytes
    return max(1, budget // max(1, 8 * row_elements))


def row_slices(n_rows: int, row_elements: int, chunk_bytes: int | None = None) -> Iterator[slice]:
    """Slices covering ``0 .. n_rows`` whose rows of ``row_elements`` float64 values take at
    most ``chunk_bytes`` (default :data:`CHUNK_BYTES`) together (at least one row each)."""
    step = chunk_rows(row_elements, chunk_bytes)
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))


def score_in_chunks(
    array: np.ndarray | None,
    score: Callable[[np.ndarray], np.ndarray],
    pool_axis: int = 0,
    chunk_bytes: int | None = None,
) -> np.ndarray:
    """``score`` applied to float64 slices of ``array`` along ``pool_axis``, concatenated.

    ``score`` maps a slice with ``m`` pool rows to ``m`` values; the result is float64
    ``(N,)``. Only one slice is in memory at a time, so a memory-mapped array is never read
    whole and a ``(T, N, C)`` array never becomes a ``(T, N, C)`` temporary. ``array`` is
    an evidence field that the strategy's ``_check`` has required (None is a bug).
    """
    if array is None:
        raise ValueError("score_in_chunks got no array: the strategy did not check its evidence")
    n = array.shape[pool_axis]
    out = np.empty(n, dtype=np.float64)
    row_elements = int(np.prod(array.shape)) // max(n, 1)
    for rows in row_slices(n, row_elements, chunk_bytes):
        index = (slice(None),) * pool_axis + (rows,)
        out[rows] = score(np.asarray(array[index], dtype=np.float64))
    return out
