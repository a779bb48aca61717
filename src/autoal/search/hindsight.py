"""A hindsight reward: once the last batch's labels are in, score each candidate by how its
part of that batch would have changed a cheap model, and move the mixture accordingly.

The look-ahead and max-loss objectives judge a candidate on a simulated round (a FitNet
scores a held-out part of the labeled set); this one judges the real round that just
happened. Round ``t`` queried a batch ``B`` (``b`` samples) from the pool; each candidate
``k`` had scored the pool, and ``R[i, k]`` is its score of batch sample ``i`` ranked within
``B`` (:func:`~autoal.strategies.ranks.rank_normalise`). At round ``t + 1`` the labels of
``B`` are known, and with ``A`` the labeled set before ``B``:

- features ``z``: standardised principal components of the raw inputs of ``A`` and ``B``
  (fitted on those inputs, no labels: a model whose features saw the labels it is judged on
  would look too good, docs/RESULTS.md section 2b);
- each candidate's part of the batch ``S_k``: the ``m = ceil(fraction * b)`` samples with
  the highest ``R[:, k]`` (ties: the earlier batch position first);
- problems ``p``: each of ``n_folds`` stratified parts ``V_p`` of ``A`` (``n_resplits``
  different splits), with ``T_p = A \\ V_p``;
- the probe ``h(T)``: a multinomial logistic regression (strength ``C``) on ``z`` fitted on
  the samples ``T`` (a constant prediction when ``T`` has one class), and its Brier loss
  ``L_p(T) = mean_{i in V_p} sum_c (h(T)(z_i)_c - [y_i = c])^2`` (bounded: a class the probe
  never saw costs at most 2 per sample, where a log loss would explode);
- the reward ``r[p, k] = L_p(T_p) - L_p(T_p + S_k)``: how much candidate ``k``'s labeled
  picks lower the held-out loss (higher = better).

:func:`run_hindsight_search` then maximises the expected reward ``sum_k pi_k mean_p r[p, k]``
of the mixture ``pi = softmax(logits)`` from the prior's logits with the noise-aware rule of
:mod:`autoal.search.shrinkage`: a logit moves (by ``lr`` per step) only where the per-problem
gradients ``-pi_k (r[p, k] - sum_j pi_j r[p, j])`` agree beyond ``kappa`` standard errors, so
where the rewards do not differ beyond their noise the weights stay at the prior.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from autoal.search.crossfit import folds
from autoal.search.mixture import GlobalWeights
from autoal.search.shrinkage import shrinkage_factor
from autoal.search.trainer import SearchTrace
from autoal.strategies.ranks import standardisation

__all__ = [
    "brier_loss",
    "hindsight_rewards",
    "label_free_components",
    "probe_brier",
    "run_hindsight_search",
    "top_part",
]


def top_part(batch_scores: np.ndarray, fraction: float) -> np.ndarray:
    """``(K, m)`` batch positions of each candidate's ``m = ceil(fraction * b)`` highest
    scores in ``batch_scores`` ``(b, K)``; ties go to the earlier position."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    scores = np.asarray(batch_scores, dtype=np.float64)
    m = max(1, math.ceil(fraction * len(scores) - 1e-9))
    return np.stack([np.argsort(-scores[:, k], kind="stable")[:m]
                     for k in range(scores.shape[1])])


def brier_loss(probs: np.ndarray, y: np.ndarray) -> float:
    """``mean_i sum_c (probs[i, c] - [y_i = c])^2``."""
    onehot = np.eye(probs.shape[1])[np.asarray(y, dtype=np.int64)]
    return float(((probs - onehot) ** 2).sum(axis=1).mean())


def probe_brier(
    train_z: np.ndarray, train_y: np.ndarray, val_z: np.ndarray, val_y: np.ndarray,
    n_classes: int, C: float = 1.0,
) -> float:
    """Brier loss on ``(val_z, val_y)`` of a logistic regression fitted on ``(train_z,
    train_y)``; classes absent from the training part get probability 0, and a one-class
    training part predicts that class with certainty."""
    classes = np.unique(train_y)
    probs = np.zeros((len(val_z), n_classes))
    if len(classes) == 1:
        probs[:, classes[0]] = 1.0
    else:
        clf = LogisticRegression(C=C, max_iter=1000).fit(train_z, train_y)
        probs[:, clf.classes_] = clf.predict_proba(val_z)
    return brier_loss(probs, val_y)


def label_free_components(x: np.ndarray, n_components: int, random_state: int) -> np.ndarray:
    """Standardised principal components of the flattened inputs ``x`` (no labels used)."""
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    k = max(1, min(n_components, flat.shape[0] - 1, flat.shape[1]))
    z = PCA(n_components=k, random_state=random_state).fit_transform(flat)
    mean, std = standardisation(z)
    return (z - mean) / std


