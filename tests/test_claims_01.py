"""Lesson 01's split-dependent claims, measured over 30 splits (SEED 0-29) with the lesson's settings.

The lesson trains the source's network (Adam, lr 0.001, batches of 32, 2000 epochs) with the loop of
its section 7, which ``run`` repeats step for step (same seeding, same order of random draws: at SEED 0
it prints the lesson's numbers, best epoch 171, validation RMSE 3.37 there and 11.06 at epoch 2000),
and compares it with the first baseline, the mean training price guessed for every row. Of what depends
on the split, the page says:

- section 8: "in the 30 splits the course's tests measure, SEED = 0 is the only one where the last
  epoch falls behind the mean price. In all 30, though, the model after 2000 epochs is worse than at
  its own best epoch (a validation RMSE 1.05 to 3.3 times the best one, 1.28 times in the median
  split), and the best epoch itself falls anywhere from epoch 96 to epoch 1877";
- section 10: the best epoch's "test RMSE is 0.27 to 0.53 times the baseline's";
- Going further: "the network's best epoch scores a lower validation RMSE than the line in all 30".

Two claims name one split and are asserted by the lesson's self-check at that SEED instead: at SEED 0
the last epoch misses by more than the mean price; at SEED 20 the raw features reach a lower validation
error in 300 epochs than the standardized ones (4.26 against 4.44 k USD; the sweep of SEED 0-29 found it).

Run by ``make claims``; the counts measured on the course's 2-core CPU are in the comments.
``python -m tests.test_claims_01`` prints the table of the 30 runs.
"""

from __future__ import annotations

import copy
import functools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import pytest
import torch
from torch import nn

from helpers.boston import boston_splits
from helpers.models import boston_regression_mlp
from helpers.seed import set_seed

pytestmark = pytest.mark.claims
SEEDS = range(30)
EPOCHS, LR, BATCH_SIZE = 2000, 0.001, 32


def _rmse(prediction: torch.Tensor, target: torch.Tensor) -> float:
    return ((prediction - target) ** 2).mean().sqrt().item()


def _shuffled(n: int) -> torch.Tensor:
    """The order in which ``DataLoader(..., shuffle=True)`` without a generator serves ``n`` rows in one
    epoch, drawn from the global random state as it draws it (torch 2.2-2.14: the iterator's base seed,
    then the sampler's seed for its own generator). Indexing the tensors with it gives the lesson's
    batches, three to four times faster than the loader's row-by-row collation."""
    torch.empty((), dtype=torch.int64).random_()  # the iterator's base seed (for worker processes)
    seed = int(torch.empty((), dtype=torch.int64).random_().item())
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def run(seed: int, epochs: int = EPOCHS) -> dict[str, float]:
    """The lesson's run at ``seed``: what its page prints about the network and the mean price."""
    set_seed(seed)
    splits = boston_splits("regression", seed=seed)
    mean_price = splits.y_train.mean()
    X, y, n = splits.X_train, splits.y_train, len(splits.X_train)
    _shuffled(n)  # the lesson looks at one batch, next(iter(loader)): one shuffle's draws
    model = boston_regression_mlp(13)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    val_losses, train_losses, best_loss, best_weights = [], [], float("inf"), None
    for _ in range(epochs):
        model.train()
        loss_sum = 0.0
        order = _shuffled(n)
        for start in range(0, n, BATCH_SIZE):
            data, label = X[order[start:start + BATCH_SIZE]], y[order[start:start + BATCH_SIZE]]
            loss = loss_fn(model(data), label)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(data)
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(splits.X_val), splits.y_val).item()
        train_losses.append(loss_sum / n)
        val_losses.append(val_loss)
        if val_loss < best_loss:
            best_loss, best_weights = val_loss, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_weights)
    with torch.no_grad():
        test_rmse = _rmse(model(splits.X_test), splits.y_test)
    ones = torch.ones(len(splits.X_train), 1)
    line = torch.linalg.lstsq(torch.cat([splits.X_train, ones], dim=1), splits.y_train).solution

    def line_rmse(X, y):
        return _rmse(torch.cat([X, torch.ones(len(X), 1)], dim=1) @ line, y)

    return {
        "seed": seed,
        "mean_val_rmse": _rmse(mean_price, splits.y_val),
        "best_epoch": val_losses.index(min(val_losses)) + 1,
        "best_val_rmse": min(val_losses) ** 0.5,
        "last_val_rmse": val_losses[-1] ** 0.5,
        "last_train_rmse": train_losses[-1] ** 0.5,
        "test_rmse": test_rmse,
        "mean_test_rmse": _rmse(mean_price, splits.y_test),
        "line_val_rmse": line_rmse(splits.X_val, splits.y_val),
        "line_test_rmse": line_rmse(splits.X_test, splits.y_test),
    }


def _run_alone(seed: int, epochs: int = EPOCHS) -> dict[str, float]:
    """``run`` in a worker process: one thread, like the lesson after ``setup_notebook``."""
    torch.set_num_threads(1)
    return run(seed, epochs)


@functools.lru_cache(maxsize=1)
def runs(epochs: int = EPOCHS) -> list[dict[str, float]]:
    """The 30 runs, one worker process per core (each about 25 s on a quiet core): 2000 epochs each."""
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(functools.partial(_run_alone, epochs=epochs), SEEDS))


def count(condition) -> int:
    return sum(bool(condition(r)) for r in runs())


def test_only_a_few_splits_end_worse_than_the_mean_price_and_seed_0_is_one():
    worse = [r["seed"] for r in runs() if r["last_val_rmse"] > r["mean_val_rmse"]]
    assert 0 in worse and len(worse) <= 3, worse  # measured: [0]


def test_in_every_split_the_last_epoch_is_worse_than_the_best_and_the_best_epoch_moves_with_the_split():
    assert count(lambda r: r["best_epoch"] < EPOCHS and r["last_val_rmse"] > r["best_val_rmse"]) == len(SEEDS)  # 30
    ratios = sorted(r["last_val_rmse"] / r["best_val_rmse"] for r in runs())
    assert ratios[0] > 1.0 and ratios[-1] > 2.5 and 1.1 < ratios[len(ratios) // 2] < 1.5, ratios  # 1.05, 3.28, 1.28
    epochs = [r["best_epoch"] for r in runs()]
    assert min(epochs) < 200 and max(epochs) > 1500, epochs  # measured 96 and 1877


def test_the_best_epoch_beats_the_mean_price_by_far_on_validation_and_test_rows():
    assert count(lambda r: r["best_val_rmse"] < 0.6 * r["mean_val_rmse"]) == len(SEEDS)  # 30 of 30 (at most 0.47)
    ratios = [r["test_rmse"] / r["mean_test_rmse"] for r in runs()]
    assert 0.2 < min(ratios) and max(ratios) < 0.6, ratios  # measured 0.27 to 0.53


def test_the_best_epoch_beats_least_squares_on_the_validation_rows():
    assert count(lambda r: r["best_val_rmse"] < r["line_val_rmse"]) == len(SEEDS)  # the prose: "in all 30"
    assert count(lambda r: r["line_val_rmse"] < r["mean_val_rmse"]) == len(SEEDS)  # 30 of 30


if __name__ == "__main__":
    import sys

    import pandas as pd

    seeds = range(int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else SEEDS
    torch.set_num_threads(1)
    table = []
    for s in seeds:
        table.append(run(s))
        print(pd.DataFrame(table[-1:]).round(3).to_string(header=len(table) == 1), flush=True)
