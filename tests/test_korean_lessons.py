"""Every Korean lesson runs to the end on a machine with no Hangul font of its own, as on a fresh Colab
runtime, and no figure misses a glyph: the course's bundled NanumGothic draws the Hangul.

Each lesson runs with papermill at its quick settings (metadata ``course.quick``: few epochs,
``CHECK_RESULTS = False``) in a kernel that

- has a fresh ``MPLCONFIGDIR`` (no matplotlibrc or font cache of this machine's user), shared by
  the lessons' kernels so that matplotlib lists the system's fonts once;
- runs ``tests/hide_hangul_fonts.py`` before the first cell (``--IPKernelApp.exec_lines``, through
  ``runpy`` so that nothing of it reaches the lesson's namespace): every system font with a
  glyph for 한 leaves matplotlib's font list, whatever its name (CI has fonts-noto-cjk for the
  browser test), and matplotlib's "Glyph ... missing from font(s)" warning becomes an error. The
  file it writes proves that it ran and that no Hangul font was left.

A warning turned error fails the cell (or shows as an error output, which papermill also raises on);
the outputs are searched for "missing from font" too, in case a warning was printed instead.
The five lessons take about 50 s (35 s of CPU), too long for ``make unit``: they carry the marker ``hangul``
and ``make hangul`` (part of ``make test``) runs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

from instructor.run import KERNEL_ENV, quick_parameters
from tests import hide_hangul_fonts

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks" / "ko").glob("[0-9][0-9]_*.ipynb"))
MNIST_RAW = ROOT / "data" / "MNIST" / "raw"

pytestmark = pytest.mark.hangul


@pytest.fixture(scope="module")
def matplotlib_config(tmp_path_factory) -> Path:
    """One fresh MPLCONFIGDIR for the module's kernels."""
    return tmp_path_factory.mktemp("mplconfig")


def output_texts(notebook: dict) -> list[str]:
    """Every text of every output: streams, errors (name, value, traceback), text/plain."""
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            texts += [output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
            texts.append("".join(output.get("data", {}).get("text/plain", "")))
    return texts


def test_there_are_five_korean_lessons():
    assert [p.name[:2] for p in LESSONS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem[:2])
def test_the_korean_lesson_runs_with_no_system_hangul_font(lesson, matplotlib_config, tmp_path, monkeypatch):
    if lesson.name.startswith(("04", "05")) and not (MNIST_RAW / "train-images-idx3-ubyte").is_file():
        pytest.skip(f"MNIST is not in {MNIST_RAW} (tests never download it; .ci/run copies it there)")
    report = tmp_path / "hidden_fonts.json"
    for name, value in {**KERNEL_ENV, "MPLCONFIGDIR": str(matplotlib_config),
                        hide_hangul_fonts.REPORT_ENV: str(report)}.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    startup = f"import runpy; runpy.run_path({str(Path(hide_hangul_fonts.__file__))!r}, run_name='__kernel__')"
    notebook = papermill.execute_notebook(
        str(lesson), str(tmp_path / lesson.name), parameters=quick_parameters(lesson), kernel_name="python3",
        cwd=str(lesson.parent), progress_bar=False,
        extra_arguments=["--IPKernelApp.log_level=CRITICAL", f"--IPKernelApp.exec_lines={startup}"],
    )
    hidden = json.loads(report.read_text(encoding="utf-8"))
    assert hidden["hangul_fonts_left"] == [], hidden
    assert not [t for t in output_texts(notebook) if "missing from font" in t]
    figures = sum("image/png" in output.get("data", {}) for cell in notebook["cells"]
                  for output in cell.get("outputs", []))
    assert figures >= 1, "the lesson showed no figure"
