"""The lesson's pace (issue 24, item 1): every torch and course-helper name a main-path code cell uses is
named in the prose before it (in backticks, as code), and the main path gives its new names room: at
least MIN_WORDS_PER_NAME words of English prose per name, in at most MAX_MAIN_PATH_WORDS words.

The main path is everything before "## Going further", less its collapsed ``<details>`` blocks (for the word
count; a name may be introduced in one). A name counts at its first use in the course
(an earlier lesson's main path introduced it: not again), in a code cell
(imports aside): an attribute of ``torch``, ``nn``, ``F`` or ``optim`` (``nn.Linear`` -> ``Linear``), a
name imported from ``torch...`` or ``helpers``, or one of the tensor, module and optimizer methods in
METHODS (``x.view(...)`` -> ``view``)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KOREAN = sorted((ROOT / "notebooks" / "ko").glob("[0-9][0-9]_*.ipynb"))
EDITIONS = [(p, "en") for p in LESSONS] + [(p, "ko") for p in KOREAN]
IDS = [("ko/" if lang == "ko" else "") + p.name[:2] for p, lang in EDITIONS]
FURTHER = {"en": "## Going further", "ko": "## 더 나아가기"}
TORCH_MODULES = {"torch", "nn", "F", "optim"}
#: Methods of tensors, modules and optimizers that a learner must be told about before meeting them.
METHODS = {
    "argmax", "backward", "contiguous", "detach", "eval", "flatten", "item", "load_state_dict", "numel",
    "parameters", "permute", "requires_grad_", "reshape", "squeeze", "state_dict", "step", "stride", "train",
    "transpose", "unsqueeze", "view", "zero_grad", "no_grad",
}
MIN_WORDS_PER_NAME = 100
MAX_MAIN_PATH_WORDS = 3500


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def main_path(path: Path, lang: str) -> list[dict]:
    all_cells = cells(path)
    ends = [i for i, c in enumerate(all_cells) if c["cell_type"] == "markdown" and text(c).startswith(FURTHER[lang])]
    assert len(ends) == 1, f"one '{FURTHER[lang]}' heading"
    return all_cells[: ends[0]]


def code_names(source: str, imported: set[str]) -> list[str]:
    """The torch and helper names ``source`` uses, in order of appearance (imports skipped)."""
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    tree = ast.parse(source)
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                module = getattr(node, "module", None) or alias.name
                if module.split(".")[0] in ("torch", "helpers") and alias.name != "*":
                    imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Attribute):
            root = node.value
            if isinstance(root, ast.Name) and root.id in TORCH_MODULES:
                found.append((node.lineno, node.col_offset, node.attr))
            elif node.attr in METHODS:
                found.append((node.lineno, node.end_col_offset or 0, node.attr))
        elif isinstance(node, ast.Name) and node.id in imported and node.id not in TORCH_MODULES:
            found.append((node.lineno, node.col_offset, node.id))
    # names imported in this very cell count from their first use, which follows the imports
    return [name for *_, name in sorted(found)]


def named_in_prose(markdown: str) -> set[str]:
    """Identifiers that appear inside inline code or code blocks of ``markdown``."""
    spans = re.findall(r"```.*?```|`[^`\n]+`", markdown, flags=re.DOTALL)
    return {token for span in spans for token in re.findall(r"[A-Za-z_][A-Za-z_0-9]*", span)}


def earlier_names(path: Path, lang: str) -> set[str]:
    """The names the earlier lessons' main paths used: the learner has met them."""
    earlier = [p for p in path.parent.glob("[0-9][0-9]_*.ipynb") if p.name < path.name]
    return {name for p in earlier for _, name, _ in first_uses(p, lang, known=set())}


def first_uses(path: Path, lang: str, known: set[str] | None = None) -> list[tuple[int, str, bool]]:
    """(cell index, name, named in the prose before it) for each name's first use on the main path
    that an earlier lesson's main path (``known``; by default, found) did not use."""
    prose: set[str] = set()
    seen: set[str] = set(earlier_names(path, lang) if known is None else known)
    imported: set[str] = set()
    result = []
    for index, cell in enumerate(main_path(path, lang)):
        if cell["cell_type"] == "markdown":
            prose |= named_in_prose(text(cell))
            continue
        for name in code_names(text(cell), imported):
            if name not in seen:
                seen.add(name)
                result.append((index, name, name in prose))
    return result


@pytest.mark.parametrize(("path", "lang"), EDITIONS, ids=IDS)
def test_every_name_is_named_in_the_prose_before_its_first_use(path, lang):
    unnamed = [f"cell {i}: {name}" for i, name, named in first_uses(path, lang) if not named]
    assert unnamed == [], f"used before the prose names it in backticks: {unnamed}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.name[:2] for p in LESSONS])
def test_the_main_path_gives_each_new_name_room(path):
    # a collapsed <details> block is off the main path: a reader opens it or not
    words = sum(len(re.sub(r"<details>.*?</details>|<[^>]+>|```.*?```", " ", text(c), flags=re.DOTALL).split())
                for c in main_path(path, "en") if c["cell_type"] == "markdown")
    names = len(first_uses(path, "en"))
    assert words <= MAX_MAIN_PATH_WORDS, f"{words} words on the main path"
    assert words >= MIN_WORDS_PER_NAME * names, (
        f"{words} words for {names} new names: {words / names:.0f} per name, want {MIN_WORDS_PER_NAME}+; "
        "move names off the main path or explain them")


def test_the_name_finder_sees_torch_helpers_and_methods():
    imported: set[str] = set()
    source = "from helpers import fit\nimport torch\nx = torch.zeros(2).view(1, 2)\nfit(nn.Linear(2, 1), x)\n"
    assert code_names(source, imported) == ["zeros", "view", "fit", "Linear"]
    assert named_in_prose("Call `fit(model)`; ```python\nnn.Linear(2, 1)\n```") >= {"fit", "nn", "Linear"}
