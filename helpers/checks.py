"""Checks for the mistakes that make a model train silently wrong.

``fit`` runs ``check_pitfalls`` once on the model's outputs for the first batch, before training.
Mistakes that break the loss raise ``ValueError``: shapes that broadcast (the loss would be wrong)
and ``BCELoss`` on values outside [0, 1] (torch would stop with a RuntimeError of its own).
Suspicious layer and loss pairs warn (the model still trains, only worse).
"""

from __future__ import annotations

import os
import sys
import warnings

import torch
from torch import nn

from helpers.i18n import tr
from helpers.models import last_layer

_ELEMENTWISE_LOSSES = (
    nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss, nn.BCEWithLogitsLoss
)

#: This package's folder as its code names it (notebooks import it through notebooks/helpers).
_PACKAGE = os.path.join(os.path.dirname(__file__), "")


class PitfallWarning(UserWarning):
    """A model/loss combination that trains, but not the way it should."""


def warn_pitfall(message: str) -> None:
    """Warn with ``PitfallWarning`` at the first line outside this package (the student's call of
    ``fit``), on every run: Python's default filter shows a warning once per line, so a re-run cell
    would pass silently. A filter of the student's own ("ignore", "error") still comes first."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    with warnings.catch_warnings():
        warnings.filterwarnings("always", category=PitfallWarning, append=True)
        warnings.warn(message, PitfallWarning, stacklevel=level)


def check_shapes(pred: torch.Tensor, target: torch.Tensor, loss_fn: nn.Module) -> None:
    """Raise ``ValueError`` if ``pred`` and ``target`` do not fit ``loss_fn`` as they should.

    Element-wise losses (MSE, L1, BCE...) need identical shapes: predictions (N, 1) with
    targets (N,) broadcast to an (N, N) matrix and give a wrong loss. CrossEntropyLoss needs
    scores (N, C) with int64 class indices (N,) (or class probabilities (N, C)).
    """
    if isinstance(loss_fn, _ELEMENTWISE_LOSSES):
        if pred.shape != target.shape:
            fix = ""
            if pred.ndim == 2 and pred.shape[1] == 1 and target.ndim == 1:
                fix = " " + tr("Fix: reshape the targets to (N, 1) with y.view(-1, 1) "
                               "(or y.unsqueeze(1)).")
            elif target.ndim == 2 and target.shape[1] == 1 and pred.ndim == 1:
                fix = " " + tr("Fix: have the model output (N, 1), or reshape the targets with "
                               "y.view(-1).")
            raise ValueError(tr(
                "{loss} got predictions of shape {pred} and targets of shape {target}. They must "
                "match exactly; otherwise they broadcast and the loss compares every prediction "
                "with every target.{fix}",
                loss=type(loss_fn).__name__, pred=tuple(pred.shape), target=tuple(target.shape),
                fix=fix,
            ))
    elif isinstance(loss_fn, nn.CrossEntropyLoss):
        if pred.ndim != 2:
            raise ValueError(tr(
                "CrossEntropyLoss expects class scores of shape (N, C), got {shape}. "
                "Flatten images before the first nn.Linear (x.view(x.size(0), -1)).",
                shape=tuple(pred.shape),
            ))
        if target.shape == pred.shape and target.is_floating_point():
            return  # class probabilities as targets
        if target.ndim == 2 and target.shape[1] == 1:
            raise ValueError(tr(
                "CrossEntropyLoss expects class-index targets of shape (N,), got {shape}. "
                "Fix: y.view(-1) (or y.squeeze(1)).", shape=tuple(target.shape)
            ))
        if target.shape != pred.shape[:1]:
            raise ValueError(tr(
                "CrossEntropyLoss got scores {pred} and targets {target}: targets must be class "
                "indices of shape (N,).",
                pred=tuple(pred.shape), target=tuple(target.shape),
            ))
        if target.dtype != torch.int64:
            raise ValueError(tr(
                "CrossEntropyLoss expects class indices as int64 (torch.long), got {dtype}. "
                "Fix: y.long().",
                dtype=target.dtype,
            ))


def check_output_layer(model: nn.Module, pred: torch.Tensor, loss_fn: nn.Module) -> list[str]:
    """Warn (``PitfallWarning``) about an output layer that does not fit ``loss_fn``: softmax
    before ``CrossEntropyLoss`` or ``nn.Sigmoid`` before ``BCEWithLogitsLoss`` applies one
    function twice. Returns the messages."""
    last = last_layer(model)
    messages = []
    if isinstance(loss_fn, nn.CrossEntropyLoss):
        looks_like_probs = (
            pred.ndim == 2 and pred.shape[1] > 1 and bool(((pred >= 0) & (pred <= 1)).all())
            and torch.allclose(pred.sum(dim=1), torch.ones_like(pred[:, 0]), atol=1e-4)
        )
        if isinstance(last, nn.Softmax) or looks_like_probs:
            messages.append(tr(
                "The model ends in a softmax, but CrossEntropyLoss applies log-softmax itself: the "
                "softmax runs twice, the loss cannot fall below a floor and learning slows. Remove "
                "the nn.Softmax layer and let the model output raw scores (logits); apply "
                "torch.softmax only to read probabilities."
            ))
    elif isinstance(loss_fn, nn.BCEWithLogitsLoss) and isinstance(last, nn.Sigmoid):
        messages.append(tr(
            "The model ends in nn.Sigmoid, but BCEWithLogitsLoss applies the sigmoid itself: it is "
            "applied twice. Remove the nn.Sigmoid layer (or keep it and use nn.BCELoss)."
        ))
    for message in messages:
        warn_pitfall(message)
    return messages


def check_pitfalls(
    model: nn.Module, pred: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module
) -> list[str]:
    """Check the model's outputs ``pred`` (N, ...) on a first batch with targets ``y`` (N, ...),
    as the module docstring says; returns the warning messages issued."""
    check_shapes(pred, y, loss_fn)
    if isinstance(loss_fn, nn.BCELoss) and bool(((pred < 0) | (pred > 1)).any()):
        raise ValueError(tr(
            "BCELoss needs probabilities in [0, 1], but the model output ranges over "
            "[{low:.3g}, {high:.3g}]. End the model with nn.Sigmoid, or better, output logits and "
            "use nn.BCEWithLogitsLoss.",
            low=pred.min().item(), high=pred.max().item(),
        ))
    return check_output_layer(model, pred, loss_fn)
