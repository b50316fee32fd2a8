"""Checkers for notebook 03 (three price bands, softmax classification).

Each checker calls the student's function on cases the notebook never showed, or trains on a
split the notebook never uses (``UNSEEN_SEED``), and returns a ``Feedback``.

    exercise_1  softmax(z) that never overflows
    exercise_2  cross-entropy by hand
    exercise_3  the extra-Softmax loss floor for C classes
    exercise_4  the whole training loop: CrossEntropyLoss on class indices, the epoch's loss averaged over
                samples, the validation loss per epoch, the best epoch's weights kept
    exercise_5  diagnose this run: a loss that never moves (the optimizer holds another model's weights)
    exercise_6  diagnose this run: bands numbered 1, 2, 3 (class indices start at 0)
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import notebook
from helpers.boston import boston_splits
from helpers.exercises import StudentError, Verdict, checker, correct, library_calls, student, wrong
from helpers.i18n import tr
from helpers.metrics import multiclass_accuracy
from helpers.models import boston_band_mlp, last_layer, model_device
from helpers.training import eval_mode, predict, train_one_epoch

#: The settings cell's values (SEED and DEVICE aside) that the self-check's claims are about;
#: tests/test_lessons.py keeps them equal to the notebook's.
DEFAULTS: dict[str, object] = {"EPOCHS": 80, "LR": 0.01, "BATCH_SIZE": 100}


def claims_apply() -> bool:
    """Whether the self-check's claims apply to this run: the settings are ``DEFAULTS`` (any SEED).
    Else prints which settings differ."""
    return notebook.claims_apply(DEFAULTS)

Tensor = torch.Tensor

#: The split and weights the training checkers use: a seed the lesson never shows.
UNSEEN_SEED = 2718
#: Exercise 4's loop: batches of 80 (324 training tracts: four of 80 and a short one of 4), Adam, 15 epochs
#: (the unseen split's validation loss is lowest in epoch 4, so keeping the last epoch's weights shows).
LOOP_BATCH, LOOP_EPOCHS, LOOP_LR = 80, 15, 0.01
#: Exercises 4 and 5: the training loss must get below this (the extra-Softmax floor is 0.551).
LOOP_LEVEL = 0.5
#: Exercise 4, for a loop that trains differently from the reference: validation accuracy within this of it.
LOOP_TOLERANCE = 0.08


def floor_for(num_classes: int) -> float:
    """The lowest loss CrossEntropyLoss can reach when the model already ends in a softmax."""
    return math.log(1 + (num_classes - 1) / math.e)


@functools.lru_cache(maxsize=1)
def _band_data() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Training features (324, 13) and bands (324,), validation features (81, 13) and bands (81,) at UNSEEN_SEED."""
    splits = boston_splits("bands", val_fraction=0.2, seed=UNSEEN_SEED)
    return splits.X_train, splits.y_train, splits.X_val, splits.y_val


def _train(model: nn.Module, x: Tensor, y: Tensor, epochs: int) -> float:
    """Full-batch Adam (lr 0.01) for ``epochs`` steps; returns the last training loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        loss = train_one_epoch(model, [(x, y)], nn.CrossEntropyLoss(), optimizer)["loss"]  # one full batch
    return loss


def _other_shifts() -> dict[str, Callable[[Tensor], Tensor]]:
    """Shifts students subtract from a row before exp instead of its maximum, by their names (in the active
    language): each keeps the row's softmax (the shift cancels), but only the maximum keeps every exponent <= 0."""
    return {tr("the row's smallest logit"): lambda z: z.min(dim=1, keepdim=True).values,
            tr("the row's mean"): lambda z: z.mean(dim=1, keepdim=True),
            tr("the row's median"): lambda z: z.median(dim=1, keepdim=True).values}


def _shifted(z: Tensor, shift: Tensor) -> Tensor:
    e = torch.exp(z - shift)
    return e / e.sum(dim=1, keepdim=True)


