"""Metrics on whole tensors or on one batch. Each returns a Python float (or a tensor for the
confusion matrix). Batch metrics return a mean over the batch, so ``fit`` can weight them by
batch size."""

from __future__ import annotations

import torch


def _check_rows(pred: torch.Tensor, target: torch.Tensor) -> None:
    if len(pred) != len(target):
        raise ValueError(f"predictions and targets have different numbers of rows: {len(pred)} != {len(target)}")


def binary_accuracy(probs: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> float:
    """Accuracy of probabilities (N, 1) against 0/1 targets (N, 1): predicted 1 when prob > threshold."""
    _check_rows(probs, target)
    return ((probs.reshape(-1) > threshold).float() == target.reshape(-1).float()).float().mean().item()


def binary_accuracy_logits(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Accuracy of logits (N, 1) against 0/1 targets (N, 1): a logit > 0 means probability > 0.5."""
    return binary_accuracy(logits, target, threshold=0.0)


def multiclass_accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Accuracy of class scores (N, C) (logits or probabilities) against class indices (N,)."""
    _check_rows(logits, target)
    return (logits.argmax(dim=1) == target.reshape(-1)).float().mean().item()


def rmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Root mean squared error of (N, 1) predictions against (N, 1) targets, in the targets' units."""
    _check_rows(pred, target)
    return torch.sqrt(torch.mean((pred.reshape(-1).float() - target.reshape(-1).float()) ** 2)).item()


def mae(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute error of (N, 1) predictions against (N, 1) targets."""
    _check_rows(pred, target)
    return torch.mean(torch.abs(pred.reshape(-1).float() - target.reshape(-1).float())).item()


def confusion_matrix(predicted: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts (num_classes, num_classes) int64: row = true class, column = predicted class.

    ``predicted`` and ``target`` are class indices of shape (N,).
    """
    _check_rows(predicted, target)
    predicted, target = predicted.reshape(-1).long().cpu(), target.reshape(-1).long().cpu()
    if len(target) and (min(predicted.min(), target.min()) < 0 or max(predicted.max(), target.max()) >= num_classes):
        raise ValueError(f"class indices must be in [0, {num_classes - 1}]")
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
