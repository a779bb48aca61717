"""The two compact tables of docs/RESULTS.md 6b, from a bench folder's run files.

    python benchmarks/anchor_tables.py results/paper-cpu-v2 --ref margin --variants \\
        typiclust,typiclust-features,probcover,uherding,tcm,badge,random

1. Each variant's mean paired AUBC difference to ``--ref`` per (data set, regime), with the
   number of seeds both ran in brackets; with ``--intervals``, its paired bootstrap 95 %
   interval too (as ``paired_table.py``).
2. The first batch (``--round``, default 1): the share of the batch in its largest class,
   mean over the variant's seeds (``batch_classes.py``), and the accuracy after that round
   minus random's, mean over the seeds both ran (``run_facts.py ... accuracy V random``);
   random's own share first.

``--no-first-batch`` prints the first table only. Exit status 2 on a folder without run
files or a name that ran nowhere.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _script(name: str) -> dict[str, Any]:
    return runpy.run_path(str(HERE / name), run_name="not_main")


def minus_ref_table(folder: Path, variants: list[str], ref: str,
                    intervals: bool = False) -> list[str]:
    """Markdown rows: ``variant | +0.0123 (n) | ...`` per group (``intervals``:
    ``+0.0123 [+0.0040, +0.0200] (n)``)."""
    table = _script("paired_table.py")
    cells = table["aubc_by_group"](folder)
    groups = sorted(cells)
    lines = [f"| variant minus {ref} | " + " | ".join(f"{d} {r}" for d, r in groups) + " |",
             "|---|" + "---:|" * len(groups)]
    for v in variants:
        row = []
        for g in groups:
            result = table["paired"](cells[g].get(v, {}), cells[g].get(ref, {}))
            if result is None:
                row.append("-")
            else:
                diff = result.format() if intervals else f"{result.diff:+.4f}"
                row.append(f"{diff} ({result.n})")
        lines.append(f"| {v} | " + " | ".join(row) + " |")
    return lines


def first_batch_table(folder: Path, runs: dict[Any, Any], variants: list[str],
                      rnd: int) -> list[str]:
    """Markdown rows: ``variant | share, accuracy - random's | ...`` per group (``runs``:
    ``run_facts.load``'s run files by data set, regime, variant and seed)."""
    share = {(r["variant"], r["dataset"], r["regime"]): r["largest_class_share"]
             for r in _script("batch_classes.py")["collect"](folder, rnd)}
    facts = _script("run_facts.py")
    groups = sorted({(d, r) for (_, d, r) in share})
    lines = ["| variant | " + " | ".join(f"{d} {r}" for d, r in groups) + " |",
             "|---|" + "---:|" * len(groups)]
    for v in ["random", *[v for v in variants if v != "random"]]:
        means = {} if v == "random" else facts["group_means"](
            facts["round_accuracy"](runs, v, "random", rnd))
        row = []
        for g in groups:
            s = share.get((v, *g))
            text = "-" if s is None else f"{s:.2f}"
            if g in means:
                text += f", {means[g]:+.3f}"
            row.append(text)
        lines.append(f"| {v} | " + " | ".join(row) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--variants", required=True, help="comma-separated variant names")
    parser.add_argument("--ref", default="margin")
    parser.add_argument("--round", type=int, default=1, dest="rnd")
    parser.add_argument("--intervals", action="store_true",
                        help="add each difference's paired bootstrap 95 %% interval")
    parser.add_argument("--no-first-batch", action="store_true",
                        help="print the differences' table only")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    if args.rnd < 1:
        print(f"error: --round must be 1 or more (a queried batch), got {args.rnd}",
              file=sys.stderr)
        return 2
    runs = _script("run_facts.py")["load"](args.folder) if (args.folder / "runs").is_dir() else {}
    if not runs:
        print(f"error: {args.folder} holds no run files", file=sys.stderr)
        return 2
    present = {variant for (_, _, variant, _) in runs}
    missing = [v for v in [*variants, args.ref, "random"] if v not in present]
    if missing:
        print(f"error: no runs of {', '.join(missing)} in {args.folder}", file=sys.stderr)
        return 2
    print("\n".join(minus_ref_table(args.folder, variants, args.ref, args.intervals)))
    if args.no_first_batch:
        return 0
    print()
    print("\n".join(first_batch_table(args.folder, runs, variants, args.rnd)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