def _unnormalised(out: Tensor, z: Tensor) -> str | None:
    """What a softmax answer whose rows do not sum to 1 divided by, if it is one of the usual mistakes."""
    e = torch.exp(z - z.max(dim=1, keepdim=True).values)  # the right numerators, each row's largest = 1
    close = functools.partial(torch.allclose, out, atol=1e-5)
    if close(torch.softmax(z, dim=0)) or close(e / e.sum(dim=0, keepdim=True)):
        return tr("each column sums to 1, not each row: you divided by the column sums. A row is one example, so "
                  "sum over dim=1 (with keepdim=True).")
    if z.shape[0] == z.shape[1] and any(close(x / x.sum(dim=1)) for x in (e, torch.exp(z))):
        return tr("the rows do not sum to 1: the row sums lost their dimension (shape (N,) instead of (N, 1)), so "
                  "each COLUMN was divided by one row's total. Sum with keepdim=True.")
    sums = out.sum(dim=1, keepdim=True)
    if not (sums > 0).all() or not torch.allclose(out / sums, torch.softmax(z, dim=1), atol=1e-5):
        return None  # the rows are not even proportional to the right probabilities
    if math.isclose(out.sum().item(), 1, abs_tol=1e-5):
        return tr("the whole batch sums to 1, not each row: you divided by the sum of every exp in the tensor. "
                  "Divide each row by its own sum: .sum(dim=1, keepdim=True).")
    if torch.allclose(out.max(dim=1).values, torch.ones(len(z)), atol=1e-5):
        return tr("these are the exponentials, not yet divided by anything (or divided by the row's largest one, "
                  "which is 1 after the shift): divide each row by its sum, e / e.sum(dim=1, keepdim=True).")
    return tr("each row is in the right proportions but divided by the wrong number: divide it by its own sum, "
              "e / e.sum(dim=1, keepdim=True).")
    return None


@checker("Exercise 1")
def exercise_1(softmax: Callable[[Tensor], Tensor]) -> Verdict:
    """``softmax(z)``: logits (N, C) -> probabilities (N, C), each row summing to 1, finite for huge logits."""
    gen = torch.Generator().manual_seed(3)
    cases = [torch.randn(5, 4, generator=gen) * 3, torch.randn(2, 7, generator=gen), torch.randn(4, 4, generator=gen),
             torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -998.0]]),
             torch.tensor([[0.0, 100.0, -100.0]])]  # a wide row: only the row's maximum keeps every exp finite
    worst = 0.0
    for z in cases:
        try:
            with library_calls("softmax", "log_softmax", torch_too=True) as calls:
                out = student(softmax, z.clone())
        except StudentError as error:
            if "must match the size" in str(error):
                return wrong(tr("logits of shape {z_shape} raised {error} ({where}): a row's sum or maximum without "
                                "keepdim=True has shape (N,), which does not line up with the rows of z. Keep it "
                                "as a column (N, 1) with keepdim=True.",
                                z_shape=tuple(z.shape), error=str(error), where=error.where))
            raise
        if calls:
            return wrong(tr("it calls the library's {name}, which does this exercise's work: write the softmax "
                            "yourself, from torch.exp, each row's maximum and each row's sum.", name=calls[0]))
        if not isinstance(out, Tensor) or out.shape != z.shape:
            got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            return wrong(tr("for logits of shape {z_shape} it returned {got}: softmax keeps the shape (N, C). Use "
                            "keepdim=True when you sum each row.", z_shape=tuple(z.shape), got=got))
        bad_rows = (~torch.isfinite(out)).any(dim=1).nonzero().flatten().tolist()
        if bad_rows:
            row = bad_rows[0]
            shown = tr("the row of logits {logits} gave {probabilities}", logits=z[row].tolist(),
                       probabilities=out[row].tolist())
            for shift, of in _other_shifts().items():
                if torch.allclose(out[row], _shifted(z, of(z))[row], equal_nan=True):
                    return wrong(tr("{shown}: you subtract {shift} ({value:g}), which leaves an exponent of {top:g} "
                                    "in this row; exp({top:g}) is above float32's largest number (about e^88.7), and "
                                    "inf / inf is NaN. Subtract the row's LARGEST logit: then every exponent is at "
                                    "most 0.", shown=shown, shift=shift, value=of(z)[row].item(),
                                    top=(z[row] - of(z)[row]).max().item()))
            if z[row].max() > 88:  # e^89 is above float32's largest number
                return wrong(tr("{shown}: exp({z_max:g}) overflows to inf, and inf / inf is NaN. Subtract each "
                                "row's largest logit before exp.", shown=shown, z_max=z[row].max().item()))
            return wrong(tr("{shown}: after your shift every exp in this row is 0 (underflow), and 0 / 0 is NaN. "
                            "The number you subtract must be this row's own largest logit, not one number for the "
                            "whole batch: then each row keeps an entry e^0 = 1.", shown=shown))
        if not torch.allclose(out.sum(dim=1), torch.ones(len(z)), atol=1e-5):
            return wrong(_unnormalised(out, z) or tr("the rows do not sum to 1: divide exp(z) by its row's total."))
        worst = max(worst, (out - torch.softmax(z, dim=1)).abs().max().item())
        if worst > 1e-5:
            return wrong(tr("the rows sum to 1 but differ from torch.softmax by up to {worst:.2g}: softmax is "
                            "exp(z) divided by the row's sum of exp(z).", worst=worst))
    return correct(tr("matches torch.softmax on {n_cases} unseen batches, logits of 1000, -1000 and a row from -100 "
                      "to 100 included (largest difference {worst:.1e}).", n_cases=len(cases), worst=worst))


