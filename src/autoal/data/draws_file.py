"""Monte-Carlo draws of a large pool on disk: a ``(T, N, C)`` float32 array in a scratch file.

``T`` draws of ``C`` class probabilities for each of ``N`` pool rows take ``4 T N C`` bytes
(4 GB at T = 100, N = 1M, C = 10). For a file-backed pool the task model writes them, a
slice of rows at a time, into a :class:`DrawsFile` instead of memory; the strategies read it
back a slice of rows at a time (:func:`autoal.chunks.score_in_chunks`), so neither side
holds more than a slice.

Why a plain file read with ``readinto`` and not a memory map: every page of a memory map
that has been read or written counts in the process's resident set until it is unmapped,
so a mapped 4 GB file shows as 4 GB of peak RSS; file reads go through the page cache,
which the kernel can drop, and only the slice read counts.

The file is anonymous (:func:`tempfile.TemporaryFile`: on Linux it never has a name; on
other systems it is unlinked at once or deleted when closed) in :func:`scratch_folder`
(``TMPDIR``, else the system's temporary folder), so nothing is left behind, on error
either; its space is freed when the :class:`DrawsFile` is closed or garbage-collected.
:func:`check_scratch_space` refuses, before anything is written, a folder with too little
free space.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from autoal.data.pool_array import LazyArray, row_index

__all__ = ["DrawsFile", "ScratchSpaceError", "check_scratch_space", "scratch_folder"]


class ScratchSpaceError(OSError):
    """Too little free disk space in the scratch folder (the message names it and says what
    to change); ``errno`` is ``ENOSPC``."""


def scratch_folder() -> Path:
    """The folder scratch files go to: ``TMPDIR`` (or ``TEMP``, ``TMP``), else the system's
    temporary folder (:func:`tempfile.gettempdir`)."""
    return Path(tempfile.gettempdir())


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:.2f} GB" if nbytes >= 2**30 else f"{nbytes / 2**20:.1f} MB"


def check_scratch_space(nbytes: int, folder: str | Path, what: str) -> None:
    """Raise :class:`ScratchSpaceError` when ``folder`` has less than ``nbytes`` free.

    Parameters
    ----------
    nbytes : int
        The bytes the scratch file will take.
    folder : str or Path
        Where it will be written.
    what : str
        What needs the space, for the message (e.g. ``"the Monte-Carlo draws (T=100)"``).
    """
    try:
        free = shutil.disk_usage(folder).free
    except OSError as err:
        raise ScratchSpaceError(
            errno.ENOSPC, f"cannot use the scratch folder {folder} for {what}: {err}; set "
                          "TMPDIR to a writable folder"
        ) from None
    if nbytes > free:
        raise ScratchSpaceError(
            errno.ENOSPC,
            f"{what} need {_size(nbytes)} of scratch space in {folder}, which has "
            f"{_size(free)} free; set TMPDIR to a folder on a disk with more space, or draw "
            "fewer Monte-Carlo samples (--mc-samples / mc_samples)",
        )


class DrawsFile(LazyArray):
    """A read-only ``(T, N, C)`` float32 array held in an anonymous scratch file.

    Written once with :meth:`write` (consecutive row ranges, every row exactly once), then
    read like a numpy array: ``draws[:, a:b]`` (the pool rows ``a .. b`` of every draw, what
    :func:`autoal.chunks.score_in_chunks` asks for), ``draws[t]``, ``draws[:, rows]`` with an
    index array or mask; every read returns an in-memory array of the rows asked for only.
    ``np.asarray(draws)`` reads the whole array into memory.

    Parameters
    ----------
    n_draws : int
        ``T``, the number of Monte-Carlo draws.
    n_rows : int
        ``N``, the number of pool rows.
    n_classes : int
        ``C``, the number of classes.
    folder : str or Path, optional
        Where the scratch file goes (default :func:`scratch_folder`); its free space is
        checked first (:class:`ScratchSpaceError`).
    """

    dtype = np.dtype(np.float32)

    def __init__(self, n_draws: int, n_rows: int, n_classes: int,
                 folder: str | Path | None = None) -> None:
        self._shape = (int(n_draws), int(n_rows), int(n_classes))
        if min(self._shape) < 0:
            raise ValueError(f"a DrawsFile needs non-negative sizes, got {self.shape}")
        self.folder = Path(folder) if folder is not None else scratch_folder()
        check_scratch_space(self.nbytes, self.folder,
                            f"the Monte-Carlo draws (T={n_draws}, {n_rows} rows, "
                            f"{n_classes} classes)")
        # Stored pool-major, (N, T, C): a slice of rows is one contiguous read.
        self._row_bytes = n_draws * n_classes * self.dtype.itemsize
        self._file = tempfile.TemporaryFile(dir=self.folder, prefix="autoal-mc-")
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, self._file.close)

    # -- array-like attributes (ndim, size, nbytes, len: LazyArray) ----------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """``(T, N, C)``."""
        return self._shape

    @property
    def closed(self) -> bool:
        """Whether the scratch file is closed (its space freed)."""
        return bool(self._file.closed)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"scratch file in {self.folder}"
        return f"DrawsFile(shape={self.shape}, dtype=float32, {state})"

    def close(self) -> None:
        """Close the scratch file, freeing its disk space; later reads fail."""
        self._finalizer()

    def __getstate__(self) -> Any:
        raise TypeError("a DrawsFile (Monte-Carlo draws in a scratch file) cannot be pickled; "
                        "np.asarray(...) it first if it fits in memory")

    # -- writing --------------------------------------------------------------------------
    def write(self, start: int, block: np.ndarray) -> None:
        """Store ``block`` (``(T, m, C)``) as the pool rows ``start .. start + m``."""
        block = np.asarray(block, dtype=self.dtype)
        t, n, c = self.shape
        if block.ndim != 3 or block.shape[0] != t or block.shape[2] != c:
            raise ValueError(f"expected a block of shape ({t}, m, {c}), got {block.shape}")
        if not 0 <= start <= n - block.shape[1]:
            raise ValueError(f"rows {start}..{start + block.shape[1]} are outside 0..{n}")
        data = np.ascontiguousarray(block.transpose(1, 0, 2))
        with self._lock:
            self._file.seek(start * self._row_bytes)
            self._file.write(data.data.cast("B"))

    # -- reading --------------------------------------------------------------------------
    def _read_range(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start .. stop`` as ``(m, T, C)``."""
        out = np.empty((stop - start, self.shape[0], self.shape[2]), dtype=self.dtype)
        view = out.data.cast("B")
        with self._lock:
            self._file.seek(start * self._row_bytes)
            done = 0
            while done < len(view):
                got = self._file.readinto(view[done:])
                if not got:
                    raise OSError(f"the Monte-Carlo draws' scratch file ended at row "
                                  f"{start + done // max(self._row_bytes, 1)}: rows not written")
                done += got
        return out

    def _read_index(self, index: np.ndarray) -> np.ndarray:
        """Rows at ``index`` (in range, any order) as ``(m, T, C)``, one read per run of
        consecutive rows."""
        unique = np.unique(index)
        if unique.size == 0:
            return np.empty((0, self.shape[0], self.shape[2]), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        runs = np.split(unique, breaks)
        got = np.concatenate([self._read_range(int(r[0]), int(r[-1]) + 1) for r in runs])
        return got[np.searchsorted(unique, index)]

    def _rows(self, key: Any) -> tuple[np.ndarray, bool]:
        """The pool rows ``key`` selects as ``(T, m, C)``, and whether ``key`` was one row."""
        n = self.shape[1]
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"row {i} is out of bounds for {n} pool rows")
            block = self._read_range(i % n, i % n + 1)
            return np.ascontiguousarray(block.transpose(1, 0, 2)), True
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1:
                block = self._read_range(start, max(start, stop))
                return np.ascontiguousarray(block.transpose(1, 0, 2)), False
            key = np.arange(start, stop, step)
        block = self._read_index(row_index(key, n))
        return np.ascontiguousarray(block.transpose(1, 0, 2)), False

    def __getitem__(self, key: Any) -> np.ndarray:
        """Values as an in-memory array; the pool rows (axis 1) are read, nothing more."""
        if not isinstance(key, tuple):
            key = (key,)
        if len(key) > 3 or any(k is Ellipsis or k is None for k in key):
            raise IndexError("a DrawsFile takes up to 3 indices (draw, row, class), "
                             "without ... or None")
        draws, rows, classes = (*key, slice(None), slice(None))[:3]
        block, one_row = self._rows(rows)
        if one_row:
            return block[:, 0][draws, classes]
        return block[draws, :, classes] if _is_int(draws) else block[draws][:, :, classes]

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        # The whole array in memory: for code that does not read in slices.
        out = self[:, :]
        return out if dtype is None else out.astype(dtype, copy=False)


def _is_int(key: Any) -> bool:
    return isinstance(key, (int, np.integer)) and not isinstance(key, bool)
