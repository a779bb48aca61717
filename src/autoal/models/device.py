"""Device choice and CPU thread settings for torch and the native thread pools."""

from __future__ import annotations

import os

import numpy as np
import torch
from threadpoolctl import threadpool_limits

__all__ = ["resolve_device", "configure_threads", "input_tensor"]


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; ``"cuda"`` without CUDA is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but CUDA is not available")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; use auto, cpu or cuda")
    return torch.device(device)


def configure_threads(n_threads: int | None = None) -> int:
    """Set torch's intra-op threads and the BLAS/OpenMP pools' (scikit-learn's k-means, numpy's
    linear algebra) to ``n_threads`` (default: the cores this process may use); return it.

    Worker processes that share the cores each get a share; without the native limit each
    one's k-means would still start a thread per core, and on a loaded 2-core machine that
    oversubscription made a select about six times slower (docs/RESULTS.md, section 6c).
    """
    if n_threads is None:
        try:
            n_threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_threads = os.cpu_count() or 1
    n_threads = max(1, int(n_threads))
    torch.set_num_threads(n_threads)
    threadpool_limits(limits=n_threads)
    return n_threads


def input_tensor(rows: np.ndarray, device: torch.device) -> torch.Tensor:
    """A slice of model inputs as a float32 tensor on ``device`` (read-only memory maps are
    copied, a chunk at a time, since torch wants writable memory)."""
    arr = np.asarray(rows, dtype=np.float32)
    if not arr.flags.writeable:
        arr = arr.copy()
    return torch.from_numpy(arr).to(device)
