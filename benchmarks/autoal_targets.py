"""Issue 16's targets for one AutoAL variant of a bench folder, each marked met or missed.

    python benchmarks/autoal_targets.py results/paper-cpu-v2 --variant autoal

Per (data set, regime) the variant ran in: the variant minus the best single strategy chosen
in hindsight (the highest mean AUBC among the variants that are one strategy, i.e. neither
AutoAL nor ALBL, label-free-representation variants included, with the full seed count), as
a paired bootstrap 95 % interval over the seeds both ran; and the variant minus random. The
full seed count is the number of seeds the folder's config.toml asks for (else the group's
largest count). Then the targets:

1. in every group the interval's lower end is above ``--tolerance`` (default -0.005 AUBC);
2. the mean difference is >= 0 in at least ``--min-groups`` groups (default 4);
3. the variant beats random (mean paired difference > 0) in every group;
4. its mean rank (ranks by mean AUBC among the variants ``autoal report`` ranks, i.e. not
   the ablations, with the full seed count), over the groups where it and every one of
   ``--rivals`` (default uherding, tcm) are ranked, is better than each rival's.

A group where a target cannot be judged (no single strategy or no random with full seeds,
one seed only) makes that target "not measured"; where any variant has fewer than the full
seeds, or the variant ran in fewer groups than the folder holds, every mark adds "partial
seeds: not a verdict". Exit status 2 on a folder without run files or a variant that ran
nowhere; 0 otherwise (missed targets are a result, not an error).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import tomllib

from autoal.report import load_runs
from autoal.report.aggregate import summarise
from autoal.report.stats import BootstrapResult, paired_bootstrap, rank_descending

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


def _full(variants: dict[str, Seeds], n: int) -> dict[str, Seeds]:
    return {v: s for v, s in variants.items() if len(s) >= n > 0}


def best_single(variants: dict[str, Seeds], strategy: dict[str, str], n: int,
                exclude: str = "") -> str | None:
    """The single strategy with the highest mean AUBC among those with ``n`` seeds."""
    singles = {v: float(np.mean(list(s.values()))) for v, s in _full(variants, n).items()
               if strategy.get(v, v) not in MIXERS and v != exclude}
    return max(sorted(singles), key=lambda v: singles[v]) if singles else None


def ranks(variants: dict[str, Seeds], n: int) -> dict[str, float]:
    """Rank by mean AUBC (1 = best, ties share the mean rank) among variants with ``n`` seeds."""
    return rank_descending({v: float(np.mean(list(s.values())))
                            for v, s in _full(variants, n).items()})


def paired(a: Seeds, b: Seeds) -> BootstrapResult | None:
    common = sorted(set(a) & set(b))
    if not common:
        return None
    return paired_bootstrap([a[s] for s in common], [b[s] for s in common])


def configured_seeds(folder: Path) -> int | None:
    """The number of seeds the folder's ``config.toml`` asks for, if it says."""
    try:
        doc = tomllib.loads((folder / "config.toml").read_text())
        return len(doc["protocol"]["seeds"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return None


def _mark(values: list[bool | None], ok: bool, partial: bool) -> str:
    """``met`` / ``missed``; ``not measured`` where a group could not be judged."""
    unknown = sum(v is None for v in values)
    if unknown:
        return f"not measured in {unknown} group(s)"
    return ("met" if ok else "missed") + (" (partial seeds: not a verdict)" if partial else "")


def evaluate(folder: Path, variant: str, rivals: tuple[str, ...], tolerance: float,
             min_groups: int) -> list[str]:
    """The report's lines (markdown)."""
    groups, strategy, ranked = load_groups(folder)
    if not groups:
        raise ValueError(f"{folder} holds no run files")
    mine_groups = [g for g, variants in sorted(groups.items()) if variant in variants]
    if not mine_groups:
        raise ValueError(f"variant {variant!r} ran in no group of {folder}")
    wanted = configured_seeds(folder)
    lines = [f"| group | {variant} minus best single (which) | minus random | seeds |",
             "|---|---|---|---|"]
    lows: list[bool | None] = []
    means: list[bool | None] = []
    beats_random: list[bool | None] = []
    partial = len(mine_groups) < len(groups)
    group_ranks: dict[tuple[str, str], dict[str, float]] = {}
    for g in mine_groups:
        variants = groups[g]
        n = wanted or max(len(s) for s in variants.values())
        partial |= any(len(s) < n for s in variants.values())
        mine = variants[variant]
        best = best_single(variants, strategy, n, exclude=variant)
        vs_best = paired(mine, variants[best]) if best else None
        vs_random = paired(mine, variants["random"]) if "random" in variants else None
        one_pair = vs_best is None or vs_best.low is None
        lows.append(None if one_pair else bool(vs_best.low > tolerance))  # type: ignore[union-attr]
        means.append(None if vs_best is None else bool(vs_best.diff >= 0))
        beats_random.append(None if vs_random is None else bool(vs_random.diff > 0))
        plain = {v: s for v, s in variants.items() if v in ranked.get(g, ())}
        group_ranks[g] = ranks(plain, n)
        lines.append(
            f"| {g[0]} {g[1]} | {vs_best.format() if vs_best else '-'} ({best or 'none'}) | "
            f"{vs_random.format() if vs_random else '-'} | {len(mine)} of {n} |")
    n_groups = len(mine_groups)
    lines += [
        "",
        f"{variant} ran in {n_groups} of {len(groups)} groups.",
        f"1. lower end above {tolerance:+.3f} in every group: "
        f"{_mark(lows, all(lows), partial)} ({sum(v is True for v in lows)} of {n_groups})",
        f"2. mean >= 0 in at least {min_groups} groups: "
        f"{_mark(means, sum(v is True for v in means) >= min_groups, partial)} "
        f"({sum(v is True for v in means)} of {n_groups})",
        f"3. beats random in every group: {_mark(beats_random, all(beats_random), partial)} "
        f"({sum(v is True for v in beats_random)} of {n_groups})",
    ]
    # mean ranks over the groups where the variant and every rival are ranked
    both = [g for g in mine_groups
            if all(name in group_ranks[g] for name in (variant, *rivals))]
    if not rivals or not both:
        lines.append("4. mean rank: not measured (no group where "
                     f"{', '.join((variant, *rivals))} all have a full-seed rank)")
        return lines
    mine_rank = float(np.mean([group_ranks[g][variant] for g in both]))
    rival_ranks = {r: float(np.mean([group_ranks[g][r] for g in both])) for r in rivals}
    ok = all(mine_rank < v for v in rival_ranks.values())
    where = "" if len(both) == n_groups else f" (over the {len(both)} groups where all are ranked)"
    lines.append(
        f"4. mean rank {mine_rank:.2f} better than "
        + ", ".join(f"{r} {v:.2f}" for r, v in rival_ranks.items())
        + f"{where}: {_mark([], ok, partial or len(both) < n_groups)}")
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
