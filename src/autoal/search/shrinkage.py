"""A search that moves as far as its evidence allows (global mixture weights).

The Adam search of :func:`autoal.search.trainer.run_search` takes steps whose size does not
depend on the gradient's size or reliability: on a flat, noisy objective its global logits
jump (docs/RESULTS.md section 4: 0.69 from uniform on a gradient of 3e-4), and its weight
decay silences a small but real gradient. Here every step reads the gradient of each
cross-fitted problem (rotations x resplits) separately:

- ``g_bar``: the mean gradient over the ``P`` problems (each centred over the candidates:
  softmax ignores a common shift), ``se``: its standard error
  (``std / sqrt(P)``), per candidate logit;
- the positive-part James-Stein factor ``c = max(0, 1 - kappa^2 se^2 / g_bar^2)`` (0 where the
  gradient is within ``kappa`` standard errors of zero, near 1 where it is clear);
- the step ``lr * c * sign(g_bar)``: scale-free like Adam's where the signal is clear, zero
  where it is not; no weight decay.

The logits start at the prior's (:mod:`autoal.search.prior`) and are never pulled anywhere
else, so where the candidates cannot be told apart the weights stay at the prior; the
largest move in ``steps`` steps is ``lr * steps`` per logit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from autoal.search.mixture import GlobalWeights
from autoal.search.objectives import SearchProblem
from autoal.search.trainer import (
    SearchOptions,
    SearchTrace,
    evaluate_objective,
    problem_loss,
)

__all__ = ["RESOLUTION", "run_shrinkage_search", "shrinkage_factor"]

#: Mean gradients smaller than this are float32 rounding (the scores are float32), not signal.
RESOLUTION = 1e-7


def shrinkage_factor(grads: torch.Tensor, kappa: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean gradient over the rows of ``grads`` ``(P, K)`` and its positive-part James-Stein
    factor ``max(0, 1 - kappa^2 se^2 / mean^2)`` per column (1 when ``P < 2``: no noise
    estimate); 0 where ``|mean|`` is below :data:`RESOLUTION`."""
    mean = grads.mean(dim=0)
    resolved = mean.abs() > RESOLUTION
    if grads.shape[0] < 2:
        return mean, resolved.to(mean.dtype)
    se2 = grads.var(dim=0, unbiased=True) / grads.shape[0]
    factor = 1.0 - kappa**2 * se2 / mean.pow(2).clamp_min(1e-300)
    return mean, factor.clamp(0.0, 1.0) * resolved


def run_shrinkage_search(
    model: GlobalWeights,
    problems: Sequence[SearchProblem],
    options: SearchOptions,
    kappa: float = 2.0,
) -> SearchTrace:
    """Move ``model``'s logits (start them at the prior) by noise-shrunk sign steps.

    The temperature schedule, the soft selection and the objective (plus the coverage
    bonus) are those of :func:`~autoal.search.trainer.run_search`; ``options.lr`` is the
    largest step per logit; ``options.weight_decay`` is ignored. The trace's ``grad_norm``
    is the mean gradient's norm; its ``shrinkage`` the mean factor
    ``c`` per step.
    """
    if kappa < 0:
        raise ValueError(f"kappa must be non-negative, got {kappa}")
    trace = SearchTrace([], [], [])
    if options.steps <= 0 or not problems:
        return trace
    trace.objective_before = evaluate_objective(model, problems, options)
    factors: list[float] = []
    thetas: list[float | None] = [None] * len(problems)
    for step in range(options.steps):
        frac = step / max(options.steps - 1, 1)
        tau_factor = options.tau_start * (options.tau_end / options.tau_start) ** frac
        grads, objective_value, total_value = [], 0.0, 0.0
        for i, problem in enumerate(problems):
            if step % options.gmm_every == 0:
                thetas[i] = None
            term, loss, thetas[i] = problem_loss(model, problem, options, tau_factor, thetas[i])
            (grad,) = torch.autograd.grad(loss, model.logits)
            grad = grad.double()
            # softmax ignores a common shift: drop the gradient's (rounding-error) common part
            grads.append(grad - grad.mean())
            objective_value += float(term.detach()) / len(problems)
            total_value += float(loss.detach()) / len(problems)
        mean, factor = shrinkage_factor(torch.stack(grads), kappa)
        with torch.no_grad():
            model.logits.sub_((options.lr * factor * torch.sign(mean)).to(model.logits.dtype))
        trace.objective.append(objective_value)
        trace.total.append(total_value)
        trace.grad_norm.append(float(mean.norm()))
        factors.append(float(factor.mean()))
    trace.objective_after = evaluate_objective(model, problems, options)
    trace.shrinkage = float(np.mean(factors))
    return trace
