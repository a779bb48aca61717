"""The searched weights applied to the whole pool: one pass of the weight model (a SearchNet
or global logits) and the combined score, for a file-backed pool a chunk of rows at a time.

A SearchNet's pass over a pool of a million rows holds its features and two hidden
activations (about 250 MB at 23 features and 32 hidden units); read in chunks it holds one
chunk's, and writes the scores and weights into preallocated arrays. Every row's arithmetic
is the row's own (a linear layer, a softmax and a sum over the candidates), so the chunked
pass gives the in-memory pass's values; pools in memory take the single pass unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

from autoal.search import crossfit
from autoal.search.crossfit import PoolFeaturizer
from autoal.search.mixture import combine

__all__ = ["mix_pool"]


def _mix(
    model: torch.nn.Module, scores: np.ndarray, featurize: PoolFeaturizer | None,
    rows: slice | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Combined score and weights of ``scores``' rows (the pool's ``rows``), in float32."""
    inputs = scores if featurize is None else featurize(scores, rows)
    logits = model(torch.as_tensor(inputs, dtype=torch.float32))
    return combine(torch.as_tensor(scores, dtype=torch.float32), logits)


def mix_pool(
    model: torch.nn.Module, scores: np.ndarray, featurize: PoolFeaturizer | None,
    chunked: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The combined score ``(N,)`` and the candidates' weights ``(N, K)``, both float64.

    Parameters
    ----------
    model:
        The searched weight model (``SearchNet`` or ``GlobalWeights``).
    scores:
        The candidates' rank-normalised scores over the pool, ``(N, K)``.
    featurize:
        The pool's SearchNet inputs from its scores (per-sample weights); None: the model
        reads the scores themselves.
    chunked:
        Pass :data:`autoal.search.crossfit.PROJECT_CHUNK_ROWS` rows at a time (a file-backed
        pool), so the pass's temporaries are bounded by a chunk's.
    """
    n = len(scores)
    with torch.no_grad():
        if not chunked or n == 0:
            s, weights = _mix(model, scores, featurize, None)
            return s.numpy().astype(np.float64), weights.numpy().astype(np.float64)
        step = crossfit.PROJECT_CHUNK_ROWS  # read at call time: tests make it small
        combined = np.empty(n, dtype=np.float64)
        all_weights = np.empty(scores.shape, dtype=np.float64)
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            s, weights = _mix(model, scores[rows], featurize, rows)
            combined[rows] = s.numpy()
            all_weights[rows] = weights.numpy()
    return combined, all_weights
