"""Array pools: one ``.npy`` file, or a folder of ``.npy`` shards, memory-mapped.

:func:`open_rows` opens either without reading the rows: a ``float32`` file is returned as
the memory map itself (``np.load(path, mmap_mode="r")``); a shard folder, or a file of
another numeric dtype, as a :class:`~autoal.data.pool_array.PoolArray` that reads (and
converts to ``float32``) only the rows asked for. Shards are the folder's ``*.npy`` files
in name order; every shard must have the first one's row shape and dtype.
:func:`check_finite_rows` checks a pool for NaN or infinite values a bounded chunk at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from autoal.data.dataset import DatasetError
from autoal.data.pool_array import PoolArray, first_nonfinite_row

__all__ = ["check_finite_rows", "open_rows", "shard_paths", "shard_headers"]

def shard_paths(folder: str | Path) -> list[Path]:
    """The ``*.npy`` files of ``folder`` in name order (hidden files left out)."""
    return sorted(p for p in Path(folder).glob("*.npy") if not p.name.startswith("."))


def _memmap(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise DatasetError(f"{path} is not a readable .npy file: {err}") from None


def shard_headers(folder: str | Path) -> list[np.ndarray]:
    """Memory-map every shard of ``folder`` and check that they form one pool.

    Raises
    ------
    DatasetError
        No shard, an unreadable shard, or a shard whose rows differ in shape or dtype from
        the first shard's (the message names it).
    """
    folder = Path(folder)
    paths = shard_paths(folder)
    if not paths:
        raise DatasetError(f"no .npy shards in {folder}")
    parts: list[np.ndarray] = []
    for path in paths:
        try:
            arr = _memmap(path)
        except DatasetError as err:
            raise DatasetError(f"shard {err}") from None
        if arr.ndim < 1:
            raise DatasetError(f"shard {path} holds a scalar, not rows")
        if parts and (arr.shape[1:], arr.dtype) != (parts[0].shape[1:], parts[0].dtype):
            raise DatasetError(
                f"shard {path} has rows of shape {arr.shape[1:]} and dtype {arr.dtype}, "
                f"but {paths[0].name} has {parts[0].shape[1:]} and {parts[0].dtype}"
            )
        parts.append(arr)
    return parts


def open_rows(path: str | Path, name: str | None = None) -> Any:
    """A ``.npy`` file or a folder of shards as one read-only ``float32`` array of rows.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file, or a folder of ``.npy`` shards.
    name : str, optional
        What the array is, for messages (default: the path).

    Returns
    -------
    numpy.memmap or PoolArray
        The memory map of a ``float32`` file; otherwise a :class:`PoolArray` that converts
        the rows it reads to ``float32``. Nothing is read here but the headers.

    Raises
    ------
    DatasetError
        A missing or unreadable file, a shard that does not fit the others, a dtype that
        is not numeric, an array without rows or values.
    """
    path = Path(path).expanduser()
    what = name or str(path)
    if path.is_dir():
        parts = shard_headers(path)
    elif path.is_file():
        parts = [_memmap(path)]
    else:
        raise DatasetError(f"{what}: no such .npy file or folder of .npy shards: {path}")
    first = parts[0]
    if first.dtype.kind not in "biuf":
        raise DatasetError(f"{what}: expected numbers, got dtype {first.dtype} ({path})")
    if first.ndim < 2 or int(np.prod(first.shape[1:])) == 0:
        raise DatasetError(f"{what}: expected rows of values (N, D), got shape "
                           f"{first.shape} ({path})")
    if sum(len(p) for p in parts) == 0:
        raise DatasetError(f"{what}: no rows ({path})")
    if len(parts) == 1 and first.dtype == np.float32:
        return first
    return PoolArray(parts, dtype=np.float32)


def check_finite_rows(X: Any, name: str) -> None:
    """Raise :class:`DatasetError` naming ``name`` and the first row with NaN or infinite
    values; reads ``X`` a bounded slice at a time."""
    bad = first_nonfinite_row(X)
    if bad is not None:
        raise DatasetError(f"{name} contains NaN or infinite values (first bad row: {bad})")
