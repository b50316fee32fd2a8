"""Lesson 03's split-dependent claims, measured over 30 splits (SEED 0-29) with the lesson's settings.

``lesson_run`` repeats the lesson's cells in order, with the same calls on torch's random numbers
(the seed, the model, the batch the lesson peeks at, the epoch it counts, both trainings), so each
row is what the lesson prints for that SEED. The lesson says, of what depends on the split (each
"change `SEED` and rerun to see it"):

- "The default split, SEED = 0, gives 0.455, high ...; other splits give as little as 0.23";
- the validation loss "reaches its lowest point early and then climbs ..., for any SEED from 0 to 29";
- "the trained model beats the majority baseline by far, by at least 0.25 for any SEED from 0 to 29";
- "Most of the model's mistakes are between neighbouring bands, on this split and on the others";
- the extra model's "mean confidence is far above its own accuracy ... and above the correct model's,
  here and for any SEED from 0 to 29";
- "its NLL is higher than the correct model's, on all 30 splits (SEED 0 to 29)";
- "With SEED = 0 (on the CPU) the extra model gets 7 fewer of the 101 test tracts right ...; over SEED 0
  to 29 the extra model is lower on about half the splits and as high or higher on the others", and the
  recap's "accuracy moves both ways, lower on this split, equal or higher on others" (the self-check also
  asserts the two accuracies stay within 0.08 of each other, as measured here).

Run by ``make claims``; the counts measured on the course's 2-core CPU are in the comments.
``python -m tests.test_claims_03`` prints the table.
"""

from __future__ import annotations

import copy
import functools
import math

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers.boston import boston_splits
from helpers.seed import set_seed

pytestmark = pytest.mark.claims
SEEDS = range(30)
EPOCHS, LR, BATCH_SIZE = 80, 0.01, 100
CPU = torch.device("cpu")


