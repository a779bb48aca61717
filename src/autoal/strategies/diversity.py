"""Diversity strategies on embeddings: k-means, coreset (k-center greedy) and BADGE."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from autoal.evidence import Evidence
from autoal.strategies.base import QueryStrategy, check_budget
from autoal.strategies.registry import register_strategy

__all__ = [
    "KMeansSampling", "CoreSet", "Badge", "batch_first_scores", "min_sq_distances", "unit_scale",
]


def min_sq_distances(points: np.ndarray, centres: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Squared distance of each point to its nearest centre, in ``chunk x chunk`` blocks."""
    points = np.asarray(points, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    c_sq = np.einsum("ij,ij->i", centres, centres)
    best = np.full(len(points), np.inf)
    for p0 in range(0, len(points), chunk):
        block = points[p0 : p0 + chunk]
        b_sq = np.einsum("ij,ij->i", block, block)[:, None]
        for c0 in range(0, len(centres), chunk):
            d = b_sq - 2.0 * block @ centres[c0 : c0 + chunk].T + c_sq[None, c0 : c0 + chunk]
            np.minimum(best[p0 : p0 + chunk], d.min(axis=1), out=best[p0 : p0 + chunk])
    return np.maximum(best, 0.0)


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


@register_strategy
class KMeansSampling(QueryStrategy):
    """k-means with ``k = budget`` on the embeddings; pick the member nearest each centre.

    As a score: the batch members first, then every other sample by closeness to its own
    centre. ``n_clusters`` is used when :meth:`score` is called without a budget (default:
    the number of classes when ``probs`` is known, else 10).
    """

    name = "kmeans"
    requires = ("embeddings",)

    def __init__(
        self, random_state: int | None = None, n_clusters: int | None = None, max_iter: int = 100
    ) -> None:
        super().__init__(random_state)
        self.n_clusters = n_clusters
        self.max_iter = max_iter

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return batch-membership-first scores for a k-means batch of size ``budget``."""
        n = self._check(evidence)
        k = budget if budget is not None else self.n_clusters
        if k is None:
            k = evidence.probs.shape[1] if evidence.probs is not None else 10
        k = check_budget(min(k, n), n)
        (emb,), _ = unit_scale(evidence.embeddings)
        km = KMeans(
            n_clusters=k,
            n_init=1,
            max_iter=self.max_iter,
            random_state=int(self.rng.integers(2**31 - 1)),
        ).fit(emb)
        dist = np.linalg.norm(emb - km.cluster_centers_[km.labels_], axis=1)
        # Nearest member of each cluster: sort by (cluster, distance), keep each cluster's first.
        order = np.lexsort((dist, km.labels_))
        first = order[np.r_[True, km.labels_[order][1:] != km.labels_[order][:-1]]]
        first = first[np.argsort(dist[first])]
        return batch_first_scores(first, 1.0 / (1.0 + dist))


def _k_center_greedy(
    emb: np.ndarray, labeled: np.ndarray | None, budget: int
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center picks and the final distance vector; one ``(N,)`` vector in memory."""
    if labeled is not None and len(labeled):
        dist = min_sq_distances(emb, labeled)
        picks: list[int] = []
    else:
        first = int(np.argmin(((emb - emb.mean(axis=0)) ** 2).sum(axis=1)))
        dist = ((emb - emb[first]) ** 2).sum(axis=1)
        picks = [first]
        dist[first] = -1.0
    while len(picks) < budget:
        nxt = int(np.argmax(dist))
        picks.append(nxt)
        np.minimum(dist, ((emb - emb[nxt]) ** 2).sum(axis=1), out=dist)
        dist[picks] = -1.0  # never pick twice, even among duplicate points
    return np.asarray(picks, dtype=np.int64), np.maximum(dist, 0.0)


@register_strategy
class CoreSet(QueryStrategy):
    """Core-set (Sener & Savarese 2018): k-center greedy on embeddings.

    Starts from ``labeled_embeddings`` when given (else from the sample nearest the pool
    mean). Without a budget the score is the distance to the nearest labeled sample.
    """

    name = "coreset"
    requires = ("embeddings",)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return greedy-order-first scores (with a budget) or nearest-labeled distance."""
        n = self._check(evidence)
        (emb, labeled), exponent = unit_scale(evidence.embeddings, evidence.labeled_embeddings)
        assert emb is not None
        if budget is None:
            if labeled is None or not len(labeled):
                return np.ldexp(np.sqrt(((emb - emb.mean(axis=0)) ** 2).sum(axis=1)), exponent)
            return np.ldexp(np.sqrt(min_sq_distances(emb, labeled)), exponent)
        picks, dist = _k_center_greedy(emb, labeled, check_budget(budget, n))
        return batch_first_scores(picks, np.sqrt(dist))


@register_strategy
class Badge(QueryStrategy):
    """BADGE (Ash et al. 2020): k-means++ seeding on gradient embeddings.

    Gradient embeddings ``(p - onehot(argmax p)) (x) e`` come in closed form from ``probs``
    and ``embeddings``. The first seed is the largest gradient; each next seed is drawn with
    probability proportional to its squared distance to the seeds so far. Without a budget
    the score is the gradient embedding's norm.
    """

    name = "badge"
    requires = ("probs", "embeddings")

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return seeding-order-first scores (with a budget) or gradient norms."""
        n = self._check(evidence)
        delta, emb = evidence.grad_factors()
        (emb,), exponent = unit_scale(emb)
        sq_norm = np.einsum("ij,ij->i", delta, delta) * np.einsum("ij,ij->i", emb, emb)
        if budget is None:
            return np.ldexp(np.sqrt(sq_norm), exponent)
        budget = check_budget(budget, n)

        def sq_dist_to(j: int) -> np.ndarray:
            inner = (delta @ delta[j]) * (emb @ emb[j])
            return np.maximum(sq_norm - 2.0 * inner + sq_norm[j], 0.0)

        picks = [int(np.argmax(sq_norm))]
        dist = sq_dist_to(picks[0])
        while len(picks) < budget:
            total = dist.sum()
            if total <= 0:  # every remaining sample coincides with a seed: take any unpicked
                remaining = np.setdiff1d(np.arange(n), picks)
                nxt = int(self.rng.choice(remaining))
            else:
                nxt = int(self.rng.choice(n, p=dist / total))
            picks.append(nxt)
            np.minimum(dist, sq_dist_to(nxt), out=dist)
            dist[picks] = 0.0
        return batch_first_scores(np.asarray(picks, dtype=np.int64), np.sqrt(dist))