@checker("Exercise 2")
def exercise_2(cross_entropy: Callable[[Tensor, Tensor], Tensor]) -> Verdict:
    """``cross_entropy(logits (N, C), targets int64 (N,))`` -> the mean of -log(probability of the true class)."""
    gen = torch.Generator().manual_seed(4)
    cases = [(torch.randn(6, 3, generator=gen) * 2, torch.randint(0, 3, (6,), generator=gen)),
             (torch.randn(9, 5, generator=gen), torch.randint(0, 5, (9,), generator=gen)),
             (torch.tensor([[200.0, 0.0, -200.0], [0.0, 150.0, 0.0]]), torch.tensor([2, 0]))]
    for logits, y in cases:
        expected = nn.functional.cross_entropy(logits, y)
        with library_calls("cross_entropy") as calls:
            got = torch.as_tensor(student(cross_entropy, logits.clone(), y.clone())).detach().float()
        if calls:
            return wrong(tr("it calls nn.CrossEntropyLoss (or F.cross_entropy), the loss this exercise asks you to "
                            "write by hand. Build it from torch.log_softmax, the true class of each row and the "
                            "mean."))
        if got.numel() != 1:
            return wrong(tr("it returned shape {got_shape}; the loss is one number: average the per-example losses "
                            "with .mean().", got_shape=tuple(got.shape)))
        if not torch.isfinite(got):
            return wrong(tr("logits {logits} gave {got}: log(softmax(z)) is log(0) when a probability underflows. "
                            "Use torch.log_softmax(logits, dim=1) instead.",
                            logits=logits[0].tolist(), got=got.item()))
        if torch.isclose(got, expected, rtol=1e-4, atol=1e-4):
            continue
        log_probs = torch.log_softmax(logits, dim=1)
        true_class = log_probs[torch.arange(len(y)), y]
        if torch.isclose(got, -expected, rtol=1e-4):
            return wrong(tr("the sign is flipped: the loss is MINUS the mean log-probability (log-probabilities are "
                            "negative, the loss is positive)."))
        if torch.isclose(got, -true_class.sum(), rtol=1e-4):
            return wrong(tr("that is the sum over the batch; CrossEntropyLoss averages: use .mean()."))
        if torch.isclose(got, -log_probs[:, y].mean(), rtol=1e-4):
            return wrong(tr("log_probs[:, y] picks the columns y for EVERY row, a ({n}, {n}) table, and you averaged "
                            "all of it. Pair each row with its own class: log_probs[torch.arange(len(y)), y], shape "
                            "({n},).", n=len(y)))
        if torch.isclose(got, -log_probs.mean(), rtol=1e-4):
            return wrong(tr("it averages over every class; pick only each example's true class: "
                            "log_probs[torch.arange(len(y)), y]."))
        if torch.isclose(got, -torch.log_softmax(logits, dim=0)[torch.arange(len(y)), y].mean(), rtol=1e-4):
            return wrong(tr("that is log_softmax over dim=0, down each column: it made each class's column sum to 1 "
                            "across the examples. A row is one example's scores: use dim=1."))
        return wrong(tr("got {got:.4f}, CrossEntropyLoss gives {expected:.4f} on an unseen batch. Recipe: "
                        "log_softmax over dim=1, pick the true class per row, minus the mean.",
                        got=got.item(), expected=expected.item()))
    return correct(tr("equals nn.CrossEntropyLoss on {n_cases} unseen batches, logits of 200 included.",
                      n_cases=len(cases)))


