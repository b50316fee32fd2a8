"""Figures for the notebooks. Each function builds and returns a ``matplotlib.figure.Figure``
without touching pyplot's global state (no current figure, no rcParams changes), so a
notebook shows it once, as the cell's value (or with ``display(fig)``), and nothing leaks
into the next plot."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure


class NotebookFigure(Figure):
    """A ``Figure`` that Jupyter shows as a PNG whatever matplotlib backend is active.

    Figures made outside pyplot are not registered with the inline backend, so without this
    a notebook (or papermill, or nbconvert) would show only ``<Figure size ...>``.
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
    title: str = "Loss per epoch",
    ylabel: str = "loss",
    log_y: bool = False,
) -> Figure:
    """Curves of ``columns`` against ``epoch`` from one history (a ``fit`` DataFrame) or
    several, given as ``{label: history}`` to compare runs on one plot."""
    runs = history if isinstance(history, dict) else {"": history}
    fig = NotebookFigure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    plotted = 0
    for label, frame in runs.items():
        for column in columns:
            if column in frame.columns:
                name = f"{label} {column}".strip() if label else column
                ax.plot(frame["epoch"], frame[column], label=name.replace("_", " "))
                plotted += 1
    if plotted == 0:
        raise ValueError(f"none of the columns {list(columns)} is in the history")
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_confusion_matrix(
    matrix: torch.Tensor | np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    title: str = "Confusion matrix",
) -> Figure:
    """Heat map of a (C, C) confusion matrix (rows: true class, columns: predicted) with counts."""
    counts = _numpy(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"a confusion matrix must be square (C, C), got shape {counts.shape}")
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(counts))]
    if len(names) != len(counts):
        raise ValueError(f"{len(names)} class names for a {len(counts)}x{len(counts)} matrix")
    longest = max((len(name) for name in names), default=1)
    size = max(5.0, 0.55 * len(counts) + 2.5 + 0.06 * longest)  # room for long class names
    fig = NotebookFigure(figsize=(size, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="count")
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(len(counts)):
        for j in range(len(counts)):
            ax.text(j, i, str(int(counts[i, j])), ha="center", va="center",
                    color="white" if counts[i, j] > threshold else "black", fontsize=9)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set(title=title, xlabel="predicted class", ylabel="true class")
    return fig


def plot_image_grid(
    images: torch.Tensor | np.ndarray,
    true_labels: Sequence[int] | torch.Tensor,
    predicted_labels: Sequence[int] | torch.Tensor | None = None,
    *,
    ncols: int = 8,
    title: str = "Samples",
) -> Figure:
    """Grid of grayscale images (N, 1, H, W) or (N, H, W), each titled with its true label
    (and ``true/predicted`` when predictions are given; wrong ones in red)."""
    pictures = _numpy(images)
    if pictures.ndim == 4:
        pictures = pictures[:, 0]
    if pictures.ndim != 3:
        raise ValueError(f"images must be (N, 1, H, W) or (N, H, W), got shape {_numpy(images).shape}")
    true = _numpy(true_labels).reshape(-1)
    pred = _numpy(predicted_labels).reshape(-1) if predicted_labels is not None else None
    if len(true) != len(pictures) or (pred is not None and len(pred) != len(pictures)):
        raise ValueError("images and labels must have the same length")
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
            ax.set_title(f"label {int(true[k])}", fontsize=9)
        else:
            wrong = int(true[k]) != int(pred[k])
            ax.set_title(f"true {int(true[k])} / pred {int(pred[k])}", fontsize=8, color="red" if wrong else "black")
    fig.suptitle(title)
    return fig
