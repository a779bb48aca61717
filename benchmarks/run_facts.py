"""Small facts read off a bench folder's run files, as quoted in docs/RESULTS.md.

    python benchmarks/run_facts.py DIR albl-rewards
    python benchmarks/run_facts.py DIR overlap autoal autoal-uniform --round 1
    python benchmarks/run_facts.py DIR round0 loss_prediction margin
    python benchmarks/run_facts.py DIR accuracy autoal random --round 1
    python benchmarks/run_facts.py DIR hindsight
    python benchmarks/run_facts.py DIR prior-gap autoal --candidate margin

``albl-rewards``: per ALBL cell, the expert it drew and the reward (importance-weighted
accuracy) it recorded each round. ``overlap A B``: per (data set, regime, seed) that both
variants ran, the share of A's batch in round R that B also queried. ``round0 A B``: per
cell pair, A's round-0 test accuracy minus B's (every strategy trains the same round-0
model, except one whose learner differs, e.g. loss_prediction's joint loss module), with
min, max and mean. ``accuracy A B --round R``: the same for the test accuracy after round R
(R >= 1: after R queries), with the mean per (data set, regime). ``hindsight``: per weighted
variant (AutoAL, ALBL), the rounds over all groups in which its favourite candidate was the
one best in hindsight and its mean accuracy regret (the per-group rows of ``autoal
report``'s "Weights against hindsight", summed). ``prior-gap V --candidate C``: per
(data set, regime), variant V's mean weight on candidate C over its rounds >= 1 and seeds,
the prior's mean share of C (the run files' ``search.prior``, in the weights' order), and
the mean absolute gap between the two; then the same per round, mean over seeds, with the
coverage query's power (``query.power``) where the run records one. Exit status 2 on a folder
without run files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple


def load(folder: Path) -> dict[tuple[str, str, str, int], dict[str, Any]]:
    """Run files by (data set, regime, variant, seed); unreadable files are left out."""
    runs = {}
    for path in sorted((folder / "runs").glob("*.json")):
        try:
            run = json.loads(path.read_text())
            m = run["bench"]
            runs[(m["dataset"], m["regime"], m["variant"], int(m["seed"]))] = run
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(f"warning: {path.name} left out: {err}", file=sys.stderr)
    return runs


def albl_rewards(runs: dict) -> list[tuple[tuple, list[tuple[str | None, float | None]]]]:
    """``(cell key, [(chosen expert, reward) per round >= 1])`` for every ALBL cell."""
    out = []
    for key, run in sorted(runs.items()):
        if run["bench"].get("strategy") != "albl":
            continue
        rounds = [r.get("albl", {}) for r in run["rounds"][1:]]
        out.append((key, [(r.get("chosen"), r.get("reward")) for r in rounds]))
    return out


def overlap(runs: dict, a: str, b: str, rnd: int) -> list[tuple[tuple, float]]:
    """``((data set, regime, seed), share of a's round-``rnd`` batch that b also queried)``."""
    out = []
    for (ds, rg, v, seed), run in sorted(runs.items()):
        other = runs.get((ds, rg, b, seed))
        if v != a or other is None or len(run["rounds"]) <= rnd or len(other["rounds"]) <= rnd:
            continue
        qa, qb = run["rounds"][rnd]["queried"], set(other["rounds"][rnd]["queried"])
        out.append(((ds, rg, seed), sum(i in qb for i in qa) / len(qa)))
    return out


def round_accuracy(runs: dict, a: str, b: str, rnd: int) -> list[tuple[tuple, float]]:
    """``((data set, regime, seed), a's round-``rnd`` accuracy minus b's)`` for every pair."""
    out = []
    for (ds, rg, v, seed), run in sorted(runs.items()):
        other = runs.get((ds, rg, b, seed))
        if v != a or other is None or len(run["rounds"]) <= rnd or len(other["rounds"]) <= rnd:
            continue
        out.append(((ds, rg, seed),
                    run["rounds"][rnd]["accuracy"] - other["rounds"][rnd]["accuracy"]))
    return out


def group_means(pairs: list[tuple[tuple, float]]) -> dict[tuple[str, str], float]:
    """Mean of the values per (data set, regime)."""
    groups: dict[tuple[str, str], list[float]] = {}
    for (ds, rg, _seed), value in pairs:
        groups.setdefault((ds, rg), []).append(value)
    return {key: sum(v) / len(v) for key, v in sorted(groups.items())}


def hindsight_totals(folder: Path) -> dict[str, tuple[int, int, float | None]]:
    """Per weighted variant: (rounds where favourite = best, rounds judged, mean of the
    groups' mean regrets; None where no round had a favourite that also ran alone, e.g.
    equal weights), over every group where the report tells its story."""
    from autoal.report import load_runs
    from autoal.report.aggregate import summarise
    from autoal.report.hindsight import agreement, told_stories

    totals: dict[str, list[Any]] = {}
    for group in summarise(load_runs(folder)):
        for variant, story in told_stories(group).items():
            agree, judged, regret = agreement(story)
            t = totals.setdefault(variant, [0, 0, []])
            t[0] += agree
            t[1] += judged
            if regret is not None:
                t[2].append(regret)
    return {v: (a, j, sum(r) / len(r) if r else None) for v, (a, j, r) in sorted(totals.items())}


class PriorGap(NamedTuple):
    """One group's weights on a candidate against the prior's share of it (rounds >= 1)."""

    weight: float      # mean weight over rounds and seeds
    share: float       # mean prior share
    gap: float         # mean |weight - share|
    rounds: int        # (seed, round) pairs read
    by_round: dict[int, tuple[float, float, float, float | None]]
    # round -> (mean weight, mean share, mean |weight - share|, mean query power) over seeds


def prior_gap(runs: dict, variant: str, candidate: str) -> dict[tuple[str, str], PriorGap]:
    """Per (data set, regime): the variant's weight on ``candidate`` against its recorded
    prior share (``search.prior``, in the weights' order), over its rounds >= 1 that record
    one, overall and per round (with the coverage query's ``query.power`` where recorded)."""
    rows: dict[tuple[str, str], list[tuple[int, float, float, float | None]]] = {}
    for (ds, rg, v, _seed), run in sorted(runs.items()):
        if v != variant:
            continue
        for r in run["rounds"][1:]:
            weights, prior = r.get("weights") or {}, (r.get("search") or {}).get("prior")
            if candidate not in weights or not prior or len(prior) != len(weights):
                continue
            share = dict(zip(weights, prior, strict=True))[candidate]
            power = (r.get("query") or {}).get("power")
            rows.setdefault((ds, rg), []).append(
                (int(r["round"]), float(weights[candidate]), float(share),
                 None if power is None else float(power)))
    out = {}
    for key, got in rows.items():
        by_round = {}
        for rnd in sorted({g[0] for g in got}):
            at = [g for g in got if g[0] == rnd]
            powers = [g[3] for g in at if g[3] is not None]
            by_round[rnd] = (_mean([g[1] for g in at]), _mean([g[2] for g in at]),
                             _mean([abs(g[1] - g[2]) for g in at]),
                             _mean(powers) if powers else None)
        out[key] = PriorGap(_mean([g[1] for g in got]), _mean([g[2] for g in got]),
                            _mean([abs(g[1] - g[2]) for g in got]), len(got), by_round)
    return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and print the requested fact."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    sub = ap.add_subparsers(dest="fact", required=True)
    sub.add_parser("albl-rewards")
    ov = sub.add_parser("overlap")
    ov.add_argument("a")
    ov.add_argument("b")
    ov.add_argument("--round", type=int, default=1)
    r0 = sub.add_parser("round0")
    r0.add_argument("a")
    r0.add_argument("b")
    acc = sub.add_parser("accuracy")
    acc.add_argument("a")
    acc.add_argument("b")
    acc.add_argument("--round", type=int, default=1)
    sub.add_parser("hindsight")
    gap = sub.add_parser("prior-gap")
    gap.add_argument("variant")
    gap.add_argument("--candidate", default="margin")
    args = ap.parse_args(argv)
    runs = load(args.folder)
    if not runs:
        print(f"error: no run files in {args.folder / 'runs'}", file=sys.stderr)
        return 2
    if args.fact == "albl-rewards":
        for key, rows in albl_rewards(runs):
            cells = ", ".join(f"{c} {'—' if r is None else f'{r:.3f}'}" for c, r in rows)
            print(f"{'__'.join(map(str, key))}: {cells}")
        return 0
    if args.fact == "hindsight":
        for variant, (agree, judged, regret) in hindsight_totals(args.folder).items():
            cost = "no regret: no round had a favourite that ran alone (e.g. equal weights)" \
                if regret is None else f"mean regret {regret:.3f}"
            print(f"{variant}: favourite = best in {agree} of {judged} rounds, {cost}")
        return 0
    if args.fact == "prior-gap":
        gaps = prior_gap(runs, args.variant, args.candidate)
        if not gaps:
            print(f"error: no rounds of {args.variant} with weights on {args.candidate} and a "
                  "recorded prior", file=sys.stderr)
            return 2
        for (ds, rg), g in gaps.items():
            print(f"{ds}__{rg}: {args.candidate} weight {g.weight:.2f}, prior {g.share:.2f}, "
                  f"mean |gap| {g.gap:.2f} ({g.rounds} rounds)")
            for rnd, (weight, share, diff, power) in g.by_round.items():
                query = "" if power is None else f", power {power:.1f}"
                print(f"  round {rnd}: weight {weight:.2f}, prior {share:.2f}, "
                      f"|gap| {diff:.2f}{query}")
        return 0
    if args.fact == "overlap":
        pairs = overlap(runs, args.a, args.b, args.round)
    else:  # round0 is accuracy at round 0
        pairs = round_accuracy(runs, args.a, args.b, getattr(args, "round", 0))
    for key, value in pairs:
        print(f"{'__'.join(map(str, key))}: {value:+.4f}")
    if pairs:
        values = [v for _, v in pairs]
        print(f"{len(values)} pair(s): min {min(values):+.4f}, max {max(values):+.4f}, "
              f"mean {sum(values) / len(values):+.4f}")
    if args.fact == "accuracy":
        for (ds, rg), mean in group_means(pairs).items():
            print(f"mean {ds} / {rg}: {mean:+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
