"""helpers.exercises: Feedback and the checker decorator every lesson's checks are built on."""

from __future__ import annotations

from helpers.exercises import CORRECT, NOT_ATTEMPTED, WRONG, Feedback, checker, correct, wrong


@checker("Exercise 1")
def check_double(student_double) -> Feedback:
    """Checks a function that doubles a number."""
    if student_double(21) != 42:
        return wrong("Exercise 1", f"double(21) gave {student_double(21)!r}; multiply by 2.")
    return correct("Exercise 1", "double(21) == 42.")


def scaffold(x):
    raise NotImplementedError  # YOUR CODE HERE


def test_a_right_answer_passes_with_its_message():
    feedback = check_double(lambda x: 2 * x)
    assert feedback.passed and feedback.status == CORRECT
    assert repr(feedback) == "[ok] Exercise 1: correct. double(21) == 42."


def test_a_wrong_answer_says_what_is_wrong():
    feedback = check_double(lambda x: x + 2)
    assert not feedback.passed and feedback.status == WRONG
    assert repr(feedback) == "[x] Exercise 1: not yet right. double(21) gave 23; multiply by 2."


def test_an_untouched_scaffold_reads_not_attempted():
    for feedback in (check_double(None), check_double(student_double=None), check_double(scaffold)):
        assert feedback.status == NOT_ATTEMPTED and not feedback.passed
        assert repr(feedback).startswith("[ ] Exercise 1: not attempted yet. Fill in the lines marked # YOUR CODE HERE")


def test_an_error_in_the_students_code_becomes_feedback_not_a_traceback():
    feedback = check_double(lambda x: x / "2")
    assert feedback.status == WRONG
    assert feedback.message.startswith("your code raised TypeError: unsupported operand")


def test_the_checker_keeps_the_check_functions_name_and_docstring():
    assert check_double.__name__ == "check_double"
    assert check_double.__doc__ == "Checks a function that doubles a number."
