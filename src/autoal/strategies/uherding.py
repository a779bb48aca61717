"""Uncertainty Herding (Bae, Oliveira & Sutherland, ICLR 2025): greedy uncertainty coverage."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize as unit_rows

from autoal.chunks import score_in_chunks
from autoal.evidence import Evidence
from autoal.strategies.base import check_budget
from autoal.strategies.diversity import EXACT_MAX_SAMPLES, batch_first_scores
from autoal.strategies.registry import register_strategy
from autoal.strategies.representation import (
    RepresentationStrategy,
    check_representation,
    raw_space_of,
    space_of,
)
from autoal.strategies.subsample import (
    check_exact_max,
    lift_scores,
    read_rows,
    top_and_uniform_rows,
)

__all__ = [
    "UncertaintyHerding",
    "weighted_herding",
    "TEMPERATURE_GRID",
    "expected_calibration_error",
    "fit_temperature",
    "kernel_radius",
    "temperature_scale",
]

#: Candidate temperatures (49 values, log-spaced over [0.1, 10], as scikit-activeml's UHerding).
TEMPERATURE_GRID = np.logspace(-1, 1, 49)


def temperature_scale(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)``: the probabilities of logits divided by ``T`` (log p equals
    the logits up to a per-row constant, which softmax ignores)."""
    logits = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-300, None))
    return softmax(logits / float(temperature), axis=1)