@checker("Exercise 3")
def exercise_3(loss_floor: Callable[[int], float]) -> Verdict:
    """``loss_floor(num_classes)`` -> the floor of CrossEntropyLoss behind an extra Softmax, for any C >= 2."""
    for c in (5, 2, 10, 100):
        got = float(student(loss_floor, c))
        # Re-measure: the best an extra softmax can hand the loss is a one-hot vector on the true class.
        measured = nn.functional.cross_entropy(torch.eye(c)[:1], torch.tensor([0])).item()
        if math.isclose(got, measured, rel_tol=1e-4):
            continue
        if math.isclose(got, math.log(c), rel_tol=1e-4):
            return wrong(tr("log({c}) is the loss of a flat guess (all probabilities 1/{c}), where training starts, "
                            "not the floor. Feed CrossEntropyLoss a perfect one-hot prediction.", c=c))
        if math.isclose(got, floor_for(3), rel_tol=1e-4):
            return wrong(tr("for {c} classes you returned the 3-class floor {got:.4f}: each of the C - 1 wrong "
                            "classes adds e^-1 inside the log.", c=c, got=got))
        if math.isclose(got, math.log(1 + c / math.e), rel_tol=1e-4):
            return wrong(tr("off by one class: only the C - 1 WRONG classes add e^-1 inside the log."))
        if math.isclose(got, math.log(1 + (c - 1) * math.e), rel_tol=1e-4):
            return wrong(tr("each wrong class adds e where it should add 1/e: its p is 0 and the true class's is 1, "
                            "so it adds e^(0 - 1) = e^-1 inside the log."))
        if math.isclose(got, math.log(c - 1 + math.e), rel_tol=1e-4):
            return wrong(tr("log(C - 1 + e) is the ceiling, the loss of a certain MISTAKE; the floor is the loss of a "
                            "certain, correct answer."))
        return wrong(tr("for {c} classes: {got:.4f}, but CrossEntropyLoss of a one-hot input measures "
                        "{measured:.4f}.", c=c, got=got, measured=measured))
    share = floor_for(10) / math.log(10)
    return correct(tr("matches the measured floor for 2, 5, 10 and 100 classes. For MNIST's 10 classes it is "
                      "{floor:.3f}, {share:.0%} of the starting loss log(10) = {start:.3f}.",
                      floor=floor_for(10), share=share, start=math.log(10)))


# ----------------------------------------------------------------------------------------------
# Exercise 4: the whole loop. The checker trains a fresh 13-32-16-3 model with the student's loop on
# the unseen split, and replays the reference loop and the usual mistakes from the same start (same
# weights, same batch order), so that it can say which one the student's numbers are.


@functools.lru_cache(maxsize=1)
def _loop_start() -> dict[str, Tensor]:
    """The starting weights of exercise 4's model (seeded, so every run starts the same)."""
    with torch.random.fork_rng():
        torch.manual_seed(UNSEEN_SEED)
        return boston_band_mlp().state_dict()


def _loop_model() -> nn.Sequential:
    model = boston_band_mlp()
    model.load_state_dict(copy.deepcopy(_loop_start()))
    return model


def _loop_loader() -> DataLoader:
    """Shuffled batches of LOOP_BATCH from the unseen split; a fresh loader always gives the same order."""
    x, y, _, _ = _band_data()
    return DataLoader(TensorDataset(x, y), batch_size=LOOP_BATCH, shuffle=True,
                      generator=torch.Generator().manual_seed(UNSEEN_SEED))


def _val_loss(model: nn.Module) -> float:
    _, _, x_val, y_val = _band_data()
    with eval_mode(model):
        return nn.functional.cross_entropy(model(x_val), y_val).item()


