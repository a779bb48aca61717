"""Synthetic pools for scale benchmarks and tests: a Gaussian mixture and a linear head.

:func:`write_synthetic_pool` writes a pool as memory-mapped ``.npy`` files, chunk by chunk, so
a pool of millions never has to fit in memory while it is made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autoal.scale.head import LinearHead

__all__ = ["mixture_embeddings", "synthetic_head", "write_synthetic_pool", "POOL_FILES"]

#: The files of a pool folder written by :func:`write_synthetic_pool`.
POOL_FILES = (
    "embeddings",
    "probs",
    "mc_probs",
    "predicted_loss",
    "labeled_embeddings",
    "labeled_probs",
    "labeled_targets",
)


def _centres(n_classes: int, dim: int, random_state: int) -> np.ndarray:
    rng = np.random.default_rng([random_state, 0])
    return rng.normal(0.0, 0.25, size=(n_classes, dim)).astype(np.float32)


def mixture_embeddings(
    start: int, stop: int, dim: int = 128, n_classes: int = 10, random_state: int = 0
) -> np.ndarray:
    """Rows ``start .. stop`` of an endless Gaussian-mixture pool, float32 ``(stop-start, D)``.

    Row ``i`` belongs to component ``i % n_classes`` (unit spread around a centre drawn with
    spread 0.25); rows are drawn per block of 4096 seeded by the block index, so any range
    is reproducible on its own.
    """
    centres = _centres(n_classes, dim, random_state)
    out = np.empty((stop - start, dim), dtype=np.float32)
    block = 4096
    for b in range(start // block, (stop - 1) // block + 1 if stop > start else 0):
        lo, hi = max(b * block, start), min((b + 1) * block, stop)
        rng = np.random.default_rng([random_state, 1, b])
        rows = rng.standard_normal((block, dim), dtype=np.float32)[lo - b * block : hi - b * block]
        out[lo - start : hi - start] = rows + centres[np.arange(lo, hi) % n_classes]
    return out


def synthetic_head(
    dim: int = 128, n_classes: int = 10, mc_samples: int = 10, random_state: int = 0
) -> LinearHead:
    """A linear head that roughly separates :func:`mixture_embeddings`' components: weights
    are the mixture centres (scaled) plus noise, so probabilities range from sure to unsure."""
    centres = _centres(n_classes, dim, random_state)
    rng = np.random.default_rng([random_state, 2])
    weights = 0.5 * centres.T + rng.normal(0.0, 0.05, size=(dim, n_classes)).astype(np.float32)
    return LinearHead(
        weights=weights.astype(np.float32),
        bias=np.zeros(n_classes, dtype=np.float32),
        mc_samples=mc_samples,
        random_state=random_state,
    )


def write_synthetic_pool(
    folder: str | Path,
    n_samples: int,
    dim: int = 128,
    n_classes: int = 10,
    mc_samples: int = 10,
    n_labeled: int = 1000,
    random_state: int = 0,
    chunk: int = 65536,
) -> dict[str, Path]:
    """Write a pool's evidence as ``.npy`` files into ``folder``, one per name in
    :data:`POOL_FILES`: ``embeddings`` (N, D), ``probs`` (N, C), ``mc_probs`` (T, N, C),
    ``predicted_loss`` (N,) (a stand-in for a loss module: the head's cross-entropy at its
    own prediction), and ``labeled_embeddings``, ``labeled_probs``, ``labeled_targets``
    (int64 component ids) of ``n_labeled`` further rows of the same mixture. Floats are
    float32. Returns the path of each file by name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    head = synthetic_head(dim, n_classes, mc_samples, random_state)
    paths = {name: folder / f"{name}.npy" for name in POOL_FILES}
    open_memmap = np.lib.format.open_memmap
    emb = open_memmap(paths["embeddings"], "w+", np.float32, (n_samples, dim))
    probs = open_memmap(paths["probs"], "w+", np.float32, (n_samples, n_classes))
    mc = open_memmap(paths["mc_probs"], "w+", np.float32, (mc_samples, n_samples, n_classes))
    loss = open_memmap(paths["predicted_loss"], "w+", np.float32, (n_samples,))
    for start in range(0, n_samples, chunk):
        stop = min(n_samples, start + chunk)
        rows = mixture_embeddings(start, stop, dim, n_classes, random_state)
        emb[start:stop] = rows
        block_probs = head.probs(rows)
        probs[start:stop] = block_probs
        loss[start:stop] = -np.log(np.maximum(block_probs.max(axis=1), 1e-12))
        mc[:, start:stop] = head.mc_probs(rows, first_row=start)
    for arr in (emb, probs, mc, loss):
        arr.flush()
    del emb, probs, mc, loss
    labeled = mixture_embeddings(n_samples, n_samples + n_labeled, dim, n_classes, random_state)
    np.save(paths["labeled_embeddings"], labeled)
    np.save(paths["labeled_probs"], head.probs(labeled))
    np.save(paths["labeled_targets"], np.arange(n_samples, n_samples + n_labeled) % n_classes)
    return paths
