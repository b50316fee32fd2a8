"""The checkers of notebook 04: the solution passes, an untouched scaffold is "not attempted",
and typical wrong answers get their targeted hint."""

from __future__ import annotations

import torch
from torch import nn

from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson04 as check


def untouched(*args):
    raise NotImplementedError  # YOUR CODE HERE


# Exercise 1: flatten a batch
def test_exercise_1():
    assert check.exercise_1(lambda x: x.view(x.size(0), -1)).status == CORRECT
    assert check.exercise_1(untouched).status == NOT_ATTEMPTED
    merged = check.exercise_1(lambda x: x.flatten())
    assert merged.status == WRONG and "batch dimension was flattened too" in merged.message
    fixed_size = check.exercise_1(lambda x: x.view(64, -1))
    assert fixed_size.status == WRONG and "x.size(0)" in fixed_size.message
    moved = check.exercise_1(lambda x: x.transpose(2, 3).reshape(x.size(0), -1))
    assert moved.status == WRONG and "pixels moved" in moved.message


# Exercise 2: pixel statistics of the images given
def test_exercise_2():
    assert check.exercise_2(lambda images: (images.mean(), images.std())).status == CORRECT
    assert check.exercise_2(lambda images: (None, None)).status == NOT_ATTEMPTED
    published = check.exercise_2(lambda images: (0.1307, 0.3081))
    assert published.status == WRONG and "published" in published.message
    variance = check.exercise_2(lambda images: (images.mean(), images.var()))
    assert variance.status == WRONG and "variance" in variance.message
    per_pixel = check.exercise_2(lambda images: (images.mean(dim=0), images.std(dim=0)))
    assert per_pixel.status == WRONG and "ONE mean" in per_pixel.message


def solution_accuracy(model, batches):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in batches:
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    return correct / total


def test_exercise_3():
    assert check.exercise_3(solution_accuracy).passed
    assert check.exercise_3(untouched).status == NOT_ATTEMPTED

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

    assert "model.eval()" in check.exercise_3(no_eval).message
    assert "last batch" in check.exercise_3(mean_of_batches).message
    assert "torch.no_grad()" in check.exercise_3(with_grad).message


def source_sequential():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def test_exercise_4():
    assert check.exercise_4(source_sequential).passed
    assert check.exercise_4(untouched).status == NOT_ATTEMPTED
    no_flatten = check.exercise_4(lambda: source_sequential()[1:])
    assert no_flatten.status == WRONG and "nn.Flatten()" in no_flatten.message
    softmax = check.exercise_4(lambda: nn.Sequential(*source_sequential(), nn.Softmax(dim=1)))
    assert softmax.status == WRONG and "Softmax" in softmax.message
    last_relu = check.exercise_4(lambda: nn.Sequential(*source_sequential()[:5], nn.Linear(64, 10), nn.ReLU()))
    assert last_relu.status == WRONG and "nothing after the last" in last_relu.message


class BuggyClassifier(check.MNIST_Classifier):
    def forward(self, x):
        x = x.view(784, -1).T
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.output(x)


class UntouchedClassifier(check.MNIST_Classifier):
    def forward(self, x):
        raise NotImplementedError  # YOUR CODE HERE


def test_exercise_5():
    fixed = check.exercise_5(check.MNIST_Classifier)
    assert fixed.passed and "held-out" in fixed.message
    assert check.exercise_5(UntouchedClassifier).status == NOT_ATTEMPTED
    buggy = check.exercise_5(BuggyClassifier)
    assert buggy.status == WRONG and "x.view(x.size(0), -1)" in buggy.message


def test_toy_digits_are_learnable_but_not_trivial():
    """The checkers' data: the right shapes and all ten digits present."""
    images, labels = check.toy_digits(200, seed=0)
    assert images.shape == (200, 1, 28, 28) and labels.dtype == torch.int64
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert set(labels.tolist()) == set(range(10))
