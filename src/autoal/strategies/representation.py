"""Which space a diversity strategy measures distances in: the model's embeddings or
label-free features.

Every embedding-based strategy (``kmeans``, ``coreset``, ``typiclust``, ``probcover``,
``uherding``, ``cluster_margin``, ``tcm``) takes the same constructor option
``representation``:

- ``"model"`` (default): the task model's penultimate-layer embeddings
  (``Evidence.embeddings`` / ``Evidence.labeled_embeddings``);
- ``"features"``: a label-free representation of the data computed once per run
  (``Evidence.features`` / ``Evidence.labeled_features``, see :mod:`autoal.features`).
  With 20-100 labels a task model's embeddings are poor, which is why the low-budget
  methods were designed for self-supervised features.
"""

from __future__ import annotations

import numpy as np

from autoal.evidence import Evidence, MissingEvidenceError
from autoal.strategies.base import QueryStrategy

__all__ = [
    "REPRESENTATIONS", "RepresentationStrategy", "check_representation", "raw_space_of", "space_of",
]

#: The accepted values of the ``representation`` option.
REPRESENTATIONS: tuple[str, ...] = ("model", "features")

# Field of each representation: (pool field, labeled field).
_FIELDS = {
    "model": ("embeddings", "labeled_embeddings"),
    "features": ("features", "labeled_features"),
}


def check_representation(representation: str) -> str:
    """Return ``representation`` after checking it is one of :data:`REPRESENTATIONS`."""
    if representation not in REPRESENTATIONS:
        raise ValueError(
            f"representation must be one of {', '.join(map(repr, REPRESENTATIONS))}, "
            f"got {representation!r}"
        )
    return representation


def _has_labeled_set(evidence: Evidence) -> bool:
    for name in ("labeled_embeddings", "labeled_probs", "labeled_targets", "labeled_inputs"):
        value = getattr(evidence, name)
        if value is not None and len(value):
            return True
    return False


def raw_space_of(
    evidence: Evidence, representation: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The pool's and the labeled set's vectors in ``representation``, as stored (a
    memory-mapped float32 pool is not copied); see :func:`space_of` for the checks."""
    pool_name, labeled_name = _FIELDS[check_representation(representation)]
    pool = getattr(evidence, pool_name)
    if pool is None:
        hint = (
            " (representation='features' needs label-free features of the pool: "
            "see autoal.features.label_free_features)"
            if representation == "features"
            else ""
        )
        raise MissingEvidenceError(f"evidence lacks required field(s): {pool_name}{hint}")
    labeled = getattr(evidence, labeled_name)
    if labeled is None and representation == "features" and _has_labeled_set(evidence):
        raise MissingEvidenceError(
            "evidence lacks required field(s): labeled_features (the evidence has a labeled "
            "set, and representation='features' needs its features too)"
        )
    if labeled is not None and labeled.shape[1] != pool.shape[1]:
        raise ValueError(
            f"Evidence.{pool_name} and Evidence.{labeled_name} disagree on the number of "
            f"columns ({pool.shape[1]} vs {labeled.shape[1]})"
        )
    return pool, labeled


def space_of(evidence: Evidence, representation: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The pool's and the labeled set's vectors in ``representation``, as float64.

    The labeled vectors are ``None`` when the evidence has none. Raises
    :class:`~autoal.MissingEvidenceError` naming the missing field: the pool's, or, with
    ``"features"``, ``labeled_features`` when the evidence shows a labeled set (labeled
    embeddings, probabilities, targets or inputs) but not its features, which would
    otherwise silently treat the labeled set as empty.
    """
    pool, labeled = raw_space_of(evidence, representation)
    return (
        np.asarray(pool, dtype=np.float64),
        None if labeled is None else np.asarray(labeled, dtype=np.float64),
    )


class RepresentationStrategy(QueryStrategy):
    """Base of the strategies that measure distances in a space: their ``requires`` follows
    the instance's ``representation``.

    Subclasses list ``required_fields`` for the default (``"model"``) space; built with
    ``representation="features"``, ``embeddings`` becomes ``features`` and
    ``labeled_embeddings`` becomes ``labeled_features``. Subclasses store
    ``representation`` in their constructor (scikit-learn convention: one argument, one
    attribute) and check it with :func:`check_representation` when used.
    """

    representation: str = "model"

    def validate(self) -> None:
        """Check ``representation`` (subclasses check their own parameters too)."""
        super().validate()
        check_representation(self.representation)

    @property
    def requires(self) -> tuple[str, ...]:
        """The evidence fields read, in this instance's representation."""
        if self.representation != "features":
            return tuple(self.required_fields)
        swap = {"embeddings": "features", "labeled_embeddings": "labeled_features"}
        return tuple(swap.get(f, f) for f in self.required_fields)
