"""The repository's promises, checked on the committed files: the notebook contract (clean, one plain
``parameters`` cell papermill understands, the setup call, self-check before ``results``, one import
style), ``helpers.__all__`` as the notebooks' API, and set-up files without the usual traps."""

from __future__ import annotations

import ast
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import papermill
import pytest
import yaml

import helpers

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("[0-9][0-9]_*.ipynb") if ".ipynb_checkpoints" not in p.parts)
# The Korean edition's words for the batch-run section (notebooks/ko/)
BATCH_HEADING_KO = "## 일괄 실행용"


def notebook_id(path: Path) -> str:
    return str(path.relative_to(ROOT / "notebooks"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def python_source(cell: dict) -> str:
    """The cell's code with IPython magics and shell lines blanked, so that ``ast`` can parse it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source(cell).splitlines())


def tagged(nb: dict, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb["cells"]) if tag in cell.get("metadata", {}).get("tags", [])]


def parameters_cell(nb: dict) -> tuple[int, str]:
    """Index and source of the one ``parameters`` cell (the test fails if there is not exactly one)."""
    indices = tagged(nb, "parameters")
    assert len(indices) == 1, f"{len(indices)} cells tagged 'parameters', need exactly 1"
    cell = nb["cells"][indices[0]]
    assert cell["cell_type"] == "code", "the 'parameters' cell must be a code cell"
    return indices[0], source(cell)


def assigned_names(cell_source: str) -> list[str]:
    """The names a parameters cell assigns, in order; the test fails on anything but ``NAME = value``."""
    names = []
    for node in ast.parse(cell_source).body:
        assert isinstance(node, ast.Assign), (
            f"line {node.lineno}: only plain assignments, `NAME = value  # comment` (no annotations, no code)"
        )
        assert len(node.targets) == 1 and isinstance(node.targets[0], ast.Name), f"line {node.lineno}: one name"
        assert node.lineno == node.end_lineno, f"line {node.lineno}: one assignment per line"
        names.append(node.targets[0].id)
    return names


def test_the_five_lessons_are_there():
    lessons = [p.name[:2] for p in NOTEBOOKS if p.parent == ROOT / "notebooks"]
    assert lessons == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_committed_clean(path):
    nb = load(path)
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", "kernel spec `python3` (papermill needs it)"
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert dirty == [], f"cells {dirty} have outputs or execution counts: clear them before committing"


def parameters_problem(path: Path) -> str | None:
    """What is wrong with the notebook's ``parameters`` cell for papermill, or ``None``."""
    _, cell = parameters_cell(load(path))
    names = assigned_names(cell)
    logger = logging.getLogger("papermill")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        inspected = papermill.inspect_notebook(path)
    finally:
        logger.removeHandler(handler)
    if records:
        return f"papermill warned: {records[0].getMessage()}"
    if list(inspected) != names:
        return f"papermill lists {list(inspected)}, the cell assigns {names}"
    for node in ast.parse(cell).body:
        name = node.targets[0].id
        if inspected[name]["default"] != ast.get_source_segment(cell, node.value):
            return f"papermill reads {name}'s default as {inspected[name]['default']!r}"
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_parameters_cell_is_plain_and_papermill_lists_every_parameter(path):
    assert parameters_problem(path) is None


@pytest.mark.parametrize(
    "cell, reason",
    [
        ("EPOCHS: int = 5  # papermill skips annotated lines\nLR = 0.1", "only plain"),
        ("EPOCHS = 5  # e.g. -p EPOCHS=3\nLR = 0.1", "Unable to parse line 1"),
    ],
    ids=["annotation", "second ="],
)
def test_the_parameters_check_catches_what_papermill_would_get_wrong(cell, reason, tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell, metadata={"tags": ["parameters"]})])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "bad.ipynb")
    try:
        problem = parameters_problem(tmp_path / "bad.ipynb")
    except AssertionError as error:
        problem = str(error)
    assert problem is not None and re.search(reason, problem)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_quick_settings_live_in_metadata_and_name_declared_parameters(path):
    nb = load(path)
    quick = nb["metadata"].get("course", {}).get("quick")
    if "solutions" in path.parts and quick is None:
        return  # a solutions notebook runs its checkers in seconds: its quick run is its full run
    assert isinstance(quick, dict) and quick, "metadata course.quick: the smoke-run settings `make run --quick` uses"
    declared = assigned_names(parameters_cell(nb)[1])
    assert sorted(set(quick) - set(declared)) == [], "course.quick may only set declared parameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_the_setup_call_after_the_parameters_checks_every_setting(path):
    """The cell after 'parameters' is one call, ``device = setup_notebook(seed=SEED, device=DEVICE,
    EPOCHS=EPOCHS, ...)``, that passes every setting the student may change, in the parameters
    cell's order, each by its own name, so that each is checked by a rule setup knows. No language:
    the edition comes from the notebook's metadata (helpers/edition.py)."""
    from helpers.notebook import SETTINGS

    nb = load(path)
    index, cell = parameters_cell(nb)
    following = [c for c in nb["cells"][index + 1 :] if c["cell_type"] == "code"]
    assert following, "a setup cell must follow the parameters cell"
    body = ast.parse(python_source(following[0])).body
    assert len(body) == 1 and isinstance(body[0], ast.Assign) and ast.unparse(body[0].targets[0]) == "device", (
        "the cell after 'parameters' is one statement, `device = setup_notebook(...)`")
    call = body[0].value
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "setup_notebook" and not call.args
    passed = [(k.arg, ast.unparse(k.value)) for k in call.keywords]
    settings = [name for name in assigned_names(cell) if name not in ("SEED", "DEVICE")]
    expected = [("seed", "SEED")] + ([("device", "DEVICE")] if "DEVICE" in assigned_names(cell) else [])
    assert passed == expected + [(name, name) for name in settings]
    assert sorted(set(settings) - set(SETTINGS)) == [], "helpers/notebook.py's SETTINGS has no rule for these"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_batch_run_cells_sit_together_at_the_end_collapsed(path):
    """The self-check and results cells come last, under a '## For batch runs' heading, source collapsed."""
    cells = load(path)["cells"]
    heading, check, results = cells[-3:]
    assert heading["cell_type"] == "markdown" and source(heading).startswith(("## For batch runs", BATCH_HEADING_KO))
    assert tagged({"cells": cells}, "results") == [len(cells) - 1], "exactly one cell is tagged 'results': the last"
    assert "show_results(" in source(results)
    assert check["cell_type"] == "code"
    if "solutions" not in path.parts:  # a lesson's claims are about its own settings (any SEED)
        assert source(check).startswith("if check.claims_apply():"), "the self-check asks check.claims_apply()"
    for cell in (check, results):
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, "collapse the batch-run cells"
    student_cells = "\n".join(source(c) for c in cells[:-3] if c["cell_type"] == "code")
    for machinery in ("CHECK_RESULTS", "QUICK", "language=", "warnings.", "positive_int", "positive_number",
                      "fraction_or_zero"):
        assert machinery not in student_cells, machinery


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "solutions" not in p.parts], ids=notebook_id)
def test_the_self_check_knows_the_settings_cell(path):
    """``check.DEFAULTS`` (helpers/exercises/lessonNN.py) holds the settings cell's values, SEED and
    DEVICE aside: the self-check runs exactly when a student has not changed them."""
    import importlib

    _, cell = parameters_cell(load(path))
    values = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell).body}
    module = importlib.import_module(f"helpers.exercises.lesson{path.name[:2]}")
    assert module.DEFAULTS == {k: v for k, v in values.items() if k not in ("SEED", "DEVICE", "DATA_DIR")}


