"""helpers.co2: the bundled Mauna Loa series, its checksum, and the file's seven-values-six-names quirk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import co2, load_co2

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "helpers" / co2.CO2_FILENAME


@pytest.fixture
def bundled_copy(monkeypatch, tmp_path) -> Path:
    """The package's copy of the series replaced by a file of the test's own (at first missing)."""
    copy = tmp_path / "package" / co2.CO2_FILENAME
    copy.parent.mkdir()
    monkeypatch.setattr(co2, "bundled_co2", lambda: copy)
    return copy


def test_the_bundled_series_loads_verified_in_time_order():
    frame = load_co2()
    assert frame.shape == (co2.CO2_MONTHS, 3) and list(frame.columns) == ["month", "ppm", "trend"]
    assert frame["month"].iloc[0] == pd.Timestamp("1958-03-01")
    assert frame["month"].iloc[-1] == pd.Timestamp("2026-06-01")
    months = frame["month"].dt.year * 12 + frame["month"].dt.month
    assert (months.diff().dropna() == 1).all(), "one row per month, none skipped, oldest first"
    assert not frame.isna().any().any() and frame["ppm"].between(300, 450).all()


def test_the_seven_values_under_six_names_are_read_by_position():
    """The header names six columns and each row holds seven: a plain read_csv would take the month as the
    index and shift every name by one (the 'Average' column would hold the de-seasonalized value)."""
    frame = load_co2()
    first = BUNDLED.read_text().splitlines()[1].split(",")
    assert len(first) == 7
    assert frame["ppm"].iloc[0] == float(first[2]) and frame["trend"].iloc[0] == float(first[3])
    naive = pd.read_csv(BUNDLED)
    assert naive["Average"].iloc[0] != frame["ppm"].iloc[0]


def test_the_series_is_package_data_read_through_importlib_resources():
    assert co2.bundled_co2().read_bytes() == BUNDLED.read_bytes()


def test_a_windows_checkout_with_crlf_line_endings_still_verifies(bundled_copy):
    bundled_copy.write_bytes(BUNDLED.read_bytes().replace(b"\n", b"\r\n"))
    assert load_co2().shape == (co2.CO2_MONTHS, 3)


def test_a_missing_file_says_where_and_how_to_restore_it(bundled_copy):
    with pytest.raises(FileNotFoundError) as info:
        load_co2()
    message = str(info.value)
    assert str(bundled_copy) in message and "\n" not in message
    assert f"git checkout -- helpers/{co2.CO2_FILENAME}" in message


def test_a_damaged_file_is_refused_and_left_untouched(bundled_copy):
    damaged = BUNDLED.read_bytes().replace(b"315.71", b"325.71", 1)
    bundled_copy.write_bytes(damaged)
    with pytest.raises(ValueError, match="damaged or modified.*git checkout"):
        load_co2()
    assert bundled_copy.read_bytes() == damaged
