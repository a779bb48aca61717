"""Peak memory of the entry points on your own large pool: `autoal run`'s loop, a campaign
query, and ActiveLearner.query, on a memory-mapped array pool (1M x 128 float32 by default).

The pool is a labelled array folder (X_train.npy: a 10-class Gaussian mixture in 128 d,
y_train.npy, and a 10k test split), written once under --root. Every measurement runs in a
fresh process and reports its seconds and peak RSS (VmHWM); "above pool" is the peak minus
the pool's own array (its file pages count in RSS once read), and includes the interpreter
with numpy, scikit-learn and torch (about 400 MB). Steps:

* run: one round of `run_active_learning` (what `autoal run` and a bench cell do; the
  data set loaded with `load_dataset(folder)`): 1,000 initial labels, a batch of 1,000,
  an MLP trained 1 epoch, the test accuracy;
* campaign-init, campaign-start (the first query: k-means diverse start), campaign-query
  (a query after 1,000 labels in 10 classes: the model scores every unlabeled row);
* learner: `ActiveLearner(TorchClassifier(epochs=1), strategy).fit(...)` on 1,000 rows, then
  `query(np.load(X_train.npy, mmap_mode="r"), 1000)`.

The MC strategies (bald, mean_std, var_ratio, and autoal, whose candidates include them)
draw --mc-samples dropout samples in the run and learner steps (default 10); a campaign
always draws its default 100. A file-backed pool's draws go to a scratch file in TMPDIR
(4 T N C bytes: 4 GB at T = 100, N = 1M, C = 10), not counted in RSS.

    .venv/bin/python benchmarks/scale_entry.py                        # N = 1M (~15 min)
    .venv/bin/python benchmarks/scale_entry.py --n 100000 --strategies margin
    .venv/bin/python benchmarks/scale_entry.py --strategies bald,autoal --mc-samples 100
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

STEPS = ("run", "campaign-init", "campaign-start", "campaign-query", "learner")


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM, kB in /proc/self/status) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def write_pool(root: Path, n: int, seed: int = 0) -> Path:
    """The labelled array folder of ``n`` training rows under ``root``, written once."""
    from autoal.scale import mixture_embeddings

    folder = root / f"pool-{n}"
    if (folder / "complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    X = np.lib.format.open_memmap(folder / "X_train.npy", "w+", np.float32, (n, 128))
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        X[start:stop] = mixture_embeddings(start, stop, random_state=seed)
    X.flush()
    del X
    np.save(folder / "y_train.npy", np.arange(n) % 10)
    np.save(folder / "X_test.npy", mixture_embeddings(n, n + 10000, random_state=seed))
    np.save(folder / "y_test.npy", np.arange(n, n + 10000) % 10)
    (folder / "complete").write_text("ok\n")
    return folder


def step(name: str, folder: Path, strategy: str, work: Path, mc_samples: int = 10) -> dict:
    """Run one step in this process; return what it measured."""
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    out: dict = {}
    if name == "run":
        from autoal.data import load_dataset
        from autoal.loop import LoopConfig, run_active_learning

        data = load_dataset(folder)
        config = LoopConfig(init=1000, budget=1000, rounds=1, epochs=1, mc_samples=mc_samples,
                            device="cpu", model="mlp")
        run = run_active_learning(data, strategy, config, progress=False)
        out["accuracy"] = run["rounds"][-1]["accuracy"]
    elif name.startswith("campaign"):
        from autoal.campaign import Campaign

        where = work / f"campaign-{strategy}"
        if name == "campaign-init":
            import shutil

            shutil.rmtree(where, ignore_errors=True)
            Campaign.init(where, folder / "X_train.npy", [str(k) for k in range(10)],
                          strategy=strategy, model="mlp", epochs=1).close()
        else:
            with Campaign.open(where) as c:
                if name == "campaign-query":
                    y = np.arange(1000) * 997 % len(np.load(folder / "y_train.npy",
                                                            mmap_mode="r"))
                    c.teach({str(i): str(i % 10) for i in y}, relabel=True)
                result = c.query(1000, refresh=True)
                out["method"] = result.method
    elif name == "learner":
        from autoal import ActiveLearner
        from autoal.models import TorchClassifier

        X = np.load(folder / "X_train.npy", mmap_mode="r")
        rows = np.sort(np.arange(1000) * 997 % len(X))  # every class (rows % 10), spread out
        al = ActiveLearner(TorchClassifier(model="mlp", epochs=1, device="cpu"),
                           strategy=strategy, mc_samples=mc_samples)
        y = np.load(folder / "y_train.npy")[rows]
        al.fit(np.asarray(X[rows]), y)
        out["classes"] = len(np.unique(y))
        out["picked"] = len(al.query(X, 1000, exclude=rows))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["peak_mb"] = round(peak_rss_mb())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--strategies", default="margin,kmeans")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--mc-samples", type=int, default=10,
                        help="MC dropout samples T of the run and learner steps")
    parser.add_argument("--root", default="/tmp/autoal-scale-entry")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--one", nargs=3, metavar=("STEP", "FOLDER", "STRATEGY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = Path(args.root)
    if args.one:
        name, folder, strategy = args.one
        print(json.dumps(step(name, Path(folder), strategy, root, args.mc_samples)))
        return
    folder = write_pool(root, args.n)
    pool_mb = (folder / "X_train.npy").stat().st_size / 2**20
    print(f"pool {folder}/X_train.npy: {args.n} x 128 float32, {pool_mb:.0f} MB")
    results = []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for strategy in args.strategies.split(","):
        for name in args.steps.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--root", str(root), "--mc-samples",
                 str(args.mc_samples), "--one", name, str(folder), strategy],
                capture_output=True, text=True, env=env, check=False)
            if proc.returncode != 0:
                print(f"{strategy:8s} {name:15s} FAILED\n{proc.stderr[-2000:]}")
                continue
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            res.update(strategy=strategy, step=name, mc_samples=args.mc_samples,
                       above_pool_mb=round(res["peak_mb"] - pool_mb))
            results.append(res)
            print(f"{strategy:8s} {name:15s} {res['seconds']:7.1f} s  peak {res['peak_mb']:6d} MB"
                  f"  above pool {res['above_pool_mb']:5d} MB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"n": args.n, "pool_mb": round(pool_mb),
                                               "mc_samples": args.mc_samples,
                                               "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
