"""Cluster-Margin (Citovsky et al., NeurIPS 2021): lowest-margin points, spread over clusters."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from autoal.chunks import row_slices
from autoal.evidence import Evidence
from autoal.strategies.base import check_budget, top_k
from autoal.strategies.diversity import batch_first_scores, unit_scale
from autoal.strategies.registry import register_strategy
from autoal.strategies.representation import (
    RepresentationStrategy,
    check_representation,
    raw_space_of,
)

__all__ = ["ClusterMargin", "round_robin"]


def round_robin(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``labels`` in round-robin order over its clusters, smallest cluster
    first (equal sizes in a random order), members of each cluster in a random order."""
    clusters, sizes = np.unique(labels, return_counts=True)
    cluster_order = clusters[np.lexsort((rng.permutation(len(clusters)), sizes))]
    queues = [rng.permutation(np.flatnonzero(labels == c)) for c in cluster_order]
    members = np.concatenate(queues)
    turn = np.concatenate([np.arange(len(q)) for q in queues])  # t-th member of its queue
    rank = np.repeat(np.arange(len(queues)), [len(q) for q in queues])
    return members[np.lexsort((rank, turn))].astype(np.int64)


@register_strategy
class ClusterMargin(RepresentationStrategy):
    """Cluster-Margin (Citovsky, DeSalvo, Gentile, Karydas, Rajagopalan, Rostamizadeh &
    Kumar, "Batch active learning at scale", NeurIPS 2021).

    1. Margin ``m(x) = p_1(x) - p_2(x)`` (the two largest class probabilities); the
       candidates M are the ``k_m = margin_factor * b`` lowest-margin pool points (the
       paper's ``k_m = 10 b``; ties at random), at most ``max_candidates``.
    2. Hierarchical agglomerative clustering of M with average linkage (the paper's), into
       ``n_clusters`` clusters (default ``b``) or cut at ``distance_threshold`` (the
       paper's epsilon) when that is given.
    3. Round-robin over the clusters sorted by size, smallest first: one random member of
       each cluster in turn, until ``b`` are chosen (paper Alg. 1).

    The paper clusters the whole pool once, before the first round, with a fast HAC for
    millions of points; here the clustering covers only M and is redone each round, so its
    memory is bounded by ``max_candidates^2 / 2`` distances (about 100 MB at the default
    5000). As a score: the batch first, then every other sample by ``1 - m(x)``. Without a
    budget the score is ``1 - m(x)``.

    Parameters
    ----------
    random_state:
        Seed of the tie-breaks and the round-robin order.
    margin_factor:
        ``k_m / b``.
    max_candidates:
        Upper bound on ``k_m`` (memory of the clustering).
    n_clusters:
        Number of HAC clusters; default the budget ``b``. Ignored when
        ``distance_threshold`` is given.
    distance_threshold:
        Cut the HAC tree at this average-linkage distance instead.
    representation:
        ``"model"`` (the task model's embeddings) or ``"features"`` (the label-free
        ``Evidence.features``); see :mod:`autoal.strategies.representation`.
    """

    name = "cluster_margin"
    required_fields = ("probs", "embeddings")

    def __init__(
        self,
        random_state: int | None = None,
        margin_factor: int = 10,
        max_candidates: int = 5000,
        n_clusters: int | None = None,
        distance_threshold: float | None = None,
        representation: str = "model",
    ) -> None:
        super().__init__(random_state)
        self.margin_factor = margin_factor
        self.max_candidates = max_candidates
        self.n_clusters = n_clusters
        self.distance_threshold = distance_threshold
        self.representation = representation
        self._info: dict[str, Any] = {}

    def round_info(self) -> dict[str, Any]:
        """How many candidates and clusters the last batch came from (``"cluster_margin"``)."""
        return dict(self._info)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return round-robin-order-first scores (with a budget) or ``1 - margin``."""
        n = self._check(evidence)
        check_representation(self.representation)
        probs = evidence.probs
        assert probs is not None  # _check required it
        if probs.shape[1] < 2:
            uncertainty = np.zeros(n)
        else:  # in row chunks (in probs' own dtype): a memory map is not copied whole
            uncertainty = np.empty(n, dtype=probs.dtype)
            for rows in row_slices(n, probs.shape[1]):
                top2 = np.partition(probs[rows], -2, axis=1)[:, -2:]
                uncertainty[rows] = 1.0 - (top2[:, 1] - top2[:, 0])
        if budget is None:
            return uncertainty
        budget = check_budget(budget, n)
        pool, _ = raw_space_of(evidence, self.representation)  # only the candidates' rows
        k_m = min(max(budget, int(self.margin_factor) * budget), int(self.max_candidates), n)
        k_m = max(k_m, budget)
        cands = top_k(uncertainty, k_m, self.rng)
        in_order = np.sort(cands)  # read a memory map in order; back in candidate order below
        at = np.asarray(pool[in_order], dtype=np.float64)[np.searchsorted(in_order, cands)]
        # Scaled by a power of two (exact, the clusters do not change): distances between
        # huge or tiny embeddings neither overflow to inf nor vanish.
        (points,), exponent = unit_scale(at)
        if self.distance_threshold is not None:
            hac = AgglomerativeClustering(
                n_clusters=None,
                distance_threshold=float(np.ldexp(float(self.distance_threshold), -exponent)),
                linkage="average",
            )
        else:
            k = budget if self.n_clusters is None else int(self.n_clusters)
            hac = AgglomerativeClustering(n_clusters=max(1, min(k, k_m)), linkage="average")
        labels = hac.fit_predict(points) if k_m > 1 else np.zeros(1, dtype=np.int64)
        order = cands[round_robin(labels, self.rng)][:budget]
        self._info = {
            "cluster_margin": {"candidates": int(k_m), "clusters": int(labels.max() + 1)}
        }
        return batch_first_scores(order, uncertainty)
