"""The checkers of notebook 03: the solution passes, an untouched scaffold is "not attempted",
the wrong answers students really write get their targeted message, and no checker changes the
student's session."""

from __future__ import annotations

import copy
import math
import re

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


def model_and_optimizer(lr: float):
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3))
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def optimizer_of_another_model(lr: float):
    model, optimizer = model_and_optimizer(lr)
    model, _ = model_and_optimizer(lr)  # the model cell run again
    return model, optimizer


def sgd_model_and_optimizer(lr: float):
    model = model_and_optimizer(lr)[0]
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def softmax_model_and_optimizer(lr: float):
    model = nn.Sequential(*model_and_optimizer(lr)[0], nn.Softmax(dim=1))
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def make_loop(*, report: str = "sample mean", softmax: bool = False, zero_grad: bool = True,
              targets=lambda y: y, optimizer=None, keep: str = "copy"):
    """A whole training loop as students write it; the keywords put in one mistake each. ``keep``: "copy"
    (copy.deepcopy of the best state_dict), "reference" (the state_dict itself, no copy), "none" (the last epoch),
    "not loaded" (a copy kept, never loaded)."""

    def fit(model, train_loader, x_val, y_val, given_optimizer, epochs):
        opt = optimizer(model) if optimizer else given_optimizer
        loss_fn = nn.CrossEntropyLoss()
        losses, val_losses, best = [], [], None
        for _ in range(epochs):
            model.train()
            batch_losses, sizes = [], []
            for x, y in train_loader:
                out = model(x)
                loss = loss_fn(torch.softmax(out, dim=1) if softmax else out, targets(y))
                if zero_grad:
                    opt.zero_grad()
                loss.backward()
                opt.step()
                batch_losses.append(loss.item())
                sizes.append(len(x))
            weighted = sum(b * n for b, n in zip(batch_losses, sizes, strict=True))
            losses.append({"sample mean": weighted / sum(sizes), "last batch": batch_losses[-1],
                           "batch mean": sum(batch_losses) / len(batch_losses), "sum": weighted,
                           "batch means over tracts": sum(batch_losses) / sum(sizes),
                           "sum over batches": weighted / len(batch_losses)}[report])
            model.eval()
            with torch.no_grad():
                val_losses.append(loss_fn(model(x_val), y_val).item())
            if val_losses[-1] == min(val_losses):
                best = copy.deepcopy(model.state_dict()) if keep != "reference" else model.state_dict()
        if keep not in ("none", "not loaded"):
            model.load_state_dict(best)
        return losses, val_losses

    return fit


SOLUTIONS = [
    (check.exercise_1, stable_softmax),
    (check.exercise_2, cross_entropy),
    (check.exercise_3, lambda c: math.log(1 + (c - 1) / math.e)),
    (check.exercise_4, make_loop()),
    (check.exercise_5, model_and_optimizer),
    (check.exercise_6, lambda y: y - 1),
]


@pytest.mark.parametrize(("exercise", "solution"), SOLUTIONS, ids=[f"exercise_{i}" for i in range(1, 7)])
def test_solution_passes(exercise, solution, session_untouched):
    feedback = exercise(solution)
    assert feedback.status == CORRECT, feedback


@pytest.mark.parametrize(("exercise", "solution"), SOLUTIONS, ids=[f"exercise_{i}" for i in range(1, 7)])
def test_untouched_scaffold_is_not_attempted(exercise, solution):
    assert exercise(None).status == NOT_ATTEMPTED
    assert exercise(untouched).status == NOT_ATTEMPTED


def global_max_softmax(z: torch.Tensor) -> torch.Tensor:
    e = torch.exp(z - z.max())  # one maximum for the whole batch
    return e / e.sum(dim=1, keepdim=True)


def shifted_softmax(shift, divide=lambda e: e / e.sum(dim=1, keepdim=True)):
    """A softmax that subtracts ``shift(z)`` (N, 1) from each row and then ``divide``s the exponentials."""
    return lambda z: divide(torch.exp(z - shift(z)))


def row_max(z: torch.Tensor) -> torch.Tensor:
    return z.max(dim=1, keepdim=True).values


