"""The lesson page's promises, read off the committed lessons: a "You will learn" box of at most 12
terms matched by the recap, the time it takes, exercises that teach before they tell (two hints each: the
idea, then the code; one "write the loop" exercise), and links that stay in the reader's edition."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# The Korean edition (notebooks/ko/) keeps the same promises in its own words; tests/test_translations.py
# holds its structure and code to the English.
KOREAN = sorted((ROOT / "notebooks" / "ko").glob("[0-9][0-9]_*.ipynb"))
WORDS = {
    "en": {"box": "**You will learn**", "recap": "## Recap", "further": "## Going further",
           "exercises": "## Exercises", "batch": "## For batch runs", "exercise": "Exercise ", "loop": "loop",
           "hint": "Hint", "time": r"\d+ minutes"},
    "ko": {"box": "**이번 강의에서 배울 것**", "recap": "## 정리", "further": "## 더 나아가기",
           "exercises": "## 연습 문제", "batch": "## 일괄 실행용", "exercise": "연습 ", "loop": "루프",
           "hint": "힌트", "time": r"\d+분"},
}
EDITIONS = [(p, "en") for p in LESSONS] + [(p, "ko") for p in KOREAN]
IDS = [("ko/" if lang == "ko" else "") + p.name[:2] for p, lang in EDITIONS]
MAX_TERMS = 12


def markdown_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def box_terms(first_cell: str, box: str = WORDS["en"]["box"]) -> list[str]:
    """The bold terms of the bullets under ``**You will learn**`` (``box``) in the lesson's first cell."""
    after = first_cell.split(box, 1)
    assert len(after) == 2, f"the first cell has a '{box}' box"
    terms = []
    for line in after[1].strip().splitlines():
        match = re.match(r"[-*] \*\*(.+?)\*\*", line.strip())
        if not match:
            break
        terms.append(match.group(1))
    return terms


def index_of(cells: list[str], heading: str) -> int:
    found = [i for i, text in enumerate(cells) if text.lstrip().startswith(heading)]
    assert len(found) == 1, f"one cell starts with {heading!r}, found {len(found)}"
    return found[0]


def plain(text: str) -> str:
    return re.sub(r"[*`_]", "", text).lower()


@pytest.mark.parametrize(("path", "lang"), EDITIONS, ids=IDS)
def test_the_box_lists_a_few_terms_and_the_recap_matches_them(path, lang):
    cells, words = markdown_cells(path), WORDS[lang]
    terms = box_terms(cells[0], words["box"])
    assert 3 <= len(terms) <= MAX_TERMS, f"{len(terms)} terms in the box: {terms}"
    recap = plain(cells[index_of(cells, words["recap"])])
    missing = [t for t in terms if plain(t) not in recap]
    assert missing == [], f"the recap does not mention {missing}"
    assert re.search(words["time"], cells[0]), "the first cell says how long the lesson and exercises take"
    if lang == "ko":  # a Korean term's first use gives its English: 과적합(overfitting); argmax, `view` need none
        bare = [t for t in terms if "`" not in t and re.search("[가-힣]", re.sub(r"\(.*?\)", "", t))
                and not re.search(r"\([A-Za-z][^)]*\)", t)]
        assert bare == [], f"box terms without their English in parentheses: {bare}"


@pytest.mark.parametrize(("path", "lang"), EDITIONS, ids=IDS)
def test_the_sections_come_in_order(path, lang):
    cells, words = markdown_cells(path), WORDS[lang]
    further, exercises = index_of(cells, words["further"]), index_of(cells, words["exercises"])
    batch = index_of(cells, words["batch"])
    assert index_of(cells, words["recap"]) < further < exercises < batch
    # the main path's length: tests/test_pace.py (MAX_MAIN_PATH_WORDS, collapsed <details> left out)


@pytest.mark.parametrize(("path", "lang"), EDITIONS, ids=IDS)
def test_every_exercise_nudges_first_then_shows_the_code(path, lang):
    cells, words = markdown_cells(path), WORDS[lang]
    exercises = "\n".join(cells[index_of(cells, words["exercises"]) : index_of(cells, words["batch"])])
    sections = re.split(r"^### ", exercises, flags=re.MULTILINE)[1:]
    titles = [s.splitlines()[0] for s in sections]
    assert len(sections) >= 5 and all(t.startswith(words["exercise"]) for t in titles), titles
    assert any(words["loop"] in t.lower() for t in titles), f"one exercise writes a loop: {titles}"
    hint = words["hint"]
    for title, text in zip(titles, sections, strict=True):
        summaries = re.findall(r"<summary>(.*?)</summary>", text)
        assert len(summaries) == 2 and summaries[0].startswith(f"{hint} 1") and summaries[1].startswith(f"{hint} 2"), (
            f"{title}: two collapsed hints, 'Hint 1' (the idea) then 'Hint 2' (the code); got {summaries}"
        )


ALL_NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=[str(p.relative_to(ROOT / "notebooks")) for p in ALL_NOTEBOOKS])
def test_every_link_to_a_notebook_resolves_within_its_edition(path):
    """A reviewer found the Korean lesson 01 linking ../glossary.ipynb, the English glossary. A page may link
    its own twin in the other edition (the glossaries do)."""
    korean = (ROOT / "notebooks" / "ko") in path.parents
    bad = []
    for text in markdown_cells(path):
        for target in re.findall(r"\]\(([^)\s#]+\.ipynb)", text):
            if "://" in target:
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.exists():
                bad.append(f"{target}: no such notebook")
            elif korean != ((ROOT / "notebooks" / "ko") in resolved.parents) and resolved.name != path.name:
                bad.append(f"{target}: {resolved.relative_to(ROOT)} is in the other edition")
    assert bad == [], f"{path.relative_to(ROOT)}: {bad}"


MARKDOWN_PAGES = [ROOT / "README.md", ROOT / "README.ko.md", *sorted((ROOT / "docs").glob("*/*.md"))]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS + MARKDOWN_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_tilde_strikes_text_through(path):
    """JupyterLab and GitHub read two single tildes in a paragraph as strikethrough: the Korean ranges '0~29' and
    '1.03~2.7배' came out crossed out (a reviewer's screenshot). Outside code, a tilde is escaped: '0\\~29'."""
    texts = markdown_cells(path) if path.suffix == ".ipynb" else [path.read_text(encoding="utf-8")]
    bare = [line for text in texts
            for line in re.sub(r"```.*?```|`[^`\n]+`", " ", text, flags=re.DOTALL).splitlines()
            if re.search(r"(?<!\\)~", line)]
    assert bare == [], f"{path.relative_to(ROOT)}: escape these tildes as \\~: {bare[:3]}"
