"""helpers.checks (the pitfall checks) and helpers.metrics."""

import warnings

import pytest
import torch
from torch import nn

from helpers.checks import PitfallWarning, check_output_layer, check_pitfalls, check_shapes
from helpers.metrics import (
    binary_accuracy,
    binary_accuracy_logits,
    confusion_matrix,
    mae,
    multiclass_accuracy,
    precision_recall,
    rmse,
)


@pytest.mark.parametrize(
    "pred_shape, target_shape, fix",
    [((8, 1), (8,), r"y.view\(-1, 1\)"), ((8,), (8, 1), r"have the model output \(N, 1\)"), ((8, 2), (8, 3), "")],
)
def test_elementwise_losses_need_identical_shapes(pred_shape, target_shape, fix):
    for loss in (nn.MSELoss(), nn.L1Loss(), nn.BCEWithLogitsLoss()):
        with pytest.raises(ValueError, match="must match exactly") as info:
            check_shapes(torch.zeros(pred_shape), torch.zeros(target_shape), loss)
        assert fix == "" or info.match(fix)


def test_cross_entropy_shapes_and_dtypes():
    ce = nn.CrossEntropyLoss()
    check_shapes(torch.zeros(4, 3), torch.zeros(4, dtype=torch.int64), ce)
    check_shapes(torch.zeros(4, 3), torch.full((4, 3), 1 / 3), ce)  # probabilities as targets are fine
    with pytest.raises(ValueError, match=r"y.view\(-1\)"):
        check_shapes(torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.int64), ce)
    with pytest.raises(ValueError, match=r"y.long\(\)"):
        check_shapes(torch.zeros(4, 3), torch.zeros(4), ce)
    with pytest.raises(ValueError, match=r"x.view\(x.size\(0\), -1\)"):
        check_shapes(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.int64), ce)
    with pytest.raises(ValueError, match="class indices of shape"):
        check_shapes(torch.zeros(4, 3), torch.zeros(5, dtype=torch.int64), ce)


def test_softmax_before_cross_entropy_warns():
    model = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=1))
    with pytest.warns(PitfallWarning, match="CrossEntropyLoss applies log-softmax itself"):
        messages = check_pitfalls(model, torch.randn(5, 3), torch.zeros(5, dtype=torch.int64), nn.CrossEntropyLoss())
    assert len(messages) == 1


def test_functional_softmax_is_caught_from_the_outputs():
    class Probs(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 4)

        def forward(self, x):
            return torch.softmax(self.linear(x), dim=1)

    with pytest.warns(PitfallWarning):
        check_pitfalls(Probs(), torch.randn(5, 3), torch.zeros(5, dtype=torch.int64), nn.CrossEntropyLoss())


def test_sigmoid_with_logits_loss_and_bce_out_of_range_warn():
    with pytest.warns(PitfallWarning, match="applies the sigmoid itself"):
        check_pitfalls(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()), torch.randn(4, 2), torch.zeros(4, 1), nn.BCEWithLogitsLoss())
    with pytest.warns(PitfallWarning, match=r"BCELoss needs probabilities in \[0, 1\]"):
        check_output_layer(nn.Linear(2, 1), torch.tensor([[-2.0], [0.5]]), nn.BCELoss())


def test_correct_models_raise_no_warning():
    cases = [
        (nn.Sequential(nn.Linear(3, 3)), torch.zeros(4, dtype=torch.int64), nn.CrossEntropyLoss()),
        (nn.Sequential(nn.Linear(3, 1), nn.Sigmoid()), torch.zeros(4, 1), nn.BCELoss()),
        (nn.Sequential(nn.Linear(3, 1)), torch.zeros(4, 1), nn.BCEWithLogitsLoss()),
        (nn.Sequential(nn.Linear(3, 1)), torch.zeros(4, 1), nn.MSELoss()),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for model, y, loss in cases:
            assert check_pitfalls(model, torch.randn(4, 3), y, loss) == []


def test_check_pitfalls_restores_training_mode():
    model = nn.Sequential(nn.Linear(3, 1))
    model.train()
    check_pitfalls(model, torch.randn(2, 3), torch.zeros(2, 1), nn.MSELoss())
    assert model.training


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


def test_regression_errors():
    pred, target = torch.tensor([[1.0], [2.0], [5.0]]), torch.tensor([[1.0], [4.0], [3.0]])
    assert rmse(pred, target) == pytest.approx((8 / 3) ** 0.5)
    assert mae(pred, target) == pytest.approx(4 / 3)


def test_confusion_matrix_and_precision_recall():
    predicted = torch.tensor([0, 1, 1, 2, 2, 2])
    target = torch.tensor([0, 1, 2, 2, 2, 0])
    cm = confusion_matrix(predicted, target, 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]
    assert cm.sum().item() == 6
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 2\]"):
        confusion_matrix(torch.tensor([3]), torch.tensor([0]), 3)
    p, r = precision_recall(torch.tensor([1, 1, 0, 0]), torch.tensor([1, 0, 1, 0]))
    assert (p, r) == (0.5, 0.5)
    assert precision_recall(torch.zeros(3), torch.zeros(3)) == (0.0, 0.0)
