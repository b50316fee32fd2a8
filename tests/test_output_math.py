"""The root conftest.py's nbval hook: output that JupyterLab would typeset as math fails the cell."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent



def _load_root_conftest():
    spec = importlib.util.spec_from_file_location("course_root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


root = _load_root_conftest()


@pytest.mark.parametrize("text", ["costs $5 to $10", "5.0 to 50.0 k\\$ with a median of 21.2 k\\$", "$$x^2$$"])
def test_two_dollars_read_as_math(text):
    assert root.reads_as_math(text)


@pytest.mark.parametrize("text", ["5 k USD", "prices in thousand dollars", "a single $ sign", ""])
def test_no_pair_of_dollars_is_fine(text):
    assert not root.reads_as_math(text)


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def display(mime: str, value: object) -> dict:
    return {"output_type": "display_data", "data": {"text/plain": "<object>", mime: value}, "metadata": {}}


@pytest.mark.parametrize(
    "output",
    [
        stream("median 21.2 $k\nmax 50 $k\n"),
        display("text/plain", "range: $5 to $50"),
        display("text/markdown", ["The test RMSE is 3.1 k$, ", "the baseline 4.6 k$."]),
        display("text/html", "<p>$5</p><p>$10</p>"),
        display("application/json", {"note": "$5", "nested": [{"$k": 1}]}),
    ],
    ids=["stream", "text/plain", "text/markdown", "text/html", "application/json"],
)
def test_every_kind_of_output_text_is_checked(output):
    problems = root.math_in_outputs([output])
    assert len(problems) == 1 and "$" in problems[0]


def test_clean_outputs_and_pictures_pass():
    outputs = [stream("test RMSE 3.10 k USD\n"), display("image/png", "iVBORw0KGgo$$"), display("text/plain", "$1")]
    assert root.math_in_outputs(outputs) == []


class FakeCell:
    """What the hook needs of nbval's IPyNbCell: the executed outputs and its way to fail a cell."""

    def __init__(self, outputs: list[dict]):
        self.test_outputs = outputs

    def raise_cell_error(self, message: str) -> None:
        raise AssertionError(message)


def run_hook(item) -> object:
    hook = root.pytest_runtest_call(item)
    next(hook)  # the cell runs here
    with pytest.raises(StopIteration) as done:
        hook.send(None)
    return done.value.value


def test_the_hook_fails_a_cell_whose_output_reads_as_math_and_quotes_it():
    with pytest.raises(AssertionError, match=r"render as math in JupyterLab[\s\S]*stdout stream: costs \$5 to \$10"):
        run_hook(FakeCell([stream("costs $5 to $10\n")]))


def test_the_hook_lets_clean_cells_and_other_tests_pass():
    assert run_hook(FakeCell([stream("5 k USD\n")])) is None
    assert run_hook(object()) is None  # not a notebook cell: nothing to check
