"""The one recipe for the simulated loop's TorchClassifier, from a run's settings."""

from __future__ import annotations

from typing import Protocol

from autoal.models.protocol import Requiring, evidence_request
from autoal.models.torch_model import TorchClassifier

__all__ = ["TorchSettings", "torch_classifier_for"]


class TorchSettings(Protocol):
    """The training settings a run holds (``LoopConfig`` and the bench's cells have them)."""

    @property
    def model(self) -> str:
        """Network name (``"auto"``, ``"mlp"``, ``"cnn"``, ``"resnet18"``)."""
        ...

    @property
    def epochs(self) -> int:
        """Training epochs per round."""
        ...

    @property
    def batch_size(self) -> int:
        """Mini-batch size."""
        ...

    @property
    def lr(self) -> float:
        """Adam's learning rate."""
        ...

    @property
    def mc_samples(self) -> int:
        """Monte-Carlo dropout samples ``T``."""
        ...

    @property
    def device(self) -> str:
        """``"auto"``, ``"cpu"`` or ``"cuda"``."""
        ...


def torch_classifier_for(
    strategy: Requiring, settings: TorchSettings, random_state: int
) -> TorchClassifier:
    """An untrained :class:`TorchClassifier` with the run's ``settings``, seeded with
    ``random_state``, trained with a loss-prediction module exactly when ``strategy``
    reads ``predicted_loss`` (:func:`~autoal.models.evidence_request`)."""
    return TorchClassifier(
        model=settings.model,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        mc_samples=settings.mc_samples,
        device=settings.device,
        random_state=random_state,
        loss_module=evidence_request(strategy).loss_module,
    )