@functools.lru_cache(maxsize=4)
def _replay(mistake: str) -> tuple[dict[str, tuple[float, ...]], tuple[float, ...], float]:
    """Train the reference loop (``mistake`` "none"), or one with "no zero_grad" or "softmax before the loss".

    Returns what each way of reporting the epoch's training loss gives ({"sample mean": per-epoch
    values, ...}), the validation loss after each epoch, and the best epoch's validation accuracy.
    """
    model, loader = _loop_model(), _loop_loader()
    optimizer = torch.optim.Adam(model.parameters(), lr=LOOP_LR)
    loss_fn = nn.CrossEntropyLoss()
    reports: dict[str, list[float]] = {"sample mean": [], "last batch": [], "batch mean": [], "sum": [],
                                       "sum of batch means": [], "batch means over tracts": [],
                                       "sum over batches": []}
    val_losses, best_weights = [], None
    for _ in range(LOOP_EPOCHS):
        model.train()
        losses, sizes = [], []
        for x, y in loader:
            out = model(x)
            loss = loss_fn(torch.softmax(out, dim=1) if mistake == "softmax" else out, y)
            if mistake != "no zero_grad":
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            sizes.append(len(x))
        reports["sample mean"].append(sum(l * n for l, n in zip(losses, sizes, strict=True)) / sum(sizes))
        reports["last batch"].append(losses[-1])
        reports["batch mean"].append(sum(losses) / len(losses))
        reports["sum"].append(sum(l * n for l, n in zip(losses, sizes, strict=True)))
        reports["sum of batch means"].append(sum(losses))
        reports["batch means over tracts"].append(sum(losses) / sum(sizes))
        reports["sum over batches"].append(sum(l * n for l, n in zip(losses, sizes, strict=True)) / len(losses))
        val_losses.append(_val_loss(model))
        if val_losses[-1] == min(val_losses):
            best_weights = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_weights)
    _, _, x_val, y_val = _band_data()
    return ({k: tuple(v) for k, v in reports.items()}, tuple(val_losses),
            multiclass_accuracy(predict(model, x_val), y_val))


def _same(got: Sequence[float], expected: Sequence[float]) -> bool:
    return all(math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6) for a, b in zip(got, expected, strict=True))


def _reporting(last: int, n: int, batch: int) -> dict[str, str]:
    """What each wrong way of reporting the epoch's loss is told (in the active language)."""
    return {
        "last batch": tr("these are the LAST batch's losses, not the epoch's: the last batch holds only {last} of "
                         "the {n} tracts. Add up loss.item() * len(x) over the epoch's batches and divide by the "
                         "number of tracts.", last=last, n=n),
        "batch mean": tr("you averaged the batch losses, so the short last batch ({last} tracts) counts as much as a "
                         "full one of {batch}. Weight each batch by its size: add loss.item() * len(x), then divide "
                         "by the number of tracts.", last=last, batch=batch),
        "sum": tr("these are sums over the epoch's tracts: divide by the number of tracts ({n}) to get the mean.",
                  n=n),
        "sum of batch means": tr("these are sums of the batch losses: weight each by len(x) and divide by the "
                                 "number of tracts ({n}).", n=n),
        "batch means over tracts": tr("your losses are about {batch} times too small: each batch's loss.item() is "
                                      "already a mean over its tracts, and you added them up without * len(x), then "
                                      "divided by the number of tracts ({n}). Add loss.item() * len(x), then divide "
                                      "by the number of tracts.", batch=batch, n=n),
        "sum over batches": tr("your losses are far too large: you added up loss.item() * len(x), a sum over the "
                               "tracts, but divided by the number of batches ({batches}), not the number of tracts "
                               "({n}).", batches=math.ceil(n / batch), n=n),
    }


def _two_lists(got: object) -> tuple[list[float], list[float]] | None:
    """``got`` as (training losses, validation losses), or None if it is not two sequences of numbers."""
    if not isinstance(got, Sequence) or isinstance(got, (str, bytes)) or len(got) != 2:
        return None
    parts = []
    for part in got:
        if not isinstance(part, Sequence) or isinstance(part, (str, bytes)):
            return None
        try:
            parts.append([float(v) for v in part])
        except (TypeError, ValueError):
            return None
    return parts[0], parts[1]


def _best_weights_kept(model: nn.Module, val_losses: Sequence[float], loaded: bool = True) -> str | None:
    """None if the model ends with the weights of its lowest validation loss, else what to tell;
    ``loaded``: whether the loop called ``model.load_state_dict``."""
    final, best = _val_loss(model), min(val_losses)
    if math.isclose(final, best, rel_tol=1e-4, abs_tol=1e-6):
        return None
    epoch = list(val_losses).index(best) + 1
    if not loaded:
        return tr("the model ends with the last epoch's weights (validation loss {last:.3f}): your loop never calls "
                  "model.load_state_dict(...), so the weights of epoch {epoch} ({best:.3f}) are never put back. "
                  "After the loop, load the copy you kept: model.load_state_dict(best_weights).",
                  last=val_losses[-1], epoch=epoch, best=best)
    if math.isclose(final, val_losses[-1], rel_tol=1e-4, abs_tol=1e-6):
        return tr("the model ends with the last epoch's weights (validation loss {last:.3f}), not those of epoch "
                  "{epoch} ({best:.3f}). Keep copy.deepcopy(model.state_dict()) whenever the validation loss is the "
                  "lowest so far, and load it with model.load_state_dict(...) after the loop: model.state_dict() "
                  "without the copy holds the model's own tensors, which every later step changes.",
                  last=val_losses[-1], epoch=epoch, best=best)
    return tr("the model ends with weights whose validation loss is {final:.3f}, but your lowest validation loss "
              "was {best:.3f}, in epoch {epoch}: keep a copy of the weights of that epoch and load it after the loop.",
              final=final, best=best, epoch=epoch)


