"""The same benchmark cells on two devices: time and whether the results stay in the noise.

Pairs each cell of folder B (e.g. ``results/gpu``, run on CUDA) with the cells of folder A
(e.g. ``results/paper-cpu``) that have the same data set, regime and variant and the same
settings except the device. Per cell of B it reports A's wall time on the same seed, B's, the
speed-up, B's AUBC next to A's mean +- std over all of A's seeds, and B's distance from that
mean in A's standard deviations, and then where the time goes: each timed part of a round
(``rounds[].seconds``: train, evidence, score, search, ...) as a mean over rounds >= 1, A's
same seed beside B's. Kernels differ between devices, so results are not expected to match
A's same seed exactly; a device path that is right lands within A's seed spread.

    python benchmarks/device_compare.py results/paper-cpu results/gpu
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from autoal.bench.resume import canonical_parameters
from autoal.io import write_json_atomic
from autoal.report import load_runs


def phase_seconds(run: dict[str, Any]) -> dict[str, float]:
    """Mean over rounds >= 1 of each timed part of a round (``rounds[].seconds``)."""
    rounds = [r.get("seconds", {}) for r in run["rounds"][1:]]
    parts = sorted({k for r in rounds for k in r})
    return {k: float(np.mean([r.get(k, 0.0) for r in rounds])) for k in parts}


def _key(run: dict[str, Any]) -> tuple[Any, ...]:
    """What must agree for two cells to be the same computation on another device."""
    bench = run["bench"]
    config = {k: v for k, v in run["config"].items() if k not in ("device", "seed")}
    parameters = {k: v for k, v in (canonical_parameters(bench.get("parameters")) or {}).items()
                  if k != "random_state"}
    return (bench["dataset"], bench["regime"], bench["variant"], bench.get("strategy"),
            bench.get("source"), json.dumps(config, sort_keys=True),
            json.dumps(parameters, sort_keys=True))


def compare(folder_a: Path, folder_b: Path) -> list[dict[str, Any]]:
    """One row per cell of B that has matching cells in A."""
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for run in load_runs(folder_a):
        by_key.setdefault(_key(run), []).append(run)
    rows = []
    for run in load_runs(folder_b):
        same = by_key.get(_key(run), [])
        if not same:
            continue
        seed = run["bench"]["seed"]
        same_seed = [r for r in same if r["bench"]["seed"] == seed]
        aubcs = np.array([float(r["aubc"]) for r in same])
        std = float(aubcs.std(ddof=1)) if len(aubcs) > 1 else None
        wall_a = float(same_seed[0]["bench"]["wall_seconds"]) if same_seed else None
        wall_b = float(run["bench"]["wall_seconds"])
        aubc_b = float(run["aubc"])
        rows.append({
            "cell": run["bench"]["cell"],
            "device_a": same[0]["config"].get("device"),
            "device_b": run["config"].get("device"),
            "wall_a": wall_a,
            "wall_b": wall_b,
            "speedup": wall_a / wall_b if wall_a is not None and wall_b > 0 else None,
            "aubc_b": aubc_b,
            "aubc_a_same_seed": float(same_seed[0]["aubc"]) if same_seed else None,
            "aubc_a_mean": float(aubcs.mean()),
            "aubc_a_std": std,
            "seeds_a": len(aubcs),
            "z": (aubc_b - float(aubcs.mean())) / std if std else None,
            "phases_a": phase_seconds(same_seed[0]) if same_seed else None,
            "phases_b": phase_seconds(run),
        })
    return rows


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder_a", type=Path)
    parser.add_argument("folder_b", type=Path)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    for folder in (args.folder_a, args.folder_b):
        if not (folder / "runs").is_dir():
            print(f"error: {folder} has no runs/ folder", file=sys.stderr)
            return 2
    rows = compare(args.folder_a, args.folder_b)
    if args.json:
        write_json_atomic(args.json, {"rows": rows})
    if not rows:
        print("no cell of the second folder matches a cell of the first")
        return 0
    print("| cell | wall a (s) | wall b (s) | a / b | AUBC b | AUBC a, same seed | "
          "AUBC a, mean ± std (seeds) | (b − mean) / std |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        spread = f"{r['aubc_a_mean']:.4f} ± {_fmt(r['aubc_a_std'], '.4f')} ({r['seeds_a']})"
        print(f"| {r['cell']} | {_fmt(r['wall_a'], '.0f')} | {r['wall_b']:.0f} | "
              f"{_fmt(r['speedup'], '.1f')} | {r['aubc_b']:.4f} | "
              f"{_fmt(r['aubc_a_same_seed'], '.4f')} | {spread} | {_fmt(r['z'], '+.1f')} |")
    total_a = sum(r["wall_a"] for r in rows if r["wall_a"] is not None)
    total_b = sum(r["wall_b"] for r in rows if r["wall_a"] is not None)
    zs = [abs(r["z"]) for r in rows if r["z"] is not None]
    print(f"\n{len(rows)} cell(s) matched ({rows[0]['device_a']} vs {rows[0]['device_b']}); "
          f"wall time of the cells with a same-seed match: {total_a:.0f} s vs {total_b:.0f} s"
          + (f"; |z| median {np.median(zs):.1f}, max {max(zs):.1f}" if zs else ""))
    print("\nSeconds per round by part (mean over rounds >= 1), a (same seed) / b:\n")
    parts = sorted({k for r in rows for k in r["phases_b"]})
    print("| cell | " + " | ".join(parts) + " |")
    print("|---|" + "---:|" * len(parts))
    for r in rows:
        pa, pb = r["phases_a"] or {}, r["phases_b"]
        cells = [f"{_fmt(pa.get(k), '.1f')} / {_fmt(pb.get(k), '.1f')}" if k in pb else "—"
                 for k in parts]
        print(f"| {r['cell']} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
