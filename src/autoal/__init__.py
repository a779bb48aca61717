"""autoal: active learning with AutoAL, classical query strategies and a benchmark harness.

``from autoal import ActiveLearner`` is the Python entry point (see :mod:`autoal.learner`);
it is imported on first use, so that ``import autoal`` stays light (no torch).
"""

from typing import TYPE_CHECKING, Any

from autoal.evidence import Evidence, EvidenceRequest, MissingEvidenceError

if TYPE_CHECKING:  # type checkers see the class; at run time it is imported on first use
    from autoal.learner import ActiveLearner

__version__ = "0.1.0"

__all__ = ["ActiveLearner", "Evidence", "EvidenceRequest", "MissingEvidenceError", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "ActiveLearner":
        from autoal.learner import ActiveLearner

        return ActiveLearner
    raise AttributeError(f"module 'autoal' has no attribute {name!r}")
