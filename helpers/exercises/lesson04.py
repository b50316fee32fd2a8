"""Checkers for notebook 04 (MNIST). Each one runs the student's code on fresh inputs.

The checkers never load MNIST: they make small images on the fly (``toy_digits``: ten random
"digit" patterns plus noise), which a working network learns in a second and a broken one cannot.

    exercise_1  flatten(x): a batch stored column by column, turned upright -> (B, 784)
    exercise_2  pixel_stats(images): one mean, one standard deviation
    exercise_3  train_epoch(model, loader, loss_fn, optimizer): the training loop, with the flatten
    exercise_4  accuracy(model, batches): evaluation in eval mode, without gradients
    exercise_5  SmallCNN: a small CNN written as an nn.Module class, its nn.Linear's in_features worked out
    exercise_6  the drill: a flatten that mixes images, fixed
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import notebook
from helpers.data import TensorBatches
from helpers.exercises import StudentError, Verdict, checker, correct, student, wrong
from helpers.i18n import tr
from helpers.metrics import multiclass_accuracy
from helpers.training import predict, train_one_epoch

#: The settings cell's values (SEED and DEVICE aside) that the self-check's claims are about;
#: tests/test_lessons.py keeps them equal to the notebook's.
DEFAULTS: dict[str, object] = {"EPOCHS": 3, "LR": 0.001, "BATCH_SIZE": 64, "TRAIN_IMAGES": 55000, "VAL_SIZE": 5000}


def claims_apply() -> bool:
    """Whether the self-check's claims apply to this run: the settings are ``DEFAULTS`` (any SEED).
    Else prints which settings differ."""
    return notebook.claims_apply(DEFAULTS)

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
    """``flatten(x)``: a batch (B, 1, 28, 28) of images stored column by column (each one transposed)
    -> (B, 784), each image turned upright and read row after row, one image per row."""
    for batch_size in (64, 7, 1):
        upright = torch.rand(batch_size, 1, 28, 28)
        x = upright.transpose(2, 3).contiguous()  # stored column by column
        expected = upright.reshape(batch_size, 784)
        try:
            out = student(flatten, x)
        except StudentError as error:
            if "view size is not compatible" in str(error):
                return wrong(tr("view raised an error on the upright batch: after transpose the batch is no longer "
                                "laid out row after row (not contiguous), and no stride reads it that way. reshape, or "
                                "torch.flatten, copies the numbers when it must."))
            return wrong(tr("a batch of {batch_size} images raised {error}. Is the batch size written into the "
                            "shape? Use x.size(0), whatever the batch holds.", batch_size=batch_size, error=error))
        if not isinstance(out, torch.Tensor):
            return wrong(tr("flatten returned a {type_name}; return a tensor.", type_name=type(out).__name__))
        if tuple(out.shape) == (batch_size * 784,):
            return wrong(tr("a batch of {batch_size} became one long row {out_shape}: the batch dimension was "
                            "flattened too. Keep it, one row per image.",
                            batch_size=batch_size, out_shape=tuple(out.shape)))
        if tuple(out.shape) != (batch_size, 784):
            return wrong(tr("a batch {x_shape} came out as {out_shape}; expected ({batch_size}, 784).",
                            x_shape=tuple(x.shape), out_shape=tuple(out.shape), batch_size=batch_size))
        if torch.equal(out, x.reshape(batch_size, 784)):
            return wrong(tr("the shape is right, but every row reads its image column by column, as it was stored: "
                            "swap height and width (dimensions 2 and 3) before you flatten."))
        if not torch.equal(out, expected):
            return wrong(tr("the shape is right but the pixels moved: row i must hold image i, turned upright, "
                            "row after row. Swap only height and width (dimensions 2 and 3), then flatten from "
                            "dimension 1 on."))
    return correct(tr("batches of 64, 7 and 1 images each came out as (B, 784), one upright image per row."))


@checker("Exercise 2")
def exercise_2(pixel_stats: Callable[[torch.Tensor], tuple[float, float]],
               train_images: torch.Tensor | None = None) -> Verdict:
    """``pixel_stats(images)``: one mean and one standard deviation over all pixels of ``images``.

    Checked on two fresh sets of images; once right, it is called on ``train_images`` (the lesson's
    training split, float32 (N, 1, 28, 28)) and its result is shown next to the published numbers.
    """
    found = []
    for seed, low, high in ((1, 0.2, 0.8), (2, 0.0, 0.4)):
        images = low + (high - low) * torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
        result = student(pixel_stats, images)
        if not isinstance(result, (tuple, list)) or len(result) != 2 or None in result:
            return wrong(tr("pixel_stats returned {result!r}; return two numbers: mean, std.", result=result))
        mean, std = result
        if torch.as_tensor(mean).numel() != 1 or torch.as_tensor(std).numel() != 1:
            return wrong(tr("got a mean of shape {mean_shape}: one number per position of the dimensions you kept. "
                            "The course uses ONE mean and ONE std over every pixel of every image: which dimensions "
                            "must the reduction run over?", mean_shape=tuple(torch.as_tensor(mean).shape)))
        mean, std = float(mean), float(std)
        if abs(mean - PUBLISHED_MEAN) < 1e-3 and abs(std - PUBLISHED_STD) < 1e-3:
            return wrong(tr("these are the published 0.1307 / 0.3081 of all 60,000 training images, validation "
                            "images included. Compute the statistics from the images you are given."))
        expected_mean, expected_std = images.mean().item(), images.std().item()
        if abs(mean - expected_std) < 1e-3 and abs(std - expected_mean) < 1e-3:
            return wrong(tr("mean and std are swapped: return the mean first. torch.std_mean returns (std, mean), "
                            "in that order."))
        if abs(mean - expected_mean) > 1e-3:
            return wrong(tr("mean {mean:.4f}, expected {expected_mean:.4f} on images you never saw. Use the "
                            "argument, not a variable of the notebook.", mean=mean, expected_mean=expected_mean))
        if abs(std - expected_std ** 2) < 1e-4:
            return wrong(tr("{std:.4f} is the variance; the standard deviation is its square root.", std=std))
        if abs(std - expected_std) > 1e-3:
            return wrong(tr("std {std:.4f}, expected {expected_std:.4f}.", std=std, expected_std=expected_std))
        found.append(tr("mean {mean:.3f}, std {std:.3f}", mean=mean, std=std))
    message = tr("two fresh sets of images gave {first} and {second}, as they should.",
                 first=found[0], second=found[1])
    if train_images is not None:
        mean, std = (float(v) for v in student(pixel_stats, train_images))
        message += " " + tr("On your training split ({count:,} images): mean {mean:.4f}, std {std:.4f}; the "
                            "published {published_mean} / {published_std} were computed on all 60,000 training "
                            "images, validation images included.", count=len(train_images), mean=mean, std=std,
                            published_mean=PUBLISHED_MEAN, published_std=PUBLISHED_STD)
    return correct(message)


class _Watch(nn.Module):
    """The first layer of the loop exercise's model: notes the shape it gets and the model's mode."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[int, ...]] = []
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes.append(tuple(x.shape))
        self.modes.append(self.training)
        return x


