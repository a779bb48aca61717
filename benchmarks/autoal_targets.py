"""Issue 16's targets for one AutoAL variant of a bench folder, each marked met or missed.

    python benchmarks/autoal_targets.py results/paper-cpu-v2 --variant autoal

Per (data set, regime): the variant minus the best single strategy chosen in hindsight (the
highest mean AUBC among the variants that are one strategy, i.e. neither AutoAL nor ALBL,
label-free-representation variants included, with the group's full seed count), as a paired
bootstrap 95 % interval over the seeds both ran; and the variant minus random. Then the
targets:

1. in every group the interval's lower end is above ``--tolerance`` (default -0.005 AUBC);
2. the mean difference is >= 0 in at least ``--min-groups`` groups (default 4);
3. the variant beats random (mean paired difference > 0) in every group;
4. its mean rank over the groups (ranks by mean AUBC among the variants ``autoal report``
   ranks, i.e. not the ablations, with the group's full seed count) is better than each of
   ``--rivals`` (default uherding, tcm).

Where any variant of a group has fewer seeds than the group's largest count, every mark says
"partial seeds: not a verdict" (the best single strategy is chosen among complete variants
only); a rival without a full-seed rank leaves target 4 "not measured". Exit status 2 on a
folder without run files or a variant that ran nowhere; 0 otherwise (missed targets are a
result, not an error).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from autoal.report import load_runs
from autoal.report.aggregate import summarise
from autoal.report.stats import BootstrapResult, paired_bootstrap

#: Strategies that mix others: never "the best single strategy".
MIXERS = ("autoal", "albl")

Seeds = dict[int, float]


Groups = dict[tuple[str, str], dict[str, Seeds]]


def load_groups(folder: Path) -> tuple[Groups, dict[str, str], dict[tuple[str, str], set[str]]]:
    """``{(data set, regime): {variant: {seed: AUBC}}}``, each variant's strategy, and per
    group the variants the report ranks (its ablations are read against their preset
    instead, so they are not ranked here either)."""
    runs = load_runs(folder)
    groups: Groups = defaultdict(lambda: defaultdict(dict))
    strategy: dict[str, str] = {}
    for run in runs:
        meta = run["bench"]
        groups[(meta["dataset"], meta["regime"])][meta["variant"]][int(meta["seed"])] = float(
            run["aubc"])
        strategy[meta["variant"]] = meta.get("strategy", meta["variant"])
    ranked = {(g.dataset, g.regime): {r.variant for r in g.rows if r.rank is not None}
              for g in summarise(runs)} if runs else {}
    return groups, strategy, ranked


def _full(variants: dict[str, Seeds]) -> dict[str, Seeds]:
    n = max((len(s) for s in variants.values()), default=0)
    return {v: s for v, s in variants.items() if len(s) == n and n > 0}


def best_single(variants: dict[str, Seeds], strategy: dict[str, str]) -> str | None:
    """The single strategy with the highest mean AUBC among those with every seed."""
    singles = {v: float(np.mean(list(s.values()))) for v, s in _full(variants).items()
               if strategy.get(v, v) not in MIXERS}
    return max(sorted(singles), key=lambda v: singles[v]) if singles else None


def ranks(variants: dict[str, Seeds]) -> dict[str, float]:
    """Rank by mean AUBC (1 = best, ties share the mean rank) among variants with every seed."""
    full = _full(variants)
    names = sorted(full)
    means = np.array([np.mean(list(full[v].values())) for v in names])
    order = (-means).argsort(kind="stable")
    out: dict[str, float] = {}
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and means[order[j + 1]] == means[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[names[order[k]]] = (i + j) / 2 + 1
        i = j + 1
    return out


def paired(a: Seeds, b: Seeds) -> BootstrapResult | None:
    common = sorted(set(a) & set(b))
    if not common:
        return None
    return paired_bootstrap([a[s] for s in common], [b[s] for s in common])


def evaluate(folder: Path, variant: str, rivals: tuple[str, ...], tolerance: float,
             min_groups: int) -> list[str]:
    """The report's lines (markdown)."""
    groups, strategy, ranked = load_groups(folder)
    if not groups:
        raise ValueError(f"{folder} holds no run files")
    if not any(variant in g for g in groups.values()):
        raise ValueError(f"variant {variant!r} ran in no group of {folder}")
    lines = [f"| group | {variant} minus best single (which) | minus random | seeds |",
             "|---|---|---|---|"]
    lows_ok, means_ok, random_ok, complete = [], [], [], True
    mean_ranks: dict[str, list[float]] = defaultdict(list)
    for (dataset, regime), variants in sorted(groups.items()):
        if variant not in variants:
            continue
        full = max(len(s) for s in variants.values())
        mine = variants[variant]
        complete &= all(len(s) == full for s in variants.values())
        best = best_single(variants, strategy)
        vs_best = paired(mine, variants[best]) if best else None
        vs_random = paired(mine, variants["random"]) if "random" in variants else None
        if vs_best is not None:
            lows_ok.append(vs_best.low is not None and vs_best.low > tolerance)
            means_ok.append(vs_best.diff >= 0)
        if vs_random is not None:
            random_ok.append(vs_random.diff > 0)
        plain = {v: s for v, s in variants.items() if v in ranked.get((dataset, regime), ())}
        for name, rank in ranks(plain).items():
            mean_ranks[name].append(rank)
        lines.append(
            f"| {dataset} {regime} | {vs_best.format() if vs_best else '-'} ({best}) | "
            f"{vs_random.format() if vs_random else '-'} | {len(mine)} of {full} |")
    n_groups = len(lows_ok)
    mine_rank = float(np.mean(mean_ranks[variant])) if mean_ranks[variant] else float("nan")
    rival_ranks = {r: float(np.mean(mean_ranks[r])) for r in rivals if mean_ranks.get(r)}
    partial = "" if complete else " (partial seeds: not a verdict)"

    def mark(ok: bool) -> str:
        return ("met" if ok else "missed") + partial

    lines += [
        "",
        f"1. lower end above {tolerance:+.3f} in every group: "
        f"{mark(all(lows_ok) and n_groups > 0)} ({sum(lows_ok)} of {n_groups})",
        f"2. mean >= 0 in at least {min_groups} groups: "
        f"{mark(sum(means_ok) >= min_groups)} ({sum(means_ok)} of {n_groups})",
        f"3. beats random in every group: "
        f"{mark(all(random_ok) and len(random_ok) == n_groups > 0)} "
        f"({sum(random_ok)} of {len(random_ok)})",
        f"4. mean rank {mine_rank:.2f} better than "
        + ", ".join(f"{r} {v:.2f}" for r, v in rival_ranks.items())
        + (f": {mark(all(mine_rank < v for v in rival_ranks.values()))}"
           if len(rival_ranks) == len(rivals) else
           f": not measured (no full-seed rank for "
           f"{', '.join(r for r in rivals if r not in rival_ranks)})"),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--variant", default="autoal")
    parser.add_argument("--rivals", default="uherding,tcm")
    parser.add_argument("--tolerance", type=float, default=-0.005)
    parser.add_argument("--min-groups", type=int, default=4)
    args = parser.parse_args(argv)
    rivals = tuple(r for r in args.rivals.split(",") if r)
    try:
        lines = evaluate(args.folder, args.variant, rivals, args.tolerance, args.min_groups)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
