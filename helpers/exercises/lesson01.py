"""Checkers for notebook 01 (linear regression on the Boston house prices).

Each ``exercise_N`` runs what the student wrote on cases the notebook never showed (other
numbers, other seeds, a made-up training history) and says what it found.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pandas as pd
import torch
from torch import nn

from helpers.boston import FEATURES, boston_splits, load_boston
from helpers.data import Standardizer, split_indices
from helpers.exercises import Verdict, checker, correct, wrong
from helpers.metrics import rmse
from helpers.models import boston_regression_mlp
from helpers.training import predict, train_one_epoch


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-4) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a.float(), b.float(), atol=tol, rtol=tol))


@checker("Exercise 1")
def exercise_1(standardize: Callable) -> Verdict:
    """``standardize(train (N, F), other (M, F)) -> (train_scaled, other_scaled)``, scaled with train's statistics."""
    gen = torch.Generator().manual_seed(101)
    train = torch.randn(60, 4, generator=gen) * torch.tensor([1.0, 10.0, 100.0, 0.1]) + 5.0
    other = torch.randn(20, 4, generator=gen) * 3.0 + 40.0  # new rows whose own statistics differ
    result = standardize(train.clone(), other.clone())
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return wrong("return two tensors: (train_scaled, other_scaled).")
    got_train, got_other = (torch.as_tensor(t).float() for t in result)
    mean, std = train.mean(dim=0), train.std(dim=0, unbiased=False)
    if _close(got_train, (train - mean) / std) and _close(got_other, (other - mean) / std):
        return correct(f"training columns now have mean {got_train.mean():+.3f} and std "
                       f"{got_train.std(dim=0, unbiased=False).mean():.3f}; the other rows' mean is "
                       f"{got_other.mean():+.1f}, far from 0, as it should be: they were scaled with the training "
                       "numbers.")
    if _close(got_train, (train - mean) / train.std(dim=0)):
        return wrong("almost: torch's x.std() divides by N - 1. Use x.std(dim=0, unbiased=False), "
                     "as Standardizer does.")
    both = torch.cat([train, other])
    if _close(got_other, (other - both.mean(dim=0)) / both.std(dim=0, unbiased=False), 1e-3):
        return wrong("you used the statistics of all rows: the other rows leak into the scaling. "
                     "Compute mean and std from the training rows only.")
    if _close(got_other, (other - other.mean(dim=0)) / other.std(dim=0, unbiased=False), 1e-3):
        return wrong("the other rows were scaled with their own mean and std. Apply the TRAINING "
                     "mean and std to both: the model must see new rows exactly as training prepared them.")
    if _close(got_train, (train - train.mean()) / train.std(unbiased=False), 1e-3):
        return wrong("one mean and one std for the whole table: compute them per column, "
                     "with x.mean(dim=0) and x.std(dim=0, unbiased=False).")
    return wrong("expected (x - mean) / std with the mean and std of each training column "
                 f"(shapes: got {tuple(got_train.shape)} and {tuple(got_other.shape)}).")


@checker("Exercise 2")
def exercise_2(make_split: Callable) -> Verdict:
    """``make_split(frame, seed) -> (X_train, y_train, X_val, y_val, X_test, y_test)``, as ``boston_splits`` does."""
    frame = load_boston()
    for seed in (7, 23):  # seeds the notebook does not use
        got = make_split(frame.copy(), seed)
        if not (isinstance(got, (tuple, list)) and len(got) == 6):
            return wrong("return six tensors: X_train, y_train, X_val, y_val, X_test, y_test.")
        X_train, y_train, X_val, y_val, X_test, y_test = (torch.as_tensor(t) for t in got)
        want = boston_splits("regression", seed=seed)
        if [len(X_train), len(X_val), len(X_test)] != [len(want.X_train), len(want.X_val), len(want.X_test)]:
            return wrong(f"rows per split {len(X_train)}/{len(X_val)}/{len(X_test)}, expected "
                         f"{len(want.X_train)}/{len(want.X_val)}/{len(want.X_test)}. Use split_indices(len(frame), "
                         "test_fraction=0.2, val_fraction=0.2, seed=seed).")
        if y_train.ndim != 2 or y_train.shape[1] != 1:
            return wrong(f"y_train has shape {tuple(y_train.shape)}: targets must be (N, 1) like the "
                         "model's predictions. Reshape with .reshape(-1, 1).")
        if not torch.equal(y_test.float(), want.y_test):
            return wrong("the test rows differ from boston_splits': take the rows in the order "
                         "split_indices returns (train, val, test) and pass seed=seed.")
        train_rows = split_indices(len(frame), test_fraction=0.2, val_fraction=0.2, seed=seed)[0]
        leaky = Standardizer.fit(frame[FEATURES]).transform(frame[FEATURES].iloc[train_rows])
        if _close(X_train.float(), leaky, 1e-3):
            return wrong("the scaler was fitted on all rows, so validation and test rows leak into "
                         "training. Fit it on the training rows only: Standardizer.fit(frame.iloc[train][FEATURES]).")
        if not _close(X_train.float(), want.X_train, 1e-3):
            return wrong("X_train is not the standardized training features: fit a Standardizer on "
                         "the training rows' FEATURES and transform every split with it.")
        if not (_close(X_val.float(), want.X_val, 1e-3) and _close(X_test.float(), want.X_test, 1e-3)):
            return wrong("X_train is right but X_val or X_test is not: transform them with the same "
                         "Standardizer, fitted on the training rows.")
    return correct(f"identical to boston_splits at two new seeds: {len(X_train)}/{len(X_val)}/"
                   f"{len(X_test)} rows, scaled with training statistics only, targets of shape (N, 1).")


