"""helpers.seed and helpers.params."""

import numpy as np
import pytest
import torch
from torch import nn

from helpers import TabularDataset, check_parameters, fit, set_seed
from helpers.seed import seed_worker


def _losses(seed: int) -> list[float]:
    g = set_seed(seed)
    x = torch.randn(64, 3)
    y = x.sum(dim=1, keepdim=True)
    loader = torch.utils.data.DataLoader(TabularDataset(x, y), batch_size=8, shuffle=True, generator=g)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    history = fit(model, loader, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.05), epochs=3, progress=False)
    return history["train_loss"].tolist()


def test_same_seed_gives_identical_losses_and_another_seed_does_not():
    assert _losses(7) == _losses(7)
    assert _losses(7) != _losses(8)


def test_set_seed_returns_generator_and_seeds_numpy():
    g = set_seed(3)
    a = (np.random.rand(), torch.randint(0, 1000, (1,), generator=g).item())
    g = set_seed(3)
    assert a == (np.random.rand(), torch.randint(0, 1000, (1,), generator=g).item())


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        set_seed(bad)


def test_seed_worker_seeds_from_torch():
    torch.manual_seed(11)
    seed_worker(0)
    first = np.random.rand()
    torch.manual_seed(11)
    seed_worker(0)
    assert np.random.rand() == first


def test_check_parameters_returns_device():
    assert check_parameters(epochs=1, lr=1e-3, batch_size=1, seed=0, device="cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"epochs": 0}, "EPOCHS"),
        ({"epochs": 2.5}, "EPOCHS"),
        ({"lr": 0}, "LR"),
        ({"lr": -1e-3}, "LR"),
        ({"lr": float("nan")}, "LR"),
        ({"lr": "0.1"}, "LR"),
        ({"batch_size": 0}, "BATCH_SIZE"),
        ({"seed": -2}, "SEED"),
        ({"device": "gpu"}, "DEVICE"),
    ],
)
def test_check_parameters_rejects_with_one_line(kwargs, name):
    args = {"epochs": 1, "lr": 1e-3, "batch_size": 8, "seed": 0, "device": "cpu"} | kwargs
    with pytest.raises(ValueError) as info:
        check_parameters(**args)
    assert str(info.value).startswith(name)
    assert "\n" not in str(info.value)
