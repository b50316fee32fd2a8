"""Checkers for the notebooks' exercises: one small function per exercise, in one module per
lesson (``lesson01`` ... ``lesson04``). A notebook imports its lesson's module::

    from helpers.exercises import lesson01 as check
    check.exercise_1(standardize)

A checker re-measures what the student built (runs the function on cases the student never
saw, trains the model for a few epochs, recomputes the number) and returns a ``Feedback``,
which the notebook shows as one line: correct (with the measured figure), wrong (what is wrong
and a hint towards the fix) or not attempted yet.

Scaffolds follow one convention, so an untouched exercise reads as "not attempted yet"
instead of failing: a value to fill in starts as ``None`` and a function to complete
raises ``NotImplementedError``, each on a line marked ``# YOUR CODE HERE``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

NOT_ATTEMPTED = "not attempted yet"
WRONG = "not yet right"
CORRECT = "correct"
_MARKS = {NOT_ATTEMPTED: "[ ]", WRONG: "[x]", CORRECT: "[ok]"}
_FILL_IN = "Fill in the lines marked # YOUR CODE HERE, then run this cell."


@dataclass
class Feedback:
    """What a checker found: ``status`` is ``NOT_ATTEMPTED``, ``WRONG`` or ``CORRECT``."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __repr__(self) -> str:
        return f"{_MARKS[self.status]} {self.exercise}: {self.status}. {self.message}"


def wrong(exercise: str, message: str) -> Feedback:
    return Feedback(exercise, WRONG, message)


def correct(exercise: str, message: str) -> Feedback:
    return Feedback(exercise, CORRECT, message)


def checker(exercise: str) -> Callable[[Callable[..., Feedback]], Callable[..., Feedback]]:
    """Wrap a check so that an untouched scaffold reads "not attempted yet" and an error raised by
    the student's code becomes feedback (the error's type and message) instead of a traceback.

    "Untouched" means a ``None`` argument or a ``NotImplementedError`` from the student's code.
    """

    def wrap(check: Callable[..., Feedback]) -> Callable[..., Feedback]:
        @functools.wraps(check)
        def run(*args: object, **kwargs: object) -> Feedback:
            if any(value is None for value in (*args, *kwargs.values())):
                return Feedback(exercise, NOT_ATTEMPTED, _FILL_IN)
            try:
                return check(*args, **kwargs)
            except NotImplementedError:
                return Feedback(exercise, NOT_ATTEMPTED, _FILL_IN)
            except Exception as exc:  # the student's code failed: say how, don't crash the notebook
                return wrong(exercise, f"your code raised {type(exc).__name__}: {exc}")

        return run

    return wrap
