"""The calls a notebook makes around its lesson: ``setup_notebook`` at the top; at the end, in the
batch-run cells, ``claims_apply`` (do the self-check's claims hold for these settings?) and
``show_results``."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import pandas as pd
import torch
from IPython.display import JSON

from helpers.device import describe_device, get_device
from helpers.edition import edition
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


#: The settings of the last ``setup_notebook`` call, by name (``claims_apply`` compares them).
_current: dict[str, object] = {}


def setup_notebook(
    seed: int, device: str = "auto", language: str | None = None, **settings: object
) -> torch.device:
    """Choose the language, check the settings, seed everything with ``seed``, pick the device, and
    return it::

        device = setup_notebook(seed=SEED, device=DEVICE, EPOCHS=EPOCHS, LR=LR)

    - ``language`` ("en" or "ko"): of every later message and figure (``helpers.i18n``); by
      default the notebook's own edition (``helpers.edition``: notebooks/ko/ is Korean). In
      Korean, pandas counts a Hangul character as two columns, so printed tables stay aligned.
    - ``settings``: the other values of the settings cell, by their names there, each checked by
      its rule in ``SETTINGS``, so a value that cannot work stops here, before anything runs.
    - ``device`` ("auto", "cpu", "cuda", "cuda:N", "mps"): see ``helpers.device.get_device``.
    - On the CPU, torch gets one thread. The course's models are tiny: one operation on a
      batch takes microseconds, too little to split across cores, and on a busy machine
      threads that wait for each other made training 20-50x slower. GPUs are unaffected.

    Prints one line about the device, e.g. ``cpu · x86_64 · 1 thread · torch 2.14.1``.
    """
    language = set_language(language or edition())
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
    _current.clear()
    _current.update(settings)
    print(describe_device(chosen))
    return chosen


def claims_apply(defaults: dict[str, object]) -> bool:
    """Whether the self-check's claims apply: True when every setting in ``defaults`` (the
    lesson's own values; SEED and DEVICE are free) is what ``setup_notebook`` was given. Else
    prints which settings differ and returns False, so a student who tries other values, and a
    quick batch run, get no false alarm."""
    changed = [tr("{name} = {now!r} (the lesson's: {value!r})", name=name, now=_current.get(name),
                  value=value) for name, value in defaults.items() if _current.get(name) != value]
    if changed:
        print(tr("self-check skipped: its claims are about the lesson's own settings, and "
                 "these differ: {changed}", changed="; ".join(changed)))
    return not changed


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
