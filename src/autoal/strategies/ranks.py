"""Normalisation: candidate scores by rank (ALBL, AutoAL), features by standardisation (AutoAL)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["rank_normalise", "standardisation"]


def standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales of ``x``; a constant column gets scale 1, not ~0.

    A dead ReLU unit is constant (zero) on the data the statistics come from; dividing by
    its near-zero std would blow up any other sample that activates it.
    """
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std > 1e-6, std, 1.0)


def rank_normalise(scores: np.ndarray) -> np.ndarray:
    """Map each column of ``scores`` (n, K) to ``[0, 1]`` by rank within the column.

    The lowest score gets 0 and the highest 1; ties share their average rank. A single row
    maps to 1.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    n = len(scores)
    if n == 1:
        return np.ones_like(scores)
    # A column at a time, so rankdata's temporaries stay (n,); column-major like
    # rankdata(axis=0), whose layout later float sums see.
    out = np.empty(scores.shape, order="F")
    for k in range(scores.shape[1]):
        out[:, k] = (rankdata(scores[:, k]) - 1.0) / (n - 1.0)
    return out
