"""The repository's own promises: clean notebooks that papermill and nbval can run, and set-up
files that avoid the usual traps (retired conda channel, loose torch pins, committed data)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = ["01_linear_regression", "02_binary_classification", "03_softmax_classification", "04_mnist_classification"]


def notebook_problems(path: Path) -> list[str]:
    """Why a committed notebook is not clean and runnable (empty list: it is)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    spec = nb.get("metadata", {}).get("kernelspec", {})
    if spec.get("name") != "python3":
        problems.append(f"kernelspec name is {spec.get('name')!r}, must be 'python3' (else: 'No kernel name found')")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code):
        if cell.get("outputs"):
            problems.append(f"code cell {i} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"code cell {i} has an execution count")
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        problems.append(f"{len(tagged)} cells tagged 'parameters', need exactly 1")
    elif tagged[0]["cell_type"] != "code":
        problems.append("the 'parameters' cell is not a code cell")
    return problems


def test_the_four_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_clean_and_runnable(path):
    assert notebook_problems(path) == []


def test_the_check_catches_each_problem(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}], "execution_count": 3},
        ],
        "metadata": {"kernelspec": {"name": "conda-env-x"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "dirty.ipynb"
    path.write_text(json.dumps(nb))
    problems = notebook_problems(path)
    assert any("kernelspec" in p for p in problems)
    assert any("outputs" in p for p in problems)
    assert any("execution count" in p for p in problems)
    assert any("0 cells tagged 'parameters'" in p for p in problems)
    nb["cells"] += [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "", "outputs": [], "execution_count": None}] * 2
    path.write_text(json.dumps(nb))
    assert any("2 cells tagged 'parameters'" in p for p in notebook_problems(path))


def requirement_lines() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_requirements_pin_only_the_torch_pair():
    lines = requirement_lines()
    assert "torch==2.14.1" in lines and "torchvision==0.29.1" in lines
    exact = [line for line in lines if "==" in line]
    assert sorted(exact) == ["torch==2.14.1", "torchvision==0.29.1"], "other packages take lower bounds only"
    names = {re.split(r"[<>=!~\[]", line)[0].lower() for line in lines}
    assert {"pandas", "matplotlib", "jupyterlab", "nbval", "papermill", "tqdm", "ipywidgets", "torchinfo"} <= names


def test_environment_yml_uses_conda_forge_only_and_the_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    assert "nodefaults" not in env["channels"] and "pytorch" not in env["channels"]
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d for d in deps if isinstance(d, dict))["pip"]
    assert "-r requirements.txt" in pip_section


def test_datasets_are_ignored_but_boston_is_tracked():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0

    assert ignored("data/MNIST/raw/train-images-idx3-ubyte")
    assert not ignored("data/boston_housing.csv")
    assert not ignored("data/README.md")
    assert ignored(".venv/bin/python") and ignored("build/notebooks/x.ipynb")


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme
    assert re.search(r"^make test\b", ci, re.MULTILINE)
