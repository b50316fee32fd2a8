"""helpers.environment: a kernel without the course's dependencies gets one line that says what to run,
and a clone finds ``helpers`` from its notebook folders without being installed (notebooks/helpers links)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import environment

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_dependency_names_itself_and_the_command_to_run(monkeypatch):
    monkeypatch.setattr(environment, "REQUIRED", ("torch", "no_such_course_dependency"))
    with pytest.raises(ModuleNotFoundError) as info:
        environment.require_dependencies()
    message = str(info.value)
    assert "\n" not in message and "needs no_such_course_dependency," in message and "torch" not in message
    assert f'%pip install -r "{ROOT / "requirements.txt"}"' in message and "Restart Kernel" in message


def test_outside_a_clone_the_command_installs_the_missing_libraries(monkeypatch, tmp_path):
    monkeypatch.setattr(environment, "__file__", str(tmp_path / "site-packages" / "helpers" / "environment.py"))
    assert environment.install_command(["torch", "tqdm"]) == "%pip install torch tqdm"


#: Run-time dependencies that one or two lessons alone import, in their first cell: {import name: lesson prefixes}.
ONE_LESSON = {"torchinfo": ("04", "05")}


def test_the_required_list_is_what_every_lesson_needs():
    """helpers checks on import what every lesson needs; a library one lesson alone uses is imported by
    that lesson, whose import line says how to install it, so lessons 01-03 run without it."""
    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].strip() for d in declared}
    assert sorted(environment.REQUIRED) == sorted(names - set(ONE_LESSON))
    for module, lesson in ONE_LESSON.items():
        imports = re.compile(rf"^\s*(from|import) {module}\b", re.MULTILINE)
        assert not any(imports.search(p.read_text()) for p in (ROOT / "helpers").rglob("*.py")), module
        for path in sorted((ROOT / "notebooks").rglob("[0-9][0-9]_*.ipynb")):
            lines = [line for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
                     if cell["cell_type"] == "code" for line in "".join(cell["source"]).splitlines()
                     if line.startswith(f"from {module} ") or line.startswith(f"import {module}")]
            if path.name.startswith(lesson) and "solutions" not in path.parts:
                assert lines and all(f"%pip install {module}" in line for line in lines), (path.name, lines)
            else:
                assert lines == [], f"{path.name} imports {module}: add it to REQUIRED"


@pytest.mark.parametrize("folder", ["notebooks", "notebooks/solutions"])
def test_a_clone_links_helpers_beside_every_notebook(folder):
    link = ROOT / folder / "helpers"
    assert link.is_symlink() and link.resolve() == ROOT / "helpers"


@pytest.mark.parametrize("folder", ["notebooks", "notebooks/solutions"])
def test_a_clone_without_the_dependencies_stops_with_one_line(folder):
    # -S: Python without site-packages, as a kernel whose environment lacks everything; the notebook's
    # folder is the working directory, as in Jupyter
    done = subprocess.run([sys._base_executable, "-S", "-c", "from helpers import setup_notebook"],
                          cwd=ROOT / folder, capture_output=True, text=True, timeout=60)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1
    assert last.startswith("ModuleNotFoundError: The course needs torch, torchvision,"), done.stderr
    assert '%pip install -r "' in last and "requirements.txt" in last
