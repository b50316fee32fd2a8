"""The Korean edition (notebooks/ko/) kept in step with the English notebooks.

Each Korean notebook has the English notebook's cells, in the same order, with the same types and
tags; its code cells have the same syntax trees once comments and the text of string literals are
set aside (an f-string keeps its expressions, in any order, so a Korean sentence can put the numbers
where Korean puts them). ``tests/test_translations.py`` checks that with the functions below, and that
the Markdown has the same headings and hints.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KOREAN = NOTEBOOKS / "ko"


def editions() -> list[tuple[Path, Path]]:
    """(English notebook, Korean notebook) for every lesson and solution notebook."""
    english = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    english += sorted((NOTEBOOKS / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return [(path, KOREAN / path.relative_to(NOTEBOOKS)) for path in english]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


class _SetAside(ast.NodeTransformer):
    """Strings become one placeholder; an f-string keeps only the sorted source of its expressions."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("<text>") if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return ast.Constant("<f-string: " + " | ".join(sorted(_fields(node))) + ">")


def _fields(node: ast.JoinedStr) -> list[str]:
    """The source of each ``{expression!conversion:spec}`` of an f-string, in order."""
    out = []
    for value in node.values:
        if isinstance(value, ast.FormattedValue):
            spec = ast.unparse(value.format_spec)[2:-1] if value.format_spec else ""  # f'...' -> ...
            out.append(f"{ast.unparse(value.value)}!{value.conversion}:{spec}")
    return out


def code_shape(code: str) -> str:
    """The syntax tree of ``code`` with comments and the text of strings set aside."""
    return ast.dump(_SetAside().visit(ast.parse(code)))