@checker("Exercise 4")
def exercise_4(fit: Callable[..., Sequence[Sequence[float]]]) -> Verdict:
    """``fit(model, train_loader, X_val, y_val, optimizer, epochs)`` -> (training losses, validation losses),
    one per epoch, the training loss averaged over the epoch's samples; the model ends with the best epoch's
    weights.

    Runs the student's loop on the unseen split, then compares with the reference loop and the
    usual mistakes replayed from the same start.
    """
    x, y, x_val, y_val = _band_data()
    model, loader = _loop_model(), _loop_loader()
    optimizer = torch.optim.Adam(model.parameters(), lr=LOOP_LR)
    loads: list[bool] = []
    load_state_dict = model.load_state_dict

    def recorded_load(*args: object, **kwargs: object) -> object:
        loads.append(True)
        return load_state_dict(*args, **kwargs)

    model.load_state_dict = recorded_load  # this model only: records whether the loop puts weights back
    try:
        got = student(fit, model, loader, x_val.clone(), y_val.clone(), optimizer, LOOP_EPOCHS)
    except StudentError as error:
        text = str(error)
        if error.device_mismatch:
            return wrong(tr("a tensor and the model are on different devices ({where}): the checker's model is on "
                            "the CPU. Inside fit, take the model's device, device = next(model.parameters()).device, "
                            "and move each batch and X_val, y_val there, not to the notebook's device.",
                            where=error.where))
        if "multi-target" in text or "1D target" in text:
            return wrong(tr("CrossEntropyLoss refused the targets ({where}): they were reshaped to (N, 1). Class "
                            "indices stay one number per tract, shape (N,): use the y the batches give you.",
                            where=error.where))
        if "target dtype" in text or ("expected" in text and "Float" in text):
            return wrong(tr("CrossEntropyLoss refused the targets ({where}): they were made float. Class indices "
                            "stay int64 (N,); lesson 02's float (N, 1) targets belong to BCELoss.",
                            where=error.where))
        raise
    lists = _two_lists(got)
    if lists is None:
        return wrong(tr("it returned {type_name}; return two lists, the training losses and the validation "
                        "losses, one number per epoch: return train_losses, val_losses.",
                        type_name=type(got).__name__))
    values, val_values = lists
    if len(values) != LOOP_EPOCHS or len(val_values) != LOOP_EPOCHS:
        return wrong(tr("it returned {n_train} training and {n_val} validation losses for {epochs} epochs: append "
                        "one of each per epoch, after the loop over the batches.",
                        n_train=len(values), n_val=len(val_values), epochs=LOOP_EPOCHS))
    if not all(math.isfinite(v) for v in values + val_values):
        return wrong(tr("the losses are not all finite: {values}.", values=[round(v, 3) for v in values]))
    n, last = len(x), len(x) % LOOP_BATCH or LOOP_BATCH
    reference, reference_val, reference_accuracy = _replay("none")
    if _same(values, reference["sample mean"]):
        if not _same(val_values, reference_val):
            return wrong(tr("your training losses are right, but your validation losses {got} are not the "
                            "reference's {expected}: after each epoch's batches, measure loss_fn(model(X_val), "
                            "y_val).item() in model.eval() mode under torch.no_grad().",
                            got=[round(v, 3) for v in val_values[:3]],
                            expected=[round(v, 3) for v in reference_val[:3]]))
        problem = _best_weights_kept(model, val_values, loaded=bool(loads))
        if problem:
            return wrong(problem)
        best = val_values.index(min(val_values)) + 1
        return correct(tr("on a split the lesson never used ({n} tracts, batches of {batch} and one of {last}), the "
                          "training loss fell from {first:.3f} to {final:.3f} in {epochs} epochs, exactly as the "
                          "reference loop's; the validation loss was lowest in epoch {best} ({val:.3f}), and the "
                          "model ends with that epoch's weights.",
                          n=n, batch=LOOP_BATCH, last=last, first=values[0], final=values[-1], epochs=LOOP_EPOCHS,
                          best=best, val=min(val_values)))
    for kind, message in _reporting(last=last, n=n, batch=LOOP_BATCH).items():
        if _same(values, reference[kind]):
            return wrong(message)
    for mistake, message in (
        ("softmax", tr("the loss stays above the floor log(1 + 2/e) = {floor:.3f}: your loop applies a softmax "
                       "before CrossEntropyLoss, which applies it again. Pass the model's logits to the loss.",
                       floor=floor_for(3))),
        ("no zero_grad", tr("the losses match a loop that never calls optimizer.zero_grad(): each step adds its "
                            "gradients to all the earlier ones. Call optimizer.zero_grad() before loss.backward().")),
    ):
        replayed, _, _ = _replay(mistake)
        if any(_same(values, replayed[kind]) for kind in replayed):
            return wrong(message)
    if all(torch.equal(p, _loop_start()[k]) for k, p in model.state_dict().items()):
        return wrong(tr("the model's weights did not change: call loss.backward() and then optimizer.step() for "
                        "every batch."))
    problem = _best_weights_kept(model, val_values, loaded=bool(loads))
    if problem:
        return wrong(problem)
    best_epoch = val_values.index(min(val_values))
    with eval_mode(model):  # the kept weights are the best epoch's: their training loss, measured whole
        measured = nn.functional.cross_entropy(model(x), y).item()
    if not 1 / 3 < values[best_epoch] / measured < 3:
        return wrong(tr("your loop reports a training loss of {got:.4g} in epoch {epoch}, but the weights of that "
                        "epoch measure {measured:.3f} on the training tracts: the epoch's loss is off by a factor of "
                        "about {factor:.0f}. Add loss.item() * len(x) over the batches (each loss is a mean over its "
                        "batch) and divide by the number of tracts.", got=values[best_epoch], epoch=best_epoch + 1,
                        measured=measured, factor=max(values[best_epoch] / measured, measured / values[best_epoch])))
    accuracy = multiclass_accuracy(predict(model, x_val), y_val)
    if min(values) > LOOP_LEVEL or accuracy < reference_accuracy - LOOP_TOLERANCE:
        return wrong(tr("after {epochs} epochs your loop reports a lowest training loss of {last:.3f}, and the "
                        "model it keeps reaches validation accuracy {accuracy:.3f}; the reference loop reaches "
                        "{reference_last:.3f} and {reference_accuracy:.3f}. Compare your loop with the steps per "
                        "batch in Section 6, and the epoch's loss with its sum of loss.item() * len(x) divided by "
                        "the number of tracts.",
                        epochs=LOOP_EPOCHS, last=min(values), accuracy=accuracy,
                        reference_last=min(reference['sample mean']), reference_accuracy=reference_accuracy))
    return correct(tr("your loop trains differently from the reference (a different optimizer or order?), but it "
                      "works: lowest training loss {last:.3f} (below {level}), and the model it keeps, from its best "
                      "validation epoch, reaches validation accuracy {accuracy:.3f} (the reference's: "
                      "{reference_accuracy:.3f}).",
                      last=min(values), level=LOOP_LEVEL, accuracy=accuracy, reference_accuracy=reference_accuracy))


