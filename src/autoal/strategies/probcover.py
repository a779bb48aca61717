"""ProbCover (Yehuda, Dekel, Hacohen & Weinshall, NeurIPS 2022): greedy max coverage of
delta-balls."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize as unit_rows

from autoal.evidence import Evidence, MissingEvidenceError
from autoal.strategies.base import check_budget
from autoal.strategies.diversity import EXACT_MAX_SAMPLES, batch_first_scores
from autoal.strategies.probcover_large import large_probcover, purity_radius
from autoal.strategies.registry import register_strategy
from autoal.strategies.representation import (
    RepresentationStrategy,
    check_representation,
    raw_space_of,
    space_of,
)
from autoal.strategies.subsample import check_exact_max

__all__ = ["ProbCover", "impure_distances", "purity_radius", "n_classes_of"]


def impure_distances(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each point's distance to its nearest point with another pseudo-label (``inf`` if
    every point shares its label)."""
    out = np.full(len(points), np.inf)
    for c in np.unique(labels):
        inside = labels == c
        if inside.all():
            continue
        nn = NearestNeighbors(n_neighbors=1).fit(points[~inside])
        out[inside] = nn.kneighbors(points[inside])[0][:, 0]
    return out


def n_classes_of(evidence: Evidence, n_classes: int | None) -> int:
    """``n_classes`` if given, else the width of ``probs`` / ``labeled_probs``, else the
    number of distinct labeled targets (at least 2)."""
    if n_classes is not None:
        return int(n_classes)
    for probs in (evidence.probs, evidence.labeled_probs):
        if probs is not None:
            return int(probs.shape[1])
    if evidence.labeled_targets is not None and len(evidence.labeled_targets):
        return max(2, len(np.unique(evidence.labeled_targets)))
    raise MissingEvidenceError(
        "evidence lacks required field(s): probs (needed for the number of classes; "
        "or build the strategy with n_classes=...)"
    )


