"""Lesson 05's seed-dependent claims about the CO2 models, measured over 30 seeds (SEED 0-29) with the lesson's
settings (windows of 24 months; train before 1995, validate 1995-2009, test 2010 on; Adam, lr 0.01, batches of 32,
30 epochs; the same seeding as the notebook). The lesson says, of what depends on the seed:

- "Both learned models beat the last value and the value twelve months earlier on the test years, and the GRU on
  levels does worse than the last value" (asserted in every seed's self-check too; here over 30 seeds at once);
- "Between the GRU and the linear model the gap is a few tenths of a ppm at most. Over SEED 0 to 29 the linear
  model was ahead in 26 (the course's tests measured it)": measured 26 of 30 (the GRU
  ahead at SEED 5, 14, 23 and 25), the largest gap 0.236 ppm;
- the GRU on levels falls further behind the record year after year on validation: the mean of the record minus
  the forecast is larger in 2009 than in 1995 (asserted in every seed's self-check too; here over 30 seeds).

The split itself is fixed by the calendar, so only the initial weights and the shuffling vary; like the notebook,
``fit_series`` shuffles with its own seeded generator and the initial weights come from ``torch.manual_seed(seed)``.
The image models are not measured here (two models on 10,000 MNIST images for 30 seeds would cost CI minutes), so
the lesson (in "Going further") makes no count over seeds about them: it says only what each run shows (the CNN
within 4 points of the MLP, its mult-adds two to three times the MLP's), which each seed's self-check asserts.
The drill's "its validation RMSE is about the last value's" is asserted within 5 % by each seed's self-check
(``make seeds``).
Run by ``make claims``.
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers.co2 import load_co2

pytestmark = pytest.mark.claims
SEEDS = range(30)
WINDOW, EPOCHS, LR = 24, 30, 0.01


class SeriesGRU(nn.Module):
    def __init__(self, hidden_size: int = 32):
        super().__init__()
        self.gru = nn.GRU(input_size=1, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.gru(x)
        return self.head(output[:, -1])


def fit_series(model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int) -> nn.Module:
    """The lesson's ``fit_series`` with its ``train`` loop."""
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(seed))
    loss_fn, optimizer = nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=LR)
    for _ in range(EPOCHS):
        model.train()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(x).squeeze(-1)


def rmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    return ((pred - target) ** 2).mean().sqrt().item()


@functools.lru_cache(maxsize=1)
def runs() -> list[dict[str, float]]:
    """One row per seed: the test RMSE of every model the lesson's final table lists."""
    co2 = load_co2()
    ppm = torch.tensor(co2["ppm"].to_numpy(), dtype=torch.float32)
    windows = torch.stack([ppm[i : i + WINDOW] for i in range(len(ppm) - WINDOW)])
    targets = ppm[WINDOW:]
    year = torch.tensor(co2["month"].dt.year.to_numpy()[WINDOW:])
    train, test = year < 1995, year >= 2010
    first, last = year == 1995, year == 2009
    mean, std = targets[train].mean(), targets[train].std()
    level_x, level_y = ((windows - mean) / std).unsqueeze(-1), ((targets - mean) / std).unsqueeze(-1)
    change = targets - windows[:, -1]
    scale = change[train].std()
    change_x, change_y = ((windows - windows[:, -1:]) / scale).unsqueeze(-1), (change / scale).unsqueeze(-1)
    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng():
            for seed in SEEDS:
                row = {"last": rmse(windows[test, -1], targets[test]),
                       "year_ago": rmse(windows[test, -12], targets[test])}
                torch.manual_seed(seed)
                levels = fit_series(SeriesGRU(), level_x[train], level_y[train], seed)
                level_pred = predict(levels, level_x) * std + mean
                row["gru_levels"] = rmse(level_pred[test], targets[test])
                row["lag_first"] = (targets - level_pred)[first].mean().item()
                row["lag_last"] = (targets - level_pred)[last].mean().item()
                makers = {"gru_changes": SeriesGRU,
                          "linear_changes": lambda: nn.Sequential(nn.Flatten(), nn.Linear(WINDOW, 1))}
                for name, make_model in makers.items():
                    torch.manual_seed(seed)
                    model = fit_series(make_model(), change_x[train], change_y[train], seed)
                    row[name] = rmse(windows[test, -1] + predict(model, change_x[test]) * scale, targets[test])
                rows.append(row)
    finally:
        torch.set_num_threads(threads)
    return rows


def test_both_learned_models_beat_both_baselines_and_the_level_gru_does_not_in_every_seed():
    rows = runs()
    beaten = sum(max(r["gru_changes"], r["linear_changes"]) < min(r["last"], r["year_ago"]) for r in rows)
    failed = sum(r["gru_levels"] > r["last"] for r in rows)
    assert (beaten, failed) == (len(rows), len(rows)), rows


def test_the_linear_model_is_ahead_of_the_gru_in_most_seeds_and_the_gap_stays_small():
    rows = runs()
    linear_ahead = sum(r["linear_changes"] < r["gru_changes"] for r in rows)
    assert linear_ahead == 26, f"the linear model was ahead in {linear_ahead} of {len(rows)} seeds; the page says 26"
    assert max(abs(r["gru_changes"] - r["linear_changes"]) for r in rows) < 0.3, "not 'a few tenths of a ppm at most'"


def test_the_level_gru_falls_further_behind_on_validation_in_every_seed():
    rows = runs()
    grew = sum(r["lag_last"] > r["lag_first"] > -1 for r in rows)
    assert grew == len(rows), [(r["lag_first"], r["lag_last"]) for r in rows]
