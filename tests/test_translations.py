"""The Korean edition (notebooks/ko/) is the English course in Korean: the same cells, the same code,
the same headings and hints, and every message of the helpers translated with the same placeholders.
A change to one edition's code or structure that the other does not get fails here."""

from __future__ import annotations

import ast
import json
import re

import pytest

from helpers import i18n
from instructor import translations as tx

EDITIONS = tx.editions()
IDS = [english.stem[:2] + ("s" if "solutions" in str(english) else "") for english, _ in EDITIONS]


def markdown_shape(text: str) -> list[str]:
    """What must match across editions in a Markdown cell: the headings' levels (and exercise numbers),
    hint blocks, links' targets, display math and code blocks."""
    shape = [m.group(1) + (m.group(2) or "")
             for m in re.finditer(r"^(#+) (?:(?:Exercise|연습) (\d+))?", text, flags=re.MULTILINE)]
    shape += [f"<details> x{text.count('<details>')}", f"``` x{text.count('```')}", f"$$ x{text.count('$$')}"]
    return shape + sorted(target.rsplit("/", 1)[-1] for target in re.findall(r"\]\(([^)#]+)", text))


@pytest.mark.parametrize(("english", "korean"), EDITIONS, ids=IDS)
def test_the_korean_notebook_has_the_same_cells_and_code(english, korean):
    assert korean.is_file(), f"{korean.relative_to(tx.ROOT)} is missing: every notebook has a Korean edition"
    en_cells, ko_cells = tx.cells(english), tx.cells(korean)
    assert [c["cell_type"] for c in ko_cells] == [c["cell_type"] for c in en_cells], "the same cells, in order"
    for number, (en, ko) in enumerate(zip(en_cells, ko_cells, strict=True)):
        where = f"{korean.name}, cell {number}"
        assert ko.get("metadata", {}).get("tags", []) == en.get("metadata", {}).get("tags", []), f"{where}: tags"
        if en["cell_type"] == "code":
            assert tx.code_shape(tx.source(ko)) == tx.code_shape(tx.source(en)), (
                f"{where}: the code differs from the English beyond comments and the text of strings:\n"
                f"--- English\n{tx.source(en)}\n--- Korean\n{tx.source(ko)}")
            if set(en.get("metadata", {}).get("tags", [])) & {"parameters", "results"}:
                strings = [ast.dump(n) for n in ast.walk(ast.parse(tx.source(en))) if isinstance(n, ast.Constant)]
                assert strings == [ast.dump(n) for n in ast.walk(ast.parse(tx.source(ko)))
                                   if isinstance(n, ast.Constant)], f"{where}: the batch-run cell's values differ"
        else:
            assert markdown_shape(tx.source(ko)) == markdown_shape(tx.source(en)), (
                f"{where}: headings, exercise numbers, hints, links, math or code blocks differ from the English")
    en_meta, ko_meta = (json.loads(p.read_text(encoding="utf-8"))["metadata"] for p in (english, korean))
    assert ko_meta["course"].get("quick") == en_meta["course"].get("quick"), "the quick settings match"
    assert ko_meta.get("kernelspec") == en_meta.get("kernelspec")


@pytest.mark.parametrize(("english", "korean"), EDITIONS, ids=IDS)
def test_the_korean_notebook_speaks_korean_and_chooses_it_once(english, korean):
    ko_cells = tx.cells(korean)
    prose = " ".join(tx.source(c) for c in ko_cells if c["cell_type"] == "markdown")
    assert len(i18n.HANGUL.findall(prose)) > 0.5 * len(re.findall(r"[A-Za-z]", prose)), "the prose is in Korean"
    meta = [json.loads(p.read_text(encoding="utf-8"))["metadata"]["course"]["language"] for p in (english, korean)]
    assert meta == ["en", "ko"], "metadata course.language names the edition (helpers/edition.py reads it)"


