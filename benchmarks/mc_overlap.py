"""Top-b overlap of the MC strategies between two independent MC dropout draws, per T.

    python benchmarks/mc_overlap.py --dataset fashion-mnist --pool-size 20000 \\
        --labeled 100 1100 --budget 100 --mc-samples 10 30 100 --seeds 0 1 2

For each seed and labeled-set size, trains the task model on a random labeled set (as the
protocol's round 0 does), then draws T MC dropout samples twice, independently, over the
unlabeled pool and reports the overlap of the var_ratio / mean_std / BALD top-b batches
(1 = the same batch; b / pool = chance). The benchmark records the same number at the
protocol's T for every round of the variants marked ``mc_overlap = true`` (summary.md,
"MC stability"); this script shows how it depends on T.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from autoal.data import load_dataset
from autoal.loop.mc_stability import MC_STRATEGIES, mc_topb_overlap
from autoal.loop.runner import pool_indices
from autoal.models import TorchClassifier, configure_threads


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, measure, print a table (and JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--pool-size", type=int, default=None)
    ap.add_argument("--labeled", type=int, nargs="+", default=[100])
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--mc-samples", type=int, nargs="+", default=[10, 30, 100])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--json", default=None, help="Also write the results to this file.")
    args = ap.parse_args(argv)

    configure_threads()
    data = load_dataset(args.dataset)
    rows = []
    for seed in args.seeds:
        pool = pool_indices(len(data.X_train), args.pool_size, seed)
        X, y = data.X_train[pool], data.y_train[pool]
        rng = np.random.default_rng([seed, 2])
        order = rng.permutation(len(pool))
        for n_lab in args.labeled:
            lab, unl = order[:n_lab], order[n_lab:]
            learner = TorchClassifier(epochs=args.epochs, random_state=seed * 1000,
                                      device="cpu").fit(X[lab], y[lab], data.n_classes)
            for t in args.mc_samples:
                overlap = mc_topb_overlap(learner, X[unl], args.budget, mc_samples=t)
                rows.append({"seed": seed, "labeled": n_lab, "T": t, **overlap})
    print(f"{args.dataset}: top-{args.budget} overlap of two independent MC draws "
          f"(pool {len(pool)}; chance = {args.budget / max(1, len(pool)):.3f})")
    print(f"{'labeled':>8} {'T':>5} " + " ".join(f"{s:>10}" for s in MC_STRATEGIES))
    for n_lab in args.labeled:
        for t in args.mc_samples:
            sel = [r for r in rows if r["labeled"] == n_lab and r["T"] == t]
            means = [np.mean([r[s] for r in sel]) for s in MC_STRATEGIES]
            print(f"{n_lab:>8} {t:>5} " + " ".join(f"{m:>10.3f}" for m in means))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
