"""The checkers of notebook 04: the solution passes, an untouched scaffold is "not attempted", and the
wrong answers students really write (one table per exercise) each get their targeted message."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson04 as check
from helpers.models import MNIST_Classifier


def untouched(*args):
    raise NotImplementedError  # YOUR CODE HERE


def expect(feedback, fragment: str) -> None:
    assert feedback.status == WRONG and fragment in feedback.message, feedback


# Exercise 1: flatten a batch stored column by column
FLATTEN_WRONG = {
    "flattens the batch too": (lambda x: x.transpose(2, 3).flatten(), "batch dimension was flattened too"),
    "a fixed batch size": (lambda x: x.transpose(2, 3).reshape(64, -1), "x.size(0)"),
    "view after the transpose": (lambda x: x.transpose(2, 3).view(x.size(0), -1), "not contiguous"),
    "forgets to turn the images": (lambda x: x.view(x.size(0), -1), "column by column, as it was stored"),
    "swaps the wrong dimensions": (lambda x: x.transpose(0, 3).reshape(x.size(0), -1), "pixels moved"),
}


def test_exercise_1(session_untouched):
    assert check.exercise_1(lambda x: x.transpose(2, 3).reshape(x.size(0), -1)).status == CORRECT
    assert check.exercise_1(lambda x: torch.flatten(x.transpose(2, 3), 1)).status == CORRECT
    assert check.exercise_1(untouched).status == NOT_ATTEMPTED
    for answer, fragment in FLATTEN_WRONG.values():
        expect(check.exercise_1(answer), fragment)


# Exercise 2: pixel statistics of the images given
STATS_WRONG = {
    "the published numbers": (lambda images: (0.1307, 0.3081), "published"),
    "the variance": (lambda images: (images.mean(), images.var()), "variance"),
    "per-pixel statistics": (lambda images: (images.mean(dim=0), images.std(dim=0)), "ONE mean"),
    "returns one value": (lambda images: images.mean(), "return two numbers"),
}


def test_exercise_2(session_untouched):
    assert check.exercise_2(lambda images: (images.mean(), images.std(correction=0))).status == CORRECT
    assert check.exercise_2(untouched).status == NOT_ATTEMPTED
    for answer, fragment in STATS_WRONG.values():
        expect(check.exercise_2(answer), fragment)


def test_exercise_2_points_without_handing_over_the_answer(session_untouched):
    message = check.exercise_2(lambda images: (images.mean(dim=0), images.std(dim=0))).message
    assert "which dimensions" in message and "images.mean()" not in message and "images.std()" not in message


def test_exercise_2_shows_the_learners_statistics_of_the_training_split(session_untouched):
    """The lesson's check line passes train_x: a right answer then reports its statistics next to the published."""
    train_images = torch.rand(50, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    feedback = check.exercise_2(lambda images: (images.mean(), images.std()), train_images)
    assert feedback.passed, feedback
    assert f"mean {train_images.mean().item():.4f}" in feedback.message and "0.1307 / 0.3081" in feedback.message
    expect(check.exercise_2(lambda images: (0.1307, 0.3081), train_images), "published")


# Exercise 3: the training loop, with the flatten
def write_loop(*, train=True, flatten="keep", target=None, zero_grad="before", returns="mean", own_loss=False,
               step=True):
    """A student's ``train_epoch``: the solution, or one usual mistake."""

    def train_epoch(model, loader, loss_fn, optimizer):
        if train:
            model.train()
        loss_sum, count, losses = 0.0, 0, []
        for x, y in loader:
            x = {"keep": x.view(x.size(0), -1), "all": x.view(-1), "none": x, "64": x.view(64, -1)}[flatten]
            y = {None: y, "float": y.float(), "column": y.view(-1, 1)}[target]
            loss = (nn.CrossEntropyLoss() if own_loss else loss_fn)(model(x), y)
            if zero_grad == "before":
                optimizer.zero_grad()
            loss.backward()
            if zero_grad == "after backward":
                optimizer.zero_grad()
            if step:
                optimizer.step()
            loss_sum = loss_sum + (loss * len(x) if returns == "tensor" else loss.item() * len(x))
            count += len(x)
            losses.append(loss.item())
        return {"mean": loss_sum / count, "tensor": loss_sum / count, "last": losses[-1],
                "batch mean": sum(losses) / len(losses), "nothing": None}[returns]

    return train_epoch


LOOP_WRONG = {
    "no model.train()": (write_loop(train=False), "model.train()"),
    "flattens the batch away": (write_loop(flatten="all"), "batch dimension was flattened away"),
    "forgets to flatten": (write_loop(flatten="none"), "unflattened"),
    "a fixed batch size": (write_loop(flatten="64"), "x.size(0)"),
    "float targets": (write_loop(target="float"), "int64 (B,)"),
    "column targets": (write_loop(target="column"), "int64 (B,)"),
    "no zero_grad": (write_loop(zero_grad="never"), "optimizer.zero_grad()"),
    "zero_grad after backward": (write_loop(zero_grad="after backward"), "cleared between"),
    "last batch's loss": (write_loop(returns="last"), "last batch's loss"),
    "mean of batch losses": (write_loop(returns="batch mean"), "weight each batch by its size"),
    "returns nothing": (write_loop(returns="nothing"), "return the mean loss"),
    "sums the loss tensors": (write_loop(returns="tensor"), "carries its computation graph"),
    "its own loss function": (write_loop(own_loss=True), "loss_fn you are given"),
    "no optimizer.step()": (write_loop(step=False), "optimizer.step() was never called"),
}


def test_exercise_3_solution_and_untouched(session_untouched):
    solved = check.exercise_3(write_loop())
    assert solved.status == CORRECT and "held-out" in solved.message, solved
    assert check.exercise_3(untouched).status == NOT_ATTEMPTED


@pytest.mark.parametrize("mistake", list(LOOP_WRONG))
def test_exercise_3_names_the_mistake(mistake, session_untouched):
    answer, fragment = LOOP_WRONG[mistake]
    expect(check.exercise_3(answer), fragment)


# Exercise 4: the source's evaluation, by hand
def solution_accuracy(model, batches):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in batches:
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    return correct / total


def no_eval(model, batches):
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in batches) / 300


