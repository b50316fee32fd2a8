"""make oldest (instructor/oldest.py): the oldest versions come from pyproject.toml's lower bounds, and
the job installs exactly those. The job itself runs in CI (.ci/run); these tests check its pieces."""

from __future__ import annotations

import pytest

from instructor import oldest


def test_every_declared_dependency_has_a_lower_bound_and_becomes_its_pin():
    spec = oldest.project()
    pins = oldest.oldest_pins(spec["dependencies"])
    assert len(pins) == len(spec["dependencies"]) and all("==" in pin for pin in pins)
    assert oldest.oldest_pins(["torch>=2.2", "numpy >= 1.26"]) == ["torch==2.2", "numpy==1.26"]
    assert oldest.oldest_python_version(spec["requires-python"]) == "3.10"


@pytest.mark.parametrize("spec", ["torch", "torch<3", "torch>=2.2,<3", "torch~=2.2"])
def test_a_dependency_without_a_plain_lower_bound_is_refused(spec):
    with pytest.raises(SystemExit, match="make oldest needs a lower bound"):
        oldest.oldest_pins([spec])


def test_the_tools_leave_the_package_dependencies_to_the_pins():
    """pytest, papermill and the kernel come at current versions; torch, numpy... only as pinned."""
    tools = oldest.tools()
    names = {line.split(">")[0].split("=")[0].strip().lower() for line in tools}
    assert {"pytest", "papermill", "ipykernel"} <= names
    assert not names & {"torch", "torchvision", "numpy", "pandas", "matplotlib", "tqdm"}


@pytest.mark.parametrize(("installed", "pinned", "same"), [
    ("2.2.0", "2.2", True), ("2.2.0+cpu", "2.2", True), ("1.26.0", "1.26", True), ("2.2.1", "2.2", False),
    ("3.10", "3.1", False),
])
def test_an_installed_version_is_the_pinned_release_or_not(installed, pinned, same):
    assert oldest.same_version(installed, pinned) is same


def test_ci_runs_the_oldest_versions_job():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert "make oldest" in (root / ".ci" / "run").read_text()
    assert "-m instructor.oldest" in (root / "Makefile").read_text()
