"""How well the loss-prediction module ranks the pool, and what its top-b batch looks like.

    python benchmarks/loss_prediction_quality.py --dataset digits --labeled 20 100 300 \\
        --epochs 50 --seeds 0 1 2
    python benchmarks/loss_prediction_quality.py --dataset fashion-mnist --pool-size 20000 \\
        --labeled 100 1000 --budget 100 --seeds 0 1 2

For each seed and labeled-set size, trains the task model with the loss module (Yoo &
Kweon 2019; the library's default model settings) on a random labeled set of that size
(like, but not the same draw as, the protocol's round 0), then compares over the
unlabeled pool: the Spearman correlation of the predicted loss with the true cross-entropy
loss, the same for entropy (a free, untrained loss proxy), and, for the top-b batch that
``loss_prediction`` would query, the share of its largest class (1/C = balanced; 1 = one
class) and the model's error rate on it (the points worth labeling are the ones it gets
wrong). Explains where ``loss_prediction`` stands in the benchmark.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from scipy.stats import spearmanr

from autoal.data import load_dataset
from autoal.io import write_json_atomic
from autoal.loop.runner import pool_indices
from autoal.models import EvidenceRequest, TorchClassifier, configure_threads


def batch_stats(score: np.ndarray, y: np.ndarray, pred: np.ndarray, budget: int,
                n_classes: int) -> tuple[float, float]:
    """Largest-class share and error rate of the ``budget`` highest scores (stable order)."""
    top = np.argsort(-score, kind="stable")[:budget]
    share = np.bincount(y[top], minlength=n_classes).max() / len(top)
    return float(share), float(np.mean(pred[top] != y[top]))


def measure(learner: TorchClassifier, X: np.ndarray, y: np.ndarray, budget: int,
            n_classes: int) -> dict[str, float]:
    """The row of one trained learner over the unlabeled points ``X`` with labels ``y``."""
    ev = learner.evidence(X, request=EvidenceRequest())
    probs = np.asarray(ev.probs)
    if ev.predicted_loss is None:
        raise ValueError("the learner has no loss module (loss_module=True)")
    true_loss = -np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))
    entropy = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(axis=1)
    pred = probs.argmax(axis=1)
    share, error = batch_stats(np.asarray(ev.predicted_loss), y, pred, budget, n_classes)
    ent_share, ent_error = batch_stats(entropy, y, pred, budget, n_classes)
    return {
        "rho_predicted": float(spearmanr(ev.predicted_loss, true_loss).statistic),
        "rho_entropy": float(spearmanr(entropy, true_loss).statistic),
        "top_class_share": share,
        "top_error": error,
        "entropy_top_class_share": ent_share,
        "entropy_top_error": ent_error,
        "pool_error": float(np.mean(pred != y)),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, measure, print a table (and JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--pool-size", type=int, default=None)
    ap.add_argument("--labeled", type=int, nargs="+", default=[20, 100])
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--json", default=None, help="Also write the results to this file.")
    args = ap.parse_args(argv)

    if args.budget < 1:
        ap.error(f"--budget must be at least 1, got {args.budget}")
    configure_threads()
    data = load_dataset(args.dataset)
    n_pool = len(pool_indices(len(data.X_train), args.pool_size, args.seeds[0]))
    too_big = [n for n in args.labeled if n < 1 or n + args.budget > n_pool]
    if too_big:
        ap.error(f"--labeled {too_big} with --budget {args.budget} do not fit the pool "
                 f"({n_pool})")
    rows = []
    for seed in args.seeds:
        pool = pool_indices(len(data.X_train), args.pool_size, seed)
        X, y = data.X_train[pool], data.y_train[pool]
        order = np.random.default_rng([seed, 2]).permutation(len(pool))
        for n_lab in args.labeled:
            lab, unl = order[:n_lab], order[n_lab:]
            learner = TorchClassifier(epochs=args.epochs, random_state=seed * 1000,
                                      loss_module=True, mc_samples=0, device="cpu")
            learner.fit(X[lab], y[lab], data.n_classes)
            row = measure(learner, X[unl], y[unl], args.budget, data.n_classes)
            rows.append({"seed": seed, "labeled": n_lab, **row})
    print(f"{args.dataset}: loss module vs entropy over the unlabeled pool "
          f"(pool {len(pool)}, top-{args.budget} batch; balanced share = "
          f"{1 / data.n_classes:.2f}), mean over seeds {args.seeds}")
    columns = {  # key: header (rho: Spearman with the true loss; share, error: of the batch)
        "rho_predicted": "rho loss", "rho_entropy": "rho entr",
        "top_class_share": "share loss", "entropy_top_class_share": "share entr",
        "top_error": "error loss", "entropy_top_error": "error entr", "pool_error": "error pool",
    }
    print(f"{'labeled':>8} " + " ".join(f"{h:>10}" for h in columns.values()))
    for n_lab in args.labeled:
        sel = [r for r in rows if r["labeled"] == n_lab]
        print(f"{n_lab:>8} " + " ".join(f"{np.mean([r[k] for r in sel]):>10.3f}" for k in columns))
    if args.json:
        write_json_atomic(args.json, {"args": vars(args), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
