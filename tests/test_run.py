"""The batch runner ``python -m instructor.run``, against a stand-in course built from
tests/fixtures/01_tiny.ipynb (never the course's notebooks). One run starts two kernels; every
other test stops before papermill executes anything, or replaces it."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from instructor import run

FIXTURE = Path(__file__).parent / "fixtures" / "01_tiny.ipynb"
DECLARED = "EPOCHS, LR, DATA_DIR, SEED, FAIL"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """Lessons 01_tiny and 02_tiny, solution solutions/01_tiny, and a file the runner must ignore."""
    folder = tmp_path_factory.mktemp("course")
    (folder / "solutions").mkdir()
    for name in ("01_tiny.ipynb", "02_tiny.ipynb", "solutions/01_tiny.ipynb"):
        shutil.copy(FIXTURE, folder / name)
    (folder / "notes.ipynb").write_text("{}")
    return folder


def summary_of(output: Path) -> dict[str, dict]:
    data = json.loads((output / "summary.json").read_text())
    assert list(data) == ["notebooks"]
    for entry in data["notebooks"]:
        assert list(entry) == ["name", "status", "seconds", "parameters", "results", "error"]
    return {entry["name"]: entry for entry in data["notebooks"]}


def test_the_korean_edition_comes_after_the_english_and_keys_reach_it(course, tmp_path):
    course = Path(shutil.copytree(course, tmp_path / "course"))
    (course / "ko" / "solutions").mkdir(parents=True)
    for name in ("01_tiny.ipynb", "solutions/01_tiny.ipynb"):
        (course / "ko" / name).write_bytes((course / name).read_bytes())
    notebooks = run.discover(course)
    assert list(notebooks) == ["01_tiny", "02_tiny", "solutions/01_tiny", "ko/01_tiny", "ko/solutions/01_tiny"]
    assert list(run.select(notebooks, ["ko/01"])) == ["ko/01_tiny", "ko/solutions/01_tiny"]
    assert list(run.select(notebooks, ["solutions/01"])) == ["solutions/01_tiny"]  # the English solution only
    assert len(run.select(notebooks, ["01"])) == 4  # a number: lesson and solution, in both editions


def test_lessons_come_first_then_solutions_and_only_selects(course):
    notebooks = run.discover(course)
    assert list(notebooks) == ["01_tiny", "02_tiny", "solutions/01_tiny"]
    assert notebooks["solutions/01_tiny"] == course / "solutions" / "01_tiny.ipynb"
    assert list(run.select(notebooks, ["01"])) == ["01_tiny", "solutions/01_tiny"]  # a number: lesson and solution
    assert list(run.select(notebooks, ["solutions/1", "2"])) == ["02_tiny", "solutions/01_tiny"]  # course order
    assert list(run.select(notebooks, ["01_tiny"])) == ["01_tiny"]  # a full name: that notebook only
    with pytest.raises(run.CourseError, match="--only 07: no such notebook; choose from 01_tiny, 02_tiny"):
        run.select(notebooks, ["07"])
    with pytest.raises(run.CourseError, match="does not exist"):
        run.discover(course / "missing")


@pytest.mark.parametrize(
    "text, value",
    [("3", 3), ("1e-3", 1e-3), ("True", True), ("false", "false"), ("None", None), ("null", "null"),
     ("cpu", "cpu"), ("[1e-3, 1e-2]", "[1e-3, 1e-2]"), ("0x10", "0x10"), ("-2", -2), ("1_000", 1000)],
)
def test_values_are_read_exactly_as_papermill_p_reads_them(text, value):
    from papermill.cli import _resolve_type  # papermill's own reader of -p values

    ours, theirs = run.parse_value(text), _resolve_type(text)
    assert type(ours) is type(theirs) and ours == theirs == value


def test_yaml_sections_and_command_line_in_priority_order(course, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text('EPOCHS: 3\nLR: 0.01\n01:\n  EPOCHS: 4\n"solutions/01":\n  DATA_DIR: /data\n')
    planned = run.plan(run.discover(course), [("02:LR", "0.3"), ("LR", "0.2")], params, quick=True)
    assert planned == {
        "01_tiny": {"EPOCHS": 4, "LR": 0.2},  # the 01 section reaches lesson and solution
        "02_tiny": {"EPOCHS": 3, "LR": 0.3},  # -p KEY:NAME beats -p NAME, whatever the order
        "solutions/01_tiny": {"EPOCHS": 4, "LR": 0.2, "DATA_DIR": "/data"},
    }
    assert run.plan(run.discover(course), quick=True)["02_tiny"] == {"EPOCHS": 1}  # metadata course.quick
    for text, message in [
        ("EPOCHS: [", "not valid YAML"),
        ("- 1\n", "expected a mapping"),
        ("3: 4\n", "neither a parameter name"),
        ("'01':\n  2X: 1\n", "not a parameter name"),
        ("'09':\n  EPOCHS: 1\n", "'09' .* names no notebook"),
    ]:
        params.write_text(text)
        with pytest.raises(run.CourseError, match=message):
            run.plan(run.discover(course), [], params)


def test_undeclared_parameter_is_refused_before_anything_runs(course, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(run.papermill, "execute_notebook", lambda *a, **k: pytest.fail("nothing may run"))
    out = tmp_path / "out"
    assert run.main(["--notebooks", str(course), "--output", str(out), "-p", "EPOCH", "3", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "nothing was run" in err
    assert f"01_tiny does not declare DEVICE, EPOCH; it declares: {DECLARED}" in err
    assert not out.exists()
    for args, message in [(["-p", "2X", "1"], "expected NAME or KEY:NAME"), (["-p", "9:LR", "1"], "names no notebook")]:
        assert run.main(["--notebooks", str(course), "--output", str(out), *args]) == 2
        assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_run(course, tmp_path_factory):
    """The real thing, two kernels: lesson 01 fails on purpose, its solution must still run."""
    out = tmp_path_factory.mktemp("out")
    printed = io.StringIO()
    only_01 = ["--only", "01", "-p", "EPOCHS", "2", "-p", "01_tiny:FAIL", "True"]
    args = run.build_parser().parse_args(["--notebooks", str(course), "--output", str(out), *only_01])
    return run.run_course(args, printed), out, printed.getvalue()


def test_a_failing_notebook_is_reported_and_the_next_one_runs(tiny_run):
    code, out, printed = tiny_run
    assert code == 1
    summary = summary_of(out)
    assert list(summary) == ["01_tiny", "solutions/01_tiny"]
    failed, solution = summary["01_tiny"], summary["solutions/01_tiny"]
    assert failed["status"] == "failed" and failed["results"] == {}
    assert failed["error"] == {
        "cell": 3,  # In [3]: the parameters and the injected-parameters cells ran first
        "source_first_line": "# this cell fails when FAIL is True",
        "error": "ValueError: bad EPOCHS=2",
    }
    assert solution["status"] == "ok" and solution["error"] is None and solution["seconds"] > 0
    assert solution["parameters"] == {"EPOCHS": 2}
    assert solution["results"] == {"epochs": 2, "lr": 0.1, "data_dir": None}
    executed = nbformat.read(out / "notebooks" / "01_tiny.ipynb", as_version=4)  # the traceback is kept
    errors = [o.ename for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == ["ValueError"]
    assert (out / "notebooks" / "solutions" / "01_tiny.ipynb").is_file()
    assert "bad EPOCHS=2" in (out / "html" / "01_tiny.html").read_text(encoding="utf-8")
    assert (out / "html" / "solutions" / "01_tiny.html").read_text(encoding="utf-8").lstrip().startswith("<!DOCTYPE")
    markdown = (out / "summary.md").read_text()
    assert "| solutions/01_tiny | ok |" in markdown and "1 ok, 1 failed, 0 skipped" in markdown
    assert "- 01_tiny: cell 3 (`# this cell fails when FAIL is True`): ValueError: bad EPOCHS=2" in markdown
    assert markdown in printed and "[2/2] solutions/01_tiny ... ok" in printed


def fake_reports(monkeypatch, outcomes: list[str]) -> list[str]:
    """Replace run_notebook: the n-th call ends as outcomes[n] ("ok", "failed" or "interrupt")."""
    calls: list[str] = []

    def fake(name, source, output_dir, parameters, **kwargs):
        calls.append(name)
        outcome = outcomes[len(calls) - 1]
        if outcome == "interrupt":
            raise KeyboardInterrupt
        return run.Report(name=name, status=outcome, seconds=0.5, parameters=parameters)

    monkeypatch.setattr(run, "run_notebook", fake)
    return calls


def test_ctrl_c_exits_130_with_the_summary_of_what_finished(course, tmp_path, monkeypatch, capsys):
    fake_reports(monkeypatch, ["ok", "interrupt"])
    assert run.main(["--notebooks", str(course), "--output", str(tmp_path)]) == 130
    summary = summary_of(tmp_path)
    assert [e["status"] for e in summary.values()] == ["ok", "skipped", "skipped"]
    assert summary["02_tiny"]["error"]["error"] == "KeyboardInterrupt: stopped by Ctrl-C"
    assert summary["solutions/01_tiny"]["error"] is None
    assert "Interrupted (Ctrl-C)" in capsys.readouterr().out


def test_fail_fast_skips_the_rest(course, tmp_path, monkeypatch):
    calls = fake_reports(monkeypatch, ["failed", "ok", "ok"])
    assert run.main(["--notebooks", str(course), "--output", str(tmp_path), "--fail-fast"]) == 1
    assert calls == ["01_tiny"]
    assert [e["status"] for e in summary_of(tmp_path).values()] == ["failed", "skipped", "skipped"]


def test_results_come_only_from_the_results_cell_json(course, tmp_path, monkeypatch):
    def fake_execute(source, output, **kwargs):  # no kernel: write what papermill would
        nb = nbformat.read(source, as_version=4)
        if kwargs["parameters"].get("EPOCHS") == 1:
            data = {"application/json": {"x": 1}, "text/plain": "<IPython.core.display.JSON object>"}
            nb.cells[-1].outputs = [nbformat.v4.new_output("display_data", data=data)]
        nbformat.write(nb, output)
        return nb

    monkeypatch.setattr(run.papermill, "execute_notebook", fake_execute)
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "02_tiny.html").write_text("a page from an earlier run")
    assert run.main(["--notebooks", str(course), "--output", str(tmp_path), "--only", "2", "-p", "EPOCHS", "1"]) == 0
    assert summary_of(tmp_path)["02_tiny"]["results"] == {"x": 1}
    assert "earlier run" not in (tmp_path / "html" / "02_tiny.html").read_text(encoding="utf-8")
    assert run.main(["--notebooks", str(course), "--output", str(tmp_path), "--only", "2"]) == 1
    assert summary_of(tmp_path)["02_tiny"]["error"]["error"].startswith("MissingResults")


def test_kernel_environment_is_set_then_restored(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    with run.kernel_environment():
        assert {k: os.environ[k] for k in run.KERNEL_ENV} == run.KERNEL_ENV
    assert os.environ["MPLBACKEND"] == "Agg" and "COURSE_PROGRESS" not in os.environ


def test_prepare_quick_injects_the_quick_settings_into_a_copy_without_running_it(tmp_path):
    """What make e2e and make hub-test open: the notebook with ``course.quick`` after its parameters cell."""
    committed = FIXTURE.read_bytes()
    target = run.prepare_quick(FIXTURE, tmp_path / "deep" / "01_tiny.ipynb")
    assert FIXTURE.read_bytes() == committed, "the course's notebook is left as it is"
    cells = nbformat.read(target, as_version=4).cells
    tags = [c.metadata.get("tags", []) for c in cells]
    injected = tags.index(["injected-parameters"])
    assert "parameters" in tags[injected - 1]
    assert all(f"{name} = {value!r}" in cells[injected].source for name, value in run.quick_parameters(FIXTURE).items())
    assert run.quick_parameters(FIXTURE) and not any(c.get("outputs") for c in cells if c.cell_type == "code")
