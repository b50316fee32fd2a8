"""The checkers of notebook 03: the solution passes, an untouched scaffold is "not attempted",
and typical wrong answers get their targeted hint."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson03 as check


def untouched(*args: object) -> None:
    raise NotImplementedError  # YOUR CODE HERE


def stable_softmax(z: torch.Tensor) -> torch.Tensor:
    e = torch.exp(z - z.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return -torch.log_softmax(logits, dim=1)[torch.arange(len(y)), y].mean()


def price_bands(prices: torch.Tensor, train_prices: torch.Tensor) -> torch.Tensor:
    edges = torch.quantile(train_prices, torch.tensor([1 / 3, 2 / 3]))
    return torch.bucketize(prices, edges, right=True)


def fixed_model() -> nn.Module:
    return nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3))


def buggy_model() -> nn.Module:
    return nn.Sequential(fixed_model(), nn.Softmax(dim=1))



SOLUTIONS = [
    (check.exercise_1, stable_softmax),
    (check.exercise_2, cross_entropy),
    (check.exercise_3, price_bands),
    (check.exercise_4, lambda c: math.log(1 + (c - 1) / math.e)),
    (check.exercise_5, fixed_model),
    (check.exercise_6, lambda y: y.view(-1).long()),
]


@pytest.mark.parametrize(("exercise", "solution"), SOLUTIONS)
def test_solution_passes(exercise, solution):
    feedback = exercise(solution)
    assert feedback.status == CORRECT, feedback


@pytest.mark.parametrize(("exercise", "solution"), SOLUTIONS)
def test_untouched_scaffold_is_not_attempted(exercise, solution):
    assert exercise(None).status == NOT_ATTEMPTED
    assert exercise(untouched).status == NOT_ATTEMPTED


@pytest.mark.parametrize(
    ("exercise", "answer", "phrase"),
    [
        (check.exercise_1, lambda z: torch.exp(z) / torch.exp(z).sum(dim=1, keepdim=True), "largest logit"),
        (check.exercise_1, lambda z: torch.exp(z - z.max()) / torch.exp(z - z.max()).sum(dim=0), "dim=1"),
        (check.exercise_2, lambda z, y: torch.log_softmax(z, 1)[torch.arange(len(y)), y].mean(), "sign"),
        (check.exercise_2, lambda z, y: -torch.log_softmax(z, 1)[torch.arange(len(y)), y].sum(), ".mean()"),
        (check.exercise_2, lambda z, y: -torch.log(torch.softmax(z, 1))[torch.arange(len(y)), y].mean(), "log_softmax"),
        (check.exercise_2, lambda z, y: -torch.log_softmax(z, 1).mean(), "true class"),
        (check.exercise_3, lambda p, t: price_bands(p, t).float(), "int64"),
        (check.exercise_3, lambda p, t: price_bands(p, t).view(-1, 1), "(N,)"),
        (check.exercise_3, lambda p, t: price_bands(p, p), "train_prices"),
        (check.exercise_3, lambda p, t: torch.bucketize(p, torch.quantile(t, torch.tensor([1 / 3, 2 / 3]))),
         "right=True"),
        (check.exercise_4, lambda c: math.log(c), "flat guess"),
        (check.exercise_4, lambda c: math.log(1 + 2 / math.e), "C - 1"),
        (check.exercise_4, lambda c: math.log(1 + c / math.e), "off by one"),
        (check.exercise_5, buggy_model, "nn.Softmax"),
        (check.exercise_5, lambda: nn.Sequential(nn.Linear(13, 3), nn.Softmax(dim=1), nn.Identity()), "floor"),
        (check.exercise_5, lambda: nn.Linear(13, 1), "(5, 3)"),
        (check.exercise_6, lambda y: y.view(-1), ".long()"),
        (check.exercise_6, lambda y: y.long(), ".view(-1)"),
        (check.exercise_6, lambda y: nn.functional.one_hot(y.view(-1).long(), 3).argmax(dim=1).flip(0), "classes"),
    ],
)
def test_wrong_answer_gets_targeted_hint(exercise, answer, phrase):
    feedback = exercise(answer)
    assert feedback.status == WRONG, feedback
    assert phrase in feedback.message, feedback


def test_student_error_becomes_feedback():
    def broken(z: torch.Tensor) -> torch.Tensor:
        return z.sum(dim=7)

    feedback = check.exercise_1(broken)
    assert feedback.status == WRONG
    assert "IndexError" in feedback.message


def test_softmax_floor_is_what_cross_entropy_measures():
    probabilities = torch.tensor([[1.0, 0.0, 0.0]])
    measured = nn.functional.cross_entropy(probabilities, torch.tensor([0])).item()
    assert measured == pytest.approx(check.floor_for(3), rel=1e-6)
