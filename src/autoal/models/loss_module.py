"""The loss-prediction module of Yoo & Kweon (CVPR 2019), attached to a task network.

A small network reads the task model's intermediate features (each globally average-pooled,
then a dense layer and a ReLU per feature, concatenated, then a dense layer to one number)
and predicts each sample's loss. It is trained jointly with the task model on
``CE + lambda * ranking_loss``, where the pairwise ranking loss only asks the predictions of
two samples to be ordered like their true losses (with a margin), so the module needs no
calibration of the loss scale. After a fraction of the epochs its input features are
detached, so that the module stops shaping the backbone (Yoo & Kweon detach at epoch 120 of
200). At query time, samples are ranked by predicted loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autoal.models.device import input_tensor
from autoal.models.nets import EmbeddingNet

__all__ = [
    "LOSS_WEIGHT",
    "RANKING_MARGIN",
    "DETACH_AFTER",
    "LossPredictionModule",
    "feature_taps",
    "tapped_forward",
    "ranking_loss",
]

#: ``lambda``, the weight of the ranking loss in the joint objective (Yoo & Kweon: 1.0).
LOSS_WEIGHT = 1.0
#: ``xi``, the margin of the pairwise ranking loss (Yoo & Kweon: 1.0).
RANKING_MARGIN = 1.0
#: Fraction of the epochs after which the module's input features are detached (120/200).
DETACH_AFTER = 0.6


def ranking_loss(
    predicted: torch.Tensor, target: torch.Tensor, margin: float = RANKING_MARGIN
) -> torch.Tensor:
    """Yoo & Kweon's pairwise ranking loss between predicted and true per-sample losses.

    The batch is split into pairs ``(i, j)`` (the first half against the reversed second
    half); each pair costs ``max(0, margin - sign(l_i - l_j) * (lhat_i - lhat_j))``; the
    result is the mean over pairs. A trailing odd sample is left out; fewer than two
    samples give a zero loss that still carries a (zero) gradient.

    Parameters
    ----------
    predicted:
        Predicted losses, shape ``(B,)``.
    target:
        True losses, shape ``(B,)`` (detach them: they are a target, not a path for gradient).
    margin:
        The margin ``xi``.
    """
    if predicted.shape != target.shape or predicted.dim() != 1:
        raise ValueError(
            f"ranking_loss needs two 1-D tensors of one shape, got {tuple(predicted.shape)} "
            f"and {tuple(target.shape)}"
        )
    half = len(predicted) // 2
    if half == 0:
        return predicted.sum() * 0.0
    p_i, p_j = predicted[:half], predicted[half : 2 * half].flip(0)
    t_i, t_j = target[:half], target[half : 2 * half].flip(0)
    sign = 2.0 * (t_i > t_j).to(predicted.dtype) - 1.0
    return torch.clamp(margin - sign * (p_i - p_j), min=0.0).mean()


def _pool(feature: torch.Tensor) -> torch.Tensor:
    """Global average pooling of a ``(B, C, H, W)`` map; other tensors are flattened."""
    if feature.dim() == 4:
        return feature.mean(dim=(2, 3))
    return feature.flatten(1)


def feature_taps(backbone: nn.Module, input_shape: Sequence[int], intermediate: bool = True
                 ) -> list[int]:
    """Which outputs of a sequential backbone the module reads: indices of its children.

    The last child (the embedding) is always read. With ``intermediate``, so is the last
    output of every stage of constant width (channels of a feature map, units of a dense
    layer) from the first layer with weights on: after each conv block of the small CNN, each
    ResNet stage, each hidden layer of the MLP. ``Flatten`` outputs are never read. A backbone
    that is not an ``nn.Sequential`` is read at its output only.
    """
    children = list(backbone.children()) if isinstance(backbone, nn.Sequential) else []
    if not children:
        return [-1]
    last = len(children) - 1
    if not intermediate:
        return [last]
    was_training = backbone.training
    backbone.eval()
    device = next((p.device for p in backbone.parameters()), torch.device("cpu"))
    shapes: list[tuple[int, ...]] = []
    with torch.no_grad():
        x = torch.zeros((2, *input_shape), device=device)
        for child in children:
            x = child(x)
            shapes.append(tuple(x.shape[1:]))
    backbone.train(was_training)
    first = next(
        (i for i, c in enumerate(children) if any(True for _ in c.parameters())), 0
    )
    taps = [
        i
        for i in range(first, last)
        if not isinstance(children[i], nn.Flatten) and shapes[i][0] != shapes[i + 1][0]
    ]
    return [*taps, last]


def tapped_forward(
    backbone: nn.Module, x: torch.Tensor, taps: Sequence[int]
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run ``backbone`` on ``x``; return its output (the embedding) and the tapped outputs."""
    if list(taps) == [-1]:
        out = backbone(x)
        return out, [out]
    wanted = set(taps)
    features: list[torch.Tensor] = []
    for i, child in enumerate(backbone.children()):
        x = child(x)
        if i in wanted:
            features.append(x)
    return x, features


