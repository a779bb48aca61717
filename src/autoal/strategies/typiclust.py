"""TypiClust (Hacohen, Dekel & Weinshall, ICML 2022): typical points of uncovered clusters."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.neighbors import NearestNeighbors

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
from autoal.strategies.subsample import check_exact_max, lift_scores, read_rows, uniform_rows

__all__ = ["TypiClust", "cluster_points", "typicality"]


def typicality(points: np.ndarray, k: int = 20) -> np.ndarray:
    """Typicality of each point within ``points`` (Hacohen et al. 2022, eq. 4).

    ``Typicality(x) = ( (1/K) * sum_{x_i in KNN(x)} ||x - x_i||_2 )^-1`` where ``KNN(x)``
    are the ``K = min(k, n - 1)`` nearest other points of the set. A set of one point has
    typicality 1; a point whose K neighbours coincide with it has typicality ``inf``.
    """
    points = np.asarray(points, dtype=np.float64)
    n = len(points)
    if n == 1:
        return np.ones(1)
    k = min(int(k), n - 1)
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    # kneighbors of the fitted points returns each point first at distance 0: drop that column
    mean_dist = dist[:, 1:].mean(axis=1)
    with np.errstate(divide="ignore"):
        return 1.0 / mean_dist


def cluster_points(
    points: np.ndarray, n_clusters: int, random_state: int, minibatch_above: int
) -> np.ndarray:
    """k-means labels of ``points``; MiniBatch k-means when ``n_clusters > minibatch_above``
    (the authors' implementation switches at 50 clusters)."""
    if n_clusters > minibatch_above:
        model = MiniBatchKMeans(
            n_clusters=n_clusters, batch_size=max(1024, 3 * n_clusters), n_init=3,
            random_state=random_state,
        )
    else:
        model = KMeans(n_clusters=n_clusters, n_init=1, random_state=random_state)
    return model.fit_predict(points)


@register_strategy
class TypiClust(RepresentationStrategy):
    """TypiClust (Hacohen, Dekel & Weinshall, "Active learning on a budget: opposite
    strategies suit high and low budgets", ICML 2022).

    1. Cluster the pool and the labeled set together into ``K = min(|L| + b, max_clusters)``
       clusters by k-means (MiniBatch k-means above ``minibatch_above`` clusters).
    2. Repeat ``b`` times: among clusters with at least ``min_cluster_size`` members (all
       clusters if none has), take the one with the fewest labeled-or-chosen members, the
       largest first (so first the largest clusters without a labeled member, as the paper;
       remaining ties at random), and choose its unlabeled member of highest typicality
       ``Typicality(x) = ( (1/K_nn) * sum_{x_i in KNN(x)} ||x - x_i||_2 )^-1`` with
       ``KNN(x)`` the ``K_nn = min(n_neighbors, |cluster| - 1)`` nearest other members of
       x's cluster (paper eq. 4, K_nn = 20).

    ``max_clusters = 500``, ``min_cluster_size = 5`` and the MiniBatch switch at 50 clusters
    follow the authors' implementation. Above ``exact_max_samples`` pool samples the method
    runs on a uniform sample of that many (see :mod:`autoal.strategies.subsample`; the
    others score 0). As a score: the batch first (in order of choice), then every other
    sample by its typicality within its cluster. Without a budget, ``b`` is
    the number of classes when ``probs`` is known, else 10.

    Parameters
    ----------
    random_state:
        Seed of k-means and of the tie-breaks.
    n_neighbors:
        ``K_nn`` of the typicality (the paper's 20).
    max_clusters:
        Upper bound on the number of clusters.
    min_cluster_size:
        Clusters smaller than this are used only when no larger one is left.
    minibatch_above:
        Use MiniBatch k-means when the number of clusters exceeds this.
    representation:
        ``"model"`` (the task model's embeddings) or ``"features"`` (the label-free
        ``Evidence.features``); see :mod:`autoal.strategies.representation`.
    exact_max_samples:
        Largest pool used whole; above it, the size of the uniform sample.
    """

    name = "typiclust"
    required_fields = ("embeddings",)

    def __init__(
        self,
        random_state: int | None = None,
        n_neighbors: int = 20,
        max_clusters: int = 500,
        min_cluster_size: int = 5,
        minibatch_above: int = 50,
        representation: str = "model",
        exact_max_samples: int = EXACT_MAX_SAMPLES,
    ) -> None:
        super().__init__(random_state)
        self.n_neighbors = n_neighbors
        self.max_clusters = max_clusters
        self.min_cluster_size = min_cluster_size
        self.minibatch_above = minibatch_above
        self.representation = representation
        self.exact_max_samples = exact_max_samples
        self._approximation: dict[str, Any] | None = None

    def round_info(self) -> dict[str, Any]:
        """``{"approximation": {...}}`` when the last call ran on a sample of the pool."""
        return {} if self._approximation is None else {"approximation": self._approximation}

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return batch-first scores for a TypiClust batch of size ``budget``."""
        n = self._check(evidence)
        check_representation(self.representation)
        if budget is None:
            budget = min(evidence.probs.shape[1] if evidence.probs is not None else 10, n)
        budget = check_budget(budget, n)
        rows = None
        if n > check_exact_max(self.exact_max_samples):
            raw_pool, raw_labeled = raw_space_of(evidence, self.representation)
            rows = uniform_rows(self.rng, n, max(int(self.exact_max_samples), budget))
            pool = read_rows(raw_pool, rows)
            labeled = None if raw_labeled is None else np.asarray(raw_labeled, dtype=np.float64)
            self._approximation = {"method": "typiclust-on-sample", "sample": len(rows)}
        else:
            pool, labeled = space_of(evidence, self.representation)
            self._approximation = None
        order, typ = typiclust_batch(
            pool, labeled, budget, self.rng, n_neighbors=self.n_neighbors,
            max_clusters=self.max_clusters, min_cluster_size=self.min_cluster_size,
            minibatch_above=self.minibatch_above,
        )
        scores = batch_first_scores(order, typ)
        return scores if rows is None else lift_scores(n, rows, scores)


def typiclust_batch(
    pool: np.ndarray,
    labeled: np.ndarray | None,
    budget: int,
    rng: np.random.Generator,
    *,
    n_neighbors: int = 20,
    max_clusters: int = 500,
    min_cluster_size: int = 5,
    minibatch_above: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """TypiClust's batch (pool indices, in order of choice) and every pool point's
    typicality within its cluster (see :class:`TypiClust`)."""
    n = len(pool)
    n_labeled = 0 if labeled is None else len(labeled)
    points = pool if labeled is None or not n_labeled else np.vstack([pool, labeled])
    k = max(1, min(n_labeled + budget, int(max_clusters), len(points)))
    labels = cluster_points(points, k, int(rng.integers(2**31 - 1)), int(minibatch_above))
    pool_labels, labeled_labels = labels[:n], labels[n:]
    typ = np.zeros(n)
    members: list[np.ndarray] = []
    for c in range(k):
        in_c = np.flatnonzero(labels == c)
        members.append(in_c)
        if len(in_c):
            t = typicality(points[in_c], n_neighbors)
            pool_part = in_c < n
            typ[in_c[pool_part]] = t[pool_part]
    sizes = np.array([len(m) for m in members])
    taken = np.bincount(labeled_labels, minlength=k).astype(np.int64)
    free = np.bincount(pool_labels, minlength=k).astype(np.int64)  # unchosen pool members
    chosen = np.zeros(n, dtype=bool)
    order: list[int] = []
    tie = rng.permutation(k)
    finite_typ = np.where(np.isinf(typ), np.finfo(np.float64).max, typ)
    while len(order) < budget:
        usable = free > 0
        big = usable & (sizes >= min_cluster_size)
        pick_from = big if big.any() else usable
        cands = np.flatnonzero(pick_from)
        # fewest labeled-or-chosen members first, then largest, then a random order
        c = cands[np.lexsort((tie[cands], -sizes[cands], taken[cands]))[0]]
        in_pool = members[c][members[c] < n]
        in_pool = in_pool[~chosen[in_pool]]
        best = in_pool[np.argmax(finite_typ[in_pool])]
        order.append(int(best))
        chosen[best] = True
        taken[c] += 1
        free[c] -= 1
    # typicality of the rest, as a non-negative score below the batch
    rest = np.where(np.isinf(typ), 1.0, typ / (1.0 + typ))
    return np.asarray(order, dtype=np.int64), rest
