"""helpers.validate, helpers.notebook.setup_notebook and helpers.seed: the notebooks' setup call."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.notebook import setup_notebook
from helpers.seed import set_seed
from helpers.validate import fraction, fraction_or_zero, non_negative_int, positive_int

ROOT = Path(__file__).resolve().parent.parent

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
    [(-1, "cpu", "^SEED must be an integer >= 0, got -1: change it"), (1.5, "auto", "^SEED must be"),
     (0, "gpu", "^DEVICE: Device 'gpu'")],
    ids=["negative seed", "float seed", "unknown device"],
)
def test_setup_notebook_stops_a_bad_setting_before_anything_runs(seed, device, message, capsys):
    with pytest.raises(ValueError, match=message):
        setup_notebook(seed=seed, device=device)
    assert capsys.readouterr().out == ""


SETTINGS_CELL = "change it in the settings cell above and run the notebook again"


@pytest.mark.parametrize(
    "name, value, rule",
    [("EPOCHS", 0, "an integer >= 1"), ("EPOCHS", 2.5, "an integer >= 1"), ("CNN_EPOCHS", True, "an integer >= 1"),
     ("DRILL_EPOCHS", -1, "an integer >= 1"), ("BATCH_SIZE", "32", "an integer >= 1"),
     ("TRAIN_IMAGES", 0, "an integer >= 1"), ("VAL_SIZE", None, "an integer >= 1"),
     ("LR", 0, "a number > 0"), ("LR", "1e-3", "a number > 0"), ("MAX_LR", float("nan"), "a number > 0"),
     ("VAL_FRACTION", 1.0, "a number between 0 and 1"), ("VAL_FRACTION", 0, "a number between 0 and 1"),
     ("DATA_DIR", "/no/such/folder", "None or a folder that exists")],
)
def test_setup_notebook_stops_a_bad_setting_naming_it_as_the_student_wrote_it(name, value, rule, capsys):
    with pytest.raises(ValueError) as refused:
        setup_notebook(seed=0, device="cpu", language="en", **{name: value})
    message = str(refused.value)
    assert message.startswith(f"{name} must be {rule}") and f"got {value!r}" in message, message
    assert message.endswith(SETTINGS_CELL) and "\n" not in message
    assert capsys.readouterr().out == "", "nothing ran: no device line"


def test_setup_notebook_takes_good_settings(tmp_path, capsys, restore_threads):
    device = setup_notebook(seed=0, device="cpu", language="en", EPOCHS=1, LR=1e-3, MAX_LR=1, BATCH_SIZE=32,
                            VAL_FRACTION=0.2, TRAIN_IMAGES=4096, VAL_SIZE=5000, CNN_EPOCHS=1, DRILL_EPOCHS=300,
                            DATA_DIR=None)
    assert device == torch.device("cpu") and capsys.readouterr().out.startswith("cpu · ")
    for folder in (str(tmp_path), tmp_path, ""):  # papermill -p DATA_DIR "" means "not given"
        setup_notebook(seed=0, device="cpu", DATA_DIR=folder)


def test_setup_notebook_refuses_a_setting_it_does_not_know():
    with pytest.raises(TypeError, match="EPOCH"):
        setup_notebook(seed=0, device="cpu", EPOCH=5)


def test_every_settings_message_reads_in_korean(restore_threads):
    from helpers import i18n

    try:
        with pytest.raises(ValueError) as refused:
            setup_notebook(seed=0, device="cpu", language="ko", EPOCHS=0)
    finally:
        i18n.set_language("en")
    message = str(refused.value)
    assert message.startswith("EPOCHS") and "0" in message and "설정 셀" in message, message


def test_a_lesson_with_a_bad_setting_stops_at_its_setup_cell(tmp_path):
    """Lesson 02 with EPOCHS = 0 used to run until its tenth code cell ("the history has no 'val_loss'
    values"); now the cell after the settings stops it, naming EPOCHS."""
    import papermill

    out = tmp_path / "02.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        papermill.execute_notebook(str(ROOT / "notebooks" / "02_binary_classification.ipynb"), str(out),
                                   parameters={"EPOCHS": 0}, kernel_name="python3", cwd=str(ROOT / "notebooks"),
                                   progress_bar=False)
    assert failed.value.ename == "ValueError"
    assert failed.value.evalue == f"EPOCHS must be an integer >= 1, got 0: {SETTINGS_CELL}"
    cells = [c for c in json.loads(out.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    failing = [i for i, c in enumerate(cells) if any(o["output_type"] == "error" for o in c["outputs"])]
    assert failing == [3] and "device = setup_notebook(" in "".join(cells[3]["source"])  # after the imports,
    # the settings and papermill's injected settings


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
        with pytest.raises(ValueError, match="^SEED ") as refused:
            setup_notebook(seed=-1, device="cpu", language="ko")
        assert re.search("[가-힣]", str(refused.value)), f"the refusal is not in Korean: {refused.value}"
    finally:
        setup_notebook(seed=0, device="cpu", language="en")
    assert i18n.language() == "en" and pd.get_option("display.unicode.east_asian_width") is False
    with pytest.raises(ValueError, match="language must be one of 'en', 'ko', got 'kr'"):
        setup_notebook(seed=0, device="cpu", language="kr")


def test_lesson_04s_split_cannot_ask_for_more_images_than_mnist_has(capsys):
    """VAL_SIZE = 60000 left no training image and stopped much later with a ZeroDivisionError."""
    setup_notebook(seed=0, device="cpu", TRAIN_IMAGES=55_000, VAL_SIZE=5_000)  # the defaults: all 60,000
    capsys.readouterr()
    with pytest.raises(ValueError, match=r"^TRAIN_IMAGES \+ VAL_SIZE must be at most 60,000 .*55000 \+ 60000"):
        setup_notebook(seed=0, device="cpu", TRAIN_IMAGES=55_000, VAL_SIZE=60_000)
    assert capsys.readouterr().out == "", "stopped before the device line"
