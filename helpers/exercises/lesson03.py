"""Checkers for notebook 03 (three price bands, softmax classification).

Each checker calls the student's function on cases the notebook never showed, or trains the
student's model for a few seconds, and returns a ``Feedback``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
from torch import nn

from helpers.boston import band_targets, boston_splits
from helpers.exercises import Verdict, checker, correct, wrong
from helpers.models import boston_band_mlp, last_layer
from helpers.training import train_one_epoch

Tensor = torch.Tensor


def floor_for(num_classes: int) -> float:
    """The lowest loss CrossEntropyLoss can reach when the model already ends in a softmax."""
    return math.log(1 + (num_classes - 1) / math.e)


@functools.lru_cache(maxsize=1)
def _band_data() -> tuple[Tensor, Tensor]:
    """Training features (324, 13) and bands (324,) of the split at seed 0."""
    splits = boston_splits("bands", val_fraction=0.2, seed=0)
    return splits.X_train, splits.y_train


def _train(model: nn.Module, x: Tensor, y: Tensor, epochs: int = 150) -> float:
    """Full-batch Adam (lr 0.01) for ``epochs`` steps; returns the last training loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        loss = train_one_epoch(model, [(x, y)], nn.CrossEntropyLoss(), optimizer)["loss"]  # one full batch
    return loss


@checker("Exercise 1")
def exercise_1(softmax: Callable[[Tensor], Tensor]) -> Verdict:
    """``softmax(z)``: logits (N, C) -> probabilities (N, C), each row summing to 1, finite for huge logits."""
    gen = torch.Generator().manual_seed(3)
    cases = [torch.randn(5, 4, generator=gen) * 3, torch.randn(2, 7, generator=gen),
             torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -998.0]])]
    worst = 0.0
    for z in cases:
        out = softmax(z.clone())
        if not isinstance(out, Tensor) or out.shape != z.shape:
            got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            return wrong(f"for logits of shape {tuple(z.shape)} it returned {got}: softmax keeps "
                         "the shape (N, C). Use keepdim=True when you sum each row.")
        if not torch.isfinite(out).all():
            return wrong(f"logits {z[0].tolist()} gave {out[0].tolist()}: exp overflows. Subtract each "
                         "row's largest logit first: z - z.max(dim=1, keepdim=True).values.")
        if not torch.allclose(out.sum(dim=1), torch.ones(len(z)), atol=1e-5):
            if torch.allclose(out, torch.softmax(z, dim=0), atol=1e-5):
                return wrong("each column sums to 1, not each row: a row is one example, so sum "
                             "over dim=1 (with keepdim=True).")
            return wrong("the rows do not sum to 1: divide exp(z) by its row's total.")
        worst = max(worst, (out - torch.softmax(z, dim=1)).abs().max().item())
        if worst > 1e-5:
            return wrong(f"the rows sum to 1 but differ from torch.softmax by up to {worst:.2g}: "
                         "softmax is exp(z) divided by the row's sum of exp(z).")
    return correct(f"matches torch.softmax on {len(cases)} unseen batches, logits of 1000 and -1000 "
                   f"included (largest difference {worst:.1e}).")


