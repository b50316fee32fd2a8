"""helpers.exercises: the checker core (statuses, whose error, the session left as it was)."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

import helpers.exercises as core
from helpers import i18n
from helpers.exercises import CHECKER_BUG, CORRECT, NOT_ATTEMPTED, WRONG, StudentError, checker, correct, student, wrong


@checker("Exercise 1")
def check_double(student_double):
    """Checks a function that doubles a number."""
    got = student(student_double, 21)
    if got != 42:
        return wrong(f"double(21) gave {got!r}; multiply by 2.")
    return correct("double(21) == 42.")


def scaffold(x):
    raise NotImplementedError  # YOUR CODE HERE


def test_a_right_answer_passes_with_its_message(session_untouched):
    feedback = check_double(lambda x: 2 * x)
    assert feedback.passed and feedback.status == CORRECT
    assert repr(feedback) == "[ok] Exercise 1: correct. double(21) == 42."


def test_a_wrong_answer_says_what_is_wrong(session_untouched):
    feedback = check_double(lambda x: x + 2)
    assert not feedback.passed and feedback.status == WRONG
    assert repr(feedback) == "[x] Exercise 1: not yet right. double(21) gave 23; multiply by 2."


def test_an_untouched_scaffold_reads_not_attempted(session_untouched):
    for feedback in (check_double(None), check_double(student_double=None), check_double(scaffold)):
        assert feedback.status == NOT_ATTEMPTED and not feedback.passed
        assert repr(feedback).startswith("[ ] Exercise 1: not attempted yet. Fill in the lines marked # YOUR CODE HERE")


def test_a_changed_check_line_is_the_students_and_says_how_it_reads(session_untouched):
    """``check.exercise_1(double, 5)``: the student edited the check line, the checker has no bug."""
    for feedback in (check_double(lambda x: 2 * x, 5), check_double(double=lambda x: 2 * x), check_double()):
        assert feedback.status == WRONG, feedback
        assert feedback.message.startswith("the check line was changed (")
        assert "write it as check.check_double(student_double)" in feedback.message


def students_division(x):
    half = x / "2"  # the student's bug
    return half


def test_an_error_in_the_students_code_names_their_line(session_untouched):
    feedback = check_double(students_division)
    assert feedback.status == WRONG
    assert feedback.message.startswith("your code raised TypeError: unsupported operand")
    assert 'in students_division, line' in feedback.message and 'half = x / "2"' in feedback.message


def test_the_student_wrapper_lets_a_check_catch_the_students_error_by_name():
    @checker("Exercise 2")
    def check_shape(fn):
        try:
            student(fn, torch.zeros(2, 3))
        except StudentError as error:
            return wrong(f"targeted: {type(error.error).__name__}")
        return correct("fine")

    assert check_shape(lambda x: x.view(4)).message == "targeted: RuntimeError"


# A checker whose own code is buggy: compiled as if it lived in the helpers package, as a real
# checker does, so that its frames are the course's and not the student's.
_BUGGY_CHECKER = '''
def check(fn):
    value = student(fn, 3)
    return correct(f"{value[0]}")  # the checker's bug: indexing an int
'''


def test_a_bug_in_the_checker_is_reported_as_the_courses_bug_with_its_traceback(session_untouched):
    namespace = {"student": student, "correct": correct}
    fake_path = Path(core.__file__).with_name("lesson99.py")
    exec(compile(_BUGGY_CHECKER, str(fake_path), "exec"), namespace)
    feedback = checker("Exercise 9")(namespace["check"])(lambda x: x)
    assert feedback.status == CHECKER_BUG and not feedback.passed
    assert "bug in the course's checker, not in your code" in feedback.message
    assert "TypeError" in feedback.message and "Traceback" in feedback.message
    assert repr(feedback).startswith("[!] Exercise 9: checker error.")


def test_a_checker_that_returns_no_verdict_is_a_checker_bug():
    namespace = {}
    source = "def check(x):\n    return 42\n"
    exec(compile(source, str(Path(core.__file__).with_name("lesson98.py")), "exec"), namespace)
    assert checker("Exercise 8")(namespace["check"])(1).status == CHECKER_BUG


def test_a_checker_that_changes_the_session_leaves_it_as_it_was(session_untouched):
    """Reseeding, threads, grad mode, dtype, warning filters and the student's model all come back."""
    with torch.random.fork_rng():  # building the model is the test's doing, not the checker's
        model = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5))
    weights = [p.detach().clone() for p in model.parameters()]
    filters = list(warnings.filters)

    @checker("Exercise 3")
    def careless(student_model):
        torch.manual_seed(0)
        np.random.seed(0)
        random.seed(0)
        torch.randn(5)
        torch.set_num_threads(3)
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float64)
        warnings.simplefilter("ignore")
        student_model.eval()
        with torch.no_grad():
            student_model[0].weight.fill_(7.0)
        return correct("done")

    assert careless(model).passed
    assert model.training and model[1].training
    assert all(torch.equal(p, w) for p, w in zip(model.parameters(), weights, strict=True))
    assert warnings.filters == filters
    assert torch.get_default_dtype() == torch.float32


def test_feedback_is_wrapped_for_the_notebook_page_but_a_traceback_is_not():
    from helpers.exercises import Feedback

    long = Feedback("Exercise 4", WRONG, "word " * 60 + "\nTraceback (most recent call last):\n  File " + "x" * 150)
    lines = repr(long).splitlines()
    assert all(len(line) <= 100 for line in lines[:-2]) and lines[1].startswith("    word")
    assert lines[-1] == "  File " + "x" * 150