#: (exercise, a wrong answer students write, a fragment of the message it must get)
WRONG_ANSWERS = [
    (check.exercise_1, lambda z: torch.exp(z) / torch.exp(z).sum(dim=1, keepdim=True), "overflows to inf"),
    (check.exercise_1, global_max_softmax, "underflow"),
    (check.exercise_1, lambda z: torch.exp(z - z.max()) / torch.exp(z - z.max()).sum(dim=0), "dim=1"),
    (check.exercise_1, lambda z: torch.exp(z - z.max(dim=1, keepdim=True).values)
     / torch.exp(z - z.max(dim=1, keepdim=True).values).sum(dim=1), "keepdim=True"),
    (check.exercise_1, lambda z: torch.exp(z - z.max(dim=1).values), "keepdim=True"),
    (check.exercise_1, shifted_softmax(row_max, lambda e: e / e.sum()), "whole batch sums to 1"),
    (check.exercise_1, shifted_softmax(row_max, lambda e: e / e.sum(dim=0)), "divided by the column sums"),
    (check.exercise_1, shifted_softmax(row_max, lambda e: e / e.sum(dim=0, keepdim=True)), "column sums"),
    (check.exercise_1, shifted_softmax(row_max, lambda e: e), "not yet divided"),
    (check.exercise_1, shifted_softmax(row_max, lambda e: e / e.max(dim=1, keepdim=True).values), "not yet divided"),
    (check.exercise_1, shifted_softmax(lambda z: z.min(dim=1, keepdim=True).values), "the row's smallest logit"),
    (check.exercise_1, shifted_softmax(lambda z: z.mean(dim=1, keepdim=True)), "the row's mean"),
    (check.exercise_1, lambda z: torch.softmax(z, dim=1), "library's softmax"),
    (check.exercise_1, lambda z: nn.functional.softmax(z, dim=1), "library's softmax"),
    (check.exercise_1, lambda z: z.softmax(dim=1), "library's softmax"),
    (check.exercise_1, lambda z: torch.log_softmax(z, dim=1).exp(), "library's log_softmax"),
    (check.exercise_2, lambda z, y: torch.log_softmax(z, 1)[torch.arange(len(y)), y].mean(), "sign"),
    (check.exercise_2, lambda z, y: -torch.log_softmax(z, 1)[torch.arange(len(y)), y].sum(), ".mean()"),
    (check.exercise_2, lambda z, y: -torch.log(torch.softmax(z, 1))[torch.arange(len(y)), y].mean(), "log_softmax"),
    (check.exercise_2, lambda z, y: -torch.log_softmax(z, 1).mean(), "true class"),
    (check.exercise_2, lambda z, y: -torch.log_softmax(z, 1)[:, y].mean(), "log_probs[:, y]"),
    (check.exercise_2, lambda z, y: nn.CrossEntropyLoss()(z, y), "by hand"),
    (check.exercise_2, lambda z, y: nn.functional.cross_entropy(z, y), "by hand"),
    (check.exercise_3, lambda c: math.log(c), "flat guess"),
    (check.exercise_3, lambda c: math.log(1 + 2 / math.e), "C - 1"),
    (check.exercise_3, lambda c: math.log(1 + c / math.e), "off by one"),
    (check.exercise_3, lambda c: math.log(1 + (c - 1) * math.e), "adds e where it should add 1/e"),
    (check.exercise_3, lambda c: math.log(c - 1 + math.e), "ceiling"),
    (check.exercise_2, lambda z, y: -torch.log_softmax(z, 0)[torch.arange(len(y)), y].mean(), "use dim=1"),
    (check.exercise_4, make_loop(report="last batch"), "LAST batch"),
    (check.exercise_4, make_loop(report="batch mean"), "counts as much as a full one"),
    (check.exercise_4, make_loop(report="sum"), "divide by the number of tracts"),
    (check.exercise_4, make_loop(report="batch means over tracts"), "without * len(x)"),
    (check.exercise_4, make_loop(report="sum over batches"), "divided by the number of batches"),
    (check.exercise_4, make_loop(report="batch means over tracts",
                                 optimizer=lambda m: torch.optim.Adam(m.parameters(), lr=0.02)), "off by a factor"),
    (check.exercise_4, make_loop(report="sum over batches",
                                 optimizer=lambda m: torch.optim.Adam(m.parameters(), lr=0.02)), "off by a factor"),
    (check.exercise_4, make_loop(softmax=True), "applies a softmax before CrossEntropyLoss"),
    (check.exercise_4, make_loop(zero_grad=False), "never calls optimizer.zero_grad()"),
    (check.exercise_4, make_loop(targets=lambda y: y.float().view(-1, 1)), "reshaped to (N, 1)"),
    (check.exercise_4, make_loop(targets=lambda y: y.float()), "they were made float"),
    (check.exercise_4, make_loop(optimizer=lambda m: torch.optim.SGD(m.parameters(), lr=1e-4)),
     "reference loop reaches"),
    (check.exercise_4, make_loop(keep="reference"), "without the copy"),
    (check.exercise_4, lambda *args: make_loop()(*args)[0], "return two lists"),
    (check.exercise_4, make_loop(keep="none"), "never calls model.load_state_dict"),
    (check.exercise_4, make_loop(keep="not loaded"), "never calls model.load_state_dict"),
    (check.exercise_5, optimizer_of_another_model, "another model's"),
    (check.exercise_5, lambda lr: model_and_optimizer(lr)[0], "return two things"),
    (check.exercise_5, lambda lr: model_and_optimizer(0.0), "learning rate"),
    (check.exercise_5, softmax_model_and_optimizer, "ends in nn.Softmax"),
    (check.exercise_5, sgd_model_and_optimizer, "not Adam"),
    (check.exercise_6, lambda y: y % 3, "% 3"),
    (check.exercise_6, lambda y: y.clamp(max=2), "clamping"),
    (check.exercise_6, lambda y: (y - 1).float(), "int64"),
    (check.exercise_6, lambda y: (y - 1).view(-1, 1), "(N,)"),
]