@checker("Exercise 5 (diagnose this run)")
def exercise_5(make_model_and_optimizer: Callable[[float], tuple[nn.Module, torch.optim.Optimizer]]) -> Verdict:
    """``make_model_and_optimizer(lr)`` -> (a fresh 13-32-16-3 model, an Adam optimizer over ITS parameters)."""
    x, y, _, _ = _band_data()
    torch.manual_seed(UNSEEN_SEED)
    got = student(make_model_and_optimizer, 0.01)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return wrong(tr("it returned {type_name}; return two things, the model and its optimizer: return model, "
                        "optimizer.", type_name=type(got).__name__))
    model, optimizer = got
    if not isinstance(model, nn.Module) or not isinstance(optimizer, torch.optim.Optimizer):
        return wrong(tr("it returned ({first}, {second}); return the model (an nn.Module) first, then the "
                        "optimizer.", first=type(model).__name__, second=type(optimizer).__name__))
    owned = {id(p) for p in model.parameters()}
    updated = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not owned & updated:
        return wrong(tr("the optimizer updates none of this model's weights: it was made from another model's "
                        ".parameters(). That is the classmate's bug: the model they trained is not the one whose "
                        "weights the optimizer was given, so optimizer.step() changes the other model and this one "
                        "never learns. Make the optimizer from model.parameters() after making the model."))
    if owned - updated:
        return wrong(tr("the optimizer holds only {held} of the model's {total} weight tensors: make it from "
                        "model.parameters().", held=len(owned & updated), total=len(owned)))
    device = model_device(model)
    x, y = x.to(device), y.to(device)
    with torch.no_grad():
        out = student(model, x[:5])
    if not isinstance(out, Tensor) or out.shape != (5, 3):
        got_shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        return wrong(tr("5 tracts gave outputs of shape {out_shape}; the model needs 3 logits per tract: (5, 3).",
                        out_shape=got_shape))
    if isinstance(last_layer(model), nn.Softmax):
        return wrong(tr("the model ends in nn.Softmax. CrossEntropyLoss applies softmax itself: end with the "
                        "nn.Linear that outputs the logits."))
    if not isinstance(optimizer, torch.optim.Adam):
        return wrong(tr("the optimizer is {name}, not Adam: the task asks for the lesson's optimizer, "
                        "torch.optim.Adam(model.parameters(), lr=lr).", name=type(optimizer).__name__))
    if optimizer.param_groups[0]["lr"] != 0.01:
        return wrong(tr("the optimizer's learning rate is {got}, but the checker asked for lr={lr}: pass the "
                        "function's argument on, lr=lr.", got=optimizer.param_groups[0]["lr"], lr=0.01))
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    losses = []
    for _ in range(100):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if losses[-1] > LOOP_LEVEL:
        return wrong(tr("your model and optimizer belong together, but 100 full-batch steps take the training loss "
                        "only from {first:.3f} to {last:.3f} (the lesson's model gets below {level}): compare your "
                        "model's layers with the lesson's 13-32-16-3 model.", first=losses[0], last=losses[-1],
                        level=LOOP_LEVEL))
    return correct(tr("the optimizer holds this model's weights: on a split the lesson never used, 100 full-batch "
                      "steps take the training loss from {first:.3f} to {last:.3f}, where the classmate's stayed "
                      "where it started.", first=losses[0], last=losses[-1]))