def mean_of_batches(model, batches):
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).float().mean().item() for x, y in batches) / len(batches)


def with_grad(model, batches):
    model.eval()
    return sum((model(x).argmax(1) == y).sum().item() for x, y in batches) / 300


ACCURACY_WRONG = {
    "no model.eval()": (no_eval, "model.eval()"),
    "mean of batch accuracies": (mean_of_batches, "last batch"),
    "gradients on": (with_grad, "torch.no_grad()"),
}


def test_exercise_4(session_untouched):
    assert check.exercise_4(solution_accuracy).passed
    assert check.exercise_4(untouched).status == NOT_ATTEMPTED
    for answer, fragment in ACCURACY_WRONG.values():
        expect(check.exercise_4(answer), fragment)


# Exercise 5: a small CNN as an nn.Module class, its nn.Linear's in_features worked out
def small_cnn(*, in_features=300, init=True, softmax=False, relu=True, pool_once=False, flatten="keep",
              convs=((1, 6, 5), (6, 12, 3)), padding=0):
    """A student's ``SmallCNN`` class: the solution, or one usual mistake."""

    class SmallCNN(nn.Module):
        def __init__(self):
            if init:
                super().__init__()
            self.conv1 = nn.Conv2d(*convs[0][:2], kernel_size=convs[0][2], padding=padding)
            self.conv2 = nn.Conv2d(*convs[1][:2], kernel_size=convs[1][2])
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(in_features, 10)

        def forward(self, x):
            act = torch.relu if relu else (lambda t: t)
            x = self.pool(act(self.conv1(x)))
            x = act(self.conv2(x))
            if not pool_once:
                x = self.pool(x)
            x = {"keep": lambda t: t.view(t.size(0), -1), "mix": lambda t: t.view(-1, t.size(0)).T}[flatten](x)
            x = self.fc(x)
            return torch.softmax(x, dim=1) if softmax else x

    return SmallCNN


class UntouchedCNN(nn.Module):
    def __init__(self):
        super().__init__()
        raise NotImplementedError  # YOUR CODE HERE


