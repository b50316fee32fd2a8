"""The batch runner ``python -m helpers.course run``: parameters, failures, Ctrl-C, summary, HTML.

Most tests run tiny notebooks written into a temporary folder, so they do not depend on the
course's content. One module-scoped fixture runs the real command in ``--quick`` mode over the
four course notebooks (the expensive test: once per session). Nothing here touches the network.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from helpers import course
from helpers.data import repo_root

COURSE_NOTEBOOKS = {
    "01_linear_regression": {"test_rmse", "test_mae", "baseline_rmse", "epochs", "train_seconds"},
    "02_binary_classification": {"test_accuracy", "precision", "recall", "epochs", "train_seconds"},
    "03_softmax_classification": {
        "test_accuracy", "test_accuracy_with_extra_softmax", "test_nll", "test_nll_with_extra_softmax",
        "epochs", "train_seconds",
    },
    "04_mnist_classification": {"test_accuracy", "epochs", "train_seconds", "samples_per_second"},
}
CONTRACT = ["EPOCHS", "LR", "BATCH_SIZE", "SEED", "DEVICE", "DATA_DIR", "CHECK_RESULTS", "QUICK"]

PARAMETERS_CELL = """\
EPOCHS: int = 5               # passes over the data
LR: float = 0.1               # learning rate
DATA_DIR: str | None = None   # annotated like the course's (papermill's inspection misses it)
DEVICE: str = "auto"
QUICK: bool = False
"""
RESULTS_CELL = """\
from IPython.display import JSON, display
display(JSON({"epochs": EPOCHS, "lr": LR, "quick": QUICK, "device": DEVICE, "data_dir": DATA_DIR}))
"""


def write_notebook(path: Path, body: str, *, results: bool = True) -> Path:
    """A tiny course-shaped notebook: markdown, ``parameters`` cell, ``body``, ``results`` cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS_CELL)
    params.metadata.tags = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# A tiny notebook"), params, nbformat.v4.new_code_cell(body)]
    if results:
        cell = nbformat.v4.new_code_cell(RESULTS_CELL)
        cell.metadata.tags = ["results"]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def tiny_course(tmp_path_factory) -> Path:
    """01 draws a figure, 02 raises, 03 is fine, 04 displays no results."""
    folder = tmp_path_factory.mktemp("tiny_course")
    write_notebook(
        folder / "01_plot.ipynb",
        'import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1], [1, 0])\nax.set_title("a line")',
    )
    write_notebook(folder / "02_broken.ipynb", "# this cell fails on purpose\nraise ValueError(f'bad EPOCHS={EPOCHS}')")
    write_notebook(folder / "03_fine.ipynb", "x = EPOCHS * 2")
    write_notebook(folder / "04_silent.ipynb", "x = 1", results=False)
    (folder / "notes.ipynb").write_text("{}")  # not NN_name: ignored
    return folder


def summary_of(output: Path) -> dict[str, dict]:
    data = json.loads((output / "summary.json").read_text())
    assert list(data) == ["notebooks"]
    for entry in data["notebooks"]:
        assert list(entry) == ["name", "status", "seconds", "parameters", "results", "error"]
    return {entry["name"]: entry for entry in data["notebooks"]}


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", 3), ("-1", -1), ("0.5", 0.5), ("1e-3", 1e-3), ("True", True), ("false", False),
        ("None", None), ("null", None), ("cpu", "cpu"), ("cuda:0", "cuda:0"), ("yes", "yes"),
        ("0x10", "0x10"), ("2024-01-01", "2024-01-01"), ("[1, 2]", [1, 2]), ("'04'", "04"), ("", ""),
        ("a: [", "a: ["),
    ],
)
def test_values_are_parsed_like_papermill_p(text, value):
    assert course.parse_value(text) == value
    assert type(course.parse_value(text)) is type(value)


def test_scoped_names():
    assert course.split_scope("EPOCHS") == (None, "EPOCHS")
    assert course.split_scope("04:EPOCHS") == ("04", "EPOCHS")
    for bad in ("04:", ":EPOCHS", "04:2X", "EPOCHS-1"):
        with pytest.raises(course.CourseError, match="NN:NAME"):
            course.split_scope(bad)


def test_declared_parameters_include_annotated_optionals(tiny_course):
    # papermill.inspect_notebook alone misses `DATA_DIR: str | None = None`.
    assert course.declared_parameters(tiny_course / "01_plot.ipynb") == ["EPOCHS", "LR", "DEVICE", "QUICK", "DATA_DIR"]


