"""A pool held as a folder of ``.npy`` shards: the rows of one array, split across files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autoal.data.dataset import DatasetError
from autoal.data.formats.npy import shard_headers, shard_paths

__all__ = ["ShardError", "ShardedPool", "write_shards"]


class ShardError(DatasetError):
    """A shard folder that cannot form one pool; the message names the shard (a
    :class:`~autoal.data.DatasetError`, as ``open_rows`` raises for the same folder)."""


@dataclass(frozen=True)
class ShardedPool:
    """The ``.npy`` files of a folder, in name order, as consecutive row ranges of one pool.

    Use :meth:`open`, which checks that every shard has the first shard's row shape and
    dtype. Shards are memory-mapped when read; nothing is loaded here.

    Parameters
    ----------
    paths:
        The shard files, in pool order.
    row_shape:
        The shape of one row (e.g. ``(D,)`` for embeddings).
    dtype:
        The shards' dtype, as a string.
    sizes:
        Rows per shard.
    """

    paths: tuple[Path, ...]
    row_shape: tuple[int, ...]
    dtype: str
    sizes: tuple[int, ...]

    @classmethod
    def open(cls, folder: str | Path) -> ShardedPool:
        """Read the headers of ``folder/*.npy`` (hidden files left out) and check that they
        agree, as :func:`autoal.data.formats.npy.shard_headers` does for ``open_rows``."""
        folder = Path(folder)
        try:
            parts = shard_headers(folder)
        except DatasetError as err:
            raise ShardError(str(err)) from None
        first = parts[0]
        return cls(tuple(shard_paths(folder)), tuple(int(d) for d in first.shape[1:]),
                   str(first.dtype), tuple(int(p.shape[0]) for p in parts))

    @property
    def n_samples(self) -> int:
        """Rows in all shards together."""
        return sum(self.sizes)

    @property
    def offsets(self) -> tuple[int, ...]:
        """The pool index of each shard's first row."""
        return tuple(int(x) for x in np.cumsum((0, *self.sizes[:-1])))

    def load(self, shard: int) -> np.ndarray:
        """Shard ``shard`` memory-mapped read-only."""
        return np.load(self.paths[shard], mmap_mode="r")

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The pool rows at ``index`` (any order), gathered from their shards."""
        index = np.asarray(index, dtype=np.int64)
        out = np.empty((len(index), *self.row_shape), dtype=self.dtype)
        ends = np.cumsum(self.sizes)
        shard_of = np.searchsorted(ends, index, side="right")
        for s in np.unique(shard_of):
            mask = shard_of == s
            out[mask] = self.load(int(s))[index[mask] - self.offsets[s]]
        return out


def write_shards(array: np.ndarray, folder: str | Path, n_shards: int) -> ShardedPool:
    """Split ``array``'s rows into ``n_shards`` near-equal ``shard-XXXXX.npy`` files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(array), n_shards + 1).astype(int)
    for i in range(n_shards):
        np.save(folder / f"shard-{i:05d}.npy", np.asarray(array[bounds[i] : bounds[i + 1]]))
    return ShardedPool.open(folder)