def test_feedback_shows_code_without_the_backticks_that_mark_it():
    """The Korean messages mark code with backticks (tests/test_korean_terms.py reads them); the learner's
    plain-text line shows the code alone."""
    from helpers.exercises import Feedback

    shown = repr(Feedback("Exercise 1", WRONG, "타깃은 `(n, 1)` 모양으로, `y.view(-1, 1)`처럼 넘기세요."))
    assert "`" not in shown and "(n, 1) 모양으로, y.view(-1, 1)처럼" in shown


def test_the_checker_keeps_the_check_functions_name_and_docstring():
    assert check_double.__name__ == "check_double"
    assert check_double.__doc__ == "Checks a function that doubles a number."


# The Korean edition: the same checks, every line a student reads in Korean (issue 17).



def test_in_korean_the_statuses_and_the_exercise_name_are_korean_but_the_constants_stay(korean, session_untouched):
    right, wrong_answer, untouched = check_double(lambda x: 2 * x), check_double(lambda x: x + 2), check_double(None)
    assert (right.status, wrong_answer.status, untouched.status) == (CORRECT, WRONG, NOT_ATTEMPTED)
    assert repr(right) == "[ok] 연습 1: 정답. double(21) == 42."
    assert repr(wrong_answer) == "[x] 연습 1: 아직 맞지 않음. double(21) gave 23; multiply by 2."
    assert repr(untouched) == (
        "[ ] 연습 1: 아직 풀지 않음. # YOUR CODE HERE 표시가 있는 줄을 채운 뒤 이 셀을 실행하세요.")
    named = core.Feedback("Exercise 6 (diagnose this run)", WRONG, "…")
    assert repr(named).startswith("[x] 연습 6 (실행 진단): 아직 맞지 않음.")
    assert repr(core.Feedback("Warm-up", CORRECT, "ok")) == "[ok] Warm-up: 정답. ok", "other names are shown as given"


def test_in_korean_the_students_error_names_its_type_and_line(korean, session_untouched):
    feedback = check_double(students_division)
    assert feedback.status == WRONG
    assert feedback.message.startswith("여러분의 코드에서 TypeError 예외가 발생했습니다: unsupported operand"), feedback
    assert "(students_division, " in feedback.message and '번째 줄: half = x / "2"' in feedback.message
    assert core._raised(KeyError(), "") == "여러분의 코드에서 KeyError 예외가 발생했습니다."
    assert core._raised(KeyError(), "f, 3번째 줄: d[k]") == (
        "여러분의 코드에서 KeyError 예외가 발생했습니다(f, 3번째 줄: d[k]).")
    assert core._raised(ValueError("bad"), "") == "여러분의 코드에서 ValueError 예외가 발생했습니다: bad."


def test_in_korean_a_checker_bug_asks_for_a_report_and_keeps_pythons_traceback(korean):
    namespace: dict = {}
    exec(compile("def check(fn):\n    return 1 / 0\n", str(Path(core.__file__).with_name("lesson99.py")), "exec"),
         namespace)
    feedback = checker("Exercise 9")(namespace["check"])(lambda x: x)
    assert feedback.status == CHECKER_BUG
    assert repr(feedback).startswith("[!] 연습 9: 채점기 오류. 여러분의 코드가 아니라 강좌 채점기의 버그입니다.")
    assert "Traceback (most recent call last):" in feedback.message and "ZeroDivisionError" in feedback.message
    returned = checker("Exercise 8")(lambda fn: "not a verdict")(1)
    assert returned.status == CHECKER_BUG and "<lambda>의 반환값: 'not a verdict'" in returned.message


def test_korean_feedback_is_wrapped_by_display_width_hangul_taking_two_columns(korean):
    message = "각 배치의 손실에 행 수를 곱해 더하고 전체 행 수로 나누세요. " * 12
    text = repr(core.Feedback("Exercise 4", WRONG, message))
    lines = text.splitlines()
    assert len(lines) > 1 and all(core._columns(line) <= 100 for line in lines), text
    assert max(core._columns(line) for line in lines) > 90, "lines are filled, not broken early"
    assert all(line.startswith("    ") for line in lines[1:])
    whole = f"[x] 연습 4: 아직 맞지 않음. {message}"
    assert " ".join(text.split()) == " ".join(whole.split()), "no word is lost or cut"
    assert max(len(line) for line in lines) < 70, "by characters the lines are short: counting them would overflow"
    assert core._columns("x.view(B, -1) 배치") == 18


def test_the_language_is_english_again_after_a_korean_test():
    assert i18n.language() == "en"
    assert repr(check_double(None)).startswith("[ ] Exercise 1: not attempted yet.")


def test_english_feedback_wraps_exactly_as_textwrap_did():
    import textwrap

    texts = ["[x] Exercise 1: not yet right. " + "word " * 40 + "x" * 130 + " tail  two  spaces\tand a tab " * 5,
             "[ok] Exercise 2: correct. short.", "[ ] a " + "(B, 784) " * 30]
    for text in texts:
        assert core._wrap(text) == textwrap.fill(text, width=100, subsequent_indent="    ", break_long_words=False,
                                                 break_on_hyphens=False)
