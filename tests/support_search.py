"""Planted search problems shared by the search tests: only one candidate carries the signal
the objective rewards (held-out loss for max_loss; validation gain for lookahead)."""

from __future__ import annotations

import numpy as np
import torch

from autoal.search import RidgeProbe, SearchProblem
from autoal.strategies.ranks import rank_normalise

__all__ = ["K", "PLANTERS", "planted_lookahead", "planted_max_loss"]

K = 4


def planted_max_loss(position: int, seed: int, n: int = 200) -> SearchProblem:
    """Only candidate ``position`` ranks the high-loss samples first."""
    rng = np.random.default_rng(seed)
    raw = rng.random((n, K))
    losses = 2.0 * raw[:, position] + 0.1 * rng.random(n)
    probs = rng.dirichlet(np.ones(3), size=n)
    return SearchProblem(
        scores=torch.as_tensor(rank_normalise(raw), dtype=torch.float32),
        losses=torch.as_tensor(losses, dtype=torch.float32),
        probs=torch.as_tensor(probs, dtype=torch.float32),
        features=torch.as_tensor(rank_normalise(raw), dtype=torch.float32),
    )


def planted_lookahead(position: int, seed: int, n: int = 200) -> SearchProblem:
    """Only candidate ``position`` ranks correctly labeled candidates first; the others are
    random, and half the candidates carry flipped labels that hurt the validation fit."""
    rng = np.random.default_rng(seed)
    d = 5
    w = rng.normal(size=d)

    def sample(m: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(m, d))
        return x, (x @ w > 0).astype(np.int64)

    x_train, y_train = sample(12)
    x_cand, y_cand = sample(n)
    x_val, y_val = sample(300)
    flipped = rng.random(n) < 0.5
    y_cand = np.where(flipped, 1 - y_cand, y_cand)
    raw = rng.random((n, K))
    raw[:, position] = (~flipped) + 0.3 * rng.random(n)
    probe = RidgeProbe.build(x_train, y_train, x_cand, y_cand, x_val, y_val, 2, ridge=0.1)
    return SearchProblem(
        scores=torch.as_tensor(rank_normalise(raw), dtype=torch.float32),
        losses=torch.zeros(n),
        probs=torch.full((n, 2), 0.5),
        features=torch.as_tensor(rank_normalise(raw), dtype=torch.float32),
        probe=probe,
    )


PLANTERS = {"max_loss": planted_max_loss, "lookahead": planted_lookahead}
