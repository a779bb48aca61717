"""Large pools for the low-budget strategies: run the exact method on a subset of the pool.

TypiClust and Uncertainty Herding (and TCM through TypiClust) are exact up to
``exact_max_samples`` pool samples (default 50,000, as k-means, coreset and BADGE). Above
it each runs its exact method on a bounded subset of the pool read from the (memory-mapped)
array, and lifts the result back to pool indices:

* TypiClust: a uniform sample of ``exact_max_samples`` pool samples (with the whole
  labeled set). k-means on a uniform sample sees the same clusters; typicality (the
  inverse mean distance to the 20 nearest members of the cluster) is estimated in the
  sample, where it measures density on a 20x wider neighbourhood at 1M.
* Uncertainty Herding: the gain of a candidate is a sum over the pool; the candidates and
  the points of that sum are ``candidates_per_pick * budget`` samples (at most
  ``exact_max_samples``): half the most uncertain (weight 1 each), half a uniform sample of
  the rest weighted by the inverse of its sampling rate, so every gain is an unbiased
  estimate of its value over the pool.

Samples outside the subset score 0 (unranked) when the subset's scores are lifted, so the
batch still ranks first. ``tests/unit/test_scale_lowbudget.py`` holds each approximation
to the exact method's objective at small size; docs/scale.md gives the numbers on 50,000.
ProbCover does not subsample this way (on a sample it covered about half the exact share of
the pool): it counts coverage over the whole pool (:mod:`autoal.strategies.probcover_large`).
Cluster-Margin needs none: it clusters at most ``max_candidates`` rows, read from the pool
by index.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_exact_max", "lift_scores", "read_rows", "top_and_uniform_rows", "uniform_rows"]


def check_exact_max(exact_max_samples: int) -> int:
    """``exact_max_samples`` as an int after checking it is at least 1."""
    if int(exact_max_samples) < 1:
        raise ValueError(f"exact_max_samples must be >= 1, got {exact_max_samples}")
    return int(exact_max_samples)


def uniform_rows(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """``m`` distinct sorted indices drawn uniformly from ``0 .. n`` (all of them if m >= n)."""
    if m >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=m, replace=False))


def top_and_uniform_rows(
    rng: np.random.Generator, values: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` sorted rows of ``values`` (at most all of them) and their weights in sums over
    all rows: the ``size // 2`` highest values (weight 1) and a uniform sample of the rest
    (weight: the inverse of its sampling rate), so a weighted sum over the rows estimates the
    sum over every row without bias. Rows tied at the top half's edge are drawn among at
    random (flat values would otherwise give the lowest row numbers)."""
    n = len(values)
    size = min(n, size)
    n_top = size // 2
    top = _top_rows(rng, values, n_top)
    outside = np.ones(n, dtype=bool)
    outside[top] = False
    rest = np.flatnonzero(outside)
    drawn = rest[uniform_rows(rng, len(rest), size - n_top)]
    rows = np.concatenate([top, drawn])
    rate = len(rest) / max(1, len(drawn))
    weight = np.concatenate([np.ones(n_top), np.full(len(drawn), rate)])
    order = np.argsort(rows)
    return rows[order], weight[order]


def _top_rows(rng: np.random.Generator, values: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` highest ``values`` in linear time; the rows tied with the
    ``k``-th value are drawn among uniformly (``rng`` is used only when there are more of
    them than places left)."""
    if k == 0:
        return np.array([], np.int64)
    top = np.argpartition(-values, k - 1)[:k]
    edge = values[top].min()
    tied = np.flatnonzero(values == edge)
    above = top[values[top] > edge]
    if len(above) + len(tied) == k:
        return top
    return np.concatenate([above, rng.choice(tied, size=k - len(above), replace=False)])


def read_rows(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``array[rows]`` as float64; ``rows`` sorted, so a memory map is read in order."""
    return np.asarray(array[rows], dtype=np.float64)


def lift_scores(n: int, rows: np.ndarray, subset_scores: np.ndarray) -> np.ndarray:
    """Pool scores from the scores of the subset ``rows``: the others score 0 (unranked;
    every subset score is non-negative, so a batch ranked first in the subset stays first)."""
    scores = np.zeros(n)
    scores[rows] = subset_scores
    return scores