@checker("Exercise 2")
def exercise_2(cross_entropy: Callable[[Tensor, Tensor], Tensor]) -> Verdict:
    """``cross_entropy(logits (N, C), targets int64 (N,))`` -> the mean of -log(probability of the true class)."""
    gen = torch.Generator().manual_seed(4)
    cases = [(torch.randn(6, 3, generator=gen) * 2, torch.randint(0, 3, (6,), generator=gen)),
             (torch.randn(9, 5, generator=gen), torch.randint(0, 5, (9,), generator=gen)),
             (torch.tensor([[200.0, 0.0, -200.0], [0.0, 150.0, 0.0]]), torch.tensor([2, 0]))]
    for logits, y in cases:
        got = torch.as_tensor(cross_entropy(logits.clone(), y.clone())).float()
        expected = nn.functional.cross_entropy(logits, y)
        if got.numel() != 1:
            return wrong(f"it returned shape {tuple(got.shape)}; the loss is one number: "
                         "average the per-house losses with .mean().")
        if not torch.isfinite(got):
            return wrong(f"logits {logits[0].tolist()} gave {got.item()}: log(softmax(z)) is log(0) "
                         "when a probability underflows. Use torch.log_softmax(logits, dim=1) instead.")
        if torch.isclose(got, expected, rtol=1e-4, atol=1e-4):
            continue
        log_probs = torch.log_softmax(logits, dim=1)
        true_class = log_probs[torch.arange(len(y)), y]
        if torch.isclose(got, -expected, rtol=1e-4):
            return wrong("the sign is flipped: the loss is MINUS the mean log-probability "
                         "(log-probabilities are negative, the loss is positive).")
        if torch.isclose(got, -true_class.sum(), rtol=1e-4):
            return wrong("that is the sum over the batch; CrossEntropyLoss averages: use .mean().")
        if torch.isclose(got, -log_probs.mean(), rtol=1e-4):
            return wrong("it averages over every class; pick only each house's true class: "
                         "log_probs[torch.arange(len(y)), y].")
        return wrong(f"got {got.item():.4f}, CrossEntropyLoss gives {expected.item():.4f} on an "
                     "unseen batch. Recipe: log_softmax over dim=1, pick the true class per row, minus the mean.")
    return correct(f"equals nn.CrossEntropyLoss on {len(cases)} unseen batches, logits of 200 "
                   "included.")


@checker("Exercise 3")
def exercise_3(price_bands: Callable[[Tensor, Tensor], Tensor]) -> Verdict:
    """``price_bands(prices (N,), train_prices (M,))`` -> int64 bands (N,) cut at the training tertiles."""
    train_prices = torch.arange(10.0, 41.0)  # 31 training prices: the tertiles are 20 and 30 exactly
    prices = torch.tensor([5.0, 19.9, 20.0, 25.0, 29.9, 30.0, 45.0, 50.0])
    edges = tuple(torch.quantile(train_prices, torch.tensor([1 / 3, 2 / 3])).tolist())
    expected = band_targets(prices, edges)
    got = price_bands(prices.clone(), train_prices.clone())
    if not isinstance(got, Tensor):
        return wrong(f"it returned a {type(got).__name__}; return a tensor of class indices.")
    if got.shape != expected.shape:
        return wrong(f"shape {tuple(got.shape)}, but CrossEntropyLoss wants class indices of shape "
                     f"(N,) = {tuple(expected.shape)}: use .view(-1).")
    if got.dtype != torch.int64:
        return wrong(f"dtype {got.dtype}: CrossEntropyLoss wants class indices as int64 (.long()).")
    if torch.equal(got, expected):
        return correct(f"all {len(prices)} unseen prices land in the right band, the ones exactly "
                       "on an edge included, with int64 targets of shape (N,).")
    own_edges = tuple(torch.quantile(prices, torch.tensor([1 / 3, 2 / 3])).tolist())
    if torch.equal(got, band_targets(prices, own_edges)):
        return wrong("the edges come from the prices you were given, not from train_prices: "
                     "every statistic is fitted on the training split only.")
    if torch.equal(got, band_targets(prices - 1e-4, edges)):
        return wrong("a price exactly on an edge must go to the upper band: use right=True in "
                     "torch.bucketize (or >= for the upper bands).")
    return wrong(f"bands {got.tolist()} for prices {prices.tolist()}, expected {expected.tolist()} "
                 "(edges at the 1/3 and 2/3 quantiles of train_prices).")


