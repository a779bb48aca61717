"""The summary as CSV: one row per (data set, regime, variant)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np

from autoal.report.aggregate import AUTOAL, BASELINES, GroupSummary
from autoal.report.stats import mean_std

__all__ = ["CSV_COLUMNS", "to_csv"]

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
                    pair = comp[1]
                    row += [num(pair.diff), num(pair.low), num(pair.high)]
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
