"""Checkers for the notebooks' exercises: one small function per exercise, in one module per
lesson (``lesson01`` ... ``lesson04``). A notebook imports its lesson's module::

    from helpers.exercises import lesson01 as check
    check.exercise_1(standardize)

A checker re-measures what the student built (runs it on cases the notebook never showed,
retrains it on another split, recomputes the number) and returns a ``Feedback``, shown as one
line: correct (with the measured figure), not yet right (what is wrong and where to look), not
attempted yet, or a bug in the course's checker (with its traceback, to report).

Writing a checker::

    @checker("Exercise 3")
    def exercise_3(train_loop: Callable) -> Verdict:
        model = student(train_loop, data)      # call the student's code through student()
        if ...:
            return wrong(tr("the loss did not fall: ..."))
        return correct(tr("validation loss {loss:.3f}", loss=loss))

Every message goes through ``helpers.i18n.tr`` with one literal English template, so that the
Korean edition can look it up in ``helpers/locale/ko.json`` (tests/test_translations.py checks
that each has its Korean). ``Feedback`` shows the status and the exercise's name in the active
language too.

The core, not the checkers, decides three things:

- **Not attempted.** A ``None`` argument, or ``NotImplementedError`` raised by the student's code
  (the scaffolds' ``raise NotImplementedError  # YOUR CODE HERE``).
- **Whose error.** Arguments that do not fit the checker's parameters are the student's (the
  check line was edited): the feedback says how the line reads. An exception whose traceback
  passes through the student's code (a notebook cell, not this package or an installed library)
  is the student's: the feedback names their line. Any other exception is a bug in the checker,
  reported as one.
- **The session is left as it was.** torch's, NumPy's and Python's random state (the check runs
  on a forked RNG), torch's thread count, grad mode and default dtype, warning filters, and
  every ``nn.Module`` argument's weights and train/eval mode are restored after the check.
"""

from __future__ import annotations

import functools
import inspect
import random
import re
import sysconfig
import traceback
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from helpers.i18n import tr

#: The four statuses, as code compares them (English); ``Feedback`` shows them in the active language.
NOT_ATTEMPTED = "not attempted yet"
WRONG = "not yet right"
CORRECT = "correct"
CHECKER_BUG = "checker error"
_MARKS = {NOT_ATTEMPTED: "[ ]", WRONG: "[x]", CORRECT: "[ok]", CHECKER_BUG: "[!]"}
_WIDTH = 100  # columns of the notebook's output area before JupyterLab breaks a line mid-word
_EXERCISE = re.compile(r"Exercise (\d+)( \(diagnose this run\))?")


def _fill_in() -> str:
    return tr("Fill in the lines marked # YOUR CODE HERE, then run this cell.")


def _report() -> str:
    return tr("This is a bug in the course's checker, not in your code. Please report it to your instructor or on "
              "the course's issue tracker, with the text below. Your work is unaffected; you can go on.")


def _status_text(status: str) -> str:
    """``status`` (one of the four constants) in the active language."""
    return {
        NOT_ATTEMPTED: tr("not attempted yet"),
        WRONG: tr("not yet right"),
        CORRECT: tr("correct"),
        CHECKER_BUG: tr("checker error"),
    }[status]


def _exercise_text(exercise: str) -> str:
    """A checker's name ("Exercise 3", "Exercise 6 (diagnose this run)") in the active language."""
    match = _EXERCISE.fullmatch(exercise)
    if match is None:
        return exercise
    if match.group(2):
        return tr("Exercise {number} (diagnose this run)", number=match.group(1))
    return tr("Exercise {number}", number=match.group(1))


def _columns(text: str) -> int:
    """How many monospace columns ``text`` takes: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _wrap(text: str, width: int = _WIDTH, indent: str = "    ") -> str:
    """``text`` broken at spaces into lines of at most ``width`` columns (wide characters count two),
    later lines indented; a word longer than a line stays whole (``textwrap.fill``, counting columns)."""
    lines: list[str] = []
    line = ""
    for chunk in re.split(r"(\s+)", text.expandtabs()):
        if not chunk or (chunk.isspace() and not line):
            continue
        chunk = " " * len(chunk) if chunk.isspace() else chunk
        room = width - (_columns(indent) if lines else 0)
        if line and _columns(line + chunk) > room:
            lines.append(line.rstrip())
            line = "" if chunk.isspace() else chunk
        else:
            line += chunk
    lines = [*lines, line.rstrip()] if line.strip() else lines
    return "\n".join(lines[:1] + [indent + rest for rest in lines[1:]])


@dataclass(frozen=True)
class Verdict:
    """What a check returns: ``status`` (``WRONG`` or ``CORRECT``) and one message."""

    status: str
    message: str


def wrong(message: str) -> Verdict:
    """The student's answer is not yet right: ``message`` says what is wrong and where to look."""
    return Verdict(WRONG, message)


