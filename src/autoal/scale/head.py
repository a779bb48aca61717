"""A linear classifier head over fixed embeddings: probabilities and head-only MC draws.

Large pools are usually embeddings from a frozen foundation model with a small trained head
on top; the head's class probabilities and its Monte-Carlo dropout draws (dropout on the
head's input only) are all the uncertainty strategies need, and both are computed here in
row chunks so that a memory-mapped pool is never read whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

__all__ = ["LinearHead", "MC_BLOCK_ROWS"]

#: The dropout masks of the MC draws are drawn per block of this many global rows, seeded by
#: the block's index, so a row's draws do not depend on how the pool is chunked or sharded.
MC_BLOCK_ROWS = 4096


@dataclass(frozen=True)
class LinearHead:
    """``softmax(e W + b)`` over embeddings ``e``, with optional dropout on ``e`` for MC draws.

    Parameters
    ----------
    weights:
        ``(D, C)`` weight matrix.
    bias:
        ``(C,)`` bias vector.
    dropout:
        Probability of zeroing each embedding coordinate in an MC draw (inverted dropout).
    mc_samples:
        Number of MC draws ``T``.
    random_state:
        Seeds the dropout masks (together with each block's index).
    """

    weights: np.ndarray
    bias: np.ndarray
    dropout: float = 0.2
    mc_samples: int = 10
    random_state: int = 0

    @property
    def n_classes(self) -> int:
        """Number of classes ``C``."""
        return int(np.shape(self.weights)[1])

    def _check(self, embeddings: np.ndarray) -> None:
        if embeddings.ndim != 2 or embeddings.shape[1] != np.shape(self.weights)[0]:
            raise ValueError(
                f"embeddings of shape {embeddings.shape} do not fit a head with "
                f"{np.shape(self.weights)[0]} inputs"
            )

    def probs(self, embeddings: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """Class probabilities ``(N, C)`` in float32, ``chunk`` rows at a time."""
        self._check(embeddings)
        w = np.asarray(self.weights, dtype=np.float32)
        b = np.asarray(self.bias, dtype=np.float32)
        out = np.empty((len(embeddings), self.n_classes), dtype=np.float32)
        for start in range(0, len(embeddings), chunk):
            block = np.asarray(embeddings[start : start + chunk], dtype=np.float32)
            out[start : start + len(block)] = softmax(block @ w + b, axis=1)
        return out

    def mc_probs(self, embeddings: np.ndarray, first_row: int = 0) -> np.ndarray:
        """MC draws ``(T, N, C)`` in float32 of rows ``first_row .. first_row + N`` of a pool.

        ``first_row`` is the global index of ``embeddings[0]``: the draws of a row are the
        same whether it is scored alone, in a chunk or in a shard.
        """
        self._check(embeddings)
        n = len(embeddings)
        out = np.empty((self.mc_samples, n, self.n_classes), dtype=np.float32)
        w = np.asarray(self.weights, dtype=np.float32)
        b = np.asarray(self.bias, dtype=np.float32)
        keep = np.float32(1.0 - self.dropout)
        block0 = first_row // MC_BLOCK_ROWS
        block1 = (first_row + n - 1) // MC_BLOCK_ROWS if n else block0 - 1
        for block in range(block0, block1 + 1):
            lo = max(block * MC_BLOCK_ROWS, first_row)
            hi = min((block + 1) * MC_BLOCK_ROWS, first_row + n)
            rows = np.asarray(embeddings[lo - first_row : hi - first_row], dtype=np.float32)
            rng = np.random.default_rng([self.random_state, block])
            masks = rng.random((self.mc_samples, MC_BLOCK_ROWS, w.shape[0]), dtype=np.float32)
            masks = masks[:, lo - block * MC_BLOCK_ROWS : hi - block * MC_BLOCK_ROWS] < keep
            for t in range(self.mc_samples):
                logits = (rows * masks[t]) @ w / keep + b
                out[t, lo - first_row : hi - first_row] = softmax(logits, axis=1)
        return out