def train(model: nn.Module, train_loader: DataLoader, X_val: torch.Tensor, y_val: torch.Tensor,
          epochs: int, lr: float, device: torch.device) -> pd.DataFrame:
    """The lesson's ``train`` (Section 6), line for line."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    X_val, y_val = X_val.to(device), y_val.to(device)
    rows, best_loss, best_weights = [], math.inf, None
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum, count = 0.0, 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(x)
            count += len(x)
        model.eval()
        with torch.no_grad():
            val_logits = model(X_val)
            val_loss = loss_fn(val_logits, y_val).item()
            val_accuracy = (val_logits.argmax(dim=1) == y_val).float().mean().item()
        rows.append({"epoch": epoch, "train_loss": loss_sum / count, "val_loss": val_loss,
                     "val_accuracy": val_accuracy})
        if val_loss < best_loss:
            best_loss, best_weights = val_loss, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_weights)
    return pd.DataFrame(rows)


def band_mlp(*, extra_softmax: bool = False) -> nn.Sequential:
    layers = [nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3)]
    return nn.Sequential(*layers, *([nn.Softmax(dim=1)] if extra_softmax else []))


def lesson_run(seed: int) -> dict[str, float]:
    """What the lesson prints for ``SEED = seed`` (on the CPU)."""
    set_seed(seed)
    splits = boston_splits("bands", val_fraction=0.2, seed=seed)
    X_train, y_train, X_val, y_val = splits.X_train, splits.y_train, splits.X_val, splits.y_val
    X_test, y_test = splits.X_test, splits.y_test
    majority = torch.bincount(y_train, minlength=3).argmax()
    baseline = (y_test == majority).float().mean().item()
    model = band_mlp()
    start_weights = copy.deepcopy(model.state_dict())
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH_SIZE, shuffle=True)
    next(iter(train_loader))                       # the batch Section 5 looks at
    [len(y) for x, y in train_loader]              # the batch sizes it prints
    history = train(model, train_loader, X_val, y_val, epochs=EPOCHS, lr=LR, device=CPU)
    model.eval()
    with torch.no_grad():
        test_logits = model(X_test)
    test_pred = test_logits.argmax(dim=1)
    extra_model = band_mlp(extra_softmax=True)
    extra_model.load_state_dict(start_weights)
    train(extra_model, train_loader, X_val, y_val, epochs=EPOCHS, lr=LR, device=CPU)
    extra_model.eval()
    with torch.no_grad():
        extra_probs, extra_logits = extra_model(X_test), extra_model[:-1](X_test)
    loss_fn = nn.CrossEntropyLoss()
    matrix = torch.bincount(y_test * 3 + test_pred, minlength=9).reshape(3, 3).tolist()
    return {
        "baseline": baseline,
        "climbs": bool(history["val_loss"].iloc[-1] > 1.2 * history["val_loss"].min()),
        "accuracy": (test_pred == y_test).float().mean().item(),
        "right": (test_pred == y_test).sum().item(),
        "extra_right": (extra_probs.argmax(dim=1) == y_test).sum().item(),
        "extra_accuracy": (extra_probs.argmax(dim=1) == y_test).float().mean().item(),
        "nll": loss_fn(test_logits, y_test).item(),
        "extra_nll": loss_fn(extra_logits, y_test).item(),
        "confidence": torch.softmax(test_logits, dim=1).max(dim=1).values.mean().item(),
        "extra_confidence": extra_probs.max(dim=1).values.mean().item(),
        "neighbour_mistakes": sum(matrix[t][p] for t in range(3) for p in range(3) if abs(t - p) == 1),
        "far_mistakes": matrix[0][2] + matrix[2][0],
    }


@functools.lru_cache(maxsize=1)
def runs() -> list[dict[str, float]]:
    """One row per seed."""
    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng():
            rows = [lesson_run(seed) for seed in SEEDS]
    finally:
        torch.set_num_threads(threads)
    return rows


def count(condition) -> int:
    return sum(bool(condition(r)) for r in runs())


def test_the_majority_baseline_is_not_a_third_and_varies_between_splits():
    baselines = [r["baseline"] for r in runs()]
    assert 0.225 <= min(baselines) and max(baselines) <= 0.46, (min(baselines), max(baselines))  # 0.228, 0.455
    assert baselines[0] == max(baselines) and round(baselines[0], 3) == 0.455, baselines[0]  # SEED 0: the top


def test_the_model_beats_the_majority_baseline_in_every_split():
    assert min(r["accuracy"] - r["baseline"] for r in runs()) >= 0.25  # measured 0.307


def test_in_every_split_the_validation_loss_climbs_after_its_lowest_point():
    assert count(lambda r: r["climbs"]) == len(SEEDS)  # 30 of 30


def test_most_mistakes_are_between_neighbouring_bands_in_every_split():
    assert count(lambda r: r["neighbour_mistakes"] > r["far_mistakes"]) == len(SEEDS)  # 30 of 30


def test_in_every_split_the_extra_softmax_is_more_confident_than_accurate_and_than_the_correct_model():
    assert count(lambda r: r["extra_confidence"] > r["extra_accuracy"] + 0.05) == len(SEEDS)  # 30 of 30
    assert count(lambda r: r["extra_confidence"] > r["confidence"]) == len(SEEDS)  # 30 of 30


def test_in_every_split_the_extra_softmax_has_the_higher_nll():
    assert count(lambda r: r["extra_nll"] > r["nll"]) == len(SEEDS)  # 30 of 30


def test_accuracies_are_at_most_8_points_apart_and_the_extra_softmax_moves_accuracy_both_ways():
    assert count(lambda r: abs(r["extra_accuracy"] - r["accuracy"]) <= 0.08) == len(SEEDS)  # 30 of 30
    gaps = [r["right"] - r["extra_right"] for r in runs()]
    assert (runs()[0]["right"], runs()[0]["extra_right"]) == (82, 75), runs()[0]  # SEED 0: 7 fewer of 101
    assert gaps[0] == max(gaps) and gaps.count(gaps[0]) == 4, gaps  # the largest gap of the 30, shared by 4
    as_high = count(lambda r: r["extra_accuracy"] >= r["accuracy"])
    assert 0.3 * len(SEEDS) <= as_high <= 0.7 * len(SEEDS), f"{as_high} of {len(SEEDS)}"  # "about half": 14 of 30
    higher = count(lambda r: r["extra_accuracy"] > r["accuracy"])
    lower = count(lambda r: r["extra_accuracy"] < r["accuracy"])
    assert higher >= 0.15 * len(SEEDS) and lower >= 0.15 * len(SEEDS), (higher, lower)  # "both ways": 11 and 16 of 30


if __name__ == "__main__":
    table = pd.DataFrame(runs(), index=list(SEEDS))
    print(table.round(3).to_string())
    print("baseline", table["baseline"].min(), table["baseline"].max(), "| beats by",
          (table["accuracy"] - table["baseline"]).min(), "| climbs", table["climbs"].sum(),
          "| neighbours", (table["neighbour_mistakes"] > table["far_mistakes"]).sum(),
          "| conf", (table["extra_confidence"] > table["extra_accuracy"] + 0.05).sum(),
          (table["extra_confidence"] > table["confidence"]).sum(), "| nll", (table["extra_nll"] > table["nll"]).sum(),
          "| apart", ((table["extra_accuracy"] - table["accuracy"]).abs() <= 0.08).sum(),
          (table["extra_accuracy"] - table["accuracy"]).abs().max(),
          "| as high", (table["extra_accuracy"] >= table["accuracy"]).sum())
