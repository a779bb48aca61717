"""The search: gradient descent on the mixture's parameters over cross-fitted problems."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from autoal.names import OBJECTIVES, THRESHOLDS
from autoal.search.mixture import budget_mask, budget_penalty, combine, soft_mask, soft_threshold
from autoal.search.objectives import (
    SearchProblem,
    coverage_entropy,
    lookahead_term,
    max_loss_term,
)

__all__ = [
    "OBJECTIVES",
    "THRESHOLDS",
    "SearchOptions",
    "SearchTrace",
    "evaluate_objective",
    "final_mask",
    "objective_term",
    "problem_loss",
    "run_search",
    "score_spread",
    "soft_selection",
]

@dataclass
class SearchOptions:
    """Options of one search; see :class:`autoal.search.AutoAL` for their meaning.

    Attributes
    ----------
    objective : str
        ``"lookahead"`` or ``"max_loss"``.
    fraction : float
        Fraction ``t`` of each scored set that the soft selection takes.
    threshold : str
        ``"quantile"`` (the soft count held at ``t n``) or ``"gmm"`` (a Gaussian-mixture
        threshold plus the budget penalty).
    steps : int
        Adam steps (0: no search).
    lr, weight_decay : float
        Adam's learning rate and weight decay.
    tau_start, tau_end : float
        The soft-selection temperature, annealed geometrically from ``tau_start * std(s)``
        to ``tau_end * std(s)``.
    budget_weight : float
        Weight of the budget penalty (``gmm`` threshold only).
    coverage : float
        Weight of the class-coverage bonus (0: off).
    gmm_every : int
        Steps between refits of the ``gmm`` threshold's mixture.
    random_state : int
        Seeds the Gaussian mixture.
    """

    objective: str = "lookahead"
    fraction: float = 0.25
    threshold: str = "quantile"
    steps: int = 100
    lr: float = 0.1
    weight_decay: float = 0.0
    tau_start: float = 1.0
    tau_end: float = 0.05
    budget_weight: float = 1.0
    coverage: float = 0.0
    gmm_every: int = 10
    random_state: int = 0


@dataclass
class SearchTrace:
    """What the search did: objective values and gradient norms per step.

    Attributes
    ----------
    objective : list of float
        The objective (mean over problems, without penalty or bonus) at each step.
    total : list of float
        What was minimised at each step (objective, budget penalty, coverage bonus).
    grad_norm : list of float
        The gradient norm of the weights' parameters at each step.
    objective_before, objective_after : float
        The objective at the final temperature under the weights before and after the
        search (NaN when no search ran).
    shrinkage : float
        The noise-aware search's mean shrinkage factor over its steps (0: no step taken,
        1: every step at full length; NaN for the Adam search).
    """

    objective: list[float]
    total: list[float]
    grad_norm: list[float]
    objective_before: float = float("nan")
    objective_after: float = float("nan")
    shrinkage: float = float("nan")

    def summary(self) -> dict[str, float | int]:
        """The per-round record: steps, first/last objective, mean/last gradient norm.

        ``objective_first`` and ``objective_last`` are the objective at the final (coldest)
        temperature under the weights before and after the search, so they compare like
        with like; the per-step values during annealing are not comparable across steps.
        """
        if not self.objective:
            return {"steps": 0}
        extra = {} if self.shrinkage != self.shrinkage else {"shrinkage": self.shrinkage}
        return {**extra,
            "steps": len(self.objective),
            "objective_first": self.objective_before,
            "objective_last": self.objective_after,
            "total_first": self.total[0],
            "total_last": self.total[-1],
            "searchnet_grad_norm_mean": float(np.mean(self.grad_norm)),
            "searchnet_grad_norm_last": self.grad_norm[-1],
        }


def objective_term(problem: SearchProblem, mask: torch.Tensor, name: str) -> torch.Tensor:
    """The named objective of ``problem`` under the soft selection ``mask`` (minimised)."""
    if name == "max_loss":
        return max_loss_term(mask, problem.losses)
    if name == "balance":  # TAILOR-style class-balance reward: FitNet's predicted classes
        return -coverage_entropy(mask, problem.probs)
    if name == "hindsight":
        raise ValueError("the hindsight objective rewards the last batch, not a soft selection: "
                         "search it with autoal.search.hindsight.run_hindsight_search")
    if problem.probe is None:
        raise ValueError("the lookahead objective needs a ridge probe in each problem")
    return lookahead_term(mask, problem.probe)


def soft_selection(
    s: torch.Tensor,
    options: SearchOptions,
    tau: float,
    theta: float | None,
) -> tuple[torch.Tensor, torch.Tensor | None, float | None]:
    """The soft mask, its budget penalty (None when the count is exact) and the threshold.

    ``"quantile"``: the count is held at ``fraction * n`` exactly (:func:`budget_mask`).
    ``"gmm"`` (the paper's design): a fixed threshold from a Gaussian mixture fitted to
    ``s`` (``theta``, refitted when None) plus the budget penalty.
    """
    if options.threshold == "quantile":
        return budget_mask(s, options.fraction, tau), None, None
    if theta is None:
        theta = soft_threshold(s, options.fraction, options.threshold, options.random_state)
    mask = soft_mask(s, theta, tau)
    return mask, budget_penalty(mask, options.fraction), theta


def score_spread(s: torch.Tensor) -> float:
    """``std(s)``, at least 1e-6: the temperature's unit. A single score has no spread (its
    unbiased std is NaN, which would turn every weight into NaN)."""
    if s.numel() < 2:
        return 1e-6
    return float(s.detach().std().clamp_min(1e-6))


@torch.no_grad()
def final_mask(model: nn.Module, problem: SearchProblem, options: SearchOptions) -> torch.Tensor:
    """The soft selection of ``problem`` under ``model`` at the final (coldest) temperature."""
    inputs = problem.features if problem.features is not None else problem.scores
    s, _ = combine(problem.scores, model(inputs))
    tau = options.tau_end * score_spread(s)
    mask, _, _ = soft_selection(s, options, tau, None)
    return mask


def evaluate_objective(
    model: nn.Module, problems: Sequence[SearchProblem], options: SearchOptions
) -> float:
    """Mean objective over ``problems`` at the final temperature, without gradient."""
    with torch.no_grad():
        values = [
            float(objective_term(p, final_mask(model, p, options), options.objective))
            for p in problems
        ]
    return sum(values) / len(values)


def problem_loss(
    model: nn.Module,
    problem: SearchProblem,
    options: SearchOptions,
    tau_factor: float,
    theta: float | None,
) -> tuple[torch.Tensor, torch.Tensor, float | None]:
    """One problem's step of a search: ``(objective term, loss to minimise, threshold)``.

    The mixed score's soft selection at temperature ``tau_factor * std(s)``, the objective
    on it, plus the budget penalty and minus the coverage bonus; ``theta`` is the cached
    threshold (None: fit it anew).
    """
    inputs = problem.features if problem.features is not None else problem.scores
    s, _ = combine(problem.scores, model(inputs))
    mask, penalty, theta = soft_selection(s, options, tau_factor * score_spread(s), theta)
    term = objective_term(problem, mask, options.objective)
    loss = term
    if penalty is not None:
        loss = loss + options.budget_weight * penalty
    if options.coverage:
        loss = loss - options.coverage * coverage_entropy(mask, problem.probs)
    return term, loss, theta


def run_search(
    model: nn.Module, problems: Sequence[SearchProblem], options: SearchOptions
) -> SearchTrace:
    """Optimise ``model`` (global logits or a SearchNet) on the pooled ``problems``.

    Each step, per problem: weights -> combined score ``s`` -> soft mask
    ``sigmoid((s - theta) / tau)`` with ``tau`` annealed geometrically from ``tau_start`` to
    ``tau_end`` times ``std(s)`` and ``theta`` holding the soft count at ``fraction * n``
    (``"quantile"``), or from a Gaussian mixture refitted every ``gmm_every`` steps plus a
    budget penalty (``"gmm"``) -> objective - coverage bonus. The mean over problems is
    minimised with Adam.
    """
    if options.objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {options.objective!r}; use one of {OBJECTIVES}")
    trace = SearchTrace([], [], [])
    params = [p for p in model.parameters() if p.requires_grad]
    if options.steps <= 0 or not params:
        return trace
    trace.objective_before = evaluate_objective(model, problems, options)
    optimiser = torch.optim.Adam(params, lr=options.lr, weight_decay=options.weight_decay)
    thetas: list[float | None] = [None] * len(problems)
    for step in range(options.steps):
        frac = step / max(options.steps - 1, 1)
        tau_factor = options.tau_start * (options.tau_end / options.tau_start) ** frac
        optimiser.zero_grad(set_to_none=True)
        total = torch.zeros((), dtype=torch.float64)
        objective_value = 0.0
        for i, problem in enumerate(problems):
            if step % options.gmm_every == 0:
                thetas[i] = None
            term, loss, thetas[i] = problem_loss(model, problem, options, tau_factor, thetas[i])
            total = total + loss.double() / len(problems)
            objective_value += float(term.detach()) / len(problems)
        total.backward()
        grad_sq = sum(float((p.grad**2).sum()) for p in params if p.grad is not None)
        trace.objective.append(objective_value)
        trace.total.append(float(total.detach()))
        trace.grad_norm.append(grad_sq**0.5)
        optimiser.step()
    trace.objective_after = evaluate_objective(model, problems, options)
    return trace
