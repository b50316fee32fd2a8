"""The checkers of notebook 02: each passes the solution, reads an untouched scaffold as not
attempted, and answers a typical mistake with its targeted hint."""

from __future__ import annotations

import torch
from torch import nn

from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson02 as check


def untouched(*args: object) -> torch.Tensor:
    raise NotImplementedError  # YOUR CODE HERE


def make_labels(train_prices: torch.Tensor, prices: torch.Tensor) -> torch.Tensor:
    return (prices > train_prices.median()).float().reshape(-1, 1)


def bce(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return -(targets * probs.log() + (1 - targets) * (1 - probs).log()).mean()


def bce_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()


def cheapest_threshold(probs: torch.Tensor, targets: torch.Tensor, false_alarm: int = 3, miss: int = 1) -> float:
    def cost(t: float) -> float:
        said, above = probs.reshape(-1) > t, targets.reshape(-1) > 0.5
        return false_alarm * float((said & ~above).sum()) + miss * float((~said & above).sum())

    return min((round(0.05 * k, 2) for k in range(1, 20)), key=cost)


def source_model(sigmoid: bool) -> nn.Module:
    layers = [nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)]
    return nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))


def test_exercise_1_labels():
    assert check.exercise_1(make_labels).status == CORRECT
    assert check.exercise_1(untouched).status == NOT_ATTEMPTED
    own_median = check.exercise_1(lambda train, p: (p > p.median()).float().reshape(-1, 1))
    assert own_median.status == WRONG and "TRAINING prices" in own_median.message
    flat = check.exercise_1(lambda train, p: (p > train.median()).float())
    assert flat.status == WRONG and "(N, 1)" in flat.message
    as_bool = check.exercise_1(lambda train, p: (p > train.median()).reshape(-1, 1))
    assert as_bool.status == WRONG and ".float()" in as_bool.message


def test_exercise_2_bce_by_hand():
    assert check.exercise_2(bce).status == CORRECT
    assert check.exercise_2(untouched).status == NOT_ATTEMPTED
    no_minus = check.exercise_2(lambda p, y: -bce(p, y))
    assert no_minus.status == WRONG and "minus sign" in no_minus.message
    summed = check.exercise_2(lambda p, y: bce(p, y) * len(p))
    assert summed.status == WRONG and ".mean()" in summed.message
    one_term = check.exercise_2(lambda p, y: -(y * p.log()).mean())
    assert one_term.status == WRONG and "(1 - y)" in one_term.message


def test_exercise_3_stable_bce_with_logits():
    assert check.exercise_3(bce_with_logits).status == CORRECT
    assert check.exercise_3(untouched).status == NOT_ATTEMPTED
    naive = check.exercise_3(lambda z, y: bce(torch.sigmoid(z), y))
    assert naive.status == WRONG and "log(1 + exp(-|z|))" in naive.message
    clamped = check.exercise_3(lambda z, y: bce(torch.sigmoid(z).clamp(1e-7, 1 - 1e-7), y))
    assert clamped.status == WRONG and "large ones" in clamped.message


def test_exercise_4_cost_threshold():
    assert check.exercise_4(cheapest_threshold).status == CORRECT
    assert check.exercise_4(untouched).status == NOT_ATTEMPTED
    accuracy_choice = check.exercise_4(lambda p, y: 0.5)
    assert accuracy_choice.status == WRONG and "higher threshold" in accuracy_choice.message
    reversed_costs = check.exercise_4(lambda p, y: cheapest_threshold(p, y, false_alarm=1, miss=3))
    assert reversed_costs.status == WRONG and "MISSES cost 3" in reversed_costs.message


def test_exercise_5_drill_double_sigmoid():
    fixed = check.exercise_5("c", lambda: source_model(sigmoid=False), nn.BCEWithLogitsLoss())
    assert fixed.status == CORRECT and "below the floor" in fixed.message
    assert check.exercise_5(None, untouched, None).status == NOT_ATTEMPTED
    unfixed = check.exercise_5("c", lambda: source_model(sigmoid=True), nn.BCEWithLogitsLoss())
    assert unfixed.status == WRONG and "applied twice" in unfixed.message
    wrong_letter = check.exercise_5("a", lambda: source_model(sigmoid=False), nn.BCEWithLogitsLoss())
    assert wrong_letter.status == WRONG and "not a" in wrong_letter.message