@checker("Exercise 4")
def exercise_4(loss_floor: Callable[[int], float]) -> Verdict:
    """``loss_floor(num_classes)`` -> the floor of CrossEntropyLoss behind an extra Softmax, for any C >= 2."""
    for c in (5, 2, 10, 100):
        got = float(loss_floor(c))
        # Re-measure: the best an extra softmax can hand the loss is a one-hot vector on the true class.
        measured = nn.functional.cross_entropy(torch.eye(c)[:1], torch.tensor([0])).item()
        if math.isclose(got, measured, rel_tol=1e-4):
            continue
        if math.isclose(got, math.log(c), rel_tol=1e-4):
            return wrong(f"log({c}) is the loss of a flat guess (all probabilities 1/{c}), where "
                         "training starts, not the floor. Feed CrossEntropyLoss a perfect one-hot prediction.")
        if math.isclose(got, floor_for(3), rel_tol=1e-4):
            return wrong(f"for {c} classes you returned the 3-class floor {got:.4f}: each of the "
                         "C - 1 wrong classes adds e^-1 inside the log.")
        if math.isclose(got, math.log(1 + c / math.e), rel_tol=1e-4):
            return wrong("off by one class: only the C - 1 WRONG classes add e^-1 inside the log.")
        return wrong(f"for {c} classes: {got:.4f}, but CrossEntropyLoss of a one-hot input measures "
                     f"{measured:.4f}.")
    share = floor_for(10) / math.log(10)
    return correct(f"matches the measured floor for 2, 5, 10 and 100 classes. For MNIST's 10 classes "
                   f"it is {floor_for(10):.3f}, {share:.0%} of the starting loss log(10) = {math.log(10):.3f}.")


@checker("Exercise 5 (diagnose this run)")
def exercise_5(fixed_model: Callable[[], nn.Module]) -> Verdict:
    """``fixed_model()`` -> a fresh 13-32-16-3 model whose training loss falls below the extra-Softmax floor."""
    x, y = _band_data()
    torch.manual_seed(0)
    model = fixed_model()
    if isinstance(last_layer(model), nn.Softmax):
        return wrong("the model still ends in nn.Softmax. CrossEntropyLoss applies softmax itself: "
                     "delete the last layer so the model outputs logits.")
    with torch.no_grad():
        out = model(x[:5])
    if out.shape != (5, 3):
        return wrong(f"5 houses gave outputs of shape {tuple(out.shape)}; the model needs 3 logits per "
                     "house: (5, 3).")
    loss = _train(model, x, y)
    if loss >= floor_for(3):
        return wrong(f"after 150 epochs the training loss is {loss:.3f}, still above the floor "
                     f"{floor_for(3):.3f}: the symptom is still there. Look for a softmax anywhere in the model.")
    return correct(f"retrained for 150 epochs: the training loss fell to {loss:.3f}, well below the floor "
                   f"{floor_for(3):.3f} the extra softmax imposed.")


@checker("Exercise 6 (diagnose this run)")
def exercise_6(fix_targets: Callable[[Tensor], Tensor]) -> Verdict:
    """``fix_targets(y)``: float targets (N, 1) as notebook 02 made them -> class indices int64 (N,)."""
    y_float = torch.tensor([[2.0], [0.0], [1.0], [1.0], [2.0], [0.0], [0.0]])
    got = fix_targets(y_float.clone())
    if not isinstance(got, Tensor):
        return wrong(f"it returned a {type(got).__name__}; return a tensor.")
    if got.ndim != 1:
        return wrong(f"shape {tuple(got.shape)}: CrossEntropyLoss wants (N,), one class index per house. "
                     "Use .view(-1).")
    if got.dtype != torch.int64:
        return wrong(f"dtype {got.dtype}: class indices must be int64. Use .long().")
    if not torch.equal(got, y_float.view(-1).long()):
        return wrong(f"the classes changed: {y_float.view(-1).long().tolist()} became {got.tolist()}. "
                     "Only the shape and dtype need fixing.")
    x, y = _band_data()
    torch.manual_seed(0)
    model = boston_band_mlp()
    loss = _train(model, x, fix_targets(y.float().view(-1, 1)), epochs=50)
    return correct(f"the loss runs without an error: 50 epochs on the Boston bands reach training loss "
                   f"{loss:.3f} (it starts near log 3 = 1.099).")
