"""Small validators for the helpers' arguments.

Each takes the parameter's name and value, returns the value when it is fine and raises
``ValueError`` with one line that names the parameter, the bad value and what is allowed.
"""

from __future__ import annotations

from helpers.i18n import tr


def positive_int(name: str, value: object) -> int:
    """An integer >= 1 (``True`` is refused: it is a bool, not a count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(tr("{name} must be an integer >= 1, got {value!r}", name=name, value=value))
    return value


def non_negative_int(name: str, value: object) -> int:
    """An integer >= 0, e.g. a seed."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(tr("{name} must be an integer >= 0, got {value!r}", name=name, value=value))
    return value


def fraction(name: str, value: object) -> float:
    """A number strictly between 0 and 1, e.g. the share of rows held out."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(
            tr("{name} must be a number between 0 and 1 (exclusive), got {value!r}", name=name, value=value))
    return float(value)


def fraction_or_zero(name: str, value: object) -> float:
    """A number from 0 (included) up to 1 (excluded), e.g. a validation share that may be off."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(
            tr("{name} must be a number from 0 up to (not including) 1, got {value!r}", name=name, value=value)
        )
    return float(value)
