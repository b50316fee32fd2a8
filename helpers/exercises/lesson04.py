"""Checkers for notebook 04 (MNIST). Each one runs the student's code on fresh inputs.

The checkers never load MNIST: they make small images on the fly (ten random "digit" patterns
plus noise), which a working network learns in a second and a broken one cannot.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from helpers.data import TensorBatches
from helpers.exercises import NotAttempted, StudentError, Verdict, checker, correct, student, wrong
from helpers.metrics import multiclass_accuracy
from helpers.models import MNIST_Classifier
from helpers.training import predict, train_one_epoch

PUBLISHED_MEAN, PUBLISHED_STD = 0.1307, 0.3081  # of all 60,000 training images


def toy_digits(n: int, *, seed: int = 0, noise: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images float32 (n, 1, 28, 28) in [0, 1] and labels int64 (n,): ten random patterns plus noise."""
    gen = torch.Generator().manual_seed(seed)
    patterns = torch.rand(10, 1, 28, 28, generator=gen)  # pattern k stands for digit k
    labels = torch.randint(0, 10, (n,), generator=gen)
    images = (patterns[labels] + noise * torch.randn(n, 1, 28, 28, generator=gen)).clamp(0, 1)
    return images, labels


@checker("Exercise 1")
def exercise_1(flatten: Callable[[torch.Tensor], torch.Tensor]) -> Verdict:
    """``flatten(x)``: a batch (B, 1, 28, 28) -> (B, 784), one image per row."""
    for batch_size in (64, 7, 1):
        x = torch.rand(batch_size, 1, 28, 28)
        try:
            out = student(flatten, x)
        except StudentError as error:
            return wrong(f"a batch of {batch_size} images raised {error}. "
                         "Is the batch size written into the shape? Use x.size(0), whatever the batch holds.")
        if not isinstance(out, torch.Tensor):
            return wrong(f"flatten returned a {type(out).__name__}; return a tensor.")
        if tuple(out.shape) == (batch_size * 784,):
            return wrong(f"a batch of {batch_size} became one long row {tuple(out.shape)}: the batch "
                         "dimension was flattened too. Keep it: x.view(x.size(0), -1) or torch.flatten(x, 1).")
        if tuple(out.shape) != (batch_size, 784):
            return wrong(f"a batch {tuple(x.shape)} came out as {tuple(out.shape)}; "
                         f"expected ({batch_size}, 784).")
        if not torch.equal(out, x.reshape(batch_size, 784)):
            return wrong("the shape is right but the pixels moved: row i must hold image i's 784 "
                         "pixels in order. Did you transpose or permute? x.view(x.size(0), -1) needs neither.")
    return correct("batches of 64, 7 and 1 images each came out as (B, 784), one image per row.")


@checker("Exercise 2")
def exercise_2(pixel_stats: Callable[[torch.Tensor], tuple[float, float]]) -> Verdict:
    """``pixel_stats(images)``: one mean and one standard deviation over all pixels of ``images``."""
    found = []
    for seed, low, high in ((1, 0.2, 0.8), (2, 0.0, 0.4)):
        images = low + (high - low) * torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
        mean, std = pixel_stats(images)
        if mean is None or std is None:
            raise NotAttempted  # the scaffold's None
        if torch.as_tensor(mean).numel() != 1 or torch.as_tensor(std).numel() != 1:
            return wrong(f"got a mean of shape {tuple(torch.as_tensor(mean).shape)}: the course "
                         "uses ONE mean and ONE std over every pixel of every image (images.mean(), images.std()).")
        mean, std = float(mean), float(std)
        if abs(mean - PUBLISHED_MEAN) < 1e-3 and abs(std - PUBLISHED_STD) < 1e-3:
            return wrong("these are the published 0.1307 / 0.3081 of all 60,000 training images, "
                         "validation images included. Compute the statistics from the images you are given.")
        expected_mean, expected_std = images.mean().item(), images.std().item()
        if abs(mean - expected_mean) > 1e-3:
            return wrong(f"mean {mean:.4f}, expected {expected_mean:.4f} on images you never saw. "
                         "Use the argument, not a variable of the notebook.")
        if abs(std - expected_std ** 2) < 1e-4:
            return wrong(f"{std:.4f} is the variance; the standard deviation is its square root.")
        if abs(std - expected_std) > 1e-3:
            return wrong(f"std {std:.4f}, expected {expected_std:.4f}.")
        found.append(f"mean {mean:.3f}, std {std:.3f}")
    return correct(f"two fresh sets of images gave {found[0]} and {found[1]}, as they should.")


