"""Learners behind one contract (:class:`Learner`: ``fit``, ``predict_proba``, ``evidence``),
and :func:`evidence_request`, which says what a strategy's evidence must hold."""

from autoal.evidence import EvidenceRequest
from autoal.models.device import configure_threads, resolve_device
from autoal.models.factory import TorchSettings, torch_classifier_for
from autoal.models.nets import MLP, NET_NAMES, ResNet18, SmallCNN, build_net
from autoal.models.protocol import Learner, evidence_request
from autoal.models.sklearn_model import SklearnClassifier
from autoal.models.torch_model import DEFAULT_MC_SAMPLES, TorchClassifier

__all__ = [
    "DEFAULT_MC_SAMPLES",
    "EvidenceRequest",
    "Learner",
    "MLP",
    "NET_NAMES",
    "ResNet18",
    "SklearnClassifier",
    "SmallCNN",
    "TorchClassifier",
    "TorchSettings",
    "build_net",
    "configure_threads",
    "evidence_request",
    "resolve_device",
    "torch_classifier_for",
]
