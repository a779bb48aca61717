"""Learning-curve metrics."""

from __future__ import annotations

import numpy as np

__all__ = ["aubc"]


def aubc(labeled: np.ndarray | list[float], accuracy: np.ndarray | list[float]) -> float:
    """Area under the budget curve: trapezoid of accuracy over labeled count, over its range.

    A curve with one point has no range; its AUBC is that point's accuracy.
    """
    x = np.asarray(labeled, dtype=np.float64)
    y = np.asarray(accuracy, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError("labeled and accuracy must be 1-D arrays of the same non-zero length")
    if np.any(np.diff(x) <= 0):
        raise ValueError("labeled counts must increase strictly")
    if len(x) == 1:
        return float(y[0])
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))