def hindsight_rewards(
    x_before: np.ndarray, y_before: np.ndarray, x_batch: np.ndarray, y_batch: np.ndarray,
    batch_scores: np.ndarray, n_classes: int, *, fraction: float = 0.25, n_folds: int = 2,
    n_resplits: int = 1, n_components: int = 32, C: float = 1.0, random_state: int = 0,
) -> np.ndarray:
    """The rewards ``r[p, k]`` ``(n_folds * n_resplits, K)`` of the module's formula.

    ``x_before, y_before``: the labeled set before the batch (``A``); ``x_batch, y_batch``:
    the batch (``B``) with its labels; ``batch_scores`` ``(b, K)``: each candidate's scores
    of the batch samples, as it scored them when the batch was queried (only their order
    within the batch matters).
    """
    # A few hundred rows: one BLAS / OpenMP thread is far faster than several (measured 0.3 s
    # vs 0.01 s per probe on a loaded 2-core machine) and gives the same bits every run.
    with threadpool_limits(1):
        return _rewards(x_before, y_before, x_batch, y_batch, batch_scores, n_classes,
                        fraction, n_folds, n_resplits, n_components, C, random_state)


def _rewards(
    x_before: np.ndarray, y_before: np.ndarray, x_batch: np.ndarray, y_batch: np.ndarray,
    batch_scores: np.ndarray, n_classes: int, fraction: float, n_folds: int, n_resplits: int,
    n_components: int, C: float, random_state: int,
) -> np.ndarray:
    y_before = np.asarray(y_before, dtype=np.int64)
    y_batch = np.asarray(y_batch, dtype=np.int64)
    scores = np.asarray(batch_scores, dtype=np.float64)
    if scores.ndim != 2 or len(scores) != len(y_batch) or len(x_batch) != len(y_batch):
        raise ValueError("batch_scores must be (b, K) with one row per batch sample")
    if len(y_before) < 2 or n_folds < 2 or n_resplits < 1:
        raise ValueError("need at least 2 labeled samples before the batch, n_folds >= 2 and "
                         "n_resplits >= 1")
    z = label_free_components(np.concatenate([np.asarray(x_before), np.asarray(x_batch)]),
                              n_components, random_state)
    z_a, z_b = z[: len(y_before)], z[len(y_before):]
    parts = top_part(scores, fraction)
    rewards = []
    for r in range(n_resplits):
        for held in folds(y_before, n_folds, random_state + 7919 * r):
            train = np.setdiff1d(np.arange(len(y_before)), held)
            base = probe_brier(z_a[train], y_before[train], z_a[held], y_before[held],
                               n_classes, C)
            rewards.append([
                base - probe_brier(np.concatenate([z_a[train], z_b[part]]),
                                   np.concatenate([y_before[train], y_batch[part]]),
                                   z_a[held], y_before[held], n_classes, C)
                for part in parts
            ])
    return np.asarray(rewards)


def run_hindsight_search(
    model: GlobalWeights, rewards: np.ndarray, lr: float, steps: int, kappa: float = 2.0,
) -> SearchTrace:
    """Move ``model``'s logits (start them at the prior) towards the candidates with the
    higher hindsight reward, by noise-shrunk sign steps (see the module docstring).

    The trace's ``objective`` is minus the expected reward at each step, ``grad_norm`` the
    mean gradient's norm and ``shrinkage`` the mean James-Stein factor.
    """
    if kappa < 0:
        raise ValueError(f"kappa must be non-negative, got {kappa}")
    r = torch.as_tensor(np.asarray(rewards, dtype=np.float64))
    if r.ndim != 2 or r.shape[1] != model.logits.shape[0]:
        raise ValueError(f"rewards must be (problems, {model.logits.shape[0]}), got {r.shape}")
    trace = SearchTrace([], [], [])

    def expected() -> torch.Tensor:  # per problem, under the current weights
        return r @ torch.softmax(model.logits.detach().double(), dim=0)

    if steps <= 0 or r.shape[0] == 0:
        return trace
    trace.objective_before = -float(expected().mean())
    factors = []
    for _ in range(steps):
        w = torch.softmax(model.logits.detach().double(), dim=0)
        mean_reward = r @ w
        grads = -w[None, :] * (r - mean_reward[:, None])  # d(-expected reward)/d logits
        grads = grads - grads.mean(dim=1, keepdim=True)  # softmax ignores a common shift
        mean, factor = shrinkage_factor(grads, kappa)
        with torch.no_grad():
            model.logits.sub_((lr * factor * torch.sign(mean)).to(model.logits.dtype))
        trace.objective.append(-float(mean_reward.mean()))
        trace.total.append(trace.objective[-1])
        trace.grad_norm.append(float(mean.norm()))
        factors.append(float(factor.mean()))
    trace.objective_after = -float(expected().mean())
    trace.shrinkage = float(np.mean(factors))
    return trace
