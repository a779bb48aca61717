"""Device choice and CPU thread settings for torch."""

from __future__ import annotations

import os

import numpy as np
import torch

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
    """Set torch's intra-op threads (default: the cores this process may use); return it."""
    if n_threads is None:
        try:
            n_threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_threads = os.cpu_count() or 1
    n_threads = max(1, int(n_threads))
    torch.set_num_threads(n_threads)
    return n_threads


def input_tensor(rows: np.ndarray, device: torch.device) -> torch.Tensor:
    """A slice of model inputs as a float32 tensor on ``device`` (read-only memory maps are
    copied, a chunk at a time, since torch wants writable memory)."""
    arr = np.asarray(rows, dtype=np.float32)
    if not arr.flags.writeable:
        arr = arr.copy()
    return torch.from_numpy(arr).to(device)
