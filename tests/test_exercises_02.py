"""The checkers of notebook 02: each passes the solution, reads an untouched scaffold as not
attempted, and answers the wrong answers students really write with their targeted message
(the tables below: a wrong answer and a fragment its message must contain)."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson02 as check
from helpers.models import boston_binary_mlp


def untouched(*args: object) -> torch.Tensor:
    raise NotImplementedError  # YOUR CODE HERE


# ---------------------------------------------------------------- Exercise 1: labels
def make_labels(train_prices: torch.Tensor, prices: torch.Tensor) -> torch.Tensor:
    return (prices > train_prices.median()).float().reshape(-1, 1)


LABELS_WRONG = {
    "own median": (lambda train, p: (p > p.median()).float().reshape(-1, 1), "TRAINING prices"),
    "flat": (lambda train, p: (p > train.median()).float(), "(N, 1)"),
    "bool": (lambda train, p: (p > train.median()).reshape(-1, 1), ".float()"),
    "flipped": (lambda train, p: (p <= train.median()).float().reshape(-1, 1), "flipped"),
    "mean": (lambda train, p: (p > train.mean()).float().reshape(-1, 1), "the mean of the training prices"),
    ">=": (lambda train, p: (p >= train.median()).float().reshape(-1, 1), "not >="),
}


# ---------------------------------------------------------------- Exercise 2: BCE by hand
def bce(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return -(targets * torch.log(probs) + (1 - targets) * torch.log(1 - probs)).mean()


BCE_WRONG = {
    "no minus": (lambda p, y: -bce(p, y), "minus sign"),
    "summed": (lambda p, y: bce(p, y) * len(p), ".mean()"),
    "one term": (lambda p, y: -(y * p.log()).mean(), "(1 - y)"),
    "p swapped": (lambda p, y: -(y * (1 - p).log() + (1 - y) * p.log()).mean(), "swapped"),
    "per row": (lambda p, y: -(y * p.log() + (1 - y) * (1 - p).log()), "ONE number"),
    ".item()": (lambda p, y: bce(p, y).item(), "Python float"),
    "the library": (lambda p, y: torch.nn.BCELoss()(p, y), "write by hand"),
    "the functional library": (lambda p, y: torch.nn.functional.binary_cross_entropy(p, y), "write by hand"),
}


# ---------------------------------------------------------------- Exercise 3: BCE with logits
def bce_with_logits(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()


LOGITS_WRONG = {
    "sigmoid first": (lambda z, y: bce(torch.sigmoid(z), y), "sigmoid(z) rounds to exactly 1.0"),
    "exp overflows": (lambda z, y: (torch.log(1 + torch.exp(z)) - z * y).mean(), "exp(100) overflowed"),
    "exp(-z) overflows": (lambda z, y: (torch.log(1 + torch.exp(-z)) + (1 - y) * z).mean(), "exp(100) overflowed"),
    "clamped": (lambda z, y: bce(torch.sigmoid(z).clamp(1e-7, 1 - 1e-7), y), "not for large ones"),
    "sign": (lambda z, y: (torch.clamp(z, min=0) + z * y + torch.log1p(torch.exp(-z.abs()))).mean(), "small logit"),
    "summed": (lambda z, y: (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum(), ".mean()"),
    "detached": (lambda z, y: bce_with_logits(z.detach(), y), "no gradient"),
    "partly detached": (lambda z, y: (torch.clamp(z, min=0).detach() - z * y + torch.log1p(torch.exp(-z.abs()))).mean(),
                        "Look for a .detach()"),
    ".item()": (lambda z, y: bce_with_logits(z, y).item(), "Python float"),
    "the library": (lambda z, y: torch.nn.BCEWithLogitsLoss()(z, y), "by hand"),
    "softplus": (lambda z, y: (torch.nn.functional.softplus(z) - z * y).mean(), "by hand"),
    "logsigmoid": (lambda z, y: -(y * torch.nn.functional.logsigmoid(z) + (1 - y) * torch.nn.functional.logsigmoid(-z)
                                  ).mean(), "calls logsigmoid"),
}


# ---------------------------------------------------------------- Exercise 4: the evaluation loop
def evaluate_accuracy(model, loader, device, *, eval_mode=True, no_grad=True, decide=lambda out: out > 0,
                      per_batch=False):
    """The solution, and (through its switches) the usual mistakes."""
    if eval_mode:
        model.eval()
    right, rows, batch_scores = 0.0, 0, []
    with torch.set_grad_enabled(not no_grad):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            hits = (decide(model(x)).float() == y).float()
            right += hits.sum().item()
            rows += len(y)
            batch_scores.append(hits.mean().item())
    return sum(batch_scores) / len(batch_scores) if per_batch else right / rows


LOOP_WRONG = {
    "no eval()": (lambda m, loader, d: evaluate_accuracy(m, loader, d, eval_mode=False), "model.eval()"),
    "no no_grad": (lambda m, loader, d: evaluate_accuracy(m, loader, d, no_grad=False), "torch.no_grad()"),
    "per-batch mean": (lambda m, loader, d: evaluate_accuracy(m, loader, d, per_batch=True), "per-batch"),
    "logits > 0.5": (lambda m, loader, d: evaluate_accuracy(m, loader, d, decide=lambda out: out > 0.5),
                     "compared the logits with 0.5"),
    "sigmoid > 0": (lambda m, loader, d: evaluate_accuracy(m, loader, d, decide=lambda out: torch.sigmoid(out) > 0),
                    "every row 'above'"),
    "argmax": (lambda m, loader, d: evaluate_accuracy(m, loader, d, decide=lambda out: out.argmax(dim=1, keepdim=True)),
               "argmax over the logits' one column"),
    "percent": (lambda m, loader, d: 100 * evaluate_accuracy(m, loader, d), "percentage"),
    "(B,) vs (B, 1)": (lambda m, loader, d: evaluate_accuracy(m, loader, d, decide=lambda out: (out > 0).reshape(-1)),
                       "broadcast"),
}


# ---------------------------------------------------------------- Exercise 5: a cost threshold
def cheapest_threshold(probs: torch.Tensor, targets: torch.Tensor, false_alarm: int = 3, miss: int = 1) -> float:
    def cost(t: float) -> float:
        said, above = probs.reshape(-1) > t, targets.reshape(-1) > 0.5
        return false_alarm * float((said & ~above).sum()) + miss * float((~said & above).sum())

    return min((round(0.05 * k, 2) for k in range(1, 20)), key=cost)


THRESHOLD_WRONG = {
    "accuracy's 0.5": (lambda p, y: 0.5, "higher threshold"),
    "costs reversed": (lambda p, y: cheapest_threshold(p, y, false_alarm=1, miss=3), "costs are swapped"),
    "not a number": (lambda p, y: "0.65", "one number"),
}


# ---------------------------------------------------------------- Exercise 6: the drill
def relu_ended() -> nn.Module:
    return nn.Sequential(*boston_binary_mlp(sigmoid=False), nn.ReLU())


DRILL_WRONG = {
    "letter a": (("a", lambda: boston_binary_mlp(sigmoid=False)), "not a"),
    "letter b": (("b", lambda: boston_binary_mlp(sigmoid=True)), "applies the sigmoid itself"),
    "letter d": (("d", lambda: boston_binary_mlp(sigmoid=False)), "not d"),
    "unfixed": (("c", relu_ended), "never be negative"),
    "Sigmoid added": (("c", lambda: boston_binary_mlp(sigmoid=True)), "two sigmoids"),
    "a model, not a function": (("c", boston_binary_mlp(sigmoid=False)), "pass a function that returns the model"),
    "wrong width": (("c", lambda: nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 2))), "returns (N, 1)"),
    "right letter, fix not written": (("c", untouched), "c is the right letter. The fix is still to do"),
}

CASES = [
    (check.exercise_1, (make_labels,), (untouched,), {k: ((f,), m) for k, (f, m) in LABELS_WRONG.items()}),
    (check.exercise_2, (bce,), (untouched,), {k: ((f,), m) for k, (f, m) in BCE_WRONG.items()}),
    (check.exercise_3, (bce_with_logits,), (untouched,), {k: ((f,), m) for k, (f, m) in LOGITS_WRONG.items()}),
    (check.exercise_4, (evaluate_accuracy,), (untouched,), {k: ((f,), m) for k, (f, m) in LOOP_WRONG.items()}),
    (check.exercise_5, (cheapest_threshold,), (untouched,), {k: ((f,), m) for k, (f, m) in THRESHOLD_WRONG.items()}),
    (check.exercise_6, ("c", lambda: boston_binary_mlp(sigmoid=False)), (None, untouched), DRILL_WRONG),
]
IDS = [f"exercise_{n}" for n in range(1, len(CASES) + 1)]


def test_a_wrong_letter_of_the_drill_does_not_name_the_right_one(session_untouched):
    for letter in "abd":
        message = check.exercise_6(letter, lambda: boston_binary_mlp(sigmoid=False)).message
        assert "lowest loss" not in message and "negative" not in message and "last layer" not in message, message


@pytest.mark.parametrize("exercise, solution, scaffold, wrong_answers", CASES, ids=IDS)
def test_each_exercise_passes_its_solution_and_reads_the_scaffold_as_not_attempted(
    exercise, solution, scaffold, wrong_answers, session_untouched
):
    feedback = exercise(*solution)
    assert feedback.status == CORRECT, feedback
    assert exercise(*scaffold).status == NOT_ATTEMPTED


@pytest.mark.parametrize("exercise, solution, scaffold, wrong_answers", CASES, ids=IDS)
def test_each_wrong_answer_gets_its_targeted_message(exercise, solution, scaffold, wrong_answers, session_untouched):
    assert len(wrong_answers) >= 2
    for name, (args, fragment) in wrong_answers.items():
        feedback = exercise(*args)
        assert feedback.status == WRONG and fragment in feedback.message, f"{name}: {feedback}"


def test_exercise_6_says_a_tanh_ending_is_still_bounded(session_untouched):
    def tanh_model():
        return torch.nn.Sequential(torch.nn.Linear(13, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1), torch.nn.Tanh())
    feedback = check.exercise_6("c", tanh_model)
    assert feedback.status == WRONG and "between -1 and 1" in feedback.message, feedback


def test_exercise_3_blames_the_detach_not_the_clamp_that_hint_2_recommends(session_untouched):
    message = check.exercise_3(LOGITS_WRONG["partly detached"][0]).message
    assert "clamping z" not in message and "such as clamping" not in message, message


def test_exercise_3_does_not_call_softplus_the_whole_loss(session_untouched):
    message = check.exercise_3(LOGITS_WRONG["softplus"][0]).message
    assert "calls softplus" in message and "this very loss" not in message, message


def test_exercise_3_names_the_mistake_without_printing_the_rewrite(session_untouched):
    for name in ("sigmoid first", "exp overflows", "exp(-z) overflows", "clamped"):
        message = check.exercise_3(LOGITS_WRONG[name][0]).message
        assert "max(z, 0)" not in message and "exp(-|z|)" not in message and "log1p" not in message, message



# The Korean edition: the same checks answer in Korean, with the measured values (issue 17).



def test_in_korean_the_checkers_of_notebook_02_answer_in_korean(korean, session_untouched):
    flipped = check.exercise_1(LABELS_WRONG["flipped"][0])
    assert flipped.message == "레이블이 뒤집혔습니다. 1.0은 학습 데이터의 중앙값보다 높다는 뜻이어야 합니다."
    overflow = check.exercise_3(LOGITS_WRONG["sigmoid first"][0]).message
    assert overflow.startswith("로짓 z = ") and "float32에서 sigmoid(z)는 (z = 17 정도부터)" in overflow, overflow
    letter_a = check.exercise_6("a", lambda: boston_binary_mlp(sigmoid=False)).message
    assert letter_a.startswith("답이 아닙니다(보기 a). 최종 모델은 같은 학습률(LR)로"), letter_a
    swapped = check.exercise_5(THRESHOLD_WRONG["costs reversed"][0]).message
    assert "거짓 양성" in swapped and "FP" not in swapped and "MISSES" not in swapped, swapped
    assert "낮음)이 3" in swapped and ")가 3" not in swapped, swapped  # the particle follows 양성, not the parenthesis
    unwritten = check.exercise_6("c", untouched).message
    assert unwritten.startswith("보기 'c'가 맞습니다. 이제 모델을 고칠 차례입니다."), unwritten
    as_float = check.exercise_2(BCE_WRONG[".item()"][0]).message
    assert as_float.startswith("텐서가 아니라 파이썬 float 값을 반환했습니다."), as_float
    threshold = check.exercise_5(lambda p, y: 0.5)
    assert threshold.status == WRONG, threshold
    assert re.search(r"0\.5는 정확도를 기준으로 한 선택입니다\. 비용은 \d+이고", threshold.message), threshold
