"""Figures for the notebooks. Each function builds and returns a ``matplotlib.figure.Figure``
without touching pyplot's global state (no current figure), so a notebook shows it once, as the
cell's value (or with ``display(fig)``), and nothing leaks into the next plot. The one global
setting is the Hangul font that Korean turns on (``use_hangul_font``)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure

from helpers.i18n import tr

#: The Hangul font that travels with the course (fonts/README.md: its source, licence and SHA-256).
HANGUL_FONT = Path(__file__).resolve().parent / "fonts" / "NanumGothic.ttf"
#: The family name matplotlib knows it by.
HANGUL_FONT_NAME = "NanumGothic"


def use_hangul_font(on: bool) -> None:
    """Draw Hangul in every later figure, a student's own ``plt.subplots()`` too (``on``), or stop.

    ``on`` registers ``HANGUL_FONT`` (once per kernel) and appends its name to
    ``rcParams["font.family"]``. matplotlib draws each character with the first family that has it,
    so Latin letters, digits and the minus sign keep DejaVu Sans and only Hangul comes from
    NanumGothic. (In ``font.sans-serif`` it would not do: a generic family resolves to one font.)
    ``on=False`` removes the name again; calling it twice changes nothing more.
    """
    family = [name for name in rcParams["font.family"] if name != HANGUL_FONT_NAME]
    if on:
        if not any(font.name == HANGUL_FONT_NAME for font in font_manager.fontManager.ttflist):
            font_manager.fontManager.addfont(HANGUL_FONT)
        family.append(HANGUL_FONT_NAME)
    rcParams["font.family"] = family


class NotebookFigure(Figure):
    """A ``Figure`` that Jupyter shows as a PNG whatever matplotlib backend is active.

    Figures made outside pyplot are not registered with the inline backend, so without
    ``_repr_png_`` a notebook (or papermill, or nbconvert) would show only ``<Figure size ...>``.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _numpy(values: torch.Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def plot_history(
    history: pd.DataFrame | dict[str, pd.DataFrame],
    columns: Sequence[str] = ("train_loss", "val_loss"),
    *,
    title: str | None = None,
    ylabel: str | None = None,
    log_y: bool = False,
) -> Figure:
    """Curves of ``columns`` against ``epoch`` from one history (a ``fit`` DataFrame) or
    several, given as ``{label: history}`` to compare runs on one plot. The title defaults to
    "Loss per epoch", the y label to "loss"."""
    runs = history if isinstance(history, dict) else {"": history}
    fig = NotebookFigure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for label, frame in runs.items():
        for column in columns:
            if column in frame.columns:
                name = f"{label} {_column_label(column)}" if label else _column_label(column)
                ax.plot(frame["epoch"], frame[column], label=name)
    if not ax.lines:
        raise ValueError(tr("none of the columns {columns} is in the history",
                            columns=list(columns)))
    ax.set(title=tr("Loss per epoch") if title is None else title, xlabel=tr("epoch"),
           ylabel=tr("loss") if ylabel is None else ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def _column_label(column: str) -> str:
    """A history column as the legend shows it, translated: "train_loss" -> "train loss"."""
    split, _, metric = column.partition("_")
    # acronyms in capitals
    names = {"loss": tr("loss"), "accuracy": tr("accuracy"), "rmse": "RMSE", "nll": "NLL"}
    metric = names.get(metric, metric.replace("_", " "))
    if split == "train":
        return tr("train {metric}", metric=metric)
    return tr("val {metric}", metric=metric) if split == "val" else column.replace("_", " ")


def plot_confusion_matrix(
    matrix: torch.Tensor | np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Heat map of a (C, C) confusion matrix (rows: true class, columns: predicted) with counts;
    the title defaults to "Confusion matrix"."""
    counts = _numpy(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(tr("a confusion matrix must be square (C, C), got shape {shape}",
                            shape=counts.shape))
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(counts))]
    if len(names) != len(counts):
        raise ValueError(tr("{names} class names for a {n}x{n} matrix",
                            names=len(names), n=len(counts)))
    longest = max((len(name) for name in names), default=1)
    size = max(5.0, 0.55 * len(counts) + 2.5 + 0.06 * longest)  # room for long class names
    fig = NotebookFigure(figsize=(size, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label=tr("count"))
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(len(counts)):
        for j in range(len(counts)):
            ax.text(j, i, str(int(counts[i, j])), ha="center", va="center",
                    color="white" if counts[i, j] > threshold else "black", fontsize=9)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set(title=tr("Confusion matrix") if title is None else title,
           xlabel=tr("predicted class"), ylabel=tr("true class"))
    return fig


def plot_image_grid(
    images: torch.Tensor | np.ndarray,
    true_labels: Sequence[int] | torch.Tensor,
    predicted_labels: Sequence[int] | torch.Tensor | None = None,
    *,
    ncols: int = 8,
    title: str | None = None,
) -> Figure:
    """Grid of grayscale images (N, 1, H, W) or (N, H, W), each titled with its true label (and
    ``true/predicted`` when predictions are given; wrong ones in red); the title defaults to
    "Samples"."""
    pictures = _numpy(images)
    if pictures.ndim == 4:
        pictures = pictures[:, 0]
    if pictures.ndim != 3:
        raise ValueError(tr("images must be (N, 1, H, W) or (N, H, W), got shape {shape}",
                            shape=pictures.shape))
    true = _numpy(true_labels).reshape(-1)
    pred = _numpy(predicted_labels).reshape(-1) if predicted_labels is not None else None
    if len(true) != len(pictures) or (pred is not None and len(pred) != len(pictures)):
        raise ValueError(tr("images and labels must have the same length"))
    n = len(pictures)
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig = NotebookFigure(figsize=(1.3 * ncols, 1.5 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(pictures[k], cmap="gray_r")
        if pred is None:
            ax.set_title(tr("label {label}", label=int(true[k])), fontsize=9)
        else:
            wrong = int(true[k]) != int(pred[k])
            ax.set_title(tr("true {true} / pred {pred}", true=int(true[k]), pred=int(pred[k])),
                         fontsize=8, color="red" if wrong else "black")
    fig.suptitle(tr("Samples") if title is None else title)
    return fig
