"""Figures for the notebooks. Each function builds and returns a ``matplotlib.figure.Figure``
without touching pyplot's global state (no current figure, no rcParams changes), so a
notebook shows it once, as the cell's value (or with ``display(fig)``), and nothing leaks
into the next plot."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

from helpers import i18n
from helpers.i18n import HANGUL, tr

#: Fonts with Hangul, in order of preference (Linux, Windows, macOS, Colab's NanumGothic, other CJK sets).
KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "AppleGothic", "Apple SD Gothic Neo",
                "NanumGothic", "NanumBarunGothic", "Noto Sans CJK JP", "Noto Sans CJK SC")
NO_FONT_NOTE = "No Korean font found: labels in English (install fonts-noto-cjk, or NanumGothic on Colab)"


class NotebookFigure(Figure):
    """A ``Figure`` that Jupyter shows as a PNG whatever matplotlib backend is active, and that
    draws Korean text without empty boxes.

    Figures made outside pyplot are not registered with the inline backend, so without
    ``_repr_png_`` a notebook (or papermill, or nbconvert) would show only ``<Figure size ...>``.
    Every drawing (``_repr_png_``, ``savefig``, a backend's own draw) goes through ``korean_texts``.
    ``english_texts`` maps texts the helpers drew in Korean to their English, for that fallback.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.english_texts: dict[str, str] = {}

    def draw(self, renderer: object) -> None:
        with korean_texts(self):
            super().draw(renderer)

    def savefig(self, *args: object, **kwargs: object) -> None:
        with korean_texts(self):  # also around the measuring that bbox_inches="tight" does before drawing
            super().savefig(*args, **kwargs)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


@functools.cache
def korean_font() -> str | None:
    """The first of ``KOREAN_FONTS`` that matplotlib finds installed, or ``None``.

    matplotlib lists the system's fonts once and caches the list, so a font installed later (on Colab:
    ``!apt-get -qq install fonts-nanum``) is looked for among the font files and added; the kernel must
    restart after the install, as for any library."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not installed.intersection(KOREAN_FONTS):
        for path in font_manager.findSystemFonts():
            if re.search(r"nanum|notosanscjk|notosanskr|malgun|applegothic", Path(path).name, re.IGNORECASE):
                font_manager.fontManager.addfont(path)
        installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in installed), None)


@contextmanager
def korean_texts(fig: Figure) -> Iterator[None]:
    """Make ``fig``'s Hangul drawable for the duration of one drawing, then put every text back.

    Only in the Korean edition (``i18n.language() == "ko"``), and only texts that contain Hangul:
    - with a Hangul font (``korean_font()``), each gets the font family ``[that font, "DejaVu Sans"]``:
      glyphs the Korean font lacks fall back to DejaVu Sans, and tick labels keep DejaVu Sans and its
      U+2212 minus. That is how ``axes.unicode_minus`` is handled without touching global rcParams.
    - without one, each is turned back into English: ``fig.english_texts``, else the helpers' and the
      notebooks' tables (``i18n.to_english``); text with no entry loses its Hangul characters (the
      rest, e.g. numbers, stays), so no empty boxes are ever drawn. Tick labels are written by their
      axis's formatter at draw time, so its output is translated too. A one-line note in English at
      the bottom says why (``NO_FONT_NOTE``).
    """
    inside = getattr(fig, "_korean_texts", False)  # savefig draws the figure: that draw is inside savefig's
    korean = i18n.language() == "ko" and not inside
    texts = [t for t in fig.findobj(Text) if HANGUL.search(t.get_text())] if korean else []
    if not texts:
        yield
        return
    font, note = korean_font(), None
    saved = [(t, t.get_text(), t.get_fontproperties().copy()) for t in texts]
    formatters = [] if font else [axis.get_major_formatter() for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)]
    fig._korean_texts = True
    try:
        if font:
            for t in texts:
                t.set_fontfamily([font, "DejaVu Sans"])
        else:
            english = getattr(fig, "english_texts", {})

            def to_english(text: str) -> str:
                known = (english.get(text) or i18n.to_english(text) or text) if HANGUL.search(text) else text
                return " ".join(HANGUL.sub("", known).split()) if HANGUL.search(known) else known

            for t in texts:
                t.set_text(to_english(t.get_text()))
            for f in formatters:  # an instance attribute, deleted below: the class's method is untouched
                f.format_ticks = lambda values, f=f: [to_english(label) for label in type(f).format_ticks(f, values)]
            note = (fig.supxlabel if not fig.get_supxlabel() else functools.partial(fig.text, 0.01, 0.005))(
                NO_FONT_NOTE, fontsize=8, color="0.4", wrap=True)
        yield
    finally:
        fig._korean_texts = False
        for t, text, properties in saved:
            t.set_text(text)
            t.set_fontproperties(properties)
        for f in formatters:
            del f.format_ticks
        if note is not None:
            note.remove()


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
                name, english = _column_label(column), column.replace("_", " ")
                if label:
                    name, english = f"{label} {name}", f"{i18n.to_english(label) or label} {english}"
                fig.english_texts[name] = english
                ax.plot(frame["epoch"], frame[column], label=name)
    if not ax.lines:
        raise ValueError(tr("none of the columns {columns} is in the history", columns=list(columns)))
    ax.set(title=tr("Loss per epoch") if title is None else title, xlabel=tr("epoch"),
           ylabel=tr("loss") if ylabel is None else ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def _column_label(column: str) -> str:
    """A history column as the legend shows it: "train_loss" -> "train loss" (학습 손실 in Korean)."""
    split, _, metric = column.partition("_")
    names = {"loss": tr("loss"), "accuracy": tr("accuracy"), "rmse": "RMSE", "nll": "NLL"}  # acronyms in capitals
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
        raise ValueError(tr("a confusion matrix must be square (C, C), got shape {shape}", shape=counts.shape))
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(counts))]
    if len(names) != len(counts):
        raise ValueError(tr("{names} class names for a {n}x{n} matrix", names=len(names), n=len(counts)))
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
    """Grid of grayscale images (N, 1, H, W) or (N, H, W), each titled with its true label
    (and ``true/predicted`` when predictions are given; wrong ones in red); the title defaults to "Samples"."""
    pictures = _numpy(images)
    if pictures.ndim == 4:
        pictures = pictures[:, 0]
    if pictures.ndim != 3:
        raise ValueError(tr("images must be (N, 1, H, W) or (N, H, W), got shape {shape}", shape=pictures.shape))
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