class _WatchedLoss(nn.CrossEntropyLoss):
    """``nn.CrossEntropyLoss`` that notes each batch's target (dtype, shape) and its loss and size."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[tuple[torch.dtype, tuple[int, ...]]] = []
        self.losses: list[tuple[float, int]] = []

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.targets.append((target.dtype, tuple(target.shape)))
        loss = super().forward(pred, target)
        self.losses.append((loss.item(), len(pred)))
        return loss


class _WatchedSGD(torch.optim.SGD):
    """SGD that checks, at each step, that the gradients are this batch's alone (``fresh``: set by hooks)."""

    def __init__(self, params: list[nn.Parameter], lr: float) -> None:
        super().__init__(params, lr=lr)
        self.steps = 0
        self.problems: list[str] = []
        self.fresh: dict[int, torch.Tensor] = {}
        for p in params:
            p.register_hook(self._noter(id(p)))

    def _noter(self, key: int) -> Callable[[torch.Tensor], None]:
        def note(grad: torch.Tensor) -> None:
            self.fresh[key] = grad.detach().clone()

        return note

    def step(self, closure=None):  # noqa: ANN001, ANN201 (torch's signature)
        self.steps += 1
        params = [p for group in self.param_groups for p in group["params"]]
        if not self.fresh:
            self.problems.append("no_backward")
        elif any(p.grad is None or not p.grad.any() for p in params):
            self.problems.append("cleared")
        elif any(not torch.allclose(p.grad, self.fresh[id(p)], atol=1e-7) for p in params if id(p) in self.fresh):
            self.problems.append("accumulated")
        self.fresh = {}
        return super().step(closure)


LOOP_IMAGES, LOOP_BATCH, LOOP_EPOCHS, LOOP_LR = 600, 64, 3, 0.1  # 9 batches of 64 and a last one of 24


