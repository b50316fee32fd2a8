"""The helpers in the Korean edition: messages in Korean that carry their values, and figures that draw
Hangul with a Korean font, or fall back to English with a note where none is installed, never boxes."""

from __future__ import annotations

import io
import re
import warnings

import pandas as pd
import pytest
import torch
from torch import nn

from helpers import checks, environment, plots
from helpers.boston import FEATURES, boston_splits
from helpers.checkpoint import load_checkpoint
from helpers.data import TensorBatches
from helpers.device import describe_device, get_device
from helpers.i18n import HANGUL
from helpers.metrics import confusion_matrix
from helpers.mnist import MNISTDataError, ensure_mnist
from helpers.notebook import setup_notebook
from helpers.plots import NotebookFigure, korean_texts, plot_confusion_matrix, plot_history, plot_image_grid
from helpers.training import fit
from helpers.validate import positive_int

HISTORY = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]})



def korean_message(error: pytest.ExceptionInfo, *values: str) -> str:
    message = str(error.value)
    assert HANGUL.search(message) and all(v in message for v in values), message
    return message


def test_validators_device_and_setup_speak_korean(korean):
    with pytest.raises(ValueError) as error:
        positive_int("EPOCHS", 0)
    assert korean_message(error, "EPOCHS", "0").startswith("EPOCHS은(는) 1 이상의 정수여야 합니다")
    with pytest.raises(ValueError) as error:
        get_device("cuda:7")
    korean_message(error, "'cuda:7'", "cpu", 'DEVICE="auto"')
    with pytest.raises(ValueError) as error:
        setup_notebook(seed=-1, device="cpu", language="ko")
    korean_message(error, "SEED: seed", "-1")
    assert "스레드" in describe_device("cpu")


def test_data_errors_speak_korean(korean, tmp_path):
    with pytest.raises(ValueError) as error:
        boston_splits("clusters")
    korean_message(error, "'clusters'", '"regression"')
    with pytest.raises(TypeError) as error:
        FEATURES.remove("B")
    korean_message(error, "mine = list(FEATURES)")
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
    assert "에포크 2/5 도중에 학습을 멈췄습니다. 끝난 에포크는 1개" in capsys.readouterr().out


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


def negative_korean_figure() -> NotebookFigure:
    fig = NotebookFigure(figsize=(4, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([-3, -1, 2], [-2, 0, 1], label="손실")
    ax.set(title="음수 눈금이 있는 그림", xlabel="에포크")
    ax.legend()
    return fig


def render(fig: NotebookFigure) -> bytes:
    """The PNG Jupyter shows, with any warning (e.g. "Glyph ... missing from font(s)") an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fig._repr_png_()


def test_with_a_korean_font_hangul_and_minus_signs_draw_without_missing_glyphs(korean):
    if plots.korean_font() is None:
        pytest.skip("no Hangul font installed (CI installs fonts-noto-cjk; apt-get install fonts-noto-cjk)")
    fig = negative_korean_figure()
    title = fig.axes[0].title
    before = title.get_fontfamily()
    with korean_texts(fig):
        assert title.get_fontfamily() == [plots.korean_font(), "DejaVu Sans"]
        assert fig.axes[0].get_xticklabels()[0].get_fontfamily() == before  # numbers keep DejaVu Sans
    assert render(fig).startswith(b"\x89PNG")
    assert title.get_fontfamily() == before and title.get_text() == "음수 눈금이 있는 그림", "rendering puts it back"


def test_without_a_korean_font_the_figure_falls_back_to_english_with_a_note(korean, monkeypatch):
    monkeypatch.setattr(plots, "korean_font", lambda: None)
    fig = plot_confusion_matrix(torch.eye(2), ["정확도", "표에 없는 말 7"])  # an entry, and a text with none
    plot = plot_history({"손실": HISTORY}, columns=("val_loss",))
    plot.supxlabel("에포크")  # taken: the note goes below it instead
    with korean_texts(fig), korean_texts(plot):
        texts = [t.get_text() for f in (fig, plot) for t in f.findobj(plots.Text) if t.get_text()]
        ticks = fig.axes[0].xaxis.get_major_formatter().format_ticks([0, 1])
        assert not any(HANGUL.search(text) for text in texts + ticks), texts + ticks
        assert {"Confusion matrix", "predicted class", "true class", "count"} <= set(texts)
        assert ticks == ["accuracy", "7"] and "loss val loss" in texts
        assert fig.get_supxlabel() == plots.NO_FONT_NOTE and plot.get_supxlabel() == "epoch"
        assert plots.NO_FONT_NOTE in [t.get_text() for t in plot.texts]
    with warnings.catch_warnings():  # savefig's measuring for bbox_inches="tight" too: no glyph is missing
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png", dpi=50, bbox_inches="tight")
    assert fig.axes[0].get_title() == "혼동 행렬" and fig.get_supxlabel() == "", "the figure is put back"
    assert fig.axes[0].xaxis.get_major_formatter().format_ticks([0, 1]) == ["정확도", "표에 없는 말 7"]


def test_a_korean_font_installed_after_matplotlib_listed_its_fonts_is_found(monkeypatch):
    """Colab: `apt-get install fonts-nanum` after matplotlib cached its font list; a restarted kernel finds it."""
    files = [p for p in plots.font_manager.findSystemFonts() if re.search(r"nanum|notosanscjk", p, re.IGNORECASE)]
    if not files:
        pytest.skip("no Noto Sans CJK or Nanum font file on this machine (CI installs fonts-noto-cjk)")
    manager = plots.font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if f.name not in plots.KOREAN_FONTS])
    assert plots.korean_font.__wrapped__() in plots.KOREAN_FONTS