@checker("Exercise 6 (diagnose this run)")
def exercise_6(fix_targets: Callable[[Tensor], Tensor]) -> Verdict:
    """``fix_targets(y)``: bands numbered 1, 2, 3 (int64, (N,)) -> class indices 0, 1, 2 of the same bands."""
    numbered = torch.tensor([3, 1, 2, 2, 3, 1, 1])
    expected = numbered - 1
    got = student(fix_targets, numbered.clone())
    if not isinstance(got, Tensor):
        return wrong(tr("it returned a {type_name}; return a tensor.", type_name=type(got).__name__))
    if got.shape != expected.shape:
        return wrong(tr("shape {got_shape}: CrossEntropyLoss wants (N,), one class index per tract, as it came in.",
                        got_shape=tuple(got.shape)))
    if got.dtype != torch.int64:
        return wrong(tr("dtype {dtype}: class indices must be int64, as they came in.", dtype=got.dtype))
    if torch.equal(got, expected):
        x, y, _, _ = _band_data()
        torch.manual_seed(UNSEEN_SEED)
        model = boston_band_mlp()
        loss = _train(model, x, student(fix_targets, y + 1), epochs=50)
        return correct(tr("the bands 1, 2, 3 became the class indices 0, 1, 2, in the same order; 50 epochs on a "
                          "split the lesson never used reach training loss {loss:.3f} (it starts near log 3 = "
                          "1.099).", loss=loss))
    shown = tr("{numbered} became {got}, but the same bands as class indices are {expected}",
               numbered=numbered.tolist(), got=got.tolist(), expected=expected.tolist())
    if torch.equal(got, numbered % 3):
        return wrong(tr("{shown}: with % 3, band 3 (high) became 0, the index of the low band, so the model would "
                        "learn to call high tracts low. Subtract 1 from every target: each band keeps its place.",
                        shown=shown))
    if torch.equal(got, numbered.clamp(max=2)):
        return wrong(tr("{shown}: clamping merged bands 2 and 3 into one class and left nothing at 0. Subtract 1 "
                        "from every target.", shown=shown))
    if got.min() < 0 or got.max() > 2:
        return wrong(tr("{shown}: with three logits the class indices run from 0 to 2.", shown=shown))
    return wrong(tr("{shown}: only the numbering changes, not which tracts share a band.", shown=shown))
