"""Diversity strategies on embeddings: k-means and coreset (k-center greedy); BADGE, which
shares their large-pool machinery, is in :mod:`autoal.strategies.badge`.

Large pools. The exact methods cost ``budget`` passes over the pool (coreset, BADGE) or
k-means with ``k = budget`` over all of it, and hold float64 copies of what they read; above
``exact_max_samples`` pool samples (default 50,000) each switches to a documented
approximation that reads the pool in chunks and keeps the selection itself to a candidate
set or a sample of bounded size:

* k-means: Lloyd's k-means (at most 20 iterations, k-means++ seeds drawn from 8 samples
  per centre) on a uniform sample of ``samples_per_cluster * k`` pool samples (faiss's
  k-means samples its training set the same way), then every pool sample is assigned to
  its nearest centre in float32 chunks and each centre's nearest member is picked.
* coreset: k-center greedy over ``candidates_per_pick * budget`` candidates (with the
  labeled set as the start, as in the exact method): half the samples farthest from the
  labeled set (from at most 10,000 of its rows; from the pool mean without one), which
  the greedy would reach first, and half a uniform sample of the rest.
* BADGE: k-means++ seeding in gradient space over ``candidates_per_pick * budget``
  candidates: half the samples with the largest gradient norms (each weight 1), half a
  uniform sample of the rest, weighted by the inverse of its sampling rate so that D^2
  sampling over the candidates estimates D^2 sampling over the pool.

``tests/test_scale_approx.py`` holds each approximation to the exact method's objective at
small size; docs/scale.md gives the measured quality on 50,000 samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from autoal.chunks import chunk_rows
from autoal.evidence import Evidence
from autoal.strategies.base import check_budget
from autoal.strategies.registry import register_strategy
from autoal.strategies.representation import (
    RepresentationStrategy,
    raw_space_of,
)

__all__ = [
    "KMeansSampling",
    "CoreSet",
    "batch_first_scores",
    "unit_scale",
    "min_sq_distances",
    "nearest_centres",
    "EXACT_MAX_SAMPLES",
]

#: Pools up to this many samples get the exact diversity methods by default.
EXACT_MAX_SAMPLES = 50_000
#: Coreset's candidate pre-filter measures distance to at most this many labeled rows.
_PREFILTER_MAX_START = 10_000


def nearest_centres(
    points: np.ndarray, centres: np.ndarray, chunk: int | None = None, dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Squared distance of each point to its nearest centre and that centre's index.

    Points are read ``chunk`` rows at a time (default: what fits in
    :data:`autoal.chunks.CHUNK_BYTES`) and upcast to float64 per chunk, so a
    memory-mapped float32 pool is never copied whole. ``dtype=np.float32`` halves the cost
    where only the nearest centre matters (k-means' assignment of a large pool).
    """
    centres = np.asarray(centres, dtype=dtype)
    c_sq = np.einsum("ij,ij->i", centres, centres)
    n = len(points)
    best = np.full(n, np.inf)
    which = np.zeros(n, dtype=np.int64)
    c_chunk = 1024
    if chunk is None:
        chunk = chunk_rows(points.shape[1] + min(c_chunk, len(centres)))
    for p0 in range(0, n, chunk):
        block = np.asarray(points[p0 : p0 + chunk], dtype=dtype)
        b_sq = np.einsum("ij,ij->i", block, block)[:, None]
        rows = slice(p0, p0 + len(block))
        for c0 in range(0, len(centres), c_chunk):
            cs = slice(c0, c0 + c_chunk)
            d = b_sq - 2.0 * block @ centres[cs].T + c_sq[None, cs]
            arg = d.argmin(axis=1)
            low = d[np.arange(len(block)), arg]
            better = low < best[rows]
            best[rows] = np.where(better, low, best[rows])
            which[rows] = np.where(better, arg + c0, which[rows])
    return np.maximum(best, 0.0), which


