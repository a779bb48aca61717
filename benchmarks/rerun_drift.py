"""How far do two runs of the same benchmark cell drift apart?

Pairs the run files of two ``autoal bench`` output folders by cell name, keeps the pairs that
describe the same computation (the same strategy, data source and ``config``: protocol, seed
and strategy options, and the strategy's resolved ``parameters`` where both files record them;
reporting extras such as ``mc_overlap`` may differ), and reports per pair the AUBC difference,
the first round whose queried set differs and the first round whose accuracy differs. A cell
run twice on one machine gives identical results; on another machine the CNN's convolutions
can round differently, and a small change early in a run can grow.
The spread of these differences is a floor under the seed-to-seed noise of any comparison.

    python benchmarks/rerun_drift.py results/select results/paper-cpu
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


class NotABenchRun(ValueError):
    """A file under runs/ that is not an ``autoal bench`` run file."""


def _load(folder: Path) -> dict[str, dict[str, Any]]:
    runs = {}
    for path in sorted((folder / "runs").glob("*.json")):
        try:
            run = json.loads(path.read_text())
            runs[run["bench"]["cell"]] = run
        except (ValueError, KeyError, TypeError) as err:
            raise NotABenchRun(f"{path} is not a bench run file ({err!r})") from None
    return runs


def _first_difference(a: list[Any], b: list[Any]) -> int | None:
    """Index of the first position where the two lists differ (or one ends), else None."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The drift between two runs of one cell."""
    queried_a = [sorted(r["queried"]) for r in a["rounds"]]
    queried_b = [sorted(r["queried"]) for r in b["rounds"]]
    return {
        "cell": a["bench"]["cell"],
        "aubc_a": float(a["aubc"]),
        "aubc_b": float(b["aubc"]),
        "aubc_difference": float(b["aubc"]) - float(a["aubc"]),
        "first_round_queried_differs": _first_difference(queried_a, queried_b),
        "first_round_accuracy_differs": _first_difference(
            [r["accuracy"] for r in a["rounds"]], [r["accuracy"] for r in b["rounds"]]
        ),
    }


def same_computation(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two run files describe the same computation (timings and extras aside)."""
    def key(run: dict[str, Any]) -> tuple[Any, ...]:
        bench = run["bench"]
        config = json.dumps(run.get("config"), sort_keys=True)
        return bench.get("strategy"), bench.get("source"), config

    if key(a) != key(b):
        return False
    # Older files lack the resolved strategy parameters (e.g. what a preset meant then), or
    # record some as plain parameters that presets fix now: compared in one form.
    pa, pb = a["bench"].get("parameters"), b["bench"].get("parameters")
    return pa is None or pb is None or canonical_parameters(pa) == canonical_parameters(pb)


def drift(folder_a: Path, folder_b: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every cell present in both folders as the same computation, compared; and the cells
    present in both under the same name that are other computations."""
    runs_a, runs_b = _load(folder_a), _load(folder_b)
    rows, other = [], []
    for cell in sorted(set(runs_a) & set(runs_b)):
        if same_computation(runs_a[cell], runs_b[cell]):
            rows.append(compare(runs_a[cell], runs_b[cell]))
        else:
            other.append(cell)
    return rows, other


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
    try:
        rows, other = drift(args.folder_a, args.folder_b)
    except NotABenchRun as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        write_json_atomic(args.json, {"rows": rows, "other_computations": other})
    if other:
        print(f"{len(other)} cell(s) with the same name are other computations, left out: "
              f"{', '.join(other)}")
    if not rows:
        print("no cell is the same computation in both folders")
        return 0
    print("| cell | AUBC a | AUBC b | b − a | queried differ from round | accuracy differs "
          "from round |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        q = r["first_round_queried_differs"]
        acc = r["first_round_accuracy_differs"]
        print(f"| {r['cell']} | {r['aubc_a']:.4f} | {r['aubc_b']:.4f} | "
              f"{r['aubc_difference']:+.4f} | {'—' if q is None else q} | "
              f"{'—' if acc is None else acc} |")
    diffs = np.abs([r["aubc_difference"] for r in rows])
    identical = sum(r["first_round_accuracy_differs"] is None for r in rows)
    print(f"\n{len(rows)} cell(s) in both; {identical} identical; |AUBC difference| mean "
          f"{diffs.mean():.4f}, max {diffs.max():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
