"""AutoAL's ``requires`` is exactly what its ``select`` reads: for every objective, ablation
and batch mode, a query on evidence that holds only the required fields works (a field that
``requires`` left out but the query read would raise MissingEvidenceError)."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import Evidence
from autoal.evidence import MissingEvidenceError
from autoal.names import ABLATIONS, BATCH_MODES, OBJECTIVES
from autoal.search import AutoAL

from support import full_evidence

#: Small but real: FitNets train and the search steps, at a fraction of the default cost.
FAST = {"fitnet_epochs": 1, "fitnet_mc_samples": 2, "search_steps": 3}


def only_required(strategy: AutoAL, seed: int = 0) -> Evidence:
    """Full synthetic evidence cut down to exactly the fields ``strategy.requires``."""
    full = full_evidence(seed)
    return Evidence(**{field: getattr(full, field) for field in strategy.requires})


def check_select(strategy: AutoAL, budget: int = 8) -> np.ndarray:
    evidence = only_required(strategy)
    picked = strategy.select(evidence, budget)
    assert len(np.unique(picked)) == budget
    assert np.all((picked >= 0) & (picked < evidence.n_samples))
    return picked


@pytest.mark.parametrize("ablation", ABLATIONS)
def test_hindsight_selects_on_exactly_its_required_evidence_under_every_ablation(ablation):
    strategy = AutoAL(random_state=0, objective="hindsight", ablation=ablation, **FAST)
    check_select(strategy)
    searched = ablation in ("none", "no-loss-module")
    # only a search that runs keeps the batch for the next round's reward (and needs inputs)
    assert ("hindsight_batch" in strategy._state) == searched
    assert ("inputs" in strategy.requires) == searched


@pytest.mark.parametrize("batch", BATCH_MODES)
@pytest.mark.parametrize("ablation", ABLATIONS)
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_configuration_selects_on_exactly_its_required_evidence(objective, ablation, batch):
    check_select(AutoAL(random_state=0, objective=objective, ablation=ablation, batch=batch,
                        **FAST))


@pytest.mark.parametrize("params", [
    {"objective": "hindsight", "prior": "budget", "coverage_pool": "budget",
     "coverage_power": "budget", "batch": "coverage"},
    {"objective": "lookahead", "weights": "global", "search": "shrinkage", "prior": "budget",
     "batch": "kmeanspp", "representation": "features"},
    {"preset": "paper"},
    {"preset": "paper", "ablation": "frozen", "weights": "global"},
])
def test_budget_options_and_presets_select_on_exactly_their_required_evidence(params):
    strategy = AutoAL(random_state=1, **{**FAST, **params})
    if strategy.representation == "features":  # "features" stands for the pair, as elsewhere
        full = full_evidence(0)
        rng = np.random.default_rng(0)
        fields = {f: getattr(full, f) for f in strategy.requires if f != "features"}
        evidence = Evidence(**fields, features=rng.normal(size=(full.n_samples, 4)),
                            labeled_features=rng.normal(size=(len(full.labeled_targets), 4)))
        assert len(np.unique(strategy.select(evidence, 8))) == 8
    else:
        check_select(strategy)


def test_a_missing_required_field_is_named():
    strategy = AutoAL(random_state=0, objective="hindsight", **FAST)
    full = full_evidence(0)
    fields = {f: getattr(full, f) for f in strategy.requires if f != "inputs"}
    with pytest.raises(MissingEvidenceError, match="inputs"):
        strategy.select(Evidence(**fields), 8)
