"""How stable are the MC-dropout strategies' picks? Top-b overlap of two independent draws.

With ``T`` Monte-Carlo dropout samples, the scores of var_ratio, mean_std and BALD are
estimates; two independent draws of ``T`` samples rank the pool differently. The overlap of
their top-``b`` sets (1 = the same batch, ``b / N`` = chance) says whether ``T`` is large
enough for the batch to be a property of the model rather than of the draw.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from autoal.evidence import Evidence
from autoal.strategies import get_strategy, top_k

if TYPE_CHECKING:
    from autoal.models import TorchClassifier

__all__ = ["MC_STRATEGIES", "topb_overlap", "mc_topb_overlap"]

#: The strategies whose scores come from MC dropout samples.
MC_STRATEGIES: tuple[str, ...] = ("var_ratio", "mean_std", "bald")


def topb_overlap(
    scores_a: np.ndarray, scores_b: np.ndarray, budget: int, random_state: int = 0
) -> float:
    """Fraction of the top-``budget`` samples of ``scores_a`` that are also top of ``scores_b``.

    Ties are broken by one random order shared by both score vectors, so that tie-breaking
    does not count as disagreement.
    """
    a = np.asarray(scores_a, dtype=np.float64)
    b = np.asarray(scores_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"score vectors must be 1-D of one shape, got {a.shape} and {b.shape}")
    if not 1 <= budget <= len(a):
        raise ValueError(f"budget must lie in 1..{len(a)}, got {budget}")
    top_a = top_k(a, budget, np.random.default_rng(random_state))
    top_b = top_k(b, budget, np.random.default_rng(random_state))
    return float(len(np.intersect1d(top_a, top_b)) / budget)


def mc_topb_overlap(
    learner: TorchClassifier,
    X_pool: np.ndarray,
    budget: int,
    mc_samples: int | None = None,
    strategies: Sequence[str] = MC_STRATEGIES,
    seeds: tuple[int, int] = (101, 202),
) -> dict[str, float]:
    """Top-``budget`` overlap per MC strategy between two independent MC dropout draws.

    Parameters
    ----------
    learner:
        A fitted :class:`~autoal.models.TorchClassifier` (anything with ``embed`` and
        ``mc_probs_from_embeddings`` whose MC generator is seeded from ``random_state``).
    X_pool:
        The unlabeled pool.
    budget:
        ``b``, the batch size.
    mc_samples:
        ``T`` per draw (default: the learner's ``mc_samples``).
    strategies:
        Registered strategies that score from ``mc_probs``.
    seeds:
        Offsets of the two draws' generators from the learner's ``random_state``.

    Returns
    -------
    dict
        ``{strategy: overlap in [0, 1]}``.
    """
    t = int(learner.mc_samples if mc_samples is None else mc_samples)
    if t < 1:
        raise ValueError(f"mc_samples must be at least 1, got {t}")
    emb = learner.embed(X_pool)
    base = 0 if learner.random_state is None else int(learner.random_state)
    draws = []
    for offset in seeds:
        twin = copy.copy(learner)  # shares the fitted network; only the MC seed differs
        twin.random_state = base + int(offset)
        draws.append(Evidence(mc_probs=twin.mc_probs_from_embeddings(emb, t)))
    out: dict[str, float] = {}
    for name in strategies:
        strategy = get_strategy(name, random_state=0)
        sa, sb = (strategy.score(ev, budget=budget) for ev in draws)
        out[name] = topb_overlap(sa, sb, budget, random_state=base)
    return out
