"""helpers.checks (the first-batch pitfall checks) and helpers.metrics."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from helpers.checks import PitfallWarning, check_output_layer, check_pitfalls, check_shapes
from helpers.metrics import (
    batch_metric,
    binary_accuracy,
    binary_accuracy_logits,
    confusion_matrix,
    multiclass_accuracy,
    precision_recall,
    rmse,
)


@pytest.mark.parametrize(
    "pred_shape, target_shape, fix",
    [((8, 1), (8,), r"y.view\(-1, 1\)"), ((8,), (8, 1), r"have the model output \(N, 1\)"), ((8, 2), (8, 3), "")],
)
@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.L1Loss(), nn.BCEWithLogitsLoss()], ids=lambda f: type(f).__name__)
def test_elementwise_losses_refuse_shapes_that_would_broadcast(pred_shape, target_shape, fix, loss):
    with pytest.raises(ValueError, match="must match exactly") as info:
        check_shapes(torch.zeros(pred_shape), torch.zeros(target_shape), loss)
    assert info.match(fix)


@pytest.mark.parametrize(
    "pred, target, message",
    [
        (torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.int64), r"y.view\(-1\)"),
        (torch.zeros(4, 3), torch.zeros(4), r"y.long\(\)"),
        (torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.int64), r"x.view\(x.size\(0\), -1\)"),
        (torch.zeros(4, 3), torch.zeros(5, dtype=torch.int64), "class indices of shape"),
    ],
)
def test_cross_entropy_refuses_wrong_shapes_and_dtypes_with_the_fix(pred, target, message):
    with pytest.raises(ValueError, match=message):
        check_shapes(pred, target, nn.CrossEntropyLoss())


def test_cross_entropy_accepts_class_indices_or_class_probabilities():
    check_shapes(torch.zeros(4, 3), torch.zeros(4, dtype=torch.int64), nn.CrossEntropyLoss())
    check_shapes(torch.zeros(4, 3), torch.full((4, 3), 1 / 3), nn.CrossEntropyLoss())


def test_softmax_before_cross_entropy_warns():
    model = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=1))
    pred = model(torch.randn(5, 3))
    with pytest.warns(PitfallWarning, match="CrossEntropyLoss applies log-softmax itself"):
        messages = check_pitfalls(model, pred, torch.zeros(5, dtype=torch.int64), nn.CrossEntropyLoss())
    assert len(messages) == 1


def test_a_functional_softmax_is_caught_from_the_outputs():
    probabilities = torch.softmax(torch.randn(5, 4), dim=1)
    with pytest.warns(PitfallWarning):
        check_output_layer(nn.Linear(3, 4), probabilities, nn.CrossEntropyLoss())


def test_sigmoid_before_logits_loss_warns():
    with pytest.warns(PitfallWarning, match="applies the sigmoid itself"):
        check_output_layer(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()), torch.rand(4, 1), nn.BCEWithLogitsLoss())


def test_bce_outside_0_1_is_refused_up_front():
    """torch's BCELoss raises on such values anyway (a RuntimeError deep inside torch): say why first."""
    with pytest.raises(ValueError, match=r"BCELoss needs probabilities in \[0, 1\].*\[-2, 0.5\]"):
        check_pitfalls(nn.Linear(2, 1), torch.tensor([[-2.0], [0.5]]), torch.zeros(2, 1), nn.BCELoss())


@pytest.mark.parametrize(
    "model, target, loss",
    [
        (nn.Sequential(nn.Linear(3, 3)), torch.zeros(4, dtype=torch.int64), nn.CrossEntropyLoss()),
        (nn.Sequential(nn.Linear(3, 1), nn.Sigmoid()), torch.zeros(4, 1), nn.BCELoss()),
        (nn.Sequential(nn.Linear(3, 1)), torch.zeros(4, 1), nn.BCEWithLogitsLoss()),
        (nn.Sequential(nn.Linear(3, 1)), torch.zeros(4, 1), nn.MSELoss()),
    ],
    ids=["logits+CE", "sigmoid+BCE", "logits+BCEWithLogits", "linear+MSE"],
)
def test_correct_models_pass_silently(model, target, loss):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_pitfalls(model, model(torch.randn(4, 3)), target, loss) == []


def test_accuracies():
    probs = torch.tensor([[0.9], [0.2], [0.6], [0.4]])
    target = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    assert binary_accuracy(probs, target) == 0.75
    assert binary_accuracy(probs, target, threshold=0.7) == 1.0
    assert binary_accuracy_logits(torch.tensor([[3.0], [-1.0], [0.5], [-0.1]]), target) == 0.75
    logits = torch.tensor([[2.0, 0.1, 0.0], [0.0, 0.0, 5.0]])
    assert multiclass_accuracy(logits, torch.tensor([0, 1])) == 0.5
    with pytest.raises(ValueError, match="different numbers of rows"):
        multiclass_accuracy(logits, torch.tensor([0, 1, 2]))


@pytest.mark.parametrize(
    "metric, pred, target",
    [(binary_accuracy, torch.tensor([[0.9], [0.2], [0.6]]), torch.tensor([[1.0], [0.0], [0.0]])),
     (binary_accuracy_logits, torch.tensor([[3.0], [-1.0], [0.5]]), torch.tensor([[1.0], [0.0], [0.0]])),
     (multiclass_accuracy, torch.tensor([[2.0, 0.1], [0.0, 5.0], [1.0, 0.0]]), torch.tensor([0, 0, 0]))],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_batch_metric_is_the_same_metric_as_a_tensor(metric, pred, target):
    as_tensor = batch_metric(metric)(pred, target)
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.ndim == 0
    assert as_tensor.item() == pytest.approx(metric(pred, target))
    with pytest.raises(ValueError, match="different numbers of rows"):
        batch_metric(metric)(pred, target[:2])


def test_batch_metric_leaves_other_functions_and_rmse_alone():
    def own(pred, target):
        return 1.0

    assert batch_metric(own) is own
    assert batch_metric(rmse) is rmse  # the root of a batch mean is not a mean over rows: it cannot be summed


def test_rmse_accepts_n_or_n_by_1():
    pred, target = torch.tensor([[1.0], [2.0], [5.0]]), torch.tensor([1.0, 4.0, 3.0])
    assert rmse(pred, target) == pytest.approx((8 / 3) ** 0.5)


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix(torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 0]), 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]] and cm.dtype == torch.int64
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 2\]"):
        confusion_matrix(torch.tensor([3]), torch.tensor([0]), 3)


def test_precision_and_recall_of_class_1():
    assert precision_recall(torch.tensor([1, 1, 1, 0]), torch.tensor([[1], [0], [1], [1]])) == (2 / 3, 2 / 3)
    assert precision_recall(torch.zeros(3), torch.zeros(3)) == (0.0, 0.0)  # nothing predicted, nothing to find
