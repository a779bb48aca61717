"""The mixture over candidates: weights, combined score and soft selection."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from torch import nn

__all__ = [
    "GlobalWeights",
    "SearchNet",
    "combine",
    "soft_threshold",
    "soft_mask",
    "budget_penalty",
]


class GlobalWeights(nn.Module):
    """One logit per candidate; weights are their softmax (the same for every sample)."""

    def __init__(self, n_candidates: int, init: np.ndarray | None = None):
        super().__init__()
        start = torch.zeros(n_candidates) if init is None else torch.as_tensor(init).float()
        if start.shape != (n_candidates,):
            raise ValueError(f"initial logits must have shape ({n_candidates},), got {start.shape}")
        self.logits = nn.Parameter(start.clone())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, K)``: the global logits repeated for every row of ``features``."""
        return self.logits.expand(features.shape[0], -1)


class SearchNet(nn.Module):
    """Per-sample logits from a sample's features (its candidate scores, predicted loss,
    embedding). The last layer starts at zero, so search starts from uniform weights."""

    def __init__(self, n_features: int, n_candidates: int, hidden: int = 32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, n_candidates)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, K)``."""
        return self.out(self.body(features))


def combine(scores: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Combined score ``s = sum_k softmax(logits)_k * scores_k`` and the weights.

    Softmax weights, never sigmoids normalised by their sum: those make ``s`` invariant to
    scaling every weight, so they drift into saturation and the search collapses.
    """
    weights = torch.softmax(logits, dim=1)
    return (weights * scores).sum(dim=1), weights


def _mixture_quantile(values: np.ndarray, q: float, random_state: int) -> float:
    """The ``q`` quantile of a two-component 1-D Gaussian mixture fitted to ``values``."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    x = values.reshape(-1, 1)
    if np.ptp(values) < 1e-12:
        return float(values[0])
    gm = GaussianMixture(2, random_state=random_state, reg_covar=1e-6).fit(x)
    w, mu = gm.weights_, gm.means_.ravel()
    sd = np.sqrt(gm.covariances_.ravel())

    def cdf_minus_q(t: float) -> float:
        return float((w * norm.cdf((t - mu) / sd)).sum() - q)

    lo, hi = float(values.min()) - 1.0, float(values.max()) + 1.0
    return float(brentq(cdf_minus_q, lo, hi))


def soft_threshold(s: torch.Tensor, fraction: float, method: str, random_state: int = 0) -> float:
    """Threshold ``theta`` above which about ``fraction`` of ``s`` lies (no gradient).

    ``method="quantile"``: the empirical ``1 - fraction`` quantile; ``"gmm"``: the same
    quantile of a two-component Gaussian mixture fitted to ``s`` (the paper's design).
    """
    values = s.detach().cpu().double().numpy()
    if method == "quantile":
        return float(np.quantile(values, 1.0 - fraction))
    if method == "gmm":
        return _mixture_quantile(values, 1.0 - fraction, random_state)
    raise ValueError(f"unknown threshold {method!r}; use 'quantile' or 'gmm'")


def soft_mask(s: torch.Tensor, theta: float, tau: float) -> torch.Tensor:
    """Soft membership ``sigmoid((s - theta) / tau)`` of the selected set, in ``(0, 1)``."""
    return torch.sigmoid((s - theta) / max(tau, 1e-12))


def budget_penalty(mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """``((alpha - t n) / (t n))^2`` with ``alpha = sum(mask)``: smooth, carries gradient."""
    target = fraction * mask.shape[0]
    return ((mask.sum() - target) / target) ** 2
