"""A benchmark folder's report: ``summary.md``, ``summary.csv`` and plots, from its runs alone.

:func:`write_report` loads the runs (:mod:`.load`), aggregates them per (data set, regime)
(:mod:`.aggregate`), renders markdown (:mod:`.markdown`) and CSV (:mod:`.csv_table`) and
draws the figures (:mod:`.plots`).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

from autoal.io import write_text_atomic
from autoal.report.aggregate import AUTOAL, BASELINES, GroupSummary, reference_row, summarise
from autoal.report.csv_table import to_csv
from autoal.report.load import load_runs
from autoal.report.markdown import to_markdown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["write_report"]


def _plots(out: Path, g: GroupSummary) -> list[Path]:
    from autoal.report.plots import plot_learning_curves, plot_weights

    by_name = {r.variant: r for r in g.rows}
    presets = [r.variant for r in g.rows if r.is_preset]
    refs = [reference_row(by_name, b) for b in BASELINES]
    key = set(presets) | {r.variant for r in refs if r is not None} | {g.rows[0].variant}
    if g.best_single:
        key.add(g.best_single)
    # the same colour for a variant in both plots; the key variants take the first colours
    order = sorted(key) + sorted(set(g.runs) - key)
    random_ref = reference_row(by_name, "random")
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
    from autoal.report.hindsight import told_stories

    stories = told_stories(g)
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
                    best=[s.best for s in stories[v]] if v in stories else None,
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
