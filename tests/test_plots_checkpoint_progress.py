"""helpers.plots, helpers.checkpoint and helpers.progress."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch
from torch import nn

from helpers import fit, progress
from helpers.checkpoint import load_checkpoint, save_checkpoint
from helpers.data import TensorBatches
from helpers.plots import NotebookFigure, plot_confusion_matrix, plot_history, plot_image_grid

HISTORY = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]})


def test_plots_are_titled_labelled_figures_that_leave_pyplot_alone():
    rc_before, open_before = dict(matplotlib.rcParams), plt.get_fignums()
    figures = [
        plot_history({"raw": HISTORY, "standardized": HISTORY}, columns=("val_loss",), log_y=True),
        plot_confusion_matrix(torch.tensor([[3, 1], [0, 4]]), ["below", "above"]),
    ]
    for fig in figures:
        ax = fig.axes[0]
        assert isinstance(fig, NotebookFigure) and ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert figures[0].axes[0].get_yscale() == "log"
    assert plt.get_fignums() == open_before and dict(matplotlib.rcParams) == rc_before


def test_figures_show_as_png_in_jupyter_whatever_the_backend():
    assert plot_confusion_matrix(torch.tensor([[3, 1], [0, 4]]))._repr_png_().startswith(b"\x89PNG")


def test_history_legend_names_each_run_and_column():
    fig = plot_history({"raw": HISTORY, "standardized": HISTORY}, columns=("train_loss", "val_acc"))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["raw train loss", "standardized train loss"]  # a missing column is skipped
    assert [t.get_text() for t in plot_history(HISTORY).axes[0].get_legend().get_texts()] == ["train loss", "val loss"]
    rmse = HISTORY.assign(train_rmse=HISTORY["train_loss"] ** 0.5)
    assert plot_history(rmse, ["train_rmse"]).axes[0].get_legend().get_texts()[0].get_text() == "train RMSE"


def test_image_grid_titles_true_and_predicted_and_marks_mistakes():
    images = torch.rand(5, 1, 28, 28)
    fig = plot_image_grid(images, torch.tensor([1, 2, 3, 4, 5]), torch.tensor([1, 2, 0, 4, 5]), ncols=3, title="Digits")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(fig.axes) == 6 and len(titles) == 5 and titles[2] == "true 3 / pred 0"
    assert fig.axes[2].title.get_color() == "red" and fig.axes[1].title.get_color() == "black"
    assert fig.get_suptitle() == "Digits"
    assert plot_image_grid(images[:, 0], [7] * 5).axes[0].get_title() == "label 7"


@pytest.mark.parametrize(
    "draw, message",
    [
        (lambda: plot_history(HISTORY, columns=("val_acc",)), "none of the columns"),
        (lambda: plot_confusion_matrix(torch.zeros(2, 3)), "must be square"),
        (lambda: plot_confusion_matrix(torch.zeros(3, 3), ["a", "b"]), "2 class names for a 3x3"),
        (lambda: plot_image_grid(torch.zeros(4, 4), [1, 2, 3, 4]), "images must be"),
        (lambda: plot_image_grid(torch.zeros(2, 4, 4), [1]), "same length"),
    ],
)
def test_plots_refuse_inputs_that_do_not_fit(draw, message):
    with pytest.raises(ValueError, match=message):
        draw()


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    model = make_model()
    path = save_checkpoint(model, tmp_path / "sub" / "model.pt")
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no .partial left
    x = torch.randn(5, 4)
    assert torch.equal(load_checkpoint(make_model(), path)(x), model(x))


def test_checkpoints_load_with_weights_only_on_the_models_device(tmp_path, monkeypatch):
    calls = {}
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(make_model(), save_checkpoint(make_model(), tmp_path / "m.pt"))
    assert calls["weights_only"] is True and calls["map_location"] == torch.device("cpu")


def test_a_pickled_model_object_is_refused(tmp_path):
    torch.save(make_model(), tmp_path / "whole_model.pt")  # the unsafe habit: unpickling runs code
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        load_checkpoint(make_model(), tmp_path / "whole_model.pt")


def test_a_checkpoint_of_another_architecture_is_refused_with_torchs_listing(tmp_path):
    path = save_checkpoint(nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)), tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"no weights for this model's architecture(.|\n)*size mismatch for 0.weight"):
        load_checkpoint(make_model(), path)
    with pytest.raises(ValueError, match=r"Missing key\(s\) in state_dict: \"3.weight\", \"3.bias\""):
        load_checkpoint(nn.Sequential(*make_model(), nn.Linear(2, 2)), save_checkpoint(make_model(), tmp_path / "m.pt"))


def test_checkpoint_errors_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="Save one first with save_checkpoint"):
        load_checkpoint(make_model(), tmp_path / "absent.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="holds no weights for this model's architecture"):
        load_checkpoint(make_model(), tmp_path / "list.pt")


@pytest.mark.parametrize(
    "setting, ci, expected",
    [(None, None, True), (None, "true", False), ("0", None, False), ("off", None, False), ("1", "true", True)],
)
def test_progress_bars_follow_course_progress_then_ci(monkeypatch, setting, ci, expected):
    if setting is not None:
        monkeypatch.setenv("COURSE_PROGRESS", setting)
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    assert progress.progress_enabled() is expected


def test_a_terminal_gets_a_text_bar_on_stderr_and_batch_runs_none(monkeypatch, capsys):
    model = nn.Linear(1, 1)
    data = TensorBatches(torch.ones(2, 1), torch.ones(2, 1), 2)
    fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=2, progress=True)
    assert "training: 100%" in capsys.readouterr().err
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    fit(model, data, nn.MSELoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=2)
    assert capsys.readouterr() == ("", "")


def test_bars_are_tqdm_autos_a_widget_in_jupyter_text_elsewhere():
    import tqdm.auto

    bar = progress.make_bar(2, "training", enabled=True)
    assert isinstance(bar, tqdm.auto.tqdm) and not bar.disable
    bar.close()
