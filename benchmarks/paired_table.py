"""Chosen variants against reference strategies, per group, as paired AUBC differences.

Per (data set, regime) of an ``autoal bench`` output folder: for every variant named with
``--variants`` (default: every variant of the folder that is not a reference), its mean AUBC
and, against each reference (``--refs``, default margin, badge, random), the mean paired
AUBC difference over the seeds both ran with its paired bootstrap 95 % interval and the
seeds on which the variant was lower / higher. A last row per group names the variant best
in hindsight (highest mean AUBC among the variants with the group's full seed count).
Variants or references that ran on fewer seeds than the group's largest count are marked
``(n seeds)`` so partial results are never read as final.

    python benchmarks/paired_table.py results/paper-cpu-v2 \\
        --variants typiclust,probcover,uherding,cluster_margin,tcm --refs margin,badge,random

Exit status 2 on a folder without run files or a variant that ran nowhere.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from autoal.report import load_runs
from autoal.report.stats import BootstrapResult, paired_bootstrap

#: References of the table unless ``--refs`` says otherwise.
DEFAULT_REFS = ("margin", "badge", "random")

Cells = dict[tuple[str, str], dict[str, dict[int, float]]]


def aubc_by_group(folder: Path) -> Cells:
    """``{(data set, regime): {variant: {seed: AUBC}}}`` from a bench folder's run files."""
    cells: Cells = defaultdict(lambda: defaultdict(dict))
    for run in load_runs(folder):
        meta = run["bench"]
        cells[(meta["dataset"], meta["regime"])][meta["variant"]][int(meta["seed"])] = float(
            run["aubc"])
    return cells


def paired(a: dict[int, float], b: dict[int, float]) -> BootstrapResult | None:
    """``a`` minus ``b`` over the seeds both ran (paired bootstrap), None if they share none;
    the result's ``n`` is the number of seeds."""
    common = sorted(set(a) & set(b))
    if not common:
        return None
    return paired_bootstrap([a[s] for s in common], [b[s] for s in common])


def compare(a: dict[int, float], b: dict[int, float]) -> str:
    """``"+0.0123 [+0.0040, +0.0200] 1↓ 4↑"`` over the seeds both ran, ``"-"`` if none."""
    result = paired(a, b)
    return "-" if result is None else f"{result.format()} {result.signs()}"


def best_in_hindsight(variants: dict[str, dict[int, float]]) -> tuple[str, float] | None:
    """The variant with the highest mean AUBC among those with the group's full seed count."""
    full = max((len(s) for s in variants.values()), default=0)
    complete = {v: float(np.mean(list(s.values()))) for v, s in variants.items()
                if len(s) == full and full > 0}
    if not complete:
        return None
    name = max(sorted(complete), key=lambda v: complete[v])
    return name, complete[name]


def table(cells: Cells, variants: list[str] | None, refs: list[str]) -> str:
    """The Markdown tables, one per group (groups without any chosen variant are left out)."""
    lines: list[str] = []
    for (dataset, regime) in sorted(cells):
        group = cells[(dataset, regime)]
        full = max(len(s) for s in group.values())
        chosen = [v for v in (variants or sorted(v for v in group if v not in refs))
                  if v in group]
        if not chosen:
            continue
        def label(name: str, group: dict[str, dict[int, float]] = group,
                  full: int = full) -> str:
            n = len(group[name])
            return name if n == full else f"{name} ({n} seeds)"

        present = [r for r in refs if r in group]
        lines += ["", f"#### {dataset} / {regime} ({full} seeds)", "",
                  "| variant | mean AUBC | " + " | ".join(f"minus {label(r)}" for r in present)
                  + " |", "|---|---|" + "---|" * len(present)]
        for v in chosen:
            mean = float(np.mean(list(group[v].values())))
            diffs = [compare(group[v], group[r]) for r in present]
            lines.append(f"| {label(v)} | {mean:.4f} | " + " | ".join(diffs) + " |")
        best = best_in_hindsight(group)
        if best is not None:
            lines.append(f"\nBest in hindsight (mean AUBC over {full} seeds): "
                         f"**{best[0]}** {best[1]:.4f}.")
    return "\n".join(lines).lstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the tables; exit status 2 on unusable input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--variants", default="", help="comma-separated (default: all)")
    parser.add_argument("--refs", default=",".join(DEFAULT_REFS), help="comma-separated")
    args = parser.parse_args(argv)
    cells = aubc_by_group(args.folder)
    if not cells:
        print(f"error: no run files under {args.folder / 'runs'}", file=sys.stderr)
        return 2
    variants = [v for v in args.variants.split(",") if v] or None
    ran = {v for group in cells.values() for v in group}
    missing = [v for v in (variants or []) if v not in ran]
    if missing:
        print(f"error: no run of {', '.join(missing)} in {args.folder}", file=sys.stderr)
        return 2
    print(table(cells, variants, [r for r in args.refs.split(",") if r]), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
