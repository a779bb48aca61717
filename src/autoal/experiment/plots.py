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

__all__ = ["plot_learning_curves", "plot_weights"]


def _save(fig: plt.Figure, path: str | Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return write_bytes_atomic(path, buf.getvalue())


def plot_learning_curves(
    runs_by_strategy: Mapping[str, Sequence[Mapping[str, Any]]], path: str | Path, title: str = ""
) -> Path:
    """Mean test accuracy over labeled count per strategy, with a +-1 std band over seeds."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, runs in sorted(runs_by_strategy.items()):
        labeled = np.array([r["labeled"] for r in runs[0]["rounds"]])
        acc = np.array([[r["accuracy"] for r in run["rounds"]] for run in runs])
        mean, std = acc.mean(axis=0), acc.std(axis=0)
        (line,) = ax.plot(labeled, mean, marker="o", ms=3, label=f"{name} (n={len(runs)})")
        if len(runs) > 1:
            ax.fill_between(labeled, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("labeled samples")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_weights(runs: Sequence[Mapping[str, Any]], path: str | Path, title: str = "") -> Path:
    """AutoAL's mean candidate weights per round (averaged over seeds), stacked."""
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
    ax.stackplot(labeled, weights.T, labels=names, alpha=0.85)
    ax.set_xlabel("labeled samples (after the round's query)")
    ax.set_ylabel("mean mixture weight over the pool")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)
