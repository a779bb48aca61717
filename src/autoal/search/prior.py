"""A prior over the candidates that depends on how many labels each class has.

The low-budget anchors (TypiClust, ProbCover, SelectAL, TCM, Uncertainty Herding) agree that
diversity / typicality wins with few labels per class and uncertainty with many; our own
full comparison (docs/RESULTS.md section 4) has margin as the strongest single candidate
from about 100 labels per class on. The rule, stated once and the same for every data set
(never fitted on a test split):

- labels per class ``n_c = n_labeled / n_classes``;
- the diversity share is ``d = h / (h + n_c)`` with the half point ``h = 10`` labels per
  class (2 per class: 0.83; 10: 0.5; 100: 0.09);
- ``d`` is spread evenly over the *diversity* candidates present (:data:`DIVERSITY`), and
  ``1 - d`` over the *uncertainty anchor* (``margin``) when present, else evenly over every
  other candidate; if one side has no candidate, the other gets everything;
- every candidate keeps at least ``floor`` (so that the search can still move to it), and
  the weights are renormalised.

The search (:mod:`autoal.search.shrinkage`) starts from this prior and leaves it only as far
as its evidence allows, so where the candidates cannot be told apart the query uses it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autoal.names import PRIORS

__all__ = ["DIVERSITY", "PRIORS", "UNCERTAINTY_ANCHOR", "diversity_share", "candidate_prior"]

#: Candidates that pick for coverage / typicality of the data, not for the model's doubt.
DIVERSITY: frozenset[str] = frozenset({"kmeans", "coreset", "typiclust", "probcover"})
#: The uncertainty candidate the prior trusts with many labels.
UNCERTAINTY_ANCHOR = "margin"

def diversity_share(n_labeled: int, n_classes: int, half_point: float = 10.0) -> float:
    """``h / (h + n_labeled / n_classes)``: the prior's mass on diversity candidates."""
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    if half_point <= 0:
        raise ValueError(f"half_point must be positive, got {half_point}")
    per_class = max(int(n_labeled), 0) / n_classes
    return float(half_point / (half_point + per_class))


def candidate_prior(
    candidates: Sequence[str],
    n_labeled: int,
    n_classes: int,
    kind: str = "budget",
    half_point: float = 10.0,
    floor: float = 0.02,
) -> np.ndarray:
    """Prior weights (summing to 1) over ``candidates`` for a labeled set of ``n_labeled``
    samples over ``n_classes`` classes; ``kind="uniform"`` gives equal weights."""
    k = len(candidates)
    if k < 1:
        raise ValueError("candidate_prior needs at least one candidate")
    if kind == "uniform":
        return np.full(k, 1.0 / k)
    if kind != "budget":
        raise ValueError(f"unknown prior {kind!r}; valid: {', '.join(PRIORS)}")
    if not 0.0 <= floor < 1.0 / k:
        raise ValueError(f"floor must be in [0, 1/K) = [0, {1.0 / k:.3g}), got {floor}")
    d = diversity_share(n_labeled, n_classes, half_point)
    div = np.array([c in DIVERSITY for c in candidates])
    if UNCERTAINTY_ANCHOR in candidates:
        unc = np.array([c == UNCERTAINTY_ANCHOR for c in candidates])
    else:
        unc = ~div
    if not div.any():
        d = 0.0
    if not unc.any():
        d = 1.0
    w = np.zeros(k)
    if div.any():
        w[div] += d / div.sum()
    if unc.any():
        w[unc] += (1.0 - d) / unc.sum()
    w = np.maximum(w, floor)
    return w / w.sum()