def correct(message: str) -> Verdict:
    """The student's answer is right: ``message`` gives what was measured."""
    return Verdict(CORRECT, message)


@dataclass
class Feedback:
    """What a checker found, shown as one line: ``status`` is one of the four statuses above."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __repr__(self) -> str:
        """One paragraph wrapped at 100 columns (JupyterLab would break long lines mid-word; a Hangul
        character takes two), in the active language; a checker bug's traceback follows unwrapped.
        Backticks that mark code in a message (the Korean ones use them) are not shown: plain text."""
        first, _, rest = self.message.partition("\n")
        first = re.sub(r"`([^`\n]+)`", r"\1", first)
        head = f"{_MARKS[self.status]} {_exercise_text(self.exercise)}: {_status_text(self.status)}. {first}"
        return _wrap(head) + (f"\n{rest}" if rest else "")


class NotAttempted(Exception):
    """The student's code still raises ``NotImplementedError``: the scaffold is untouched."""


class StudentError(Exception):
    """The student's code raised ``error``; ``where`` names their line."""

    def __init__(self, error: BaseException, where: str):
        super().__init__(f"{type(error).__name__}: {error}")
        self.error, self.where = error, where

    @property
    def device_mismatch(self) -> bool:
        """Whether torch refused tensors on different devices: "Expected all tensors to be on the
        same device ..." (CUDA) or "... is not on the expected device ..." (any other device)."""
        text = str(self).lower()
        return "same device" in text or "expected device" in text


