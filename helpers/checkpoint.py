"""Save and load model weights safely.

Only the ``state_dict`` (a dict of tensors) is saved, never the pickled model object, and
loading uses ``torch.load(weights_only=True)``: the default since torch 2.6, which refuses to
run arbitrary code hidden in a checkpoint file.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from helpers.i18n import tr
from helpers.models import model_device


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model.state_dict()`` to ``path`` (parent folders created) and return the path.

    The file is written next to its target and renamed into place, so a crash mid-write never
    leaves a half-written checkpoint where a good one was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # state_dict() is detached already; .cpu() lets a GPU's weights load on any machine
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, partial)
    partial.replace(path)
    return path


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load weights saved by ``save_checkpoint`` into ``model`` (same architecture) and return it.

    The weights go to the device the model is on, so weights saved on a GPU load on a CPU-only
    machine. Weights of another architecture raise ``ValueError``, torch's own list of the
    missing, unexpected and mis-shaped weights after the first line; build the model again
    before loading another file: torch may have loaded the weights that fit.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(tr(
            "No checkpoint at {path}. Save one first with save_checkpoint(model, {name!r}).",
            path=path, name=str(path),
        ))
    state = torch.load(path, map_location=model_device(model), weights_only=True)
    try:
        model.load_state_dict(state)  # strict: every weight of the model, no other, in its shape
    except (RuntimeError, TypeError) as exc:  # TypeError: the file holds no dict of weights at all
        raise ValueError(tr(
            "{path} holds no weights for this model's architecture: build it with the same layers "
            "as when it was saved.\n{error}", path=path, error=exc,
        )) from None
    return model
