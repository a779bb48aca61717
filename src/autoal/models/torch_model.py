"""Torch learner behind the common adapter: fit, predict_proba, evidence."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from autoal.data.pool_array import is_file_backed
from autoal.evidence import Evidence, EvidenceRequest
from autoal.models.device import input_tensor, resolve_device
from autoal.models.disk_draws import MC_CHUNK_ROWS, evidence_with_disk_draws
from autoal.models.loss_module import DETACH_AFTER, LossPredictionModule
from autoal.models.nets import EmbeddingNet, build_net

__all__ = ["TorchClassifier", "DEFAULT_MC_SAMPLES"]

# Head-only MC passes are cheap, so draw enough for stable rankings (see docs/RESULTS.md:
# at T=10 two independent BALD top-100s overlap far less than at T=100).
DEFAULT_MC_SAMPLES = 100
#: Pool rows per chunk when a file-backed pool's probabilities are computed without keeping
#: its embeddings (see :meth:`TorchClassifier.evidence`).
PROBS_CHUNK_ROWS = 8192


class TorchClassifier(BaseEstimator):
    """A torch network trained from scratch by :meth:`fit`, with a dropout head.

    A :class:`~autoal.models.Learner`, and a scikit-learn estimator as far as ``get_params``,
    ``set_params`` and ``sklearn.base.clone`` go.

    Parameters
    ----------
    model:
        ``"mlp"``, ``"cnn"`` or ``"resnet18"``; ``"auto"`` picks ``cnn`` for images
        (inputs with 3 dimensions per sample) and ``mlp`` otherwise.
    epochs, batch_size, lr, weight_decay:
        Adam training schedule; the same for every round.
    dropout:
        Dropout rate before the head; also the rate of the MC dropout samples.
    mc_samples:
        Number ``T`` of Monte-Carlo dropout samples in :meth:`evidence`.
    device:
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    random_state:
        Seeds the weight initialisation, the batch order and the dropout masks.
    loss_module:
        Train Yoo & Kweon's loss-prediction module jointly with the network (see
        :mod:`autoal.models.loss_module`) and fill ``Evidence.predicted_loss``.
    """

    def __init__(
        self,
        model: str = "auto",
        epochs: int = 20,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        dropout: float = 0.5,
        mc_samples: int = DEFAULT_MC_SAMPLES,
        device: str = "auto",
        random_state: int | None = 0,
        loss_module: bool = False,
    ) -> None:
        self.model = model
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.mc_samples = mc_samples
        self.device = device
        self.random_state = random_state
        self.loss_module = loss_module

    # -- training ---------------------------------------------------------------------------
    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        n_classes: int | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> TorchClassifier:
        """Train a fresh network on ``(X, y)``; ``n_classes`` defaults to ``max(y) + 1``.

        ``sample_weight`` (non-negative, one per sample) weights each sample's cross-entropy
        within its batch; the loss module's ranking loss stays unweighted.
        """
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=np.int64)
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"fit needs matching non-empty X and y, got {len(X)} and {len(y)}")
        weights = None
        if sample_weight is not None:
            weights = torch.as_tensor(np.asarray(sample_weight, dtype=np.float32))
            if weights.shape != (len(y),) or bool((weights < 0).any()):
                raise ValueError("sample_weight must be one non-negative weight per sample")
        self.n_classes_ = int(n_classes if n_classes is not None else y.max() + 1)
        self.input_shape_ = tuple(X.shape[1:])
        self.device_ = resolve_device(self.device)
        seed = 0 if self.random_state is None else int(self.random_state)
        torch.manual_seed(seed)
        name = self.model
        if name == "auto":
            name = "cnn" if len(self.input_shape_) == 3 else "mlp"
        self.net_: EmbeddingNet = build_net(
            name, self.input_shape_, self.n_classes_, dropout=self.dropout
        ).to(self.device_)
        self._generator = torch.Generator().manual_seed(seed + 1)
        self.loss_net_: LossPredictionModule | None = None
        params = list(self.net_.parameters())
        if self.loss_module:
            self.loss_net_ = LossPredictionModule.for_net(
                self.net_, self.input_shape_, seed=seed + 3
            )
            params += list(self.loss_net_.parameters())
        optimiser = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.CrossEntropyLoss()
        loss_fn_each = nn.CrossEntropyLoss(reduction="none")
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        self.net_.train()
        for epoch in range(self.epochs):
            order = torch.randperm(len(Xt), generator=self._generator)
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                if len(idx) < 2 and len(order) > 1:
                    continue  # BatchNorm cannot train on a batch of one
                xb, yb = Xt[idx].to(self.device_), yt[idx].to(self.device_)
                wb = None if weights is None else weights[idx].to(self.device_)
                optimiser.zero_grad(set_to_none=True)
                if self.loss_net_ is not None:
                    detach = epoch >= round(DETACH_AFTER * self.epochs)
                    self.loss_net_.joint_loss(
                        self.net_, xb, yb, detach=detach, sample_weight=wb
                    ).backward()
                elif wb is not None:
                    per_sample = loss_fn_each(self.net_(xb), yb)
                    ((wb * per_sample).sum() / wb.sum().clamp_min(1e-12)).backward()
                else:
                    loss_fn(self.net_(xb), yb).backward()
                optimiser.step()
        self.net_.eval()
        if self.loss_net_ is not None:
            self.loss_net_.eval()
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise RuntimeError("this TorchClassifier is not fitted yet; call fit first")

    # -- inference ----------------------------------------------------------------------------
    @torch.no_grad()
    def embed(self, X: np.ndarray, chunk: int = 1024) -> np.ndarray:
        """Embeddings of ``X`` in one backbone pass, in chunks, shape ``(N, D)``."""
        self._check_fitted()
        if not hasattr(X, "shape"):
            X = np.asarray(X, dtype=np.float32)
        # Filled chunk by chunk: a memory-mapped pool (or a PoolArray) is read a slice at a
        # time and never copied whole; the values are those of one pass over float32 X.
        out = np.empty((len(X), self.net_.embedding_dim), dtype=np.float32)
        for s in range(0, len(X), chunk):
            out[s : s + chunk] = self.net_.embed(input_tensor(X[s : s + chunk], self.device_)).cpu()
        return out

    @torch.no_grad()
    def _head_probs(self, emb: np.ndarray) -> np.ndarray:
        e = torch.from_numpy(emb).to(self.device_)
        return torch.softmax(self.net_.head(e), dim=1).cpu().numpy()

    @torch.no_grad()
    def mc_probs_from_embeddings(
        self, emb: np.ndarray, mc_samples: int, chunk: int = MC_CHUNK_ROWS
    ) -> np.ndarray:
        """``T`` dropout samples of the class probabilities from the head alone, ``(T, N, C)``.

        Draw ``t`` drops the same embedding units for every sample: it is one sample of the
        head's weights, ``W diag(mask_t) / (1 - p)``, applied to the whole pool, as in Gal &
        Ghahramani's reading of dropout as a weight posterior. Each sample's T draws are
        still independent (so its scores have the same distribution as with per-sample
        masks), comparisons between samples share their noise, and the cost is T small
        matrix products instead of T x N x D random numbers.
        """
        heads = self.mc_heads(mc_samples)
        out = np.empty((mc_samples, len(emb), self.n_classes_), dtype=np.float32)
        for s in range(0, len(emb), chunk):
            out[:, s : s + chunk] = self.mc_head_probs(emb[s : s + chunk], heads)
        return out

    @torch.no_grad()
    def mc_heads(self, mc_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``T`` dropout samples of the head's weights ``(T, C, D)`` and its bias; the
        same every call (the masks' generator is seeded from ``random_state``)."""
        self._check_fitted()
        p = self.net_.dropout_p
        W, b = self.net_.head.weight, self.net_.head.bias
        gen = torch.Generator(device=self.device_).manual_seed(
            (0 if self.random_state is None else int(self.random_state)) + 2
        )
        keep = torch.rand((mc_samples, W.shape[1]), generator=gen, device=self.device_) >= p
        return W[None] * keep[:, None, :] / (1.0 - p), b.detach()  # (T, C, D), (C,)

    @torch.no_grad()
    def mc_head_probs(self, emb: np.ndarray,
                      heads: tuple[torch.Tensor, torch.Tensor]) -> np.ndarray:
        """The sampled heads' (:meth:`mc_heads`) probabilities on embeddings ``emb``,
        ``(T, len(emb), C)``."""
        weights, b = heads
        e = torch.from_numpy(np.ascontiguousarray(emb)).to(self.device_)
        logits = torch.einsum("nd,tcd->tnc", e, weights) + b
        return torch.softmax(logits, dim=2).cpu().numpy()

    @torch.no_grad()
    def _probs_evidence(self, X_pool: Any, X_labeled: np.ndarray | None,
                        y_labeled: np.ndarray | None, request: EvidenceRequest) -> Evidence:
        """:meth:`evidence` without pool embeddings: probabilities chunk by chunk."""
        self._check_fitted()
        probs = np.empty((len(X_pool), self.n_classes_), dtype=np.float32)
        for s in range(0, len(X_pool), PROBS_CHUNK_ROWS):
            emb = self.net_.embed(input_tensor(X_pool[s : s + PROBS_CHUNK_ROWS], self.device_))
            probs[s : s + PROBS_CHUNK_ROWS] = torch.softmax(self.net_.head(emb), dim=1).cpu()
        labeled_emb = self.embed(X_labeled) if X_labeled is not None else None
        with_labels = request.with_inputs and y_labeled is not None
        return Evidence(
            probs=probs,
            labeled_embeddings=labeled_emb,
            labeled_probs=self._head_probs(labeled_emb) if labeled_emb is not None else None,
            inputs=X_pool if request.with_inputs else None,
            labeled_inputs=X_labeled if with_labels else None,
            labeled_targets=y_labeled if with_labels else None,
            device=str(self.device_),
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, C)`` with dropout off."""
        return self._head_probs(self.embed(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most likely class id per sample."""
        return self.predict_proba(X).argmax(axis=1)

    def evidence(
        self,
        X_pool: np.ndarray,
        X_labeled: np.ndarray | None = None,
        y_labeled: np.ndarray | None = None,
        *,
        request: EvidenceRequest | None = None,
    ) -> Evidence:
        """Everything the strategies need about the pool, from one backbone pass over it.

        Always ``probs`` and ``embeddings`` (and ``labeled_embeddings``, ``labeled_probs``
        when ``X_labeled`` is given); ``predicted_loss`` when trained with the loss module;
        ``request.mc_samples`` MC samples (``request=None``: the constructor's ``T``); with
        ``request.with_inputs`` the raw inputs and labels ride along for AutoAL's search.

        Two exceptions keep a large file-backed pool (a memory map or a
        :class:`~autoal.data.PoolArray`) in bounded memory. When ``request`` names its
        fields, without ``embeddings``, and asks for no MC samples nor a loss module (e.g.
        margin's), ``probs`` are computed a chunk of rows at a time and no ``(N, D)``
        embeddings are kept (``embeddings`` is None). When it asks for MC samples, they go
        to a scratch file in ``TMPDIR`` (``4 T N C`` bytes, its free space checked first)
        that the strategies read back in slices (:mod:`autoal.models.disk_draws`; again
        without embeddings when the request names fields without them).
        """
        if request is None:
            request = EvidenceRequest(mc_samples=self.mc_samples)
        predicted_loss = None
        loss_net = getattr(self, "loss_net_", None)
        if (loss_net is None and request.fields and "embeddings" not in request.fields
                and request.mc_samples == 0 and is_file_backed(X_pool)):
            return self._probs_evidence(X_pool, X_labeled, y_labeled, request)
        if request.mc_samples > 0 and is_file_backed(X_pool):
            return evidence_with_disk_draws(self, X_pool, X_labeled, y_labeled, request)
        if loss_net is not None:
            self._check_fitted()
            emb, predicted_loss = loss_net.embed_and_predict(self.net_, X_pool, self.device_)
        else:
            emb = self.embed(X_pool)
        t = request.mc_samples
        with_inputs = request.with_inputs
        labeled_emb = self.embed(X_labeled) if X_labeled is not None else None
        return Evidence(
            probs=self._head_probs(emb),
            mc_probs=self.mc_probs_from_embeddings(emb, t) if t > 0 else None,
            embeddings=emb,
            labeled_embeddings=labeled_emb,
            labeled_probs=self._head_probs(labeled_emb) if labeled_emb is not None else None,
            predicted_loss=predicted_loss,
            inputs=X_pool if with_inputs else None,
            labeled_inputs=X_labeled if with_inputs and y_labeled is not None else None,
            labeled_targets=y_labeled if with_inputs and y_labeled is not None else None,
            device=str(self.device_),
        )
