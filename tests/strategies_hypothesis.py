"""Hypothesis generators of adversarial-but-legal :class:`~autoal.Evidence` and of data files.

The structure (sizes, which fields, which pathology) is drawn by hypothesis so that it
shrinks to a small example; the bulk values come from a numpy generator seeded by a drawn
integer (drawing 500 x 20 floats one by one would make every example slow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from autoal import Evidence

#: How the class probabilities are shaped: every kind is a legal probability table.
PROB_KINDS = ("dirichlet", "onehot", "uniform", "ties", "duplicated", "tiny", "float32")
#: How the embeddings are shaped (all finite).
EMB_KINDS = ("normal", "constant", "duplicated", "integer", "huge", "tiny", "one_hot")


@dataclass(frozen=True)
class EvidenceCase:
    """A generated evidence with what it was made of (shown by hypothesis on failure)."""

    evidence: Evidence
    budget: int
    recipe: dict[str, Any]

    def __repr__(self) -> str:
        return f"EvidenceCase(budget={self.budget}, recipe={self.recipe})"


def _probs(rng: np.random.Generator, kind: str, n: int, c: int) -> np.ndarray:
    if kind == "onehot":  # probabilities exactly 0 and 1
        return np.eye(c)[rng.integers(0, c, n)]
    if kind == "uniform":  # every sample and every class tied
        return np.full((n, c), 1.0 / c)
    if kind == "ties":  # few distinct rows, each with tied top classes
        rows = np.zeros((3, c))
        rows[0, : min(2, c)] = 1.0 / min(2, c)
        rows[1] = 1.0 / c
        rows[2, 0] = 1.0
        return rows[rng.integers(0, 3, n)]
    if kind == "duplicated":  # many exact copies of a few rows
        base = rng.dirichlet(np.ones(c), size=max(1, n // 7))
        return base[rng.integers(0, len(base), n)]
    if kind == "tiny":  # near-zero (subnormal) entries beside a near-one
        p = np.full((n, c), 5e-324)
        p[np.arange(n), rng.integers(0, c, n)] = 1.0 - (c - 1) * 5e-324
        return p
    p = rng.dirichlet(np.full(c, 0.3), size=n)
    return p.astype(np.float32) if kind == "float32" else p


def _embeddings(rng: np.random.Generator, kind: str, n: int, d: int) -> np.ndarray:
    if kind == "constant":  # zero variance
        return np.full((n, d), 3.0)
    if kind == "duplicated":
        base = rng.normal(size=(max(1, n // 5), d))
        return base[rng.integers(0, len(base), n)]
    if kind == "integer":
        return rng.integers(-2, 3, size=(n, d))
    if kind == "huge":  # finite, but squared distances overflow float64
        return rng.normal(size=(n, d)) * 1e200
    if kind == "tiny":
        return rng.normal(size=(n, d)) * 1e-200
    if kind == "one_hot":  # sparse, many exact ties in distance
        return np.eye(d)[rng.integers(0, d, n)]
    return rng.normal(size=(n, d))


@st.composite
def evidence_cases(
    draw: st.DrawFn,
    max_n: int = 500,
    max_classes: int = 20,
    max_labeled: int = 30,
    inputs: bool = True,
) -> EvidenceCase:
    """Evidence with every field (or some left out), and a budget in ``1..N``."""
    n = draw(st.integers(1, max_n), label="n")
    c = draw(st.integers(1, max_classes), label="classes")
    d = draw(st.integers(1, 8), label="dim")
    t = draw(st.integers(1, 6), label="mc_samples")
    n_lab = draw(st.integers(0, max_labeled), label="labeled")
    prob_kind = draw(st.sampled_from(PROB_KINDS), label="probs")
    mc_kind = draw(st.sampled_from(("independent", "identical", *PROB_KINDS)), label="mc")
    emb_kind = draw(st.sampled_from(EMB_KINDS), label="embeddings")
    loss_kind = draw(st.sampled_from(("random", "constant", "zero", "huge")), label="loss")
    budget = draw(st.one_of(st.just(n), st.just(1), st.integers(1, n)), label="budget")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)

    probs = _probs(rng, prob_kind, n, c)
    if mc_kind == "identical":  # MC samples all equal: zero disagreement
        mc = np.broadcast_to(probs, (t, n, c)).copy()
    elif mc_kind == "independent":
        mc = rng.dirichlet(np.full(c, 0.5), size=(t, n))
    else:
        mc = np.stack([_probs(rng, mc_kind, n, c) for _ in range(t)])
    emb = _embeddings(rng, emb_kind, n, d)
    loss = {
        "random": rng.random(n),
        "constant": np.full(n, 0.5),
        "zero": np.zeros(n),
        "huge": rng.random(n) * 1e308,
    }[loss_kind]
    fields: dict[str, Any] = {
        "probs": probs,
        "mc_probs": mc,
        "embeddings": emb,
        "predicted_loss": loss,
    }
    if n_lab:
        y_lab = rng.integers(0, c, n_lab)
        fields["labeled_embeddings"] = _embeddings(rng, emb_kind, n_lab, d)
        fields["labeled_probs"] = _probs(rng, prob_kind, n_lab, c)
        fields["labeled_targets"] = y_lab
        fields["labeled_inputs"] = rng.normal(size=(n_lab, 3)).astype(np.float32)
    if inputs:
        fields["inputs"] = rng.normal(size=(n, 3)).astype(np.float32)
    recipe = {"n": n, "classes": c, "dim": d, "mc_samples": t, "labeled": n_lab,
              "probs": prob_kind, "mc": mc_kind, "embeddings": emb_kind, "loss": loss_kind,
              "seed": seed}
    return EvidenceCase(Evidence(**fields), budget, recipe)


#: Evidence fields that are float arrays a model computes (where NaN/inf can appear).
FLOAT_FIELDS = ("probs", "mc_probs", "embeddings", "labeled_embeddings", "labeled_probs",
                "predicted_loss", "inputs", "labeled_inputs")


def finite_fields(n: int = 12, c: int = 3, n_lab: int = 8, seed: int = 0) -> dict[str, Any]:
    """A small, fully populated, valid set of Evidence fields."""
    rng = np.random.default_rng(seed)
    mc = rng.dirichlet(np.ones(c), size=(4, n))
    return {
        "probs": mc.mean(axis=0),
        "mc_probs": mc,
        "embeddings": rng.normal(size=(n, 4)),
        "labeled_embeddings": rng.normal(size=(n_lab, 4)),
        "labeled_probs": rng.dirichlet(np.ones(c), size=n_lab),
        "predicted_loss": rng.random(n),
        "inputs": rng.normal(size=(n, 3)).astype(np.float32),
        "labeled_inputs": rng.normal(size=(n_lab, 3)).astype(np.float32),
        "labeled_targets": np.arange(n_lab) % c,
    }
