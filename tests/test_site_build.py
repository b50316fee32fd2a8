"""instructor.site without a browser: which notebooks each edition's site shows (whatever lessons exist, a lesson
05 too), what stops the build, and how links between the repository's files become links between pages."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

# Sphinx 9 needs Python 3.11: on 3.10 (make oldest) requirements-dev.txt leaves the site's tools out.
pytest.importorskip("sphinx", reason="make site's tools (Sphinx 9) need Python 3.11 or newer")
from instructor import site  # noqa: E402

ROOT = site.ROOT


def write_notebook(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A page")]), path)


@pytest.fixture
def course(tmp_path) -> tuple[Path, Path]:
    """A course with lessons 01 and 05 in both editions, their solutions, the glossary, and make run's copies."""
    notebooks, build = tmp_path / "notebooks", tmp_path / "build"
    names = ["01_regression", "05_cnn", "solutions/01_regression_solutions", "solutions/05_cnn_solutions"]
    for name in names + [f"ko/{n}" for n in names]:
        write_notebook(notebooks / f"{name}.ipynb")
        write_notebook(build / "notebooks" / f"{name}.ipynb")
    write_notebook(notebooks / "glossary.ipynb")
    return notebooks, build


def test_each_edition_shows_every_lesson_and_solution_it_finds(course):
    notebooks, build = course
    for code in ("en", "ko"):
        staged = site.edition_notebooks(site.EDITIONS[code], build, notebooks)
        assert sorted(staged) == ["01_regression.ipynb", "05_cnn.ipynb", "glossary.ipynb",
                                  "solutions/01_regression_solutions.ipynb", "solutions/05_cnn_solutions.ipynb"]
        prefix = "ko/" if code == "ko" else ""
        executed, source = build / "notebooks" / f"{prefix}05_cnn.ipynb", notebooks / f"{prefix}05_cnn.ipynb"
        assert staged["05_cnn.ipynb"] == (executed, source)
    write_notebook(notebooks / "ko" / "glossary.ipynb")  # the Korean glossary, once it lands, is the Korean one
    assert site.edition_notebooks(site.EDITIONS["ko"], build, notebooks)["glossary.ipynb"][1].parent.name == "ko"


def test_a_notebook_make_run_did_not_execute_or_that_failed_stops_the_build(course):
    notebooks, build = course
    (build / "notebooks" / "ko" / "05_cnn.ipynb").unlink()
    with pytest.raises(site.SiteError, match=r"run `make run`[\s\S]*ko/05_cnn: not in"):
        site.edition_notebooks(site.EDITIONS["ko"], build, notebooks)
    summary = {"notebooks": [{"name": "01_regression", "status": "failed"}, {"name": "05_cnn", "status": "ok"}]}
    (build / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(site.SiteError, match="01_regression: failed in the last run"):
        site.edition_notebooks(site.EDITIONS["en"], build, notebooks)


def test_links_between_repository_files_become_links_between_pages():
    notebooks = ROOT / "notebooks"
    targets = {(notebooks / "ko" / "01_x.ipynb").resolve(): "01_x.ipynb",
               (notebooks / "glossary.ipynb").resolve(): "glossary.ipynb",
               (ROOT / "README.ko.md").resolve(): "start.md",
               (notebooks / "ko" / "solutions" / "01_x_solutions.ipynb").resolve(): "solutions/01_x_solutions.ipynb"}
    others = {(ROOT / "README.md").resolve(): "../start.html",
              (ROOT / "docs" / "en" / "hub.md").resolve(): "../hub.html"}
    lesson = notebooks / "ko" / "01_x.ipynb"
    rewrite = site.rewrite_links
    assert rewrite("[용어집](../glossary.ipynb)", lesson, "01_x.ipynb", targets, others) == "[용어집](glossary.ipynb)"
    assert rewrite("[풀이](solutions/01_x_solutions.ipynb#ex-2)", lesson, "01_x.ipynb", targets, others) == (
        "[풀이](solutions/01_x_solutions.ipynb#ex-2)")
    solution = notebooks / "ko" / "solutions" / "01_x_solutions.ipynb"
    assert rewrite("[강의](../01_x.ipynb)", solution, "solutions/01_x_solutions.ipynb", targets, others) == (
        "[강의](../01_x.ipynb)")
    readme = ROOT / "README.ko.md"
    assert rewrite("[README.md](README.md), [허브](docs/en/hub.md#sizing)", readme, "start.md", targets, others) == (
        '<a href="../start.html">README.md</a>, <a href="../hub.html#sizing">허브</a>')
    kept = "[web](https://example.org/a.md), [top](#top), [file](Makefile), ![x](https://e.org/x.png)"
    assert rewrite(kept, readme, "start.md", targets, others) == kept