def helpers_imports(path: Path) -> tuple[set[str], list[str]]:
    """The names a notebook imports from ``helpers``, and every import of helpers that breaks the one style."""
    lesson = path.name[:2]
    names, wrong = set(), []
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(python_source(cell))):
            if isinstance(node, ast.Import):
                wrong += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "helpers"]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "helpers":
                aliases = [(a.name, a.asname) for a in node.names]
                if node.module == "helpers" and all(asname is None for _, asname in aliases):
                    names |= {name for name, _ in aliases}
                elif node.module != "helpers.exercises" or aliases != [(f"lesson{lesson}", "check")]:
                    wrong.append(ast.unparse(node))
    return names, wrong


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_notebooks_import_helpers_one_way(path):
    _, wrong = helpers_imports(path)
    lesson = path.name[:2]
    assert wrong == [], f"use `from helpers import ...` and `from helpers.exercises import lesson{lesson} as check`"


def test_the_import_check_catches_every_other_style(tmp_path):
    import nbformat

    code = ("%matplotlib inline\nimport helpers\nfrom helpers.metrics import rmse\nfrom helpers import fit as train\n"
            "from helpers.exercises import lesson02 as check\nfrom helpers import fit, predict\n"
            "from helpers.exercises import lesson01 as check")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), tmp_path / "01_x.ipynb")
    names, wrong = helpers_imports(tmp_path / "01_x.ipynb")
    assert names == {"fit", "predict"}
    assert wrong == ["import helpers", "from helpers.metrics import rmse", "from helpers import fit as train",
                     "from helpers.exercises import lesson02 as check"]


