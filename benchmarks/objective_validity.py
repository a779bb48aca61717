"""Does AutoAL's search objective rank the candidates the way real accuracy gains do?

    python benchmarks/objective_validity.py --dataset digits --labeled 20 60 120 \\
        --budget 20 --epochs 50 --seeds 0 1 2 --json results/objective-validity-digits.json

The search can only find a good mix if its objective, computed on labeled data alone,
prefers the candidates that help the task model most. For each seed and labeled-set size
this script trains the task model on a random labeled set (as the protocol's round 0 does),
then for every candidate of the pool

- *true gain*: queries the candidate's top-b from the unlabeled pool, retrains the task
  model from scratch on the labeled set plus that batch (``--retrain-seeds`` model
  initialisations, averaged) and measures test accuracy;
- *objective*: evaluates each search objective (``max_loss``, ``lookahead``) with the
  mixture fixed to that candidate alone (one-hot weights), on the same cross-fitted
  problems the search would see; lower is better, as the search minimises it. Two
  references beside them: ``probe_ce``, the look-ahead with a logistic-regression probe
  (cross-entropy) instead of the ridge head, and ``retrain``, a direct simulation of the
  step on the labeled data with a retrained FitNet.
- *hindsight* (:mod:`autoal.search.hindsight`): the state's labeled set is split into the
  labeled set before the last round (``A``) and that round's batch (``B``, a random
  ``min(b, n // 2)`` of it: as if the last round had queried at random, so that the truth is
  the same state's); a task model trained on ``A`` lets every candidate score the pool
  (``B`` included) as it would have then, and each candidate is rewarded by how much its top
  part of ``B``, labeled, lowers a logistic probe's held-out Brier loss on ``A``'s folds.
  ``hindsight`` uses the strategy's defaults (top quarter, 2 folds x 2 resplits),
  ``hindsight_half`` the top half, ``hindsight_r8`` 8 resplits.

It reports, per objective, the Spearman correlation between the objective's preference
(minus its value) and the true accuracy, and the accuracy of the candidate the objective
likes best next to the best candidate in hindsight and margin; and the truth's own
reliability, the Spearman correlation between two retrainings' accuracies: noise in the
truth attenuates any objective's correlation with it (roughly by the square root of this
reliability, less for the two-retraining mean used as the truth). A correlation near or
below zero means no search over this objective can find the good candidates.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from autoal.data import load_dataset
from autoal.io import write_text_atomic
from autoal.loop.runner import pool_indices
from autoal.models import TorchClassifier, configure_threads
from autoal.search.crossfit import CrossFitter
from autoal.search.hindsight import hindsight_rewards
from autoal.search.mixture import GlobalWeights
from autoal.search.trainer import SearchOptions, evaluate_objective
from autoal.strategies import get_strategy
from autoal.strategies.base import top_k
from autoal.strategies.ranks import rank_normalise
from autoal.strategies.registry import PAPER_CANDIDATES

ONE_HOT_LOGIT = 30.0  # softmax weight of the chosen candidate: about 1 - 9.4e-14 * (K - 1)
#: Objectives evaluated on FitNet's cross-fitted problems (one-hot mixtures).
FITNET_OBJECTIVES = ("max_loss", "lookahead", "balance")
#: Hindsight variants: (fraction of the batch each candidate takes, resplits).
HINDSIGHT = {"hindsight": (0.25, 2), "hindsight_half": (0.5, 2), "hindsight_r8": (0.25, 8)}
ALL_OBJECTIVES = (*FITNET_OBJECTIVES, "probe_ce", "probe_pca", "retrain", *HINDSIGHT)


def _learner(args: argparse.Namespace, seed: int) -> TorchClassifier:
    return TorchClassifier(model="auto", epochs=args.epochs, mc_samples=args.mc_samples,
                           device="cpu", random_state=seed)


def objective_values(
    objective: str, X_lab: np.ndarray, y_lab: np.ndarray, n_classes: int, seed: int,
    fitnet_epochs: int,
) -> tuple[dict[str, float], list, CrossFitter]:
    """Each candidate's objective value with the mixture fixed to it (lower = preferred)."""
    candidates = [get_strategy(c, random_state=seed + 7 * (k + 1))
                  for k, c in enumerate(PAPER_CANDIDATES)]
    fitter = CrossFitter(candidates, epochs=fitnet_epochs, with_probe=objective == "lookahead",
                         device="cpu", random_state=seed)
    problems = fitter.problems(X_lab, y_lab, n_classes)
    options = SearchOptions(objective=objective)
    values = {}
    for k, name in enumerate(PAPER_CANDIDATES):
        logits = np.zeros(len(PAPER_CANDIDATES), dtype=np.float32)
        logits[k] = ONE_HOT_LOGIT
        values[name] = evaluate_objective(GlobalWeights(len(logits), logits), problems, options)
    return values, problems, fitter


