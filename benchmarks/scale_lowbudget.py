"""The low-budget strategies' large-pool approximations against their exact methods.

TypiClust and Uncertainty Herding (and TCM, through TypiClust) switch to a subset of the pool
above ``exact_max_samples`` (autoal.strategies.subsample), ProbCover to candidate centres
with coverage counted over the whole pool (autoal.strategies.probcover_large). This script
selects with the exact method and with the approximation (``exact_max_samples`` lowered
below the pool's size) on the same pool and compares the objective each optimises, with a
uniform random batch for scale (every ratio is approximate / exact):

* typiclust: the picks' mean typicality in the whole pool (inverse mean distance to the 20
  nearest pool samples; higher is better) and the mean distance of a pool sample to its
  nearest pick or labeled sample (coverage; lower is better);
* uherding: what the batch adds to the uncertainty coverage
  ``(1/N) sum_i U_i max_{s in L u S} k(x_i, s)`` of the labeled set L alone, with the exact
  run's temperature and kernel radius, over the full kernel (higher is better);
* probcover: the share of the pool covered by the delta-balls of the labeled set and the
  batch, with the exact run's delta (higher is better).

    .venv/bin/python benchmarks/scale_lowbudget.py --n 50000 --sample 2500
    .venv/bin/python benchmarks/scale_lowbudget.py --n 50000 --strategies probcover \
        --probcover-density-sample 10000 --probcover-candidates-per-pick 20
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize as unit_rows

from autoal import Evidence
from autoal.strategies import get_strategy
from autoal.strategies.diversity import min_sq_distances
from autoal.strategies.uherding import temperature_scale


def typicality_in_pool(emb: np.ndarray, picks: np.ndarray, k: int = 20) -> float:
    """Mean over the picks of 1 / (mean distance to their k nearest other pool samples)."""
    dist = NearestNeighbors(n_neighbors=k + 1).fit(emb).kneighbors(emb[picks])[0][:, 1:]
    return float(np.mean(1.0 / dist.mean(axis=1)))


def mean_distance_to(emb: np.ndarray, centres: np.ndarray) -> float:
    """Mean distance of each pool sample to its nearest centre."""
    return float(np.sqrt(min_sq_distances(emb, centres)).mean())


def uncertainty_coverage(
    unit: np.ndarray, u: np.ndarray, centres: np.ndarray, sigma: float
) -> float:
    """``(1/N) sum_i u_i max_s exp(-||x_i - s||^2 / sigma^2)`` over unit-length vectors."""
    return float(np.mean(u * np.exp(-min_sq_distances(unit, centres) / sigma**2)))


def ball_coverage(unit: np.ndarray, centres: np.ndarray, delta: float) -> float:
    """Share of the pool strictly within ``delta`` of a centre (unit-length vectors)."""
    return float(np.mean(np.sqrt(min_sq_distances(unit, centres)) < delta))


def compare(
    ev: Evidence, name: str, budget: int, sample: int, seed: int, **approx_params: int
) -> dict:
    """Exact and approximate objectives (and a random batch's) of one strategy; the
    approximation runs with ``exact_max_samples=sample`` and ``approx_params``."""
    emb = np.asarray(ev.embeddings, dtype=np.float64)
    labeled = np.asarray(ev.labeled_embeddings, dtype=np.float64)
    exact_strategy = get_strategy(name, random_state=seed)
    exact = exact_strategy.select(ev, budget)
    approx_strategy = get_strategy(
        name, random_state=seed, exact_max_samples=sample, **approx_params
    )
    approx = approx_strategy.select(ev, budget)
    assert "approximation" in approx_strategy.round_info()
    rand = np.random.default_rng(seed).choice(len(emb), budget, replace=False)
    batches = {"exact": exact, "approx": approx, "random": rand}
    if name == "typiclust":
        values = {
            b: {"typicality": typicality_in_pool(emb, p),
                "mean_distance": mean_distance_to(emb, np.vstack([emb[p], labeled]))}
            for b, p in batches.items()
        }
    elif name == "probcover":
        delta = exact_strategy.round_info()["probcover_delta"]
        unit, lab = unit_rows(emb), unit_rows(labeled)
        values = {b: {"covered": ball_coverage(unit, np.vstack([unit[p], lab]), delta)}
                  for b, p in batches.items()}
    else:  # uherding
        info = exact_strategy.round_info()["uherding"]
        probs = temperature_scale(np.asarray(ev.probs, dtype=np.float64), info["temperature"])
        top2 = np.sort(probs, axis=1)[:, -2:]
        u = 1.0 - (top2[:, 1] - top2[:, 0])
        unit, lab = unit_rows(emb), unit_rows(labeled)
        base = uncertainty_coverage(unit, u, lab, info["sigma"])
        values = {b: {"ucov_gain": uncertainty_coverage(unit, u, np.vstack([unit[p], lab]),
                                                        info["sigma"]) - base}
                  for b, p in batches.items()}
    overlap = len(np.intersect1d(exact, approx)) / budget
    return {"strategy": name, "seed": seed, "n": len(emb), "sample": sample,
            "budget": budget, "values": values, "overlap": overlap}


def pool_evidence(folder: Path, n: int, n_labeled: int) -> Evidence:
    """The first ``n`` rows of a pool written by autoal.scale.write_synthetic_pool."""
    def load(name: str) -> np.ndarray:
        return np.load(folder / f"{name}.npy", mmap_mode="r")
    lab = np.asarray(load("labeled_embeddings")[:n_labeled])
    return Evidence(
        embeddings=np.asarray(load("embeddings")[:n]), probs=np.asarray(load("probs")[:n]),
        labeled_embeddings=lab, labeled_inputs=lab,
        labeled_probs=np.asarray(load("labeled_probs")[:n_labeled]),
        labeled_targets=np.asarray(load("labeled_targets")[:n_labeled]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=2_500, help="exact_max_samples")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--labeled", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--strategies", default="typiclust,uherding")
    parser.add_argument("--probcover-density-sample", type=int, default=10_000)
    parser.add_argument("--probcover-candidates-per-pick", type=int, default=20)
    parser.add_argument("--data-dir", default="/tmp/autoal-scale")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    from autoal.scale import write_synthetic_pool

    folder = Path(args.data_dir) / f"quality-{args.n}"
    if not (folder / "complete").exists():
        write_synthetic_pool(folder, args.n, n_labeled=max(args.labeled, 1))
        (folder / "complete").write_text("ok\n")
    ev = pool_evidence(folder, args.n, args.labeled)
    rows = []
    for name in args.strategies.split(","):
        for seed in range(args.seeds):
            params = {}
            if name == "probcover":
                params = {"density_sample": args.probcover_density_sample,
                          "candidates_per_pick": args.probcover_candidates_per_pick}
            row = compare(ev, name, args.budget, args.sample, seed, **params)
            rows.append(row)
            cells = "  ".join(
                f"{key} {v['exact'][key]:.4g} -> {v['approx'][key]:.4g} "
                f"(x{v['approx'][key] / v['exact'][key]:.3f}; random x"
                f"{v['random'][key] / v['exact'][key]:.3f})"
                for v in [row["values"]] for key in v["exact"]
            )
            print(f"{name:10s} seed {seed}  {cells}  overlap {row['overlap']:.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
