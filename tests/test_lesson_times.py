"""The time a lesson says it takes is the time the course tables say.

Each lesson's first cell states its time ("About 35 minutes for the lesson, 45 for the exercises";
Korean: "약 35분, 연습 문제 약 45분"). README.md, README.ko.md and the site's course page repeat it in
their course tables as "35 + 45 min" / "35 + 45분". A reviewer found the two disagreeing after a
lesson grew: the lesson is the source, the tables follow it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TABLES = {"README.md": "en", "docs/en/course.md": "en", "README.ko.md": "ko"}


def stated_minutes(path: Path, language: str) -> tuple[int, int]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = "".join(cells[0]["source"])
    pattern = (r"About (\d+) minutes for the lesson, (\d+) for the exercises" if language == "en"
               else r"약 (\d+)분[^\n]*?(\d+)분")
    found = re.search(pattern, first)
    assert found, f"{path.relative_to(ROOT)}: its first cell states no time in the form {pattern!r}"
    return int(found.group(1)), int(found.group(2))


@pytest.mark.parametrize("lesson", LESSONS)
def test_both_editions_of_a_lesson_state_the_same_time(lesson):
    assert stated_minutes(ROOT / "notebooks" / f"{lesson}.ipynb", "en") == \
        stated_minutes(ROOT / "notebooks" / "ko" / f"{lesson}.ipynb", "ko")


@pytest.mark.parametrize("table", TABLES)
def test_the_course_tables_give_each_lesson_its_own_time(table):
    text = (ROOT / table).read_text(encoding="utf-8")
    for lesson in LESSONS:
        row = next((line for line in text.splitlines() if line.startswith("|") and f"`{lesson}`" in line), None)
        if row is None:
            continue  # a table may leave a lesson out; test_readme_commands checks what it links
        minutes = stated_minutes(ROOT / "notebooks" / f"{lesson}.ipynb", "en")
        shown = re.search(r"(\d+) \+ (\d+) ?(min|분)", row)
        assert shown and (int(shown.group(1)), int(shown.group(2))) == minutes, (
            f"{table}: {lesson}'s row says {shown.group(0) if shown else 'no time'}; "
            f"the lesson says {minutes[0]} + {minutes[1]}")
