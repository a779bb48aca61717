"""A file-backed pool's evidence with Monte-Carlo draws, in bounded memory.

In memory the ``T`` draws of a pool of ``N`` rows and ``C`` classes are a ``(T, N, C)``
float32 array: 4 GB at T = 100, N = 1M, C = 10. For a file-backed pool (a memory map or a
:class:`~autoal.data.PoolArray`) :meth:`TorchClassifier.evidence
<autoal.models.TorchClassifier.evidence>` writes them instead, a chunk of rows at a time,
into a :class:`~autoal.data.draws_file.DrawsFile` (an anonymous scratch file in ``TMPDIR``,
whose free space is checked before any work), which the MC strategies read back a chunk
at a time. When the strategy needs no embeddings (BALD, mean_std, var_ratio), they are not
kept either: each chunk of pool rows is embedded, turned into probabilities and draws, and
dropped.

The draws hold the values of the in-memory path: the same sampled heads
(:meth:`TorchClassifier.mc_heads <autoal.models.TorchClassifier.mc_heads>`), applied to the
same embeddings in the same chunks of rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autoal.data.draws_file import DrawsFile
from autoal.evidence import Evidence, EvidenceRequest

if TYPE_CHECKING:
    from autoal.models.torch_model import TorchClassifier

__all__ = ["MC_CHUNK_ROWS", "POOL_CHUNK_ROWS", "evidence_with_disk_draws"]

#: Pool rows per chunk of MC draws (the in-memory path draws in the same chunks).
MC_CHUNK_ROWS = 2048
#: Pool rows embedded per step when no embeddings are kept: a multiple of
#: :data:`MC_CHUNK_ROWS` and of the 1,024-row chunks of ``TorchClassifier.embed``, so every
#: row is computed in the chunks the in-memory path uses.
POOL_CHUNK_ROWS = 8192


def evidence_with_disk_draws(
    model: TorchClassifier,
    X_pool: Any,
    X_labeled: np.ndarray | None,
    y_labeled: np.ndarray | None,
    request: EvidenceRequest,
    folder: str | Path | None = None,
) -> Evidence:
    """:meth:`TorchClassifier.evidence` for a file-backed pool and ``request.mc_samples > 0``:
    ``mc_probs`` is a :class:`DrawsFile` in ``folder`` (default ``TMPDIR``).

    ``embeddings`` (and ``predicted_loss``, with a loss module) are kept when the model has a
    loss module or ``request`` asks for them (or names no fields); otherwise the pool is
    read in chunks of :data:`POOL_CHUNK_ROWS` rows and only ``probs`` and the draws remain.

    Raises
    ------
    autoal.data.draws_file.ScratchSpaceError
        ``folder`` has less free space than the draws need (``4 T N C`` bytes); raised
        before any work.
    """
    model._check_fitted()
    t, n = request.mc_samples, len(X_pool)
    loss_net = getattr(model, "loss_net_", None)
    keep_emb = loss_net is not None or not request.fields or "embeddings" in request.fields
    draws = DrawsFile(t, n, model.n_classes_, folder)
    try:
        heads = model.mc_heads(t)
        emb = predicted_loss = None
        if keep_emb:
            if loss_net is not None:
                emb, predicted_loss = loss_net.embed_and_predict(model.net_, X_pool,
                                                                 model.device_)
            else:
                emb = model.embed(X_pool)
            probs = model._head_probs(emb)
            for s in range(0, n, MC_CHUNK_ROWS):
                draws.write(s, model.mc_head_probs(emb[s : s + MC_CHUNK_ROWS], heads))
        else:
            probs = np.empty((n, model.n_classes_), dtype=np.float32)
            for s in range(0, n, POOL_CHUNK_ROWS):
                block = model.embed(X_pool[s : s + POOL_CHUNK_ROWS])
                probs[s : s + len(block)] = model._head_probs(block)
                for j in range(0, len(block), MC_CHUNK_ROWS):
                    draws.write(s + j, model.mc_head_probs(block[j : j + MC_CHUNK_ROWS], heads))
        labeled_emb = model.embed(X_labeled) if X_labeled is not None else None
        with_labels = request.with_inputs and y_labeled is not None
        return Evidence(
            probs=probs,
            mc_probs=draws,  # type: ignore[arg-type]  # read like an array, in slices
            embeddings=emb,
            labeled_embeddings=labeled_emb,
            labeled_probs=model._head_probs(labeled_emb) if labeled_emb is not None else None,
            predicted_loss=predicted_loss,
            inputs=X_pool if request.with_inputs else None,
            labeled_inputs=X_labeled if with_labels else None,
            labeled_targets=y_labeled if with_labels else None,
            device=str(model.device_),
        )
    except BaseException:
        draws.close()  # frees the scratch space now, not whenever the draws are collected
        raise
