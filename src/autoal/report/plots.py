"""Plots of learning curves and of AutoAL's candidate weights."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autoal.io import write_bytes_atomic  # noqa: E402

__all__ = ["paired_differences", "plot_learning_curves", "plot_weights"]


def _save(fig: plt.Figure, path: str | Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return write_bytes_atomic(path, buf.getvalue())


#: Many variants on one plot: colours repeat after 10, so the line style changes with them.
_STYLES = ("-", "--", ":", "-.")
#: Above this many variants, only highlighted ones get a std band (the rest would hide them).
_MAX_BANDS = 8


def _curve(runs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    labeled = np.array([r["labeled"] for r in runs[0]["rounds"]])
    acc = np.array([[r["accuracy"] for r in run["rounds"]] for run in runs])
    return labeled, acc


def _seed(run: Mapping[str, Any], index: int) -> Any:
    bench = run.get("bench")
    return bench.get("seed", index) if isinstance(bench, Mapping) else index


def paired_differences(
    runs: Sequence[Mapping[str, Any]], reference: Sequence[Mapping[str, Any]]
) -> np.ndarray:
    """Per-round accuracy of each run minus the reference run of the same seed.

    Runs are matched by ``bench.seed`` (by position when a run has no bench block); runs
    whose seed the reference lacks, or whose labeled counts differ from its, are left out.

    Returns
    -------
    numpy.ndarray
        Shape ``(matched runs, rounds)``; ``(0, 0)`` when nothing matches.
    """
    by_seed = {_seed(run, i): run for i, run in enumerate(reference)}
    rows = []
    for i, run in enumerate(runs):
        ref = by_seed.get(_seed(run, i))
        if ref is None or [r["labeled"] for r in ref["rounds"]] != [
            r["labeled"] for r in run["rounds"]
        ]:
            continue
        rows.append([a["accuracy"] - b["accuracy"]
                     for a, b in zip(run["rounds"], ref["rounds"], strict=True)])
    return np.array(rows, dtype=float) if rows else np.zeros((0, 0))


def plot_learning_curves(
    runs_by_strategy: Mapping[str, Sequence[Mapping[str, Any]]],
    path: str | Path,
    title: str = "",
    highlight: Sequence[str] = (),
    reference: str | None = None,
    style_order: Sequence[str] = (),
) -> Path:
    """Mean test accuracy over labeled count per variant, with a +-1 sample-std band.

    Parameters
    ----------
    runs_by_strategy:
        Run dicts (``autoal run``'s schema) per variant name; a variant's runs share their
        labeled counts.
    path:
        The PNG to write (atomically).
    title:
        Plot title.
    highlight:
        Variants drawn thicker; with more than 8 variants only these get a std band.
    reference:
        When it names a plotted variant, a second panel shows every other variant's accuracy
        minus the reference's, paired by seed (mean +- std over the common seeds), where
        gaps of a point or two that the first panel hides are visible.
    style_order:
        Variant names whose positions pick colours and line styles, so that a variant looks
        the same across plots of one report; names not in it follow, sorted.
    """
    names = sorted(runs_by_strategy)
    palette = list(style_order) + [n for n in names if n not in style_order]
    with_ref = reference in runs_by_strategy
    fig, axes = plt.subplots(1, 2 if with_ref else 1, figsize=(12 if with_ref else 7, 4.5),
                             squeeze=False)
    ax = axes[0][0]
    bands = len(names) <= _MAX_BANDS
    for name in names:
        i = palette.index(name)
        runs = runs_by_strategy[name]
        labeled, acc = _curve(runs)
        mean = acc.mean(axis=0)
        std = acc.std(axis=0, ddof=1) if len(acc) > 1 else np.zeros_like(mean)
        strong = name in highlight
        style = {
            "color": f"C{i % 10}", "linestyle": _STYLES[(i // 10) % len(_STYLES)],
            "marker": "o", "ms": 3, "lw": 2.4 if strong else 1.2, "zorder": 3 if strong else 2,
        }
        ax.plot(labeled, mean, label=f"{name} (n={len(runs)})", **style)
        if len(runs) > 1 and (bands or strong):
            ax.fill_between(labeled, mean - std, mean + std, color=style["color"], alpha=0.15)
        if with_ref and name != reference:
            assert reference is not None
            d = paired_differences(runs, runs_by_strategy[reference])
            if len(d):
                d_mean = d.mean(axis=0)
                axes[0][1].plot(labeled, d_mean, **style)
                if len(d) > 1 and (bands or strong):
                    sd = d.std(axis=0, ddof=1)
                    axes[0][1].fill_between(labeled, d_mean - sd, d_mean + sd,
                                            color=style["color"], alpha=0.12)
    ax.set_xlabel("labeled samples")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    if with_ref:
        fig.suptitle(title)
        right = axes[0][1]
        right.axhline(0.0, color="black", lw=1)
        right.set_xlabel("labeled samples")
        right.set_ylabel(f"accuracy minus {reference}'s (same seed)")
        ax.set_title("accuracy", fontsize=10)
        right.set_title(f"difference to {reference}", fontsize=10)
        right.grid(alpha=0.3)
        right.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="center left",
                     bbox_to_anchor=(1.0, 0.5))
    else:
        ax.set_title(title)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)


def plot_weights(runs: Sequence[Mapping[str, Any]], path: str | Path, title: str = "",
                 best: Sequence[str | None] | None = None) -> Path:
    """AutoAL's mean candidate weights per round (averaged over seeds), stacked.

    ``best`` (one name or None per plotted round) marks above each round the candidate that
    was best in hindsight there (:mod:`autoal.report.hindsight`), in that candidate's colour.
    """
    rounds = [r for r in runs[0]["rounds"] if "weights" in r]
    if not rounds:
        raise ValueError("these runs record no candidate weights")
    names = list(rounds[0]["weights"])
    labeled = [r["labeled"] for r in rounds]
    weights = np.array(
        [
            [[r["weights"][n] for n in names] for r in run["rounds"] if "weights" in r]
            for run in runs
        ]
    ).mean(axis=0)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    polys = ax.stackplot(labeled, weights.T, labels=names, alpha=0.85)
    ax.set_xlabel("labeled samples (after the round's query)")
    ax.set_ylabel("mean mixture weight over the pool")
    ax.set_ylim(0, 1.12 if best else 1)
    if best:
        colour = {n: p.get_facecolor()[0] for n, p in zip(names, polys, strict=True)}
        for x, name in zip(labeled, best, strict=False):
            if name is not None:
                ax.scatter([x], [1.06], marker="v", s=60, edgecolors="black", linewidths=0.5,
                           color=colour.get(name, "grey"), zorder=3)
        ax.text(labeled[0], 1.09, "best in hindsight", fontsize=7)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)
