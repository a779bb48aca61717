"""AutoAL's rounds with ``objective="hindsight"``: remember the batch, reward it next round.

At the query, :func:`remember_batch` keeps the batch's raw inputs, each candidate's scores of
its samples and the labeled-set size. At the next round's search, :func:`hindsight_search`
finds that batch at the end of the labeled set (the loop lists labeled samples in labeling
order; the batch's rows may come back in any order, as :meth:`autoal.ActiveLearner.teach`
allows, but the stored inputs must match them exactly), computes the rewards of
:func:`~autoal.search.hindsight.hindsight_rewards` and moves the weights from the prior with
:func:`~autoal.search.hindsight.run_hindsight_search`. Without a usable batch (the first
round, a labeled set that did not grow by exactly that batch, a strategy rebuilt since its
last query, as a labeling campaign does every round) the weights are the prior's and the
record says why. No FitNet is trained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autoal.evidence import Evidence
from autoal.search.hindsight import hindsight_rewards, run_hindsight_search
from autoal.search.mixture import GlobalWeights
from autoal.strategies.ranks import rank_normalise

if TYPE_CHECKING:
    from autoal.search.strategy import AutoAL

__all__ = ["batch_order", "hindsight_search", "remember_batch"]


def remember_batch(
    strategy: AutoAL, evidence: Evidence, picked: np.ndarray, scores: np.ndarray,
    n_before: int,
) -> None:
    """Keep what the next round's reward needs: the batch's inputs, the candidates' scores
    of it ``scores[picked]`` ranked within the batch, and the labeled-set size ``n_before``
    now."""
    evidence.require("inputs")
    assert evidence.inputs is not None  # required above
    picked = np.asarray(picked, dtype=np.int64)
    strategy._state["hindsight_batch"] = {
        "inputs": np.array(evidence.inputs[picked]),
        "scores": rank_normalise(np.asarray(scores)[picked]),
        "n_before": int(n_before),
    }


def _row_keys(x: np.ndarray) -> list[bytes]:
    """One hashable key per row, equal exactly when the rows' values are (any dtype)."""
    flat = np.ascontiguousarray(np.asarray(x).reshape(len(x), -1), dtype=np.float64) + 0.0
    return [row.tobytes() for row in flat]  # + 0.0 above turns -0.0 into 0.0


def batch_order(added: np.ndarray, remembered: np.ndarray) -> np.ndarray | None:
    """Positions in ``added`` of the rows of ``remembered``, in ``remembered``'s order, if
    both hold the same rows (as a multiset, in any order); else None."""
    if len(added) != len(remembered) or added.shape[1:] != remembered.shape[1:]:
        return None
    where: dict[bytes, list[int]] = {}
    for pos, key in enumerate(_row_keys(added)):
        where.setdefault(key, []).append(pos)
    order = []
    for key in _row_keys(remembered):
        positions = where.get(key)
        if not positions:
            return None
        order.append(positions.pop(0))
    return np.asarray(order, dtype=np.int64)


def _last_batch(
    strategy: AutoAL, evidence: Evidence
) -> tuple[dict[str, Any] | None, np.ndarray | None, str]:
    """The remembered batch if the labeled set is the old one plus its rows (taught in any
    order), the positions of its rows after the old ones, and why not."""
    batch = strategy._state.get("hindsight_batch")
    if batch is None:
        return None, None, "no previous batch"
    x, y = np.asarray(evidence.labeled_inputs), np.asarray(evidence.labeled_targets)
    n_before, b = batch["n_before"], len(batch["inputs"])
    order = batch_order(x[n_before:], batch["inputs"]) if len(y) == n_before + b else None
    if order is None:
        return None, None, "the labeled set did not grow by exactly the last batch"
    if n_before < 2:
        return None, None, "fewer than 2 labeled samples before the last batch"
    return batch, n_before + order, ""


def hindsight_search(
    strategy: AutoAL, evidence: Evidence, n_classes: int, prior_logits: np.ndarray
) -> tuple[GlobalWeights, dict[str, Any]]:
    """This round's global weights and search record under the hindsight objective."""
    evidence.require("labeled_inputs", "labeled_targets")
    model = GlobalWeights(len(prior_logits), prior_logits)
    info: dict[str, Any] = {"objective": "hindsight", "prior": np.exp(prior_logits).tolist()}
    batch, rows, why = _last_batch(strategy, evidence)
    if batch is None or rows is None:
        return model, {**info, "steps": 0, "hindsight": why}
    x, y = np.asarray(evidence.labeled_inputs), np.asarray(evidence.labeled_targets)
    n = batch["n_before"]
    cfg = strategy.resolved()
    seed = 0 if strategy.random_state is None else int(strategy.random_state)
    rewards = hindsight_rewards(  # the batch in query order, as its scores are
        x[:n], y[:n], x[rows], y[rows], batch["scores"], n_classes,
        fraction=strategy.select_fraction, n_folds=strategy.n_folds,
        n_resplits=cfg["n_resplits"], random_state=seed + 1000 * strategy._state["round"],
    )
    trace = run_hindsight_search(model, rewards, cfg["search_lr"], strategy.search_steps,
                                 cfg["kappa"])
    se = rewards.std(axis=0, ddof=1) / np.sqrt(len(rewards)) if len(rewards) > 1 else None
    info["hindsight"] = {
        "batch": len(batch["inputs"]), "problems": len(rewards),
        "reward_mean": rewards.mean(axis=0).tolist(),
        "reward_se": None if se is None else se.tolist(),
    }
    return model, {**info, **trace.summary(), "logits": model.logits.detach().tolist()}
