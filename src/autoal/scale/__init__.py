"""Large pools: synthetic pools, chunked evidence, sharded scoring and cells on Ray.

Nothing here imports Ray until a Ray function is called; ``pip install autoal[ray]`` brings it.
"""

from autoal.scale.head import LinearHead
from autoal.scale.synthetic import mixture_embeddings, synthetic_head, write_synthetic_pool

__all__ = ["LinearHead", "mixture_embeddings", "synthetic_head", "write_synthetic_pool"]