CNN_WRONG = {
    "the lesson's in_features": (small_cnn(in_features=784), "lesson's CNN"),
    "the height only halved": (small_cnn(in_features=12 * 7 * 7), "K - 1"),
    "another in_features": (small_cnn(in_features=432), "(H + 2P - K) // S + 1"),
    "no super().__init__()": (small_cnn(init=False), "super().__init__()"),
    "a softmax at the end": (small_cnn(softmax=True), "softmax"),
    "no ReLU": (small_cnn(relu=False), "something else"),
    "the wrong kernels": (small_cnn(convs=((1, 6, 3), (6, 12, 3))), "nn.Conv2d(1, 6, kernel_size=5)"),
    "one pooling layer": (small_cnn(in_features=12 * 10 * 10, pool_once=True), "a pooling layer is missing"),
    "a flatten that mixes images": (small_cnn(flatten="mix"), "something else"),
    "an instance, not the class": (small_cnn()(), "class itself"),
    "padding in the first convolution": (small_cnn(padding=2, in_features=12 * 6 * 6),
                                         "(padding, stride) [(2, 1), (0, 1)]"),
}


def test_exercise_5(session_untouched):
    assert check.exercise_5(small_cnn()).passed
    assert check.exercise_5(UntouchedCNN).status == NOT_ATTEMPTED
    for answer, fragment in CNN_WRONG.values():
        expect(check.exercise_5(answer), fragment)


def test_exercise_5_fallback_starts_its_sentence_with_a_capital(session_untouched):
    expect(check.exercise_5(small_cnn(in_features=12 * 4 * 4)), "starting at 28. Check the height")


# Exercise 6 (diagnose this run): a flatten that mixes the images of a batch
class BuggyClassifier(MNIST_Classifier):
    def forward(self, x):
        x = x.view(784, -1).T
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.output(x)


class ReshapedClassifier(MNIST_Classifier):
    def forward(self, x):
        x = x.reshape(784, -1).t()  # reshape in place of view: the same mix
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.output(x)


class NoReluClassifier(MNIST_Classifier):
    def forward(self, x):
        x = x.view(x.size(0), -1)  # the flatten fixed, but both ReLUs dropped: a linear model
        return self.output(self.fc2(self.fc1(x)))


class WholeBatchFlattenClassifier(MNIST_Classifier):
    def forward(self, x):
        x = x.flatten()  # the whole batch, batch dimension included
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.output(x)


class UntouchedClassifier(MNIST_Classifier):
    def forward(self, x):
        raise NotImplementedError  # YOUR CODE HERE


def test_exercise_6(session_untouched):
    fixed = check.exercise_6(MNIST_Classifier)
    assert fixed.passed and "held-out" in fixed.message
    assert check.exercise_6(UntouchedClassifier).status == NOT_ATTEMPTED
    expect(check.exercise_6(BuggyClassifier), "mixes pixels of different images")
    expect(check.exercise_6(ReshapedClassifier), "mixes pixels of different images")
    expect(check.exercise_6(NoReluClassifier), "differ from what MNIST_Classifier's forward computes")
    expect(check.exercise_6(WholeBatchFlattenClassifier), "fc1 got one long row (6272,)")

    class Inherited(MNIST_Classifier):
        pass

    expect(check.exercise_6(Inherited), "defines no forward of its own")


def test_the_drill_feedback_does_not_name_the_fix():
    """The drill's hints and feedback point at where to look, never at the answer."""
    message = check.exercise_6(BuggyClassifier).message
    assert "x.size(0)" not in message and "view(" not in message


def test_toy_digits_are_learnable_but_not_trivial():
    """The checkers' data: the right shapes and all ten digits present."""
    images, labels = check.toy_digits(200, seed=0)
    assert images.shape == (200, 1, 28, 28) and labels.dtype == torch.int64
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert set(labels.tolist()) == set(range(10))


# The Korean edition: the same checks answer in Korean, with the measured values (issue 17).



def test_in_korean_the_checkers_of_notebook_04_answer_in_korean(korean, session_untouched):
    flattened = check.exercise_1(FLATTEN_WRONG["flattens the batch too"][0]).message
    assert flattened.startswith("이미지 64장짜리 배치가 긴 한 행(모양 ("), flattened
    assert "배치 차원까지 평탄화했습니다" in flattened, flattened
    away = check.exercise_3(write_loop(flatten="all")).message
    assert away.startswith("모델이 받은 것은 긴 한 행, 모양 (") and "번째 줄: " in away, away
    stats = check.exercise_2(STATS_WRONG["the variance"][0]).message
    assert re.fullmatch(r"표준편차로 돌려준 0\.\d{4} 값은 분산입니다\. 표준편차는 그 제곱근입니다\.", stats), stats
    assert repr(check.exercise_6(None)).startswith("[ ] 연습 6 (실행 진단): 아직 풀지 않음.")
