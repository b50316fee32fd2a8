"""The course's two languages: English, in which every message is written, and Korean.

A message that reaches the student (an error, a printed line, a checker's verdict, a figure's
label) is written in English where it is raised or printed, through ``tr``::

    raise ValueError(tr("{name} must be an integer >= 1, got {value!r}", name=name, value=value))

``tr`` looks the English text up in ``helpers/locale/<language>.json`` (English text ->
translation, with the same ``{placeholders}``; literal braces are doubled) and fills in the
values. ``tests/test_translations.py`` checks that every message has its translation.
"""

from __future__ import annotations

import functools
import json
import re
import string
from importlib import resources

#: The languages a notebook can choose; English is the source text of every message.
LANGUAGES = ("en", "ko")
#: Hangul syllables and letters: text written in Korean.
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_active = "en"


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """The ``language``'s table of the helpers' messages, ``locale/<language>.json``: English
    text -> translation (empty for English, which has no table)."""
    path = resources.files("helpers") / "locale" / f"{language}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def set_language(language: str) -> str:
    """Make ``language`` ("en" or "ko") the language of every later message and figure (Korean
    turns on the Hangul font: ``plots.use_hangul_font``); returns it."""
    global _active
    if language not in LANGUAGES:
        allowed = ", ".join(map(repr, LANGUAGES))
        raise ValueError(tr("language must be one of {allowed}, got {language!r}",
                            allowed=allowed, language=language))
    # imported here, not at the top: this module needs only the standard library (environment.py
    # uses it to say which library is missing before matplotlib is imported)
    from helpers import plots

    plots.use_hangul_font(language == "ko")
    _active = language
    return language


def language() -> str:
    """The active language: "en" until a notebook chooses another."""
    return _active


def tr(message: str, /, **values: object) -> str:
    """``message`` (English, with ``{placeholders}``) in the active language, ``values`` filled
    in."""
    return catalog(_active).get(message, message).format(**values)  # English has no table


def placeholders(template: str) -> list[str]:
    """The names of ``template``'s fields, in order: ``"{a} of {b!r:>3}"`` -> ``["a", "b"]``."""
    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
