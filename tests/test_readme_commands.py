"""Every command the READMEs and the website's guides show can be run as written (issue 26): each ``make``
target exists in the Makefile, each ``python -m`` module is the course's or installed with it, each file or
folder a command names is in the repository, each relative link leads to a file, and each wheel name carries
the package's version. Shell code blocks (bash, powershell) and inline ``make ...`` spans are read."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "README.ko.md",
             *sorted(p for p in (ROOT / "docs").rglob("*.md") if "node_modules" not in p.parts)]
SHELLS = {"bash", "sh", "shell", "console", "powershell"}
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE_MAKE = re.compile(r"`(make [^`]+)`")
LINK = re.compile(r"\]\(<?([^)\s<>]+)>?\)")
WHEEL = re.compile(r"torch_core_models-([\w.]+)-py3-none-any\.whl")
# Paths a command makes or that live outside the repository: not looked for in it
MADE = ("build/", "dist/", ".venv", "/", "~", "%", "$", "http:", "https:", "data/MNIST")
PATH_LIKE = re.compile(r"[/\\]|\.(txt|yml|yaml|toml|ipynb|py|md|json|whl)$")


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, re.MULTILINE))


def version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)


def commands(markdown: str) -> list[str]:
    """The shell commands of ``markdown``: each line of its shell code blocks (comments and prompts dropped,
    ``&&``, ``;`` and ``|`` split), and each inline ``make ...`` span."""
    found = []
    for language, body in BLOCK.findall(markdown):
        if language not in SHELLS:
            continue
        for line in body.splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()  # a comment, whole-line or trailing
            found += [part.strip() for part in re.split(r"&&|;|\|", line) if part.strip()]
    return found + INLINE_MAKE.findall(markdown)


def problems(command: str, targets: set[str], made: set[str] = frozenset()) -> list[str]:
    """What in ``command`` cannot run here: an unknown make target, a module not there, a missing path (one
    that an earlier command writes, ``made``, is there by then)."""
    try:  # a placeholder (<the course's git URL>) is the reader's to fill in
        words = shlex.split(re.sub(r"<[^<>]*>", "", command).replace("\\", "/"))
    except ValueError:
        return [f"{command!r}: not a shell command (unbalanced quotes)"]
    found = []
    if words[:1] == ["make"]:
        found += [f"{command!r}: no make target {w!r}" for w in words[1:] if "=" not in w and w not in targets]
    for before, flag, module in zip(words, words[1:], words[2:], strict=False):
        python = re.search(r"(^|/)python[\d.]*$|^py$|^-\d", before)  # python -m, py -3.11 -m; not pytest -m
        if flag == "-m" and python:
            own = ROOT / Path(*module.split("."))
            if module.split(".")[0] in ("instructor", "deploy", "helpers", "tests"):
                if not (own.with_suffix(".py").is_file() or (own / "__main__.py").is_file()):
                    found.append(f"{command!r}: no module {module} in the repository")
            elif importlib.util.find_spec(module.split(".")[0]) is None:
                found.append(f"{command!r}: python -m {module}: not installed by requirements-dev.txt")
    outputs = {words[i + 1] for i, w in enumerate(words[:-1]) if w in (">", ">>")} | set(made)
    for word in words[1:]:
        word = word.rstrip(",")
        if word in outputs or word.startswith(MADE) or word.startswith("-") or re.search(r"[=*\s\"'{}()]", word):
            continue
        if PATH_LIKE.search(word) and not (ROOT / word).exists():
            found.append(f"{command!r}: {word} is not in the repository")
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_shown_can_run(document):
    text, targets = document.read_text(encoding="utf-8"), makefile_targets()
    shown = commands(text)
    assert shown or not document.name.startswith("README"), "a README shows its commands"
    made = {path for command in shown for path in re.findall(r">>?\s*([^\s>]+)", command)}  # printf ... > x.yaml
    assert [p for command in shown for p in problems(command, targets, made)] == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_every_wheel_has_the_version(document):
    text = document.read_text(encoding="utf-8")
    links = [target.partition("#")[0] for target in LINK.findall(text)]
    # a page of the website (docs/<language>/) also links to the pages instructor.site stages beside it: the
    # edition's notebooks, its glossary, and its README as start.md
    folders = [document.parent]
    if document.parent.parent == ROOT / "docs":
        folders += [ROOT / "notebooks" / ("ko" if document.parent.name == "ko" else ""), ROOT / "notebooks"]
    staged = {"start.md"} if document.parent.parent == ROOT / "docs" else set()
    missing = [t for t in links if t and not re.match(r"^[a-z]+:", t) and t not in staged
               and not any((folder / t).exists() for folder in folders)]
    assert missing == []
    assert {found for found in WHEEL.findall(text)} <= {version()}


def test_the_readmes_show_the_students_commands_and_the_test():
    english, korean = (ROOT / "README.md").read_text(encoding="utf-8"), (ROOT / "README.ko.md").read_text("utf-8")
    assert {"make lab", "make lab-ko", "make test"} <= set(commands(english))
    assert {"make lab-ko", "make test"} <= set(commands(korean))
    assert any(command.startswith("git clone") for command in commands(korean)), "README.ko.md: the clone step"


def test_the_check_fails_on_what_cannot_run():
    targets = makefile_targets()
    assert problems("make lab", targets) == [] and problems("make run ARGS=--quick", targets) == []
    assert problems("make lba", targets) == ["'make lba': no make target 'lba'"]
    assert problems(".venv/bin/python -m instructor.nothing", targets)
    assert problems("python -m no_such_tool_here", targets)
    assert problems("pip install -r requirements-typo.txt", targets)
    assert problems(r".venv\Scripts\python -m pip install -r requirements.txt", targets) == []
    assert problems("printf 'x' > params.yaml", targets) == []
    assert problems("git clone <the course's git URL> torch-core-models", targets) == []
    assert commands("```bash\nmake lab    # open it\n# make gone\nmake a && make b\n```\nthen `make c`.") == [
        "make lab", "make a", "make b", "make c"]
