"""What AutoAL's candidate weights did over a benchmark's runs, in a few numbers.

A run records per round the mean candidate weights over the pool (``rounds[i]["weights"]``)
and, for AutoAL, over the queried batch (``rounds[i]["batch_weights"]``: with per-sample
weights, which candidates weighed most on the points that were picked). Over the seeds of
one variant this module reports the mean weight of every candidate, how often each
candidate carried the largest weight, and two total-variation distances (half the L1
distance between two weight vectors: 0 = the same mix, 1 = disjoint):

- *round to round*: between consecutive rounds of one seed. Large values mean the search
  changes its mind every round.
- *between seeds*: between two seeds at the same round. A search that reads the data
  should agree with itself across seeds; large values mean the weights follow noise.
- *from uniform*: between a round's weights and equal weights. For global weights, near 0
  every round means the search learned nothing and the mix is the ``uniform`` ablation; for
  per-sample weights it concerns their mean over the pool only.
- *batch vs pool* (:func:`batch_pool_distance`): between the weights over the queried batch
  and over the pool. With per-sample weights, a value above 0 shows that the weights depend
  on the sample where it matters (the batch differs from the pool); 0 is consistent with
  weights that do not. With global weights it is 0 by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

__all__ = [
    "WeightStats",
    "batch_pool_distance",
    "round_batch_pool_distance",
    "total_variation",
    "weight_matrix",
    "weight_stats",
]


@dataclass(frozen=True)
class WeightStats:
    """Summary of one variant's weights over its seeds (see the module docstring).

    Distances are total-variation distances (0 = the same mix, 1 = disjoint).

    Attributes
    ----------
    candidates : tuple of str
        The candidate strategies, in the order the runs record them.
    mean : dict
        Each candidate's weight, averaged over every (seed, round).
    top_share : dict
        The fraction of (seed, round) pairs in which each candidate had the largest weight
        (ties share the credit).
    round_to_round : float or None
        Mean distance between consecutive rounds of one seed (None: no such pair).
    between_seeds : float or None
        Mean distance between two seeds at the same round (None: a single seed).
    n_seeds : int
        Seeds with recorded weights.
    n_rounds : int
        Rounds with weights that every seed has.
    from_uniform : float
        Mean distance between a round's weights and equal weights.
    """

    candidates: tuple[str, ...]
    mean: dict[str, float]
    top_share: dict[str, float]
    round_to_round: float | None
    between_seeds: float | None
    n_seeds: int
    n_rounds: int  # rounds with weights that every seed has
    from_uniform: float

    def leaders(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` candidates with the largest mean weight, largest first (ties: by name)."""
        return sorted(self.mean.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def most_often_largest(self) -> tuple[str, float]:
        """The candidate with the largest ``top_share`` and that share (ties: by name)."""
        return min(self.top_share.items(), key=lambda kv: (-kv[1], kv[0]))


def total_variation(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Half the L1 distance between weight vectors along the last axis."""
    return 0.5 * np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).sum(axis=-1)


def weight_matrix(
    run: Mapping[str, Any], candidates: Sequence[str], key: str = "weights"
) -> dict[int, np.ndarray]:
    """The run's recorded weights (round field ``key``) by round: ``{round: vector}``.

    Raises
    ------
    ValueError
        When a round records another set of candidates than ``candidates``.
    """
    out: dict[int, np.ndarray] = {}
    for i, r in enumerate(run["rounds"]):
        if key not in r:
            continue
        if set(r[key]) != set(candidates):
            raise ValueError(
                f"round {r.get('round', i)} records {key} for {sorted(r[key])}, "
                f"other rounds for {sorted(candidates)}"
            )
        out[int(r.get("round", i))] = np.array([float(r[key][c]) for c in candidates])
    return out


def _top_credit(rows: np.ndarray) -> np.ndarray:
    """Per row, 1 for the largest weight, shared equally among (near-)ties; summed."""
    top = np.isclose(rows, rows.max(axis=1, keepdims=True), rtol=0.0, atol=1e-9)
    return (top / top.sum(axis=1, keepdims=True)).sum(axis=0)


def weight_stats(
    runs: Sequence[Mapping[str, Any]], key: str = "weights"
) -> WeightStats | None:
    """Summarise the weights of one variant's runs (one per seed); None when none recorded.

    ``key`` names the round field: ``"weights"`` (mean over the pool) or ``"batch_weights"``
    (mean over the queried batch).

    Rounds are matched by their round number; rounds with a non-finite weight are left
    out. Ties for the largest weight share the "most often largest" credit equally.

    Raises
    ------
    ValueError
        When the runs record weights over different candidate sets.
    """
    recorded = [run for run in runs if any(key in r for r in run["rounds"])]
    if not recorded:
        return None
    first = next(r[key] for r in recorded[0]["rounds"] if key in r)
    candidates = tuple(first)
    per_seed = []
    for run in recorded:
        by_round = weight_matrix(run, candidates, key)
        per_seed.append({k: v for k, v in by_round.items() if np.all(np.isfinite(v))})
    per_seed = [d for d in per_seed if d]
    if not per_seed:
        return None
    stacked = np.vstack([v for d in per_seed for v in d.values()])
    top = _top_credit(stacked) / len(stacked)
    steps = [
        total_variation(d[a], d[b])
        for d in per_seed
        for a, b in zip(sorted(d)[:-1], sorted(d)[1:], strict=True)
    ]
    common = sorted(set.intersection(*(set(d) for d in per_seed)))
    pairs = [
        total_variation(a[k], b[k]) for a, b in combinations(per_seed, 2) for k in common
    ]
    return WeightStats(
        candidates=candidates,
        mean={c: float(v) for c, v in zip(candidates, stacked.mean(axis=0), strict=True)},
        top_share={c: float(v) for c, v in zip(candidates, top, strict=True)},
        round_to_round=float(np.mean(steps)) if steps else None,
        between_seeds=float(np.mean(pairs)) if pairs else None,
        n_seeds=len(per_seed),
        n_rounds=len(common),
        from_uniform=float(np.mean(total_variation(stacked, 1.0 / len(candidates)))),
    )


def round_batch_pool_distance(rnd: Mapping[str, Any]) -> float | None:
    """Total-variation distance between one round's batch and pool weights.

    ``None`` unless the round records both ``weights`` and ``batch_weights`` over the same
    candidates with finite values.
    """
    pool, batch = rnd.get("weights"), rnd.get("batch_weights")
    if not pool or not batch or set(pool) != set(batch):
        return None
    names = sorted(pool)
    a = np.array([float(pool[n]) for n in names])
    b = np.array([float(batch[n]) for n in names])
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return None
    return float(total_variation(a, b))


def batch_pool_distance(runs: Sequence[Mapping[str, Any]]) -> float | None:
    """Mean of :func:`round_batch_pool_distance` over every round of ``runs`` that has one;
    ``None`` when there is none."""
    dists = [d for run in runs for r in run["rounds"]
             if (d := round_batch_pool_distance(r)) is not None]
    return float(np.mean(dists)) if dists else None
