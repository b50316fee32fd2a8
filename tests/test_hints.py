"""Exercises that leave the work to the student (issue 24, item 7): hint 2 is a skeleton (blanks ``___``,
or only the names to use), never the solution; each solution shows the right answer next to a common
wrong one and what the checker says about it (two calls of the exercise's checker)."""

from __future__ import annotations

import difflib
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HINT2 = {"en": "Hint 2", "ko": "힌트 2"}
HEADING = {"en": r"^##+ Exercise (\d+)", "ko": r"^##+ 연습 (\d+)"}
#: A hint whose code tokens match the solution's this closely hands the answer over.
MAX_SIMILARITY = 0.6


def pairs() -> list[tuple[Path, Path, str]]:
    found = []
    for folder, lang in ((ROOT / "notebooks", "en"), (ROOT / "notebooks" / "ko", "ko")):
        for lesson in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
            solution = folder / "solutions" / f"{lesson.stem}_solutions.ipynb"
            found.append((lesson, solution, lang))
    return found


PAIRS = pairs()
IDS = [("ko/" if lang == "ko" else "") + lesson.name[:2] for lesson, _, lang in PAIRS]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def sections(path: Path, lang: str) -> dict[int, list[dict]]:
    """Exercise number -> the cells from its heading to the next heading of level 2 or 3."""
    found: dict[int, list[dict]] = {}
    current = None
    for cell in cells(path):
        source = text(cell)
        numbers = re.findall(HEADING[lang], source, flags=re.MULTILINE) if cell["cell_type"] == "markdown" else []
        if numbers:  # "## Exercises" may open the cell that holds "### Exercise 1"
            current = int(numbers[-1])
            found[current] = [cell]
        elif cell["cell_type"] == "markdown" and re.match(r"##+ ", source):
            current = None
        elif current is not None:
            found[current].append(cell)
    return found


def hint2_code(markdown: str, lang: str) -> str:
    """The code blocks inside the collapsed hint 2."""
    hint = re.search(rf"<summary>{HINT2[lang]}.*?</summary>(.*?)</details>", markdown, flags=re.DOTALL)
    assert hint, "a collapsed hint 2"
    return "\n".join(re.findall(r"```(?:python)?\n(.*?)```", hint.group(1), flags=re.DOTALL))


def tokens(code: str) -> list[str]:
    """Code tokens without comments, blank lines or the checker's own lines."""
    kept = "\n".join(line for line in code.splitlines() if "check." not in line and "feedback" not in line)
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(kept).readline):
            if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                tokenize.ENDMARKER):
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError):  # a skeleton may not be complete Python
        out = re.findall(r"\w+|[^\w\s]", re.sub(r"#.*", "", kept))
    return out


def similarity(hint: str, solution: str) -> float:
    """How alike the two codes are, 0 to 1: difflib's ratio of their token sequences."""
    a, b = tokens(hint), tokens(solution)
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@pytest.mark.parametrize(("lesson", "solution", "lang"), PAIRS, ids=IDS)
def test_hint_2_is_a_skeleton_not_the_solution(lesson, solution, lang):
    exercises, answers = sections(lesson, lang), sections(solution, lang)
    assert sorted(exercises) == sorted(answers), "the solutions answer every exercise, by number"
    too_close = []
    for number, part in exercises.items():
        hint = hint2_code("\n".join(text(c) for c in part if c["cell_type"] == "markdown"), lang)
        if hint.strip() and "___" not in hint:
            too_close.append(f"Exercise {number}: hint 2's code has no blank ___")
        answer = "\n".join(text(c) for c in answers[number] if c["cell_type"] == "code")
        score = similarity(hint, answer)
        if score > MAX_SIMILARITY:
            too_close.append(f"Exercise {number}: hint 2 is {score:.0%} the solution's code")
    assert too_close == [], "\n".join(too_close)


@pytest.mark.parametrize(("lesson", "solution", "lang"), PAIRS, ids=IDS)
def test_each_solution_shows_a_common_wrong_answer_and_its_feedback(lesson, solution, lang):
    missing = []
    for number, part in sections(solution, lang).items():
        calls = sum(len(re.findall(rf"check\.exercise_{number}\(", text(c))) for c in part if c["cell_type"] == "code")
        if calls < 2:
            missing.append(f"Exercise {number}: {calls} call(s) of check.exercise_{number}")
    assert missing == [], "run the checker on a common wrong answer and the right one: " + "; ".join(missing)


def test_the_similarity_flags_a_copy_and_spares_a_skeleton():
    answer = "def f(x):\n    m = x.mean(0)\n    s = x.std(0)\n    return (x - m) / s\n"
    assert similarity(answer, answer + "feedback[1] = check.exercise_1(f)\n") == 1.0
    skeleton = "m = x.___(0)  # the mean of each column\ns = ___\nreturn ___\n"
    assert similarity(skeleton, answer) < MAX_SIMILARITY