def probe_pca_values(
    fitter: CrossFitter, problems: list, X_lab: np.ndarray, y_lab: np.ndarray, n_classes: int,
    fraction: float = 0.25, n_components: int = 32,
) -> dict[str, float]:
    """The look-ahead with out-of-sample features: the ridge probe on label-free principal
    components of the raw inputs (fitted on the labeled inputs, no labels used) instead of
    FitNet's features, the same rotations and candidates' top ``fraction`` (hard)."""
    from sklearn.decomposition import PCA

    from autoal.search.objectives import RidgeProbe

    flat = X_lab.reshape(len(X_lab), -1)
    z = PCA(min(n_components, *flat.shape), random_state=0).fit_transform(flat)
    values: dict[str, list[float]] = {c: [] for c in PAPER_CANDIDATES}
    for (_, train, cand, val), problem in zip(fitter._rotations, problems, strict=True):
        probe = RidgeProbe.build(z[train], y_lab[train], z[cand], y_lab[cand], z[val],
                                 y_lab[val], n_classes)
        budget = max(1, int(round(fraction * len(cand))))
        for k, name in enumerate(PAPER_CANDIDATES):
            mask = torch.zeros(len(cand), dtype=torch.float64)
            mask[np.argsort(-problem.scores[:, k].numpy(), kind="stable")[:budget]] = 1.0
            values[name].append(float(probe.val_loss(mask)))
    return {c: float(np.mean(v)) for c, v in values.items()}


def probe_ce_values(problems: list, fraction: float = 0.25) -> dict[str, float]:
    """Like the look-ahead objective, but the probe is a logistic regression (cross-entropy)
    on the same FitNet features instead of a ridge head, and the selection is hard: each
    candidate's top ``fraction`` of the scored half. Validation log loss; lower = preferred."""
    values: dict[str, list[float]] = {c: [] for c in PAPER_CANDIDATES}
    for problem in problems:
        probe = problem.probe
        train_x, cand_x, val_x = (t.numpy()[:, :-1] for t in
                                  (probe.train_x, probe.cand_x, probe.val_x))
        train_y, cand_y, val_y = (t.numpy().argmax(axis=1) for t in
                                  (probe.train_y, probe.cand_y, probe.val_y))
        n_classes = probe.train_y.shape[1]
        budget = max(1, int(round(fraction * len(cand_x))))
        for k, name in enumerate(PAPER_CANDIDATES):
            top = np.argsort(-problem.scores[:, k].numpy(), kind="stable")[:budget]
            x = np.vstack([train_x, cand_x[top]])
            y = np.concatenate([train_y, cand_y[top]])
            clf = LogisticRegression(C=1.0, max_iter=500).fit(x, y)
            probs = np.full((len(val_x), n_classes), 1e-12)
            probs[:, clf.classes_] = clf.predict_proba(val_x)
            values[name].append(log_loss(val_y, probs, labels=np.arange(n_classes)))
    return {c: float(np.mean(v)) for c, v in values.items()}


