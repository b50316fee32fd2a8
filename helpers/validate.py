"""Small validators for notebook parameters and helper arguments.

Each takes the parameter's name and value, returns the value when it is fine and raises
``ValueError`` with one line that names the parameter, the bad value and what is allowed.
"""

from __future__ import annotations

import math
import os


def positive_int(name: str, value: object) -> int:
    """An integer >= 1 (``True`` is refused: it is a bool, not a count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def non_negative_int(name: str, value: object) -> int:
    """An integer >= 0, e.g. a seed."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def positive_number(name: str, value: object) -> float:
    """A finite number > 0, e.g. a learning rate."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def fraction(name: str, value: object) -> float:
    """A number strictly between 0 and 1, e.g. the share of rows held out."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number between 0 and 1 (exclusive), got {value!r}")
    return float(value)


def fraction_or_zero(name: str, value: object) -> float:
    """A number from 0 (included) up to 1 (excluded), e.g. a label-smoothing amount that may be off."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number from 0 up to (not including) 1, got {value!r}")
    return float(value)


def boolean(name: str, value: object) -> bool:
    """``True`` or ``False`` (papermill passes ``-p QUICK True`` as a real bool)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def optional_folder(name: str, value: object) -> str | None:
    """``None`` or a path given as text."""
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be None or a folder path as text, got {value!r}")
    return value  # type: ignore[return-value]


def text(name: str, value: object) -> str:
    """A non-empty string, e.g. a device name."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


#: The validator for each parameter that several notebooks share.
PARAMETERS = {
    "EPOCHS": positive_int,
    "LR": positive_number,
    "BATCH_SIZE": positive_int,
    "SEED": non_negative_int,
    "DEVICE": text,
    "DATA_DIR": optional_folder,
    "VAL_FRACTION": fraction,
    "QUICK": boolean,
    "CHECK_RESULTS": boolean,
}
