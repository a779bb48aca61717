"""ProbCover above ``exact_max_samples``: the radius from a sample, coverage over the whole pool.

The exact method (:class:`~autoal.strategies.probcover.ProbCover`) builds the delta-ball graph
of the whole pool, ``N x N`` distances. Above the threshold this module keeps its three steps
but bounds each one; the pool is read (and scaled to unit length) in float32 row chunks:

1. Radius. k-means (``k = C``) on a uniform sample of ``density_sample`` pool samples and the
   labeled set gives the pseudo-labels; every pool sample gets its nearest centre's. For each
   sampled point, ``d_imp`` (its distance to the nearest point of another pseudo-label) is
   taken over the WHOLE pool, so delta, the ``floor((1 - alpha) s)``-th smallest of them, is
   an estimate of the exact delta (the sample's own ``d_imp`` would be larger: in a sample,
   neighbours are farther; on 50,000 samples it gave 1.138 where the exact delta is 1.095,
   the pool-wide estimate 1.096).
2. Candidate centres. The same pass gives every pool sample its mean distance to its
   ``DENSITY_NEIGHBOURS`` nearest sampled points, an estimate of density. The candidates
   are the ``candidates_per_pick * budget`` samples: three quarters the densest, a quarter
   uniform from the rest. The greedy picks the points whose balls hold the most pool
   points, which are the densest ones; a uniform sample misses them.
3. Coverage over the whole pool. A second pass computes every candidate's ball (strictly
   within delta) over all ``N`` pool samples, and which pool samples a labeled point
   covers, as a sparse candidate x pool incidence; greedy max coverage on it (the exact
   method's Alg. 1 with covered points removed as they are covered; ties at random).

Memory, with ``B = CHUNK_BYTES / 2`` (:data:`autoal.chunks.CHUNK_BYTES`, 16 MB by
default), ``s`` the sample, ``c`` the candidates, ``L`` the labeled rows, ``d`` the width;
none of it but the labeled rows' own copies grows with ``L``:

- distances in float32 blocks of at most ``B`` (at least one row): pool rows against the
  sample or the candidates, labeled rows against the sample, and pool rows against at
  most ``isqrt(CHUNK_BYTES / 8)`` labeled rows at a time; at most four block-sized arrays
  live at once (the distances, the product, the partition's copy, the previous block), and
  the prepared pool rows, at most ``B`` and their unscaled copy: ``6 B`` (96 MB);
- at most about 32 bytes per pool sample (density, the candidates' selection, the column
  map, the coverage flags, the scores);
- ``(s + c) x d`` float32 rows and the k-means input, ``(s + L) x d`` float64; the labeled
  rows' float32 copy and k-means' share: 12 bytes per labeled value, linear like the
  labeled rows themselves;
- the incidence, whose size depends on delta: about 30 bytes per entry at the peak (the
  parts, their concatenation, the sparse matrix, the greedy's column copy). It is held to
  ``max_incidence`` entries: when the candidates' balls in the sample predict more (balls
  of thousands of points, as with one pseudo-class), coverage is counted on a uniform
  subset of the pool at the rate that fits half the cap (every count an unbiased estimate
  of the pool's, scaled); if the pass still exceeds the cap the rate is halved and the pass
  rerun, and after ``MAX_RETRIES`` halvings :class:`~autoal.strategies.base.PoolTooLargeError`
  is raised.

At ``N = 1,000,000``, ``d = 512`` and the defaults that is about 96 + 32 + 60 + 300 MB beyond
the pool and the labeled rows, under issue 17's 1 GB. Cost: ``N x (s + c + L)`` distances,
linear in N.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans

from autoal.chunks import chunk_rows, row_slices
from autoal.strategies.base import PoolTooLargeError
from autoal.strategies.diversity import batch_first_scores
from autoal.strategies.subsample import uniform_rows

__all__ = [
    "large_probcover", "purity_radius", "DENSITY_NEIGHBOURS", "MAX_RETRIES",
]

#: Sampled neighbours whose mean distance ranks the pool by density.
DENSITY_NEIGHBOURS = 20
#: Halvings of the coverage subset's rate before the incidence cap refuses the pool.
MAX_RETRIES = 3


def purity_radius(impure: np.ndarray, alpha: float) -> float:
    """The largest radius whose open balls keep purity at least ``alpha``.

    A ball ``B(x, delta) = {y : ||x - y|| < delta}`` is pure when every point in it shares
    x's pseudo-label, i.e. when ``delta <= d_imp(x)``, x's distance to the nearest point of
    another label. ``purity(delta) = mean_x [delta <= d_imp(x)]`` is non-increasing in
    delta, so the largest delta with ``purity >= alpha`` is ``d_imp`` sorted ascending at
    position ``floor((1 - alpha) * n)`` (0-based): at most that many balls are impure.
    """
    impure = np.sort(np.asarray(impure, dtype=np.float64))
    m = int(np.floor((1.0 - alpha) * len(impure) + 1e-9))
    return float(impure[min(m, len(impure) - 1)])


def _prepare(rows: np.ndarray, normalize: bool) -> np.ndarray:
    """Rows as float32, scaled to unit length when ``normalize`` (zero rows stay zero)."""
    x = np.asarray(rows, dtype=np.float32)
    if not normalize:
        return x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _sq_dist(x: np.ndarray, y: np.ndarray, y_sq: np.ndarray) -> np.ndarray:
    """Squared distances ``x`` rows to ``y`` rows in float32 (clipped at 0)."""
    d2 = np.einsum("ij,ij->i", x, x)[:, None] + y_sq[None, :]
    product = x @ y.T
    product *= 2.0  # in place: one temporary block, the same values as 2.0 * (x @ y.T)
    d2 -= product
    return np.maximum(d2, 0.0, out=d2)


def _within_radius(x: np.ndarray, y: np.ndarray, y_sq: np.ndarray, radius_sq: float) -> np.ndarray:
    """Whether each ``x`` row lies strictly within the radius of some ``y`` row.

    ``y`` is read ``isqrt(CHUNK_BYTES / 8)`` rows at a time and ``x`` in as many rows as
    fit beside them, so each float32 block takes at most ``CHUNK_BYTES / 2`` however many
    rows ``y`` has."""
    hit = np.zeros(len(x), dtype=bool)
    y_step = max(1, math.isqrt(chunk_rows(1)))
    for start in range(0, len(y), y_step):
        cols = slice(start, min(len(y), start + y_step))
        for rows in row_slices(len(x), cols.stop - cols.start):
            hit[rows] |= _sq_dist(x[rows], y[cols], y_sq[cols]).min(axis=1) < radius_sq
    return hit


def _chunks(pool: np.ndarray, width: int, normalize: bool) -> Iterator[tuple[slice, np.ndarray]]:
    """Row slices of the pool and their prepared rows, sized so that a ``rows x (width +
    d)`` float64 block would fit in :data:`autoal.chunks.CHUNK_BYTES` (float32 takes half):
    neither the distance block nor the rows themselves exceed half of it, however wide."""
    step = chunk_rows(width + pool.shape[1])
    for start in range(0, len(pool), step):
        rows = slice(start, min(len(pool), start + step))
        yield rows, _prepare(pool[rows], normalize)


def _radius_and_density(
    pool: np.ndarray, labeled: np.ndarray | None, sample_rows: np.ndarray, n_classes: int,
    alpha: float, normalize: bool, seed: int,
) -> tuple[float, np.ndarray, np.ndarray]:
    """One pass: delta from the sample's pool-wide ``d_imp``, every pool sample's mean
    distance to its nearest sampled points, and the sample (prepared)."""
    sample = _prepare(pool[sample_rows], normalize)
    points = sample if labeled is None else np.vstack([sample, labeled])
    k = max(1, min(n_classes, len(points)))
    km = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(points.astype(np.float64))
    centres = km.cluster_centers_.astype(np.float32)
    centres_sq = np.einsum("ij,ij->i", centres, centres)
    sample_labels = km.labels_[: len(sample)]
    sample_sq = np.einsum("ij,ij->i", sample, sample)
    impure = np.full(len(sample), np.inf, dtype=np.float32)
    density = np.empty(len(pool), dtype=np.float32)
    n_near = min(DENSITY_NEIGHBOURS, len(sample) - 1)
    for rows, x in _chunks(pool, len(sample), normalize):
        d2 = _sq_dist(x, sample, sample_sq)
        own = np.arange(rows.start, rows.stop)
        at = np.minimum(np.searchsorted(sample_rows, own), len(sample_rows) - 1)
        is_self = sample_rows[at] == own
        d2[np.flatnonzero(is_self), at[is_self]] = np.inf  # not its own neighbour
        if n_near >= 1:
            # one expression: the partitioned copy is freed before the next block
            density[rows] = np.sqrt(np.partition(d2, n_near - 1, axis=1)[:, :n_near]).mean(axis=1)
        else:
            density[rows] = 0.0
        x_labels = np.argmin(_sq_dist(x, centres, centres_sq), axis=1)
        _min_to_other_class(d2, x_labels, sample_labels, impure)
    if labeled is not None:
        labeled_labels = km.labels_[len(sample) :]
        for rows in row_slices(len(labeled), len(sample)):
            d2 = _sq_dist(labeled[rows], sample, sample_sq)
            _min_to_other_class(d2, labeled_labels[rows], sample_labels, impure)
    delta = purity_radius(np.sqrt(impure.astype(np.float64)), alpha)
    if not np.isfinite(delta):  # one pseudo-class: every ball is pure; cover everything
        delta = float(np.linalg.norm(sample.max(axis=0) - sample.min(axis=0))) + 1.0
        if normalize:
            delta = max(delta, 2.0 + 1e-3)
    return delta, density, sample


def _min_to_other_class(
    d2: np.ndarray, row_labels: np.ndarray, col_labels: np.ndarray, impure: np.ndarray
) -> None:
    """Lower ``impure`` (one entry per column) to each column's smallest squared distance
    to a row of another label; ``d2`` is overwritten (same-label entries become inf)."""
    d2[row_labels[:, None] == col_labels[None, :]] = np.inf
    np.minimum(impure, d2.min(axis=0), out=impure)


def _candidates(
    density: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Sorted candidate rows: three quarters the densest (smallest mean neighbour
    distance), a quarter uniform from the rest."""
    n = len(density)
    n_dense = (3 * size) // 4
    dense = np.argpartition(density, n_dense - 1)[:n_dense] if n_dense else np.arange(0)
    outside = np.ones(n, dtype=bool)
    outside[dense] = False
    rest = np.flatnonzero(outside)
    drawn = rest[uniform_rows(rng, len(rest), size - n_dense)]
    return np.sort(np.concatenate([dense, drawn]))


