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
from torch.utils.data import DataLoader, TensorDataset

from helpers import notebook
from helpers.boston import boston_splits
from helpers.data import TensorBatches
from helpers.exercises import NotAttempted, Verdict, checker, correct, library_calls, student, wrong
from helpers.i18n import tr
from helpers.models import boston_binary_mlp, last_layer
from helpers.training import eval_mode, evaluate, train_one_epoch

#: The settings cell's values (SEED and DEVICE aside) that the self-check's claims are about;
#: tests/test_lessons.py keeps them equal to the notebook's.
DEFAULTS: dict[str, object] = {"EPOCHS": 150, "LR": 0.001, "BATCH_SIZE": 32, "VAL_FRACTION": 0.2}


def claims_apply() -> bool:
    """Whether the self-check's claims apply to this run: the settings are ``DEFAULTS`` (any SEED).
    Else prints which settings differ."""
    return notebook.claims_apply(DEFAULTS)

#: Splits of the checkers' own: the notebook splits with ``val_fraction=0.2`` and its own SEED.
_LOOP_SPLIT = {"seed": 2024, "val_fraction": 0.3}
_DRILL_SPLIT = {"seed": 2025, "val_fraction": 0.25}
#: Exercise 4: the accuracy the student's loop reports may differ from the reference by this much.
ACCURACY_TOLERANCE = 0.001


def _skewed(n: int, seed: int) -> torch.Tensor:
    """n random prices in thousands of dollars, float32 (n,), skewed like MEDV: many cheap tracts and a
    few dear ones, so that the mean (about 16) lies well above the median (about 11)."""
    return 5 + 45 * torch.rand(n, generator=torch.Generator().manual_seed(seed)) ** 3