def _short_training(model: nn.Module, features: list[str], epochs: int = 200) -> float:
    """Validation RMSE (k USD) of ``model`` after full-batch Adam on the seed-0 split of ``features``."""
    splits = boston_splits("regression", seed=0, columns=features)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        train_one_epoch(model, [(splits.X_train, splits.y_train)], nn.MSELoss(), optimizer)  # one full batch
    return rmse(predict(model, splits.X_val), splits.y_val)


@checker("Exercise 3")
def exercise_3(features_no_b: list[str], model_no_b: nn.Module) -> Verdict:
    """The 12 feature names without ``B`` and the source's model with 12 inputs; trains both variants briefly."""
    expected = [name for name in FEATURES if name != "B"]
    if "B" in features_no_b:
        return wrong("the list still holds 'B'. Try [name for name in FEATURES if name != 'B'].")
    if list(features_no_b) != expected:
        return wrong(f"expected the other 12 columns in FEATURES' order, got {list(features_no_b)}.")
    linears = [m for m in model_no_b.modules() if isinstance(m, nn.Linear)]
    if not linears or linears[0].in_features != 12:
        got = linears[0].in_features if linears else "no nn.Linear"
        return wrong(f"the first layer takes {got} inputs; with B gone there are 12: nn.Linear(12, 30).")
    if [m.out_features for m in linears] != [30, 15, 8, 1] or model_no_b(torch.zeros(3, 12)).shape != (3, 1):
        return wrong("keep the source's layers after the first: 30, 15, 8 and 1 outputs, "
                     "with nn.ReLU() between them.")
    torch.manual_seed(0)
    with_b = _short_training(boston_regression_mlp(13), FEATURES)
    torch.manual_seed(0)
    model_no_b.load_state_dict(boston_regression_mlp(12).state_dict())  # same start for a fair comparison
    without_b = _short_training(model_no_b, expected)
    return correct(f"after 200 full-batch steps at SEED 0, validation RMSE {without_b:.2f} k USD "
                   f"without B and {with_b:.2f} k USD with it. A gap of a few tenths is within run-to-run noise.")


@checker("Exercise 4")
def exercise_4(best_epoch_and_rmse: Callable) -> Verdict:
    """``best_epoch_and_rmse(history) -> (epoch, validation RMSE)`` at the epoch with the lowest ``val_loss``."""
    val_loss = [30.0, 20.0, 12.0, 9.0, 10.0, 11.0, 13.0, 16.0]  # lowest at epoch 4 (index 3)
    train_loss = [40.0, 25.0, 15.0, 10.0, 8.0, 6.0, 5.0, 4.0]   # keeps falling: lowest at the last epoch
    history = pd.DataFrame({"epoch": range(1, 9), "train_loss": train_loss, "val_loss": val_loss})
    result = best_epoch_and_rmse(history.copy())
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return wrong("return two numbers: (epoch, validation RMSE).")
    epoch, value = int(result[0]), float(result[1])
    if epoch == 3:
        return wrong("that is the row index (counted from 0); read the 'epoch' column of that row.")
    if epoch == 8:
        return wrong("that is the epoch with the lowest TRAINING loss (or the last one): "
                     "choose on the 'val_loss' column.")
    if epoch != 4:
        return wrong(f"epoch {epoch}: look for the row where 'val_loss' is smallest (idxmin).")
    if abs(value - 9.0) < 1e-6:
        return wrong("right epoch, but 9.0 is the MSE (k USD squared): the RMSE is its square root.")
    if abs(value - 3.0) > 1e-4:
        return wrong(f"right epoch, but the RMSE {value:.4g} should be the square root of that "
                     "row's val_loss.")
    return correct("on a history you had not seen: epoch 4, validation RMSE 3.0 (square root of 9.0).")


BUGS = ("learning rate", "target shape", "zero_grad", "unscaled inputs")


@checker("Exercise 5")
def exercise_5(bug: str, train_fixed: Callable) -> Verdict:
    """Name the planted bug (one of ``BUGS``), then rerun the student's fixed ``train_fixed(X, y)`` on a new split."""
    if bug not in BUGS:
        return wrong(f"name the bug with one of {BUGS}.")
    if bug != "target shape":
        return wrong(f"not {bug!r}: the symptom is one price for every house. Print the shapes of "
                     "pred and of the targets that go into the loss.")
    splits = boston_splits("regression", seed=5)  # a split the notebook does not use
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = train_fixed(splits.X_train, splits.y_train)
    with torch.no_grad():
        pred = model(splits.X_val)
    if pred.shape != splits.y_val.shape:
        return wrong(f"the model's output has shape {tuple(pred.shape)}, expected "
                     f"{tuple(splits.y_val.shape)}: keep the source's model.")
    spread = pred.std().item() / splits.y_val.std().item()
    mean_rmse = rmse(torch.full_like(splits.y_val, splits.y_train.mean().item()), splits.y_val)
    model_rmse = rmse(pred, splits.y_val)
    broadcast = [w for w in caught if "broadcast" in str(w.message)]
    if broadcast or spread < 0.3:
        return wrong(f"the symptom is still there: the predictions spread only {spread:.0%} as much "
                     "as the prices. The targets must have the predictions' shape (N, 1): use y as it comes, "
                     "or y.view(-1, 1).")
    if model_rmse > 0.7 * mean_rmse:
        return wrong(f"validation RMSE {model_rmse:.2f} k USD is barely better than predicting the mean "
                     f"({mean_rmse:.2f}); keep the drill's learning rate and epochs, change only the bug.")
    return correct(f"rerun on a new split: validation RMSE {model_rmse:.2f} k USD against "
                   f"{mean_rmse:.2f} for predicting the mean, and the predictions now spread like the prices.")
