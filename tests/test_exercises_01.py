"""The checkers of notebook 01: the solution passes, an untouched scaffold is "not attempted",
and typical wrong answers get their targeted hint."""

from __future__ import annotations

import torch
from torch import nn

from helpers import FEATURES, Standardizer, split_indices
from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG
from helpers.exercises import lesson01 as check


def untouched(*args):
    raise NotImplementedError


def source_model(inputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, 30), nn.ReLU(), nn.Linear(30, 15), nn.ReLU(),
                         nn.Linear(15, 8), nn.ReLU(), nn.Linear(8, 1))


# Exercise 1: standardize with the training statistics


def standardize(train, other):
    mean, std = train.mean(dim=0), train.std(dim=0, unbiased=False)
    return (train - mean) / std, (other - mean) / std


def test_exercise_1_solution_passes():
    feedback = check.exercise_1(standardize)
    assert feedback.status == CORRECT, feedback


def test_exercise_1_untouched_is_not_attempted():
    assert check.exercise_1(untouched).status == NOT_ATTEMPTED
    assert check.exercise_1(None).status == NOT_ATTEMPTED


def test_exercise_1_each_split_scaled_by_itself_gets_the_leak_hint():
    def own_statistics(train, other):
        return tuple((x - x.mean(dim=0)) / x.std(dim=0, unbiased=False) for x in (train, other))

    feedback = check.exercise_1(own_statistics)
    assert feedback.status == WRONG and "TRAINING mean and std" in feedback.message


def test_exercise_1_sample_std_gets_the_unbiased_hint():
    def sample_std(train, other):
        mean, std = train.mean(dim=0), train.std(dim=0)
        return (train - mean) / std, (other - mean) / std

    feedback = check.exercise_1(sample_std)
    assert feedback.status == WRONG and "unbiased=False" in feedback.message


# Exercise 2: the split by hand


def make_split(frame, seed, *, leak=False, flat=False):
    train, val, test = split_indices(len(frame), test_fraction=0.2, val_fraction=0.2, seed=seed)
    scaler = Standardizer.fit(frame[FEATURES] if leak else frame.iloc[train][FEATURES])
    out = []
    for rows in (train, val, test):
        part = frame.iloc[rows]
        y = torch.tensor(part["MEDV"].to_numpy(), dtype=torch.float32)
        out += [scaler.transform(part[FEATURES]), y if flat else y.reshape(-1, 1)]
    return tuple(out)


def test_exercise_2_solution_passes():
    feedback = check.exercise_2(make_split)
    assert feedback.status == CORRECT, feedback


def test_exercise_2_untouched_is_not_attempted():
    assert check.exercise_2(untouched).status == NOT_ATTEMPTED


def test_exercise_2_scaler_fitted_on_all_rows_is_caught():
    feedback = check.exercise_2(lambda frame, seed: make_split(frame, seed, leak=True))
    assert feedback.status == WRONG and "fitted on all rows" in feedback.message


def test_exercise_2_flat_targets_get_the_shape_hint():
    feedback = check.exercise_2(lambda frame, seed: make_split(frame, seed, flat=True))
    assert feedback.status == WRONG and "(N, 1)" in feedback.message


# Exercise 3: drop B


def test_exercise_3_solution_passes_and_reports_both_errors():
    feedback = check.exercise_3([name for name in FEATURES if name != "B"], source_model(12))
    assert feedback.status == CORRECT, feedback
    assert "without B" in feedback.message and "with it" in feedback.message


def test_exercise_3_untouched_is_not_attempted():
    assert check.exercise_3(None, None).status == NOT_ATTEMPTED


def test_exercise_3_thirteen_inputs_get_the_first_layer_hint():
    feedback = check.exercise_3([name for name in FEATURES if name != "B"], source_model(13))
    assert feedback.status == WRONG and "nn.Linear(12, 30)" in feedback.message


def test_exercise_3_b_still_in_the_list():
    feedback = check.exercise_3(list(FEATURES), source_model(12))
    assert feedback.status == WRONG and "still holds 'B'" in feedback.message


# Exercise 4: best epoch and its RMSE


def best_epoch_and_rmse(history):
    row = history.loc[history["val_loss"].idxmin()]
    return int(row["epoch"]), float(row["val_loss"]) ** 0.5


def test_exercise_4_solution_passes():
    feedback = check.exercise_4(best_epoch_and_rmse)
    assert feedback.status == CORRECT, feedback


def test_exercise_4_untouched_is_not_attempted():
    assert check.exercise_4(untouched).status == NOT_ATTEMPTED


def test_exercise_4_typical_mistakes_get_their_hints():
    def row_index(history):
        i = int(history["val_loss"].to_numpy().argmin())
        return i, history["val_loss"].iloc[i] ** 0.5

    def mse_not_rmse(history):
        row = history.loc[history["val_loss"].idxmin()]
        return int(row["epoch"]), float(row["val_loss"])

    def training_loss(history):
        row = history.loc[history["train_loss"].idxmin()]
        return int(row["epoch"]), float(row["val_loss"]) ** 0.5

    assert "row index" in check.exercise_4(row_index).message
    assert "square root" in check.exercise_4(mse_not_rmse).message
    assert "TRAINING loss" in check.exercise_4(training_loss).message


# Exercise 5 (diagnose this run): targets (N,) against predictions (N, 1)


def train(X, y, epochs=300, *, flat=False):
    torch.manual_seed(0)
    model = source_model(13)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    targets = y.view(-1) if flat else y
    for _ in range(epochs):
        loss = nn.functional.mse_loss(model(X), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def test_exercise_5_fixed_run_passes():
    feedback = check.exercise_5("target shape", train)
    assert feedback.status == CORRECT, feedback


def test_exercise_5_untouched_is_not_attempted():
    assert check.exercise_5(None, untouched).status == NOT_ATTEMPTED
    assert check.exercise_5("target shape", untouched).status == NOT_ATTEMPTED


def test_exercise_5_wrong_name_is_refused():
    feedback = check.exercise_5("learning rate", train)
    assert feedback.status == WRONG and "shapes" in feedback.message


def test_exercise_5_unfixed_run_still_shows_the_symptom():
    feedback = check.exercise_5("target shape", lambda X, y: train(X, y, flat=True))
    assert feedback.status == WRONG and "symptom is still there" in feedback.message