def _incidence(
    pool: np.ndarray, centres: np.ndarray, labeled: np.ndarray | None, radius_sq: float,
    keep: np.ndarray | None, normalize: bool, max_incidence: int,
) -> tuple[sparse.csr_matrix, np.ndarray] | None:
    """Candidate x pool incidence of the balls (columns: the kept pool rows) and which
    kept rows the labeled set covers; None when the cap is exceeded."""
    centres_sq = np.einsum("ij,ij->i", centres, centres)
    lab_sq = np.zeros(0) if labeled is None else np.einsum("ij,ij->i", labeled, labeled)
    column = np.arange(len(pool)) if keep is None else np.cumsum(keep) - 1
    n_cols = len(pool) if keep is None else int(keep.sum())
    covered = np.zeros(n_cols, dtype=bool)
    cand_parts: list[np.ndarray] = []
    col_parts: list[np.ndarray] = []
    nnz = 0
    for rows, x in _chunks(pool, len(centres), normalize):
        cols = column[rows]
        if keep is not None:
            x, cols = x[keep[rows]], cols[keep[rows]]
        inside, cand = np.nonzero(_sq_dist(x, centres, centres_sq) < radius_sq)
        nnz += len(inside)
        if nnz > max_incidence:
            return None
        cand_parts.append(cand.astype(np.int32))
        col_parts.append(cols[inside].astype(np.int32))
        if labeled is not None and len(x):
            covered[cols] = _within_radius(x, labeled, lab_sq, radius_sq)
    cand_idx = np.concatenate(cand_parts) if cand_parts else np.zeros(0, np.int32)
    col_idx = np.concatenate(col_parts) if col_parts else np.zeros(0, np.int32)
    ones = np.ones(len(cand_idx), dtype=bool)
    inc = sparse.csr_matrix((ones, (cand_idx, col_idx)), shape=(len(centres), n_cols))
    return inc, covered


