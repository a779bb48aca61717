"""Is AutoAL's search alive? Per-round search records of a bench folder, summarised.

    python benchmarks/search_health.py results/paper-cpu [--json OUT]

For every (data set, regime, AutoAL variant) of the folder's run files, over the rounds
that record weights (round 1 on; "searched": how many ran a search, 0 for the uniform and
frozen ablations), the medians of: the SearchNet's mean gradient norm during the
search, the change of the objective from the first to the last step, the objective's
first value (and its largest, to spot blow-ups), the total-variation distance of the
round's pool-mean weights from equal weights, and the distance between the weights over
the queried batch and over the pool. A search that learns from the data has a gradient
that moves its objective and weights that leave uniform; with per-sample weights, a batch
vs pool distance of 0 means the weights do not depend on the sample. Exit status 2 when
the folder has no run file.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from autoal.io import write_json_atomic
from autoal.report.weight_stats import round_batch_pool_distance, total_variation

COLUMNS = ("grad_norm", "objective_change", "objective", "objective_max", "from_uniform",
           "batch_vs_pool")


def _search_record(value: Any) -> dict[str, Any]:
    """The round's search record (older run files store it as a Python-literal string)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def round_health(rnd: dict[str, Any]) -> dict[str, float] | None:
    """The measures of one round, or None when it did not search."""
    search = _search_record(rnd.get("search"))
    weights = rnd.get("weights")
    if not search or not weights:
        return None
    w = np.array([float(weights[n]) for n in sorted(weights)])
    searched = bool(search.get("steps", 1)) and "objective_first" in search
    out = {
        "searched": float(searched),   # 0: no search ran (uniform / frozen ablations)
        "grad_norm": float(search.get("searchnet_grad_norm_mean", np.nan)),
        "objective_change": abs(float(search["objective_first"]) - float(search["objective_last"]))
        if "objective_first" in search and "objective_last" in search else np.nan,
        "objective": float(search.get("objective_first", np.nan)),
        "from_uniform": float(total_variation(w, 1.0 / len(w))),
    }
    bvp = round_batch_pool_distance(rnd)
    out["batch_vs_pool"] = np.nan if bvp is None else bvp
    return out


def summarise(folder: Path) -> list[dict[str, Any]]:
    """One row per (data set, regime, variant) with searching rounds."""
    per: dict[tuple[str, str, str], list[dict[str, float]]] = defaultdict(list)
    for path in sorted((folder / "runs").glob("*.json")):
        try:
            run = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            print(f"warning: {path.name} left out: {err}", file=sys.stderr)
            continue
        meta = run.get("bench", {})
        key = (meta.get("dataset", run.get("dataset", "?")), meta.get("regime", "?"),
               meta.get("variant", run.get("strategy", "?")))
        for rnd in run.get("rounds", []):
            h = round_health(rnd)
            if h is not None:
                per[key].append(h)
    rows = []
    for (dataset, regime, variant), hs in sorted(per.items()):
        col = {k: np.array([h[k] for h in hs], dtype=float) for k in hs[0]}
        finite = {k: v[np.isfinite(v)] for k, v in col.items()}
        row: dict[str, Any] = {"dataset": dataset, "regime": regime, "variant": variant,
                               "rounds": len(hs), "searched": int(col["searched"].sum())}
        for k in ("grad_norm", "objective_change", "objective", "from_uniform",
                  "batch_vs_pool"):
            row[k] = float(np.median(finite[k])) if len(finite[k]) else None
        row["objective_max"] = float(finite["objective"].max()) if len(finite["objective"]) \
            else None
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the table (and JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="An `autoal bench` --out folder.")
    ap.add_argument("--json", default=None, help="Also write the rows to this file.")
    args = ap.parse_args(argv)
    if not (args.folder / "runs").is_dir():
        print(f"error: {args.folder} has no runs/ folder", file=sys.stderr)
        return 2
    rows = summarise(args.folder)
    if not rows:
        print(f"error: no run in {args.folder / 'runs'} recorded a search", file=sys.stderr)
        return 2

    def fmt(x: float | None, k: str) -> str:
        if x is None:
            return "—"
        return f"{x:.1e}" if k in ("grad_norm", "objective_change") else f"{x:.3f}"

    print("| data set | regime | variant | rounds | searched | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|---:|---:|" + "---:|" * len(COLUMNS))
    for r in rows:
        print(f"| {r['dataset']} | {r['regime']} | {r['variant']} | {r['rounds']} | "
              f"{r['searched']} | "
              + " | ".join(fmt(r[k], k) for k in COLUMNS) + " |")
    if args.json:
        write_json_atomic(args.json, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