def retrain_values(
    X_lab: np.ndarray, y_lab: np.ndarray, n_classes: int, seed: int, fitnet_epochs: int,
    fraction: float = 0.25, n_folds: int = 2,
) -> dict[str, float]:
    """Each candidate's simulated active-learning step on the labeled data (lower = preferred).

    Per rotation: a FitNet trained on the other folds scores half of the held-out fold, the
    candidate picks its top ``fraction`` of that half, a fresh FitNet is retrained with them,
    and its log loss on the other half is the value; mean over rotations. This is what the
    lookahead objective approximates with a ridge head on fixed features.
    """
    rng = np.random.default_rng([seed, 11])
    order = rng.permutation(len(y_lab))
    parts = np.array_split(order, n_folds)
    values: dict[str, list[float]] = {c: [] for c in PAPER_CANDIDATES}
    for f, held in enumerate(parts):
        train = np.setdiff1d(order, held)
        cand, val = held[: len(held) // 2], held[len(held) // 2 :]
        fitnet = TorchClassifier(epochs=fitnet_epochs, mc_samples=20, device="cpu",
                                 random_state=seed + f).fit(X_lab[train], y_lab[train], n_classes)
        ev = fitnet.evidence(X_lab[cand], X_lab[train], y_lab[train])
        budget = max(1, int(round(fraction * len(cand))))
        for k, name in enumerate(PAPER_CANDIDATES):
            strategy = get_strategy(name, random_state=seed + 7 * (k + 1))
            picked = cand[top_k(strategy.score(ev, budget=budget), budget, rng)]
            grown = np.concatenate([train, picked])
            model = TorchClassifier(epochs=fitnet_epochs, mc_samples=0, device="cpu",
                                    random_state=seed + 100 + f)
            probs = model.fit(X_lab[grown], y_lab[grown], n_classes).predict_proba(X_lab[val])
            nll = -np.log(np.clip(probs[np.arange(len(val)), y_lab[val]], 1e-12, 1.0))
            values[name].append(float(nll.mean()))
    return {c: float(np.mean(v)) for c, v in values.items()}


def hindsight_values(
    args: argparse.Namespace, X_pool: np.ndarray, y_pool: np.ndarray, lab: np.ndarray,
    n_classes: int, seed: int, variants: dict[str, tuple[float, int]],
) -> dict[str, dict[str, float]]:
    """Each hindsight variant's value per candidate (minus its mean reward; lower =
    preferred), with the last batch a random part of the labeled set ``lab``."""
    size = min(args.budget, len(lab) // 2)
    batch = np.sort(np.random.default_rng([seed, 13, len(lab)]).choice(lab, size, replace=False))
    before = np.setdiff1d(lab, batch)
    learner = _learner(args, seed * 1000 + 7).fit(X_pool[before], y_pool[before], n_classes)
    unlabeled = np.setdiff1d(np.arange(len(X_pool)), before)  # that round's pool: B included
    evidence = learner.evidence(X_pool[unlabeled], X_pool[before], y_pool[before])
    scores = rank_normalise(np.column_stack([
        get_strategy(c, random_state=seed + 7 * (k + 1)).score(evidence, budget=size)
        for k, c in enumerate(PAPER_CANDIDATES)
    ]))[np.searchsorted(unlabeled, batch)]
    out = {}
    for name, (fraction, resplits) in variants.items():
        rewards = hindsight_rewards(
            X_pool[before], y_pool[before], X_pool[batch], y_pool[batch], scores, n_classes,
            fraction=fraction, n_folds=2, n_resplits=resplits, random_state=seed,
        )
        out[name] = dict(zip(PAPER_CANDIDATES, (-rewards.mean(axis=0)).tolist(), strict=True))
    return out


def true_accuracies(
    args: argparse.Namespace, X_pool: np.ndarray, y_pool: np.ndarray, lab: np.ndarray,
    X_test: np.ndarray, y_test: np.ndarray, n_classes: int, seed: int,
) -> tuple[float, dict[str, list[float]]]:
    """Test accuracy now, and after adding each candidate's top-b batch (one value per
    retraining seed)."""
    learner = _learner(args, seed * 1000).fit(X_pool[lab], y_pool[lab], n_classes)
    before = float((learner.predict(X_test) == y_test).mean())
    unlabeled = np.setdiff1d(np.arange(len(X_pool)), lab)
    evidence = learner.evidence(X_pool[unlabeled], X_pool[lab], y_pool[lab])
    rng = np.random.default_rng([seed, 5])
    accs = {}
    for k, name in enumerate(PAPER_CANDIDATES):
        strategy = get_strategy(name, random_state=seed + 7 * (k + 1))
        batch = unlabeled[top_k(strategy.score(evidence, budget=args.budget), args.budget, rng)]
        grown = np.concatenate([lab, batch])
        scores = []
        for r in range(args.retrain_seeds):
            model = _learner(args, seed * 1000 + 1 + r).fit(X_pool[grown], y_pool[grown],
                                                             n_classes)
            scores.append(float((model.predict(X_test) == y_test).mean()))
        accs[name] = scores
    return before, accs


def agreement(values: dict[str, float], truth: dict[str, float]) -> tuple[float, str]:
    """Spearman correlation between an objective's preference (minus its value: the search
    minimises) and the true accuracies, and the candidate it prefers most."""
    names = sorted(values)
    rho = spearmanr([-values[c] for c in names], [truth[c] for c in names]).statistic
    return float(rho), min(names, key=lambda c: values[c])


def _nan_to_none(obj: Any) -> Any:
    """JSON has no NaN (a constant ranking has no Spearman correlation): write null."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, measure, print a table (and JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--pool-size", type=int, default=None)
    ap.add_argument("--labeled", type=int, nargs="+", default=[20, 60, 120])
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--fitnet-epochs", type=int, default=10)
    ap.add_argument("--mc-samples", type=int, default=100)
    ap.add_argument("--retrain-seeds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--objectives", default=",".join(ALL_OBJECTIVES),
                    help=f"Comma-separated subset of {','.join(ALL_OBJECTIVES)}")
    ap.add_argument("--json", default=None, help="Also write the results to this file.")
    args = ap.parse_args(argv)
    wanted = [o.strip() for o in args.objectives.split(",") if o.strip()]
    unknown = sorted(set(wanted) - set(ALL_OBJECTIVES))
    if unknown or not wanted:
        ap.error(f"unknown objectives {unknown}; valid: {', '.join(ALL_OBJECTIVES)}")
    configure_threads(args.threads)
    data = load_dataset(args.dataset)
    rows: list[dict[str, Any]] = []
    for seed in args.seeds:
        pool = pool_indices(len(data.X_train), args.pool_size, seed)
        X_pool, y_pool = data.X_train[pool], data.y_train[pool]
        for n in args.labeled:
            lab = np.sort(np.random.default_rng([seed, 2, n]).choice(len(pool), n, replace=False))
            before, each = true_accuracies(args, X_pool, y_pool, lab, data.X_test, data.y_test,
                                           data.n_classes, seed)
            accs = {c: float(np.mean(v)) for c, v in each.items()}
            row: dict[str, Any] = {"seed": seed, "labeled": n, "accuracy_before": before,
                                   "accuracy_after": accs, "accuracy_after_each": each,
                                   "objectives": {}}
            if args.retrain_seeds >= 2:
                # How well one retraining ranks the candidates like another: how much noise
                # in the truth itself limits any objective's correlation with it.
                row["truth_reliability"] = float(spearmanr(
                    [each[c][0] for c in PAPER_CANDIDATES], [each[c][1] for c in PAPER_CANDIDATES]
                ).statistic)
            computed: dict[str, dict[str, float]] = {}
            probes = {"probe_ce", "probe_pca"} & set(wanted)
            for objective in FITNET_OBJECTIVES:
                if objective not in wanted and not (objective == "lookahead" and probes):
                    continue
                values, problems, fitter = objective_values(
                    objective, X_pool[lab], y_pool[lab], data.n_classes, seed,
                    args.fitnet_epochs,
                )
                if objective in wanted:
                    computed[objective] = values
                if objective == "lookahead" and "probe_ce" in wanted:
                    computed["probe_ce"] = probe_ce_values(problems)
                if objective == "lookahead" and "probe_pca" in wanted:
                    computed["probe_pca"] = probe_pca_values(
                        fitter, problems, X_pool[lab], y_pool[lab], data.n_classes)
            if "retrain" in wanted:
                computed["retrain"] = retrain_values(X_pool[lab], y_pool[lab], data.n_classes,
                                                     seed, args.fitnet_epochs)
            variants = {h: v for h, v in HINDSIGHT.items() if h in wanted}
            if variants:
                computed.update(hindsight_values(args, X_pool, y_pool, lab, data.n_classes,
                                                 seed, variants))
            for objective, vals in computed.items():
                rho, pick = agreement(vals, accs)
                row["objectives"][objective] = {
                    "values": vals, "spearman": rho, "pick": pick,
                    "pick_accuracy": accs[pick],
                }
            rows.append(row)
            best = max(accs, key=accs.get)
            picks = ", ".join(
                f"{o}: {d['pick']} {d['pick_accuracy']:.4f} (rho {d['spearman']:+.2f})"
                for o, d in row["objectives"].items()
            )
            print(f"seed {seed} n={n}: before {before:.4f}; best {best} {accs[best]:.4f}; "
                  f"margin {accs['margin']:.4f}; {picks}", flush=True)
    print("\nmean over states:")
    best_mean = np.mean([max(r["accuracy_after"].values()) for r in rows])
    margin_mean = np.mean([r["accuracy_after"]["margin"] for r in rows])
    print(f"  best in hindsight {best_mean:.4f}, margin {margin_mean:.4f}")
    if args.retrain_seeds >= 2:
        rel = [r["truth_reliability"] for r in rows]
        print(f"  truth reliability (Spearman between two retrainings) {np.nanmean(rel):+.3f}")
    for objective in [o for o in ALL_OBJECTIVES if o in wanted]:
        rho = [r["objectives"][objective]["spearman"] for r in rows]
        acc = [r["objectives"][objective]["pick_accuracy"] for r in rows]
        print(f"  {objective}: Spearman {np.nanmean(rho):+.3f} (min {np.nanmin(rho):+.2f}, max "
              f"{np.nanmax(rho):+.2f}); its pick {np.mean(acc):.4f}")
    if args.json:
        record = _nan_to_none({"args": vars(args), "rows": rows})
        write_text_atomic(args.json, json.dumps(record, indent=1, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
