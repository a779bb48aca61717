"""Cost of a round's evidence and of the seven AutoAL candidates' scores vs. a bare forward pass.

Target (issue 2): at T=10, evidence + all seven candidate scores cost at most 1.3x one bare
forward pass over the pool, plus k-means. Also reports the default T, and how stable the MC
strategies' rankings are: the top-b overlap between two independent MC draws.

    .venv/bin/python benchmarks/evidence_cost.py [--dataset fashion-mnist] [--pool 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from autoal import Evidence
from autoal.data import DatasetError, load_dataset
from autoal.models import DEFAULT_MC_SAMPLES, EvidenceRequest, TorchClassifier, configure_threads
from autoal.strategies import PAPER_CANDIDATES, get_strategy


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def top_overlap(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Fraction of the top-k of score ``a`` that is also in the top-k of score ``b``."""
    return len(np.intersect1d(np.argsort(-a)[:k], np.argsort(-b)[:k])) / k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--pool", type=int, default=20000)
    parser.add_argument("--labeled", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: cores)")
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    try:
        data = load_dataset(args.dataset)
    except DatasetError as err:
        print(f"{args.dataset} unavailable ({err}); using digits")
        data = load_dataset("digits")
    rng = np.random.default_rng(args.seed)
    idx = rng.permutation(len(data.X_train))
    lab = idx[: args.labeled]
    pool = idx[args.labeled : args.labeled + args.pool]
    X_lab, y_lab, X_pool = data.X_train[lab], data.y_train[lab], data.X_train[pool]
    model = TorchClassifier(epochs=5, random_state=args.seed).fit(X_lab, y_lab, data.n_classes)

    t_fwd, _ = timed(lambda: model.predict_proba(X_pool), args.repeats)
    print(f"# {data.name}: pool {len(X_pool)}, labeled {len(lab)}, budget {args.budget}, "
          f"torch threads {threads}, model {type(model.net_).__name__}")
    print(f"bare forward pass over the pool: {t_fwd:.3f} s\n")
    print("| T | evidence s | 6 candidate scores s | (evidence+scores)/forward | "
          "k-means s | target: <= 1.3x forward + k-means |")
    print("|---|---|---|---|---|---|")
    for T in sorted({10, DEFAULT_MC_SAMPLES}):
        request = EvidenceRequest(mc_samples=T)
        t_ev, ev = timed(lambda r=request: model.evidence(X_pool, X_lab, request=r), args.repeats)
        t_scores = 0.0
        for name in PAPER_CANDIDATES:
            if name == "kmeans":
                continue
            t, _ = timed(lambda name=name, ev=ev: get_strategy(name).score(ev), args.repeats)
            t_scores += t
        t_km, _ = timed(
            lambda ev=ev: get_strategy("kmeans", random_state=0).score(ev, budget=args.budget),
            1,
        )
        ratio = (t_ev + t_scores) / t_fwd
        ok = t_ev + t_scores + t_km <= 1.3 * t_fwd + t_km
        print(f"| {T} | {t_ev:.3f} | {t_scores:.3f} | {ratio:.2f} | {t_km:.3f} | "
              f"{'met' if ok else 'missed'} |")

    print("\nTop-b overlap of two independent MC draws (same model, different dropout masks):\n")
    print("| T | var_ratio | mean_std | bald |")
    print("|---|---|---|---|")
    emb = model.embed(X_pool)
    for T in sorted({10, 50, DEFAULT_MC_SAMPLES}):
        draws = []
        for seed in (101, 202):
            model.random_state = seed  # the MC generator is seeded from random_state
            draws.append(model.mc_probs_from_embeddings(emb, T))
        model.random_state = args.seed
        cells = []
        for name in ("var_ratio", "mean_std", "bald"):
            a = get_strategy(name).score(Evidence(mc_probs=draws[0]))
            b = get_strategy(name).score(Evidence(mc_probs=draws[1]))
            a = a + 1e-9 * rng.random(len(a))  # ties (var_ratio) broken at random
            b = b + 1e-9 * rng.random(len(b))
            cells.append(f"{top_overlap(a, b, args.budget):.2f}")
        print(f"| {T} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
