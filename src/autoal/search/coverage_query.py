"""AutoAL's coverage-aware query: the batch is drawn from the searched mixture by coverage.

The top ``b`` of a mixed score crowds into the region every uncertainty candidate agrees on,
which with few labels is a few classes (docs/RESULTS.md section 4: 62 % of the first batch
in one class on Fashion-MNIST low). Here the mixed score ``s(x)`` (in ``[0, 1]``) is a
per-sample *weight* of a coverage objective instead of the ranking itself:

- ``"coverage"``: weighted kernel herding, i.e. Uncertainty Herding (Bae et al., ICLR 2025)
  with the searched mixture in place of the margin: greedily maximise
  ``sum_i w(x_i) max_{s in L u S} k(x_i, s)`` with UHerding's Gaussian kernel and radius
  schedule (the smallest distance between labeled points, so the query moves from coverage
  with few labels towards the top of the score with many);
- ``"kmeanspp"``: BADGE's idea with the mixture as the weight: k-means++ seeding where a
  point is drawn with probability proportional to ``w(x) * D(x)^2``, ``D`` its distance to
  the labeled set and the picks so far.

``w = s ** power``: a larger ``power`` sharpens the mixture's say against coverage.

Rank-normalised mixed scores are flat weights (the best point weighs at most twice the
median one), so over the whole pool coverage wins at every budget, and with many labels
that throws away what uncertainty is worth (measured: Fashion-MNIST mid, round 1). With
``top`` the draw is restricted to the ``top`` highest-scoring points first;
:func:`coverage_top` sizes that set from the labeled-set size per class, by the same
diversity share as the candidate prior (:func:`autoal.search.prior.diversity_share`): the
whole pool when diversity is everything, the top ``budget`` (plain top-b) when it is nothing.
:func:`budget_power` instead sharpens the weight with the labels per class: ``power =
(1 - d) / d`` (labels per class over the prior's half point): flat weights (coverage) with
few labels, ``s ** 10`` at 100 labels per class, where only the top percent of the pool
keeps any weight and k-means++ merely spreads the top of the score.
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import normalize as unit_rows

from autoal.names import BATCH_MODES, COVERAGE_POOLS
from autoal.strategies.base import top_k
from autoal.strategies.diversity import EXACT_MAX_SAMPLES, min_sq_distances
from autoal.strategies.subsample import read_rows, top_and_uniform_rows
from autoal.strategies.uherding import kernel_radius, weighted_herding

__all__ = ["BATCH_MODES", "COVERAGE_POOLS", "budget_power", "coverage_batch", "coverage_top",
           "weighted_kmeanspp"]


def budget_power(diversity: float, most: float = 50.0) -> float:
    """``(1 - d) / d`` for the diversity share ``d`` (at most ``most``): with the prior's
    ``d = h / (h + n_c)`` this is ``n_c / h``, the labels per class over the half point."""
    if not 0.0 < diversity <= 1.0:
        raise ValueError(f"diversity must be in (0, 1], got {diversity}")
    return float(min((1.0 - diversity) / diversity, most))


def coverage_top(n: int, budget: int, diversity: float) -> int:
    """``round(budget * (n / budget) ** diversity)``, within ``[budget, n]``: the size of the
    top-score set a coverage query draws from, geometric between the top ``budget``
    (``diversity = 0``) and the whole pool of ``n`` (``diversity = 1``)."""
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be in [0, 1], got {diversity}")
    size = int(round(budget * (n / budget) ** diversity))
    return min(max(size, budget), n)


def weighted_kmeanspp(
    pool: np.ndarray,
    labeled: np.ndarray | None,
    weight: np.ndarray,
    budget: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``budget`` distinct indices drawn by k-means++ seeding with probabilities
    proportional to ``weight * D^2`` (``D``: distance to the labeled set and the picks so
    far; without a labeled set the first pick is the largest weight, ties broken by
    ``rng``). When every remaining ``weight * D^2`` is zero, the rest are drawn by weight,
    then uniformly."""
    n = len(pool)
    weight = np.clip(np.asarray(weight, dtype=np.float64), 0.0, None)
    picks: list[int] = []
    if labeled is not None and len(labeled):
        dist = min_sq_distances(pool, labeled)
    else:
        top = np.flatnonzero(weight == weight.max())
        picks.append(int(rng.choice(top)))
        dist = ((pool - pool[picks[0]]) ** 2).sum(axis=1)
    taken = np.zeros(n, dtype=bool)
    taken[picks] = True
    squared = _SquaredDistances(pool)
    while len(picks) < budget:
        mass = np.where(taken, 0.0, weight * dist)
        if mass.sum() <= 0:
            mass = np.where(taken, 0.0, weight)
        if mass.sum() <= 0:
            mass = (~taken).astype(np.float64)
        nxt = int(rng.choice(n, p=mass / mass.sum()))
        picks.append(nxt)
        taken[nxt] = True
        np.minimum(dist, squared.to(nxt), out=dist)
    return np.asarray(picks, dtype=np.int64)


