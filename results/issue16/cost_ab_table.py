"""Aggregate the interleaved before/after runs of benchmarks/strategy_cost.py (cost-ab/*.json).

Per regime and code version: the median over runs of each row's select seconds (with each
run's value). The task model and its evidence are the same code in both versions, so their
seconds (noisy under the machine's load: the same evidence pass took 1.8-4.9 s) are pooled
over all runs of the regime, and the round ratio to entropy is built from those medians:
(train + evidence of the row's request + select) / (train + entropy's evidence).

    python results/issue16/cost_ab_table.py results/issue16/cost-ab > results/issue16/cost-ab.md
"""

import json
import statistics
import sys
from pathlib import Path

folder = Path(sys.argv[1])
runs: dict[str, list[tuple[str, dict]]] = {}
for path in sorted(folder.glob("cost2-*.json")):
    _, version, regime, _ = path.stem.split("-")
    runs.setdefault(regime, []).append((version, json.loads(path.read_text())))
print("| regime | code | row | select s: median (runs) | round / entropy's |")
print("|---|---|---|---|---|")
for regime, records in runs.items():
    train = statistics.median(r["train_s"] for _, r in records)
    evidence: dict[str, list[float]] = {}
    selects: dict[tuple[str, str], list[float]] = {}
    for version, r in records:
        for row in r["rows"]:
            evidence.setdefault(row["strategy"], []).append(row["evidence_s"])
            selects.setdefault((version, row["strategy"]), []).append(row["select_s"])
    # v2-hindsight reads the same evidence as v2-kppP-shrink-budget (same request)
    evidence["v2-hindsight"] = evidence["v2-kppP-shrink-budget"]
    ref = train + statistics.median(evidence["entropy"])
    for version in ("before", "after"):
        for (v, name), sel in selects.items():
            if v != version or name == "margin":
                continue
            ev = statistics.median(evidence[name])
            spread = ", ".join(f"{x:.2f}" for x in sel)
            ratio = (train + ev + statistics.median(sel)) / ref
            print(f"| {regime} | {version} | {name} | {statistics.median(sel):.2f} ({spread}) "
                  f"| {ratio:.2f} |")
    print(f"| {regime} | both | (train {train:.1f} s, entropy's evidence "
          f"{statistics.median(evidence['entropy']):.2f} s, AutoAL's "
          f"{statistics.median(evidence['v2-kppP-shrink-budget']):.2f} s) | | |")
