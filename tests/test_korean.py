"""The helpers in the Korean edition: messages in Korean that carry their values, and figures that draw
Hangul with the course's own font (helpers/fonts/NanumGothic.ttf) on a machine that has none, as a fresh
Colab runtime: no box, no "Glyph ... missing from font(s)" warning, Latin text and digits in DejaVu Sans."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch
from matplotlib import font_manager, rcParams
from matplotlib.ft2font import FT2Font
from torch import nn

from helpers import checks, environment, i18n
from helpers.boston import FEATURES, boston_splits
from helpers.checkpoint import load_checkpoint
from helpers.data import TensorBatches
from helpers.device import describe_device, get_device
from helpers.i18n import HANGUL
from helpers.metrics import confusion_matrix
from helpers.mnist import MNISTDataError, ensure_mnist
from helpers.notebook import setup_notebook
from helpers.plots import (
    HANGUL_FONT,
    HANGUL_FONT_NAME,
    NotebookFigure,
    plot_confusion_matrix,
    plot_history,
    plot_image_grid,
    use_hangul_font,
)
from helpers.training import fit
from helpers.validate import positive_int
from tests import hide_hangul_fonts

HISTORY = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]})


def korean_message(error: pytest.ExceptionInfo, *values: str) -> str:
    message = str(error.value)
    assert HANGUL.search(message) and all(v in message for v in values), message
    return message


def test_validators_device_and_setup_speak_korean(korean):
    with pytest.raises(ValueError) as error:
        positive_int("EPOCHS", 0)
    assert korean_message(error, "EPOCHS", "0").startswith("EPOCHS 값은 1 이상의 정수여야 합니다")
    with pytest.raises(ValueError) as error:
        get_device("cuda:7")
    korean_message(error, "'cuda:7'", "cpu", 'DEVICE="auto"')
    with pytest.raises(ValueError) as error:
        setup_notebook(seed=-1, device="cpu", language="ko")
    korean_message(error, "SEED", "-1")
    assert "스레드" in describe_device("cpu")


def test_data_errors_speak_korean(korean, tmp_path):
    with pytest.raises(ValueError) as error:
        boston_splits("clusters")
    korean_message(error, "'clusters'", '"regression"')
    with pytest.raises(TypeError) as error:
        FEATURES.remove("B")
    korean_message(error, "list(FEATURES)")
    with pytest.raises(ValueError) as error:
        TensorBatches(torch.zeros(3, 1), torch.zeros(2, 1), 2)
    korean_message(error, "3 != 2")
    with pytest.raises(MNISTDataError) as error:
        ensure_mnist(tmp_path, download=False)
    message = korean_message(error, str(tmp_path), "download=False", "train-images-idx3-ubyte: 없음", "COURSE_DATA_DIR")
    assert "missing" not in message


def test_fit_refusals_checks_and_the_stop_line_speak_korean(korean, capsys):
    model = nn.Linear(1, 1)
    data = TensorBatches(torch.ones(4, 1), torch.ones(4), 2)
    with pytest.raises(ValueError) as error:
        fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, progress=False)
    korean_message(error, "MSELoss", "(2, 1)", "(2,)", "y.view(-1, 1)")
    with pytest.raises(ValueError) as error:
        fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=1, restore_best=True)
    korean_message(error, "restore_best=True", "val_data")
    with pytest.warns(checks.PitfallWarning, match="nn.Sigmoid") as caught:
        checks.check_output_layer(nn.Sequential(nn.Linear(1, 1), nn.Sigmoid()), torch.zeros(2, 1),
                                  nn.BCEWithLogitsLoss())
    assert HANGUL.search(str(caught[0].message))

    class StopInEpochTwo(TensorBatches):
        passes = 0

        def __iter__(self):
            StopInEpochTwo.passes += 1
            if StopInEpochTwo.passes == 2:
                raise KeyboardInterrupt
            yield from super().__iter__()

    with pytest.raises(KeyboardInterrupt):
        fit(model, StopInEpochTwo(torch.ones(4, 1), torch.ones(4, 1), 2), nn.MSELoss(),
            torch.optim.SGD(model.parameters(), 0.1), epochs=5, progress=False)
    assert "전체 5에포크 가운데 2번째 에포크 도중에 학습을 멈췄습니다. 끝난 에포크는 1개" in capsys.readouterr().out


def test_metrics_checkpoint_and_environment_speak_korean(korean, tmp_path, monkeypatch):
    with pytest.raises(ValueError) as error:
        confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 3)
    korean_message(error, "[0, 2]")
    with pytest.raises(FileNotFoundError) as error:
        load_checkpoint(nn.Linear(1, 1), tmp_path / "none.pt")
    korean_message(error, "none.pt", "save_checkpoint(model, ")
    monkeypatch.setattr(environment, "REQUIRED", ("no_such_course_dependency",))
    with pytest.raises(ModuleNotFoundError) as error:
        environment.require_dependencies()
    korean_message(error, "no_such_course_dependency", "%pip install")


def test_the_figures_own_labels_are_korean(korean):
    ax = plot_history(HISTORY).axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("에포크별 손실", "에포크", "손실")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["학습 손실", "검증 손실"]
    ax = plot_confusion_matrix(torch.eye(2)).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("예측 클래스", "실제 클래스")
    grid = plot_image_grid(torch.rand(2, 1, 4, 4), [3, 4], [0, 4])
    assert [a.get_title() for a in grid.axes] == ["실제 3 / 예측 0", "실제 4 / 예측 4"]


@pytest.fixture
def no_system_hangul_font(monkeypatch):
    """matplotlib without the machine's Hangul fonts, as on a fresh Colab runtime (CI has fonts-noto-cjk
    for the browser test): ``tests/hide_hangul_fonts.py``, undone after the test."""
    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", list(manager.ttflist))  # hide() replaces the two: monkeypatch
    monkeypatch.setattr(font_manager, "findSystemFonts", font_manager.findSystemFonts)  # puts them back
    hide_hangul_fonts.hide()
    assert hide_hangul_fonts.hangul_fonts() == []
    yield
    manager._findfont_cached.cache_clear()  # no lookup made without the system's fonts outlives the test


@pytest.fixture
def korean_without_system_fonts(no_system_hangul_font, korean):
    """The Korean edition chosen on a machine with no Hangul font (the fonts hidden first)."""


def render(fig) -> bytes:
    """The PNG Jupyter shows, with any warning (e.g. "Glyph ... missing from font(s)") an error."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(buffer, format="png", dpi=60)
    return buffer.getvalue()