def student(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``fn(*args, **kwargs)``.

    ``NotImplementedError`` becomes ``NotAttempted``, any other exception ``StudentError``, so a
    check may catch ``StudentError`` to give a targeted message (e.g. for a shape error).
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted from exc
    except Exception as exc:
        raise StudentError(exc, _students_line(exc) or "") from exc


_PACKAGE = Path(__file__).resolve().parent.parent
_LIBRARIES = tuple(
    str(Path(p).resolve()) for key in ("stdlib", "platstdlib", "purelib", "platlib") if (p := sysconfig.get_path(key))
)


def _is_students(filename: str) -> bool:
    """Whether code in ``filename`` is the student's: not this package, not Python or an installed library."""
    if filename.startswith("<") and not filename.startswith("<ipython-input"):
        return False  # <frozen ...>, <string>: Python's own
    path = str(Path(filename).resolve())
    return not (path.startswith(str(_PACKAGE)) or path.startswith(_LIBRARIES))


def _students_line(exc: BaseException) -> str | None:
    """``line N: code`` of the last traceback frame in the student's code, or ``None`` when there is none."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_students(f.filename)]
    if not frames:
        return None
    last = frames[-1]
    code = (last.line or "").strip()
    return tr("in {function}, line {line}: {code}", function=last.name, line=last.lineno, code=code)


@contextmanager
def _session_kept(args: tuple[Any, ...]) -> Iterator[None]:
    """Run the block, then put back every piece of session state a check could change."""
    modules = [a for a in args if isinstance(a, nn.Module)]
    weights = [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in modules]
    modes = [[(sub, sub.training) for sub in m.modules()] for m in modules]
    py_state, np_state = random.getstate(), np.random.get_state()
    threads, grad, dtype = torch.get_num_threads(), torch.is_grad_enabled(), torch.get_default_dtype()
    try:
        with torch.random.fork_rng(), warnings.catch_warnings(), torch.enable_grad():
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_num_threads(threads)
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)
        with torch.no_grad():
            for module, state, mode in zip(modules, weights, modes, strict=True):
                module.load_state_dict(state)
                for sub, training in mode:
                    sub.training = training


def checker(exercise: str, later: tuple[str, ...] = ()) -> Callable[[Callable[..., Verdict]], Callable[..., Feedback]]:
    """Turn ``check(*args) -> Verdict`` into ``exercise_N(*args) -> Feedback`` named ``exercise``.

    See the module's docstring for what the core decides: not attempted, whose error, the
    session left as it was. ``later`` names parameters a student answers after the others: once
    another one is answered, a None there goes to ``check``, which grades what is answered first.
    """

    def wrap(check: Callable[..., Verdict]) -> Callable[..., Feedback]:
        signature = inspect.signature(check)

        @functools.wraps(check)
        def run(*args: Any, **kwargs: Any) -> Feedback:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:  # the student edited the check line: tell them how it reads
                return Feedback(exercise, WRONG, tr(
                    "the check line was changed ({error}): write it as check.{name}({parameters}), as the "
                    "exercise gives it.", error=exc, name=check.__name__, parameters=", ".join(signature.parameters),
                ))
            values = (*args, *kwargs.values())
            missing = [name for name, value in bound.arguments.items() if value is None]
            # an answer beyond the scaffold (whose functions may still be untouched): a None left beside it, unless
            # answered later, is to fill in, or, for a list, often what a method that changes the list returned
            answered = any(value is not None and not inspect.isfunction(value) for value in values)
            if answered:
                missing = [name for name in missing if name not in later]
            if missing and answered:
                names = ", ".join(missing)
                if any("list" in str(signature.parameters[name].annotation) for name in missing):
                    return Feedback(exercise, WRONG, tr(
                        "{names} is still None. If you assigned the result of a method such as list.remove() or "
                        "list.sort(): those change the list in place and return None, so keep the list itself.",
                        names=names))
                return Feedback(exercise, WRONG, tr("{names} is still None: fill it in too.", names=names))
            if missing:
                return Feedback(exercise, NOT_ATTEMPTED, _fill_in())
            try:
                with _session_kept(values):
                    verdict = check(*args, **kwargs)
            except NotAttempted:
                return Feedback(exercise, NOT_ATTEMPTED, _fill_in())
            except StudentError as exc:
                return Feedback(exercise, WRONG, _raised(exc.error, exc.where))
            except Exception as exc:
                where = _students_line(exc)
                if where is None:
                    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
                    return Feedback(exercise, CHECKER_BUG, f"{_report()}\n{text}")
                if isinstance(exc, NotImplementedError):
                    return Feedback(exercise, NOT_ATTEMPTED, _fill_in())
                return Feedback(exercise, WRONG, _raised(exc, where))
            if not isinstance(verdict, Verdict):
                returned = tr("{check} returned {verdict!r}", check=check.__name__, verdict=verdict)
                return Feedback(exercise, CHECKER_BUG, f"{_report()}\n{returned}")
            return Feedback(exercise, verdict.status, verdict.message)

        return run

    return wrap


def _raised(error: BaseException, where: str) -> str:
    """``your code raised ValueError: its first line (in f, line 3: ...).`` in the active language."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    if first and where:
        return tr("your code raised {error}: {first} ({where}).", error=name, first=first, where=where)
    if first:
        return tr("your code raised {error}: {first}.", error=name, first=first)
    if where:
        return tr("your code raised {error} ({where}).", error=name, where=where)
    return tr("your code raised {error}.", error=name)


__all__ = [
    "CHECKER_BUG", "CORRECT", "NOT_ATTEMPTED", "WRONG", "Feedback", "NotAttempted", "StudentError", "Verdict",
    "checker", "correct", "student", "wrong",
]


@contextmanager
def library_calls(*names: str, torch_too: bool = False) -> Iterator[list[str]]:
    """Records (in the list it yields) the names of the ``torch.nn.functional`` functions ``names``
    that run inside the block: an exercise that asks for a loss by hand refuses the library's (the
    ``nn`` loss modules call these functions too). With ``torch_too``, also ``torch.<name>`` and the
    tensor method ``.<name>()`` where they exist (``torch.softmax``, ``z.softmax(dim=1)``)."""
    calls: list[str] = []
    patched: list[tuple[object, str, object]] = []  # (owner, name, what its __dict__ held, or _ABSENT)

    def watched(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return original(*args, **kwargs)
        return call

    owners: list[object] = [nn.functional] + ([torch, torch.Tensor] if torch_too else [])
    for owner in owners:
        for name in names:
            original = getattr(owner, name, None)
            if original is None:
                continue
            patched.append((owner, name, vars(owner).get(name, _ABSENT)))
            setattr(owner, name, watched(name, original))
    try:
        yield calls
    finally:
        for owner, name, held in reversed(patched):
            if held is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, held)


_ABSENT = object()
