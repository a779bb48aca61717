"""IDX files (the MNIST format), gzipped or not."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from autoal.data.dataset import DatasetError
from autoal.data.formats.checks import check_file

__all__ = ["read_idx"]

_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


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
