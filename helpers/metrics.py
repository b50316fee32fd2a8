"""Metrics on whole tensors or on one batch. Each returns a Python float (or a tensor for the
confusion matrix). Batch metrics return a mean over the batch, so ``fit`` can weight them by
batch size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from helpers.i18n import tr


def _check_rows(pred: torch.Tensor, target: torch.Tensor) -> None:
    if len(pred) != len(target):
        raise ValueError(tr("predictions and targets have different numbers of rows: "
                            "{pred} != {target}",
                            pred=len(pred), target=len(target)))


def _binary_accuracy(
    probs: torch.Tensor, target: torch.Tensor, threshold: float = 0.5
) -> torch.Tensor:
    _check_rows(probs, target)
    return ((probs.reshape(-1) > threshold).float() == target.reshape(-1).float()).float().mean()


def _multiclass_accuracy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    _check_rows(logits, target)
    return (logits.argmax(dim=1) == target.reshape(-1)).float().mean()


def binary_accuracy(probs: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> float:
    """Accuracy of probabilities (N, 1) against 0/1 targets (N, 1): predicted 1 when
    prob > threshold."""
    return _binary_accuracy(probs, target, threshold).item()


def binary_accuracy_logits(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Accuracy of logits (N, 1) against 0/1 targets (N, 1): a logit > 0 means probability > 0.5."""
    return binary_accuracy(logits, target, threshold=0.0)


def multiclass_accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Accuracy of class scores (N, C) (logits or probabilities) against class indices (N,)."""
    return _multiclass_accuracy(logits, target).item()


def rmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Root mean squared error of (N, 1) predictions against (N, 1) targets, in the targets'
    units."""
    _check_rows(pred, target)
    mse = nn.functional.mse_loss(pred.reshape(-1).float(), target.reshape(-1).float())
    return mse.sqrt().item()


#: The metrics above that average over rows, each with its 0-d tensor twin. RMSE is missing on
#: purpose: the square root of a batch's mean is not a mean over rows, so it cannot be summed.
_TENSOR_TWINS: dict[Callable[..., float], Callable[..., torch.Tensor]] = {
    binary_accuracy: _binary_accuracy,
    binary_accuracy_logits: functools.partial(_binary_accuracy, threshold=0.0),
    multiclass_accuracy: _multiclass_accuracy,
}


def batch_metric(
    fn: Callable[[torch.Tensor, torch.Tensor], float],
) -> Callable[..., float | torch.Tensor]:
    """The function the training loop calls per batch for the metric ``fn``.

    For the metrics of this module, the same value as a 0-d tensor (no wait for the device; see
    ``helpers.training``); any other function is returned unchanged, and may return a float or a
    0-d tensor.
    """
    return _TENSOR_TWINS.get(fn, fn)


def confusion_matrix(
    predicted: torch.Tensor, target: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Counts (num_classes, num_classes) int64: row = true class, column = predicted class.

    ``predicted`` and ``target`` are class indices of shape (N,).
    """
    _check_rows(predicted, target)
    predicted, target = predicted.reshape(-1).long().cpu(), target.reshape(-1).long().cpu()
    both = torch.cat([predicted, target])
    if len(both) and (both.min() < 0 or both.max() >= num_classes):
        raise ValueError(tr("class indices must be in [0, {last}]", last=num_classes - 1))
    flat = torch.bincount(target * num_classes + predicted, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def precision_recall(predicted: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
    """Precision and recall of 0/1 predictions (N,) or (N, 1) against 0/1 targets, for class 1.

    Precision = TP / (TP + FP), recall = TP / (TP + FN); 0.0 where the denominator is 0.
    """
    _check_rows(predicted, target)
    p, t = predicted.reshape(-1).bool(), target.reshape(-1).bool()
    tp = (p & t).sum().item()
    fp = (p & ~t).sum().item()
    fn = (~p & t).sum().item()
    return (tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)
