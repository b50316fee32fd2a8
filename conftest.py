"""Repository-wide pytest hook: under nbval, a cell whose output JupyterLab would typeset as math fails.

JupyterLab reads the text between two ``$`` in an output (Markdown, HTML, plain text shown as
Markdown) as LaTeX: "costs $5 to $10" turns into run-together italics. A backslash does not
protect it there: ``\\$`` still renders as math in JupyterLab (jupyterlab#8645), which is how
notebook 01 once garbled its prose. So the rule is the course's own: no output holds two ``$``.
Write money as "k USD" or "thousand dollars". Intentional math lives in static Markdown cells.

nbval executes each cell in ``runtest`` and keeps what the kernel sent in ``item.test_outputs``;
the hook below reads those after the cell ran. It costs nothing outside nbval.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

#: Markdown and HTML outputs are typeset by JupyterLab's math renderer. Stream text, plain text
#: and JSON strings are held to the same rule (the course prints no ``$`` at all): the same
#: strings end up in Markdown sooner or later, and a reader cannot tell which output is which.
TEXT_MIME_TYPES = ("text/plain", "text/markdown", "text/html")


def reads_as_math(text: str) -> bool:
    """True when ``text`` holds two or more ``$``: a Markdown renderer would typeset what lies between."""
    return text.count("$") >= 2


def _strings(value: object) -> Iterator[str]:
    """Every string inside a JSON value (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def output_texts(output: dict) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` for each text a notebook output shows: stream text and the text mime types."""
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        yield f"{output.get('name', 'stream')} stream", "".join(text) if isinstance(text, list) else text
    data = output.get("data") or {}
    for mime in TEXT_MIME_TYPES:
        if mime in data:
            value = data[mime]
            yield mime, "".join(value) if isinstance(value, list) else str(value)
    if "application/json" in data:
        yield "application/json", "\n".join(_strings(data["application/json"]))


def math_in_outputs(outputs: list[dict]) -> list[str]:
    """One line per output text that would render as math, quoting the lines that hold a ``$``."""
    problems = []
    for kind, text in (pair for output in outputs for pair in output_texts(output)):
        if reads_as_math(text):
            quoted = " | ".join(line.strip() for line in text.splitlines() if "$" in line)
            problems.append(f"{kind}: {quoted[:300]}")
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After nbval ran a cell, fail it if an output would render as math in JupyterLab."""
    result = yield
    outputs = getattr(item, "test_outputs", None)
    if outputs and hasattr(item, "raise_cell_error"):
        problems = math_in_outputs(outputs)
        if problems:
            item.raise_cell_error(
                "Output would render as math in JupyterLab (two or more '$' in one output; a backslash does "
                "not escape it there). Write money as 'k USD' or 'thousand dollars'.\n" + "\n".join(problems)
            )
    return result
