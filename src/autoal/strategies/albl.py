"""Active Learning by Learning (Hsu & Lin, AAAI 2015): an EXP4.P bandit over strategies.

Each candidate strategy is an expert that advises a batch; the bandit keeps one weight per
expert (plus an optional uniform-random expert, as in the original and in libact), draws one
expert per round with probability ``p`` and labels that expert's batch. The reward arrives
in the next round, when the model retrained on the new labels is known: the
importance-weighted accuracy (IW-ACC) of that model on every point the bandit has queried,
each point weighted by the inverse of its probability of being queried.

Batch mode. Hsu & Lin query one point at a time. Here a round draws one expert and takes
its whole batch; expert ``k``'s advice is the uniform distribution ``a_k`` over its batch
(``1/n`` everywhere for the uniform expert), so the drawn batch holds sample ``x`` with
probability ``pi(x) = sum_k p_k b a_k(x)``. Every expert whose batch overlaps the drawn one
gets credit: ``rhat_k = r * sum_{x in batch} a_k(x) / pi(x)``, an unbiased estimate of the
reward of following expert ``k``; with disjoint batches this is ``r / p_k`` for the drawn
expert and 0 for the others (EXP3), with identical batches ``r`` for all. EXP4.P's variance
term ``vhat_k`` is the second moment of that estimate over the draw (``1 / p_k`` for
disjoint batches, as in libact's ALBL).

IW-ACC. Hsu & Lin divide the importance-weighted count of correct points by ``n T``; we
divide by the sum of the weights (a self-normalised estimate), which keeps the reward in
``[0, 1]`` as EXP4.P requires. The model is evaluated on points it was trained on (as in
the paper); with a network that fits its training set the reward is close to constant and
the bandit moves little -- that is the method, not a bug.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autoal.evidence import Evidence
from autoal.strategies.base import QueryStrategy, check_budget, top_k
from autoal.strategies.diversity import batch_first_scores
from autoal.strategies.ranks import rank_normalise
from autoal.strategies.registry import (
    PAPER_CANDIDATES,
    check_candidates,
    get_strategy,
    register_strategy,
)

__all__ = ["ALBL", "DEFAULT_CANDIDATES"]

#: The seven candidate strategies of AutoAL's paper, also ALBL's default experts.
DEFAULT_CANDIDATES: tuple[str, ...] = PAPER_CANDIDATES

_UNIFORM = "random"


@register_strategy
class ALBL(QueryStrategy):
    """Active Learning by Learning: EXP4.P over candidate strategies, one expert per round.

    Parameters
    ----------
    random_state:
        Seeds the expert draws, the uniform expert's batches and the candidates.
    candidates:
        Names of the registered strategies used as experts (default: the seven of
        :data:`DEFAULT_CANDIDATES`). Any number >= 1.
    uniform_expert:
        Add a uniform-random expert named ``"random"`` (Hsu & Lin's setting; default True).
        Ignored when ``"random"`` is already a candidate.
    delta:
        EXP4.P's confidence parameter ``delta`` in ``(0, 1)`` (default 0.1, as in libact).
    pmin:
        Minimum probability of each expert, in ``(0, 1/M]`` for ``M`` experts. Default
        ``min(sqrt(ln M / (M * horizon)), 1 / (2 M))``: EXP4.P's ``p_min``, capped so that
        at most half of the probability goes to exploration with few rounds.
    horizon:
        Expected number of query rounds ``T`` (EXP4.P's horizon; default 10). ``autoal run``
        and ``autoal bench`` set it to the run's number of rounds unless it is given.

    Notes
    -----
    The instance keeps the bandit's state across rounds (the simulated loop uses one instance
    per run). Rewards are read from the labeled set of the next round's evidence, which lists
    labeled samples in labeling order (the loop's contract); if the labeled set did not grow
    by exactly the last batch, the pending reward is dropped and :meth:`round_info` says so.
    """

    name = "albl"
    stateful = True
    required_fields = ("labeled_probs", "labeled_targets")

    def __init__(
        self,
        random_state: int | None = None,
        candidates: Sequence[str] = DEFAULT_CANDIDATES,
        uniform_expert: bool = True,
        delta: float = 0.1,
        pmin: float | None = None,
        horizon: int = 10,
    ) -> None:
        super().__init__(random_state)
        self.candidates = candidates
        self.uniform_expert = uniform_expert
        self.delta = delta
        self.pmin = pmin
        self.horizon = horizon
        self._log_w: np.ndarray | None = None
        self._pending: dict[str, Any] | None = None
        self._history_w: list[float] = []
        self._strategies: list[QueryStrategy] | None = None
        self._tie_rng: np.random.Generator | None = None
        self._info: dict[str, Any] = {}

    def validate(self) -> None:
        """Check the candidates, ``delta``, ``horizon`` and ``pmin``; ValueError names one."""
        check_candidates(self.candidates)
        if not 0 < self.delta < 1:
            raise ValueError(f"delta must lie in (0, 1), got {self.delta}")
        if int(self.horizon) != self.horizon or self.horizon < 1:
            raise ValueError(f"horizon must be a positive integer, got {self.horizon}")
        m = len(self.experts)
        if self.pmin is not None and not 0 < self.pmin <= 1.0 / m:
            raise ValueError(f"pmin must lie in (0, 1/{m}] for {m} experts, got {self.pmin}")

    @property
    def requires(self) -> tuple[str, ...]:
        """The candidates' evidence fields, then the labeled set's probabilities and targets
        (for the reward). Checks the parameters first."""
        self.validate()
        needs: list[str] = []
        for c in self.candidates:
            for f in get_strategy(c).requires:
                if f not in needs:
                    needs.append(f)
        return (*needs, *(f for f in self.required_fields if f not in needs))

    # -- bandit state -------------------------------------------------------------------------
    @property
    def experts(self) -> tuple[str, ...]:
        """Expert names: the candidates, then ``"random"`` for the uniform expert."""
        candidates = tuple(self.candidates)
        if self.uniform_expert and _UNIFORM not in candidates:
            return (*candidates, _UNIFORM)
        return candidates

    @property
    def p_min(self) -> float:
        """The minimum expert probability in use (see ``pmin``)."""
        m = len(self.experts)
        if self.pmin is not None:
            return float(self.pmin)
        if m == 1:
            return 1.0
        return min(math.sqrt(math.log(m) / (m * self.horizon)), 0.5 / m)

    def probabilities(self) -> np.ndarray:
        """EXP4.P's distribution over experts: ``(1 - M pmin) w / sum(w) + pmin``."""
        m = len(self.experts)
        log_w = np.zeros(m) if self._log_w is None else self._log_w
        w = np.exp(log_w - log_w.max())
        pmin = self.p_min
        return (1.0 - m * pmin) * w / w.sum() + pmin

    def _update(self, reward: float) -> None:
        """EXP4.P step with the reward of the pending round."""
        assert self._pending is not None
        m = len(self.experts)
        pmin = self.p_min
        bonus = math.sqrt(math.log(m / self.delta) / (m * self.horizon))
        gain = reward * self._pending["credit"] + self._pending["vhat"] * bonus
        if self._log_w is None:
            self._log_w = np.zeros(m)
        self._log_w = self._log_w + pmin / 2.0 * gain

    def _reward(self, evidence: Evidence) -> float | None:
        """IW-ACC of the current model on every point the bandit queried; None if unknown."""
        pending = self._pending
        assert pending is not None
        probs, targets = evidence.labeled_probs, evidence.labeled_targets
        assert probs is not None and targets is not None
        n_lab = len(targets)
        if len(probs) != n_lab or n_lab != pending["n_labeled"] + pending["batch_size"]:
            return None
        self._history_w.extend(pending["weights"])
        k = len(self._history_w)
        if k > n_lab:
            return None
        correct = probs[n_lab - k :].argmax(axis=1) == np.asarray(targets)[n_lab - k :]
        w = np.asarray(self._history_w)
        return float(np.clip((w * correct).sum() / w.sum(), 0.0, 1.0))

    # -- the round ----------------------------------------------------------------------------
    def _experts(self) -> list[QueryStrategy]:
        if self._strategies is None:
            seeds = self.rng.integers(0, 2**31 - 1, size=len(self.candidates))
            self._strategies = [
                get_strategy(c, random_state=int(s))
                for c, s in zip(self.candidates, seeds, strict=True)
            ]
        return self._strategies

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """Play one round: reward the last one, draw an expert, score its batch first.

        With a ``budget`` (as :meth:`select` calls it) this advances the bandit: the pending
        reward is applied, every expert advises a batch of ``budget``, one expert is drawn
        and its batch gets the highest scores (earlier picks higher); the other samples are
        ordered by the drawn expert's own score. Without a budget nothing changes: the score
        is the probability-weighted mean of the experts' rank-normalised scores.
        """
        n = self._check(evidence)
        experts = self._experts()
        if budget is None:
            p = self.probabilities()
            mixed = np.zeros(n)
            for pk, strat in zip(p, experts, strict=False):
                mixed += pk * rank_normalise(strat.score(evidence))[:, 0]
            if len(p) > len(experts):  # uniform expert: constant score
                mixed += p[-1] * 0.5
            return mixed
        budget = check_budget(budget, n)

        reward = None
        if self._pending is not None:
            reward = self._reward(evidence)
            if reward is not None:
                self._update(reward)
            else:
                self._history_w = []  # the labeled order broke; start the estimate afresh
        p = self.probabilities()
        names = self.experts
        batches: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        if self._tie_rng is None:
            # a stream of its own, so that breaking ties draws nothing from the bandit's or
            # the experts' generators: experts without ties advise exactly as before
            seed = None if self.random_state is None else [int(self.random_state), 1]
            self._tie_rng = np.random.default_rng(seed)
        for strat in experts:
            s = strat.score(evidence, budget=budget)
            # ties at random, as the expert's own select does (var_ratio's scores tie often)
            batches.append(top_k(s, budget, self._tie_rng))
            scores.append(s)
        chosen = int(self.rng.choice(len(names), p=p))
        if chosen >= len(experts):  # the uniform expert
            batch = self.rng.choice(n, size=budget, replace=False)
            rest = self.rng.random(n)
        else:
            batch = batches[chosen]
            rest = rank_normalise(scores[chosen])[:, 0]
        # advice matrix: expert k spreads its mass uniformly over its batch
        advice = np.zeros((len(names), n))
        for k, bk in enumerate(batches):
            advice[k, bk] = 1.0 / budget
        if len(names) > len(experts):
            advice[-1] = 1.0 / n
        q = p @ advice  # the drawn batch holds sample x with probability pi(x) = b q(x)
        pi = budget * q
        ratio = np.divide(advice, pi, out=np.zeros_like(advice), where=pi > 0)
        # reward estimate per unit reward of each expert, for the batch actually drawn
        credit = ratio[:, batch].sum(axis=1)
        # EXP4.P's variance term: the second moment of that estimate over the draw,
        # sum_j p_j (credit if expert j were drawn)^2 (the uniform batch by its expectation)
        per_action = np.stack([ratio[:, bk].sum(axis=1) for bk in batches], axis=1)
        if len(names) > len(experts):
            per_action = np.column_stack([per_action, budget / n * ratio.sum(axis=1)])
        vhat = (per_action**2) @ p
        assert evidence.labeled_targets is not None  # _check required it
        self._pending = {
            "n_labeled": len(evidence.labeled_targets),
            "batch_size": budget,
            "weights": (1.0 / pi[batch]).tolist(),
            "credit": credit,
            "vhat": vhat,
        }
        self._info = {
            "weights": {e: float(pk) for e, pk in zip(names, p, strict=True)},
            "albl": {
                "chosen": names[chosen],
                "reward": reward,
                "batch_overlap": {
                    e: float(np.isin(batches[k], batch).mean()) for k, e in enumerate(names)
                    if k < len(batches)
                },
            },
        }
        return batch_first_scores(np.asarray(batch), rest)

    def round_info(self) -> dict[str, Any]:
        """The expert probabilities used this round (``"weights"``), the expert drawn and the
        reward of the previous round (``"albl"``)."""
        return dict(self._info)
