"""The course's reference models: the source post's networks, defined once.

The lessons write each model by hand (that is what they teach); the exercise checkers, the
benchmark and the tests build the same networks from here, so a change to a reference model is
made in one place.

    boston_regression_mlp   13-30-15-8-1, ReLU between layers (lesson 01, the source's model)
    boston_binary_mlp       13-32-16-1, with the source's final nn.Sigmoid (lesson 02)
    boston_band_mlp         13-32-16-3, logits for three price bands (lesson 03, the course's model)
    MNIST_Classifier        784-128-64-10, the source's class for MNIST (lesson 04)
    Standardize             lesson 04's first step: uint8 pixels -> float32 (x - mean) / std
"""

from __future__ import annotations

import torch
from torch import nn


def boston_regression_mlp(inputs: int = 13) -> nn.Sequential:
    """The source's regression network: features (N, inputs) -> prices (N, 1)."""
    return nn.Sequential(
        nn.Linear(inputs, 30), nn.ReLU(), nn.Linear(30, 15), nn.ReLU(),
        nn.Linear(15, 8), nn.ReLU(), nn.Linear(8, 1),
    )


def boston_binary_mlp(*, sigmoid: bool = True) -> nn.Sequential:
    """The source's binary classifier: features (N, 13) -> probabilities (N, 1).

    ``sigmoid=False`` drops the final ``nn.Sigmoid``: the model then outputs logits (N, 1), the
    form ``nn.BCEWithLogitsLoss`` wants.
    """
    layers = [nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)]
    return nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))


def boston_band_mlp() -> nn.Sequential:
    """The course's softmax classifier: features (N, 13) -> logits (N, 3), no softmax."""
    return nn.Sequential(
        nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3)
    )


class MNIST_Classifier(nn.Module):  # noqa: N801 (the source's name)
    """The source's MNIST network: images (B, 1, 28, 28) -> logits (B, 10), flattened in
    ``forward``."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.output = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(x.size(0), -1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.output(x)


class Standardize(nn.Module):
    """Lesson 04's first step: pixels uint8 (B, 1, 28, 28) -> float32 ``(x - mean) / std``, the
    same shape. Lesson 04 writes it by hand; the benchmark and the tests build it from here.

    The images stay uint8 in memory (a quarter of float32) and each batch is converted when the
    model gets it. ``mean`` and ``std`` are in pixel units (0-255): ``Standardize(0, 255)`` gives
    the ``[0, 1]`` pixels of ``ToTensor()``. They are buffers: saved in the ``state_dict`` with the
    weights and moved by ``.to(device)``. The input is never changed (out-of-place arithmetic).
    """

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.std


def last_layer(model: nn.Module) -> nn.Module:
    """The model's last leaf module (the one that makes its output in an ``nn.Sequential``); a model
    without submodules is its own last layer."""
    return [m for m in model.modules() if not list(m.children())][-1]


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's parameters (the CPU for a model without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")
