"""Cost of one query round per strategy, on one model state, side by side with entropy.

A round is: train the task model, compute its evidence over the pool, select the batch. The
first two are the same for every strategy that reads the same evidence; this script trains
once, times the evidence once per distinct evidence request (entropy's round computes no MC
samples; AutoAL's does; after a warm-up pass, median of ``--repeats``), then each strategy's
``select`` (median of ``--repeats``), and reports the round time relative to entropy's round.
Default state: Fashion-MNIST, 1,000 labels, a 20,000-image pool, a batch of 500 (the mid
regime of the benchmark protocol).

    .venv/bin/python benchmarks/strategy_cost.py --threads 1 [--json out.json]
    .venv/bin/python benchmarks/strategy_cost.py --strategies entropy \\
        --variant 'v2=autoal:weights="global",search="shrinkage",batch="kmeanspp"'

``--variant NAME=STRATEGY[:key=value,...]`` adds a configured strategy (the syntax of
``benchmarks/first_batch.py``); ``--profile NAME`` writes a cProfile of that row's selects.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from autoal.data import DatasetError, load_dataset
from autoal.features import label_free_features
from autoal.models import DEFAULT_MC_SAMPLES, TorchClassifier, configure_threads, evidence_request
from autoal.strategies import get_strategy
from autoal.strategies.base import QueryStrategy

DEFAULT_STRATEGIES = (
    "entropy", "margin", "badge", "coreset", "kmeans",
    "typiclust", "probcover", "uherding", "cluster_margin", "tcm",
)


def parse_variant(text: str) -> tuple[str, str, dict[str, Any]]:
    """``NAME=STRATEGY[:key=value,...]`` -> (name, strategy, params), as first_batch.py
    reads it; ``NAME=`` alone names the strategy ``NAME``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from first_batch import parse_variant as parse
    finally:
        sys.path.pop(0)
    name, strategy, params = parse(text)
    return name, strategy or name, params


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
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME=STRATEGY[:key=value,...]: a configured strategy as one row")
    parser.add_argument("--profile", default=None,
                        help="Row name whose selects are profiled (cProfile, to --profile-out)")
    parser.add_argument("--profile-out", type=Path, default=Path("strategy_cost.prof"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    specs = [(n.strip(), n.strip(), {}) for n in args.strategies.split(",") if n.strip()]
    specs += [parse_variant(v) for v in args.variant]
    if "entropy" not in [name for name, _, _ in specs]:
        specs.insert(0, ("entropy", "entropy", {}))  # the reference of every ratio
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
    def build(name: str, params: dict[str, Any]) -> QueryStrategy:
        return get_strategy(name, random_state=args.seed, **params)

    features = label_free_features(np.concatenate([X_pool, X_lab]), random_state=args.seed)
    model.evidence(X_pool[:256], X_lab, y_lab)  # warm-up: the first pass pays one-time costs
    evidence_cache: dict[str, tuple[Any, float]] = {}  # per distinct request: (evidence, s)
    profiler = cProfile.Profile() if args.profile else None
    rows = []
    for name, strategy_name, params in specs:
        request = evidence_request(build(strategy_name, params), mc_samples=DEFAULT_MC_SAMPLES)
        if repr(request) not in evidence_cache:
            passes = []
            for _ in range(args.repeats):  # median, like the selects
                t0 = time.perf_counter()
                evidence = model.evidence(X_pool, X_lab, y_lab, request=request)
                passes.append(time.perf_counter() - t0)
            seconds = statistics.median(passes)
            evidence = replace(evidence, features=features[: len(pool)],
                               labeled_features=features[len(pool):])
            evidence_cache[repr(request)] = (evidence, seconds)
        evidence, t_evidence = evidence_cache[repr(request)]
        times = []
        for _ in range(args.repeats):
            strategy = build(strategy_name, params)
            if profiler is not None and name == args.profile:
                profiler.enable()
            t0 = time.perf_counter()
            strategy.select(evidence, args.budget)
            times.append(time.perf_counter() - t0)
            if profiler is not None and name == args.profile:
                profiler.disable()
        rows.append({"strategy": name, "select_s": statistics.median(times),
                     "evidence_s": t_evidence, "select_each_s": times,
                     "parameters": params})
    ref = next(r for r in rows if r["strategy"] == "entropy")
    for r in rows:
        r["round_ratio"] = ((t_train + r["evidence_s"] + r["select_s"])
                            / (t_train + ref["evidence_s"] + ref["select_s"]))

    print(f"# {data.name}: {len(lab)} labels, pool {len(pool)}, budget {args.budget}, "
          f"torch threads {threads}; train {t_train:.1f} s, median of {args.repeats} selects "
          f"(T = {DEFAULT_MC_SAMPLES} where MC samples are read)\n")
    print("| strategy | evidence s | select s | round / entropy's round |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['strategy']} | {r['evidence_s']:.2f} | {r['select_s']:.2f} | "
              f"{r['round_ratio']:.2f} |")
    if profiler is not None:
        profiler.dump_stats(str(args.profile_out))
        print(f"\nprofile of {args.profile}'s selects: {args.profile_out}")
    if args.json is not None:
        payload = {"train_s": t_train, "rows": rows,
                   "settings": vars(args) | {"json": str(args.json),
                                             "profile_out": str(args.profile_out)}}
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