@register_strategy
class ProbCover(RepresentationStrategy):
    """ProbCover (Yehuda, Dekel, Hacohen & Weinshall, "Active learning through a covering
    lens", NeurIPS 2022).

    Vectors are first scaled to unit length (``normalize=True``, as the authors do with
    their self-supervised features). Then:

    1. Pseudo-labels: k-means with ``k = C`` (the number of classes) on pool and labeled
       set together.
    2. Radius: the largest delta with ``purity(delta) >= alpha`` (the paper's 0.95), where
       ``purity(delta) = mean_x [ B(x, delta) holds only x's pseudo-label ]``. The paper
       scans a grid of radii; here it is exact (see :func:`purity_radius`): with
       ``d_imp(x)`` the distance from x to the nearest point of another pseudo-label,
       delta is the ``floor((1 - alpha) n)``-th smallest ``d_imp``.
    3. Graph ``G = {(x, y) : ||x - y|| < delta}`` over the pool. Pool points within delta of
       a labeled point are covered from the start.
    4. Greedy max coverage (paper Alg. 1): ``b`` times, choose the pool point covering the
       most uncovered pool points (its out-degree in G after removing the edges into
       covered points; ties at random), and mark its ball covered. When nothing is left to
       cover, the remaining picks are random (as the authors).

    Memory is the number of edges of G (one sparse graph); delta from the purity rule keeps
    balls small. As a score: the batch first, then every other sample by how many still
    uncovered points it would cover. Without a budget, that count before any choice.

    Large pools: above ``exact_max_samples`` pool samples (default 50,000) the radius comes
    from a sample (with its ``d_imp`` measured over the whole pool), the ball centres are
    restricted to ``candidates_per_pick * budget`` candidates (mostly the densest samples),
    and coverage is counted over the whole pool in chunks; see
    :mod:`autoal.strategies.probcover_large` (the run records ``{"approximation": {...}}``).
    Samples outside the candidates score 0. Without a budget, above the threshold, the
    scores rank a batch of ``C`` (the number of classes) first.

    Parameters
    ----------
    random_state:
        Seed of k-means and of the tie-breaks.
    alpha:
        Purity the balls must keep, in ``(0, 1)``.
    n_classes:
        Number of k-means pseudo-classes; default: ``probs``' width, else the number of
        distinct labeled targets.
    normalize:
        Scale vectors to unit length first (distances become chordal cosine distances).
    representation:
        ``"model"`` (the task model's embeddings) or ``"features"`` (the label-free
        ``Evidence.features``); see :mod:`autoal.strategies.representation`.
    exact_max_samples:
        Largest pool on which the exact graph is built.
    candidates_per_pick:
        Candidate ball centres per batch slot above ``exact_max_samples``.
    density_sample:
        Above ``exact_max_samples``: the uniform sample that sets the radius and ranks the
        pool by density.
    max_incidence:
        Above ``exact_max_samples``: most (candidate, pool sample) ball memberships held;
        past it coverage is counted on a uniform part of the pool.
    """

    name = "probcover"
    required_fields = ("embeddings",)

    def __init__(
        self,
        random_state: int | None = None,
        alpha: float = 0.95,
        n_classes: int | None = None,
        normalize: bool = True,
        representation: str = "model",
        exact_max_samples: int = EXACT_MAX_SAMPLES,
        candidates_per_pick: int = 20,
        density_sample: int = 10_000,
        max_incidence: int = 10_000_000,
    ) -> None:
        super().__init__(random_state)
        self.alpha = alpha
        self.n_classes = n_classes
        self.normalize = normalize
        self.representation = representation
        self.exact_max_samples = exact_max_samples
        self.candidates_per_pick = candidates_per_pick
        self.density_sample = density_sample
        self.max_incidence = max_incidence
        self._delta: float | None = None
        self._approximation: dict[str, Any] | None = None

    def round_info(self) -> dict[str, Any]:
        """The radius delta of the last call (``"probcover_delta"``) and, above
        ``exact_max_samples``, the approximation used (``"approximation"``)."""
        info: dict[str, Any] = {} if self._delta is None else {"probcover_delta": self._delta}
        if self._approximation is not None:
            info["approximation"] = dict(self._approximation)
        return info

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Return greedy-coverage-order-first scores (with a budget) or coverage counts."""
        n = self._check(evidence)
        check_representation(self.representation)
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        if budget is not None:
            budget = check_budget(budget, n)
        self._approximation = None
        if n > check_exact_max(self.exact_max_samples):
            raw_pool, raw_labeled = raw_space_of(evidence, self.representation)
            n_classes = n_classes_of(evidence, self.n_classes)
            scores, self._delta, self._approximation = large_probcover(
                raw_pool, raw_labeled, n_classes, budget or min(n_classes, n), self.rng,
                alpha=self.alpha, normalize=self.normalize,
                candidates_per_pick=self.candidates_per_pick,
                density_sample=self.density_sample, max_incidence=self.max_incidence,
            )
            return scores
        pool, labeled = space_of(evidence, self.representation)
        if self.normalize:
            pool = unit_rows(pool)
            labeled = None if labeled is None else unit_rows(labeled)
        points = pool if labeled is None or not len(labeled) else np.vstack([pool, labeled])
        k = max(1, min(n_classes_of(evidence, self.n_classes), len(points)))
        km = KMeans(n_clusters=k, n_init=1, random_state=int(self.rng.integers(2**31 - 1)))
        delta = purity_radius(impure_distances(points, km.fit_predict(points)), self.alpha)
        if not np.isfinite(delta):  # one pseudo-class: every ball is pure; cover everything
            delta = float(np.linalg.norm(points.max(axis=0) - points.min(axis=0))) + 1.0
        self._delta = delta
        # open balls: radius_neighbors counts distance <= r, so use the float just below delta
        radius = float(np.nextafter(delta, 0.0))
        graph = NearestNeighbors(radius=radius).fit(pool).radius_neighbors_graph(pool)
        graph = graph.tocsr()
        covered = np.zeros(n, dtype=bool)
        if labeled is not None and len(labeled):
            d_lab = NearestNeighbors(n_neighbors=1).fit(labeled).kneighbors(pool)[0][:, 0]
            covered = d_lab <= radius
        indptr, cols = graph.indptr, graph.indices
        degree = np.bincount(
            np.repeat(np.arange(n), np.diff(indptr))[~covered[cols]], minlength=n
        ).astype(np.int64)
        if budget is None:
            return degree.astype(np.float64)
        order: list[int] = []
        chosen = np.zeros(n, dtype=bool)
        while len(order) < budget:
            open_deg = np.where(chosen, -1, degree)
            best = open_deg.max()
            if best <= 0:  # everything covered: fill at random, as the authors
                rest = np.flatnonzero(~chosen)
                fill = self.rng.choice(rest, size=budget - len(order), replace=False)
                order.extend(int(i) for i in fill)
                break
            pick = int(self.rng.choice(np.flatnonzero(open_deg == best)))
            order.append(pick)
            chosen[pick] = True
            ball = cols[indptr[pick] : indptr[pick + 1]]
            newly = ball[~covered[ball]]
            covered[newly] = True
            # G is symmetric: the points whose balls held a newly covered point lose one each
            lose = np.concatenate([cols[indptr[i] : indptr[i + 1]] for i in newly])
            degree -= np.bincount(lose, minlength=n)
        return batch_first_scores(np.asarray(order, dtype=np.int64), degree.astype(np.float64))
