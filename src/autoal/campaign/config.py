"""A campaign's settings: the :class:`CampaignConfig` stored at init, and their validation."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from autoal.campaign.errors import CampaignError

__all__ = [
    "DEFAULT_STRATEGY", "PROVIDED", "SKIP", "CampaignConfig", "parse_classes", "resolve_strategy",
]

#: The label that excludes an item from the campaign.
SKIP = "skip"
#: A new campaign's strategy. It follows the benchmark, not the headline: in the full
#: comparison (benchmarks/paper-cpu-v2.toml, 910 cells; docs/RESULTS.md 6b-6c) the new
#: `autoal` preset ties margin in four groups, beats it on Fashion-MNIST low and loses on
#: mnist1d (mean rank 9.33 against margin's 8.50), so it is not at least as good as margin.
#: TCM ranks best (6.00; 5.33 on label-free features; never measurably below margin) but
#: needs the model's embeddings of every item each round and is not measured at the
#: campaign's million-item scale; `--strategy tcm` and `--strategy autoal` are one option
#: away.
DEFAULT_STRATEGY = "margin"
#: Evidence fields the campaign's torch model provides.
PROVIDED = frozenset({"probs", "mc_probs", "embeddings", "labeled_embeddings", "labeled_probs",
                      "inputs", "labeled_inputs", "labeled_targets"})


@dataclass(frozen=True)
class CampaignConfig:
    """Settings fixed at init, stored in the database.

    Attributes
    ----------
    data_path : str
        Absolute path of the data.
    data_kind : str
        ``"table"``, ``"npz"``, ``"images"`` or ``"array"`` (a ``.npy`` or a folder of shards).
    classes : tuple of str
        Class names; a class id is its index.
    strategy : str
        Registered query strategy used once two classes have labels.
    model : str
        ``"mlp"`` or ``"cnn"`` (resolved from ``"auto"``), ``"sklearn:ClassName"`` or
        ``"pickle:/path/estimator.pkl"`` (see :mod:`autoal.campaign.estimators`).
    seed : int
        Seeds models, strategies and the diverse start.
    epochs : int
        Training epochs (raised for small label sets to at least ``min_steps`` updates).
    label_column, id_column : str
        CSV columns of known labels and item ids.
    batch_size, min_steps : int
        Training batch size and the minimum number of optimiser steps per fit.
    audit : float
        Share of each batch drawn at random for the accuracy estimate (see
        :mod:`autoal.campaign.audit`); 0 turns the audit off. Campaigns made before the
        audit get the default.
    features_path : str or None
        Absolute path of the user's feature vectors (``.npy`` or CSV), the model's input
        instead of the data's own values (see :func:`autoal.campaign.items.attach_features`).
    """

    data_path: str
    data_kind: str
    classes: tuple[str, ...]
    strategy: str
    model: str
    seed: int = 0
    epochs: int = 20
    label_column: str = "label"
    id_column: str = "id"
    batch_size: int = 64
    min_steps: int = 100
    audit: float = 0.1
    features_path: str | None = None

    def to_json(self) -> str:
        """The config as JSON."""
        return json.dumps({**asdict(self), "classes": list(self.classes)})

    @classmethod
    def from_json(cls, text: str) -> CampaignConfig:
        """Parse :meth:`to_json` output (unknown keys from newer versions are ignored)."""
        raw = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        raw = {k: v for k, v in raw.items() if k in known}
        raw["classes"] = tuple(raw["classes"])
        return cls(**raw)


def parse_classes(classes: str | Iterable[str]) -> tuple[str, ...]:
    """Class names from ``"a,b,c"`` or an iterable: stripped, at least 2, unique, not ``skip``.

    Raises
    ------
    CampaignError
        Naming the problem.
    """
    items = classes.split(",") if isinstance(classes, str) else list(classes)
    names = tuple(str(c).strip() for c in items)
    if any(not n for n in names):
        raise CampaignError(f"empty class name in {','.join(names)!r}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CampaignError(f"class names must be unique; repeated: {', '.join(dup)}")
    if any(n.lower() == SKIP for n in names):
        raise CampaignError(f"{SKIP!r} cannot be a class: it is the label that excludes an item")
    if len(names) < 2:
        raise CampaignError(f"a campaign needs at least 2 classes, got {len(names)}")
    return names


def resolve_strategy(name: str, notes: list[str],
                     provided: frozenset[str] = PROVIDED) -> str:
    """The registered strategy to use for ``name`` (``autoal`` falls back to ``margin``).

    Parameters
    ----------
    name : str
        A registered strategy name.
    notes : list of str
        Gets a message when ``autoal`` is not installed and ``margin`` is used instead.
    provided : frozenset of str
        The evidence fields the campaign's model provides.

    Raises
    ------
    CampaignError
        Unknown strategy, or one that needs evidence a campaign's model does not provide.
    """
    from autoal.strategies import available_strategies, get_strategy

    names = available_strategies()
    if name == "autoal" and name not in names:
        notes.append("strategy 'autoal' is not available in this installation; using 'margin'")
        name = "margin"
    if name not in names:
        raise CampaignError(f"unknown strategy {name!r}; valid names: {', '.join(names)}")
    missing = set(get_strategy(name).requires) - provided
    if missing:
        raise CampaignError(
            f"strategy {name!r} needs {', '.join(sorted(missing))}, which a campaign's model "
            "does not provide; choose another strategy"
        )
    return name
