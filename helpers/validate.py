"""Small validators: the rules of the notebooks' settings (``helpers.notebook.SETTINGS``) and of
the helpers' own arguments. Each takes the name and value, returns the value when it is fine and
raises ``ValueError`` with one line that names it, the bad value and what is allowed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from helpers.i18n import tr


def positive_int(name: str, value: object) -> int:
    """An integer >= 1 (``True`` is refused: it is a bool, not a count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(tr("{name} must be an integer >= 1, got {value!r}",
                            name=name, value=value))
    return value


def non_negative_int(name: str, value: object) -> int:
    """An integer >= 0, e.g. a seed."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(tr("{name} must be an integer >= 0, got {value!r}",
                            name=name, value=value))
    return value


def fraction(name: str, value: object) -> float:
    """A number strictly between 0 and 1, e.g. the share of rows held out."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(tr("{name} must be a number between 0 and 1 (exclusive), got {value!r}",
                            name=name, value=value))
    return float(value)


def fraction_or_zero(name: str, value: object) -> float:
    """A number from 0 (included) up to 1 (excluded), e.g. a validation share that may be off."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(tr("{name} must be a number from 0 up to (not including) 1, got {value!r}",
                            name=name, value=value))
    return float(value)


def positive_number(name: str, value: object) -> float:
    """A finite number > 0, e.g. a learning rate."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(tr("{name} must be a number > 0, got {value!r}", name=name, value=value))
    return value


def folder_or_none(name: str, value: object) -> str | os.PathLike | None:
    """``None`` (or ``""``, papermill's "not given") or a folder that exists, e.g. for data."""
    folder = isinstance(value, (str, os.PathLike)) and Path(value).expanduser().is_dir()
    if value not in (None, "") and not folder:
        raise ValueError(tr("{name} must be None or a folder that exists, got {value!r}",
                            name=name, value=value))
    return value
