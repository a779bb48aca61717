"""Benchmark summary: tables (markdown + CSV) and plots, built from the run files alone.

Per (data set, regime): every variant's AUBC and final accuracy (mean +- std over seeds),
rank by mean AUBC, time per round; for every AutoAL variant (strategy ``autoal``), AutoAL
minus the best single candidate chosen in hindsight, minus margin, minus ALBL and minus
random, each a mean paired difference of AUBC over seeds with a paired bootstrap 95%
interval, and its round time over entropy's; for every AutoAL ablation (a variant that
changes options of a preset another variant runs plainly), the paired difference to that
plain preset. Then an overview over all (data set, regime) groups (AUBC and rank per group,
mean rank, AutoAL's verdicts per group) and the MC strategies' top-b overlap where cells
recorded it.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoal.io import write_text_atomic
from autoal.report.stats import (
    DEFAULT_RESAMPLES,
    BootstrapResult,
    mean_std,
    paired_bootstrap,
    rank_descending,
)
from autoal.report.weight_stats import WeightStats, batch_pool_distance, weight_stats
from autoal.strategies.registry import PAPER_CANDIDATES

__all__ = [
    "Ablation",
    "CANDIDATES",
    "GroupSummary",
    "VariantRow",
    "load_runs",
    "round_seconds",
    "summarise",
    "to_csv",
    "to_markdown",
    "write_report",
]

#: The single candidates ("best single chosen in hindsight" is the best of these).
CANDIDATES: tuple[str, ...] = PAPER_CANDIDATES
AUTOAL = "autoal"
BASELINES = ("margin", "albl", "random")


# ----------------------------------------------------------------------------- loading
def _meta(run: dict[str, Any], path: Path) -> dict[str, Any] | None:
    meta = run.get("bench")
    if isinstance(meta, dict) and {"dataset", "regime", "variant", "seed"} <= set(meta):
        return meta
    parts = path.stem.split("__")
    if len(parts) != 4:
        return None
    try:
        seed = int(parts[3])
    except ValueError:
        return None
    return {"dataset": parts[0], "regime": parts[1], "variant": parts[2], "seed": seed,
            "strategy": run.get("strategy", parts[2])}


def load_runs(out: str | Path) -> list[dict[str, Any]]:
    """Every run record in ``out/runs/*.json``, each with its ``"bench"`` metadata.

    Files that do not parse or do not name their cell are skipped with a warning.
    """
    runs = []
    for path in sorted((Path(out) / "runs").glob("*.json")):
        try:
            run = json.loads(path.read_text())
            meta = _meta(run, path)
            if meta is None or not run.get("rounds"):
                raise ValueError("not a benchmark cell")
        except (OSError, ValueError) as err:
            warnings.warn(f"skipping {path}: {err}", stacklevel=2)
            continue
        run["bench"] = {**meta, "strategy": meta.get("strategy", run.get("strategy"))}
        runs.append(run)
    return runs


def round_seconds(run: dict[str, Any]) -> float:
    """Mean over rounds >= 1 of the sum of a round's timings (round 0 when there is no other)."""
    rounds = [r for r in run["rounds"] if r.get("round", 0) >= 1] or run["rounds"][:1]
    return float(np.mean([sum(r.get("seconds", {}).values()) for r in rounds]))


# ----------------------------------------------------------------------------- summary
@dataclass(frozen=True)
class Ablation:
    """An AutoAL variant that changes options of a preset, against that preset run plainly.

    Attributes
    ----------
    base:
        The variant of the same group that runs the preset with no other option (its
        ``preset`` option equal, or both without one); ``None`` when the group has none.
    changes:
        The options this variant sets beyond ``preset``.
    result:
        Paired AUBC difference ``variant - base`` over the seeds both ran; ``None`` without
        a base or without a common seed.
    """

    base: str | None
    changes: Mapping[str, Any]
    result: BootstrapResult | None


@dataclass
class VariantRow:
    """One line of a group's table.

    ``options`` are the variant's strategy options from the config (``bench.options``);
    ``comparisons`` (AutoAL variants only) map "best single", "margin", "albl" and "random"
    to the reference variant and the paired AUBC difference; ``ablation`` is set for an
    AutoAL variant that sets options beyond ``preset``.
    """

    variant: str
    strategy: str
    seeds: list[int]
    aubc: list[float]
    final_accuracy: list[float]
    seconds_per_round: list[float]
    rank: float | None = None
    comparisons: dict[str, tuple[str, BootstrapResult] | None] = field(default_factory=dict)
    time_over_entropy: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    ablation: Ablation | None = None

    @property
    def n(self) -> int:
        """Number of seeds."""
        return len(self.seeds)

    @property
    def aubc_mean(self) -> float:
        """Mean AUBC over seeds."""
        return mean_std(self.aubc)[0]

    @property
    def is_paired_ablation(self) -> bool:
        """An ablation with a plain preset to compare with: reported apart, not ranked."""
        return self.ablation is not None and self.ablation.base is not None

    @property
    def is_preset(self) -> bool:
        """An AutoAL variant that sets no option but ``preset``: a preset run plainly."""
        return self.strategy == AUTOAL and set(self.options) <= {"preset"}


@dataclass
class GroupSummary:
    """The summary of one (data set, regime)."""

    dataset: str
    regime: str
    setting: str
    rows: list[VariantRow]
    best_single: str | None
    runs: dict[str, list[dict[str, Any]]]
    mc_overlap: dict[str, dict[str, float]] = field(default_factory=dict)
    weights: dict[str, WeightStats] = field(default_factory=dict)
    batch_weights: dict[str, WeightStats] = field(default_factory=dict)
    batch_vs_pool: dict[str, float] = field(default_factory=dict)


def _reference(rows: dict[str, VariantRow], strategy: str) -> VariantRow | None:
    """The variant that stands for a plain strategy: named like it, else the first using it."""
    if strategy in rows and rows[strategy].strategy == strategy:
        return rows[strategy]
    return next((r for r in rows.values() if r.strategy == strategy), None)


def _paired(a: VariantRow, b: VariantRow) -> BootstrapResult | None:
    common = sorted(set(a.seeds) & set(b.seeds))
    if not common:
        return None
    va = [a.aubc[a.seeds.index(s)] for s in common]
    vb = [b.aubc[b.seeds.index(s)] for s in common]
    return paired_bootstrap(va, vb, n_resamples=DEFAULT_RESAMPLES, random_state=0)


def _plain_presets(rows: dict[str, VariantRow]) -> dict[Any, VariantRow]:
    """The variant that runs each preset plainly: the one named like it, else the first."""
    by_preset: dict[Any, list[VariantRow]] = defaultdict(list)
    for r in sorted(rows.values(), key=lambda r: r.variant):
        if r.is_preset:
            by_preset[r.options.get("preset")].append(r)
    plain = {}
    for preset, rs in by_preset.items():
        chosen = next((r for r in rs if r.variant == preset), rs[0])
        if len(rs) > 1:
            warnings.warn(
                f"variants {', '.join(r.variant for r in rs)} all run preset {preset!r} "
                f"plainly; ablations of it are compared with {chosen.variant}", stacklevel=4,
            )
        plain[preset] = chosen
    return plain


def _ablations(rows: dict[str, VariantRow]) -> None:
    """Pair every AutoAL variant that changes a preset with the plain preset's variant."""
    plain = _plain_presets(rows)
    for row in rows.values():
        if row.strategy != AUTOAL or row.is_preset:
            continue
        changes = {k: v for k, v in row.options.items() if k != "preset"}
        base = plain.get(row.options.get("preset"))
        res = None if base is None else _paired(row, base)
        row.ablation = Ablation(None if base is None else base.variant, changes, res)


def _consistent(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs sharing the most common labeled-count sequence (warn about the others)."""
    keys = [tuple(r["labeled"] for r in run["rounds"]) for run in runs]
    common, _ = Counter(keys).most_common(1)[0]
    kept = [run for run, k in zip(runs, keys, strict=True) if k == common]
    if len(kept) < len(runs):
        warnings.warn(
            f"{len(runs) - len(kept)} run(s) of {runs[0]['bench']['variant']} have other "
            "labeled counts than the rest and are left out", stacklevel=3,
        )
    return kept


def _setting(run: dict[str, Any]) -> str:
    c = run.get("config", {})
    parts = [
        f"pool {c.get('pool_size', '?')}",
        f"{c.get('init', '?')} initial labels + {c.get('rounds', '?')} rounds of "
        f"{c.get('budget', '?')}",
        f"model {c.get('model', '?')}, {c.get('epochs', '?')} epochs",
        f"T = {c.get('mc_samples', '?')} MC samples",
    ]
    return "; ".join(parts)


def summarise(runs: Sequence[dict[str, Any]]) -> list[GroupSummary]:
    """Group the runs by (data set, regime) and compute every statistic of the report."""
    grouped: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for run in runs:
        m = run["bench"]
        grouped[(m["dataset"], m["regime"])][m["variant"]].append(run)
    groups = []
    for (dataset, regime), by_variant in sorted(grouped.items()):
        rows: dict[str, VariantRow] = {}
        kept: dict[str, list[dict[str, Any]]] = {}
        for variant, vruns in sorted(by_variant.items()):
            vruns = _consistent(sorted(vruns, key=lambda r: r["bench"]["seed"]))
            kept[variant] = vruns
            rows[variant] = VariantRow(
                variant=variant,
                strategy=str(vruns[0]["bench"].get("strategy") or vruns[0].get("strategy")),
                seeds=[int(r["bench"]["seed"]) for r in vruns],
                aubc=[float(r["aubc"]) for r in vruns],
                final_accuracy=[float(r["rounds"][-1]["accuracy"]) for r in vruns],
                seconds_per_round=[round_seconds(r) for r in vruns],
                options=dict(vruns[0]["bench"].get("options") or {}),
            )
        _ablations(rows)
        # rank the strategies; an ablation is read against its preset, not ranked among them
        ranks = rank_descending(
            {v: r.aubc_mean for v, r in rows.items() if not r.is_paired_ablation}
        )
        for v, rank in ranks.items():
            rows[v].rank = rank
        singles = [r for r in rows.values() if r.strategy in CANDIDATES]
        best = max(singles, key=lambda r: r.aubc_mean) if singles else None
        entropy = _reference(rows, "entropy")
        for row in rows.values():
            if row.strategy != AUTOAL:
                continue
            refs = {"best single": best}
            refs.update({name: _reference(rows, name) for name in BASELINES})
            for label, ref in refs.items():
                if ref is None:
                    row.comparisons[label] = None
                    continue
                res = _paired(row, ref)
                row.comparisons[label] = None if res is None else (ref.variant, res)
            if entropy is not None:
                e = float(np.mean(entropy.seconds_per_round))
                if e > 0:
                    row.time_over_entropy = float(np.mean(row.seconds_per_round)) / e
        ordered = sorted(
            rows.values(),
            key=lambda r: (r.rank is None, r.rank or 0.0, -r.aubc_mean, r.variant),
        )
        first = next(iter(kept.values()))[0]
        stats = {v: _weight_stats(v, vruns) for v, vruns in kept.items()}
        batch = {v: _weight_stats(v, vruns, "batch_weights") for v, vruns in kept.items()}
        groups.append(
            GroupSummary(dataset, regime, _setting(first), ordered,
                         None if best is None else best.variant, kept,
                         _mc_overlap(kept),
                         {v: st for v, st in stats.items() if st is not None},
                         {v: st for v, st in batch.items() if st is not None},
                         {v: d for v, vruns in kept.items()
                          if (d := batch_pool_distance(vruns)) is not None})
        )
    return groups


def _weight_stats(
    variant: str, runs: list[dict[str, Any]], key: str = "weights"
) -> WeightStats | None:
    try:
        return weight_stats(runs, key)
    except ValueError as err:
        warnings.warn(f"no weights table for {variant}: {err}", stacklevel=3)
        return None


def _mc_overlap(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Mean MC top-b overlap per MC strategy: first round, last round, all rounds."""
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    meta: dict[str, float] = {}
    for vruns in runs.values():
        for run in vruns:
            recorded = [r["mc_overlap"] for r in run["rounds"] if "mc_overlap" in r]
            if not recorded:
                continue
            meta = {"mc_samples": recorded[0]["mc_samples"], "budget": recorded[0]["budget"]}
            for k in recorded[0]:
                if k in ("mc_samples", "budget"):
                    continue
                per[k]["first"].append(recorded[0][k])
                per[k]["last"].append(recorded[-1][k])
                per[k]["all"].extend(r[k] for r in recorded)
    out = {k: {stat: float(np.mean(v)) for stat, v in d.items()} for k, d in per.items()}
    if out:
        out["_meta"] = meta
    return out


# ----------------------------------------------------------------------------- rendering
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


def overall_ranks(groups: Sequence[GroupSummary]) -> list[tuple[str, float, int]]:
    """``(variant, mean rank, number of groups)`` over all groups, best first.

    Only ranked rows count (paired ablations are not ranked). Variants ranked in more groups
    come first; equal mean ranks are broken by the higher mean AUBC over those groups (the
    selection run's rule), then by name.
    """
    ranks: dict[str, list[float]] = defaultdict(list)
    aubcs: dict[str, list[float]] = defaultdict(list)
    for g in groups:
        for r in g.rows:
            if r.rank is not None:
                ranks[r.variant].append(r.rank)
                aubcs[r.variant].append(r.aubc_mean)
    table = [(v, float(np.mean(rs)), len(rs)) for v, rs in ranks.items()]
    return sorted(table, key=lambda t: (-t[2], t[1], -float(np.mean(aubcs[t[0]])), t[0]))


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
                paired = a is not None and a.base == base and a.result is not None
                cells.append(_short(a.result) if paired else "—")  # type: ignore[union-attr]
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
        f"(the best of {', '.join(CANDIDATES)} by mean AUBC, chosen in hindsight, which "
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
        "`weights-<dataset>-<regime>[-<variant>].png` (mean candidate weights per round).",
        "",
    ]
    return "\n".join(lines)


CSV_COLUMNS = [
    "dataset", "regime", "variant", "strategy", "n_seeds", "seeds", "aubc_mean", "aubc_std",
    "final_acc_mean", "final_acc_std", "rank", "seconds_per_round",
    "best_single", "minus_best_single", "minus_best_single_low", "minus_best_single_high",
    "minus_margin", "minus_margin_low", "minus_margin_high",
    "minus_albl", "minus_albl_low", "minus_albl_high",
    "minus_random", "minus_random_low", "minus_random_high", "round_time_over_entropy",
    "ablation_of", "minus_ablation_base", "minus_ablation_base_low", "minus_ablation_base_high",
    "minus_best_single_seeds_lower", "minus_best_single_seeds_higher",
    "minus_margin_seeds_lower", "minus_margin_seeds_higher",
    "minus_albl_seeds_lower", "minus_albl_seeds_higher",
    "minus_random_seeds_lower", "minus_random_seeds_higher",
    "minus_ablation_base_seeds_lower", "minus_ablation_base_seeds_higher",
]


def to_csv(groups: Sequence[GroupSummary]) -> str:
    """One CSV row per (data set, regime, variant); comparison columns for AutoAL rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.6g}"

    for g in groups:
        for r in g.rows:
            am, asd = mean_std(r.aubc)
            fm, fsd = mean_std(r.final_accuracy)
            row = [g.dataset, g.regime, r.variant, r.strategy, r.n,
                   " ".join(map(str, r.seeds)), num(am), num(asd), num(fm), num(fsd),
                   "" if r.rank is None else f"{r.rank:g}",
                   num(float(np.mean(r.seconds_per_round)))]
            is_autoal = r.strategy == AUTOAL
            row.append(g.best_single if is_autoal and g.best_single else "")
            for label in ("best single", *BASELINES):
                comp = r.comparisons.get(label)
                if comp is None:
                    row += ["", "", ""]
                else:
                    res = comp[1]
                    row += [num(res.diff), num(res.low), num(res.high)]
            row.append(num(r.time_over_entropy))
            a = r.ablation
            res = None if a is None else a.result
            row.append("" if a is None or a.base is None else a.base)
            row += ["", "", ""] if res is None else [num(res.diff), num(res.low), num(res.high)]
            for comp_res in [
                *(None if (c := r.comparisons.get(label)) is None else c[1]
                  for label in ("best single", *BASELINES)),
                res,
            ]:
                row += ["", ""] if comp_res is None else [comp_res.n_lower, comp_res.n_higher]
            writer.writerow(row)
    return buf.getvalue()


def _plots(out: Path, g: GroupSummary) -> list[Path]:
    from autoal.report.plots import plot_learning_curves, plot_weights

    by_name = {r.variant: r for r in g.rows}
    presets = [r.variant for r in g.rows if r.is_preset]
    refs = [_reference(by_name, b) for b in BASELINES]
    key = set(presets) | {r.variant for r in refs if r is not None} | {g.rows[0].variant}
    if g.best_single:
        key.add(g.best_single)
    # the same colour for a variant in both plots; the key variants take the first colours
    order = sorted(key) + sorted(set(g.runs) - key)
    random_ref = _reference(by_name, "random")
    reference = None if random_ref is None else random_ref.variant
    title = f"{g.dataset} / {g.regime}"
    paths = [
        plot_learning_curves(g.runs, out / f"curves-{g.dataset}-{g.regime}.png", title=title,
                             highlight=sorted(key), reference=reference, style_order=order)
    ]
    if len(key) < len(g.runs):
        paths.append(
            plot_learning_curves(
                {v: g.runs[v] for v in sorted(key)},
                out / f"curves-{g.dataset}-{g.regime}-key.png",
                title=f"{title}: key variants",
                reference=reference, style_order=order,
            )
        )
    with_weights = [
        v for v, runs in g.runs.items() if any("weights" in r for r in runs[0]["rounds"])
    ]
    if not with_weights:
        return paths
    strategy = {r.variant: r.strategy for r in g.rows}
    autoal = [v for v in with_weights if strategy.get(v) == AUTOAL]
    primary = "autoal" if "autoal" in autoal else (autoal or with_weights)[0]
    for v in with_weights:
        suffix = "" if v == primary else f"-{v}"
        try:
            paths.append(
                plot_weights(
                    g.runs[v], out / f"weights-{g.dataset}-{g.regime}{suffix}.png",
                    title=f"{v} on {g.dataset} / {g.regime}: mean candidate weights",
                )
            )
        except (ValueError, KeyError) as err:
            warnings.warn(f"no weights plot for {v} on {g.dataset}/{g.regime}: {err}",
                          stacklevel=2)
    return paths


def write_report(out: str | Path, title: str = "Benchmark summary") -> dict[str, Any]:
    """Rebuild ``summary.md``, ``summary.csv`` and the plots in ``out`` from ``out/runs``.

    Returns
    -------
    dict
        ``{"groups": [...GroupSummary], "files": [paths written]}``.

    Raises
    ------
    FileNotFoundError
        When ``out/runs`` holds no run file.
    """
    out = Path(out)
    runs = load_runs(out)
    if not runs:
        raise FileNotFoundError(f"no run files in {out / 'runs'}")
    groups = summarise(runs)
    description = ""
    if (out / "config.toml").is_file():
        try:
            from autoal.bench.config import tomllib

            doc = tomllib.loads((out / "config.toml").read_text())
            description = "Config: `config.toml` (a copy of the benchmark's config)."
            if isinstance(doc.get("description"), str):
                description += " " + doc["description"]
        except (OSError, ValueError):
            description = ""
    files = [
        write_text_atomic(out / "summary.md", to_markdown(groups, title, description)),
        write_text_atomic(out / "summary.csv", to_csv(groups)),
    ]
    for g in groups:
        files += _plots(out, g)
    return {"groups": groups, "files": files}
