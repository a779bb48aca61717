"""One round of AutoAL's search: cross-fit the labeled set, start the weights (prior, warm
start or fresh), run the Adam or the noise-aware search, and keep what the next round needs.

The functions take the :class:`~autoal.search.AutoAL` instance whose options and round-to-
round state (``_state``) they read and update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from autoal.data.pool_array import is_file_backed
from autoal.evidence import Evidence
from autoal.search.crossfit import CrossFitter
from autoal.search.hindsight_round import hindsight_search
from autoal.search.mixture import GlobalWeights, SearchNet
from autoal.search.prior import candidate_prior
from autoal.search.shrinkage import run_shrinkage_search
from autoal.search.trainer import SearchOptions, SearchTrace, final_mask, run_search

if TYPE_CHECKING:
    from autoal.search.strategy import AutoAL

__all__ = ["n_classes_of", "n_labeled", "search_options", "search_round"]


def n_labeled(evidence: Evidence) -> int:
    """Size of the labeled set as the evidence shows it (0 if it shows none)."""
    for name in ("labeled_targets", "labeled_embeddings", "labeled_probs", "labeled_inputs"):
        value = getattr(evidence, name)
        if value is not None:
            return len(value)
    return 0


def n_classes_of(evidence: Evidence) -> int:
    """The number of classes: the probabilities' width, else the labeled targets' largest."""
    if evidence.probs is not None:
        return int(evidence.probs.shape[1])
    if evidence.mc_probs is not None:
        return int(evidence.mc_probs.shape[2])
    assert evidence.labeled_targets is not None  # AutoAL requires it
    return int(np.max(evidence.labeled_targets)) + 1


def search_options(strategy: AutoAL, cfg: dict[str, Any]) -> SearchOptions:
    """The optimiser's options from the strategy's parameters and resolved preset ``cfg``."""
    return SearchOptions(
        objective=cfg["objective"],
        fraction=strategy.select_fraction,
        threshold=cfg["threshold"],
        steps=strategy.search_steps,
        lr=cfg["search_lr"],
        weight_decay=strategy.weight_decay if cfg["weights"] == "per-sample" else 0.0,
        tau_start=strategy.tau_start,
        tau_end=strategy.tau_end,
        budget_weight=strategy.budget_weight,
        gmm_every=strategy.gmm_every,
        coverage=float(cfg["coverage"]),
        random_state=0 if strategy.random_state is None else int(strategy.random_state),
    )


def search_round(
    strategy: AutoAL, evidence: Evidence, cfg: dict[str, Any], n_classes: int
) -> tuple[torch.nn.Module, Any, dict[str, Any]]:
    """Return the weight model, the pool-feature maker (per-sample) and the search record."""
    k = len(cfg["candidates"])
    seed = 0 if strategy.random_state is None else int(strategy.random_state)
    per_sample = cfg["weights"] == "per-sample"
    if strategy.ablation == "uniform":
        return GlobalWeights(k), None, {"steps": 0, "ablation": "uniform"}
    prior_logits = np.log(candidate_prior(
        cfg["candidates"], n_labeled(evidence), n_classes, kind=cfg["prior"]
    ))
    if strategy.ablation == "prior":
        return GlobalWeights(k, prior_logits), None, {"steps": 0, "ablation": "prior"}
    if strategy.ablation == "frozen" and not per_sample:
        frozen = torch.randn(k, generator=torch.Generator().manual_seed(seed))
        return GlobalWeights(k, frozen.numpy()), None, {"steps": 0, "ablation": "frozen"}
    if cfg["objective"] == "hindsight":  # rewards the last batch; no FitNet, no problems
        strategy._state["round"] = strategy._state.get("round", 0) + 1
        hindsight_model, record = hindsight_search(strategy, evidence, n_classes, prior_logits)
        return hindsight_model, None, record
    evidence.require("inputs", "labeled_inputs", "labeled_targets")
    device = evidence.device if strategy.device == "auto" and evidence.device else strategy.device
    fitter = CrossFitter(
        candidates=strategy._candidate_strategies(),
        n_folds=strategy.n_folds,
        fraction=strategy.select_fraction,
        model=strategy.fitnet_model,
        epochs=strategy.fitnet_epochs,
        mc_samples=strategy.fitnet_mc_samples,
        loss_module=(bool(cfg["loss_module"]) and per_sample)
        or any("predicted_loss" in c.requires for c in strategy._candidate_strategies()),
        with_probe=cfg["objective"] == "lookahead",
        ridge=strategy.ridge,
        device=device,
        random_state=seed + 1000 * strategy._state.get("round", 0),
        n_resplits=cfg["n_resplits"],
        with_features=per_sample,  # global weights never read SearchNet features
    )
    problems = fitter.problems(
        np.asarray(evidence.labeled_inputs), np.asarray(evidence.labeled_targets), n_classes
    )
    strategy._state["round"] = strategy._state.get("round", 0) + 1
    if per_sample:
        assert problems[0].features is not None  # per-sample problems carry features
        n_features = problems[0].features.shape[1]
        with torch.random.fork_rng():  # seed SearchNet's init without touching global state
            torch.manual_seed(seed)
            model: torch.nn.Module = SearchNet(n_features, k)
            if strategy.ablation == "frozen":
                torch.nn.init.normal_(cast(SearchNet, model).out.weight, std=1.0)
        if strategy.ablation != "frozen" and strategy.warm_start and "searchnet" in strategy._state:
            model.load_state_dict(strategy._state["searchnet"])
    elif cfg["search"] == "shrinkage":  # starts at the prior every round: see shrinkage.py
        model = GlobalWeights(k, prior_logits)
    else:
        init = strategy._state.get("logits") if strategy.warm_start else None
        model = GlobalWeights(k, init)
    options = search_options(strategy, cfg)
    if strategy.ablation == "frozen":
        options.steps = 0
    if cfg["search"] == "shrinkage":
        assert isinstance(model, GlobalWeights)
        trace = run_shrinkage_search(model, problems, options, kappa=cfg["kappa"])
    else:
        trace = run_search(model, problems, options)
    for _ in range(cfg["fitnet_alternations"] if options.steps > 0 else 0):
        masks = [final_mask(model, p, options).numpy() for p in problems]
        problems = fitter.refit(masks)
        more = run_search(model, problems, options)
        trace = SearchTrace(
            trace.objective + more.objective,
            trace.total + more.total,
            trace.grad_norm + more.grad_norm,
            more.objective_before,  # first/last compare like with like: the last search's
            more.objective_after,
        )
    info: dict[str, Any] = {**trace.summary(), "objective": cfg["objective"],
                            "rotations": len(problems),
                            "alternations": cfg["fitnet_alternations"]}
    if cfg["search"] == "shrinkage":
        info["prior"] = np.exp(prior_logits).tolist()
    if per_sample:
        strategy._state["searchnet"] = {k2: v.clone() for k2, v in model.state_dict().items()}
        inputs = evidence.inputs  # a file-backed pool stays on disk, read in chunks
        assert inputs is not None  # required above
        pool = inputs if is_file_backed(inputs) else np.asarray(inputs)
        return model, fitter.pool_featurizer(pool), info
    new = cast(GlobalWeights, model).logits.detach().clone()
    used = new
    if strategy.momentum and "logits_avg" in strategy._state:
        used = strategy.momentum * strategy._state["logits_avg"] + (1 - strategy.momentum) * new
    strategy._state["logits"] = new
    strategy._state["logits_avg"] = used
    info["logits"] = used.tolist()
    return GlobalWeights(k, used.numpy()), None, info