@checker("Exercise 1")
def exercise_1(make_labels: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """``make_labels(train_prices (N_train,), prices (N,)) -> float32 (N, 1)``: 1.0 above the training median.
    The prices are skewed (the mean is not the median), and one of them equals the training median
    (which is "not above": ``>=`` gets it wrong)."""
    train_prices = _skewed(41, 1)  # an odd count: the median is one of the prices
    median = train_prices.median()
    prices = torch.cat([_skewed(29, 2) + 3, median.reshape(1)])  # shifted: their own median is another one
    labels = student(make_labels, train_prices.clone(), prices.clone())
    if not isinstance(labels, torch.Tensor):
        return wrong(tr("return a torch tensor, not {type_name}.", type_name=type(labels).__name__))
    expected = (prices > train_prices.median()).float().reshape(-1, 1)
    if labels.numel() != expected.numel():
        return wrong(tr("{numel} labels for {n_prices} prices: return one label per price.",
                        numel=labels.numel(), n_prices=len(prices)))
    if labels.shape != expected.shape:
        return wrong(tr("the labels have shape {labels_shape}; they need (N, 1), the shape of the model's output, "
                        "or BCELoss refuses them. Try .reshape(-1, 1).", labels_shape=tuple(labels.shape)))
    if labels.dtype != torch.float32:
        return wrong(tr("the labels are {dtype}; BCELoss reads them as probabilities, so they must be float32 "
                        "0.0/1.0. Add .float().", dtype=labels.dtype))
    if torch.equal(labels, (prices > prices.median()).float().reshape(-1, 1)):
        return wrong(tr("you cut at the median of the rows you are labelling. Cut at the median of the TRAINING "
                        "prices, so that validation and test rows do not shape the question."))
    if torch.equal(labels, 1 - expected):
        return wrong(tr("your labels are flipped: 1.0 must mean above the training median."))
    mean = train_prices.mean()
    if torch.equal(labels, (prices > mean).float().reshape(-1, 1)) or torch.equal(
            labels, (prices >= mean).float().reshape(-1, 1)):
        return wrong(tr("you cut at the mean of the training prices ({mean:.1f}); the question is about their "
                        "median ({median:.1f}). Prices are skewed: a few dear tracts pull the mean up, so the two "
                        "cuts label {differ} of these {n_prices} prices differently.", mean=mean.item(),
                        median=median.item(), differ=int((expected != (prices > mean).float().reshape(-1, 1)).sum()),
                        n_prices=len(prices)))
    if torch.equal(labels, (prices >= median).float().reshape(-1, 1)):
        return wrong(tr("a price equal to the training median ({median:.2f}) got 1.0: a price AT the median is not "
                        "above it. Use >, not >=.", median=median.item()))
    if not torch.equal(labels, expected):
        differ = int((labels != expected).sum())
        return wrong(tr("{differ} of {n_prices} labels differ from (price > median of train_prices).",
                        differ=differ, n_prices=len(prices)))
    return correct(tr("right on {n_prices} unseen prices ({n_above} above the training median).",
                      n_prices=len(prices), n_above=int(expected.sum())))


#: The library functions that nn.BCELoss, nn.BCEWithLogitsLoss, nn.Softplus and nn.LogSigmoid call:
#: exercises 2 and 3 ask for the loss written by hand, so a call to one of them is (part of) the library's
#: answer, not the student's.
_LIBRARY_LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits", "softplus", "logsigmoid")


def _not_one_number(value: Any) -> str | None:
    """Why ``value`` is not the loss as a one-element tensor (the message), or ``None`` when it is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return tr("you returned a Python {type_name}, not a tensor: .item() (or float()) turned the loss into a "
                  "plain number, which loss.backward() cannot use. Drop it and return the one-element tensor.",
                  type_name=type(value).__name__)
    shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
    return tr("return ONE number (a tensor with one element), got {shape}: take the .mean() over rows.", shape=shape)


@checker("Exercise 2")
def exercise_2(bce: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Verdict:
    """``bce(probs (N, 1), targets (N, 1)) -> scalar``: binary cross-entropy by hand, averaged over rows."""
    gen = torch.Generator().manual_seed(3)
    probs = 0.02 + 0.96 * torch.rand(50, 1, generator=gen)
    targets = (torch.rand(50, 1, generator=gen) > 0.5).float()
    with library_calls(*_LIBRARY_LOSSES) as calls:
        value = student(bce, probs.clone(), targets.clone())
    if calls:
        return wrong(tr("it calls nn.BCELoss (or F.binary_cross_entropy), the loss this exercise asks you to write by "
                        "hand: build it from torch.log, the targets and .mean()."))
    if (why := _not_one_number(value)) is not None:
        return wrong(why)
    got, expected = value.item(), nn.BCELoss()(probs, targets).item()
    rows = -(targets * probs.log() + (1 - targets) * (1 - probs).log())
    if abs(got - expected) < 1e-5:
        return correct(tr("{got:.5f} on 50 unseen rows, the same as nn.BCELoss ({expected:.5f}).",
                          got=got, expected=expected))
    if abs(got + expected) < 1e-5:
        return wrong(tr("the sign is wrong: log p is negative, so the loss needs a minus sign in front."))
    if abs(got - rows.sum().item()) < 1e-3:
        return wrong(tr("you summed over the rows; nn.BCELoss averages them: use .mean()."))
    if abs(got - (-(targets * probs.log())).mean().item()) < 1e-5:
        return wrong(tr("only the y log p term is there: add (1 - y) log(1 - p), which scores the tracts below."))
    if abs(got - (-(targets * (1 - probs).log() + (1 - targets) * probs.log())).mean().item()) < 1e-5:
        return wrong(tr("p and 1 - p are swapped: a row labelled 1 is scored by log p, a row labelled 0 by log(1 - "
                        "p)."))
    return wrong(tr("your loss is {got:.5f}, nn.BCELoss gives {expected:.5f} on the same 50 rows. Check the formula "
                    "-[y log p + (1 - y) log(1 - p)], averaged over rows.", got=got, expected=expected))


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
    with library_calls(*_LIBRARY_LOSSES) as calls:
        loss = student(bce_with_logits, z, targets.clone())
    if calls:
        return wrong(tr("it calls {name} from the library, which computes (part of) the loss for you: this exercise "
                        "asks for it by hand, with torch.exp, torch.log1p and the tools of hint 2.", name=calls[0]))
    if (why := _not_one_number(loss)) is not None:
        return wrong(why)
    failure = _first_failure(bce_with_logits)
    if failure is not None:
        at, y, got, exact = failure
        where = tr("at logit z = {at:g} with label y = {y:g} your loss is {got:.4g} (exact: {exact:.4g})",
                   at=at, y=y, got=got, exact=exact)
        if abs(at) <= 10:
            return wrong(tr("{where}, already for a small logit: check the formula, -[y log p + (1 - y) log(1 - p)] "
                            "with p = sigmoid(z), averaged over rows.", where=where))
        if not math.isfinite(got) and abs(at) < _EXP_OVERFLOWS_FROM:
            return wrong(tr("{where}: sigmoid(z) rounds to exactly 1.0 in float32 (from z = 17 or so), so log(1 - "
                            "sigmoid(z)) is log 0 = -inf. A loss that computes sigmoid(z) first breaks here: hint 1 "
                            "shows how to write it without a sigmoid.", where=where))
        if not math.isfinite(got):
            return wrong(tr("{where}: exp({at:g}) overflowed. In float32, exp(x) is inf once x passes about "
                            "{overflow_from:.1f} (the largest float32 is about 3.4e38). Hint 1 asks which exponential "
                            "can never overflow.", where=where, at=abs(at), overflow_from=_EXP_OVERFLOWS_FROM))
        return wrong(tr("{where}: right for small logits but not for large ones. A clamp (such as probabilities "
                        "clipped to [1e-7, 1 - 1e-7]) caps the loss of a confident mistake: never compute "
                        "sigmoid(z) first.", where=where))
    expected = nn.BCEWithLogitsLoss()(z.detach(), targets).item()
    if abs(loss.item() - expected) > 1e-4 * max(1.0, expected):
        return wrong(tr("each row is right, but over all {n_z} rows your loss is {loss:.4f} instead of "
                        "{expected:.4f}: average the rows with .mean().",
                        n_z=len(z), loss=loss.item(), expected=expected))
    if not loss.requires_grad:
        return wrong(tr("the loss has no gradient: compute it with torch operations on z (no .detach(), no .item(), "
                        "no numpy)."))
    loss.backward()
    grad = (torch.sigmoid(z.detach()) - targets) / len(z)
    if z.grad is None or not torch.allclose(z.grad, grad, atol=1e-6):
        return wrong(tr("the loss is right but its gradient is not (sigmoid(z) - y) / N: part of the loss is cut off "
                        "from z. Look for a .detach() (or .item(), numpy, torch.tensor(...)) on the way from z to "
                        "the loss; torch.clamp, .abs() and the other torch operations keep the gradient."))
    return correct(tr("exact at logits from -100 to 100 ({expected:.3f} on {n_z} rows), gradient too.",
                      expected=expected, n_z=len(z)))


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
    loader = DataLoader(TensorDataset(x, y), batch_size=25)
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
        return wrong(tr("your loop never called the model: for each (x, y) batch of the loader, compute model(x)."))
    got = _as_number(value)
    if any(training for training, _ in seen):
        shown = (tr(" Your loop reported {got:.4f}; in evaluation mode it is {reference:.4f}.", got=got,
                    reference=reference) if got is not None else "")
        return wrong(tr("the model ran in training mode: its Dropout layer silenced random neurons, so the accuracy "
                        "changes from run to run.{shown} Call model.eval() before the loop.", shown=shown))
    if any(grad for _, grad in seen):
        return wrong(tr("the model ran with gradients recorded: wrap the loop in `with torch.no_grad():`. Measuring "
                        "needs no backpropagation, and recording it for every batch costs memory and time."))
    if got is None:
        return wrong(tr("return the accuracy as one number (a float between 0 and 1), not {type_name}.",
                        type_name=type(value).__name__))
    if abs(got - reference) <= ACCURACY_TOLERANCE:
        return correct(tr("accuracy {got:.4f} on {n_y} rows of a split the lesson never used (reference "
                          "{reference:.4f}, tolerance {tolerance}), in evaluation mode, without gradients.",
                          got=got, n_y=len(y), reference=reference, tolerance=ACCURACY_TOLERANCE))

    def close(candidate: float) -> bool:
        return abs(got - candidate) <= ACCURACY_TOLERANCE and abs(candidate - reference) > ACCURACY_TOLERANCE

    sizes = [len(batch) for _, batch in loader]
    per_batch = [((decided[i : i + n] == y[i : i + n]).float().mean().item(), n)
                 for i, n in zip(range(0, len(y), 25), sizes, strict=True)]
    if close(sum(a for a, _ in per_batch) / len(per_batch)):
        return wrong(tr("you averaged the per-batch accuracies, but the batches hold {sizes} rows: the last batch "
                        "of {last_size} counted as much as a full one. Count right answers and rows over all "
                        "batches, then divide once.", sizes=sizes, last_size=sizes[-1]))
    if close(per_batch[-1][0]):
        return wrong(tr("that is the last batch's accuracy alone: add up the right answers of every batch."))
    if close(100 * reference):
        return wrong(tr("{got:.2f} is a percentage: return a fraction between 0 and 1.", got=got))
    if close(((logits > 0.5).float() == y).float().mean().item()):
        return wrong(tr("you compared the logits with 0.5, as if they were probabilities. This model outputs "
                        "logits: a logit above 0 means a probability above 0.5 (or apply torch.sigmoid first)."))
    if close((y == 1).float().mean().item()) or close((y == 0).float().mean().item()):
        if close((y == 1).float().mean().item()):
            return wrong(tr("your loop called every row 'above': the accuracy equals the share of rows that are "
                            "above. Your decision is always true, as torch.sigmoid(logits) > 0 is (a probability is "
                            "never negative). 'Above' is a logit above 0: use logits > 0."))
        return wrong(tr("your loop called every row 'below': the accuracy equals the share of rows that are "
                        "below. Your decision is never true: an argmax over the logits' one column (always 0), "
                        "or a threshold no output reaches, does this. 'Above' is a logit above 0: use logits > 0."))
    starts = range(0, len(y), 25)
    table_sum = sum((decided[i : i + n].reshape(-1) == y[i : i + n]).float().sum().item()
                    for i, n in zip(starts, sizes, strict=True))
    table_mean = sum((decided[i : i + n].reshape(-1) == y[i : i + n]).float().mean().item() * n
                     for i, n in zip(starts, sizes, strict=True))
    if got > 1 + ACCURACY_TOLERANCE or close(table_sum / len(y)) or close(table_mean / len(y)):
        return wrong(tr("{got:.4f} is not a share of rows: decisions of shape (B,) compared with targets of shape "
                        "(B, 1) broadcast into a (B, B) table of comparisons. Give both the same shape, e.g. (B, 1).",
                        got=got))
    return wrong(tr("your loop reports {got:.4f}; the reference evaluation gives {reference:.4f} on the same {n_y} "
                    "rows (tolerance {tolerance}). Decide 'above' where the logit is above 0, compare with y, count "
                    "right answers and rows over all batches, and divide once.",
                    got=got, reference=reference, n_y=len(y), tolerance=ACCURACY_TOLERANCE))


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
        return wrong(tr("return the threshold as one number, such as 0.65."))
    grid = [round(0.05 * k, 2) for k in range(1, 20)]
    costs = {t: _cost(probs, targets, t, 3, 1) for t in grid}
    best = min(costs, key=costs.get)
    mine = _cost(probs, targets, threshold, 3, 1)
    if mine <= costs[best]:
        return correct(tr("threshold {threshold:.2f} costs {mine:.0f} on 300 unseen rows, the lowest of the grid.",
                          threshold=threshold, mine=mine))
    reversed_best = min(grid, key=lambda t: _cost(probs, targets, t, 1, 3))
    if abs(threshold - reversed_best) < 1e-6:
        return wrong(tr("{threshold:.2f} is the cheapest when a miss costs 3 and a false alarm 1: the costs are "
                        "swapped. Here a false alarm (said above, truly below) costs 3 and a miss (truly above, said "
                        "below) costs 1: cost = 3 * false alarms + misses.", threshold=threshold))
    if abs(threshold - 0.5) < 1e-6:
        return wrong(tr("0.5 is the accuracy choice; it costs {mine:.0f}, while {best:.2f} costs {best_cost:.0f}. "
                        "Costly false alarms call for a higher threshold.",
                        mine=mine, best=best, best_cost=costs[best]))
    return wrong(tr("threshold {threshold:.2f} costs {mine:.0f} (3 * false alarms + misses) on 300 unseen rows; "
                    "the best of 0.05 ... 0.95 costs {best_cost:.0f}. Try every threshold and keep the cheapest.",
                    threshold=threshold, mine=mine, best_cost=costs[best]))


def _drill_hints() -> dict[str, str]:
    """Why each wrong letter of the drill is not the bug (in the active language)."""
    return {
        "a": tr("the final model trained with the same learning rate (LR) for the same 40 epochs and reached a far "
                "lower loss."),
        "b": tr("nn.BCEWithLogitsLoss takes logits, any real numbers, and applies the sigmoid itself (section 5): "
                "the final model has no nn.Sigmoid either, and it trains well."),
        "d": tr("boston_splits standardized the inputs (the same X_train the final model trained on)."),
    }


def _floor(targets: torch.Tensor) -> float:
    """The lowest BCEWithLogitsLoss a model whose outputs are never negative can reach on ``targets`` (N, 1):
    a row labelled 1 costs nothing at a huge logit, a row labelled 0 costs log 2 at its best logit, 0."""
    return (1 - targets).mean().item() * math.log(2)


@checker("Exercise 6")
def exercise_6(bug: str, fixed_model: Callable[[], nn.Module]) -> Verdict:
    """The drill: name the bug (a letter) and fix the model; the fixed model is trained with
    ``nn.BCEWithLogitsLoss`` for 40 epochs on a split of the checker's own, and its training loss must end
    below the buggy model's lowest possible loss."""
    letter = str(bug).strip().lower()
    if letter in _drill_hints():
        return wrong(tr("not {letter}: {hint}", letter=letter, hint=_drill_hints()[letter]))
    if letter != "c":
        return wrong(tr("answer with one letter, a to d (got {bug!r}).", bug=bug))
    if isinstance(fixed_model, nn.Module) or not callable(fixed_model):
        return wrong(tr("pass a function that returns the model (def fixed_model(): return nn.Sequential(...)), "
                        "not {type_name}: the checker calls it to build a fresh, untrained model.",
                        type_name=type(fixed_model).__name__))
    torch.manual_seed(_DRILL_SPLIT["seed"])  # on the forked RNG: the session's own is restored after
    try:
        model = student(fixed_model)
    except NotAttempted:  # the letter is answered, the fix not yet
        return wrong(tr("c is the right letter. The fix is still to do: fixed_model() still raises "
                        "NotImplementedError; write it to return the drill's model, fixed."))
    if not isinstance(model, nn.Module):
        return wrong(tr("fixed_model() must return an nn.Module (e.g. an nn.Sequential), not {type_name}.",
                        type_name=type(model).__name__))
    last = last_layer(model)
    if isinstance(last, nn.Sigmoid):
        return wrong(tr("the model now ends in nn.Sigmoid, and nn.BCEWithLogitsLoss applies the sigmoid again: "
                        "its outputs pass through two sigmoids. End the model with the last nn.Linear, which "
                        "outputs the logit."))
    if isinstance(last, (nn.ReLU, nn.Softplus, nn.ReLU6)):
        return wrong(tr("the model still ends in {layer}: its outputs can never be negative, so it can never say "
                        "'below' with confidence. End the model with the last nn.Linear.",
                        layer=type(last).__name__))
    if isinstance(last, (nn.Tanh, nn.Hardtanh, nn.Softsign)):
        return wrong(tr("the model now ends in {layer}: its outputs can be negative, but they stay between -1 and 1, "
                        "so the logit can never be large and the model can never be confident. End the model with "
                        "the last nn.Linear.", layer=type(last).__name__))
    splits = boston_splits("binary", **_DRILL_SPLIT)
    floor = _floor(splits.y_train)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = TensorBatches(splits.X_train, splits.y_train, 32, seed=_DRILL_SPLIT["seed"])
    try:
        for _ in range(40):
            train_one_epoch(model, batches, loss_fn, optimizer)
        train_loss = evaluate(model, [(splits.X_train, splits.y_train)], loss_fn)["loss"]
    except (RuntimeError, ValueError) as error:  # raised inside torch by the student's model
        return wrong(tr("training your fixed model failed: {error_line}. The model takes (N, 13) features and "
                        "returns (N, 1).", error_line=str(error).splitlines()[0]))
    if train_loss >= floor:
        return wrong(tr("after 40 epochs the training loss is {train_loss:.3f}, still above {floor:.3f}, the "
                        "lowest loss the colleague's model could reach: look again at the last layer.",
                        train_loss=train_loss, floor=floor))
    return correct(tr("bug c. Retrained on a new split: training loss {train_loss:.3f} after 40 epochs, below "
                      "{floor:.3f}, the lowest loss a model with outputs of 0 or more could reach (log 2 on each "
                      "row labelled 0).", train_loss=train_loss, floor=floor))
