"""Checkers for notebook 01 (regression with a neural network on the Boston house prices).

Each ``exercise_N`` runs what the student wrote on cases the notebook never showed (other
numbers, other seeds, a made-up training history) and says what it found.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from helpers import notebook
from helpers.boston import FEATURES, boston_splits
from helpers.data import TabularDataset
from helpers.exercises import NotAttempted, StudentError, Verdict, checker, correct, student, wrong
from helpers.i18n import tr
from helpers.metrics import rmse
from helpers.models import boston_regression_mlp
from helpers.training import predict, train_one_epoch

#: The settings cell's values (SEED and DEVICE aside) that the self-check's claims are about;
#: tests/test_lessons.py keeps them equal to the notebook's.
DEFAULTS: dict[str, object] = {"EPOCHS": 2000, "LR": 0.001, "BATCH_SIZE": 32}


def claims_apply() -> bool:
    """Whether the self-check's claims apply to this run: the settings are ``DEFAULTS`` (any SEED).
    Else prints which settings differ."""
    return notebook.claims_apply(DEFAULTS)


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-4) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a.float(), b.float(), atol=tol, rtol=tol))


# Exercise 1: standardize by hand


@checker("Exercise 1")
def exercise_1(standardize: Callable) -> Verdict:
    """``standardize(train (N, F), other (M, F)) -> (train_scaled, other_scaled)``, scaled with train's statistics."""
    gen = torch.Generator().manual_seed(101)
    train = torch.randn(60, 4, generator=gen) * torch.tensor([1.0, 10.0, 100.0, 0.1]) + 5.0
    other = torch.randn(20, 4, generator=gen) * 3.0 + 40.0  # new rows whose own statistics differ
    try:
        result = student(standardize, train.clone(), other.clone())
    except StudentError:
        # statistics per ROW (dim=1) have one value per training row, so they do not fit a (60, 4) table:
        # try once more on square (4, 4) tables, where they do, to name that mistake
        square = train[:4].clone()
        try:
            per_row = student(standardize, square.clone(), other[:4].clone())
        except StudentError:
            per_row = None
        if isinstance(per_row, (tuple, list)) and len(per_row) == 2 and _per_row(torch.as_tensor(per_row[0]),
                                                                                  square):
            return _per_row_mistake()
        raise
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return wrong(tr("return two tensors: (train_scaled, other_scaled)."))
    got_train, got_other = (torch.as_tensor(t).float() for t in result)
    mean, (std, sample_std) = train.mean(dim=0), _stds(train, dim=0)
    if _close(got_train, (train - mean) / std) and _close(got_other, (other - mean) / std):
        return correct(tr("training columns now have mean {train_mean:+.3f} and std {train_std:.3f}; the other "
                          "rows' mean is {other_mean:+.1f}, far from 0, and rightly so: the checker drew them far "
                          "from the training rows on purpose (around 40 instead of 5), and you scaled them with the "
                          "training numbers, not their own.",
                          train_mean=round(got_train.mean().item(), 3) + 0.0,  # never "-0.000"
                          train_std=got_train.std(dim=0, correction=0).mean(), other_mean=got_other.mean()))
    if _close(got_other, other):
        return wrong(tr("the second table came back unchanged: either it was not scaled, or it was scaled with the "
                        "mean and std of the training table after that was already scaled (0 and 1). Compute the "
                        "training mean and std once, before scaling anything, and scale both tables with them."))
    if _close(got_train, (train - mean) / sample_std) and _close(got_other, (other - mean) / sample_std):
        return wrong(tr("almost: x.std() divides by N - 1 (the sample std). Use x.std(dim=0, correction=0), which "
                        "divides by N, as boston_splits does."))
    both = torch.cat([train, other])
    if any(_close(got_other, (other - both.mean(dim=0)) / s, 1e-3) for s in _stds(both, dim=0)):
        return wrong(tr("you used the statistics of all rows: the other rows leak into the scaling. Compute mean "
                        "and std from the training rows only."))
    if any(_close(got_other, (other - other.mean(dim=0)) / s, 1e-3) for s in _stds(other, dim=0)):
        return wrong(tr("the other rows were scaled with their own mean and std. Apply the TRAINING mean and std to "
                        "both: the model must see new rows exactly as training prepared them."))
    if _close(got_train, train - mean, 1e-3):
        return wrong(tr("you subtracted each column's mean but did not divide by its std: (x - mean) / std."))
    if _close(got_train, train / std, 1e-3):
        return wrong(tr("you divided by each column's std but did not subtract its mean first: (x - mean) / std."))
    if any(_close(got_train, (train - mean) / s, 1e-3) for s in _stds(train)):
        return wrong(tr("one std for the whole table (x.std() without dim): compute it per column, with "
                        "x.std(dim=0, correction=0), as the mean."))
    if any(_close(got_train, (train - train.mean()) / s, 1e-3) for s in _stds(train)):
        return wrong(tr("one mean and one std for the whole table: compute them per column, with x.mean(dim=0) and "
                        "x.std(dim=0, correction=0)."))
    if _per_row(got_train, train):
        return _per_row_mistake()
    return wrong(tr("expected (x - mean) / std with the mean and std of each training column (shapes: got "
                    "{got_train_shape} and {got_other_shape}).",
                    got_train_shape=tuple(got_train.shape), got_other_shape=tuple(got_other.shape)))


