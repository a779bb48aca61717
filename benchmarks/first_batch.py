"""The first query of each variant from one shared round-0 model: class make-up, accuracy.

    python benchmarks/first_batch.py --dataset digits --init 20 --budget 20 --epochs 50 \\
        --seeds 0 1 2 --variant margin=margin --variant random=random \\
        --variant 'cov=autoal:batch=coverage,weights=global' --json results/first-batch.json

A cheap stand-in for round 1 of ``autoal run`` (same pool, initial set and model seeds as
:func:`autoal.loop.run_active_learning`): the round-0 model is trained once per seed, every
variant queries one batch from its evidence, and the model is retrained on the grown set
(the loop's round-1 seed). Per variant, mean over seeds: the share of the batch in its
most frequent class, the classes it covers, round-1 test accuracy minus random's on the same
seed (when a ``random`` variant is given) and the seconds of ``select``.
``--variant NAME=STRATEGY[:key=value,...]``: values parsed as Python literals where they
can be; a list inside one value as ``a|b|c``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from typing import Any

import numpy as np

from autoal.data import load_dataset
from autoal.io import write_text_atomic
from autoal.loop.runner import pool_indices
from autoal.models import TorchClassifier, configure_threads
from autoal.strategies import get_strategy


def parse_variant(text: str) -> tuple[str, str, dict[str, Any]]:
    """``NAME=STRATEGY[:key=value,...]`` -> (name, strategy, params)."""
    name, _, rest = text.partition("=")
    strategy, _, opts = rest.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, opts.split(",")):
        key, _, value = item.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value.replace("|", ",")  # lists inside one option: a|b|c
    return name, strategy, params


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, measure, print a table (and JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--pool-size", type=int, default=None)
    ap.add_argument("--init", type=int, default=20)
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--mc-samples", type=int, default=100)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--variant", action="append", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    configure_threads(args.threads)
    data = load_dataset(args.dataset)
    variants = [parse_variant(v) for v in args.variant]
    rows: list[dict[str, Any]] = []
    for seed in args.seeds:
        pool = pool_indices(len(data.X_train), args.pool_size, seed)
        X, y = data.X_train[pool], data.y_train[pool]
        lab = np.random.default_rng([seed, 2]).choice(len(pool), args.init, replace=False)
        unl = np.setdiff1d(np.arange(len(pool)), lab)

        def learner(round_seed: int) -> TorchClassifier:
            return TorchClassifier(epochs=args.epochs, mc_samples=args.mc_samples,
                                   device="cpu", random_state=round_seed)

        model = learner(seed * 1000).fit(X[lab], y[lab], data.n_classes)
        ev = model.evidence(X[unl], X[lab], y[lab], with_inputs=True)
        for name, strategy, params in variants:
            st = get_strategy(strategy, random_state=seed, **params)
            t0 = time.perf_counter()
            picked = unl[np.asarray(st.select(ev, args.budget))]
            seconds = time.perf_counter() - t0
            _, counts = np.unique(y[picked], return_counts=True)
            grown = np.concatenate([lab, picked])
            acc = float((learner(seed * 1000 + 1).fit(X[grown], y[grown], data.n_classes)
                         .predict(data.X_test) == data.y_test).mean())
            info = st.round_info()
            row = {"seed": seed, "variant": name,
                   "largest_share": float(counts.max() / len(picked)),
                   "classes": len(counts), "accuracy": acc, "seconds": seconds,
                   "weights": info.get("weights")}
            rows.append(row)
            print(f"seed {seed} {name}: largest {row['largest_share']:.2f} classes "
                  f"{row['classes']} acc {acc:.4f} select {seconds:.1f}s", flush=True)
    print("\nmean over seeds (acc - random: paired on the seed):")
    by = {(r["variant"], r["seed"]): r for r in rows}
    for name, _, _ in variants:
        mine = [r for r in rows if r["variant"] == name]
        line = (f"  {name:24s} largest {np.mean([r['largest_share'] for r in mine]):.2f} "
                f"classes {np.mean([r['classes'] for r in mine]):.1f} "
                f"acc {np.mean([r['accuracy'] for r in mine]):.4f}")
        if any(v == "random" for v, _, _ in variants):
            diff = [r["accuracy"] - by[("random", r["seed"])]["accuracy"] for r in mine]
            line += f" (vs random {np.mean(diff):+.4f}, per seed {np.round(diff, 3).tolist()})"
        line += f" select {np.mean([r['seconds'] for r in mine]):.1f}s"
        print(line)
    if args.json:
        write_text_atomic(args.json, json.dumps({"args": vars(args), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