def test_declared_parameters_papermill_cannot_parse_are_found_quietly(tmp_path, caplog):
    path = write_notebook(tmp_path / "01_x.ipynb", "x = 1")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "BATCH_SIZE: int = 324  # 324 = all training rows: one step per epoch\n"
    nbformat.write(nb, path)
    with caplog.at_level("WARNING"):
        assert "BATCH_SIZE" in course.declared_parameters(path)
    assert not [r for r in caplog.records if r.name.startswith("papermill")]


def test_p_applies_to_all_and_nn_scopes_to_one(tiny_course):
    notebooks = course.discover(tiny_course)
    assert [p.stem for p in notebooks] == ["01_plot", "02_broken", "03_fine", "04_silent"]
    planned = course.plan(
        notebooks,
        [("EPOCHS", "3"), ("02:EPOCHS", "7"), ("2:LR", "1e-2"), ("DATA_DIR", "/data")],
        quick=True,
        device="cpu",
    )
    by_name = {p.stem: values for p, values in planned.items()}
    assert by_name["01_plot"] == {"QUICK": True, "DEVICE": "cpu", "EPOCHS": 3, "DATA_DIR": "/data"}
    assert by_name["02_broken"] == {"QUICK": True, "DEVICE": "cpu", "EPOCHS": 7, "DATA_DIR": "/data", "LR": 0.01}
    # -p beats --device; a scope for a notebook not selected is ignored.
    planned = course.plan(notebooks[:1], [("DEVICE", "mps"), ("03:EPOCHS", "2")], device="cpu", course=notebooks)
    assert list(planned.values()) == [{"DEVICE": "mps"}]