def _loop_model() -> nn.Sequential:
    """The loop exercise's model: rows of 784 pixels -> 10 logits (it does not flatten)."""
    return nn.Sequential(_Watch(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


@checker("Exercise 3")
def exercise_3(train_epoch: Callable[..., float]) -> Verdict:
    """``train_epoch(model, loader, loss_fn, optimizer)``: one epoch with the flatten; the mean loss per image.

    Run for 3 epochs on 600 toy digits (a DataLoader of batches of 64, the last one 24), its
    returned losses are compared with the same loop written by the course, from the same weights.
    """
    images, labels = toy_digits(LOOP_IMAGES + 400, seed=33)
    loader = DataLoader(TensorDataset(images[:LOOP_IMAGES], labels[:LOOP_IMAGES]), batch_size=LOOP_BATCH)
    torch.manual_seed(33)
    model = _loop_model()
    reference = _loop_model()
    reference.load_state_dict(model.state_dict())
    reference_sgd = torch.optim.SGD(reference.parameters(), lr=LOOP_LR)
    flat = nn.Flatten()
    loss_fn, optimizer = _WatchedLoss(), _WatchedSGD(list(model.parameters()), lr=LOOP_LR)
    returned, expected = [], []
    for _ in range(LOOP_EPOCHS):
        watch = model[0]
        model.eval()  # the state a model is in after measuring the validation split
        loss_fn.losses.clear()
        try:
            value = student(train_epoch, model, loader, loss_fn, optimizer)
        except StudentError as error:
            return wrong(_loop_error(error, watch, loss_fn))
        batch_losses = list(loss_fn.losses)
        if not batch_losses:
            return wrong(tr("loss_fn was never called: compute each batch's loss with the loss_fn you are given."))
        if watch.shapes and len(watch.shapes[-1]) != 2:
            return wrong(tr("the model got batches of shape {shape}: flatten each (B, 1, 28, 28) batch to (B, 784) "
                            "before calling the model.", shape=watch.shapes[-1]))
        if not all(watch.modes):
            return wrong(tr("the model was in evaluation mode while it trained (the checker left it in eval mode, "
                            "as evaluating the validation split does): call model.train() before the loop."))
        if optimizer.steps == 0:
            return wrong(tr("optimizer.step() was never called: the weights never changed."))
        if "no_backward" in optimizer.problems:
            return wrong(tr("optimizer.step() came before any loss.backward(): no gradients to step with."))
        if "cleared" in optimizer.problems:
            return wrong(tr("the gradients were cleared between loss.backward() and optimizer.step(), so the step "
                            "did nothing: clear them before backward()."))
        if "accumulated" in optimizer.problems:
            return wrong(tr("the gradients of earlier batches were still there at each step: call "
                            "optimizer.zero_grad() in every batch, before loss.backward()."))
        if len(batch_losses) != len(loader):
            return wrong(tr("the loss was computed for {n_batches} batches; the loader has {n_loader}.",
                            n_batches=len(batch_losses), n_loader=len(loader)))
        if isinstance(value, torch.Tensor) and value.grad_fn is not None:
            return wrong(tr("train_epoch returned a tensor that still carries its computation graph ({grad_fn}): "
                            "adding up loss * len(x) as tensors keeps every batch's graph, and with it every "
                            "batch's activations, in memory. Add loss.item() * len(x), a plain Python number.",
                            grad_fn=type(value.grad_fn).__name__))
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if not isinstance(value, (int, float)):
            return wrong(tr("train_epoch returned {type_name}; return the mean loss, one number.",
                            type_name=type(value).__name__))
        mean = sum(loss * n for loss, n in batch_losses) / sum(n for _, n in batch_losses)
        if abs(value - mean) > 1e-4 * max(1.0, abs(mean)):
            if abs(value - batch_losses[-1][0]) < 1e-6:
                return wrong(tr("you returned the last batch's loss ({value:.4f}); the epoch's mean over all images "
                                "is {mean:.4f}. Add up loss.item() * len(x) and the image count.",
                                value=value, mean=mean))
            if abs(value - sum(loss for loss, _ in batch_losses) / len(batch_losses)) < 1e-6:
                return wrong(tr("you returned the mean of the batch losses ({value:.4f}); the last batch holds only "
                                "24 images, so weight each batch by its size: {mean:.4f}.", value=value, mean=mean))
            return wrong(tr("you returned {value:.4f}; the mean loss per image over the epoch was {mean:.4f}.",
                            value=value, mean=mean))
        returned.append(value)
        expected.append(_reference_epoch(reference, loader, flat, reference_sgd))
    if any(abs(a - b) > 1e-3 * max(1.0, b) for a, b in zip(returned, expected, strict=True)):
        got = ", ".join(f"{v:.4f}" for v in returned)
        want = ", ".join(f"{v:.4f}" for v in expected)
        return wrong(tr("your epochs' losses were {got}; the course's loop, from the same weights, gives {want}. "
                        "Predict, loss, zero_grad, backward, step: once per batch, in that order.",
                        got=got, want=want))
    held_out = multiclass_accuracy(predict(model, flat(images[LOOP_IMAGES:])), labels[LOOP_IMAGES:])
    if returned[-1] > 0.3 or held_out < 0.9:
        return wrong(tr("after {epochs} epochs the loss is {last:.3f} and {held_out:.0%} of held-out toy digits are "
                        "right; a working loop reaches a loss below 0.3 and 90 %.",
                        epochs=LOOP_EPOCHS, last=returned[-1], held_out=held_out))
    return correct(tr("{epochs} epochs on toy digits: mean loss {first:.3f} -> {last:.3f} (the course's loop: "
                      "{reference_last:.3f}), {held_out:.0%} of held-out digits right.",
                      epochs=LOOP_EPOCHS, first=returned[0], last=returned[-1], reference_last=expected[-1],
                      held_out=held_out))


def _reference_epoch(model: nn.Module, loader: DataLoader, flat: nn.Module, optimizer: torch.optim.Optimizer) -> float:
    """The course's loop for the loop exercise: the mean loss per image of one epoch."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    loss_sum, count = 0.0, 0
    for x, y in loader:
        loss = loss_fn(model(flat(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(x)
        count += len(x)
    return loss_sum / count


def _loop_error(error: StudentError, watch: _Watch, loss_fn: _WatchedLoss) -> str:
    """A targeted message for an exception raised inside the student's training loop."""
    text = str(error)
    if watch.shapes and len(watch.shapes[-1]) == 1:
        return tr("the model got one long row {shape}: the batch dimension was flattened away. Keep it, one row per "
                  "image ({where}).", shape=watch.shapes[-1], where=error.where)
    if watch.shapes and len(watch.shapes[-1]) == 4:
        return tr("the model got the batch unflattened, {shape}: flatten it to (B, 784) first ({where}).",
                  shape=watch.shapes[-1], where=error.where)
    if watch.shapes and watch.shapes[-1][-1] != 784:
        return tr("the model got rows of {width} numbers, shape {shape}: each row must hold one image's 784 pixels. "
                  "The last batch holds 24 images: write the batch size as x.size(0), not a number ({where}).",
                  width=watch.shapes[-1][-1], shape=watch.shapes[-1], where=error.where)
    if "is invalid for input of size" in text:
        return tr("a batch could not be flattened: {text}. The last batch holds 24 images; write the batch size as "
                  "x.size(0), not a number ({where}).", text=text, where=error.where)
    if loss_fn.targets:
        dtype, shape = loss_fn.targets[-1]
        if dtype != torch.int64 or len(shape) != 1:
            return tr("CrossEntropyLoss got targets {dtype} {shape}: pass the labels as they come, int64 (B,) "
                      "digits, without .float() or reshaping ({where}).",
                      dtype=str(dtype).replace("torch.", ""), shape=shape, where=error.where)
    if error.device_mismatch:
        return tr("a tensor was on another device: move each batch to the model's device, "
                  "next(model.parameters()).device ({where}).", where=error.where)
    return tr("your loop raised {text} ({where}).", text=text, where=error.where)


class _Recorder(nn.Module):
    """Notes, on every call, whether the model was in training mode and gradients were on."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((self.training, torch.is_grad_enabled()))
        return x


@checker("Exercise 4")
def exercise_4(accuracy: Callable[[nn.Module, list], float]) -> Verdict:
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
    result = student(accuracy, model, batches)
    if not isinstance(result, (int, float)) and not (isinstance(result, torch.Tensor) and result.numel() == 1):
        return wrong(tr("accuracy returned a {type_name}; return one number (a float).",
                        type_name=type(result).__name__))
    result = float(result)
    if any(training for training, _ in recorder.seen):
        return wrong(tr("the model was in training mode while you measured: Dropout still switched units off at "
                        "random. Call model.eval() before the loop."))
    if any(grad for _, grad in recorder.seen):
        return wrong(tr("gradients were recorded during evaluation: wrap the loop in `with torch.no_grad():` (it "
                        "saves memory and time)."))
    if result > 1.0:
        return wrong(tr("got {result:g}: return the fraction correct / total (between 0 and 1), not a count or a "
                        "percentage.", result=result))
    if abs(result - mean_of_batches) < 1e-6 and abs(result - expected) > 1e-6:
        return wrong(tr("got {result:.4f}, the mean of the batch accuracies; the last batch holds only 44 images. "
                        "Count correct answers and images over all batches: {expected:.4f}.",
                        result=result, expected=expected))
    if abs(result - expected) > 1e-6:
        return wrong(tr("got {result:.4f}, expected {expected:.4f}: predicted digit = model(x).argmax(dim=1); count "
                        "where it equals y.", result=result, expected=expected))
    return correct(tr("{expected:.4f} on 300 images in 5 batches (the last one short), measured in eval mode "
                      "without gradients.", expected=expected))


#: Exercise 5's network: (in_channels, out_channels, kernel_size) of its two convolutions, no padding.
SMALL_CNN_CONVS = ((1, 6, 5), (6, 12, 3))
SMALL_CNN_IN_FEATURES = 12 * 5 * 5  # 28 -> 24 -> 12 (pool) -> 10 -> 5 (pool)


def _small_cnn_reference(convs: list[nn.Conv2d], linear: nn.Linear) -> nn.Sequential:
    """Exercise 5's network, built by the course around the student's own layers (weights shared)."""
    return nn.Sequential(convs[0], nn.ReLU(), nn.MaxPool2d(2), convs[1], nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         linear)


@checker("Exercise 5")
def exercise_5(model_class: type[nn.Module]) -> Verdict:
    """``SmallCNN``: conv 1->6 (5x5) + ReLU + max-pool 2, conv 6->12 (3x3) + ReLU + max-pool 2, flatten,
    Linear(300, 10)."""
    if not isinstance(model_class, type):
        return wrong(tr("pass the class itself (SmallCNN), not an object of type {got}.",
                        got=type(model_class).__name__))
    try:
        model = student(model_class)
    except StudentError as error:
        if "before Module.__init__() call" in str(error):
            return wrong(tr("a layer was stored before nn.Module was set up: call super().__init__() as the first "
                            "line of __init__ ({where}).", where=error.where))
        return wrong(tr("SmallCNN() raised {error}.", error=error))
    if not isinstance(model, nn.Module):
        return wrong(tr("SmallCNN is not a subclass of nn.Module: write class SmallCNN(nn.Module)."))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    found = [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs]
    if found == list(SMALL_CNN_CONVS) and any(c.padding != (0, 0) or c.stride != (1, 1) for c in convs):
        settings = [(c.padding[0], c.stride[0]) for c in convs]
        return wrong(tr("the channels and kernels are right, but the convolutions have (padding, stride) {settings}; "
                        "the exercise asks for none: padding 0 and stride 1, the defaults.", settings=settings))
    if found != list(SMALL_CNN_CONVS):
        return wrong(tr("the convolutions are {found} (in, out, kernel); the exercise asks for nn.Conv2d(1, 6, "
                        "kernel_size=5) and nn.Conv2d(6, 12, kernel_size=3), without padding or stride.", found=found))
    if len(linears) != 1 or linears[0].out_features != 10:
        return wrong(tr("the network needs one nn.Linear with 10 outputs, the logits; found {count}.",
                        count=len(linears)))
    in_features = linears[0].in_features
    if in_features != SMALL_CNN_IN_FEATURES:
        if in_features == 16 * 7 * 7:
            reason = tr("784 = 16 x 7 x 7 is the lesson's CNN, whose convolutions keep the size with padding=1; "
                        "this one has other channels and kernels, and no padding.")
        elif in_features == 12 * 10 * 10:
            reason = tr("1200 = 12 x 10 x 10 is the size after the second convolution: a pooling layer is missing "
                        "(the second one halves 10 to 5).")
        elif in_features == 12 * 7 * 7:
            reason = tr("12 x 7 x 7 assumes the height is only halved twice; without padding a K x K convolution "
                        "also shrinks it by K - 1.")
        else:
            reason = tr("Check the height after each of the four layers.")
        return wrong(tr("nn.Linear expects {in_features} numbers per image, but the second pooling layer hands it "
                        "channels x height x width, from (H + 2P - K) // S + 1 per layer, starting at 28. {reason}",
                        in_features=in_features, reason=reason))
    x, _ = toy_digits(5, seed=6)
    model.eval()
    with torch.no_grad():
        try:
            out = student(model, x)
        except StudentError as error:
            return wrong(tr("a batch (5, 1, 28, 28) raised {error}. Apply the layers in the order the exercise lists, "
                            "and flatten with x.view(x.size(0), -1) or torch.flatten(x, 1) ({where}).",
                            error=error, where=error.where))
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (5, 10):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            return wrong(tr("a batch of 5 images gave {shape}; forward must return logits (5, 10).", shape=shape))
        expected = _small_cnn_reference(convs, linears[0])(x)
    if torch.allclose(out.sum(dim=1), torch.ones(5), atol=1e-4) and not torch.allclose(out, expected, atol=1e-5):
        return wrong(tr("the outputs of each image sum to 1: remove the softmax, CrossEntropyLoss applies it itself."))
    if not torch.allclose(out, expected, atol=1e-5):
        return wrong(tr("the layers are right but forward computes something else than conv1, ReLU, max-pool, conv2, "
                        "ReLU, max-pool, flatten, Linear: check the order, a missing ReLU or pooling, and that the "
                        "flatten keeps the batch dimension."))
    count = sum(p.numel() for p in model.parameters())
    return correct(tr("{count:,} weights; a batch (5, 1, 28, 28) gives logits (5, 10), the same as the course's "
                      "network with your weights, and nn.Linear takes 12 x 5 x 5 = 300 numbers per image.",
                      count=count))


@checker("Exercise 6 (diagnose this run)")
def exercise_6(model_class: type[nn.Module]) -> Verdict:
    """``model_class``: the fixed classifier. Trained here for 2 epochs on toy digits, it must learn them."""
    if isinstance(model_class, type) and "forward" not in vars(model_class):
        return wrong(tr("{name} defines no forward of its own, so it runs its parent's forward: the exercise "
                        "asks for BuggyClassifier's forward written out, line by line, with the buggy line fixed.",
                        name=model_class.__name__))
    torch.manual_seed(5)
    model = student(model_class)
    x, y = toy_digits(1200, seed=5)
    layers = [getattr(model, name, None) for name in ("fc1", "fc2", "output")]
    shapes: list[tuple[int, ...]] = []
    if isinstance(layers[0], nn.Linear):
        layers[0].register_forward_pre_hook(lambda _module, args: shapes.append(tuple(args[0].shape)))
    with torch.no_grad():
        model.eval()
        try:
            together = student(model, x[:8])
            alone = torch.cat([student(model, x[i : i + 1]) for i in range(8)])
        except StudentError as error:
            if shapes and len(shapes[-1]) == 1:
                return wrong(tr("fc1 got one long row {shape}: the flatten merged the batch dimension too, so the "
                                "8 images became a single row of 8 x 784 numbers ({where}).",
                                shape=shapes[-1], where=error.where))
            raise
    if tuple(together.shape) != (8, 10):
        return wrong(tr("a batch of 8 images gave outputs {together_shape}; expected (8, 10).",
                        together_shape=tuple(together.shape)))
    if not torch.allclose(together, alone, atol=1e-5):
        return wrong(tr("an image's logits still change with the other images in its batch: some line of forward "
                        "mixes pixels of different images. Which dimension of x holds the images?"))
    if all(isinstance(layer, nn.Linear) for layer in layers):
        fc1, fc2, output = layers
        with torch.no_grad():
            reference = output(torch.relu(fc2(torch.relu(fc1(x[:8].reshape(8, -1))))))
        if not torch.allclose(together, reference, atol=1e-5):
            return wrong(tr("each image's logits depend on that image alone, but with the same weights they differ "
                            "from what MNIST_Classifier's forward computes: the fix changes the flatten line only. "
                            "Compare the other lines with the source's."))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        train_one_epoch(model, TensorBatches(x[:1000], y[:1000], 50, shuffle=False), nn.CrossEntropyLoss(), optimizer)
    held_out = multiclass_accuracy(predict(model, x[1000:]), y[1000:])
    if held_out < 0.9:
        return wrong(tr("after 2 epochs it classifies only {held_out:.0%} of held-out toy digits (chance is 10 %). "
                        "Compare your forward with the source's, line by line.", held_out=held_out))
    return correct(tr("each image's logits now depend on that image alone, and 2 epochs reach {held_out:.0%} on "
                      "held-out toy digits.", held_out=held_out))