def _greedy_coverage(
    inc: sparse.csr_matrix, covered: np.ndarray, budget: int, rng: np.random.Generator
) -> tuple[list[int], np.ndarray]:
    """Greedy max coverage over the incidence's rows: the chosen rows in order (fewer
    than ``budget`` when nothing is left to cover) and every row's remaining gain."""
    by_point = inc.tocsc()
    indptr, cols = inc.indptr, inc.indices
    rows_of = np.repeat(np.arange(inc.shape[0]), np.diff(indptr))
    degree = np.bincount(rows_of[~covered[cols]], minlength=inc.shape[0]).astype(np.int64)
    chosen = np.zeros(inc.shape[0], dtype=bool)
    order: list[int] = []
    while len(order) < budget:
        open_deg = np.where(chosen, -1, degree)
        best = open_deg.max()
        if best <= 0:
            break
        pick = int(rng.choice(np.flatnonzero(open_deg == best)))
        order.append(pick)
        chosen[pick] = True
        ball = cols[indptr[pick] : indptr[pick + 1]]
        newly = ball[~covered[ball]]
        covered[newly] = True
        lose = np.concatenate(
            [by_point.indices[by_point.indptr[j] : by_point.indptr[j + 1]] for j in newly]
        )
        degree -= np.bincount(lose, minlength=inc.shape[0])
    return order, degree


