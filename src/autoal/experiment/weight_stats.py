"""What AutoAL's candidate weights did over a benchmark's runs, in a few numbers.

A run records per round the mean candidate weights over the pool (``rounds[i]["weights"]``).
Over the seeds of one variant this module reports the mean weight of every candidate, how
often each candidate carried the largest weight, and two total-variation distances
(half the L1 distance between two weight vectors: 0 = the same mix, 1 = disjoint):

- *round to round*: between consecutive rounds of one seed. Large values mean the search
  changes its mind every round.
- *between seeds*: between two seeds at the same round. A search that reads the data
  should agree with itself across seeds; large values mean the weights follow noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

__all__ = ["WeightStats", "total_variation", "weight_matrix", "weight_stats"]


@dataclass(frozen=True)
class WeightStats:
    """Summary of one variant's weights over its seeds (see the module docstring)."""

    candidates: tuple[str, ...]
    mean: dict[str, float]
    top_share: dict[str, float]
    round_to_round: float | None
    between_seeds: float | None
    n_seeds: int
    n_rounds: int

    def leaders(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` candidates with the largest mean weight, largest first."""
        return sorted(self.mean.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def total_variation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Half the L1 distance between weight vectors along the last axis."""
    return 0.5 * np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).sum(axis=-1)


def weight_matrix(run: Mapping[str, Any], candidates: Sequence[str]) -> np.ndarray:
    """The run's recorded weights, shape ``(rounds with weights, candidates)``."""
    rows = [[float(r["weights"][c]) for c in candidates] for r in run["rounds"] if "weights" in r]
    return np.asarray(rows, dtype=float).reshape(len(rows), len(candidates))


def weight_stats(runs: Sequence[Mapping[str, Any]]) -> WeightStats | None:
    """Summarise the weights of one variant's runs (one per seed); None when none recorded.

    Runs must record the same candidates; between-seed distances use the rounds that all
    runs have.
    """
    recorded = [run for run in runs if any("weights" in r for r in run["rounds"])]
    if not recorded:
        return None
    first = next(r["weights"] for r in recorded[0]["rounds"] if "weights" in r)
    candidates = tuple(first)
    mats = [weight_matrix(run, candidates) for run in recorded]
    stacked = np.vstack(mats)
    winners = np.argmax(stacked, axis=1)
    steps = [total_variation(m[1:], m[:-1]) for m in mats if len(m) > 1]
    n_rounds = min(len(m) for m in mats)
    pairs = [total_variation(a[:n_rounds], b[:n_rounds]) for a, b in combinations(mats, 2)]
    return WeightStats(
        candidates=candidates,
        mean={c: float(v) for c, v in zip(candidates, stacked.mean(axis=0), strict=True)},
        top_share={
            c: float(np.mean(winners == i)) for i, c in enumerate(candidates)
        },
        round_to_round=float(np.mean(np.concatenate(steps))) if steps else None,
        between_seeds=float(np.mean(np.concatenate(pairs))) if pairs and n_rounds else None,
        n_seeds=len(mats),
        n_rounds=n_rounds,
    )
