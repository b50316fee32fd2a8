"""helpers.plots, helpers.checkpoint and helpers.progress."""

import io
import sys
import types

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from helpers import load_checkpoint, save_checkpoint
from helpers import progress
from helpers.plots import plot_confusion_matrix, plot_history, plot_image_grid, plot_predictions

HISTORY = pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0]})


def labelled(fig: Figure) -> None:
    """Every axis with data has a title and labels; the figure renders to PNG."""
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    fig.savefig(io.BytesIO(), format="png")


def test_plots_return_figures_and_leave_pyplot_alone():
    rc_before = dict(matplotlib.rcParams)
    open_before = plt.get_fignums()
    figures = [
        plot_history(HISTORY),
        plot_history({"raw": HISTORY, "standardized": HISTORY}, columns=("val_loss",), log_y=True),
        plot_predictions(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.5], [2.5]]), unit="$1000s"),
        plot_confusion_matrix(torch.tensor([[3, 1], [0, 4]]), ["below", "above"]),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        labelled(fig)
    assert plt.get_fignums() == open_before
    assert dict(matplotlib.rcParams) == rc_before


def test_history_legend_names_each_run():
    fig = plot_history({"raw": HISTORY, "standardized": HISTORY}, columns=("train_loss",))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["raw train loss", "standardized train loss"]
    assert fig.axes[0].get_xlabel() == "epoch"


def test_image_grid_titles_true_and_predicted():
    images = torch.rand(5, 1, 28, 28)
    fig = plot_image_grid(images, torch.tensor([1, 2, 3, 4, 5]), torch.tensor([1, 2, 0, 4, 5]), ncols=3, title="Digits")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[2] == "true 3 / pred 0" and len(titles) == 5
    assert fig.axes[2].title.get_color() == "red"
    assert fig._suptitle.get_text() == "Digits"
    fig = plot_image_grid(images[:, 0], [7] * 5)
    assert fig.axes[0].get_title() == "label 7"


def test_plot_input_errors():
    with pytest.raises(ValueError, match="none of the columns"):
        plot_history(HISTORY, columns=("val_acc",))
    with pytest.raises(ValueError, match="differ in length"):
        plot_predictions([1, 2], [1])
    with pytest.raises(ValueError, match="must be square"):
        plot_confusion_matrix(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="2 class names for a 3x3"):
        plot_confusion_matrix(torch.zeros(3, 3), ["a", "b"])
    with pytest.raises(ValueError, match="images must be"):
        plot_image_grid(torch.zeros(4, 4), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="same length"):
        plot_image_grid(torch.zeros(2, 4, 4), [1])


def make_model():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    model = make_model()
    path = save_checkpoint(model, tmp_path / "sub" / "model.pt")
    assert path.is_file() and not (tmp_path / "sub" / "model.pt.partial").exists()
    fresh = load_checkpoint(make_model(), path)
    x = torch.randn(5, 4)
    assert torch.equal(fresh(x), model(x))


def test_checkpoint_is_loaded_with_weights_only(tmp_path, monkeypatch):
    calls = {}
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(make_model(), save_checkpoint(make_model(), tmp_path / "m.pt"), map_location="cpu")
    assert calls["weights_only"] is True and calls["map_location"] == "cpu"


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_checkpoint"):
        load_checkpoint(make_model(), tmp_path / "absent.pt")
    path = save_checkpoint(nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)), tmp_path / "other.pt")
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="different architecture.*shape mismatches"):
        load_checkpoint(model, path)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # model untouched
    with pytest.raises(ValueError, match="Missing in the file"):
        load_checkpoint(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), nn.Linear(2, 2)),
                        save_checkpoint(make_model(), tmp_path / "m.pt"))
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="does not hold a state_dict"):
        load_checkpoint(make_model(), tmp_path / "list.pt")


def test_a_pickled_object_is_refused(tmp_path):
    torch.save(make_model(), tmp_path / "whole_model.pt")  # the unsafe habit
    with pytest.raises(Exception, match="[Ww]eights only load failed|weights_only"):
        load_checkpoint(make_model(), tmp_path / "whole_model.pt")


@pytest.mark.parametrize(
    "env, ci, expected",
    [({}, None, True), ({}, "true", False), ({"COURSE_PROGRESS": "0"}, None, False), ({"COURSE_PROGRESS": "1"}, "true", True)],
)
def test_progress_default(monkeypatch, env, ci, expected):
    monkeypatch.delenv("CI", raising=False)
    if ci:
        monkeypatch.setenv("CI", ci)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert progress.progress_enabled() is expected


def fake_notebook(monkeypatch):
    class ZMQInteractiveShell:  # what IPython reports inside a Jupyter kernel
        pass

    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: ZMQInteractiveShell()))


def test_text_bar_outside_notebooks_and_disabled_bar(monkeypatch):
    bar = progress.make_bar(3, "training", enabled=True)
    assert type(bar).__module__ == "tqdm.std" and not bar.disable
    bar.close()
    bar = progress.make_bar(3, "training", enabled=False)
    assert bar.disable
    bar.close()


def test_notebook_without_ipywidgets_falls_back_to_text(monkeypatch):
    fake_notebook(monkeypatch)
    monkeypatch.setattr(progress, "widgets_available", lambda: False)
    bar = progress.make_bar(2, "training", enabled=True)
    assert type(bar).__module__ == "tqdm.std"
    bar.update(2)
    bar.close()


def test_notebook_with_ipywidgets_uses_the_widget_bar(monkeypatch):
    fake_notebook(monkeypatch)
    monkeypatch.setattr(progress, "widgets_available", lambda: True)
    import tqdm.notebook

    monkeypatch.setattr(tqdm.notebook, "tqdm", lambda **kwargs: ("widget", kwargs))
    kind, kwargs = progress.make_bar(5, "training", enabled=True)
    assert kind == "widget" and kwargs["total"] == 5


def test_figures_show_as_png_in_jupyter_whatever_the_backend():
    png = plot_history(HISTORY)._repr_png_()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
