"""helpers.validate, helpers.notebook.setup_notebook and helpers.seed: the notebooks' setup call."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch

from helpers.notebook import setup_notebook
from helpers.seed import set_seed
from helpers.validate import fraction, fraction_or_zero, non_negative_int, positive_int

CASES = [
    (positive_int, [1, 500], [0, -3, 2.0, True, "5", None]),
    (non_negative_int, [0, 7], [-1, 1.5, False, "0"]),
    (fraction, [0.2, 0.5], [0, 1, 1.0, -0.2, True, "0.2"]),
    (fraction_or_zero, [0, 0.1], [1, -0.1, True, "0"]),
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


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_setup_notebook_seeds_picks_the_device_sets_one_thread_and_prints_one_line(capsys, restore_threads):
    torch.set_num_threads(2)
    device = setup_notebook(seed=4, device="cpu")
    drawn = torch.rand(3)
    assert device == torch.device("cpu") and torch.get_num_threads() == 1
    torch.manual_seed(4)
    assert torch.equal(drawn, torch.rand(3))  # seeded with SEED
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("cpu · ") and "1 thread" in out


@pytest.mark.parametrize(
    "seed, device, message",
    [(-1, "cpu", "^SEED: seed must be an integer >= 0, got -1"), (1.5, "auto", "^SEED: seed must be"),
     (0, "gpu", "^DEVICE: Device 'gpu'")],
    ids=["negative seed", "float seed", "unknown device"],
)
def test_setup_notebook_stops_a_bad_setting_before_anything_runs(seed, device, message, capsys):
    with pytest.raises(ValueError, match=message):
        setup_notebook(seed=seed, device=device)
    assert capsys.readouterr().out == ""


def test_show_results_rounds_floats_to_four_significant_figures():
    from helpers.notebook import show_results

    shown = show_results({"rmse": 3.0312345678, "tiny": 1.23456e-5, "epochs": 115, "nan": float("nan"),
                          "nested": {"acc": 0.98161234}, "tensor": torch.tensor(0.123456), "name": "adam"})
    assert shown.data == {"rmse": 3.031, "tiny": 1.235e-05, "epochs": 115, "nan": None, "nested": {"acc": 0.9816},
                          "tensor": 0.1235, "name": "adam"}


def test_set_seed_seeds_python_numpy_torch_and_returns_a_seeded_generator():
    def draw() -> tuple:
        g = set_seed(3)
        return random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item()

    assert draw() == draw()
    set_seed(4)
    assert random.random() != draw()[0]


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_set_seed_refuses_what_is_not_a_seed(bad):
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        set_seed(bad)


def test_set_seed_takes_a_numpy_integer():
    set_seed(np.int64(3))


def test_setup_notebook_in_korean_speaks_korean_and_aligns_tables_then_english_again(capsys, restore_threads):
    import pandas as pd

    from helpers import i18n

    try:
        setup_notebook(seed=0, device="cpu", language="ko")
        assert i18n.language() == "ko" and pd.get_option("display.unicode.east_asian_width") is True
        with pytest.raises(ValueError, match="^SEED: seed") as refused:
            setup_notebook(seed=-1, device="cpu", language="ko")
        assert re.search("[가-힣]", str(refused.value)), f"the refusal is not in Korean: {refused.value}"
    finally:
        setup_notebook(seed=0, device="cpu", language="en")
    assert i18n.language() == "en" and pd.get_option("display.unicode.east_asian_width") is False
    with pytest.raises(ValueError, match="language must be one of 'en', 'ko', got 'kr'"):
        setup_notebook(seed=0, device="cpu", language="kr")
