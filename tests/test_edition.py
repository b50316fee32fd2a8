"""helpers.edition: the notebook's edition from the notebook itself (metadata, folder), never from a
student's cell; and helpers.notebook.claims_apply, which runs the self-check at the lesson's settings."""

from __future__ import annotations

import json
import sys
import types

import pytest

from helpers import edition as ed
from helpers import notebook
from helpers.i18n import language, set_language


@pytest.fixture(autouse=True)
def plain(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_LANGUAGE", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    set_language("en")


def write(path, language=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"course": {"language": language}} if language else {}
    path.write_text(json.dumps({"cells": [], "metadata": meta}), encoding="utf-8")
    return path


def test_english_when_nothing_says_otherwise():
    assert ed.edition() == "en"


def test_the_working_folder_ko_or_ko_solutions_is_korean(tmp_path, monkeypatch):
    for folder in (tmp_path / "notebooks" / "ko", tmp_path / "notebooks" / "ko" / "solutions"):
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(folder)
        assert ed.edition() == "ko"


def test_the_session_path_metadata_wins_over_the_folder(tmp_path, monkeypatch):
    korean = write(tmp_path / "Downloads" / "02_binary.ipynb", "ko")  # a Korean lesson saved on its own
    monkeypatch.setenv("JPY_SESSION_NAME", str(korean))
    assert ed.edition() == "ko"
    english = write(tmp_path / "ko" / "copy.ipynb", "en")
    monkeypatch.setenv("JPY_SESSION_NAME", str(english))
    assert ed.edition() == "en"


def test_a_relative_session_path_is_read_by_its_folders(monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "course/notebooks/ko/01_linear_regression.ipynb")
    assert ed.edition() == "ko"
    monkeypatch.setenv("JPY_SESSION_NAME", "course/notebooks/01_linear_regression.ipynb")
    assert ed.edition() == "en"


def test_colab_is_asked_for_the_open_notebook(monkeypatch):
    message = types.SimpleNamespace(blocking_request=lambda *a, **k: {
        "ipynb": {"metadata": {"course": {"language": "ko"}}}})
    colab = types.ModuleType("google.colab")
    colab._message = message
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert ed.edition() == "ko"
    message.blocking_request = lambda *a, **k: (_ for _ in ()).throw(TimeoutError("no reply"))
    assert ed.edition() == "en"


def test_course_language_overrides(monkeypatch, tmp_path):
    monkeypatch.chdir((tmp_path / "ko").mkdir() or tmp_path / "ko")
    monkeypatch.setenv("COURSE_LANGUAGE", "en")
    assert ed.edition() == "en"


def test_setup_notebook_takes_the_edition_and_claims_apply_at_the_lessons_settings(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir((tmp_path / "ko").mkdir() or tmp_path / "ko")
    notebook.setup_notebook(seed=3, device="cpu", EPOCHS=5, LR=0.1)
    assert language() == "ko"
    assert notebook.claims_apply({"EPOCHS": 5, "LR": 0.1})
    assert not notebook.claims_apply({"EPOCHS": 80, "LR": 0.1})
    out = capsys.readouterr().out
    assert "EPOCHS = 5 (강의에 적힌 값: 80)" in out and "자체 점검을 건너뜁니다" in out


def test_a_lesson_alone_in_a_folder_is_read_by_its_metadata(tmp_path, monkeypatch):
    alone = tmp_path / "alone"
    write(alone / "02_binary.ipynb", "ko")
    monkeypatch.chdir(alone)
    assert ed.edition() == "ko"
    write(alone / "01_regression.ipynb", "en")  # both editions side by side: nothing to go by
    assert ed.edition() == "en"
