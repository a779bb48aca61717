"""The summary as markdown: a section per (data set, regime), then an overview."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autoal.report.aggregate import AUTOAL, BASELINES, GroupSummary, VariantRow, overall_ranks
from autoal.report.hindsight import story_markdown
from autoal.report.stats import DEFAULT_RESAMPLES, BootstrapResult, mean_std
from autoal.report.weight_stats import WeightStats
from autoal.strategies import PAPER_CANDIDATES

__all__ = ["to_markdown"]


def _pm(values: Sequence[float], digits: int = 4) -> str:
    m, s = mean_std(values)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def _weights_table(
    stats: dict[str, WeightStats],
    batch: dict[str, WeightStats],
    batch_vs_pool: dict[str, float],
) -> list[str]:
    lines = [
        "Candidate weights: AutoAL's searched mix (mean over the pool per round); ALBL's "
        "bandit probabilities over its candidates. Mean over rounds and seeds; most often "
        "largest: share of (seed, round) pairs where the candidate had the largest weight. "
        "Change: total-variation distance (0 = same mix, 1 = disjoint) between consecutive "
        "rounds of a seed, and between two seeds at the same round. A search that reads the "
        "data changes little and agrees across seeds; a bandit moves by design. From "
        "uniform: distance of a round's (pool-mean) mix from equal weights; near 0 with "
        "global weights means the search learned nothing. In the batch: AutoAL's weights "
        "averaged over the queried points only, and their distance from the pool's (with "
        "per-sample weights, above 0 shows the weights depend on the sample; 0 is "
        "consistent with weights that do not).",
        "",
        "| variant | largest mean weights | most often largest | change round to round | "
        "disagreement between seeds | from uniform | in the batch | batch vs pool |",
        "|---|---|---|---:|---:|---:|---|---:|",
    ]
    for v, st in sorted(stats.items()):
        leaders = ", ".join(f"{c} {w:.2f}" for c, w in st.leaders())
        top, share = st.most_often_largest()
        r2r = "—" if st.round_to_round is None else f"{st.round_to_round:.2f}"
        seeds = "—" if st.between_seeds is None else f"{st.between_seeds:.2f}"
        in_batch = (
            ", ".join(f"{c} {w:.2f}" for c, w in batch[v].leaders()) if v in batch else "—"
        )
        bvp = "—" if v not in batch_vs_pool else f"{batch_vs_pool[v]:.3f}"
        lines.append(
            f"| {v} | {leaders} | {top} ({share:.0%}) | {r2r} | {seeds} | "
            f"{st.from_uniform:.3f} | {in_batch} | {bvp} |"
        )
    return lines


def _changes(changes: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {json.dumps(v)}" for k, v in sorted(changes.items()))


def _short(res: BootstrapResult) -> str:
    return f"{res.diff:+.4f} {res.verdict} ({res.signs()})"


def _rank(r: VariantRow) -> str:
    return "—" if r.rank is None else f"{r.rank:g}"


def _overview(groups: Sequence[GroupSummary]) -> list[str]:
    """Cross-group tables: AUBC and rank per group, AutoAL's verdicts, ablations."""
    names = [f"{g.dataset} / {g.regime}" for g in groups]
    by_group = [{r.variant: r for r in g.rows} for g in groups]
    lines = [
        "## Overview",
        "",
        "AUBC (mean over seeds) with its rank in the group in brackets; mean rank over the "
        "groups where the variant was ranked; groups: where it ran."
        + (" Ablations are not ranked (they follow, with their AUBC; read them against "
           "their preset below)." if any(r.is_paired_ablation for g in groups for r in g.rows)
           else ""),
        "",
        f"| variant | {' | '.join(names)} | mean rank | groups |",
        "|---|" + "---:|" * (len(groups) + 2),
    ]
    ranked = overall_ranks(groups)
    unranked = sorted({r.variant for g in groups for r in g.rows} - {v for v, _, _ in ranked})
    for v, mr, _ in [*ranked, *((v, None, None) for v in unranked)]:
        cells = [
            "—" if v not in rows else f"{rows[v].aubc_mean:.4f}"
            + ("" if rows[v].rank is None else f" ({rows[v].rank:g})")
            for rows in by_group
        ]
        n_groups = sum(v in rows for rows in by_group)
        mean_rank = "—" if mr is None else f"{mr:.2f}"
        lines.append(f"| {v} | {' | '.join(cells)} | {mean_rank} | {n_groups} |")
    presets = sorted({r.variant for g in groups for r in g.rows if r.is_preset})
    if presets:
        lines += [
            "",
            "AutoAL against the baselines per group: mean paired AUBC difference over seeds, "
            "the verdict of its bootstrap 95% interval (the intervals are in the group "
            "sections) and in brackets the seeds on which AutoAL was lower ↓ / higher ↑; "
            "the best single candidate is named per group.",
            "",
            f"| comparison | {' | '.join(names)} |",
            "|---|" + "---|" * len(groups),
        ]
        for v in presets:
            for label in ("best single", *BASELINES):
                cells = []
                for rows in by_group:
                    comp = rows[v].comparisons.get(label) if v in rows else None
                    if comp is None:
                        cells.append("—")
                        continue
                    ref, res = comp
                    cells.append(_short(res) + (f" vs {ref}" if label == "best single" else ""))
                lines.append(f"| {v} − {label} | {' | '.join(cells)} |")
    ablations = sorted({
        (r.variant, r.ablation.base, _changes(r.ablation.changes))
        for g in groups for r in g.rows
        if r.ablation is not None and r.ablation.base is not None
    })
    if ablations:
        lines += [
            "",
            "Ablations per group: mean paired AUBC difference to the plain preset, its "
            "verdict, and the seeds on which the ablation was lower ↓ / higher ↑.",
            "",
            f"| ablation | changes | {' | '.join(names)} |",
            "|---|---|" + "---|" * len(groups),
        ]
        for v, base, changes in ablations:
            cells = []
            for rows in by_group:
                a = rows[v].ablation if v in rows else None
                paired = a.result if a is not None and a.base == base else None
                cells.append("—" if paired is None else _short(paired))
            lines.append(f"| {v} − {base} | {changes} | {' | '.join(cells)} |")
    return lines