def test_helpers_exports_exactly_what_the_notebooks_import():
    imported = set().union(*(helpers_imports(path)[0] for path in NOTEBOOKS))
    exported = set(helpers.__all__)
    assert (sorted(exported - imported), sorted(imported - exported)) == ([], []), (
        "(exported but never imported, imported but not exported)"
    )


def requirement_names(lines: list[str]) -> dict[str, str]:
    """``{normalized name: line}`` for requirement lines such as ``torch==2.14.1`` or ``numpy>=1.26``."""
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if match and not line.startswith("-"):
            found[re.sub(r"[-_.]+", "-", match.group(0)).lower()] = line
    return found


def requirements(name: str) -> dict[str, str]:
    return requirement_names((ROOT / name).read_text().splitlines())


#: What a student installs besides the package's own dependencies: JupyterLab and what the lessons show in it.
STUDENT_EXTRAS = {"jupyterlab", "ipykernel", "ipywidgets", "jupyterlab-language-pack-ko-kr", "setuptools"}


def test_requirements_install_every_declared_dependency():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = requirement_names(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert sorted(set(declared) - set(requirements("requirements.txt"))) == []


def test_students_install_only_what_students_use():
    """requirements.txt (make lab, environment.yml) holds the package's dependencies and JupyterLab; the
    tools of tests, lint, batch runs, the browser test and the build come from requirements-dev.txt."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    declared = requirement_names(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    students = set(requirements("requirements.txt"))
    assert sorted(students - set(declared) - STUDENT_EXTRAS) == []
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in dev, "the developers' install includes the students'"
    assert {"pytest", "ruff", "playwright", "nbval", "build", "papermill"} <= set(requirements("requirements-dev.txt"))
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "lab-ko"):
        assert re.search(rf"^{target}: \$\(STAMP\)$", makefile, re.M), f"make {target} installs the students' set only"
    students_install = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "requirements.txt" in students_install and "requirements-dev.txt" not in students_install


def test_only_torch_and_torchvision_are_pinned_exactly():
    lines = requirement_names((ROOT / "requirements.txt").read_text().splitlines())
    exact = sorted(name for name, line in lines.items() if "==" in line)
    assert exact == ["torch", "torchvision"], "torchvision must match torch exactly; the rest take lower bounds"


def test_environment_yml_uses_conda_forge_only_and_installs_the_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]  # the `pytorch` channel is retired
    conda_specs = [d for d in env["dependencies"] if isinstance(d, str)]
    assert [d for d in conda_specs if "::" in d or "==" in d] == [], "no other channel, no exact pins"
    pip = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-r requirements.txt" in pip


def makefile_recipes() -> tuple[dict[str, str], list[str]]:
    """``{target: recipe text}`` and the lines outside any recipe."""
    recipes: dict[str, str] = {}
    outside, current = [], None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t") and current:
            recipes[current] += line + "\n"
            continue
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:(?!=)", line)
        current = match.group(1) if match else None
        if current:
            recipes[current] = ""
        else:
            outside.append(line)
    return recipes, outside


def test_make_lab_shows_progress_bars_and_batch_runs_hide_them():
    recipes, outside = makefile_recipes()
    assert "COURSE_PROGRESS=1" in recipes["lab"]
    for target in ("run", "nbval"):
        assert "COURSE_PROGRESS=0" in recipes[target], target
    assert [line for line in outside if "COURSE_PROGRESS" in line and not line.lstrip().startswith("#")] == [], (
        "set COURSE_PROGRESS per target: a global setting reaches `make lab` too"
    )


def test_make_claims_fails_when_it_selects_no_test():
    """pytest exits 5 when ``-m claims`` selects nothing (a typo in the marker or the rule): that must fail
    the build, and the rule as written must select the claims tests."""
    recipe = makefile_recipes()[0]["claims"]
    assert "||" not in recipe and "-eq 5" not in recipe, f"the claims rule accepts a failing pytest: {recipe}"
    marker = re.search(r"-m pytest .* -m (\S+)", recipe).group(1)  # the selection after "python -m pytest"
    done = subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-m", marker, "--collect-only",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    collected = re.search(r"^(\d+)/\d+ tests collected", done.stdout, re.MULTILINE)
    assert done.returncode == 0 and collected and int(collected.group(1)) > 0, done.stdout[-2000:]


def test_datasets_are_ignored_but_boston_is_tracked():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0

    assert ignored("data/MNIST/raw/train-images-idx3-ubyte") and ignored("build/notebooks/x.ipynb")
    assert not ignored("helpers/boston_housing.csv") and not ignored("data/README.md")


def test_ci_runs_the_command_the_readme_gives():
    assert "make test" in (ROOT / "README.md").read_text()
    assert re.search(r"^(step )?make test\b", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)


#: Dependencies the course runs as tools rather than imports, with the text that shows where.
TOOLS = {
    "jupyterlab": ("Makefile", "-m jupyterlab"),
    "jupyterlab-language-pack-ko-kr": ("Makefile", '"locale": "ko_KR"'),
    "ipykernel": ("instructor/run.py", 'kernel_name="python3"'),
    "ipywidgets": ("helpers/progress.py", "from tqdm.auto import tqdm"),  # tqdm's widget bar in a notebook
    "pytest-cov": ("Makefile", "--cov=helpers"),
    "pytest-xdist": ("Makefile", "-n $(NBVAL_WORKERS)"),
    "nbval": ("Makefile", "--nbval-lax"),
    "ruff": ("Makefile", "-m ruff check"),
    "build": ("Makefile", "-m build --no-isolation"),
    "setuptools": ("pyproject.toml", 'build-backend = "setuptools.build_meta"'),
}
IMPORT_NAMES = {"pyyaml": "yaml"}


def imported_modules() -> set[str]:
    """Top-level modules imported anywhere in the course's code, tests and notebooks."""
    found: set[str] = set()
    sources = [p.read_text(encoding="utf-8") for folder in ("helpers", "instructor", "tests")
               for p in (ROOT / folder).rglob("*.py")]
    sources += [python_source(c) for path in NOTEBOOKS for c in load(path)["cells"] if c["cell_type"] == "code"]
    for text in sources:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_every_declared_dependency_is_used():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = requirement_names(project["dependencies"])
    declared |= requirements("requirements.txt") | requirements("requirements-dev.txt")
    imported = imported_modules()
    unused = []
    for name in declared:
        if name in TOOLS:
            file, evidence = TOOLS[name]
            if evidence not in (ROOT / file).read_text(encoding="utf-8"):
                unused.append(f"{name} (no {evidence!r} in {file})")
        elif IMPORT_NAMES.get(name, name.replace("-", "_")) not in imported:
            unused.append(name)
    assert unused == [], f"declared but never used: {unused}; drop them or use them"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "solutions" not in p.parts], ids=notebook_id)
def test_the_first_cell_imports_a_few_course_names(path):
    """PyTorch's own idioms on the page (issue 24): the lesson's first code cell imports at most
    MAX_COURSE_NAMES names from ``helpers`` (the checker module aside); figures are ``plt.subplots``."""
    first = next(c for c in load(path)["cells"] if c["cell_type"] == "code")
    names = [alias.name for node in ast.walk(ast.parse(python_source(first)))
             if isinstance(node, ast.ImportFrom) and node.module == "helpers" for alias in node.names]
    assert len(names) <= MAX_COURSE_NAMES, f"{len(names)} course names in the first cell: {names}"
    code = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "code")
    assert "NotebookFigure" not in code, "figures are matplotlib's own: fig, ax = plt.subplots(...)"


MAX_COURSE_NAMES = 6
