"""The lesson page's promises, read off the committed lessons: a "You will learn" box of at most 12
terms matched by the recap, a main path of at most 1,800 words, the time it takes, and exercises that
teach before they tell (two hints each: the idea, then the code; one "write the loop" exercise)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_TERMS = 12
MAX_MAIN_PATH_WORDS = 1800


def markdown_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def box_terms(first_cell: str) -> list[str]:
    """The bold terms of the bullets under ``**You will learn**`` in the lesson's first cell."""
    after = first_cell.split("**You will learn**", 1)
    assert len(after) == 2, "the first cell has a '**You will learn**' box"
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


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_the_box_lists_a_few_terms_and_the_recap_matches_them(path):
    cells = markdown_cells(path)
    terms = box_terms(cells[0])
    assert 3 <= len(terms) <= MAX_TERMS, f"{len(terms)} terms in the box: {terms}"
    recap = plain(cells[index_of(cells, "## Recap")])
    missing = [t for t in terms if plain(t) not in recap]
    assert missing == [], f"the recap does not mention {missing}"
    assert re.search(r"\d+ minutes", cells[0]), "the first cell says how long the lesson and exercises take"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_the_main_path_is_short_and_the_sections_come_in_order(path):
    cells = markdown_cells(path)
    further, exercises = index_of(cells, "## Going further"), index_of(cells, "## Exercises")
    batch = index_of(cells, "## For batch runs")
    assert index_of(cells, "## Recap") < further < exercises < batch
    words = sum(len(re.sub(r"<[^>]+>", " ", text).split()) for text in cells[:further])
    assert words <= MAX_MAIN_PATH_WORDS, f"main path has {words} words of prose"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_every_exercise_nudges_first_then_shows_the_code(path):
    cells = markdown_cells(path)
    exercises = "\n".join(cells[index_of(cells, "## Exercises") : index_of(cells, "## For batch runs")])
    sections = re.split(r"^### ", exercises, flags=re.MULTILINE)[1:]
    titles = [s.splitlines()[0] for s in sections]
    assert len(sections) >= 5 and all(t.startswith("Exercise ") for t in titles), titles
    assert any("loop" in t.lower() for t in titles), f"one exercise writes a loop: {titles}"
    for title, text in zip(titles, sections, strict=True):
        summaries = re.findall(r"<summary>(.*?)</summary>", text)
        assert len(summaries) == 2 and summaries[0].startswith("Hint 1") and summaries[1].startswith("Hint 2"), (
            f"{title}: two collapsed hints, 'Hint 1' (the idea) then 'Hint 2' (the code); got {summaries}"
        )