def min_sq_distances(
    points: np.ndarray, centres: np.ndarray, chunk: int | None = None
) -> np.ndarray:
    """Squared distance of each point to its nearest centre, in chunks of ``chunk`` points."""
    return nearest_centres(points, centres, chunk)[0]


def unit_scale(*arrays: np.ndarray | None) -> tuple[list[np.ndarray | None], int]:
    """The arrays as float64, divided by the one power of two ``2**e`` that brings their
    largest absolute value into ``[0.5, 1)``; returns them and ``e``.

    Scaling by a power of two is exact, so distances keep their order and the strategies
    their picks; it keeps squared distances of finite but huge (or tiny) embeddings from
    overflowing to inf (or underflowing to 0). ``np.ldexp(d, e)`` restores a distance.
    """
    out = [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]
    peak = max((float(np.abs(a).max()) for a in out if a is not None and a.size), default=0.0)
    if peak == 0.0:
        return out, 0
    exponent = int(np.frexp(peak)[1])
    return [None if a is None else np.ldexp(a, -exponent) for a in out], exponent


def batch_first_scores(order: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Scores that put the batch ``order`` first (earliest highest), others by ``rest``.

    ``rest`` is any non-negative score for the samples outside the batch; it is squashed
    into ``[0, 1)`` so that every batch member (scores in ``(1, 2]``) outranks them.
    """
    scores = rest / (1.0 + rest)
    b = len(order)
    scores[order] = 1.0 + (b - np.arange(b)) / b
    return scores


def _uniform_rows(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """``m`` distinct sorted indices drawn uniformly from ``0 .. n``."""
    return np.sort(rng.choice(n, size=min(n, m), replace=False))


class _ScalableDiversity(RepresentationStrategy):
    """Shared parameters and bookkeeping of the diversity strategies' large-pool modes."""

    def __init__(
        self, random_state: int | None = None, exact_max_samples: int = EXACT_MAX_SAMPLES
    ) -> None:
        super().__init__(random_state)
        self.exact_max_samples = exact_max_samples
        self._approximation: dict[str, Any] | None = None

    def _approximate(self, n: int) -> bool:
        if int(self.exact_max_samples) < 1:
            raise ValueError(f"exact_max_samples must be >= 1, got {self.exact_max_samples}")
        return n > self.exact_max_samples

    def round_info(self) -> dict[str, Any]:
        """``{"approximation": {...}}`` when the last call used the large-pool mode."""
        return {} if self._approximation is None else {"approximation": self._approximation}


class _GreedyBatch(_ScalableDiversity):
    """A diversity strategy that builds its batch greedily (coreset, BADGE): ``_batch``
    gives the picks in order and, where the whole pool was searched, each sample's
    distance to them."""

    def _batch(self, evidence: Evidence, budget: int) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def select(self, evidence: Evidence, budget: int) -> np.ndarray:
        """The picks in order (the first ``budget`` of :meth:`score`'s ranking)."""
        n = self._check(evidence)
        budget = check_budget(budget, n)
        picks, dist = self._batch(evidence, budget)
        # The scores behind the pick: the batch first; the rest by distance where the whole
        # pool was searched, else unranked (0) rather than a second pass over a large pool.
        # _pick returns the batch in pick order and, as every select always has, draws its
        # tie-break order from rng: the stream (BADGE's next round) stays what it was.
        return self._pick(batch_first_scores(picks, np.zeros(n) if dist is None else dist),
                          budget)


@register_strategy
class KMeansSampling(_ScalableDiversity):
    """k-means with ``k = budget`` on the embeddings; pick the member nearest each centre.

    As a score: the batch members first, then every other sample by closeness to its own
    centre. Above ``exact_max_samples`` pool samples the centres come from a uniform sample
    of ``samples_per_cluster * k`` pool samples (see the module docstring).

    Parameters
    ----------
    random_state:
        Seeds k-means' initialisation, the sample and tie-breaking.
    n_clusters:
        ``k`` when :meth:`score` is called without a budget (default: the number of classes
        when ``probs`` is known, else 10).
    max_iter:
        Lloyd iterations at most.
    representation:
        ``"model"`` (the task model's embeddings) or ``"features"`` (the label-free
        ``Evidence.features``); see :mod:`autoal.strategies.representation`.
    exact_max_samples:
        Largest pool clustered whole.
    samples_per_cluster:
        Sample size per centre above ``exact_max_samples``.
    """

    name = "kmeans"
    required_fields = ("embeddings",)

    def __init__(
        self,
        random_state: int | None = None,
        n_clusters: int | None = None,
        max_iter: int = 100,
        representation: str = "model",
        exact_max_samples: int = EXACT_MAX_SAMPLES,
        samples_per_cluster: int = 64,
    ) -> None:
        super().__init__(random_state, exact_max_samples)
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.representation = representation
        self.samples_per_cluster = samples_per_cluster

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return batch-membership-first scores for a k-means batch of size ``budget``."""
        n = self._check(evidence)
        k = budget if budget is not None else self.n_clusters
        if k is None:
            k = evidence.probs.shape[1] if evidence.probs is not None else 10
        k = check_budget(min(k, n), n)
        emb, _ = raw_space_of(evidence, self.representation)
        seed = int(self.rng.integers(2**31 - 1))
        if self._approximate(n):
            sample = _uniform_rows(self.rng, n, int(self.samples_per_cluster) * k)
            fit_on = np.asarray(emb[sample], dtype=np.float32)
            self._approximation = {"method": "kmeans-on-sample", "sample": len(sample)}
        else:  # scaled by a power of two (exact): huge or tiny values neither overflow nor vanish
            (scaled,), _ = unit_scale(emb)
            assert scaled is not None
            fit_on = scaled
            self._approximation = None
        if self._approximation is None:
            km = KMeans(n_clusters=k, n_init=1, max_iter=self.max_iter, random_state=seed)
        else:  # k-means++ seeds from 8 samples per centre: seeding all costs k passes
            seed_rows = np.sort(self.rng.choice(len(fit_on), min(len(fit_on), 8 * k), False))
            init = kmeans_plusplus(fit_on[seed_rows], k, random_state=seed)[0]
            km = KMeans(k, init=init, n_init=1, max_iter=min(self.max_iter, 20), random_state=seed)
        km.fit(fit_on)
        if self._approximation is None:
            labels = km.labels_
            dist = np.linalg.norm(fit_on - km.cluster_centers_[labels], axis=1)
        else:
            sq, labels = nearest_centres(emb, km.cluster_centers_, dtype=np.float32)
            dist = np.sqrt(sq.astype(np.float64))
        # Nearest member of each cluster: sort by (cluster, distance), keep each cluster's first.
        order = np.lexsort((dist, labels))
        first = order[np.r_[True, labels[order][1:] != labels[order][:-1]]]
        first = first[np.argsort(dist[first])]
        return batch_first_scores(first, 1.0 / (1.0 + dist))


def _k_center_greedy(
    emb: np.ndarray, labeled: np.ndarray | None, budget: int
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center picks and the final squared-distance vector; one ``(N,)`` vector in
    memory. Each pick updates the distances with one matrix-vector product,
    ``|x|^2 - 2 x.c + |c|^2``, instead of an ``(N, D)`` difference."""
    sq = np.einsum("ij,ij->i", emb, emb)

    def sq_dist_to(j: int) -> np.ndarray:
        return np.maximum(sq - 2.0 * (emb @ emb[j]) + sq[j], 0.0)

    if labeled is not None and len(labeled):
        dist = min_sq_distances(emb, labeled)
        picks: list[int] = []
    else:
        first = int(np.argmin(min_sq_distances(emb, emb.mean(axis=0)[None, :])))
        dist = sq_dist_to(first)
        picks = [first]
        dist[first] = -1.0
    while len(picks) < budget:
        nxt = int(np.argmax(dist))
        picks.append(nxt)
        np.minimum(dist, sq_dist_to(nxt), out=dist)
        dist[picks] = -1.0  # never pick twice, even among duplicate points
    return np.asarray(picks, dtype=np.int64), np.maximum(dist, 0.0)


def _pool_mean(emb: np.ndarray, chunk: int = 65536) -> np.ndarray:
    total = np.zeros(emb.shape[1])
    for start in range(0, len(emb), chunk):
        total += np.asarray(emb[start : start + chunk], dtype=np.float64).sum(axis=0)
    return total / len(emb)


@register_strategy
class CoreSet(_GreedyBatch):
    """Core-set (Sener & Savarese 2018): k-center greedy on embeddings.

    Starts from ``labeled_embeddings`` when given (else from the sample nearest the pool
    mean). Without a budget the score is the distance to the nearest labeled sample. Above
    ``exact_max_samples`` the greedy runs over a uniform candidate sample (module docstring).

    Parameters
    ----------
    random_state:
        Seeds the candidate sample.
    representation:
        ``"model"`` (the task model's embeddings) or ``"features"`` (the label-free
        ``Evidence.features`` and ``labeled_features``); see
        :mod:`autoal.strategies.representation`.
    exact_max_samples:
        Largest pool searched whole.
    candidates_per_pick:
        Candidates per batch slot above ``exact_max_samples``.
    """

    name = "coreset"
    required_fields = ("embeddings",)

    def __init__(
        self,
        random_state: int | None = None,
        representation: str = "model",
        exact_max_samples: int = EXACT_MAX_SAMPLES,
        candidates_per_pick: int = 50,
    ) -> None:
        super().__init__(random_state, exact_max_samples)
        self.representation = representation
        self.candidates_per_pick = candidates_per_pick

    def _batch(self, evidence: Evidence, budget: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The greedy picks, and the distance vector when the whole pool was searched."""
        n = evidence.n_samples
        pool, labeled = raw_space_of(evidence, self.representation)
        if not self._approximate(n):
            self._approximation = None
            # Scaled by a power of two (exact): the distances rank the rest of the pool, and
            # in these units neither overflow nor saturate batch_first_scores.
            (emb, lab), _ = unit_scale(pool, labeled)
            assert emb is not None
            picks, dist = _k_center_greedy(emb, lab, budget)
            return picks, np.sqrt(dist)
        m = min(n, int(self.candidates_per_pick) * budget)
        if labeled is not None and len(labeled):
            start = labeled[_uniform_rows(self.rng, len(labeled), _PREFILTER_MAX_START)]
        else:
            start = _pool_mean(pool)[None, :]
        far = min_sq_distances(pool, start)
        top = np.argpartition(-far, m // 2 - 1)[: m // 2] if m // 2 else np.array([], int)
        rest = np.setdiff1d(np.arange(n), top, assume_unique=True)
        rows = np.sort(
            np.concatenate([top, rest[_uniform_rows(self.rng, len(rest), m - len(top))]])
        )
        emb = np.asarray(pool[rows], dtype=np.float64)
        picks, _ = _k_center_greedy(emb, labeled, budget)
        self._approximation = {"method": "k-center-on-candidates", "candidates": len(rows)}
        return rows[picks], None

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return greedy-order-first scores (with a budget) or nearest-labeled distance."""
        n = self._check(evidence)
        emb, labeled = raw_space_of(evidence, self.representation)
        if budget is None:
            if not self._approximate(n):
                (scaled, labeled), exponent = unit_scale(emb, labeled)  # exact: see unit_scale
                assert scaled is not None
                emb = scaled
            else:
                exponent = 0
            if labeled is None or not len(labeled):
                return np.ldexp(np.sqrt(min_sq_distances(emb, _pool_mean(emb)[None, :])), exponent)
            return np.ldexp(np.sqrt(min_sq_distances(emb, labeled)), exponent)
        picks, dist = self._batch(evidence, check_budget(budget, n))
        if dist is None:
            centres = np.asarray(emb[np.sort(picks)], dtype=np.float64)
            if labeled is not None and len(labeled):
                centres = np.vstack([centres, labeled])
            dist = np.sqrt(min_sq_distances(emb, centres))
        return batch_first_scores(picks, dist)
