"""What a trained model says about a set of samples, computed once per round."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Evidence", "EvidenceRequest", "MissingEvidenceError"]


class MissingEvidenceError(ValueError):
    """Raised when a strategy needs a field of :class:`Evidence` that was not provided."""


# The axis along which each pool-indexed field runs over the N pool samples.
_POOL_AXIS = {
    "probs": 0, "mc_probs": 1, "embeddings": 0, "predicted_loss": 0, "inputs": 0, "features": 0,
}


#: Elements checked per step of the finite check: a bounded temporary for memory-mapped pools.
_FINITE_CHECK_ELEMENTS = 1 << 22


def _all_finite(arr: np.ndarray, axis: int) -> bool:
    """``np.all(np.isfinite(arr))``, read in slices along ``axis`` of about 4M elements each."""
    n = arr.shape[axis] if arr.ndim else 1
    per_row = max(1, arr.size // max(n, 1))
    step = max(1, _FINITE_CHECK_ELEMENTS // per_row)
    for start in range(0, n, step):
        block = arr[(slice(None),) * axis + (slice(start, start + step),)]
        if not np.isfinite(block).all():
            return False
    return True


def _as_float(name: str, value: np.ndarray | None, ndim: int) -> np.ndarray | None:
    # Floating arrays (float32 memory maps included) are kept as they are, never copied whole.
    if value is None:
        return None
    from autoal.data.draws_file import DrawsFile

    # Monte-Carlo draws in a scratch file are read a slice at a time, never copied whole.
    arr: Any = value if isinstance(value, DrawsFile) else np.asarray(value)
    if arr.ndim != ndim:
        raise ValueError(f"Evidence.{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if not _all_finite(arr, _POOL_AXIS.get(name, 0)):
        raise ValueError(f"Evidence.{name} contains NaN or infinite values")
    return arr


def _check_finite_inputs(name: str, value: np.ndarray | None) -> None:
    """Raw inputs keep their dtype; float ones must still be finite."""
    if value is None:
        return
    # read in slices: a memory-mapped pool (or a PoolArray) is never copied whole
    from autoal.data.pool_array import PoolArray

    arr = value if isinstance(value, PoolArray) else np.asarray(value)
    if np.issubdtype(arr.dtype, np.inexact) and not (
        _all_finite(arr, 0) if arr.ndim else np.isfinite(arr).all()
    ):
        raise ValueError(f"Evidence.{name} contains NaN or infinite values")


@dataclass(frozen=True)
class Evidence:
    """Model outputs over an unlabeled pool of ``N`` samples; every field is optional.

    Parameters
    ----------
    probs:
        Class probabilities, shape ``(N, C)``.
    mc_probs:
        Monte-Carlo dropout samples of the class probabilities, shape ``(T, N, C)``.
    embeddings:
        The penultimate-layer representation (input of the classifier head), ``(N, D)``.
    labeled_embeddings:
        The same representation of the labeled samples, ``(n_labeled, D)``.
    labeled_probs:
        The model's class probabilities on the labeled samples, ``(n_labeled, C)``. The
        simulated loop keeps labeled samples in the order they were labeled (initial set
        first, then each round's batch), which stateful strategies such as ALBL rely on.
    predicted_loss:
        A loss-prediction module's estimate of each sample's loss, ``(N,)``.
    inputs, labeled_inputs, labeled_targets:
        Raw model inputs of the pool and of the labeled set, and the labeled set's class ids.
        AutoAL's search trains its own small nets on the labeled data; strategies that
        calibrate the model's probabilities (e.g. ``uherding``) read ``labeled_targets``.
    features, labeled_features:
        A label-free representation of the pool, ``(N, F)``, and of the labeled set,
        ``(n_labeled, F)``, computed once per run (e.g. by
        :func:`autoal.features.label_free_features`, or the user's own vectors). Diversity
        strategies built with ``representation="features"`` measure distances here instead
        of in the task model's embeddings.
    device:
        The torch device of the task model that produced the evidence (e.g. ``"cpu"``,
        ``"cuda:0"``), or None when unknown; AutoAL trains its FitNets there by default.
    """

    probs: np.ndarray | None = None
    mc_probs: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    labeled_embeddings: np.ndarray | None = None
    labeled_probs: np.ndarray | None = None
    predicted_loss: np.ndarray | None = None
    inputs: np.ndarray | None = None
    labeled_inputs: np.ndarray | None = None
    labeled_targets: np.ndarray | None = None
    features: np.ndarray | None = None
    labeled_features: np.ndarray | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        for name, ndim in (
            ("probs", 2),
            ("mc_probs", 3),
            ("embeddings", 2),
            ("labeled_embeddings", 2),
            ("labeled_probs", 2),
            ("predicted_loss", 1),
            ("features", 2),
            ("labeled_features", 2),
        ):
            object.__setattr__(self, name, _as_float(name, getattr(self, name), ndim))
        sizes = self._pool_sizes()
        if len(set(sizes.values())) > 1:
            raise ValueError(f"Evidence fields disagree on the pool size: {sizes}")
        if (
            self.probs is not None
            and self.mc_probs is not None
            and self.probs.shape[1] != self.mc_probs.shape[2]
        ):
            raise ValueError(
                "Evidence.probs and Evidence.mc_probs disagree on the number of classes"
            )
        if (
            self.features is not None
            and self.labeled_features is not None
            and self.features.shape[1] != self.labeled_features.shape[1]
        ):
            raise ValueError(
                "Evidence.features and Evidence.labeled_features disagree on the number of "
                f"feature columns ({self.features.shape[1]} vs {self.labeled_features.shape[1]})"
            )
        if (self.labeled_inputs is None) != (self.labeled_targets is None):
            raise ValueError("Evidence.labeled_inputs and labeled_targets must be given together")
        for name in ("inputs", "labeled_inputs"):
            _check_finite_inputs(name, getattr(self, name))
        if self.labeled_targets is not None:
            object.__setattr__(
                self, "labeled_targets", self._class_ids(np.asarray(self.labeled_targets))
            )
            assert self.labeled_inputs is not None  # given together (checked above)
            if len(self.labeled_targets) != len(self.labeled_inputs):
                raise ValueError(
                    f"Evidence.labeled_targets has {len(self.labeled_targets)} entries but "
                    f"labeled_inputs has {len(self.labeled_inputs)} rows"
                )

    def _class_ids(self, targets: np.ndarray) -> np.ndarray:
        """``targets`` as int64 class ids, refusing NaN, fractions, negatives and ids past the
        number of classes that ``probs`` (or ``mc_probs``, ``labeled_probs``) implies."""
        if targets.ndim != 1:
            raise ValueError(f"Evidence.labeled_targets must be 1-D, got shape {targets.shape}")
        if targets.dtype.kind not in "biuf":
            raise ValueError(f"Evidence.labeled_targets must be class ids, got {targets.dtype}")
        if targets.dtype.kind == "f" and not np.all(
            np.isfinite(targets) & (targets == np.round(targets))
        ):
            raise ValueError("Evidence.labeled_targets holds values that are not class ids "
                             "(NaN, infinite or fractional)")
        ids = targets.astype(np.int64)
        n_classes = next(
            (a.shape[-1] for a in (self.probs, self.mc_probs, self.labeled_probs)
             if a is not None),
            None,
        )
        if len(ids) and (ids.min() < 0 or (n_classes is not None and ids.max() >= n_classes)):
            top = "C-1" if n_classes is None else n_classes - 1
            raise ValueError(
                f"Evidence.labeled_targets holds ids outside 0..{top}: {ids.min()}..{ids.max()}"
            )
        return ids

    def _pool_sizes(self) -> dict[str, int]:
        """The pool size each given pool-indexed field implies."""
        return {
            name: int(getattr(self, name).shape[axis])
            for name, axis in _POOL_AXIS.items()
            if getattr(self, name) is not None
        }

    @property
    def n_samples(self) -> int:
        """Number of pool samples ``N`` the evidence describes."""
        sizes = self._pool_sizes()
        if not sizes:
            raise MissingEvidenceError("Evidence is empty: no field gives the pool size")
        return next(iter(sizes.values()))

    def require(self, *names: str) -> None:
        """Raise :class:`MissingEvidenceError` naming every field in ``names`` that is None."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise MissingEvidenceError(
                "evidence lacks required field(s): " + ", ".join(missing)
            )

    def grad_embeddings(self) -> np.ndarray:
        """BADGE gradient embeddings in closed form, shape ``(N, C * D)``.

        The gradient of the cross-entropy loss, at the model's own most likely label, with
        respect to the last linear layer's weights is ``(p - onehot(argmax p)) (x) e``;
        no backward pass is needed.
        """
        delta, emb = self.grad_factors()
        return (delta[:, :, None] * emb[:, None, :]).reshape(len(delta), -1)

    def grad_factors(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The two factors of the gradient embeddings: ``p - onehot(argmax p)`` (N, C) and the
        embeddings (N, D). Inner products factor too, ``<g_i, g_j> = (d_i . d_j)(e_i . e_j)``,
        so BADGE never needs the ``(N, C * D)`` matrix.

        ``rows`` (sorted indices) restricts both factors to those pool samples. The factors
        are float64 copies: callers that face a large pool pass ``rows`` or use
        :meth:`grad_sq_norms`, which reads the pool in chunks.
        """
        self.require("probs", "embeddings")
        probs, emb = self.probs, self.embeddings
        assert probs is not None and emb is not None
        if rows is not None:
            probs, emb = probs[rows], emb[rows]
        delta = np.asarray(probs, dtype=np.float64).copy()
        delta[np.arange(len(delta)), probs.argmax(axis=1)] -= 1.0
        return delta, np.asarray(emb, dtype=np.float64)

    def grad_sq_norms(self) -> np.ndarray:
        """Squared norms of the gradient embeddings, ``|d_i|^2 |e_i|^2``, shape ``(N,)``,
        computed a bounded chunk of rows at a time (:mod:`autoal.chunks`)."""
        from autoal.chunks import chunk_rows

        self.require("probs", "embeddings")
        n = self.n_samples
        out = np.empty(n)
        assert self.probs is not None and self.embeddings is not None
        chunk = chunk_rows(self.probs.shape[1] + self.embeddings.shape[1])
        for start in range(0, n, chunk):
            delta, emb = self.grad_factors(np.arange(start, min(n, start + chunk)))
            out[start : start + len(delta)] = np.einsum("ij,ij->i", delta, delta) * np.einsum(
                "ij,ij->i", emb, emb
            )
        return out

#: Evidence fields that only ride along with the raw data (``EvidenceRequest.with_inputs``).
INPUT_FIELDS = ("inputs", "labeled_inputs", "labeled_targets")


@dataclass(frozen=True)
class EvidenceRequest:
    """What a learner's ``evidence`` must compute for a strategy (see
    :func:`autoal.models.evidence_request`, which builds it from a strategy's ``requires``).

    Parameters
    ----------
    fields:
        The :class:`Evidence` fields the strategy reads; :meth:`missing` checks them.
    mc_samples:
        Number ``T`` of Monte-Carlo dropout samples to draw for ``mc_probs`` (0: none).
    with_inputs:
        Attach the raw inputs of the pool and of the labeled set and the labeled class ids
        (``inputs``, ``labeled_inputs``, ``labeled_targets``).
    loss_module:
        The learner must be trained with a loss-prediction module (``predicted_loss``).
        It is a training-time setting: ``evidence`` cannot add it to a fitted learner.
    """

    fields: tuple[str, ...] = ()
    mc_samples: int = 0
    with_inputs: bool = False
    loss_module: bool = False

    def __post_init__(self) -> None:
        unknown = [f for f in self.fields if f not in Evidence.__dataclass_fields__]
        if unknown:
            raise ValueError(f"EvidenceRequest names unknown Evidence field(s): {unknown}")
        if isinstance(self.mc_samples, bool) or int(self.mc_samples) != self.mc_samples or (
            self.mc_samples < 0
        ):
            raise ValueError(f"mc_samples must be a non-negative integer, got {self.mc_samples}")

    def missing(self, evidence: Evidence) -> tuple[str, ...]:
        """The requested fields that ``evidence`` lacks (empty when it has them all)."""
        return tuple(f for f in self.fields if getattr(evidence, f) is None)
