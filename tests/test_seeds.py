"""instructor.seeds: the seed sweep, against the stand-in notebook tests/fixtures/01_tiny.ipynb."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from instructor import seeds

FIXTURE = Path(__file__).parent / "fixtures" / "01_tiny.ipynb"


def test_seed_ranges():
    assert seeds.seed_range("0-3") == [0, 1, 2, 3]
    assert seeds.seed_range("3,7,40-42") == [3, 7, 40, 41, 42]


def test_a_sweep_reports_each_seed_and_a_failing_one(tmp_path):
    shutil.copy(FIXTURE, tmp_path / "01_tiny.ipynb")
    ok = seeds.run_seed(tmp_path / "01_tiny.ipynb", 5, {"EPOCHS": 2})
    assert ok["status"] == "ok" and ok["results"]["epochs"] == 2 and ok["seed"] == 5
    bad = seeds.run_seed(tmp_path / "01_tiny.ipynb", 6, {"FAIL": True})
    assert bad["status"] == "failed" and bad["error"]["error"] == "ValueError: bad EPOCHS=5"
    json.dumps([ok, bad])  # what build/seeds/<lesson>.json holds