def label_in_korean(ax) -> None:
    """Hangul in the title, labels, tick labels and legend, next to negative numbers (U+2212 minus)."""
    ax.plot([-3, -1, 2], [-2, 0, 1], label="검증 손실 −1.5")
    ax.set(title="학습 전 모델: RMSE 8.1천 달러", xlabel="실제 가격 (천 달러)", ylabel="예측 가격")
    ax.set_xticks([-3, 0, 2], ["음수 −3", "0", "둘"])
    ax.legend()


def test_the_bundled_font_is_the_file_its_readme_describes():
    readme = (HANGUL_FONT.parent / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(HANGUL_FONT.read_bytes()).hexdigest() in readme
    licence = (HANGUL_FONT.parent / "OFL.txt").read_text(encoding="utf-8")
    assert licence.startswith("Copyright (c) 2010, NAVER Corporation") and "SIL OPEN FONT LICENSE" in licence
    assert FT2Font(str(HANGUL_FONT)).family_name == HANGUL_FONT_NAME


def test_lesson_01s_shared_axes_figure_draws_hangul_without_a_system_font(korean_without_system_fonts):
    """Lesson 01's before/after figure: two axes sharing x and y (and so one tick formatter each)."""
    fig = NotebookFigure(figsize=(8, 3.5), layout="constrained")
    for ax in fig.subplots(1, 2, sharex=True, sharey=True):
        label_in_korean(ax)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = fig._repr_png_()  # what Jupyter shows
    assert png.startswith(b"\x89PNG")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(t.startswith("\N{MINUS SIGN}") for t in ticks), ticks  # axes.unicode_minus left as it is


def test_a_students_own_pyplot_figure_draws_hangul_after_setup(no_system_hangul_font):
    setup_notebook(seed=0, device="cpu", language="ko")
    try:
        fig, ax = plt.subplots()
        label_in_korean(ax)
        assert render(fig).startswith(b"\x89PNG")
        plt.close(fig)
    finally:
        setup_notebook(seed=0, device="cpu", language="en")


def drawn_from(text) -> dict[str, str]:
    """For each character of ``text``, the name of the font file Agg draws it from: the first of the files
    its font properties resolve to that has the glyph (matplotlib's font fallback)."""
    files = font_manager.fontManager._find_fonts_by_props(text.get_fontproperties())  # what backend_agg uses
    fonts = [FT2Font(path) for path in files]
    return {char: next(Path(f.fname).name for f in fonts if f.get_char_index(ord(char)))
            for char in text.get_text() if not char.isspace()}


def test_hangul_comes_from_the_bundled_font_and_digits_and_minus_from_dejavu_sans(korean_without_system_fonts):
    fig = NotebookFigure()
    ax = fig.add_subplot()
    label_in_korean(ax)
    fonts = drawn_from(ax.get_legend().get_texts()[0])  # "검증 손실 −1.5"
    assert {fonts[c] for c in "검증손실"} == {HANGUL_FONT.name}
    assert {fonts[c] for c in "\N{MINUS SIGN}1.5"} == {"DejaVuSans.ttf"}
    title = drawn_from(ax.title)  # "학습 전 모델: RMSE 8.1천 달러"
    assert {title[c] for c in "학습전모델천달러"} == {HANGUL_FONT.name}
    assert {title[c] for c in "RMSE8.1:"} == {"DejaVuSans.ttf"}
    assert font_manager.findfont(HANGUL_FONT_NAME, fallback_to_default=False) == str(HANGUL_FONT)


def test_english_takes_the_font_out_of_matplotlibs_settings_again():
    before = list(rcParams["font.family"])
    use_hangul_font(True)
    use_hangul_font(True)  # every Korean notebook's setup cell, run again
    assert rcParams["font.family"] == [*before, HANGUL_FONT_NAME]
    assert sum(f.name == HANGUL_FONT_NAME and f.fname == str(HANGUL_FONT)
               for f in font_manager.fontManager.ttflist) <= 1, "added once"
    i18n.set_language("ko")
    i18n.set_language("en")
    assert rcParams["font.family"] == before
