"""Sharded selection: two-stage quality against one machine, and Ray scaling 1 -> 2 workers.

Quality (no Ray needed; the shards are scored one after another in this process, the same
computation the Ray actors do): on a synthetic pool of --n samples split into --shards
shards, each diversity strategy's two-stage batch is compared with the one-machine batch
on the objective the strategy optimises (k-center radius for coreset, mean squared
distance to the batch for kmeans, k-means++ potential in gradient space for badge; lower
is better for all three) and on the overlap of the picks.

Scaling (--ray; Ray binds to the machine's interface, so on a shared machine run this inside
a loopback-only network namespace: `unshare -n sh -c 'ip link set lo up; ...'`): the wall
time of a sharded margin/bald selection on a local cluster with one, then two, 1-CPU
worker nodes.

    .venv/bin/python benchmarks/scale_sharded.py --n 100000 --shards 4
    unshare -n sh -c 'ip link set lo up; .venv/bin/python benchmarks/scale_sharded.py --ray'
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from autoal import Evidence
from autoal.scale import synthetic_head, write_synthetic_pool
from autoal.scale.sharded import sharded_select
from autoal.scale.shards import write_shards
from autoal.strategies import get_strategy
from autoal.strategies.badge import _grad_sq_dist_to_seeds
from autoal.strategies.diversity import min_sq_distances


def objective(ev: Evidence, name: str, picks: np.ndarray) -> float:
    emb = ev.embeddings
    if name == "coreset":
        centres = np.vstack([np.asarray(emb[np.sort(picks)]), ev.labeled_embeddings])
        return float(np.sqrt(min_sq_distances(emb, centres).max()))
    if name == "kmeans":
        return float(min_sq_distances(emb, np.asarray(emb[np.sort(picks)])).mean())
    return float(_grad_sq_dist_to_seeds(ev, picks).sum())


def quality(folder: Path, n: int, shards: int, budget: int, names: list[str]) -> None:
    paths = write_synthetic_pool(folder / "pool", n)
    emb = np.load(paths["embeddings"], mmap_mode="r")
    labeled = np.load(paths["labeled_embeddings"])
    pool = write_shards(emb, folder / "shards", shards)
    ev = Evidence(embeddings=emb, probs=np.load(paths["probs"]), labeled_embeddings=labeled)
    head = synthetic_head()
    print(f"two-stage vs one machine: N={n:,}, {shards} shards, budget {budget}")
    print("| strategy | one machine | two-stage | ratio | overlap | seconds (one / two-stage) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        t0 = time.perf_counter()
        single = get_strategy(name, random_state=0).select(ev, budget)
        t1 = time.perf_counter()
        two = sharded_select(
            pool, head, name, budget, labeled_embeddings=labeled, use_ray=False
        )
        t2 = time.perf_counter()
        a, b = objective(ev, name, single), objective(ev, name, two)
        overlap = len(np.intersect1d(single, two)) / budget
        print(f"| {name} | {a:.4g} | {b:.4g} | {b / a:.3f} | {overlap:.2f} | "
              f"{t1 - t0:.1f} / {t2 - t1:.1f} |", flush=True)


def ray_scaling(folder: Path, n: int, shards: int, budget: int) -> None:
    import ray
    from ray.cluster_utils import Cluster

    paths = write_synthetic_pool(folder / "pool", n)
    pool = write_shards(np.load(paths["embeddings"], mmap_mode="r"), folder / "shards", shards)
    head = synthetic_head()
    print(f"sharded scoring on Ray: N={n:,}, {shards} shards, budget {budget}")
    for workers in (1, 2):
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
        for _ in range(workers):
            cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=False)
        cluster.wait_for_nodes()
        for name in ("margin", "bald"):
            t0 = time.perf_counter()
            sharded_select(pool, head, name, budget)
            print(f"  {workers} worker(s) {name}: {time.perf_counter() - t0:.2f} s", flush=True)
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--strategies", default="coreset,kmeans,badge")
    parser.add_argument("--data-dir", default="/tmp/autoal-scale-sharded")
    parser.add_argument("--ray", action="store_true", help="measure Ray scaling instead")
    args = parser.parse_args()
    folder = Path(args.data_dir) / f"n{args.n}-s{args.shards}"
    if args.ray:
        ray_scaling(folder, args.n, args.shards, args.budget)
    else:
        quality(folder, args.n, args.shards, args.budget, args.strategies.split(","))


if __name__ == "__main__":
    main()
