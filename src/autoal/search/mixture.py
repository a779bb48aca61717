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
    "budget_mask",
    "budget_penalty",
]


class GlobalWeights(nn.Module):
    """One logit per candidate; weights are their softmax (the same for every sample).

    Parameters
    ----------
    n_candidates : int
        Number ``K`` of candidate strategies.
    init : numpy.ndarray or None
        Starting logits, shape ``(K,)`` (e.g. the previous round's); None: zeros, i.e.
        uniform weights.
    """

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
    embedding). The last layer starts at zero, so search starts from uniform weights.

    Parameters
    ----------
    n_features : int
        Width ``F`` of a sample's feature vector.
    n_candidates : int
        Number ``K`` of candidate strategies (one logit each).
    hidden : int
        Width of the hidden ReLU layer.
    """

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


def budget_mask(s: torch.Tensor, fraction: float, tau: float) -> torch.Tensor:
    """Soft selection ``sigmoid((s - theta) / tau)`` whose soft count is exactly ``fraction * n``.

    ``theta`` is found by bisection, and enters the graph with its implicit gradient
    ``d theta / d s_i = m_i' / sum_j m_j'``, so the gradient of the soft count is zero: the
    search cannot change how many samples it takes, only which. (A fixed threshold plus a
    budget penalty lets the penalty's gradient, which depends only on the shape of ``s``,
    pull the weights away from the objective while ``tau`` is large.)
    """
    tau = max(float(tau), 1e-12)
    target = fraction * s.shape[0]
    sd = s.detach().double()
    lo, hi = float(sd.min()) - 40.0 * tau, float(sd.max()) + 40.0 * tau
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if float(torch.sigmoid((sd - mid) / tau).sum()) > target:
            lo = mid
        else:
            hi = mid
    theta0 = 0.5 * (lo + hi)
    z = torch.sigmoid((sd - theta0) / tau)
    slope = z * (1.0 - z)
    slope = (slope / slope.sum().clamp_min(1e-300)).to(s.dtype)
    theta = theta0 + (slope * (s - s.detach())).sum()
    return torch.sigmoid((s - theta) / tau)


def budget_penalty(mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """``((alpha - t n) / (t n))^2`` with ``alpha = sum(mask)``: smooth, carries gradient."""
    target = fraction * mask.shape[0]
    return ((mask.sum() - target) / target) ** 2
