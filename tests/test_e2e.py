"""make e2e can fail: the browser test of instructor.e2e on three tiny notebooks (tests/fixtures/e2e/).

- clean.ipynb: a figure, a widget progress bar, generated Markdown without dollar signs; must pass.
- raises.ipynb: a cell that raises; must fail (error output, and the cell after it never runs).
- dollars.ipynb: ``display(Markdown("costs $5 to $10"))``, which JupyterLab typesets as math; must fail.

The browser tests need Chromium and chromedriver from the system's packages and are skipped without
them (``make e2e`` says how to install them). The checks' logic is also tested without a browser.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from instructor import e2e

FIXTURES = Path(__file__).parent / "fixtures" / "e2e"
NOTEBOOKS = [FIXTURES / "clean.ipynb", FIXTURES / "raises.ipynb", FIXTURES / "dollars.ipynb"]

_no_browser = pytest.mark.skipif(
    e2e.find_browser() is None,
    reason="Chromium/chromedriver not installed (Debian/Ubuntu: sudo apt-get install chromium chromium-driver)",
)


def requires_browser(test):
    """Marked ``browser``: `make unit` deselects these (-m "not browser"), `make e2e` runs them."""
    return pytest.mark.browser(_no_browser(test))


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    """The three fixture notebooks run once in JupyterLab + headless Chromium, with Selenium Manager
    (which downloads drivers) made to fail if anything called it. Returns (reports by name, output
    folder, sha256 of each notebook before the run)."""
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS}
    output = tmp_path_factory.mktemp("e2e")

    def no_download(*args, **kwargs):
        raise AssertionError("Selenium Manager ran: it would download a browser driver")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SeleniumManager, "binary_paths", no_download)
        reports = e2e.run_all(NOTEBOOKS, output, timeout=180, jobs=2, verbose=False)
    return {r.name: r for r in reports}, output, before


@requires_browser
def test_clean_notebook_passes_with_figure_and_widget(fixture_run):
    reports, output, _ = fixture_run
    clean = reports["clean"]
    assert clean.problems == [] and clean.status == "ok"
    assert clean.images >= 1 and clean.figure_cells == 1 and clean.widgets >= 1
    assert clean.screenshots and all(Path(s).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for s in clean.screenshots)


@requires_browser
def test_raising_cell_fails_the_run(fixture_run):
    reports, _, _ = fixture_run
    raises = reports["raises"]
    assert raises.status == "failed"
    assert any("cell 2" in p and "error output ValueError: a cell that raises" in p for p in raises.problems)
    assert any("1 code cells did not run" in p and "cells 3" in p for p in raises.problems)


@requires_browser
def test_dollar_pair_in_generated_markdown_fails_the_run(fixture_run):
    reports, _, _ = fixture_run
    dollars = reports["dollars"]
    assert dollars.status == "failed"
    assert len(dollars.problems) == 1 and "math typesetting" in dollars.problems[0]


@requires_browser
def test_run_leaves_notebooks_unchanged_and_writes_report(fixture_run):
    reports, output, before = fixture_run
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS}
    assert after == before
    report = (output / "report.json").read_text()
    assert '"name": "dollars"' in report and '"load_average"' in report
    assert reports["clean"].seconds > 0


def test_missing_browser_explains_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr(e2e, "find_browser", lambda: None)
    assert e2e.main(["--only", "01"]) == 2
    message = capsys.readouterr().err
    assert "sudo apt-get install chromium chromium-driver" in message and "COURSE_E2E_BROWSER" in message


def test_select_by_number_and_unknown_key():
    assert [p.name for p in e2e.course_notebooks(["4"])] == ["04_mnist_classification.ipynb"]
    assert [p.name for p in e2e.course_notebooks(["4"], include_solutions=True)] == [
        "04_mnist_classification.ipynb", "04_mnist_classification_solutions.ipynb"]
    assert len(e2e.course_notebooks()) == 4  # the lessons, without their solutions
    with pytest.raises(e2e.E2EError, match="no such notebook"):
        e2e.course_notebooks(["99"])


def _shown(**values):
    """What the page showed for one cell (check_notebook's ``dom`` entry)."""
    return {"images": 0, "broken_images": 0, "widgets": 0, "progress": 0, "math": 0, "json": 0, "text": ""} | values


def _cell(source: str, outputs: list, tags: tuple[str, ...] = (), count: int | None = 1) -> dict:
    return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)}, "outputs": outputs,
            "execution_count": count}


ERROR = {"output_type": "error", "ename": "ValueError", "evalue": "shown on purpose", "traceback": []}
STDERR = {"output_type": "stream", "name": "stderr", "text": "UserWarning: careful\n"}
RESULTS = {"output_type": "display_data", "data": {"application/json": {"x": 1.0}}, "metadata": {}}


def test_tags_allow_what_a_cell_shows_on_purpose():
    cells = [_cell("raise ValueError()", [ERROR], ("raises-expected",)),
             _cell("warn()", [STDERR], ("stderr-expected",)),
             _cell("display(Math(...))", [], ("math-expected",)),
             _cell("display(JSON(results))", [RESULTS], ("results",))]
    shown = [_shown(), _shown(), _shown(math=2), _shown(json=1)]
    problems, _ = e2e.check_notebook({"cells": cells}, shown, "python3")
    assert problems == []


def test_untagged_error_stderr_math_and_missing_outputs_are_problems():
    png = {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}}
    widget = {"output_type": "display_data", "data": {e2e.WIDGET_MIME: {"model_id": "m"}}, "metadata": {}}
    cells = [_cell("raise ValueError()", [ERROR]),
             _cell("warn()", [STDERR]),
             _cell('display(Markdown("a $ b $"))', []),
             _cell("fig = plot_history(history)", []),
             _cell("fig", [png]),
             _cell("fit(model)", [widget]),
             _cell("display(JSON(results))", [], ("results",)),
             _cell("print(1)", [], count=None)]
    shown = [_shown(), _shown(), _shown(math=1), _shown(), _shown(), _shown(text="Error displaying widget"),
             _shown(), _shown()]
    problems, counts = e2e.check_notebook({"cells": cells}, shown, "other-kernel")
    expected = ["opened on kernel 'other-kernel'", "cell 1 ('raise ValueError()'): error output ValueError",
                "cell 2 ('warn()'): stderr output", "cell 3", "math typesetting",
                "cell 4 ('fig = plot_history(history)'): draws a figure but shows no image",
                "cell 5 ('fig'): 1 image outputs, 0 rendered", "'Error displaying widget'",
                "cell 6 ('fit(model)'): 1 widget outputs, 0 rendered", "cell 7", "shows no JSON",
                "1 code cells did not run (no execution count): cells 8"]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    assert counts == {"images": 0, "figure_cells": 1, "widgets": 0}
