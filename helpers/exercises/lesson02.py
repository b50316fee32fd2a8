"""Checkers for notebook 02 (binary classification). Each one re-measures the student's answer on
cases the notebook never showed: fresh prices, fresh probabilities, a split of its own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from helpers.boston import boston_splits
from helpers.data import TensorBatches
from helpers.exercises import Verdict, checker, correct, wrong
from helpers.training import evaluate, train_one_epoch


def _fresh(n: int, seed: int) -> torch.Tensor:
    """n random prices in thousands of dollars, float32 (n,)."""
    return 5 + 45 * torch.rand(n, generator=torch.Generator().manual_seed(seed))


@checker("Exercise 1")
def exercise_1(make_labels: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """``make_labels(train_prices (N_train,), prices (N,)) -> float32 (N, 1)``: 1.0 above the training median."""
    train_prices, prices = _fresh(41, 1), _fresh(30, 2) + 8  # an odd count: one median; shifted: another median
    labels = make_labels(train_prices.clone(), prices.clone())
    if not isinstance(labels, torch.Tensor):
        return wrong(f"return a torch tensor, not {type(labels).__name__}.")
    expected = (prices > train_prices.median()).float().reshape(-1, 1)
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
    value = bce(probs.clone(), targets.clone())
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
        return wrong("only the y log p term is there: add (1 - y) log(1 - p), which scores the houses below.")
    return wrong(f"your loss is {got:.5f}, nn.BCELoss gives {expected:.5f} on the same 50 rows. "
                     "Check the formula -[y log p + (1 - y) log(1 - p)], averaged over rows.")


@checker("Exercise 3")
def exercise_3(bce_with_logits: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """``bce_with_logits(logits (N, 1), targets (N, 1)) -> scalar``: exact for every logit, gradient included."""
    small = torch.tensor([[-4.0], [-1.5], [0.2], [0.7], [3.0], [5.0]])
    large = torch.tensor([[-100.0], [-40.0], [25.0], [60.0], [100.0], [-3.0]])
    targets = torch.tensor([[1.0], [0.0], [1.0], [0.0], [0.0], [1.0]])
    for name, z in (("small", small), ("large", large)):
        z = z.clone().requires_grad_(True)
        loss = bce_with_logits(z, targets.clone())
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            return wrong("return ONE number (a tensor with one element): take the .mean() over rows.")
        expected = nn.BCEWithLogitsLoss()(z.detach(), targets).item()
        if not torch.isfinite(loss).all():
            return wrong(f"your loss is {loss.item()} at logits up to |z| = 100: sigmoid(z) rounds to 1.0 and "
                             "log(1 - 1) = -inf. Use max(z, 0) - z * y + log(1 + exp(-|z|)) (torch.log1p helps).")
        if abs(loss.item() - expected) > 1e-4 * max(1.0, expected):
            hint = ("check the formula on small logits first" if name == "small" else
                    "it is right for small logits but not for large ones: never compute sigmoid(z) first")
            return wrong(f"your loss is {loss.item():.4f}, nn.BCEWithLogitsLoss gives {expected:.4f} on "
                             f"{name} logits: {hint}.")
        if not loss.requires_grad:
            return wrong("the loss has no gradient: compute it with torch operations on z (no .item(), no numpy).")
        loss.backward()
        grad = (torch.sigmoid(z.detach()) - targets) / len(z)
        if z.grad is None or not torch.allclose(z.grad, grad, atol=1e-6):
            return wrong(f"the loss is right but its gradient is not sigmoid(z) - y (divided by N) on {name} "
                             "logits: avoid clamping, which cuts the gradient.")
    return correct(f"exact at logits from -100 to 100 (e.g. {expected:.2f} on the large ones), gradient too.")


def _cost(probs: torch.Tensor, targets: torch.Tensor, threshold: float, false_alarm: float, miss: float) -> float:
    said_above, above = probs.reshape(-1) > threshold, targets.reshape(-1) > 0.5
    return false_alarm * float((said_above & ~above).sum()) + miss * float((~said_above & above).sum())


@checker("Exercise 4")
def exercise_4(cheapest_threshold: Callable[[torch.Tensor, torch.Tensor], float]) -> Verdict:
    """``cheapest_threshold(probs (N, 1), targets (N, 1)) -> float``: the threshold in 0.05 ... 0.95 with the
    lowest cost, when a false alarm costs 3 and a miss costs 1."""
    gen = torch.Generator().manual_seed(4)
    targets = (torch.rand(300, 1, generator=gen) > 0.5).float()
    probs = torch.sigmoid(2.0 * (2 * targets - 1) + 2.0 * torch.randn(300, 1, generator=gen))
    threshold = float(cheapest_threshold(probs.clone(), targets.clone()))
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
    "a": "a learning rate too small makes a loss fall slowly, not stop at a floor while the gradients still flow.",
    "b": "a shape mistake would raise an error or make a loss that ignores which row is which; here the shapes match.",
    "d": "the inputs are standardized by boston_splits; unscaled inputs would train badly, not stop at a floor.",
}


@checker("Exercise 5")
def exercise_5(bug: str, fixed_model: Callable[[], nn.Module], fixed_loss_fn: nn.Module) -> Verdict:
    """The drill: name the bug (a letter) and fix the model and the loss; the fixed pair is trained for
    40 epochs on a split of the checker's own, and its training loss must go below the buggy floor."""
    letter = str(bug).strip().lower()
    if letter in _DRILL_HINTS:
        return wrong(f"not {letter}: {_DRILL_HINTS[letter]} Look at the model's last layer and the loss.")
    if letter != "c":
        return wrong(f"answer with one letter, a to d (got {bug!r}).")
    torch.manual_seed(0)
    model = fixed_model()
    last = [m for m in model.modules() if not list(m.children())][-1]
    ends_in_sigmoid = isinstance(last, nn.Sigmoid)
    if ends_in_sigmoid and isinstance(fixed_loss_fn, nn.BCEWithLogitsLoss):
        return wrong("the model still ends in nn.Sigmoid and the loss is still BCEWithLogitsLoss: the sigmoid "
                         "is applied twice. Remove the nn.Sigmoid layer.")
    if not ends_in_sigmoid and isinstance(fixed_loss_fn, nn.BCELoss):
        return wrong("BCELoss needs probabilities, and your model now outputs logits: keep BCEWithLogitsLoss.")
    splits = boston_splits("binary", seed=7)
    floor = nn.BCEWithLogitsLoss()(splits.y_train, splits.y_train).item()  # the buggy pair's best possible loss
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = TensorBatches(splits.X_train, splits.y_train, 32, seed=7)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one thread is fastest, by far on a busy machine
    try:
        for _ in range(40):
            train_one_epoch(model, batches, fixed_loss_fn, optimizer)
        train_loss = evaluate(model, [(splits.X_train, splits.y_train)], fixed_loss_fn)["loss"]
    finally:
        torch.set_num_threads(threads)
    if train_loss >= floor:
        return wrong(f"after 40 epochs the training loss is {train_loss:.3f}, still above the buggy floor "
                         f"{floor:.3f}: look again at the last layer and the loss.")
    safer = " (Sigmoid + BCELoss works; dropping the Sigmoid is the safer fix.)" if ends_in_sigmoid else ""
    return correct(f"bug c. Retrained on a new split: training loss {train_loss:.3f} after 40 epochs, below "
                       f"the floor {floor:.3f} the buggy run could never pass.{safer}")