@pytest.mark.parametrize(("exercise", "answer", "phrase"), WRONG_ANSWERS,
                         ids=[f"{e.__name__}-{p}" for e, _, p in WRONG_ANSWERS])
def test_wrong_answer_gets_targeted_message(exercise, answer, phrase, session_untouched):
    feedback = exercise(answer)
    assert feedback.status == WRONG, feedback
    assert phrase in feedback.message, feedback


def test_the_global_maximum_is_blamed_on_the_row_that_became_nan():
    """Issue 15: the message showed a finite row and said 'exp overflows' while another row was NaN."""
    message = check.exercise_1(global_max_softmax).message
    assert "[-1000.0, -999.0, -998.0] gave [nan, nan, nan]" in message
    assert "overflow" not in message


def test_a_loop_that_trains_differently_but_well_passes_on_what_it_measures(session_untouched):
    feedback = check.exercise_4(make_loop(optimizer=lambda m: torch.optim.Adam(m.parameters(), lr=0.02)))
    assert feedback.status == CORRECT and "trains differently" in feedback.message, feedback


def test_a_loop_with_one_hot_float_targets_is_right():
    """CrossEntropyLoss also takes float class probabilities (N, C): one-hot rows give the same loss."""
    one_hot = make_loop(targets=lambda y: nn.functional.one_hot(y, 3).float())
    assert check.exercise_4(one_hot).status == CORRECT


def test_student_error_becomes_feedback():
    def broken(z: torch.Tensor) -> torch.Tensor:
        return z.sum(dim=7)

    feedback = check.exercise_1(broken)
    assert feedback.status == WRONG
    assert "IndexError" in feedback.message and "line" in feedback.message


def test_the_loop_checker_leaves_the_students_model_and_rng_alone(session_untouched):
    weights = {k: v.clone() for k, v in check._loop_start().items()}
    check.exercise_4(make_loop())
    assert all(torch.equal(v, weights[k]) for k, v in check._loop_start().items())


def test_softmax_floor_and_ceiling_are_what_cross_entropy_measures():
    probabilities = torch.tensor([[1.0, 0.0, 0.0]])
    assert nn.functional.cross_entropy(probabilities, torch.tensor([0])).item() == pytest.approx(check.floor_for(3))
    assert nn.functional.cross_entropy(probabilities, torch.tensor([1])).item() == pytest.approx(math.log(2 + math.e))


# The Korean edition: the same checks answer in Korean, with the measured values (issue 17).



def test_in_korean_the_checkers_of_notebook_03_answer_in_korean(korean, session_untouched):
    flat = check.exercise_3(lambda c: math.log(c)).message
    assert flat.startswith("log(5)는 모든 확률이 1/5인 평평한 추측의 손실로"), flat
    last = check.exercise_4(make_loop(report="last batch")).message
    assert "마지막 배치에는 구역 324개 중 4개만 있습니다" in last, last
    underflow = check.exercise_1(global_max_softmax).message
    assert underflow.startswith("로짓 행 [-1000.0, -999.0, -998.0]의 결과가 [nan, nan, nan]입니다: "), underflow
    solved = check.exercise_3(lambda c: math.log(1 + (c - 1) / math.e))
    assert solved.status == CORRECT, solved
    assert re.search(r"MNIST의 클래스 10개에서는 하한이 1\.461, .* 63%입니다", solved.message), solved
    wrong_digit = check.exercise_6(lambda y: y % 3).message
    assert "% 3을 쓰면 가격대 3(높음)이" in wrong_digit, wrong_digit


def test_a_loop_that_moves_batches_to_another_device_is_told_so():
    """A learner's fit that moves the data to the notebook's device (a GPU) while the checker's model is on
    the CPU: the checker names the device mismatch ("meta" stands in for the GPU on a CPU-only machine)."""
    def fit(model, train_loader, X_val, y_val, optimizer, epochs):
        for x, _ in train_loader:
            model(x.to("meta"))
        return [], []

    feedback = check.exercise_4(fit)
    assert feedback.status == WRONG and "next(model.parameters()).device" in feedback.message, feedback


@pytest.mark.parametrize("report", ["batch means over tracts", "sum over batches"])
def test_a_loss_reported_on_the_wrong_scale_is_not_blamed_on_a_softmax(report, session_untouched):
    for optimizer in (None, lambda m: torch.optim.Adam(m.parameters(), lr=0.02)):
        message = check.exercise_4(make_loop(report=report, optimizer=optimizer)).message
        assert "softmax" not in message and "floor" not in message, message


def test_the_softmax_watcher_puts_the_library_back():
    originals = (torch.softmax, torch.Tensor.softmax, nn.functional.softmax, torch.log_softmax)
    assert "softmax" not in vars(torch.Tensor)
    check.exercise_1(lambda z: z.softmax(dim=1))
    check.exercise_1(stable_softmax)
    assert (torch.softmax, torch.Tensor.softmax, nn.functional.softmax, torch.log_softmax) == originals
    assert "softmax" not in vars(torch.Tensor)
