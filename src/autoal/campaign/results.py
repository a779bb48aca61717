"""What the workflow returns: plain dataclasses with ``to_dict`` (JSON-ready), and helpers.

One per :class:`~autoal.campaign.Campaign` method: :class:`QueryResult` (``query``),
:class:`TeachResult` (``teach``), :class:`UndoResult` (``undo``), :class:`CampaignStatus`
(``status``), :class:`ExportResult` (``export``), :class:`Batch` (``batch``) and
:class:`RoundWeights` (``weights_history``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Batch",
    "BatchItem",
    "CampaignStatus",
    "ExportResult",
    "QueryItem",
    "QueryResult",
    "RoundWeights",
    "TeachResult",
    "UndoResult",
    "finite",
    "jsonable",
]


@dataclass
class QueryItem:
    """One item to label: its id, where it is, and the model's current guess.

    Attributes
    ----------
    id : str
        The item's id.
    source : str
        Where the item is: its file (image folders) or row (tables, arrays).
    guess : str or None
        The model's most likely class; None before a model is trained and for audit items.
    confidence : float or None
        The model's probability of ``guess`` (None with it).
    audit : bool
        Drawn at random for the accuracy estimate (its guess is not shown: None).
    """

    id: str
    source: str
    guess: str | None
    confidence: float | None
    audit: bool = False

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class QueryResult:
    """The batch to label next.

    Attributes
    ----------
    round : int
        The round's number (1, 2, ...).
    items : list of QueryItem
        The batch, most informative first.
    method : str
        How it was picked (the strategy, or the diverse start).
    reused : bool
        True when this is the pending batch of an earlier query (nothing new was learned).
    n_labeled : int
        Labels the model was trained on.
    info : dict
        What the strategy reported (``round_info()``), e.g. AutoAL's ``weights``.
    notes : list of str
        Messages for the user (fallbacks, smaller batch than asked).
    """

    round: int
    items: list[QueryItem]
    method: str
    reused: bool
    n_labeled: int
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        out = asdict(self)
        out["items"] = [i.to_dict() for i in self.items]
        return out


@dataclass
class TeachResult:
    """What a teach committed.

    Attributes
    ----------
    teach_id : int or None
        The id of the stored teach (what undo reverts); None when nothing changed.
    added : int
        Items labeled for the first time.
    relabeled : int
        Items whose label changed (with ``relabel``).
    skipped : int
        Items newly set to ``skip`` (excluded from training and queries).
    unchanged : int
        Entries that repeated an item's current label.
    ignored_blank : int
        Entries with an empty label, ignored.
    """

    teach_id: int | None
    added: int
    relabeled: int
    skipped: int
    unchanged: int
    ignored_blank: int

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class UndoResult:
    """The teach that undo reverted.

    Attributes
    ----------
    teach_id : int
        The id of the reverted teach.
    reverted : int
        Label changes undone (each item's previous label, or none, is back).
    source : str or None
        Where the teach's labels came from (a file, the web page), as it was recorded.
    created_at : str
        When the teach was made (the timestamp stored with it).
    """

    teach_id: int
    reverted: int
    source: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class ExportResult:
    """Files written by export: the labels (or Label Studio tasks), the model, the Label
    Studio labeling config.

    Attributes
    ----------
    labels_path : str
        The labels file (CSV ``id,label,source``) or the Label Studio tasks file.
    n_labels : int
        Labels written, ``skip`` excluded (for Label Studio: the number of tasks).
    model_path : str or None
        The trained model's file, when a model was asked for.
    config_path : str or None
        The Label Studio labeling config, when one was written.
    """

    labels_path: str
    n_labels: int
    model_path: str | None = None
    config_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class CampaignStatus:
    """Where a campaign stands.

    Attributes
    ----------
    items : int
        Items in the data.
    labeled, pending, skipped, unlabeled : int
        Items with a class label; in the current batch and not labeled yet; excluded with
        ``skip``; neither labeled nor skipped.
    per_class : dict
        Labels per class (every class, zeros included).
    rounds, teaches : int
        Queries made; teaches in effect (undone ones excluded).
    accuracy : float or None
        The latest model round's estimated accuracy on the items not yet labeled (the
        value of ``accuracy_estimate``).
    accuracy_note : str
        How the estimate was made, or why there is none.
    strategy, model, data_path : str
        The campaign's settings.
    last_round : dict or None
        ``round``, ``method``, ``created_at``, ``n_labeled`` and, for strategies that report
        them (AutoAL), ``weights``.
    accuracy_estimate : dict or None
        ``value``, ``low``, ``high`` (a 95 % interval), ``labels`` (audit labels it rests
        on), ``method`` (``random-audit``) and ``round``; None before audit labels exist.
        See :mod:`autoal.campaign.audit`.
    history : list of dict
        Per model round: ``round``, ``n_labeled``, the estimate (``value``, ``low``,
        ``high``, ``labels``) and, from the second model round on, ``kappa`` and
        ``changed`` (how the predictions on the unlabeled items changed since the previous
        model round; None otherwise).
    stopping : dict
        The stopping rule's verdict: ``rule``, ``stop`` (bool), ``reason`` and its numbers
        (see :func:`autoal.campaign.stopping.stopping_verdict`).
    """

    items: int
    labeled: int
    pending: int
    skipped: int
    unlabeled: int
    per_class: dict[str, int]
    rounds: int
    teaches: int
    accuracy: float | None
    accuracy_note: str
    strategy: str
    model: str
    data_path: str
    last_round: dict[str, Any] | None
    accuracy_estimate: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    stopping: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class BatchItem:
    """One item of the latest round, with its current label.

    Attributes
    ----------
    id : str
        The item id.
    source : str
        Where the item is, as in :class:`QueryItem`: ``"row 12"`` or the image file's path.
    guess : str or None
        The model's guess when the round was picked (None for a diverse start).
    confidence : float or None
        The guess's probability.
    label : str or None
        The item's label now: a class name, ``"skip"``, or None while it is pending.
    audit : bool
        Drawn at random for the accuracy estimate (its guess is not shown).
    """

    id: str
    source: str
    guess: str | None
    confidence: float | None
    label: str | None
    audit: bool = False

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


@dataclass
class Batch:
    """The latest round's batch as it stands now (see :meth:`~autoal.campaign.Campaign.batch`).

    Attributes
    ----------
    round : int or None
        The round's number; None (and no items) before the first query.
    method : str or None
        How the batch was picked.
    created_at : str or None
        When the round was stored (UTC, ISO 8601).
    n_labeled : int or None
        Labels the round's model was trained on.
    n_requested : int or None
        The batch size asked for.
    items : list of BatchItem
        The round's items still in the data, most informative first, labeled ones included.
    notes : list of str
        The query's messages for the user.
    info : dict
        What the strategy reported (``round_info()``), e.g. AutoAL's ``weights``.
    """

    round: int | None
    method: str | None
    created_at: str | None
    n_labeled: int | None
    n_requested: int | None
    items: list[BatchItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> list[BatchItem]:
        """The items not labeled or skipped yet."""
        return [i for i in self.items if i.label is None]

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        out = asdict(self)
        out["items"] = [i.to_dict() for i in self.items]
        return out


@dataclass
class RoundWeights:
    """The candidate weights a strategy (AutoAL) reported for one round.

    Attributes
    ----------
    round : int
        The round's number.
    n_labeled : int
        Labels the round's model was trained on.
    weights : dict
        Candidate strategy name -> weight (None where the weight was not finite).
    """

    round: int
    n_labeled: int
    weights: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict."""
        return asdict(self)


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is not finite."""
    value = float(value)
    return value if math.isfinite(value) else None


def jsonable(obj: Any) -> Any:
    """Numpy scalars/arrays and tuples to plain JSON types; dict keys to strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)