def to_markdown(
    groups: Sequence[GroupSummary], title: str = "Benchmark summary", description: str = ""
) -> str:
    """The summary as markdown."""
    n_runs = sum(len(v) for g in groups for v in g.runs.values())
    lines = [f"# {title}", ""]
    if description:
        lines += [description.strip(), ""]
    lines += [
        f"{n_runs} runs in {len(groups)} (data set, regime) group(s). AUBC: area under the "
        "accuracy-vs-labels curve over the labeled range (0..1). Mean ± sample std (n − 1) "
        "over seeds; rank by mean AUBC (1 = best) among the strategies and presets; an "
        "ablation with a plain run of its preset in the group is read against that run "
        "and not ranked. Time per round: mean over rounds >= 1 of the round's "
        "train + test + evidence + select (+ search) seconds, on the machine that ran it.",
        "",
        "AutoAL rows (strategy `autoal`) are compared with the best single candidate "
        f"(the best of {', '.join(PAPER_CANDIDATES)} by mean AUBC, chosen in hindsight, which "
        "favours the baseline), with margin, with ALBL and with random: mean paired AUBC "
        "difference over seeds and its paired bootstrap 95% interval "
        f"({DEFAULT_RESAMPLES} resamples, percentile). *loses* / *wins*: the interval lies "
        "below / above 0; *tie*: it contains 0; n/a: one seed. With few seeds this "
        "interval is narrow (with 3 seeds it is exactly the range of the paired "
        "differences, so *loses* means every seed was lower), and a verdict can come from "
        "seed noise: the count of seeds on which AutoAL was lower (↓) and higher (↑) is "
        "given beside it.",
    ]
    for g in groups:
        lines += ["", f"## {g.dataset} / {g.regime}", "", g.setting + ".", ""]
        lines += [
            "| rank | variant | strategy | seeds | AUBC | final accuracy | s/round |",
            "|---:|---|---|---:|---|---|---:|",
        ]
        for r in g.rows:
            lines.append(
                f"| {_rank(r)} | {r.variant} | {r.strategy} | {r.n} | {_pm(r.aubc)} | "
                f"{_pm(r.final_accuracy)} | {np.mean(r.seconds_per_round):.2f} |"
            )
        autoal_rows = [r for r in g.rows if r.strategy == AUTOAL]
        if autoal_rows:
            best = f" ({g.best_single})" if g.best_single else ""
            lines += [
                "",
                f"| AutoAL variant | − best single{best} | − margin | − albl | − random | "
                "round time / entropy |",
                "|---|---|---|---|---|---:|",
            ]
            losses: list[str] = []
            for r in autoal_rows:
                cells = []
                for label in ("best single", *BASELINES):
                    comp = r.comparisons.get(label)
                    if comp is None:
                        cells.append("—")
                        continue
                    ref, res = comp
                    cells.append(f"{res.format()} {res.verdict} ({res.signs()})")
                    loss = f"{r.variant} loses to {ref} by {-res.diff:.4f} AUBC"
                    if res.verdict == "loses" and loss not in losses:
                        losses.append(loss)
                ratio = "—" if r.time_over_entropy is None else f"{r.time_over_entropy:.2f}x"
                lines.append(f"| {r.variant} | {' | '.join(cells)} | {ratio} |")
            lines += [""]
            if losses:
                lines.append(
                    "Where AutoAL loses (95% interval below 0): " + "; ".join(losses) + "."
                )
            else:
                lines.append("No AutoAL variant loses to these baselines with a 95% interval "
                             "below 0 here.")
        ablations = [r for r in g.rows if r.ablation is not None]
        if ablations:
            lines += [
                "",
                "Ablations: each changes options of a preset; − preset is the paired AUBC "
                "difference to the variant that runs that preset with no other option.",
                "",
                "| ablation | changes | preset variant | − preset | verdict |",
                "|---|---|---|---|---|",
            ]
            for r in ablations:
                a = r.ablation
                assert a is not None
                diff, verdict = (
                    ("—", "no plain run of the preset" if a.base is None else "no common seed")
                    if a.result is None else (
                        a.result.format(),
                        f"{a.result.verdict} ({a.result.signs()})",
                    )
                )
                lines.append(
                    f"| {r.variant} | {_changes(a.changes)} | {a.base or '—'} | {diff} | "
                    f"{verdict} |"
                )
        if g.weights:
            lines += ["", *_weights_table(g.weights, g.batch_weights, g.batch_vs_pool)]
            story = story_markdown(g)
            if story:
                lines += ["", *story]
        if g.mc_overlap:
            meta = g.mc_overlap.get("_meta", {})
            lines += [
                "",
                f"MC stability: top-b overlap (b = {meta.get('budget', '?'):g}) between two "
                f"independent draws of T = {meta.get('mc_samples', '?'):g} MC dropout samples "
                "(1 = same batch), mean over seeds:",
                "",
                "| MC strategy | first round | last round | all rounds |",
                "|---|---:|---:|---:|",
            ]
            for k, d in sorted(g.mc_overlap.items()):
                if k == "_meta":
                    continue
                lines.append(f"| {k} | {d['first']:.3f} | {d['last']:.3f} | {d['all']:.3f} |")
    if len(groups) > 1:
        lines += ["", *_overview(groups)]
    lines += [
        "",
        "Plots: `curves-<dataset>-<regime>.png` (mean accuracy ± std over seeds and, "
        "where the group has random, each variant's accuracy minus random's, paired by "
        "seed), `curves-<dataset>-<regime>-key.png` (the same for the plain AutoAL "
        "presets, the group's best, the best single candidate, margin, ALBL and random; "
        "only when the group has other variants too), "
        "`weights-<dataset>-<regime>[-<variant>].png` (mean candidate weights per round; "
        "where two or more candidates ran alone, a marker above each round names the "
        "candidate best in hindsight at that round).",
        "",
    ]
    return "\n".join(lines)
