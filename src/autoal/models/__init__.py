"""Learners behind one adapter: ``fit``, ``predict_proba`` and ``evidence``."""

from autoal.models.device import configure_threads, resolve_device
from autoal.models.nets import MLP, NET_NAMES, ResNet18, SmallCNN, build_net
from autoal.models.sklearn_model import SklearnClassifier
from autoal.models.torch_model import DEFAULT_MC_SAMPLES, TorchClassifier

__all__ = [
    "DEFAULT_MC_SAMPLES",
    "MLP",
    "NET_NAMES",
    "ResNet18",
    "SklearnClassifier",
    "SmallCNN",
    "TorchClassifier",
    "build_net",
    "configure_threads",
    "resolve_device",
]