def _stds(x: torch.Tensor, **dims: object) -> tuple[torch.Tensor, torch.Tensor]:
    """``x``'s population std (divides by N) and sample std (N - 1), both of which learners use."""
    return x.std(correction=0, **dims), x.std(correction=1, **dims)


def _per_row(got: torch.Tensor, train: torch.Tensor) -> bool:
    """Whether ``got`` (N, F) is ``train`` scaled with statistics taken per row (``dim=1``, either std), kept as a
    column (``keepdim=True``) or, on a square table, broadcast along the rows."""
    if got.shape != train.shape:
        return False
    mean, candidates = train.mean(dim=1, keepdim=True), []
    for std in _stds(train, dim=1, keepdim=True):
        candidates.append((train - mean) / std)
        if train.shape[0] == train.shape[1]:
            candidates.append((train - mean.view(-1)) / std.view(-1))
    return any(_close(got.float(), candidate, 1e-3) for candidate in candidates)


def _per_row_mistake() -> Verdict:
    return wrong(tr("you computed a mean and std per ROW (dim=1): the statistics belong to each column, so "
                    "reduce over the rows with dim=0."))


# Exercise 2: drop the column B


def _short_training(model: nn.Module, features: list[str], epochs: int = 200) -> float:
    """Validation RMSE (k USD) of ``model`` after full-batch Adam on the seed-0 split of ``features``."""
    splits = boston_splits("regression", seed=0, columns=features)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        train_one_epoch(model, [(splits.X_train, splits.y_train)], nn.MSELoss(), optimizer)  # one full batch
    return rmse(predict(model, splits.X_val), splits.y_val)