class _SquaredDistances:
    """``((pool - pool[j]) ** 2).sum(axis=1)``, bit for bit (the same operations per row),
    in blocks of rows through one reused buffer: no ``(N, D)`` temporaries per pick, and a
    block stays in cache between the subtraction, the square and the sum."""

    def __init__(self, pool: np.ndarray, block: int = 1024) -> None:
        self.pool = pool
        self.block = block
        self.buffer = np.empty((min(block, len(pool)), pool.shape[1]), dtype=pool.dtype)
        self.out = np.empty(len(pool), dtype=pool.dtype)

    def to(self, j: int) -> np.ndarray:
        """Squared distances of every pool row to row ``j`` (a view, overwritten next call)."""
        centre = self.pool[j]
        if not self.pool.flags.c_contiguous:  # the blocks' sums would add in another order
            return ((self.pool - centre) ** 2).sum(axis=1)
        for start in range(0, len(self.pool), self.block):
            rows = self.pool[start : start + self.block]
            buf = self.buffer[: len(rows)]
            np.subtract(rows, centre, out=buf)
            np.square(buf, out=buf)
            buf.sum(axis=1, out=self.out[start : start + len(rows)])
        return self.out


def coverage_batch(
    mode: str,
    score: np.ndarray,
    pool: np.ndarray,
    labeled: np.ndarray | None,
    budget: int,
    rng: np.random.Generator,
    power: float = 1.0,
    n_neighbors: int = 200,
    dense_below: int = 2000,
    top: int | None = None,
    exact_max_samples: int = EXACT_MAX_SAMPLES,
) -> tuple[np.ndarray, dict[str, float]]:
    """The ``budget`` pool indices that ``mode`` (``"coverage"``: herding, or
    ``"kmeanspp"``) draws with the mixed ``score`` (``(N,)``, in ``[0, 1]``) as weight, and
    a record of the query.

    ``pool`` / ``labeled``: the vectors coverage is measured in (the task model's embeddings
    or label-free features), scaled to unit length first as UHerding does; it may be a
    memory-mapped float32 array (only the rows drawn from are read, in order, into one
    float64 copy). ``top``:
    draw only from the ``top`` highest scores (ties broken by ``rng``); None: the whole pool.

    Above ``max(exact_max_samples, 2 * budget)`` rows left to draw from, the draw is
    approximate, as Uncertainty Herding's on large pools: it runs on that many of them, the
    highest-weighted half plus as many drawn uniformly from the rest, whose weights are
    multiplied by the inverse of their sampling rate (the rest keeps its share of the
    mass; :func:`~autoal.strategies.subsample.top_and_uniform_rows`), so that
    its memory and time stay bounded (a 1M-row pool otherwise costs a float64 copy of it
    and ``budget`` passes over it); the record then holds ``"approximation_of"``, the
    number of rows the exact draw would have read.
    """
    if mode not in BATCH_MODES or mode == "topk":
        raise ValueError(f"unknown coverage batch mode {mode!r}; use 'coverage' or 'kmeanspp'")
    if not power >= 0:
        raise ValueError(f"coverage power must be non-negative, got {power}")
    score = np.asarray(score, dtype=np.float64)
    rows = None  # the pool rows drawn from, in this order; None: all of them
    if top is not None and top < len(score):
        rows = top_k(score, max(int(top), budget), rng)
        score = score[rows]
    sample_weight, n_rows, size = None, len(score), max(exact_max_samples, 2 * budget)
    if n_rows > size:
        sample, sample_weight = top_and_uniform_rows(rng, _weight(score, power), size)
        score = score[sample]
        rows = sample if rows is None else rows[sample]
    if rows is None:
        pool = np.asarray(pool, dtype=np.float64)
    else:  # only the rows drawn from, in pool order: a memory map is read once, sequentially
        order = np.argsort(rows, kind="stable")
        rows, score = rows[order], score[order]
        sample_weight = None if sample_weight is None else sample_weight[order]
        pool = read_rows(pool, rows)
    idx, record = _draw(mode, score, pool, labeled, budget, rng, power, n_neighbors, dense_below,
                        sample_weight)
    record["drawn_from"] = float(len(score))
    if sample_weight is not None:
        record["approximation_of"] = float(n_rows)  # rows the exact draw would have read
    return (idx if rows is None else rows[idx]), record


def _weight(score: np.ndarray, power: float) -> np.ndarray:
    """The draw's weight ``score ** power`` (scores clipped at 0); flat where it is all 0."""
    weight = np.clip(score, 0.0, None) ** power
    return weight if np.any(weight > 0) else np.ones_like(weight)


def _draw(
    mode: str, score: np.ndarray, pool: np.ndarray, labeled: np.ndarray | None, budget: int,
    rng: np.random.Generator, power: float, n_neighbors: int, dense_below: int,
    sample_weight: np.ndarray | None,
) -> tuple[np.ndarray, dict[str, float]]:
    weight = _weight(score, power)
    if sample_weight is not None:
        weight = weight * sample_weight
    pool = unit_rows(np.asarray(pool, dtype=np.float64))
    if labeled is not None and len(labeled):
        labeled = unit_rows(np.asarray(labeled, dtype=np.float64))
    else:
        labeled = None
    if mode == "kmeanspp":
        return weighted_kmeanspp(pool, labeled, weight, budget, rng), {}
    sigma = kernel_radius(pool, labeled, rng)
    ranked = weighted_herding(
        pool, labeled, weight, sigma, budget, rng, n_neighbors=n_neighbors,
        dense_below=dense_below,
    )
    return np.argsort(-ranked, kind="stable")[:budget].astype(np.int64), {"sigma": sigma}
