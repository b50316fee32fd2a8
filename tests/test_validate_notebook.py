"""helpers.validate, helpers.notebook.setup_notebook and helpers.seed: the notebooks' setup call."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers.notebook import setup_notebook
from helpers.seed import set_seed
from helpers.validate import (
    boolean,
    fraction,
    fraction_or_zero,
    non_negative_int,
    optional_folder,
    positive_int,
    positive_number,
    text,
)

CASES = [
    (positive_int, [1, 500], [0, -3, 2.0, True, "5", None]),
    (non_negative_int, [0, 7], [-1, 1.5, False, "0"]),
    (positive_number, [1e-3, 2], [0, -0.1, float("nan"), float("inf"), True, "0.1"]),
    (fraction, [0.2, 0.5], [0, 1, 1.0, -0.2, True, "0.2"]),
    (fraction_or_zero, [0, 0.1], [1, -0.1, True, "0"]),
    (boolean, [True, False], [0, 1, "True", None]),
    (optional_folder, [None, "data", "~/course data"], [3, True]),
    (text, ["auto", "cuda:0"], ["", "   ", None, 0]),
]


@pytest.mark.parametrize("validator, good, bad", CASES, ids=[case[0].__name__ for case in CASES])
def test_validators_return_good_values_and_refuse_bad_ones_in_one_line(validator, good, bad):
    for value in good:
        assert validator("NAME", value) == value
    for value in bad:
        with pytest.raises(ValueError) as info:
            validator("NAME", value)
        message = str(info.value)
        assert message.startswith("NAME must be ") and repr(value) in message and "\n" not in message


PARAMETERS = {"EPOCHS": 3, "LR": 1e-3, "BATCH_SIZE": 32, "SEED": 4, "DEVICE": "cpu", "DATA_DIR": None,
              "VAL_FRACTION": 0.2, "QUICK": False, "CHECK_RESULTS": True}


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_setup_notebook_seeds_picks_the_device_sets_one_thread_and_prints_one_line(capsys, restore_threads):
    torch.set_num_threads(2)
    device = setup_notebook(**PARAMETERS)
    drawn = torch.rand(3)
    assert device == torch.device("cpu") and torch.get_num_threads() == 1
    torch.manual_seed(4)
    assert torch.equal(drawn, torch.rand(3))  # seeded with SEED
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("cpu · ") and "1 thread" in out


def test_a_notebook_brings_rules_for_its_own_parameters(capsys, restore_threads):
    from helpers.validate import positive_int as rule

    assert setup_notebook(SEED=0, LONG_EPOCHS=2000, rules={"LONG_EPOCHS": rule}) == torch.device("cpu")
    with pytest.raises(ValueError, match="LONG_EPOCHS must be an integer >= 1, got 0"):
        setup_notebook(SEED=0, LONG_EPOCHS=0, rules={"LONG_EPOCHS": rule})


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({**PARAMETERS, "LR": -1.0}, "LR must be a finite number > 0, got -1.0"),
        ({**PARAMETERS, "EPOCHS": True}, "EPOCHS must be an integer >= 1, got True"),
        ({**PARAMETERS, "LONG_EPOCHS": 5}, r'no rule for the parameter LONG_EPOCHS: pass one, e.g. rules=\{"LONG_'),
        ({k: v for k, v in PARAMETERS.items() if k != "SEED"}, "needs SEED=SEED"),
        ({**PARAMETERS, "DEVICE": "gpu"}, "^DEVICE: Device 'gpu'"),
    ],
    ids=["bad value", "bool for a count", "unknown parameter", "no seed", "unknown device"],
)
def test_setup_notebook_stops_a_bad_setting_before_anything_runs(parameters, message, capsys):
    with pytest.raises(ValueError, match=message):
        setup_notebook(**parameters)
    assert capsys.readouterr().out == ""


def test_set_seed_seeds_python_numpy_torch_and_returns_a_seeded_generator():
    def draw() -> tuple:
        g = set_seed(3)
        return random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item()

    assert draw() == draw()
    set_seed(4)
    assert random.random() != draw()[0]


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_set_seed_refuses_what_is_not_a_seed(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        set_seed(bad)
