"""How balanced are the batches a strategy queried? Class make-up of a bench folder's batches.

Per (data set, regime, variant) of an ``autoal bench`` output folder: the share of the
round-R batch that falls in its most frequent class and the number of classes the batch
covers, mean over seeds (the run files keep the queried pool indices; the labels come from
the data set, which is loaded again). A balanced batch of b samples over C classes has a
largest-class share near 1/C. ``--round 0`` gives all rounds >= 1 averaged instead.

    python benchmarks/batch_classes.py results/paper-cpu --round 1
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from autoal.data import load_dataset
from autoal.io import write_json_atomic
from autoal.loop.runner import pool_indices
from autoal.report import load_runs


def batch_stats(labels: np.ndarray) -> tuple[float, int]:
    """``(largest-class share, number of classes)`` of one batch's labels."""
    _, counts = np.unique(labels, return_counts=True)
    return float(counts.max() / counts.sum()), int(len(counts))


@cache
def _train_labels(source: str) -> np.ndarray:
    return load_dataset(source).y_train


def _pool_labels(bench: dict[str, Any]) -> np.ndarray:
    """The labels of the cell's pool, in the order its ``queried`` indices refer to."""
    y = _train_labels(bench["source"])
    return y[pool_indices(len(y), bench.get("settings", {}).get("pool_size"), int(bench["seed"]))]


def collect(folder: Path, rnd: int) -> list[dict[str, Any]]:
    """One row per (data set, regime, variant): mean largest-class share and class count."""
    groups: dict[tuple[str, str, str], list[tuple[float, int]]] = defaultdict(list)
    for run in load_runs(folder):
        bench = run["bench"]
        y_pool = _pool_labels(bench)
        rounds = run["rounds"][1:] if rnd == 0 else run["rounds"][rnd:rnd + 1]
        for r in rounds:
            groups[(bench["dataset"], bench["regime"], bench["variant"])].append(
                batch_stats(y_pool[np.asarray(r["queried"], dtype=np.int64)]))
    rows = []
    for (ds, rg, variant), stats in sorted(groups.items()):
        shares, classes = zip(*stats, strict=True)
        rows.append({"dataset": ds, "regime": rg, "variant": variant, "batches": len(stats),
                     "largest_class_share": float(np.mean(shares)),
                     "classes": float(np.mean(classes))})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--round", type=int, default=1,
                        help="the round whose batch to read (0: every round >= 1)")
    parser.add_argument("--variants", nargs="*", help="only these variants")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    if not (args.folder / "runs").is_dir():
        print(f"error: {args.folder} has no runs/ folder", file=sys.stderr)
        return 2
    if args.round < 0:
        print(f"error: --round must be >= 0, got {args.round}", file=sys.stderr)
        return 2
    rows = collect(args.folder, args.round)
    if args.variants:
        rows = [r for r in rows if r["variant"] in args.variants]
    if args.json:
        write_json_atomic(args.json, {"round": args.round, "rows": rows})
    groups = sorted({(r["dataset"], r["regime"]) for r in rows})
    variants = sorted({r["variant"] for r in rows})
    by = {(r["dataset"], r["regime"], r["variant"]): r for r in rows}
    what = "every round >= 1" if args.round == 0 else f"round {args.round}"
    print(f"Largest-class share of the batch ({what}; classes covered in brackets), mean "
          "over seeds:\n")
    print("| variant | " + " | ".join(f"{d} / {g}" for d, g in groups) + " |")
    print("|---|" + "---:|" * len(groups))
    for v in variants:
        cells = []
        for d, g in groups:
            r = by.get((d, g, v))
            cells.append("—" if r is None else
                         f"{r['largest_class_share']:.2f} ({r['classes']:.1f})")
        print(f"| {v} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
