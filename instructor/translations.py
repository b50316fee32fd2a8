"""The Korean edition (notebooks/ko/) kept in step with the English notebooks.

    python -m instructor.translations     # rewrite helpers/locale/ko_notebooks.json from the notebooks

Each Korean notebook has the English notebook's cells, in the same order, with the same types and
tags; its code cells have the same syntax trees once comments and the text of string literals are
set aside (an f-string keeps its expressions, in any order, so a Korean sentence can put the numbers
where Korean puts them). ``tests/test_translations.py`` checks that, and that the Markdown has the
same headings and hints.

The pairs of string literals that this matching yields (Korean text -> English text) are written to
``helpers/locale/ko_notebooks.json``: a figure drawn where no Hangul font exists turns its Korean
labels back into English with it (``helpers.i18n.to_english``).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from helpers.i18n import HANGUL

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KOREAN = NOTEBOOKS / "ko"
TABLE = ROOT / "helpers" / "locale" / "ko_notebooks.json"


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


def _template(node: ast.JoinedStr | ast.Constant, names: list[str]) -> str:
    """A string literal as a template: literal braces doubled, each f-string field ``{N}``, where N is
    the field's index among ``names`` (the English f-string's fields)."""
    if isinstance(node, ast.Constant):
        return node.value.replace("{", "{{").replace("}", "}}")
    text, fields = "", _fields(node)
    for value in node.values:
        if isinstance(value, ast.Constant):
            text += value.value.replace("{", "{{").replace("}", "}}")
        else:
            field = fields.pop(0)
            text += "{" + str(names.index(field)) + "}"
    return text


def _strings(code: str) -> list[ast.JoinedStr | ast.Constant]:
    """The string literals of ``code`` in tree order (an f-string counts once, not its parts)."""
    found: list[ast.JoinedStr | ast.Constant] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            found.append(node)
            return
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(ast.parse(code))
    return found


def string_pairs(english: str, korean: str) -> dict[str, str]:
    """Korean template -> English template for every literal the Korean code writes in Hangul."""
    pairs = {}
    for en, ko in zip(_strings(english), _strings(korean), strict=True):
        names = _fields(en) if isinstance(en, ast.JoinedStr) else []
        ko_text = _template(ko, names)
        if HANGUL.search(ko_text):
            pairs[ko_text] = _template(en, names)
    return pairs


def notebook_table() -> dict[str, str]:
    """Every Korean -> English string pair of every notebook's code, sorted by the Korean."""
    table: dict[str, str] = {}
    for english, korean in editions():
        if not korean.is_file():
            continue
        for en_cell, ko_cell in zip(cells(english), cells(korean), strict=False):
            if en_cell["cell_type"] == ko_cell["cell_type"] == "code":
                try:
                    table.update(string_pairs(source(en_cell), source(ko_cell)))
                except (SyntaxError, ValueError):
                    continue  # the sync test reports a mismatch; the table skips the cell
    return dict(sorted(table.items()))


def render_table(table: dict[str, str] | None = None) -> str:
    """``table`` (default: ``notebook_table()``) as the JSON file holds it."""
    return json.dumps(notebook_table() if table is None else table, ensure_ascii=False, indent=1) + "\n"


def main() -> int:
    table = notebook_table()  # every notebook parsed once
    TABLE.write_text(render_table(table), encoding="utf-8")
    print(f"{TABLE.relative_to(ROOT)}: {len(table)} texts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
