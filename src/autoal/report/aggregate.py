"""Aggregation of benchmark runs per (data set, regime): the numbers every report shows.

Per group: every variant's AUBC and final accuracy over seeds and its rank by mean AUBC;
for every AutoAL variant (strategy ``autoal``) the paired AUBC difference to the best single
candidate chosen in hindsight, margin, ALBL and random, and its round time over entropy's;
for every AutoAL ablation (a variant that changes options of a preset another variant runs
plainly), the paired difference to that plain preset; candidate-weight statistics and the
MC strategies' top-b overlap where cells recorded them.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from autoal.report.load import round_seconds
from autoal.report.stats import (
    DEFAULT_RESAMPLES,
    BootstrapResult,
    mean_std,
    paired_bootstrap,
    rank_descending,
)
from autoal.report.weight_stats import WeightStats, batch_pool_distance, weight_stats
from autoal.strategies import PAPER_CANDIDATES

if TYPE_CHECKING:
    from autoal.loop import RunRecord

__all__ = [
    "AUTOAL",
    "Ablation",
    "BASELINES",
    "GroupSummary",
    "VariantRow",
    "overall_ranks",
    "reference_row",
    "summarise",
]

AUTOAL = "autoal"
#: The baselines every AutoAL variant is compared with (besides the best single candidate,
#: the best of :data:`~autoal.strategies.PAPER_CANDIDATES`).
BASELINES = ("margin", "albl", "random")


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

    Attributes
    ----------
    variant : str
        The variant's name in the config.
    strategy : str
        The registered strategy it runs.
    seeds : list of int
        The seeds it ran (the runs kept: those with the group's labeled counts).
    aubc, final_accuracy, seconds_per_round : list of float
        Per seed, in ``seeds`` order: the area under the budget curve, the last round's
        test accuracy and the mean time of a query round.
    rank : float or None
        Rank by mean AUBC within the group (1 = best, ties share the mean rank); None for
        an ablation that is compared with its preset instead.
    comparisons : dict
        AutoAL variants only: "best single", "margin", "albl" and "random" mapped to the
        reference variant and the paired AUBC difference (None without a reference).
    time_over_entropy : float or None
        AutoAL variants only: mean round time over entropy's.
    options : dict
        The variant's strategy options from the config (``bench.options``).
    ablation : Ablation or None
        Set for an AutoAL variant that sets options beyond ``preset``.
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
    """The summary of one (data set, regime).

    Attributes
    ----------
    dataset, regime : str
        The group.
    setting : str
        The protocol in words (pool, initial labels, rounds, model, MC samples).
    rows : list of VariantRow
        One per variant: ranked ones by rank, then the unranked ablations by AUBC.
    best_single : str or None
        The variant of the paper's single candidates with the best mean AUBC (in
        hindsight), None when the group runs none.
    runs : dict
        The run records kept per variant, by seed.
    mc_overlap : dict
        Per MC strategy, the mean top-b overlap of two MC draws (first round, last round,
        all rounds), where cells recorded it.
    weights, batch_weights : dict of WeightStats
        Per variant that recorded them, statistics of the candidate weights over the pool
        and over the queried batch.
    batch_vs_pool : dict of float
        Per variant, the mean distance between its batch and pool weights
        (:func:`~autoal.report.weight_stats.batch_pool_distance`).
    """

    dataset: str
    regime: str
    setting: str
    rows: list[VariantRow]
    best_single: str | None
    runs: dict[str, list[RunRecord]]
    mc_overlap: dict[str, dict[str, float]] = field(default_factory=dict)
    weights: dict[str, WeightStats] = field(default_factory=dict)
    batch_weights: dict[str, WeightStats] = field(default_factory=dict)
    batch_vs_pool: dict[str, float] = field(default_factory=dict)


def reference_row(rows: dict[str, VariantRow], strategy: str) -> VariantRow | None:
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


def _consistent(runs: list[RunRecord]) -> list[RunRecord]:
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


def _setting(run: RunRecord) -> str:
    c = run.get("config", {})
    parts = [
        f"pool {c.get('pool_size', '?')}",
        f"{c.get('init', '?')} initial labels + {c.get('rounds', '?')} rounds of "
        f"{c.get('budget', '?')}",
        f"model {c.get('model', '?')}, {c.get('epochs', '?')} epochs",
        f"T = {c.get('mc_samples', '?')} MC samples",
    ]
    return "; ".join(parts)


def summarise(runs: Sequence[RunRecord]) -> list[GroupSummary]:
    """Group the runs by (data set, regime) and compute every statistic of the report."""
    grouped: dict[tuple[str, str], dict[str, list[RunRecord]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for run in runs:
        m = run["bench"]
        grouped[(m["dataset"], m["regime"])][m["variant"]].append(run)
    groups = []
    for (dataset, regime), by_variant in sorted(grouped.items()):
        rows: dict[str, VariantRow] = {}
        kept: dict[str, list[RunRecord]] = {}
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
        singles = [r for r in rows.values() if r.strategy in PAPER_CANDIDATES]
        best = max(singles, key=lambda r: r.aubc_mean) if singles else None
        entropy = reference_row(rows, "entropy")
        for row in rows.values():
            if row.strategy != AUTOAL:
                continue
            refs = {"best single": best}
            refs.update({name: reference_row(rows, name) for name in BASELINES})
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
    variant: str, runs: list[RunRecord], key: str = "weights"
) -> WeightStats | None:
    try:
        return weight_stats(runs, key)
    except ValueError as err:
        warnings.warn(f"no weights table for {variant}: {err}", stacklevel=3)
        return None


def _mc_overlap(runs: dict[str, list[RunRecord]]) -> dict[str, dict[str, float]]:
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
