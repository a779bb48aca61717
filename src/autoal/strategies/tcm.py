"""TCM (Doucet, Estermann, Aczel & Wattenhofer 2024): TypiClust first, then margin."""

from __future__ import annotations

from typing import Any

import numpy as np

from autoal.evidence import Evidence
from autoal.strategies.diversity import EXACT_MAX_SAMPLES
from autoal.strategies.registry import register_strategy
from autoal.strategies.representation import RepresentationStrategy, check_representation
from autoal.strategies.typiclust import TypiClust
from autoal.strategies.uncertainty import Margin

__all__ = ["TCM", "labeled_count"]


def labeled_count(evidence: Evidence) -> int:
    """Size of the labeled set as the evidence shows it (0 if it shows none)."""
    for name in ("labeled_targets", "labeled_probs", "labeled_embeddings", "labeled_features"):
        value = getattr(evidence, name)
        if value is not None:
            return len(value)
    return 0


@register_strategy
class TCM(RepresentationStrategy):
    """TCM (Doucet, Estermann, Aczel & Wattenhofer, "Bridging diversity and uncertainty in
    active learning with self-supervised pre-training", ICLR 2024 workshop PML4LRS).

    TypiClust (see :class:`~autoal.strategies.typiclust.TypiClust`) while the labeled set is
    small, margin (``1 - (p_1 - p_2)``) after. Switch rule: TypiClust while
    ``|L| < switch_at``, margin once ``|L| >= switch_at``, with ``|L|`` the labeled set's
    size in the evidence (its labeled targets, probabilities or embeddings). By default
    ``switch_at = per_class * C`` with ``C`` the number of classes (``probs``' width) and
    ``per_class = 20``. The paper switches after a number of TypiClust steps that it tunes
    per step size and data set and finds small with self-supervised features; 20 labels per
    class is this implementation's default, set ``switch_at`` (a label count) or
    ``per_class`` to change it.

    Parameters
    ----------
    random_state:
        Seed of TypiClust and of margin's tie-breaks.
    switch_at:
        Labeled-set size from which margin is used; ``None`` for ``per_class * C``.
    per_class:
        Labels per class at which to switch when ``switch_at`` is ``None``.
    representation:
        Space of TypiClust: ``"model"`` (the task model's embeddings) or ``"features"``
        (``Evidence.features``); see :mod:`autoal.strategies.representation`.
    exact_max_samples:
        TypiClust's largest pool used whole (above it, a uniform sample of that many; see
        :mod:`autoal.strategies.subsample`); margin reads the pool in chunks at any size.
    """

    name = "tcm"
    required_fields = ("probs", "embeddings")

    def __init__(
        self,
        random_state: int | None = None,
        switch_at: int | None = None,
        per_class: int = 20,
        representation: str = "model",
        exact_max_samples: int = EXACT_MAX_SAMPLES,
    ) -> None:
        super().__init__(random_state)
        self.switch_at = switch_at
        self.per_class = per_class
        self.representation = representation
        self.exact_max_samples = exact_max_samples
        self._info: dict[str, Any] = {}

    def threshold(self, evidence: Evidence) -> int:
        """The labeled-set size at which margin takes over."""
        if self.switch_at is not None:
            return int(self.switch_at)
        evidence.require("probs")
        assert evidence.probs is not None
        return int(self.per_class) * int(evidence.probs.shape[1])

    def round_info(self) -> dict[str, Any]:
        """Which phase the last call was in (``"tcm"``: phase, labeled count, threshold)."""
        return dict(self._info)

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """TypiClust's scores below the threshold, margin's from it on."""
        self._check(evidence)
        check_representation(self.representation)
        n_labeled, switch = labeled_count(evidence), self.threshold(evidence)
        phase = "typiclust" if n_labeled < switch else "margin"
        self._info = {"tcm": {"phase": phase, "n_labeled": n_labeled, "switch_at": switch}}
        if phase == "margin":
            return Margin().score(evidence, budget)
        seed = int(self.rng.integers(2**31 - 1))
        typiclust = TypiClust(
            random_state=seed, representation=self.representation,
            exact_max_samples=self.exact_max_samples,
        )
        scores = typiclust.score(evidence, budget)
        self._info.update(typiclust.round_info())
        return scores