def _messages() -> list[tuple[str, int, str]]:
    """Every literal English message passed to ``tr`` in helpers/: (file, line, text)."""
    found = []
    for path in sorted((tx.ROOT / "helpers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args:
                first = node.args[0]
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path.name}:{node.lineno}: tr() takes a literal English text (an f-string cannot be looked up)")
                found.append((path.name, node.lineno, first.value))
    return found


def test_every_english_message_has_a_korean_translation_with_the_same_placeholders():
    table = json.loads((tx.ROOT / "helpers" / "locale" / "ko.json").read_text(encoding="utf-8"))
    messages = _messages()
    assert len(messages) > 100, f"only {len(messages)} messages go through tr()"
    problems = []
    for file, line, text in messages:
        if text not in table:
            problems.append(f"{file}:{line}: no Korean for {text!r}")
        elif sorted(i18n.placeholders(table[text])) != sorted(i18n.placeholders(text)):
            problems.append(f"{file}:{line}: placeholders differ: {text!r} -> {table[text]!r}")
        elif not i18n.HANGUL.search(table[text]) and re.search(r"[a-z]{4}", re.sub(r"\{[^}]*\}|`[^`]*`", "", text)):
            problems.append(f"{file}:{line}: the 'Korean' is not Korean: {table[text]!r}")
    unused = sorted(set(table) - {text for _, _, text in messages})
    assert problems == [] and unused == [], "\n".join(problems + [f"unused entry: {u!r}" for u in unused])


def test_tr_translates_fills_in_and_falls_back():
    assert i18n.language() == "en"
    assert i18n.tr("{name} must be an integer >= 1, got {value!r}", name="EPOCHS", value=0) == (
        "EPOCHS must be an integer >= 1, got 0")
    i18n.set_language("ko")
    try:
        korean = i18n.tr("{name} must be an integer >= 1, got {value!r}", name="EPOCHS", value=0)
        assert "EPOCHS" in korean and "0" in korean and i18n.HANGUL.search(korean), korean
        assert i18n.tr("a text with no entry {x}", x=1) == "a text with no entry 1"
        with pytest.raises(ValueError, match="`language`는 'en', 'ko' 중 하나여야 합니다. 받은 값: 'kr'"):
            i18n.set_language("kr")
        assert i18n.language() == "ko", "a refused language changes nothing"
    finally:
        i18n.set_language("en")  # the language and matplotlib's fonts as the next test expects them


#: Calls whose text reaches the student; their message must come from ``tr``.
SHOWN = {"print", "wrong", "correct", "warn", "ValueError", "TypeError", "RuntimeError", "FileNotFoundError",
         "ModuleNotFoundError", "KeyError", "IndexError", "MNISTDataError"}


def test_no_message_reaches_the_student_without_tr():
    """A literal or f-string message passed straight to ``print``, ``wrong``/``correct``, a warning or an
    exception in helpers/ would stay English in the Korean edition."""
    raw = []
    for path in sorted((tx.ROOT / "helpers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                first = node.args[0]
                parts = first.values if isinstance(first, ast.JoinedStr) else [first]
                literal = "".join(p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str))
                text = re.search(r"[a-z]{3} [a-z]{2}", literal)  # words, not just "DEVICE: {exc}"
                if name in SHOWN and text:
                    raw.append(f"{path.relative_to(tx.ROOT)}:{node.lineno}: {name}({ast.unparse(first)[:80]})")
    assert raw == [], "messages not translated (wrap them in tr(...)):\n" + "\n".join(raw)


ALL_NOTEBOOKS = sorted(p for p in tx.NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.relative_to(tx.NOTEBOOKS).as_posix())
def test_bold_and_italics_render_in_both_editions(path):
    """CommonMark (JupyterLab's renderer too) does not close ``**`` after punctuation when a letter follows:
    ``**과적합(overfitting)**은`` shows its asterisks. Korean particles make that easy to write."""
    import mistune

    for number, cell in enumerate(tx.cells(path)):
        if cell["cell_type"] == "markdown":
            html = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", mistune.html(tx.source(cell)), flags=re.DOTALL)
            assert "**" not in html, f"cell {number}: '**' shows as text: {html[html.index('**') - 60:][:140]!r}"