class _Recorder(nn.Module):
    """Notes, on every call, whether the model was in training mode and gradients were on."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((self.training, torch.is_grad_enabled()))
        return x


@checker("Exercise 3")
def exercise_3(accuracy: Callable[[nn.Module, list], float]) -> Verdict:
    """``accuracy(model, batches)``: correct / total over all batches, in eval mode, without gradients."""
    images, labels = toy_digits(300, seed=3)
    recorder = _Recorder()
    model = nn.Sequential(recorder, nn.Flatten(), nn.Dropout(0.5), nn.Linear(784, 10))
    patterns = torch.rand(10, 784, generator=torch.Generator().manual_seed(3))  # toy_digits' ten patterns
    blur = 2.0 * torch.randn(10, 784, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():  # score = likeness to each pattern, blurred: some answers right (about 57 %), not all
        model[3].weight.copy_(patterns - 0.5 + blur)
        model[3].bias.zero_()
    batches = [(images[i : i + 64], labels[i : i + 64]) for i in range(0, 300, 64)]  # last batch: 44 images
    model.eval()
    with torch.no_grad():
        hits = [(model(x).argmax(dim=1) == y).float() for x, y in batches]
    expected = torch.cat(hits).mean().item()
    mean_of_batches = sum(h.mean().item() for h in hits) / len(hits)
    model.train()  # the state a model is in right after training
    recorder.seen.clear()
    result = accuracy(model, batches)
    if not isinstance(result, (int, float)) and not (isinstance(result, torch.Tensor) and result.numel() == 1):
        return wrong(f"accuracy returned a {type(result).__name__}; return one number (a float).")
    result = float(result)
    if any(training for training, _ in recorder.seen):
        return wrong("the model was in training mode while you measured: Dropout still switched "
                     "units off at random. Call model.eval() before the loop.")
    if any(grad for _, grad in recorder.seen):
        return wrong("gradients were recorded during evaluation: wrap the loop in "
                     "`with torch.no_grad():` (it saves memory and time).")
    if result > 1.0:
        return wrong(f"got {result:g}: return the fraction correct / total (between 0 and 1), "
                     "not a count or a percentage.")
    if abs(result - mean_of_batches) < 1e-6 and abs(result - expected) > 1e-6:
        return wrong(f"got {result:.4f}, the mean of the batch accuracies; the last batch holds "
                     f"only 44 images. Count correct answers and images over all batches: {expected:.4f}.")
    if abs(result - expected) > 1e-6:
        return wrong(f"got {result:.4f}, expected {expected:.4f}: predicted digit = "
                     "model(x).argmax(dim=1); count where it equals y.")
    return correct(f"{expected:.4f} on 300 images in 5 batches (the last one short), "
                   "measured in eval mode without gradients.")


@checker("Exercise 4")
def exercise_4(build_model: Callable[[], nn.Module]) -> Verdict:
    """``build_model()``: the source's network as an ``nn.Sequential`` that starts with ``nn.Flatten()``."""
    model = build_model()
    if not isinstance(model, nn.Sequential):
        return wrong(f"build_model returned a {type(model).__name__}; return nn.Sequential(...).")
    if any(isinstance(layer, nn.Softmax) for layer in model.modules()):
        return wrong("remove the nn.Softmax: the model outputs logits, CrossEntropyLoss applies "
                     "the softmax itself.")
    x, _ = toy_digits(5, seed=4)
    try:
        out = student(model, x)
    except StudentError as error:
        return wrong(f"a batch (5, 1, 28, 28) raised: {error}. Start with nn.Flatten() so that "
                     "nn.Linear(784, 128) gets rows of 784 pixels.")
    if tuple(out.shape) != (5, 10):
        return wrong(f"a batch of 5 images gave outputs {tuple(out.shape)}; expected (5, 10).")
    shapes = [tuple(p.shape) for p in model.parameters()]
    reference = MNIST_Classifier()
    if shapes != [tuple(p.shape) for p in reference.parameters()]:
        return wrong(f"the weight shapes are {shapes}; the source's are 784 -> 128 -> 64 -> 10.")
    with torch.no_grad():
        for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
            mine.copy_(theirs)
    if not torch.allclose(model(x), reference(x), atol=1e-6):
        return wrong("same weights, different outputs: put nn.ReLU() after the first and the "
                     "second nn.Linear, and nothing after the last.")
    count = sum(p.numel() for p in model.parameters())
    return correct(f"{count:,} parameters, and with MNIST_Classifier's weights copied in it "
                   "gives the same logits.")


@checker("Exercise 5 (diagnose this run)")
def exercise_5(model_class: type[nn.Module]) -> Verdict:
    """``model_class``: the fixed classifier. Trained here for 2 epochs on toy digits, it must learn them."""
    torch.manual_seed(5)
    model = model_class()
    x, y = toy_digits(1200, seed=5)
    with torch.no_grad():
        model.eval()
        together, alone = model(x[:8]), torch.cat([model(x[i : i + 1]) for i in range(8)])
    if tuple(together.shape) != (8, 10):
        return wrong(f"a batch of 8 images gave outputs {tuple(together.shape)}; expected (8, 10).")
    if not torch.allclose(together, alone, atol=1e-5):
        return wrong("an image's logits still change with the other images in its batch: the flatten "
                     "mixes pixels of different images. Keep the batch dimension first: x.view(x.size(0), -1).")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        train_one_epoch(model, TensorBatches(x[:1000], y[:1000], 50, shuffle=False), nn.CrossEntropyLoss(), optimizer)
    held_out = multiclass_accuracy(predict(model, x[1000:]), y[1000:])
    if held_out < 0.9:
        return wrong(f"after 2 epochs it classifies only {held_out:.0%} of held-out toy digits "
                     "(chance is 10 %). Compare your forward with the source's, line by line.")
    return correct(f"each image's logits now depend on that image alone, and 2 epochs reach "
                   f"{held_out:.0%} on held-out toy digits.")
