"""The two calls a notebook makes around its lesson: ``setup_notebook`` at the top and
``show_results`` in the batch-run cell at the end."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import pandas as pd
import torch
from IPython.display import JSON

from helpers.device import describe_device, get_device
from helpers.i18n import set_language, tr
from helpers.seed import set_seed
from helpers.validate import (
    folder_or_none,
    fraction,
    non_negative_int,
    positive_int,
    positive_number,
)

#: MNIST's training images: lesson 04's TRAIN_IMAGES and VAL_SIZE share them.
MNIST_TRAIN_IMAGES = 60_000

#: The settings a notebook's parameters cell passes to ``setup_notebook``, by their names there,
#: each with its rule (``SEED`` is ``seed=``; ``get_device`` checks ``DEVICE``, ``device=``).
SETTINGS: dict[str, Callable[[str, object], object]] = {
    "SEED": non_negative_int,
    "EPOCHS": positive_int,
    "CNN_EPOCHS": positive_int,
    "DRILL_EPOCHS": positive_int,
    "BATCH_SIZE": positive_int,
    "TRAIN_IMAGES": positive_int,
    "VAL_SIZE": positive_int,
    "LR": positive_number,
    "MAX_LR": positive_number,
    "VAL_FRACTION": fraction,
    "DATA_DIR": folder_or_none,
}


def setup_notebook(
    seed: int, device: str = "auto", language: str = "en", **settings: object
) -> torch.device:
    """Choose the language, check the settings, seed everything with ``seed``, pick the device, and
    return it::

        device = setup_notebook(seed=SEED, device=DEVICE, language="en", EPOCHS=EPOCHS, LR=LR)

    - ``language`` ("en" or "ko"): of every later message and figure (``helpers.i18n``). In
      Korean, pandas counts a Hangul character as two columns, so printed tables stay aligned.
    - ``settings``: the other values of the settings cell, by their names there, each checked by
      its rule in ``SETTINGS``, so a value that cannot work stops here, before anything runs.
    - ``device`` ("auto", "cpu", "cuda", "cuda:N", "mps"): see ``helpers.device.get_device``.
    - On the CPU, torch gets one thread. The course's models are tiny: one operation on a
      batch takes microseconds, too little to split across cores, and on a busy machine
      threads that wait for each other made training 20-50x slower. GPUs are unaffected.

    Prints one line about the device, e.g. ``cpu · x86_64 · 1 thread · torch 2.14.1``.
    """
    set_language(language)
    pd.set_option("display.unicode.east_asian_width", language == "ko")
    if not isinstance(seed, bool) and hasattr(seed, "__index__"):
        seed = operator.index(seed)  # a NumPy integer too
    for name, value in {"SEED": seed, **settings}.items():
        if name not in SETTINGS:
            raise TypeError(tr("setup_notebook() has no rule for a setting named {name}: leave it "
                               "out of the call (it checks {known})",
                               name=name, known=", ".join(SETTINGS)))
        try:
            SETTINGS[name](name, value)
        except ValueError as exc:
            raise ValueError(_in_settings_cell(str(exc))) from None
    used = settings.get("TRAIN_IMAGES", 0) + settings.get("VAL_SIZE", 0)  # lesson 04's split
    if used > MNIST_TRAIN_IMAGES:
        raise ValueError(_in_settings_cell(tr(
            "TRAIN_IMAGES + VAL_SIZE must be at most {limit:,} (MNIST's training images), got "
            "{train} + {val}", limit=MNIST_TRAIN_IMAGES, train=settings.get("TRAIN_IMAGES", 0),
            val=settings.get("VAL_SIZE", 0))))
    try:
        chosen = get_device(device)
    except ValueError as exc:
        # its message says what to write, or names COURSE_DEVICE when the choice came from there
        raise ValueError(f"DEVICE: {exc}") from None
    if chosen.type == "cpu":
        torch.set_num_threads(1)
    set_seed(seed)
    print(describe_device(chosen))
    return chosen


def _in_settings_cell(problem: str) -> str:
    return tr("{problem}: change it in the settings cell above and run the notebook again",
              problem=problem)


def _rounded(value: object) -> object:
    """Floats to 4 significant figures; NaN and infinities, which JSON cannot hold, to ``None``."""
    if isinstance(value, dict):
        return {key: _rounded(v) for key, v in value.items()}
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else None
    return value


def show_results(results: dict[str, object]) -> JSON:
    """The notebook's headline numbers as JSON, for batch runs to read."""
    return JSON(_rounded(results))
