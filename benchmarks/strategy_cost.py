"""Cost of one query round per strategy, on one model state, side by side with entropy.

A round is: train the task model, compute its evidence over the pool, select the batch. The
first two are the same for every strategy that reads the same evidence; this script times
them once, then each strategy's ``select`` (median of ``--repeats``), and reports the round
time relative to entropy's round. Default state: Fashion-MNIST, 1,000 labels, a 20,000-image
pool, a batch of 500 (the mid regime of the benchmark protocol).

    .venv/bin/python benchmarks/strategy_cost.py --threads 1 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from autoal.data import DatasetError, load_dataset
from autoal.features import label_free_features
from autoal.models import DEFAULT_MC_SAMPLES, TorchClassifier, configure_threads, evidence_request
from autoal.strategies import get_strategy

DEFAULT_STRATEGIES = (
    "entropy", "margin", "badge", "coreset", "kmeans",
    "typiclust", "probcover", "uherding", "cluster_margin", "tcm",
)


def main(argv: list[str] | None = None) -> int:
    """Print the table (and write it as JSON); return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--pool", type=int, default=20000)
    parser.add_argument("--labeled", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    if "entropy" not in names:
        names.insert(0, "entropy")  # the reference of every ratio
    threads = configure_threads(args.threads)
    try:
        data = load_dataset(args.dataset)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.labeled + args.pool > len(data.X_train):
        print(f"error: --labeled + --pool exceeds the {len(data.X_train)} training samples",
              file=sys.stderr)
        return 2
    idx = np.random.default_rng(args.seed).permutation(len(data.X_train))
    lab, pool = idx[: args.labeled], idx[args.labeled : args.labeled + args.pool]
    X_lab, y_lab, X_pool = data.X_train[lab], data.y_train[lab], data.X_train[pool]

    t0 = time.perf_counter()
    model = TorchClassifier(epochs=args.epochs, random_state=args.seed)
    model.fit(X_lab, y_lab, data.n_classes)
    t_train = time.perf_counter() - t0
    strategies = {n: get_strategy(n, random_state=args.seed) for n in names}
    request = evidence_request(strategies.values(), mc_samples=DEFAULT_MC_SAMPLES)
    t0 = time.perf_counter()
    evidence = model.evidence(X_pool, X_lab, y_lab, request=request)
    t_evidence = time.perf_counter() - t0
    features = label_free_features(np.concatenate([X_pool, X_lab]), random_state=args.seed)
    evidence = replace(evidence, features=features[: len(pool)],
                       labeled_features=features[len(pool):])

    rows = []
    for name in names:
        times = []
        for _ in range(args.repeats):
            strategy = get_strategy(name, random_state=args.seed)
            t0 = time.perf_counter()
            strategy.select(evidence, args.budget)
            times.append(time.perf_counter() - t0)
        rows.append({"strategy": name, "select_s": statistics.median(times)})
    ref = next(r for r in rows if r["strategy"] == "entropy")["select_s"]
    shared = t_train + t_evidence
    for r in rows:
        r["round_ratio"] = (shared + r["select_s"]) / (shared + ref)

    print(f"# {data.name}: {len(lab)} labels, pool {len(pool)}, budget {args.budget}, "
          f"torch threads {threads}; train {t_train:.1f} s, evidence {t_evidence:.1f} s "
          f"(T = {DEFAULT_MC_SAMPLES}), median of {args.repeats} selects\n")
    print("| strategy | select s | round / entropy's round |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r['strategy']} | {r['select_s']:.2f} | {r['round_ratio']:.2f} |")
    if args.json is not None:
        payload = {"train_s": t_train, "evidence_s": t_evidence, "rows": rows,
                   "settings": vars(args) | {"json": str(args.json)}}
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