class LossPredictionModule(nn.Module):
    """Predicts a sample's loss from tapped features of the task network.

    Parameters
    ----------
    in_dims:
        Width of each tapped feature after global average pooling.
    taps:
        Indices of the backbone's children to read (see :func:`feature_taps`).
    width:
        Units of the dense layer per feature (Yoo & Kweon: 128).
    """

    def __init__(self, in_dims: Sequence[int], taps: Sequence[int], width: int = 128) -> None:
        super().__init__()
        if len(in_dims) != len(taps) or not in_dims:
            raise ValueError("LossPredictionModule needs one input width per tap")
        self.taps = list(taps)
        self.branches = nn.ModuleList(nn.Linear(int(d), width) for d in in_dims)
        self.out = nn.Linear(width * len(in_dims), 1)

    @classmethod
    def for_net(
        cls,
        net: EmbeddingNet,
        input_shape: Sequence[int],
        *,
        intermediate: bool = True,
        width: int = 128,
        seed: int = 0,
    ) -> LossPredictionModule:
        """Build a module for ``net`` (an :class:`~autoal.models.nets.EmbeddingNet`).

        Its weights are drawn from a generator seeded with ``seed`` without touching torch's
        global random state, so the task network trains with the same dropout masks as
        without the module.
        """
        backbone = net.backbone
        taps = feature_taps(backbone, input_shape, intermediate)
        was_training = backbone.training
        backbone.eval()
        device = next((p.device for p in net.parameters()), torch.device("cpu"))
        with torch.no_grad():
            _, feats = tapped_forward(backbone, torch.zeros((2, *input_shape), device=device),
                                      taps)
        backbone.train(was_training)
        dims = [_pool(f).shape[1] for f in feats]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = cls(dims, taps, width)
        return module.to(device)

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """Predicted loss per sample, shape ``(B,)``, from the tapped features."""
        hidden = [
            F.relu(branch(_pool(f))) for branch, f in zip(self.branches, features, strict=True)
        ]
        return self.out(torch.cat(hidden, dim=1)).squeeze(1)

    def joint_loss(
        self,
        net: EmbeddingNet,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        detach: bool,
        weight: float = LOSS_WEIGHT,
        margin: float = RANKING_MARGIN,
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``mean CE + weight * ranking_loss`` on a batch, for one joint training step.

        ``net`` is the task network (backbone, dropout, head); with ``detach`` the module
        reads detached features, so its loss no longer reaches the backbone. With
        ``sample_weight`` the cross-entropy is a weighted mean.
        """
        emb, feats = tapped_forward(net.backbone, x, self.taps)
        logits = net.head(net.dropout(emb))
        per_sample = F.cross_entropy(logits, y, reduction="none")
        if detach:
            feats = [f.detach() for f in feats]
        predicted = self(feats)
        if sample_weight is None:
            ce = per_sample.mean()
        else:
            ce = (sample_weight * per_sample).sum() / sample_weight.sum().clamp_min(1e-12)
        return ce + weight * ranking_loss(predicted, per_sample.detach(), margin)

    @torch.no_grad()
    def embed_and_predict(
        self, net: EmbeddingNet, X: np.ndarray, device: torch.device, chunk: int = 1024
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings ``(N, D)`` and predicted losses ``(N,)`` of ``X`` in one backbone pass."""
        if not hasattr(X, "shape"):
            X = np.asarray(X, dtype=np.float32)
        embs = np.empty((len(X), net.embedding_dim), dtype=np.float32)
        preds = np.empty(len(X), dtype=np.float32)
        for s in range(0, len(X), chunk):  # a memory-mapped pool is read a slice at a time
            emb, feats = tapped_forward(net.backbone, input_tensor(X[s : s + chunk], device),
                                        self.taps)
            embs[s : s + chunk] = emb.cpu()
            preds[s : s + chunk] = self(feats).cpu().reshape(-1)
        return embs, preds
