"""Checkers for notebook 02 (binary classification). Each one re-measures the student's answer on
cases the notebook never showed: fresh prices, fresh probabilities and logits, a split of its own.

The two checkers that train (exercises 4 and 6) run on the thread count the notebook set
(``setup_notebook`` gives the CPU one thread); the checker core restores it, and the RNG, after.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from helpers.boston import boston_splits
from helpers.data import TabularDataset, TensorBatches
from helpers.exercises import Verdict, checker, correct, student, wrong
from helpers.models import boston_binary_mlp, last_layer
from helpers.training import eval_mode, evaluate, train_one_epoch

#: Splits of the checkers' own: the notebook splits with ``val_fraction=0.2`` and its own SEED.
_LOOP_SPLIT = {"seed": 2024, "val_fraction": 0.3}
_DRILL_SPLIT = {"seed": 2025, "val_fraction": 0.25}
#: Exercise 4: the accuracy the student's loop reports may differ from the reference by this much.
ACCURACY_TOLERANCE = 0.001


def _fresh(n: int, seed: int) -> torch.Tensor:
    """n random prices in thousands of dollars, float32 (n,)."""
    return 5 + 45 * torch.rand(n, generator=torch.Generator().manual_seed(seed))


@checker("Exercise 1")
def exercise_1(make_labels: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """``make_labels(train_prices (N_train,), prices (N,)) -> float32 (N, 1)``: 1.0 above the training median."""
    train_prices, prices = _fresh(41, 1), _fresh(30, 2) + 8  # an odd count: one median; shifted: another median
    labels = student(make_labels, train_prices.clone(), prices.clone())
    if not isinstance(labels, torch.Tensor):
        return wrong(f"return a torch tensor, not {type(labels).__name__}.")
    expected = (prices > train_prices.median()).float().reshape(-1, 1)
    if labels.numel() != expected.numel():
        return wrong(f"{labels.numel()} labels for {len(prices)} prices: return one label per price.")
    if labels.shape != expected.shape:
        return wrong(f"the labels have shape {tuple(labels.shape)}; they need (N, 1), the shape of the model's "
                     "output, or BCELoss refuses them. Try .reshape(-1, 1).")
    if labels.dtype != torch.float32:
        return wrong(f"the labels are {labels.dtype}; BCELoss reads them as probabilities, so they must be "
                     "float32 0.0/1.0. Add .float().")
    if torch.equal(labels, (prices > prices.median()).float().reshape(-1, 1)):
        return wrong("you cut at the median of the rows you are labelling. Cut at the median of the TRAINING "
                     "prices, so that validation and test rows do not shape the question.")
    if torch.equal(labels, 1 - expected):
        return wrong("your labels are flipped: 1.0 must mean ABOVE the training median.")
    if not torch.equal(labels, expected):
        differ = int((labels != expected).sum())
        return wrong(f"{differ} of {len(prices)} labels differ from (price > median of train_prices).")
    return correct(f"right on {len(prices)} unseen prices ({int(expected.sum())} above the training median).")


@checker("Exercise 2")
def exercise_2(bce: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """``bce(probs (N, 1), targets (N, 1)) -> scalar``: binary cross-entropy by hand, averaged over rows."""
    gen = torch.Generator().manual_seed(3)
    probs = 0.02 + 0.96 * torch.rand(50, 1, generator=gen)
    targets = (torch.rand(50, 1, generator=gen) > 0.5).float()
    value = student(bce, probs.clone(), targets.clone())
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        return wrong(f"return ONE number (a tensor with one element), got {shape}: take the .mean() over rows.")
    got, expected = value.item(), nn.BCELoss()(probs, targets).item()
    rows = -(targets * probs.log() + (1 - targets) * (1 - probs).log())
    if abs(got - expected) < 1e-5:
        return correct(f"{got:.5f} on 50 unseen rows, the same as nn.BCELoss ({expected:.5f}).")
    if abs(got + expected) < 1e-5:
        return wrong("the sign is wrong: log p is negative, so the loss needs a minus sign in front.")
    if abs(got - rows.sum().item()) < 1e-3:
        return wrong("you summed over the rows; nn.BCELoss averages them: use .mean().")
    if abs(got - (-(targets * probs.log())).mean().item()) < 1e-5:
        return wrong("only the y log p term is there: add (1 - y) log(1 - p), which scores the tracts below.")
    if abs(got - (-(targets * (1 - probs).log() + (1 - targets) * probs.log())).mean().item()) < 1e-5:
        return wrong("p and 1 - p are swapped: a row labelled 1 is scored by log p, a row labelled 0 by log(1 - p).")
    return wrong(f"your loss is {got:.5f}, nn.BCELoss gives {expected:.5f} on the same 50 rows. "
                 "Check the formula -[y log p + (1 - y) log(1 - p)], averaged over rows.")


# Exercise 3's probes: (logit, target) pairs, the confident mistakes and confident right answers, by size.
_PROBE_SIZES = (0.5, 3.0, 10.0, 25.0, 40.0, 60.0, 100.0)
#: float32's exp overflows to inf once its argument passes log(3.4e38), about 88.7.
_EXP_OVERFLOWS_FROM = math.log(torch.finfo(torch.float32).max)


def _first_failure(bce_with_logits: Callable) -> tuple[float, float, float, float] | None:
    """The first (logit, target, student's loss, exact loss) row, by growing |logit|, where the
    student's one-row loss is not exact; ``None`` when every probe is right."""
    for size in _PROBE_SIZES:
        for z, y in ((size, 0.0), (-size, 1.0), (size, 1.0), (-size, 0.0)):
            zt, yt = torch.tensor([[z]]), torch.tensor([[y]])
            value = student(bce_with_logits, zt, yt.clone())
            got = value.reshape(-1)[0].item() if isinstance(value, torch.Tensor) and value.numel() else math.nan
            exact = nn.BCEWithLogitsLoss()(zt, yt).item()
            if not (math.isfinite(got) and abs(got - exact) <= 1e-4 * max(1.0, exact)):
                return z, y, got, exact
    return None


@checker("Exercise 3")
def exercise_3(bce_with_logits: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """``bce_with_logits(logits (N, 1), targets (N, 1)) -> scalar``: exact for every logit, gradient included."""
    z = torch.tensor([[-4.0], [-1.5], [0.2], [0.7], [3.0], [5.0], [-100.0], [-40.0], [25.0], [60.0], [100.0]])
    targets = torch.tensor([[1.0], [0.0], [1.0], [0.0], [0.0], [1.0], [1.0], [0.0], [1.0], [0.0], [0.0]])
    z = z.requires_grad_(True)
    loss = student(bce_with_logits, z, targets.clone())
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        return wrong("return ONE number (a tensor with one element): take the .mean() over rows.")
    failure = _first_failure(bce_with_logits)
    if failure is not None:
        at, y, got, exact = failure
        where = f"at logit z = {at:g} with label y = {y:g} your loss is {got:.4g} (exact: {exact:.4g})"
        if abs(at) <= 10:
            return wrong(f"{where}, already for a small logit: check the formula, -[y log p + (1 - y) log(1 - p)] "
                         "with p = sigmoid(z), averaged over rows.")
        if not math.isfinite(got) and abs(at) < _EXP_OVERFLOWS_FROM:
            return wrong(f"{where}: sigmoid(z) rounds to exactly 1.0 in float32 (from z = 17 or so), so "
                         "log(1 - sigmoid(z)) is log 0 = -inf. Never compute sigmoid(z) first: use "
                         "max(z, 0) - z * y + log(1 + exp(-|z|)).")
        if not math.isfinite(got):
            return wrong(f"{where}: exp({abs(at):g}) overflowed. In float32, exp(x) is inf once x passes about "
                         f"{_EXP_OVERFLOWS_FROM:.1f} (the largest float32 is about 3.4e38). Only compute "
                         "exp(-|z|), which lies between 0 and 1: max(z, 0) - z * y + log(1 + exp(-|z|)).")
        return wrong(f"{where}: right for small logits but not for large ones. A clamp (such as probabilities "
                     "clipped to [1e-7, 1 - 1e-7]) caps the loss of a confident mistake: never compute "
                     "sigmoid(z) first.")
    expected = nn.BCEWithLogitsLoss()(z.detach(), targets).item()
    if abs(loss.item() - expected) > 1e-4 * max(1.0, expected):
        return wrong(f"each row is right, but over all {len(z)} rows your loss is {loss.item():.4f} instead of "
                     f"{expected:.4f}: average the rows with .mean().")
    if not loss.requires_grad:
        return wrong("the loss has no gradient: compute it with torch operations on z (no .item(), no numpy).")
    loss.backward()
    grad = (torch.sigmoid(z.detach()) - targets) / len(z)
    if z.grad is None or not torch.allclose(z.grad, grad, atol=1e-6):
        return wrong("the loss is right but its gradient is not (sigmoid(z) - y) / N: avoid operations that cut "
                     "the gradient, such as clamping z or taking the loss's value with .item().")
    return correct(f"exact at logits from -100 to 100 ({expected:.3f} on {len(z)} rows), gradient too.")


def _loop_model(train: torch.Tensor, target: torch.Tensor) -> nn.Sequential:
    """The source's model as logits, with a Dropout layer after each ReLU so that forgetting
    ``model.eval()`` changes the numbers; trained briefly on (train, target)."""
    layers = list(boston_binary_mlp(sigmoid=False))
    model = nn.Sequential(*layers[:2], nn.Dropout(0.5), *layers[2:4], nn.Dropout(0.5), layers[4])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = TensorBatches(train, target, 32, seed=_LOOP_SPLIT["seed"])
    for _ in range(10):  # short: many logits stay between 0 and 0.5, where mistaking them for probabilities shows
        train_one_epoch(model, batches, nn.BCEWithLogitsLoss(), optimizer)
    return model


def _as_number(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


@checker("Exercise 4")
def exercise_4(evaluate_accuracy: Callable[[nn.Module, DataLoader, torch.device], float]) -> Verdict:
    """``evaluate_accuracy(model, loader, device) -> float``: the accuracy of a logits model over every
    batch, in evaluation mode and without gradients. Run on a Dropout model and a split of the checker's
    own; the result must match the reference within ``ACCURACY_TOLERANCE``."""
    torch.manual_seed(_LOOP_SPLIT["seed"])  # on the forked RNG: the session's own is restored after
    splits = boston_splits("binary", **_LOOP_SPLIT)
    model = _loop_model(splits.X_train, splits.y_train)
    x, y = splits.X_test, splits.y_test  # 101 rows: batches of 25 leave a last batch of 1
    loader = DataLoader(TabularDataset(x, y), batch_size=25)
    with eval_mode(model):
        logits = model(x)
    decided = (logits > 0).float()
    reference = (decided == y).float().mean().item()

    seen: list[tuple[bool, bool]] = []  # (Dropout in training mode, gradients recorded) at each call
    dropout = next(m for m in model.modules() if isinstance(m, nn.Dropout))
    hook = dropout.register_forward_hook(lambda module, i, o: seen.append((module.training, torch.is_grad_enabled())))
    model.train()  # as a model is after training: the loop must switch it
    try:
        value = student(evaluate_accuracy, model, loader, torch.device("cpu"))
    finally:
        hook.remove()
    if not seen:
        return wrong("your loop never called the model: for each (x, y) batch of the loader, compute model(x).")
    got = _as_number(value)
    if any(training for training, _ in seen):
        shown = f" Your loop reported {got:.4f}; in evaluation mode it is {reference:.4f}." if got is not None else ""
        return wrong("the model ran in training mode: its Dropout layer silenced random neurons, so the accuracy "
                     f"changes from run to run.{shown} Call model.eval() before the loop.")
    if any(grad for _, grad in seen):
        return wrong("the model ran with gradients recorded: wrap the loop in `with torch.no_grad():`. Measuring "
                     "needs no backpropagation, and recording it for every batch costs memory and time.")
    if got is None:
        return wrong(f"return the accuracy as one number (a float between 0 and 1), not {type(value).__name__}.")
    if abs(got - reference) <= ACCURACY_TOLERANCE:
        return correct(f"accuracy {got:.4f} on {len(y)} rows of a split the notebook never used (reference "
                       f"{reference:.4f}, tolerance {ACCURACY_TOLERANCE}), in evaluation mode, without gradients.")

    def close(candidate: float) -> bool:
        return abs(got - candidate) <= ACCURACY_TOLERANCE and abs(candidate - reference) > ACCURACY_TOLERANCE

    sizes = [len(batch) for _, batch in loader]
    per_batch = [((decided[i : i + n] == y[i : i + n]).float().mean().item(), n)
                 for i, n in zip(range(0, len(y), 25), sizes, strict=True)]
    if close(sum(a for a, _ in per_batch) / len(per_batch)):
        return wrong(f"you averaged the per-batch accuracies, but the batches hold {sizes} rows: the last batch "
                     f"of {sizes[-1]} counted as much as a full one. Count right answers and rows over all "
                     "batches, then divide once.")
    if close(per_batch[-1][0]):
        return wrong("that is the last batch's accuracy alone: add up the right answers of every batch.")
    if close(100 * reference):
        return wrong(f"{got:.2f} is a percentage: return a fraction between 0 and 1.")
    if close(((logits > 0.5).float() == y).float().mean().item()):
        return wrong("you compared the logits with 0.5, as if they were probabilities. This model outputs "
                     "logits: a logit above 0 means a probability above 0.5 (or apply torch.sigmoid first).")
    if close((y == 1).float().mean().item()) or close((y == 0).float().mean().item()):
        side = "above" if close((y == 1).float().mean().item()) else "below"
        return wrong(f"your loop called every row '{side}': the accuracy equals the share of rows that are {side}. "
                     "Check the decision: torch.sigmoid(logits) > 0 is always true; use logits > 0.")
    starts = range(0, len(y), 25)
    table_sum = sum((decided[i : i + n].reshape(-1) == y[i : i + n]).float().sum().item()
                    for i, n in zip(starts, sizes, strict=True))
    table_mean = sum((decided[i : i + n].reshape(-1) == y[i : i + n]).float().mean().item() * n
                     for i, n in zip(starts, sizes, strict=True))
    if got > 1 + ACCURACY_TOLERANCE or close(table_sum / len(y)) or close(table_mean / len(y)):
        return wrong(f"{got:.4f} is not a share of rows: decisions of shape (B,) compared with targets of shape "
                     "(B, 1) broadcast into a (B, B) table of comparisons. Give both the same shape, e.g. (B, 1).")
    return wrong(f"your loop reports {got:.4f}; the reference evaluation gives {reference:.4f} on the same "
                 f"{len(y)} rows (tolerance {ACCURACY_TOLERANCE}). Decide 'above' where the logit is above 0, "
                 "compare with y, count right answers and rows over all batches, and divide once.")


def _cost(probs: torch.Tensor, targets: torch.Tensor, threshold: float, false_alarm: float, miss: float) -> float:
    said_above, above = probs.reshape(-1) > threshold, targets.reshape(-1) > 0.5
    return false_alarm * float((said_above & ~above).sum()) + miss * float((~said_above & above).sum())


@checker("Exercise 5")
def exercise_5(cheapest_threshold: Callable[[torch.Tensor, torch.Tensor], float]) -> Verdict:
    """``cheapest_threshold(probs (N, 1), targets (N, 1)) -> float``: the threshold in 0.05 ... 0.95 with the
    lowest cost, when a false alarm costs 3 and a miss costs 1."""
    gen = torch.Generator().manual_seed(4)
    targets = (torch.rand(300, 1, generator=gen) > 0.5).float()
    probs = torch.sigmoid(2.0 * (2 * targets - 1) + 2.0 * torch.randn(300, 1, generator=gen))
    threshold = _as_number(student(cheapest_threshold, probs.clone(), targets.clone()))
    if threshold is None:
        return wrong("return the threshold as one number, such as 0.65.")
    grid = [round(0.05 * k, 2) for k in range(1, 20)]
    costs = {t: _cost(probs, targets, t, 3, 1) for t in grid}
    best = min(costs, key=costs.get)
    mine = _cost(probs, targets, threshold, 3, 1)
    if mine <= costs[best]:
        return correct(f"threshold {threshold:.2f} costs {mine:.0f} on 300 unseen rows, the lowest of the grid.")
    reversed_best = min(grid, key=lambda t: _cost(probs, targets, t, 1, 3))
    if abs(threshold - reversed_best) < 1e-6:
        return wrong(f"{threshold:.2f} is the cheapest when MISSES cost 3. Here false alarms (said above, truly "
                     "below) cost 3 and misses cost 1: count 3 * FP + FN.")
    if abs(threshold - 0.5) < 1e-6:
        return wrong(f"0.5 is the accuracy choice; it costs {mine:.0f}, while {best:.2f} costs "
                     f"{costs[best]:.0f}. Costly false alarms call for a higher threshold.")
    return wrong(f"threshold {threshold:.2f} costs {mine:.0f} (3 * FP + FN) on 300 unseen rows; the best of "
                 f"0.05 ... 0.95 costs {costs[best]:.0f}. Try every threshold and keep the cheapest.")


_DRILL_HINTS = {
    "a": "the final model trained with the same learning rate (LR) for the same 40 epochs and reached a far "
         "lower loss.",
    "b": "the targets are (N, 1), like the model's output, and the loss raised no error or warning.",
    "d": "boston_splits standardized the inputs (the same X_train the final model trained on).",
}


@checker("Exercise 6")
def exercise_6(bug: str, fixed_model: Callable[[], nn.Module], fixed_loss_fn: nn.Module) -> Verdict:
    """The drill: name the bug (a letter) and fix the model and the loss; the fixed pair is trained for
    40 epochs on a split of the checker's own, and its training loss must end below the buggy pair's
    lowest possible loss."""
    letter = str(bug).strip().lower()
    if letter in _DRILL_HINTS:
        return wrong(f"not {letter}: {_DRILL_HINTS[letter]} Work out the lowest loss the run could ever reach.")
    if letter != "c":
        return wrong(f"answer with one letter, a to d (got {bug!r}).")
    torch.manual_seed(_DRILL_SPLIT["seed"])  # on the forked RNG: the session's own is restored after
    model = student(fixed_model)
    if not isinstance(model, nn.Module):
        return wrong(f"fixed_model() must return an nn.Module (e.g. an nn.Sequential), not {type(model).__name__}.")
    if not isinstance(fixed_loss_fn, nn.Module):
        return wrong(f"fixed_loss_fn must be a loss module such as nn.BCEWithLogitsLoss(), not "
                     f"{type(fixed_loss_fn).__name__}: create it with ().")
    ends_in_sigmoid = isinstance(last_layer(model), nn.Sigmoid)
    if ends_in_sigmoid and isinstance(fixed_loss_fn, nn.BCEWithLogitsLoss):
        return wrong("the model still ends in nn.Sigmoid and the loss is still BCEWithLogitsLoss: the sigmoid "
                     "is applied twice. Remove the nn.Sigmoid layer.")
    if not ends_in_sigmoid and isinstance(fixed_loss_fn, nn.BCELoss):
        return wrong("BCELoss needs probabilities, and your model now outputs logits: keep BCEWithLogitsLoss.")
    splits = boston_splits("binary", **_DRILL_SPLIT)
    # The buggy pair's best possible loss: each output at the sigmoid's edge (0 or 1) that fits its label.
    floor = nn.BCEWithLogitsLoss()(splits.y_train, splits.y_train).item()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = TensorBatches(splits.X_train, splits.y_train, 32, seed=_DRILL_SPLIT["seed"])
    try:
        for _ in range(40):
            train_one_epoch(model, batches, fixed_loss_fn, optimizer)
        train_loss = evaluate(model, [(splits.X_train, splits.y_train)], fixed_loss_fn)["loss"]
    except (RuntimeError, ValueError) as error:  # raised inside torch by the student's model or loss
        return wrong(f"training your fixed pair failed: {str(error).splitlines()[0]}. The model takes (N, 13) "
                     "features and returns (N, 1).")
    if train_loss >= floor:
        return wrong(f"after 40 epochs the training loss is {train_loss:.3f}, still above the buggy floor "
                     f"{floor:.3f}: look again at the last layer and the loss.")
    safer = " (Sigmoid + BCELoss works; dropping the Sigmoid is the safer fix.)" if ends_in_sigmoid else ""
    return correct(f"bug c. Retrained on a new split: training loss {train_loss:.3f} after 40 epochs, below "
                   f"the floor {floor:.3f} the buggy run could never pass.{safer}")
