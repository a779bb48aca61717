"""autoal: active learning with AutoAL, classical query strategies and a benchmark harness."""

from autoal.evidence import Evidence, MissingEvidenceError

__version__ = "0.1.0"

__all__ = ["Evidence", "MissingEvidenceError", "__version__"]
