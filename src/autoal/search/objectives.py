"""What the search optimises, given the soft selection ``m`` over a scored set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from autoal.strategies.ranks import standardisation

__all__ = ["SearchProblem", "max_loss_term", "lookahead_term", "coverage_entropy", "RidgeProbe"]


@dataclass
class RidgeProbe:
    """A ridge head on cross-fitted features, solved in closed form for exact hypergradients.

    ``train_*`` is the part the FitNet was trained on, ``cand_*`` the scored candidates the
    search soft-selects from (their labels are known: they are labeled data), ``val_*`` a
    held-out part. Targets are one-hot rows. Features are standardised with the training
    part's statistics and get a bias column (:meth:`build` prepares them).

    Attributes
    ----------
    train_x, train_y : torch.Tensor
        Features ``(n_train, D + 1)`` and one-hot targets ``(n_train, C)`` of the part the
        head is always fitted on.
    cand_x, cand_y : torch.Tensor
        The same for the candidates that the soft mask weighs in.
    val_x, val_y : torch.Tensor
        The same for the held-out part the fitted head is scored on.
    ridge : float
        Ridge strength, relative to the training size (``ridge * n_train * I``).
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    cand_x: torch.Tensor
    cand_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    ridge: float = 0.1

    @classmethod
    def build(
        cls,
        train_x: np.ndarray,
        train_y: np.ndarray,
        cand_x: np.ndarray,
        cand_y: np.ndarray,
        val_x: np.ndarray,
        val_y: np.ndarray,
        n_classes: int,
        ridge: float = 0.1,
    ) -> RidgeProbe:
        """Standardise the features, add a bias column and one-hot the labels."""
        mean, std = standardisation(train_x)

        def prep(x: np.ndarray) -> torch.Tensor:
            z = (x - mean) / std
            return torch.as_tensor(np.hstack([z, np.ones((len(z), 1))]), dtype=torch.float64)

        def onehot(y: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.eye(n_classes)[np.asarray(y, dtype=np.int64)])

        return cls(
            prep(train_x), onehot(train_y), prep(cand_x), onehot(cand_y),
            prep(val_x), onehot(val_y), ridge,
        )

    def __post_init__(self) -> None:
        d = self.train_x.shape[1]
        self._gram = self.train_x.T @ self.train_x + self.ridge * len(self.train_x) * torch.eye(
            d, dtype=self.train_x.dtype
        )
        self._rhs = self.train_x.T @ self.train_y

    def val_loss(self, mask: torch.Tensor) -> torch.Tensor:
        """Validation mean squared error of the head fitted on train + ``mask``-weighted cands."""
        m = mask.to(self.cand_x.dtype)
        weighted = self.cand_x * m[:, None]
        gram = self._gram + weighted.T @ self.cand_x
        rhs = self._rhs + weighted.T @ self.cand_y
        coef = torch.linalg.solve(gram, rhs)
        return ((self.val_x @ coef - self.val_y) ** 2).sum(dim=1).mean()


@dataclass
class SearchProblem:
    """Everything one cross-fitting rotation gives the search, on its scored set of ``n``.

    Attributes
    ----------
    scores : torch.Tensor
        ``(n, K)``: rank-normalised candidate scores.
    losses : torch.Tensor
        ``(n,)``: FitNet's held-out loss (the max-loss objective).
    probs : torch.Tensor
        ``(n, C)``: FitNet's predicted class probabilities (the coverage bonus).
    features : torch.Tensor or None
        ``(n, F)``: SearchNet inputs (None for global weights).
    probe : RidgeProbe or None
        The lookahead objective's ridge head (its candidates are the same ``n`` samples).
    """

    scores: torch.Tensor
    losses: torch.Tensor
    probs: torch.Tensor
    features: torch.Tensor | None = None
    probe: RidgeProbe | None = None


def max_loss_term(mask: torch.Tensor, losses: torch.Tensor) -> torch.Tensor:
    """Negative mean held-out loss over the soft-selected set (minimise this)."""
    return -(mask * losses).sum() / mask.sum().clamp_min(1e-8)


def lookahead_term(mask: torch.Tensor, probe: RidgeProbe) -> torch.Tensor:
    """Validation loss after adding the soft-selected candidates (minimise this)."""
    return probe.val_loss(mask).to(mask.dtype)


def coverage_entropy(mask: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Entropy of the soft class histogram of the selected set (maximise this)."""
    hist = (mask[:, None] * probs).sum(dim=0)
    hist = hist / hist.sum().clamp_min(1e-8)
    return -(hist * torch.log(hist.clamp_min(1e-12))).sum()
