"""Small torch networks, each split into a backbone (-> embedding) and a dropout head."""

from __future__ import annotations

import torch
from torch import nn

from autoal.names import NET_NAMES

__all__ = ["EmbeddingNet", "MLP", "SmallCNN", "ResNet18", "build_net", "NET_NAMES"]


class EmbeddingNet(nn.Module):
    """A backbone that maps inputs to ``embedding_dim`` features, then dropout and a linear head.

    Dropout sits only before the last layer, so Monte-Carlo dropout samples can be drawn from
    the head alone over embeddings computed once: exact for this model and far cheaper.

    Parameters
    ----------
    backbone:
        Maps a batch of inputs to ``(batch, embedding_dim)`` features.
    embedding_dim:
        Width of the backbone's output, the head's input.
    n_classes:
        Number of classes (the head's outputs).
    dropout:
        Dropout rate before the head.
    """

    def __init__(self, backbone: nn.Module, embedding_dim: int, n_classes: int, dropout: float):
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embedding_dim, n_classes)
        self.embedding_dim = embedding_dim
        self.dropout_p = dropout

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embeddings (the head's input), shape ``(batch, embedding_dim)``."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, shape ``(batch, n_classes)``."""
        return self.head(self.dropout(self.backbone(x)))


def _mlp_backbone(n_features: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = n_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers)


class MLP(EmbeddingNet):
    """Multi-layer perceptron for vector data (any input is flattened).

    Parameters
    ----------
    input_shape:
        Shape of one sample; its product is the input width.
    n_classes:
        Number of classes.
    hidden:
        Widths of the hidden ReLU layers; the last one is the embedding.
    dropout:
        Dropout rate before the head.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_classes: int,
        hidden: tuple[int, ...] = (256, 128),
        dropout: float = 0.5,
    ):
        n_features = 1
        for d in input_shape:
            n_features *= int(d)
        super().__init__(_mlp_backbone(n_features, hidden), hidden[-1], n_classes, dropout)


class SmallCNN(EmbeddingNet):
    """Two conv blocks (16 and 32 channels) and a dense layer; made for 28x28 images, any
    size works. Kept narrow so a CPU round over a 20k pool takes seconds.

    Parameters
    ----------
    input_shape:
        ``(channels, height, width)`` of one image.
    n_classes:
        Number of classes.
    embedding_dim:
        Width of the dense layer, the embedding.
    dropout:
        Dropout rate before the head.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_classes: int,
        embedding_dim: int = 128,
        dropout: float = 0.5,
    ):
        channels = int(input_shape[0])
        backbone = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, embedding_dim),
            nn.ReLU(),
        )
        super().__init__(backbone, embedding_dim, n_classes, dropout)


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18(EmbeddingNet):
    """ResNet-18 (He et al. 2016) in its CIFAR form (3x3 stem, no max-pool), plain torch.

    Parameters
    ----------
    input_shape:
        ``(channels, height, width)`` of one image.
    n_classes:
        Number of classes.
    dropout:
        Dropout rate before the head.
    width:
        Channels of the first stage (doubled at each of the next three); the embedding has
        ``8 * width`` features.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_classes: int,
        dropout: float = 0.5,
        width: int = 64,
    ):
        channels = int(input_shape[0])
        layers: list[nn.Module] = [
            nn.Conv2d(channels, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        ]
        c_in = width
        for i, c_out in enumerate((width, 2 * width, 4 * width, 8 * width)):
            stride = 1 if i == 0 else 2
            layers += [_BasicBlock(c_in, c_out, stride), _BasicBlock(c_out, c_out, 1)]
            c_in = c_out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        super().__init__(nn.Sequential(*layers), c_in, n_classes, dropout)


def build_net(
    name: str, input_shape: tuple[int, ...], n_classes: int, dropout: float = 0.5
) -> EmbeddingNet:
    """Build the network ``name`` (one of :data:`NET_NAMES`) for the given input shape."""
    if name == "mlp":
        return MLP(input_shape, n_classes, dropout=dropout)
    if len(input_shape) != 3:
        raise ValueError(f"model {name!r} needs image inputs (C, H, W), got shape {input_shape}")
    if name == "cnn":
        return SmallCNN(input_shape, n_classes, dropout=dropout)
    if name == "resnet18":
        return ResNet18(input_shape, n_classes, dropout=dropout)
    raise ValueError(f"unknown model {name!r}; valid names: {', '.join(NET_NAMES)}")