def test_parameters_file_then_command_line(tiny_course, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text('EPOCHS: 3\nLR: 0.01\n04:\n  EPOCHS: 5\n"03_fine":\n  LR: 0.5\n  DATA_DIR: null\n')
    notebooks = course.discover(tiny_course)
    planned = {p.stem: v for p, v in course.plan(notebooks, [("LR", "0.2"), ("04:LR", "0.3")], params).items()}
    assert planned["01_plot"] == {"EPOCHS": 3, "LR": 0.2}
    assert planned["03_fine"] == {"EPOCHS": 3, "LR": 0.2, "DATA_DIR": None}  # -p beats the file
    assert planned["04_silent"] == {"EPOCHS": 5, "LR": 0.3}
    assert course.load_parameters_file(tmp_path / "params.yaml")[1] == {"04": {"EPOCHS": 5}, "03_fine": {"LR": 0.5, "DATA_DIR": None}}

    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert course.load_parameters_file(empty) == ({}, {})
    for text, message in [
        ("EPOCHS: [", "not valid YAML"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("3: 4\n", "neither a parameter name"),
        ("'04':\n  2X: 1\n", "not a parameter name"),
        ("'09':\n  EPOCHS: 1\n", "names no notebook"),
    ]:
        params.write_text(text)
        with pytest.raises(course.CourseError, match=message):
            course.plan(notebooks, [], params)
    with pytest.raises(course.CourseError, match="--parameters-file"):
        course.load_parameters_file(tmp_path / "missing.yaml")


def test_unknown_parameter_is_rejected_before_anything_runs(tiny_course, tmp_path, capsys):
    out = tmp_path / "out"
    code = course.main(["run", "--notebooks", str(tiny_course), "--output", str(out), "-p", "EPOCH", "3"])
    err = capsys.readouterr().err
    assert code == 2
    assert "01_plot does not declare EPOCH; it declares: EPOCHS, LR, DEVICE, QUICK, DATA_DIR" in err
    assert "nothing was run" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--only", "07"], "--only 07: no such notebook; choose from 01_plot, 02_broken"),
        (["-p", "09:EPOCHS", "1"], "'09' names no notebook"),
        (["-p", "2X", "1"], "expected NAME or NN:NAME"),
    ],
)
def test_usage_errors(tiny_course, tmp_path, capsys, args, message):
    assert course.main(["run", "--notebooks", str(tiny_course), "--output", str(tmp_path / "o"), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_notebook_folder(tmp_path, capsys):
    assert course.main(["run", "--notebooks", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert course.main(["run", "--notebooks", str(tmp_path)]) == 2
    assert "no notebooks named NN_name.ipynb" in capsys.readouterr().err


def test_only_selects_in_course_order(tiny_course):
    notebooks = course.discover(tiny_course)
    assert [p.stem for p in course.select(notebooks, ["03", "1", "03_fine"])] == ["01_plot", "03_fine"]
    assert course.select(notebooks, None) == notebooks


# --- running ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tiny_course, tmp_path_factory):
    """One run over 01 (figure), 02 (raises) and 03 (fine): the failure must not stop 03."""
    out = tmp_path_factory.mktemp("tiny_run")
    stdout = io.StringIO()
    args = course.build_parser().parse_args(
        ["run", "--notebooks", str(tiny_course), "--output", str(out), "--only", "01", "02", "03", "-p", "EPOCHS", "2"]
    )
    code = course.run_course(args, stdout)
    return code, out, stdout.getvalue()


def test_failing_notebook_is_reported_and_the_others_run(tiny_run):
    code, out, printed = tiny_run
    assert code == 1
    summary = summary_of(out)
    assert list(summary) == ["01_plot", "02_broken", "03_fine"]
    broken = summary["02_broken"]
    assert broken["status"] == "failed" and broken["results"] == {}
    assert broken["error"] == {
        "cell": 3,  # In [3]: the parameters and injected-parameters cells ran first
        "source_first_line": "# this cell fails on purpose",
        "error": "ValueError: bad EPOCHS=2",
    }
    assert summary["03_fine"]["status"] == "ok"
    # The executed notebook is written, error included, so the student can open it there.
    executed = nbformat.read(out / "notebooks" / "02_broken.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ValueError"]
    assert (out / "html" / "02_broken.html").read_text().count("bad EPOCHS=2") >= 1
    assert "- 02_broken: cell 3 (`# this cell fails on purpose`): ValueError: bad EPOCHS=2" in printed


def test_results_come_from_the_results_cell_json(tiny_run):
    code, out, printed = tiny_run
    entry = summary_of(out)["01_plot"]
    assert entry["status"] == "ok" and entry["error"] is None
    assert entry["parameters"] == {"EPOCHS": 2}
    assert entry["results"] == {"epochs": 2, "lr": 0.1, "quick": False, "device": "auto", "data_dir": None}
    assert entry["seconds"] > 0


def test_outputs_html_and_the_printed_table(tiny_run):
    code, out, printed = tiny_run
    for name in ("01_plot", "02_broken", "03_fine"):
        assert (out / "notebooks" / f"{name}.ipynb").is_file()
        assert (out / "html" / f"{name}.html").read_text(encoding="utf-8").lstrip().startswith("<!DOCTYPE html>")
    # The kernels draw inline, so the figure is in the executed notebook and on the HTML page.
    executed = nbformat.read(out / "notebooks" / "01_plot.ipynb", as_version=4)
    assert any("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "data:image/png;base64" in (out / "html" / "01_plot.html").read_text(encoding="utf-8")
    markdown = (out / "summary.md").read_text()
    assert markdown.startswith("| notebook | status | seconds | parameters | results |\n|---|")
    assert "| 01_plot | ok |" in markdown and "epochs=2, lr=0.1, quick=False" in markdown
    assert "1 failed" in markdown
    assert markdown in printed  # the same table is printed at the end
    for i, name in enumerate(("01_plot", "02_broken", "03_fine"), start=1):
        assert f"[{i}/3] {name} ... " in printed


def test_fail_fast_skips_the_rest(tiny_course, tmp_path, capsys):
    out = tmp_path / "out"
    code = course.main(["run", "--notebooks", str(tiny_course), "--output", str(out), "--only", "02", "03", "--fail-fast"])
    assert code == 1
    summary = summary_of(out)
    assert summary["02_broken"]["status"] == "failed"
    assert summary["03_fine"] == {
        "name": "03_fine", "status": "skipped", "seconds": 0.0, "parameters": {}, "results": {}, "error": None,
    }
    assert not (out / "notebooks" / "03_fine.ipynb").exists()


def test_a_notebook_without_results_json_fails(tiny_course, tmp_path, capsys):
    out = tmp_path / "out"
    assert course.main(["run", "--notebooks", str(tiny_course), "--output", str(out), "--only", "04"]) == 1
    error = summary_of(out)["04_silent"]["error"]
    assert error["error"].startswith("MissingResults: no application/json output")


def test_ctrl_c_writes_the_summary_of_what_finished(tiny_course, tmp_path, monkeypatch, capsys):
    calls = []

    def fake_run(path, output_dir, parameters, **kwargs):
        calls.append(path.stem)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return course.Report(name=path.stem, status="ok", seconds=0.5, parameters=parameters, results={"a": 1})

    monkeypatch.setattr(course, "run_notebook", fake_run)
    out = tmp_path / "out"
    assert course.main(["run", "--notebooks", str(tiny_course), "--output", str(out)]) == course.EXIT_INTERRUPTED
    summary = summary_of(out)
    assert [e["status"] for e in summary.values()] == ["ok", "skipped", "skipped", "skipped"]
    assert summary["02_broken"]["error"]["error"] == "KeyboardInterrupt: stopped by Ctrl-C"
    assert summary["03_fine"]["error"] is None
    assert "Interrupted (Ctrl-C)" in capsys.readouterr().out


def test_stale_pages_go_and_an_export_failure_keeps_the_summary(tiny_course, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    (out / "html").mkdir(parents=True)
    (out / "html" / "03_fine.html").write_text("a page from an earlier run")

    def fake_execute(source, output, **kwargs):  # no kernel: write what papermill would
        nb = nbformat.read(source, as_version=4)
        nb.cells[-1].outputs = [nbformat.v4.new_output("display_data", data={"application/json": {"x": 1}})]
        nbformat.write(nb, output)
        return nb

    def broken_export(*args, **kwargs):
        raise RuntimeError("no template")

    monkeypatch.setattr(course.papermill, "execute_notebook", fake_execute)
    monkeypatch.setattr(course, "export_html", broken_export)
    assert course.main(["run", "--notebooks", str(tiny_course), "--output", str(out), "--only", "03"]) == 0
    assert summary_of(out)["03_fine"]["results"] == {"x": 1}
    assert not (out / "html" / "03_fine.html").exists()
    assert "03_fine: HTML export failed: RuntimeError: no template" in capsys.readouterr().err


def test_kernel_environment_is_set_then_restored(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("COURSE_PROGRESS", raising=False)
    with course.kernel_environment():
        assert course.os.environ["COURSE_PROGRESS"] == "0"
        assert course.os.environ["MPLBACKEND"] == course.KERNEL_ENV["MPLBACKEND"]
    assert course.os.environ["MPLBACKEND"] == "Agg"
    assert "COURSE_PROGRESS" not in course.os.environ


def test_progress_line_ticks_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with course._ProgressLine("[1/1] 01_x", stream) as line:
        time.sleep(1.2)
        line.finish("ok", 1.2)
    assert stream.getvalue().startswith("[1/1] 01_x ... \r[1/1] 01_x ... 1 s ")
    assert stream.getvalue().endswith("\r[1/1] 01_x ok 1.2 s\n")
    verbose = io.StringIO()
    with course._ProgressLine("[1/1] 01_x", verbose, own_line=True) as line:
        line.finish("failed", 0.5)
    assert verbose.getvalue() == "[1/1] 01_x ...\n[1/1] 01_x failed 0.5 s\n"


def test_command_line_needs_a_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        course.main([])
    assert exit_info.value.code == 2


# --- the real course --------------------------------------------------------------------------


def require_course() -> Path:
    folder = repo_root() / "notebooks"
    missing = [name for name in COURSE_NOTEBOOKS if not (folder / f"{name}.ipynb").is_file()]
    if missing:
        pytest.skip(f"course notebook(s) not written yet: {', '.join(missing)}")
    return folder


@pytest.fixture(scope="module")
def quick_course(tmp_path_factory):
    """`python -m helpers.course run --quick` over the four course notebooks, once per session."""
    require_course()
    out = tmp_path_factory.mktemp("quick_course")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "helpers.course", "run", "--quick", "--output", str(out)],
        cwd=repo_root(), capture_output=True, text=True, timeout=600,
    )
    return done, out, time.perf_counter() - start


def test_quick_run_of_the_course(quick_course):
    done, out, seconds = quick_course
    assert done.returncode == 0, done.stdout + done.stderr
    summary = summary_of(out)
    assert list(summary) == list(COURSE_NOTEBOOKS)
    for name, keys in COURSE_NOTEBOOKS.items():
        entry = summary[name]
        assert entry["status"] == "ok" and entry["error"] is None, entry
        assert entry["parameters"] == {"QUICK": True}
        assert keys <= set(entry["results"]), f"{name} results lack {keys - set(entry['results'])}"
        assert all(isinstance(entry["results"][k], (int, float)) for k in keys)
        assert (out / "notebooks" / f"{name}.ipynb").is_file()
        assert (out / "html" / f"{name}.html").stat().st_size > 10_000
    assert (out / "summary.md").read_text() in done.stdout
    print(f"--quick over the course: {seconds:.1f} s wall, per notebook: "
          + ", ".join(f"{n} {e['seconds']:.1f} s" for n, e in summary.items()))


def test_course_notebooks_reject_an_unknown_parameter(tmp_path, capsys):
    require_course()
    assert course.main(["run", "--output", str(tmp_path / "o"), "-p", "EPOCHZ", "1", "--only", "01"]) == 2
    err = capsys.readouterr().err
    assert "01_linear_regression does not declare EPOCHZ; it declares: " in err
    declared = err.split("it declares: ")[1].split("\n")[0].split(", ")
    assert set(CONTRACT) <= set(declared)
