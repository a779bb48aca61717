"""Summary statistics of a benchmark: paired bootstrap intervals and ranks over seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BootstrapResult",
    "DEFAULT_RESAMPLES",
    "paired_bootstrap",
    "mean_std",
    "rank_descending",
]

#: Resamples of the paired bootstrap (the benchmark protocol's setting).
DEFAULT_RESAMPLES = 10_000


@dataclass(frozen=True)
class BootstrapResult:
    """A mean paired difference with its percentile bootstrap interval.

    Attributes
    ----------
    diff:
        Mean over the pairs of ``a - b``.
    low, high:
        Bounds of the percentile interval; ``None`` when there is only one pair (an
        interval over one seed means nothing: report "n/a").
    n:
        Number of pairs (seeds).
    n_lower, n_higher:
        Pairs with ``a < b`` and with ``a > b``. With few seeds the percentile interval is
        narrow (with 3 it is exactly the range of the differences, so "loses" means every
        seed was lower); the counts say how many seeds agree.
    """

    diff: float
    low: float | None
    high: float | None
    n: int
    n_lower: int = 0
    n_higher: int = 0

    def signs(self) -> str:
        """``"4↓ 1↑"``: the pairs with ``a < b`` and with ``a > b`` (equal pairs in neither)."""
        return f"{self.n_lower}↓ {self.n_higher}↑"

    @property
    def verdict(self) -> str:
        """``"wins"`` (interval above 0), ``"loses"`` (below 0), ``"tie"`` or ``"n/a"``."""
        if self.low is None or self.high is None:
            return "n/a"
        if self.low > 0:
            return "wins"
        if self.high < 0:
            return "loses"
        return "tie"

    def format(self, digits: int = 4) -> str:
        """``"+0.0123 [+0.0040, +0.0200]"``, or ``"+0.0123 [n/a]"`` with a single pair."""
        d = f"{self.diff:+.{digits}f}"
        if self.low is None or self.high is None:
            return f"{d} [n/a]"
        return f"{d} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    random_state: int = 0,
) -> BootstrapResult:
    """Mean of the paired differences ``a - b`` and its percentile bootstrap interval.

    The pairs (one per seed) are resampled with replacement ``n_resamples`` times; the
    interval is the central ``confidence`` range of the resampled means. Seeded, so the
    same inputs always give the same interval.

    Parameters
    ----------
    a, b:
        Paired values, e.g. the AUBC of two strategies for the same seeds, in the same order.
    n_resamples:
        Number of bootstrap resamples.
    confidence:
        Coverage of the interval, in ``(0, 1)``.
    random_state:
        Seed of the resampling generator.

    Returns
    -------
    BootstrapResult
        With ``low = high = None`` when there is a single pair.

    Raises
    ------
    ValueError
        When ``a`` and ``b`` differ in length, are empty, or hold non-finite values.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(
            f"paired_bootstrap needs two 1-D arrays of the same non-zero length, got "
            f"shapes {a.shape} and {b.shape}"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("paired_bootstrap got non-finite values")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    d = a - b
    n = len(d)
    diff = float(d.mean())
    signs = {"n_lower": int(np.sum(d < 0)), "n_higher": int(np.sum(d > 0))}
    if n == 1:
        return BootstrapResult(diff, None, None, 1, **signs)
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, n, size=(n_resamples, n))
    means = d[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    # Resampled means lie in [min d, max d]; clip the rounding noise of the means so that a
    # constant difference gives exactly [d, d].
    lo_d, hi_d = float(d.min()), float(d.max())
    low, high = min(max(float(low), lo_d), hi_d), min(max(float(high), lo_d), hi_d)
    return BootstrapResult(diff, low, high, n, **signs)


def mean_std(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; 0 for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("mean_std needs at least one value")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def rank_descending(scores: Mapping[str, float]) -> dict[str, float]:
    """Rank of each key by its score, 1 = highest; ties share the mean of their ranks."""
    names = list(scores)
    values = np.array([scores[n] for n in names], dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    out: dict[str, float] = {}
    for v in np.unique(values):
        tied = values == v
        ranks[tied] = ranks[tied].mean()
    for name, r in zip(names, ranks, strict=True):
        out[name] = float(r)
    return out
