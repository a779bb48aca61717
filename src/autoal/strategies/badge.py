"""BADGE (Ash et al. 2020): k-means++ seeding on gradient embeddings, exact up to
``exact_max_samples`` pool samples and on a weighted candidate set above (see
:mod:`autoal.strategies.diversity` for the large-pool approximations)."""

from __future__ import annotations

import numpy as np

from autoal.chunks import chunk_rows
from autoal.evidence import Evidence
from autoal.strategies.base import check_budget
from autoal.strategies.diversity import (
    EXACT_MAX_SAMPLES,
    _GreedyBatch,
    _uniform_rows,
    batch_first_scores,
    unit_scale,
)
from autoal.strategies.registry import register_strategy

__all__ = ["Badge"]


def _kmeans_pp(
    delta: np.ndarray,
    emb: np.ndarray,
    sq_norm: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means++ seeding in gradient space from the largest gradient; D^2 (times
    ``weights``) sampling after it. Returns the seeds and each sample's squared distance to
    its nearest seed (0 for seeds)."""
    n = len(sq_norm)

    def sq_dist_to(j: int) -> np.ndarray:
        inner = (delta @ delta[j]) * (emb @ emb[j])
        return np.maximum(sq_norm - 2.0 * inner + sq_norm[j], 0.0)

    picks = [int(np.argmax(sq_norm))]
    dist = sq_dist_to(picks[0])
    while len(picks) < budget:
        mass = dist if weights is None else dist * weights
        total = mass.sum()
        if total <= 0:  # every remaining sample coincides with a seed: take any unpicked
            remaining = np.setdiff1d(np.arange(n), picks)
            nxt = int(rng.choice(remaining))
        else:
            nxt = int(rng.choice(n, p=mass / total))
        picks.append(nxt)
        np.minimum(dist, sq_dist_to(nxt), out=dist)
        dist[picks] = 0.0
    return np.asarray(picks, dtype=np.int64), dist


def _grad_sq_dist_to_seeds(evidence: Evidence, seeds: np.ndarray) -> np.ndarray:
    """Squared gradient-space distance of every pool sample to its nearest seed, in chunks."""
    d_s, e_s = evidence.grad_factors(np.sort(seeds))
    s_sq = np.einsum("ij,ij->i", d_s, d_s) * np.einsum("ij,ij->i", e_s, e_s)
    n = evidence.n_samples
    out = np.empty(n)
    chunk = chunk_rows(d_s.shape[1] + e_s.shape[1] + 3 * len(seeds))
    for start in range(0, n, chunk):
        d, e = evidence.grad_factors(np.arange(start, min(n, start + chunk)))
        b_sq = np.einsum("ij,ij->i", d, d) * np.einsum("ij,ij->i", e, e)
        sq = b_sq[:, None] - 2.0 * (d @ d_s.T) * (e @ e_s.T) + s_sq[None, :]
        out[start : start + len(d)] = np.maximum(sq.min(axis=1), 0.0)
    return out


@register_strategy
class Badge(_GreedyBatch):
    """BADGE (Ash et al. 2020): k-means++ seeding on gradient embeddings.

    Gradient embeddings ``(p - onehot(argmax p)) (x) e`` come in closed form from ``probs``
    and ``embeddings``. The first seed is the largest gradient; each next seed is drawn with
    probability proportional to its squared distance to the seeds so far. Without a budget
    the score is the gradient embedding's norm. Above ``exact_max_samples`` the seeding runs
    over a weighted candidate set (module docstring).

    Parameters
    ----------
    random_state:
        Seeds the D^2 draws and the candidate sample.
    exact_max_samples:
        Largest pool seeded whole.
    candidates_per_pick:
        Candidates per batch slot above ``exact_max_samples``.
    """

    name = "badge"
    required_fields = ("probs", "embeddings")

    def __init__(
        self,
        random_state: int | None = None,
        exact_max_samples: int = EXACT_MAX_SAMPLES,
        candidates_per_pick: int = 50,
    ) -> None:
        super().__init__(random_state, exact_max_samples)
        self.candidates_per_pick = candidates_per_pick

    def _batch(self, evidence: Evidence, budget: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The seeds, and every sample's squared distance to them when seeded whole."""
        n = evidence.n_samples
        if not self._approximate(n):
            self._approximation = None
            delta, raw = evidence.grad_factors()
            (emb,), _ = unit_scale(raw)  # exact: huge or tiny values neither overflow nor vanish
            assert emb is not None
            sq_norm = np.einsum("ij,ij->i", delta, delta) * np.einsum("ij,ij->i", emb, emb)
            return _kmeans_pp(delta, emb, sq_norm, budget, self.rng)
        sq_norm = evidence.grad_sq_norms()
        m = min(n, int(self.candidates_per_pick) * budget)
        n_top = m // 2
        top = np.argpartition(-sq_norm, n_top - 1)[:n_top] if n_top else np.array([], int)
        rest = np.setdiff1d(np.arange(n), top, assume_unique=True)
        uniform = rest[_uniform_rows(self.rng, len(rest), m - n_top)]
        rows = np.concatenate([top, uniform])
        weights = np.concatenate(
            [np.ones(len(top)), np.full(len(uniform), len(rest) / max(1, len(uniform)))]
        )
        order = np.argsort(rows)
        rows, weights = rows[order], weights[order]
        delta, emb = evidence.grad_factors(rows)
        seeds, _ = _kmeans_pp(delta, emb, sq_norm[rows], budget, self.rng, weights)
        self._approximation = {"method": "kmeans++-on-candidates", "candidates": len(rows)}
        return rows[seeds], None

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return seeding-order-first scores (with a budget) or gradient norms."""
        n = self._check(evidence)
        if budget is None:
            if self._approximate(n):
                return np.sqrt(evidence.grad_sq_norms())
            delta, raw = evidence.grad_factors()
            (emb,), exponent = unit_scale(raw)
            assert emb is not None
            sq = np.einsum("ij,ij->i", delta, delta) * np.einsum("ij,ij->i", emb, emb)
            return np.ldexp(np.sqrt(sq), exponent)
        seeds, dist = self._batch(evidence, check_budget(budget, n))
        if dist is None:
            dist = _grad_sq_dist_to_seeds(evidence, seeds)
        return batch_first_scores(seeds, np.sqrt(dist))