def expected_calibration_error(probs: np.ndarray, targets: np.ndarray, n_bins: int = 15) -> float:
    """ECE (Guo et al. 2017): ``sum_bins |bin| / n * |accuracy(bin) - confidence(bin)|`` over
    ``n_bins`` equal-width confidence bins (the last one closed)."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(targets)
    bins = np.minimum((conf * n_bins).astype(np.int64), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_b = bins == b
        ece += in_b.mean() * abs(correct[in_b].mean() - conf[in_b].mean())
    return float(ece)


def fit_temperature(
    probs: np.ndarray, targets: np.ndarray, grid: np.ndarray = TEMPERATURE_GRID
) -> float:
    """The temperature of ``grid`` with the lowest ECE of ``temperature_scale(probs, T)``
    against ``targets`` (the first such on ties); 1.0 with fewer than 2 samples."""
    if len(probs) < 2:
        return 1.0
    eces = [expected_calibration_error(temperature_scale(probs, t), targets) for t in grid]
    return float(grid[int(np.argmin(eces))])


def kernel_radius(
    pool: np.ndarray, labeled: np.ndarray | None, rng: np.random.Generator, sample: int = 2000
) -> float:
    """UHerding's radius schedule: the smallest non-zero distance between two labeled points
    (it shrinks as the labeled set grows, moving the method from coverage towards
    uncertainty sampling); with fewer than two labeled points, the median distance between
    pool points (on a random subset of ``sample`` points). 1.0 if either is zero."""
    if labeled is not None and len(labeled) >= 2:
        k = min(len(labeled), 8)  # a few neighbours, so duplicates do not hide the nearest
        dist = NearestNeighbors(n_neighbors=k).fit(labeled).kneighbors(labeled)[0][:, 1:]
        nonzero = dist[dist > 0]
        if len(nonzero):
            return float(nonzero.min())
    idx = rng.choice(len(pool), size=min(sample, len(pool)), replace=False)
    sub = pool[idx]
    sq = np.einsum("ij,ij->i", sub, sub)
    d = np.sqrt(np.maximum(sq[:, None] - 2.0 * sub @ sub.T + sq[None, :], 0.0))
    d = d[np.triu_indices(len(sub), k=1)]
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 1.0


@register_strategy
class UncertaintyHerding(RepresentationStrategy):
    """Uncertainty Herding (Bae, Oliveira & Sutherland, "Uncertainty herding: one active
    learning method for all label budgets", ICLR 2025).

    Greedy maximisation of the uncertainty coverage (paper sec. 4)
    ``UCov(S) = (1/N) sum_i U(x_i) max_{s in L u S} k(x_i, s)`` over the pool: each step
    chooses the pool point ``j`` of largest gain
    ``(1/N) sum_i U(x_i) max(k(x_i, x_j) - kmax_i, 0)``, where ``kmax_i`` is x_i's kernel
    value to its nearest labeled-or-chosen point, then updates ``kmax``.

    - Kernel: ``k(x, y) = exp(-||x - y||^2 / sigma^2)`` on unit-length vectors
      (``normalize=True``).
    - Radius schedule: ``sigma`` = the smallest non-zero distance between labeled points,
      which shrinks as labels accumulate, so the method moves from coverage (few labels,
      wide kernel) to uncertainty sampling (many labels, narrow kernel); with fewer than
      two labeled points, the median pool distance (see :func:`kernel_radius`).
    - Uncertainty: the margin ``U(x) = 1 - (p_1 - p_2)`` of temperature-scaled
      probabilities ``softmax(log p / T)``. ``T`` minimises the expected calibration error
      (15 bins) over 49 temperatures log-spaced in [0.1, 10], fitted on ``labeled_probs``
      against ``labeled_targets`` (both then required). The paper fits T on held-out
      labeled data; the evidence holds only the model's predictions on its own training
      set, which are over-confident, so the fitted T leans sharp. Fallback: ``T = 1`` (no
      scaling) with fewer than two labeled samples; a fixed ``temperature`` skips the fit
      and needs no labeled data. If every U is 0 they are set to 1 (pure coverage).

    The facts above (grid, ECE, radius rule, kernel) follow scikit-activeml's UHerding. Cost:
    the kernel is kept on each pool point's ``n_neighbors`` nearest pool points (exact
    when ``N <= dense_below``, where every pair is kept; above it, kernel values beyond the
    ``n_neighbors``-th neighbour count as 0); each greedy step updates only the rows whose
    ``kmax`` changed. As a score: the batch first, then every other sample by its remaining
    gain; without a budget, the gain before any choice. Above ``exact_max_samples`` pool
    samples the greedy runs over ``candidates_per_pick * budget`` candidates (at most
    ``exact_max_samples``), half the most uncertain, half uniform with inverse-rate weights
    (see :mod:`autoal.strategies.subsample`); the others score 0.

    Parameters
    ----------
    random_state:
        Seed of the tie-breaks and of the subset for the median distance.
    temperature:
        A fixed temperature; ``None`` fits it on the labeled set (see above).
    normalize:
        Scale vectors to unit length first (as the authors).
    n_neighbors:
        Neighbours per pool point kept in the kernel above ``dense_below``.
    dense_below:
        Pool size up to which the kernel keeps every pair.
    representation:
        ``"model"`` (the task model's embeddings) or ``"features"`` (the label-free
        ``Evidence.features``); see :mod:`autoal.strategies.representation`.
    exact_max_samples:
        Largest pool used whole; above it, the most candidates.
    candidates_per_pick:
        Candidates per batch slot above ``exact_max_samples``.
    """

    name = "uherding"
    required_fields = ("probs", "embeddings", "labeled_probs", "labeled_targets")

    @property
    def requires(self) -> tuple[str, ...]:
        """The fields read; the labeled probabilities and targets only when the temperature
        is fitted (``temperature=None``)."""
        fields = super().requires
        if self.temperature is not None:
            return tuple(f for f in fields if f not in ("labeled_probs", "labeled_targets"))
        return fields

    def __init__(
        self,
        random_state: int | None = None,
        temperature: float | None = None,
        normalize: bool = True,
        n_neighbors: int = 200,
        dense_below: int = 2000,
        representation: str = "model",
        exact_max_samples: int = EXACT_MAX_SAMPLES,
        candidates_per_pick: int = 20,
    ) -> None:
        super().__init__(random_state)
        self.temperature = temperature
        self.normalize = normalize
        self.n_neighbors = n_neighbors
        self.dense_below = dense_below
        self.representation = representation
        self.exact_max_samples = exact_max_samples
        self.candidates_per_pick = candidates_per_pick
        self._info: dict[str, Any] = {}

    def round_info(self) -> dict[str, Any]:
        """The temperature and kernel radius of the last call (``"uherding"``)."""
        return dict(self._info)

    def uncertainty(self, evidence: Evidence) -> tuple[np.ndarray, float]:
        """The calibrated margin uncertainty of each pool sample and the temperature used."""
        if self.temperature is not None:
            if not self.temperature > 0:
                raise ValueError(f"temperature must be positive, got {self.temperature}")
            t = float(self.temperature)
        else:
            evidence.require("labeled_probs", "labeled_targets")
            assert evidence.labeled_probs is not None and evidence.labeled_targets is not None
            t = fit_temperature(evidence.labeled_probs, evidence.labeled_targets)
        evidence.require("probs")
        assert evidence.probs is not None
        if evidence.probs.shape[1] < 2:
            return np.ones(len(evidence.probs)), t

        def calibrated_margin(probs: np.ndarray) -> np.ndarray:
            top2 = np.partition(temperature_scale(probs, t), -2, axis=1)[:, -2:]
            return 1.0 - (top2[:, 1] - top2[:, 0])

        u = score_in_chunks(evidence.probs, calibrated_margin)  # row-wise: chunks change nothing
        return (u if np.any(u > 0) else np.ones_like(u)), t

    def _candidates(
        self, u: np.ndarray, budget: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate rows (sorted) and their weights in the sums over the pool: the most
        uncertain half (weight 1) and a uniform sample of the rest (inverse sampling rate)."""
        size = int(self.exact_max_samples)
        if budget is not None:
            size = min(size, max(int(self.candidates_per_pick) * budget, budget))
        return top_and_uniform_rows(self.rng, u, size)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return herding-order-first scores (with a budget) or first-step gains."""
        n = self._check(evidence)
        check_representation(self.representation)
        if budget is not None:
            budget = check_budget(budget, n)
        u, t = self.uncertainty(evidence)
        rows = None
        if n > check_exact_max(self.exact_max_samples):
            raw_pool, raw_labeled = raw_space_of(evidence, self.representation)
            rows, sample_weight = self._candidates(u, budget)
            pool = read_rows(raw_pool, rows)
            labeled = None if raw_labeled is None else np.asarray(raw_labeled, dtype=np.float64)
            u = u[rows] * sample_weight
        else:
            pool, labeled = space_of(evidence, self.representation)
        if self.normalize:
            pool = unit_rows(pool)
            labeled = None if labeled is None else unit_rows(labeled)
        if labeled is not None and not len(labeled):
            labeled = None
        sigma = kernel_radius(pool, labeled, self.rng)
        self._info = {"uherding": {"temperature": t, "sigma": sigma}}
        if rows is not None:
            self._info["approximation"] = {
                "method": "herding-on-candidates", "candidates": len(rows),
            }
        scores = weighted_herding(
            pool, labeled, u, sigma, budget, self.rng,
            n_neighbors=self.n_neighbors, dense_below=self.dense_below,
        )
        return scores if rows is None else lift_scores(n, rows, scores)


def weighted_herding(
    pool: np.ndarray,
    labeled: np.ndarray | None,
    weight: np.ndarray,
    sigma: float,
    budget: int | None,
    rng: np.random.Generator,
    n_neighbors: int = 200,
    dense_below: int = 2000,
) -> np.ndarray:
    """Greedy weighted kernel herding over ``pool``: the engine of :class:`UncertaintyHerding`.

    Maximises ``(1/N) sum_i weight_i max_{s in L u S} k(x_i, s)`` with the Gaussian kernel
    ``k(x, y) = exp(-||x - y||^2 / sigma^2)``, one pick at a time (the pool point of largest
    gain; ties broken by ``rng``). The kernel keeps each point's ``n_neighbors`` nearest pool
    points (every pair when ``N <= dense_below``); each step updates only the rows whose
    coverage changed. Returns batch-first scores (see :func:`batch_first_scores`): the
    ``budget`` picks in order, then every other point by its remaining gain; with
    ``budget=None``, the gains before any pick. ``labeled`` (or None) covers from the start.
    """
    n = len(pool)
    u = np.asarray(weight, dtype=np.float64)
    kk = n if n <= dense_below else min(int(n_neighbors), n)
    dist, nbr = NearestNeighbors(n_neighbors=kk).fit(pool).kneighbors(pool)
    kern = np.exp(-(dist**2) / sigma**2)  # row i: x_i covered by its neighbours nbr[i]
    if labeled is None:
        kmax = np.zeros(n)
    else:
        d_lab = NearestNeighbors(n_neighbors=1).fit(labeled).kneighbors(pool)[0][:, 0]
        kmax = np.exp(-(d_lab**2) / sigma**2)
    contrib = u[:, None] * np.maximum(kern - kmax[:, None], 0.0)
    gains = np.bincount(nbr.ravel(), weights=contrib.ravel(), minlength=n) / n
    if budget is None:
        return gains
    # where each column j appears: rows that have j among their neighbours
    flat = nbr.ravel()
    by_col = np.argsort(flat, kind="stable")
    col_start = np.searchsorted(flat[by_col], np.arange(n + 1))
    chosen = np.zeros(n, dtype=bool)
    order: list[int] = []
    while len(order) < budget:
        open_gain = np.where(chosen, -np.inf, gains)
        best = open_gain.max()
        pick = int(rng.choice(np.flatnonzero(open_gain == best)))
        order.append(pick)
        chosen[pick] = True
        at = by_col[col_start[pick] : col_start[pick + 1]]
        rows, cols = at // kk, at % kk
        better = kern[rows, cols] > kmax[rows]
        rows = rows[better]
        if not len(rows):
            continue
        kmax[rows] = kern[rows, cols[better]]
        new = u[rows, None] * np.maximum(kern[rows] - kmax[rows, None], 0.0)
        delta = (new - contrib[rows]).ravel()
        contrib[rows] = new
        gains += np.bincount(nbr[rows].ravel(), weights=delta, minlength=n) / n
    rest = np.maximum(gains, 0.0)
    return batch_first_scores(np.asarray(order, dtype=np.int64), rest)