@checker("Exercise 2")
def exercise_2(features_no_b: list[str], model_no_b: nn.Module) -> Verdict:
    """The 12 feature names without ``B`` and the source's model with 12 inputs; trains both variants briefly."""
    expected = [name for name in FEATURES if name != "B"]
    if isinstance(features_no_b, str) or not isinstance(features_no_b, (list, tuple)):
        return wrong(tr("features_no_b should be a list of names, got {type_name}.",
                        type_name=type(features_no_b).__name__))
    if "B" in features_no_b:
        return wrong(tr("the list still holds 'B'. Build a new list that keeps every name of FEATURES except 'B'."))
    if list(features_no_b) != expected:
        return wrong(tr("expected the other 12 columns in FEATURES' order, got {features}.",
                        features=list(features_no_b)))
    if not isinstance(model_no_b, nn.Module):
        return wrong(tr("model_no_b should be a network (nn.Sequential), got {type_name}.",
                        type_name=type(model_no_b).__name__))
    linears = [m for m in model_no_b.modules() if isinstance(m, nn.Linear)]
    if not linears or linears[0].in_features != 12:
        if not linears:
            return wrong(tr("the network has no nn.Linear layer to read the features: start it with "
                            "nn.Linear(12, 30), 12 inputs now that B is gone."))
        return wrong(tr("the first layer takes {got} inputs; with B gone there are 12: nn.Linear(12, 30).",
                        got=linears[0].in_features))
    extra = [type(m).__name__ for m in model_no_b.modules()
             if not list(m.children()) and not isinstance(m, (nn.Linear, nn.ReLU))]
    if extra:
        return wrong(tr("the network has layers the source's does not ({names}): it is nn.Linear and nn.ReLU only, "
                        "and it ends with nn.Linear(8, 1), the price, with nothing after it.",
                        names=", ".join(extra)))
    relus = sum(isinstance(m, nn.ReLU) for m in model_no_b.modules())
    if ([m.out_features for m in linears] != [30, 15, 8, 1] or [m.in_features for m in linears] != [12, 30, 15, 8]
            or relus != 3 or any(m.bias is None for m in linears)):
        return wrong(tr("keep the source's layers after the first: 30, 15, 8 and 1 outputs, with nn.ReLU() between "
                        "them."))
    torch.manual_seed(0)  # the core forked the random state: the student's session is unaffected
    with_b = _short_training(boston_regression_mlp(13), FEATURES)
    torch.manual_seed(0)
    start = [m for m in boston_regression_mlp(12).modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():  # the same start, layer by layer (the learner's model may nest); the core restores it
        for mine, theirs in zip(linears, start, strict=True):
            mine.weight.copy_(theirs.weight)
            mine.bias.copy_(theirs.bias)
    without_b = _short_training(model_no_b, expected)
    return correct(tr("after 200 full-batch steps on one split, validation RMSE {without_b:.2f} k USD without B and "
                      "{with_b:.2f} k USD with it. That is one split and one starting point: another split gives other "
                      "numbers, so read the gap as this run's, not as a rule.",
                      without_b=without_b, with_b=with_b))


# Exercise 3: write the training loop

LOOP_SEED = 2031  # a split and a seed the notebook never uses
LOOP_EPOCHS = 60  # at most; a correct loop stops at epoch 41, 8 epochs after its best (33)
LOOP_PATIENCE = 8  # the usual stopping mistakes each stop at another epoch here (40, 42, 22, or never)
LOOP_LR = 0.01
LOOP_BATCH = 32
LOOP_LEVEL = 6.0  # k USD: the validation RMSE a correct loop must reach (its best epoch reaches 3.2)


@dataclass
class _Watch:
    """What the checker saw while the student's loop ran."""

    forwards: list[tuple[int, bool, bool]] = field(default_factory=list)  # (rows, training, grad enabled)
    losses: list[tuple[int, float, tuple, tuple]] = field(default_factory=list)  # (rows, value, pred, target shape)
    zero_grads: int = 0
    steps: int = 0
    empty_steps: int = 0  # steps taken with no gradient at all (zero_grad between backward and step)


class _WatchedMSELoss(nn.MSELoss):
    """``nn.MSELoss`` that notes every call: rows, value and the two shapes."""

    def __init__(self, watch: _Watch):
        super().__init__()
        self._watch = watch

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # noqa: A002 (torch's name)
        loss = super().forward(input, target)
        self._watch.losses.append((len(input), loss.item(), tuple(input.shape), tuple(target.shape)))
        return loss


def _counted(method: Callable, watch: _Watch) -> Callable:
    def zero_grad(*args, **kwargs):
        watch.zero_grads += 1
        return method(*args, **kwargs)

    return zero_grad


def _epoch_numbers(values: list[tuple[int, float]]) -> dict[str, float]:
    """The candidate "epoch losses" from one epoch's (rows, batch loss) pairs."""
    rows = sum(n for n, _ in values)
    return {
        "mean": sum(n * v for n, v in values) / rows,
        "last": values[-1][1],
        "batch mean": sum(v for _, v in values) / len(values),
        "sum": sum(v for _, v in values),
    }


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-3 * max(1.0, abs(b))


def _stop_epoch(val_losses: list[float], patience: int, rule: str = "best") -> int | None:
    """The epoch (from 1) at which a loop stops: ``rule`` "best" counts the epochs since the lowest validation loss
    so far and stops when the count reaches ``patience``; "late" and "early" stop one epoch after or before that;
    "no reset" never sets the count back to 0 on an improvement; "previous" compares each epoch with the one before
    instead of with the best. ``None`` when the rule never stops within ``val_losses``."""
    best, previous, waited = float("inf"), float("inf"), 0
    limit = {"late": patience + 1, "early": patience - 1}.get(rule, patience)
    for epoch, loss in enumerate(val_losses, start=1):
        improved = loss < (previous if rule == "previous" else best)
        best, previous = min(best, loss), loss
        waited = 0 if improved and rule != "no reset" else waited + (not improved)
        if waited >= limit:
            return epoch
    return None


@checker("Exercise 3")
def exercise_3(train_loop: Callable, device: torch.device | str | None = None) -> Verdict:
    """``train_loop(model, loader, loss_fn, optimizer, epochs, X_val, y_val, patience) -> (train_losses, val_losses,
    best_epoch)``: early stopping, the loop stops once the validation loss has not improved on its lowest for
    ``patience`` epochs in a row (or after ``epochs``), the model left with the best epoch's weights.

    The model and the validation rows are on ``device`` (the notebook's, default the CPU), the loader's
    batches on the CPU, as in the lesson: the loop moves each batch to the model's device.

    Runs the student's loop on a split and seed the notebook never uses (``LOOP_SEED``) with the
    source's model (``boston_regression_mlp``), watching every forward pass, loss, ``zero_grad``
    and step; judges the numbers it reports, the best epoch it names and the weights it leaves in the model.
    """
    splits = boston_splits("regression", seed=LOOP_SEED)
    torch.manual_seed(LOOP_SEED)  # the core forked the random state: the student's session is unaffected
    device = torch.device(device if device is not None else "cpu")
    model = boston_regression_mlp(13).to(device)
    loader = DataLoader(TabularDataset(splits.X_train, splits.y_train), batch_size=LOOP_BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(LOOP_SEED))
    optimizer = torch.optim.Adam(model.parameters(), lr=LOOP_LR)
    watch = _Watch()
    loss_fn = _WatchedMSELoss(watch)
    model.register_forward_hook(
        lambda module, args, output: watch.forwards.append((len(args[0]), module.training, torch.is_grad_enabled())))
    optimizer.zero_grad = _counted(optimizer.zero_grad, watch)  # type: ignore[method-assign]
    model.zero_grad = _counted(model.zero_grad, watch)  # type: ignore[method-assign]
    optimizer.register_step_post_hook(lambda *_: setattr(watch, "steps", watch.steps + 1))
    optimizer.register_step_pre_hook(lambda *_: setattr(watch, "empty_steps", watch.empty_steps + all(
        p.grad is None or not p.grad.any() for p in model.parameters())))
    n_val, per_epoch = len(splits.X_val), len(loader)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the broadcast warning: the checker names it itself
        try:
            result = student(train_loop, model, loader, loss_fn, optimizer, LOOP_EPOCHS,
                             splits.X_val.to(device), splits.y_val.to(device), LOOP_PATIENCE)
        except StudentError as error:
            if error.device_mismatch:
                return wrong(tr("a tensor was on another device than the model ({where}): the loader serves its "
                                "batches on the CPU and the model is on {device}. Move each batch where the "
                                "weights are: data.to(device), label.to(device), with "
                                "device = X_val.device, as the exercise says.", where=error.where, device=device))
            raise

    if not (isinstance(result, (tuple, list)) and len(result) == 3):
        return wrong(tr("return three things: (train_losses, val_losses, best_epoch): two lists with one number per "
                        "epoch, and the epoch with the lowest validation loss."))
    if any(isinstance(v, torch.Tensor) for part in result[:2] if isinstance(part, (list, tuple)) for v in part):
        return wrong(tr("the two lists hold tensors, not plain numbers: a loss tensor added up over the batches "
                        "keeps every batch's graph for gradients alive until the epoch ends. Use loss.item(), a "
                        "Python number, when you add up or store a loss."))
    try:
        train_losses, val_losses = ([float(v) for v in part] for part in result[:2])
        best_epoch = int(result[2])
    except (TypeError, ValueError):
        return wrong(tr("the two lists should hold plain numbers: append loss.item(), not the loss tensor."))
    ran = len(val_losses)  # the epochs the loop ran, by its own lists
    if len(train_losses) != ran or not 1 <= ran <= LOOP_EPOCHS:
        return wrong(tr("the lists should hold one number per epoch the loop ran (at most epochs={epochs}), the "
                        "same number each, got {n_train_losses} and {n_val_losses}: append once per epoch, after "
                        "the batches.", epochs=LOOP_EPOCHS, n_train_losses=len(train_losses),
                        n_val_losses=len(val_losses)))
    flat = [(pred, target) for _, _, pred, target in watch.losses if pred != target]
    if flat:
        pred, target = flat[0]
        return wrong(tr("the loss compared predictions of shape {pred} with targets of shape {target}: the two "
                        "broadcast into a table that compares every prediction with every price. Pass the targets "
                        "as the loader gives them, (n, 1).", pred=pred, target=target))
    if not watch.losses:
        return wrong(tr("the loss_fn passed to train_loop was never called: compute each loss with "
                        "loss_fn(prediction, label)."))
    batches = [(n, training, grad) for n, training, grad in watch.forwards if n != n_val]
    if watch.steps == 0:
        return wrong(tr("optimizer.step() was never called, so the weights never changed: step once per batch, "
                        "after loss.backward()."))
    if watch.steps == (ran + 1) * per_epoch:
        return wrong(tr("the loop trained {epochs} epochs but its lists hold {ran} numbers each: it stopped before "
                        "appending the last epoch's losses. Append both, then decide whether to stop.",
                        epochs=ran + 1, ran=ran))
    if watch.steps != ran * per_epoch:
        return wrong(tr("{steps} optimizer steps for {epochs} epochs of {per_epoch} batches: take one step per "
                        "batch, inside the loop over the loader.",
                        steps=watch.steps, epochs=ran, per_epoch=per_epoch))
    if watch.zero_grads == 0:
        return wrong(tr("optimizer.zero_grad() is never called, so backward() adds every batch's gradients to all "
                        "the earlier ones and each step follows their running sum. Clear them once per batch, "
                        "before loss.backward()."))
    if watch.empty_steps == watch.steps:
        return wrong(tr("every optimizer.step() found the gradients empty: zero_grad ran after backward (it erased the "
                        "gradients step needs), so the weights never moved. Clear the gradients before "
                        "loss.backward(), then step."))
    if watch.zero_grads < watch.steps:
        return wrong(tr("zero_grad ran {zero_grads} times for {steps} steps: clear the gradients in every batch, "
                        "not once per epoch.", zero_grads=watch.zero_grads, steps=watch.steps))
    if any(not training for _, training, grad in batches if grad):
        epoch = next(i for i, (_, training, grad) in enumerate(batches) if grad and not training) // per_epoch + 1
        return wrong(tr("from epoch {epoch} on, the training batches ran in evaluation mode: model.eval() for the "
                        "validation loss stays on until you switch back. Call model.train() at the start of every "
                        "epoch, before the batches.", epoch=epoch))
    val_calls = [(training, grad) for n, training, grad in watch.forwards if n == n_val]
    if len(val_calls) < ran:
        return wrong(tr("the model saw the {n_val} validation rows {n_val_calls} times in {epochs} epochs: measure "
                        "the validation loss once after every epoch.",
                        n_val=n_val, n_val_calls=len(val_calls), epochs=ran))
    if any(training for training, _ in val_calls):
        return wrong(tr("the validation loss was measured in training mode: call model.eval() before measuring (and "
                        "model.train() before the next epoch's batches)."))
    if any(grad for _, grad in val_calls):
        return wrong(tr("the validation loss was measured with gradients on: wrap it in with torch.no_grad():, "
                        "since measuring needs no gradients."))

    train_calls = [(n, value) for n, value, _, _ in watch.losses if n != n_val]
    if len(train_calls) != ran * per_epoch:
        return wrong(tr("expected one loss per batch ({epochs} epochs x {per_epoch} batches), but loss_fn was "
                        "called {n_train_calls} times on training batches.",
                        epochs=ran, per_epoch=per_epoch, n_train_calls=len(train_calls)))
    for epoch in range(ran):
        numbers = _epoch_numbers(train_calls[epoch * per_epoch:(epoch + 1) * per_epoch])
        got = train_losses[epoch]
        if _near(got, numbers["mean"]):
            continue
        last_rows = train_calls[(epoch + 1) * per_epoch - 1][0]
        if _near(got, numbers["last"]):
            return wrong(tr("epoch {epoch}'s training loss, {got:.2f}, is the loss of its last batch alone "
                            "({last_rows} rows); the epoch's loss is the mean over all its rows, {mean:.2f}. Add up "
                            "loss.item() * len(data) over the batches, then divide by the number of rows.",
                            epoch=epoch + 1, got=got, last_rows=last_rows, mean=numbers['mean']))
        if _near(got, numbers["batch mean"]):
            return wrong(tr("epoch {epoch}'s training loss, {got:.2f}, is the mean over batches: the last batch "
                            "holds only {last_rows} rows but counts as much as a full one. Weigh each batch's loss "
                            "by its rows (loss.item() * len(data)) and divide by the number of rows: {mean:.2f}.",
                            epoch=epoch + 1, got=got, last_rows=last_rows, mean=numbers['mean']))
        if _near(got, numbers["sum"]):
            return wrong(tr("epoch {epoch}'s training loss, {got:.2f}, is the sum of the batch losses: divide by "
                            "the number of rows (after weighing each batch by its rows), {mean:.2f}.",
                            epoch=epoch + 1, got=got, mean=numbers['mean']))
        return wrong(tr("epoch {epoch}'s training loss should be the mean of its batch losses over its rows, "
                        "{mean:.2f}; your list says {got:.2f}.", epoch=epoch + 1, mean=numbers['mean'], got=got))

    stop = _stop_epoch(val_losses, LOOP_PATIENCE)
    if stop != ran and not (stop is None and ran == LOOP_EPOCHS):
        verdict = _stopping_mistake(val_losses, ran, stop)
        if verdict is not None:
            return verdict
    lowest = min(range(ran), key=lambda i: val_losses[i])  # 0-based
    if best_epoch != lowest + 1:
        if best_epoch == lowest:
            return wrong(tr("best_epoch is {got}, but the lowest validation loss came in epoch {want}: epochs count "
                            "from 1, list positions from 0.", got=best_epoch, want=lowest + 1))
        return wrong(tr("best_epoch is {got}, but your own val_losses are lowest in epoch {want} ({val_loss:.2f}): "
                        "keep the epoch whose validation loss is the lowest so far.",
                        got=best_epoch, want=lowest + 1, val_loss=val_losses[lowest]))
    val_mse = rmse(predict(model, splits.X_val), splits.y_val) ** 2
    if not _near(val_mse, val_losses[lowest]):
        if _near(val_mse, val_losses[-1]) and lowest != ran - 1:
            return wrong(tr("the model ends with the last epoch's weights (validation loss {last_val:.2f}), not epoch "
                            "{best}'s ({best_val:.2f}). Either the kept weights are never loaded back "
                            "(model.load_state_dict(best_weights) after the last epoch), or they were kept as "
                            "model.state_dict() without copy.deepcopy: that dictionary holds the model's own tensors, "
                            "which every step changes.",
                            last_val=val_losses[-1], best=lowest + 1, best_val=val_losses[lowest]))
        return wrong(tr("the model's validation loss after train_loop is {val_mse:.2f}, but your val_losses say "
                        "epoch {best} reached {best_val:.2f}: measure with loss_fn(model(X_val), y_val), and load "
                        "the best epoch's weights back at the end.",
                        val_mse=val_mse, best=lowest + 1, best_val=val_losses[lowest]))
    if not train_losses[-1] < train_losses[0] / 4:
        if f"{train_losses[0]:.1f}" == f"{train_losses[-1]:.1f}":
            return wrong(tr("the training loss stayed at {first:.1f} from the first epoch to the last: the weights "
                            "hardly moved. Check that every batch runs zero_grad, backward and step, in that order.",
                            first=train_losses[0]))
        return wrong(tr("the training loss went from {first:.1f} to only {last:.1f}: a working loop lowers it far "
                        "more in this many epochs.", first=train_losses[0], last=train_losses[-1]))
    if val_mse ** 0.5 > LOOP_LEVEL:
        return wrong(tr("after {epochs} epochs the validation RMSE is {val_rmse:.2f} k USD, above the {level:.0f} k "
                        "USD a correct loop reaches.", epochs=LOOP_EPOCHS, val_rmse=val_mse ** 0.5, level=LOOP_LEVEL))
    return correct(tr("on a split you had not seen, with patience {patience}: the loop stopped after epoch "
                      "{epochs} of at most {max_epochs}, {patience} epochs without a new lowest validation loss, "
                      "with {per_epoch} batches an epoch; training loss {first:.1f} -> {last:.1f}; the best epoch, "
                      "{best}, has validation RMSE {val_rmse:.2f} k USD (below {level:.0f}; the last epoch's is "
                      "{last_rmse:.2f}), and the model holds its weights. Every batch ran in training mode with "
                      "fresh gradients; every validation pass in evaluation mode without them.",
                      patience=LOOP_PATIENCE, epochs=ran, max_epochs=LOOP_EPOCHS, per_epoch=per_epoch,
                      first=train_losses[0], last=train_losses[-1],
                      best=best_epoch, val_rmse=val_mse ** 0.5, level=LOOP_LEVEL, last_rmse=val_losses[-1] ** 0.5))


def _stopping_mistake(val_losses: list[float], ran: int, stop: int | None) -> Verdict | None:
    """Names why the loop stopped after epoch ``ran`` when its own ``val_losses`` say ``stop`` (None: they never
    call for a stop, so the loop should have run all epochs)."""
    def lowest_before(epoch: int) -> int:  # the best epoch (from 1) among the first ``epoch``
        return min(range(epoch), key=lambda i: val_losses[i]) + 1

    if stop is not None and ran > stop:
        best = lowest_before(stop)
        if ran == stop + 1:
            return wrong(tr("your loop stopped after epoch {ran}, one epoch late: by epoch {stop} the validation loss "
                            "had not improved on epoch {best}'s for {patience} epochs in a row, so stop there. Check "
                            "the comparison: stop when the count reaches patience (==), not when it passes it.",
                            ran=ran, stop=stop, best=best, patience=LOOP_PATIENCE))
        if ran == LOOP_EPOCHS:
            return wrong(tr("your loop ran all {epochs} epochs: it never stopped. By epoch {stop} the validation loss "
                            "had not improved on epoch {best}'s for {patience} epochs in a row. Count the epochs since "
                            "the lowest validation loss so far (not since the previous epoch's), and break out of the "
                            "loop over the epochs when the count reaches patience.",
                            epochs=LOOP_EPOCHS, stop=stop, best=best, patience=LOOP_PATIENCE))
        return wrong(tr("your loop stopped after epoch {ran}, but by epoch {stop} the validation loss had not improved "
                        "on epoch {best}'s for {patience} epochs in a row: count the epochs since the lowest "
                        "validation loss so far, not since the previous epoch's.",
                        ran=ran, stop=stop, best=best, patience=LOOP_PATIENCE))
    best = lowest_before(ran)
    if ran == _stop_epoch(val_losses, LOOP_PATIENCE, "early") and ran - best == LOOP_PATIENCE - 1:
        return wrong(tr("your loop stopped after epoch {ran}, one epoch early: the lowest validation loss came in "
                        "epoch {best}, so only {waited} of the {patience} epochs of patience had passed. Check "
                        "where the count starts and the comparison (count == patience).",
                        ran=ran, best=best, waited=ran - best, patience=LOOP_PATIENCE))
    if ran == _stop_epoch(val_losses, LOOP_PATIENCE, "no reset"):
        return wrong(tr("your loop stopped after epoch {ran}, when only {waited} of the {patience} epochs of "
                        "patience had passed since its lowest validation loss (epoch {best}): the count of epochs "
                        "without improvement is never set back to 0 when the validation loss improves, so it adds "
                        "up every bad epoch since the start.", ran=ran, waited=ran - best, best=best,
                        patience=LOOP_PATIENCE))
    return wrong(tr("your loop stopped after epoch {ran}, when only {waited} of the {patience} epochs of patience "
                    "had passed since its lowest validation loss (epoch {best}): stop only after {patience} epochs "
                    "in a row without a new lowest validation loss.",
                    ran=ran, waited=ran - best, best=best, patience=LOOP_PATIENCE))


# Exercise 4: when did overfitting cost more than the model is worth?

#: a made-up history (MSE): untrained at first, lowest at epoch 4, above the baseline again from epoch 7
_VAL_LOSS = [90.0, 40.0, 12.0, 9.0, 10.0, 30.0, 45.0, 60.0, 70.0]
_TRAIN_LOSS = [95.0, 45.0, 15.0, 10.0, 8.0, 6.0, 5.0, 4.0, 3.5]  # keeps falling
_BASELINE_RMSE = 6.0  # MSE 36
#: a model that never beats its baseline (2.0, MSE 4): the epoch right after the best one (4) is the answer, 5, and
#: a best "epoch" read as idxmin()'s row label (3) keeps the best epoch itself among the later ones
_WEAK_BASELINE_RMSE = 2.0


def _history(val_loss: list[float], train_loss: list[float], first: int = 1) -> pd.DataFrame:
    epochs = range(first, first + len(val_loss))
    return pd.DataFrame({"epoch": epochs, "train_loss": train_loss, "val_loss": val_loss})


@checker("Exercise 4")
def exercise_4(first_epoch_above: Callable) -> Verdict:
    """``first_epoch_above(history, baseline_rmse) -> int | None``: the first epoch after the best one (lowest
    ``val_loss``) whose validation RMSE is above ``baseline_rmse``; ``None`` when no later epoch is."""
    try:
        result = student(first_epoch_above, _history(_VAL_LOSS, _TRAIN_LOSS), _BASELINE_RMSE)
    except StudentError as error:
        missing_column = isinstance(error.error, AttributeError) and "'DataFrame' object" in str(error.error)
        if isinstance(error.error, KeyError) or missing_column:
            return wrong(tr("your code reads a column the history does not have ({column}): the checker's histories "
                            "have the columns epoch, train_loss and val_loss, like the rows the loop stores. Compute "
                            "the RMSE from val_loss.",
                            column=str(error.error).split("'")[-2] if missing_column else error.error.args[0]))
        if "ambiguous" in str(error.error):
            return wrong(tr("pandas cannot combine two columns of True/False with and, or or not: use & (and |), "
                            "with each comparison in its own parentheses."))
        if isinstance(error.error, TypeError):
            return wrong(tr("your code raised TypeError ({error}). If it combines comparisons with &: in Python & "
                            "binds tighter than > and ==, so put each comparison in its own parentheses.",
                            error=error.error))
        raise
    if result is None:
        return wrong(tr("None, but in this history the validation RMSE climbs back above the baseline "
                        "({baseline:.1f}) after the best epoch: the function should find that epoch.",
                        baseline=_BASELINE_RMSE))
    try:
        epoch = int(result)
    except (TypeError, ValueError):
        return wrong(tr("return one epoch number (an int) or None, got {got!r}.", got=result))
    if epoch == 1:
        return wrong(tr("epoch 1: the untrained model misses by more than the baseline too, but that is not "
                        "overfitting. Look only at the epochs after the best one (the lowest validation loss). If "
                        "your condition does: in Python & binds tighter than > and ==, so put each comparison in "
                        "its own parentheses."))
    if epoch == 6:
        return wrong(tr("6 is the row label (counted from 0) of epoch 7: read the row's 'epoch' column."))
    if epoch == 5:
        return wrong(tr("epoch 5's validation loss, 10.0, is an MSE (k USD squared); its RMSE, 3.16, is below the "
                        "baseline's 6.0. Compare the square root of val_loss with the baseline RMSE."))
    if epoch != 7:
        return wrong(tr("epoch {epoch}: the best epoch here is 4 (validation loss 9.0), and the first later epoch "
                        "whose RMSE (the square root of val_loss) is above {baseline:.1f} is another one.",
                        epoch=epoch, baseline=_BASELINE_RMSE))
    weak = student(first_epoch_above, _history(_VAL_LOSS, _TRAIN_LOSS), _WEAK_BASELINE_RMSE)
    if weak == 4:
        # on epochs 11 to 19 (row labels 0 to 8) '>=' gives the best epoch, 14; a row label read as the epoch, 11
        if student(first_epoch_above, _history(_VAL_LOSS, _TRAIN_LOSS, first=11), _WEAK_BASELINE_RMSE) == 14:
            return wrong(tr("on a history whose best epoch, 4, is still above the baseline, your function returned "
                            "the best epoch itself: keep only the epochs strictly after it (epoch > best, not >=)."))
        return wrong(tr("on a history whose best epoch, 4, is still above the baseline, your function returned the "
                        "best epoch itself: history['val_loss'].idxmin() is the row label (3 for epoch 4), not the "
                        "epoch. Read that row's 'epoch' column, as section 8 does."))
    if weak != 5:
        return wrong(tr("on a history whose model never beats the baseline ({baseline:.1f}), the first epoch after "
                        "the best one (4) is already above it: 5, but your function returned {got!r}.",
                        baseline=_WEAK_BASELINE_RMSE, got=weak))
    try:
        calm = student(first_epoch_above, _history(_VAL_LOSS[:6], _TRAIN_LOSS[:6]), _BASELINE_RMSE)
    except StudentError as error:
        if not isinstance(error.error, IndexError):
            raise
        return wrong(tr("on a history whose validation RMSE stays below the baseline after the best epoch, your "
                        "code raised IndexError: no later epoch is above the baseline in this history, so there is "
                        "no row to read. Return None then."))
    if calm is not None:
        return wrong(tr("on a history whose validation RMSE stays below the baseline after the best epoch, your "
                        "function returned {got!r}: return None when no such epoch exists.", got=calm))
    return correct(tr("on a history you had not seen: best epoch 4, then epoch 7 is the first whose validation RMSE "
                      "({rmse:.2f}) is above the baseline's {baseline:.1f}; on a history that never gets there, "
                      "None.", rmse=_VAL_LOSS[6] ** 0.5, baseline=_BASELINE_RMSE))


# Exercise 5 (diagnose this run): the planted bug is targets of shape (N,)

#: The drill's four candidates, by the letter the student answers with (and the English name it also accepts).
BUGS = {"a": "learning rate", "b": "target shape", "c": "dead ReLUs", "d": "too few epochs"}
DRILL_SEED = 2027  # a split the notebook never uses


def _table_shape(table_shape: object) -> tuple | None:
    """``table_shape`` as a tuple of ints (a tuple, list or torch.Size), or None when it is not one."""
    try:
        return tuple(int(n) for n in table_shape)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None


@checker("Exercise 5", later=("table_shape",))
def exercise_5(bug: str, table_shape: tuple, train_fixed: Callable) -> Verdict:
    """Name the planted bug by its letter in ``BUGS`` ("b"; its English name is accepted too), give the shape of
    ``pred - targets`` inside the drill's loss (N, N), then rerun the student's fixed ``train_fixed(X, y)`` on a
    new split."""
    letter = {name: key for key, name in BUGS.items()}.get(bug, bug) if isinstance(bug, str) else bug
    letter = letter.strip().lower() if isinstance(letter, str) else letter
    if letter not in BUGS:
        return wrong(tr('answer with one letter: "a", "b", "c" or "d" (got {bug!r}).', bug=bug))
    if letter == "a":
        return wrong(tr("not 'a': with only the real bug fixed, the same learning rate, 0.01, and the same 300 "
                        "epochs train well, so the rate is not what holds this run back. Look at what goes into the "
                        "loss."))
    if letter == "c":
        return wrong(tr("not 'c': dead ReLUs can flatten the predictions, but then fixing the real bug alone would "
                        "not help, and it does: the same layers, the same rate and epochs then learn well. Look at "
                        "what goes into the loss."))
    if letter == "d":
        return wrong(tr("not 'd': more epochs would not move a model that already sits near where its loss is lowest. "
                        "With only the real bug fixed, the same 300 epochs reach far below the baseline. Look at "
                        "what goes into the loss."))
    splits = boston_splits("regression", seed=DRILL_SEED)
    rows = len(splits.X_train)  # every seed's split has as many training rows as the notebook's drill saw
    if table_shape is None:
        return wrong(tr("b is the right letter. Next, table_shape: the shape of pred - targets inside "
                        "train_buggy's loss, as a tuple."))
    shape = _table_shape(table_shape)
    if shape in ((rows, 1), (rows,)):
        return wrong(tr("b is the right letter, but {shape} is the shape of {name} alone. Inside the loss, targets "
                        "({rows},) is subtracted from pred ({rows}, 1): what does broadcasting make of that? Try "
                        "torch.zeros(3, 1) - torch.zeros(3).", shape=shape, rows=rows,
                        name="pred" if shape == (rows, 1) else "targets"))
    if shape != (rows, rows):
        return wrong(tr("b is the right letter, but table_shape should be the shape of pred - targets inside "
                        "train_buggy's loss, with pred ({rows}, 1) and targets ({rows},), as a tuple; got {got!r}. "
                        "Print (pred - targets).shape in a copy of train_buggy.", rows=rows, got=table_shape))
    torch.manual_seed(DRILL_SEED)  # the core forked the random state: the student's session is unaffected
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = student(train_fixed, splits.X_train, splits.y_train)
        except NotAttempted:  # the letter is answered, the fix not yet
            return wrong(tr("b is the right letter. The fix is still to do: train_fixed still raises "
                            "NotImplementedError; write it to train the drill's model with the bug fixed."))
    if not isinstance(model, nn.Module):
        return wrong(tr("train_fixed should return the trained model, got {type_name}.",
                        type_name=type(model).__name__))
    pred = predict(model, splits.X_val)
    if pred.shape != splits.y_val.shape:
        return wrong(tr("the model's output has shape {pred_shape}, expected {y_val_shape}: keep the source's model.",
                        pred_shape=tuple(pred.shape), y_val_shape=tuple(splits.y_val.shape)))
    spread = pred.std().item() / splits.y_val.std().item()
    mean_rmse = rmse(torch.full_like(splits.y_val, splits.y_train.mean().item()), splits.y_val)
    model_rmse = rmse(pred, splits.y_val)
    broadcast = [w for w in caught if "broadcast" in str(w.message)]
    if broadcast:
        return wrong(tr("the symptom is still there: the predictions spread only {spread:.0%} as much as the "
                        "prices, and torch still warns that the loss broadcasts. The targets must have the "
                        "predictions' shape (N, 1): use y as it comes, or y.view(-1, 1).", spread=spread))
    if spread < 0.3 or model_rmse > 0.7 * mean_rmse:
        if model_rmse >= mean_rmse:
            return wrong(tr("the shapes match now, but validation RMSE {model_rmse:.2f} k USD is worse than "
                            "predicting the mean ({mean_rmse:.2f}): keep the drill's learning rate and epochs, "
                            "change only the bug.", model_rmse=model_rmse, mean_rmse=mean_rmse))
        return wrong(tr("the shapes match now, but validation RMSE {model_rmse:.2f} k USD is little or no better "
                        "than predicting the mean ({mean_rmse:.2f}): keep the drill's learning rate and epochs, "
                        "change only the bug.", model_rmse=model_rmse, mean_rmse=mean_rmse))
    return correct(tr("the buggy loss averaged a ({rows}, {rows}) table that compares every prediction with every "
                      "price, and that is smallest when each prediction is the mean price: the symptom. Your fix, "
                      "rerun on a new split: validation RMSE {model_rmse:.2f} k USD against {mean_rmse:.2f} for "
                      "predicting the mean, and the predictions now spread like the prices.",
                      rows=rows, model_rmse=model_rmse, mean_rmse=mean_rmse))
