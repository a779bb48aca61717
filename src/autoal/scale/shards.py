"""A pool held as a folder of ``.npy`` shards: the rows of one array, split across files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ShardError", "ShardedPool", "write_shards"]


class ShardError(ValueError):
    """A shard folder that cannot form one pool; the message names the shard."""


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
        """Read the headers of ``folder/*.npy`` and check that they agree."""
        folder = Path(folder)
        paths = tuple(sorted(folder.glob("*.npy")))
        if not paths:
            raise ShardError(f"no .npy shards in {folder}")
        shapes = []
        first: tuple[tuple[int, ...], np.dtype] | None = None
        for path in paths:
            try:
                arr = np.load(path, mmap_mode="r")
            except (OSError, ValueError) as err:
                raise ShardError(f"shard {path} is not a readable .npy file: {err}") from None
            if arr.ndim < 1:
                raise ShardError(f"shard {path} holds a scalar, not rows")
            if first is None:
                first = (arr.shape[1:], arr.dtype)
            elif (arr.shape[1:], arr.dtype) != first:
                raise ShardError(
                    f"shard {path} has rows of shape {arr.shape[1:]} and dtype {arr.dtype}, "
                    f"but {paths[0].name} has {first[0]} and {first[1]}"
                )
            shapes.append(int(arr.shape[0]))
        assert first is not None
        return cls(paths, tuple(int(d) for d in first[0]), str(first[1]), tuple(shapes))

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