def large_probcover(
    pool: np.ndarray,
    labeled: np.ndarray | None,
    n_classes: int,
    budget: int,
    rng: np.random.Generator,
    *,
    alpha: float,
    normalize: bool,
    candidates_per_pick: int,
    density_sample: int,
    max_incidence: int,
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """ProbCover's batch-first scores over the pool (see the module docstring), its delta
    and what to record (``{"method", "sample", "candidates", "coverage_rate"}``)."""
    n = len(pool)
    if int(candidates_per_pick) < 1 or int(density_sample) < 2 or int(max_incidence) < 1:
        raise ValueError(
            "candidates_per_pick and max_incidence must be >= 1 and density_sample >= 2, got "
            f"{candidates_per_pick}, {max_incidence} and {density_sample}"
        )
    lab = None if labeled is None or not len(labeled) else _prepare(labeled, normalize)
    sample_rows = uniform_rows(rng, n, min(n, int(density_sample)))
    delta, density, sample = _radius_and_density(
        pool, lab, sample_rows, n_classes, alpha, normalize, int(rng.integers(2**31 - 1))
    )
    cand_rows = _candidates(density, min(n, max(budget, int(candidates_per_pick) * budget)), rng)
    del density
    centres = _prepare(pool[cand_rows], normalize)
    radius_sq = float(np.float32(delta) ** 2)
    # the candidates' balls in the sample predict the incidence's size over the pool
    sample_sq = np.einsum("ij,ij->i", sample, sample)
    step = chunk_rows(len(sample))
    in_sample = sum(
        int((_sq_dist(centres[i : i + step], sample, sample_sq) < radius_sq).sum())
        for i in range(0, len(centres), step)
    )
    rate = min(1.0, 0.5 * int(max_incidence) / max(1.0, in_sample * n / len(sample)))
    for _ in range(MAX_RETRIES + 1):
        keep = None
        if rate < 1.0:
            keep = np.zeros(n, dtype=bool)
            keep[uniform_rows(rng, n, max(1, int(rate * n)))] = True
        built = _incidence(pool, centres, lab, radius_sq, keep, normalize, int(max_incidence))
        if built is not None:
            break
        rate /= 2.0
    else:
        raise PoolTooLargeError(
            f"strategy 'probcover': the delta-balls (delta = {delta:.4g}) of "
            f"{len(cand_rows):,} candidates hold more than max_incidence = {max_incidence:,} "
            f"pool samples even on {rate * 2:.2g} of the pool; raise max_incidence, lower "
            "candidates_per_pick, or use typiclust or kmeans, which scale"
        )
    inc, covered = built
    order, degree = _greedy_coverage(inc, covered, budget, rng)
    picks = cand_rows[np.asarray(order, dtype=np.int64)]
    if len(picks) < budget:  # everything covered: fill at random, as the exact method
        free = np.ones(n, dtype=bool)
        free[picks] = False
        fill = rng.choice(np.flatnonzero(free), size=budget - len(picks), replace=False)
        picks = np.concatenate([picks, fill])
    rest = np.zeros(n)
    rest[cand_rows] = np.maximum(degree, 0)
    info = {"method": "probcover-on-candidates", "sample": len(sample_rows),
            "candidates": len(cand_rows), "coverage_rate": rate, "incidence": int(inc.nnz)}
    return batch_first_scores(picks, rest), delta, info
