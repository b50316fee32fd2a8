"""helpers.boston: the bundled table, its checks, and the three tasks built from the training rows."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from helpers import boston
from helpers.boston import (
    BAND_NAMES,
    FEATURES,
    boston_splits,
    load_boston,
)
from helpers.data import split_indices

ROOT = Path(__file__).resolve().parent.parent

BUNDLED = ROOT / "helpers" / boston.BOSTON_FILENAME


@pytest.fixture
def bundled_copy(monkeypatch, tmp_path) -> Path:
    """The package's copy of the table replaced by a file of the test's own (at first missing)."""
    copy = tmp_path / "package" / boston.BOSTON_FILENAME
    copy.parent.mkdir()
    monkeypatch.setattr(boston, "bundled_boston", lambda: copy)
    return copy


def test_the_bundled_table_loads_verified():
    frame = load_boston()
    assert frame.shape == (506, 14) and list(frame.columns) == FEATURES + ["MEDV"]
    assert frame["MEDV"].between(5, 50).all() and not frame.isna().any().any()


def test_the_table_is_package_data_read_through_importlib_resources():
    assert boston.bundled_boston().read_bytes() == BUNDLED.read_bytes()


def test_the_table_always_comes_from_the_package(copied_course, monkeypatch, tmp_path):
    """No data folder overrides it: a boston_housing.csv elsewhere is never read, and the loaders take no
    data_dir (a folder "with your own boston_housing.csv" could only ever hold the same bytes)."""
    modified = BUNDLED.read_bytes().replace(b"24.0", b"99.0", 1)
    for folder in (copied_course / "data", tmp_path):
        (folder / boston.BOSTON_FILENAME).write_bytes(modified)
    monkeypatch.chdir(copied_course / "notebooks")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert load_boston().equals(pd.read_csv(BUNDLED))
    for loader in (load_boston, boston_splits):
        assert "data_dir" not in inspect.signature(loader).parameters


def test_a_windows_checkout_with_crlf_line_endings_still_verifies(bundled_copy):
    bundled_copy.write_bytes(BUNDLED.read_bytes().replace(b"\n", b"\r\n"))
    assert load_boston().shape == (506, 14)


def test_a_missing_file_says_where_and_how_to_restore_it(bundled_copy):
    with pytest.raises(FileNotFoundError) as info:
        load_boston()
    message = str(info.value)
    assert str(bundled_copy) in message and "\n" not in message
    assert "git checkout -- helpers/boston_housing.csv" in message
    assert "pip install --force-reinstall --no-deps ." in message


def test_a_damaged_file_is_refused_and_left_untouched(bundled_copy):
    damaged = BUNDLED.read_bytes().replace(b"24.0", b"99.0", 1)
    bundled_copy.write_bytes(damaged)
    with pytest.raises(ValueError, match="damaged or modified.*git checkout"):
        load_boston()
    assert bundled_copy.read_bytes() == damaged


def test_regression_targets_avoid_the_broadcasting_bug_of_n_shaped_targets():
    right = boston_splits("regression").y_test[:3]
    assert right.shape == (3, 1)
    pred = right.clone()
    assert nn.MSELoss()(pred, right).item() == 0.0
    with pytest.warns(UserWarning, match="different to the input size"):
        broadcast = nn.MSELoss()(pred, right.reshape(-1))  # (N, N): every prediction against every target
    assert broadcast.item() > 0


@pytest.mark.parametrize("task", ["regression", "binary", "bands"])
def test_every_task_is_built_from_the_training_rows_alone(task):
    s = boston_splits(task, val_fraction=0.2, seed=0)
    assert [len(s.X_train), len(s.X_val), len(s.X_test)] == [324, 81, 101]
    assert s.X_train.shape[1] == 13 and s.X_train.dtype == torch.float32
    assert torch.allclose(s.X_train.mean(dim=0), torch.zeros(13), atol=1e-4)  # scaled on training rows
    assert not torch.allclose(s.X_test.mean(dim=0), torch.zeros(13), atol=1e-3)
    train_idx, _, test_idx = split_indices(506, val_fraction=0.2, seed=0)
    medv = load_boston()["MEDV"].to_numpy()
    train_medv, test_medv = medv[train_idx], medv[test_idx]
    if task == "regression":
        assert s.cut_points == () and s.y_test.shape == (101, 1)
        assert torch.allclose(s.y_train.reshape(-1), torch.tensor(train_medv, dtype=torch.float32))
    elif task == "binary":
        assert s.cut_points == (float(np.median(train_medv)),)
        assert s.y_test.dtype == torch.float32 and s.y_test.shape == (101, 1)
        assert s.y_test.reshape(-1).tolist() == [float(v > s.cut_points[0]) for v in test_medv]
    else:
        assert s.cut_points == tuple(np.quantile(train_medv, [1 / 3, 2 / 3]))
        assert s.y_val.dtype == torch.int64 and s.y_val.shape == (81,)
        low, high = s.cut_points  # a value equal to a tertile goes to the higher band
        assert s.y_test.tolist() == [int(v >= low) + int(v >= high) for v in test_medv]
        counts = torch.bincount(s.y_train, minlength=len(BAND_NAMES))
        assert counts.min() >= 100  # tertiles: about a third of the training rows each


def test_the_seed_moves_the_split_and_raw_features_stay_unscaled():
    raw = boston_splits("regression", seed=1, standardize=False)
    assert raw.standardizer is None and raw.X_train[:, FEATURES.index("TAX")].min() > 100
    assert not torch.equal(raw.y_test, boston_splits("regression", seed=2, standardize=False).y_test)


def test_an_unknown_task_is_refused():
    with pytest.raises(ValueError, match="task must be"):
        boston_splits("clustering")


def test_columns_choose_the_features_and_their_scaling_comes_from_training_rows():
    all_columns = boston_splits("regression", seed=3)
    without_b = boston_splits("regression", seed=3, columns=[name for name in FEATURES if name != "B"])
    keep = [i for i, name in enumerate(FEATURES) if name != "B"]
    assert without_b.X_train.shape == (len(all_columns.X_train), 12)
    assert torch.allclose(without_b.X_test, all_columns.X_test[:, keep])
    assert torch.equal(without_b.y_val, all_columns.y_val)
    with pytest.raises(ValueError, match=r"unknown: \['ROOMS'\]"):
        boston_splits(columns=["RM", "ROOMS"])


def test_features_cannot_be_changed_through_an_alias_but_work_as_a_list():
    import pandas as pd
    import pytest as _pytest

    from helpers.boston import FEATURES

    alias = FEATURES
    for change in (lambda: alias.remove("B"), lambda: alias.append("X"), lambda: alias.__setitem__(0, "X"),
                   lambda: alias.__delitem__(0), lambda: alias.sort(), lambda: alias.pop()):
        with _pytest.raises(TypeError, match="shared by the whole course.*list\\(FEATURES\\)"):
            change()
    with _pytest.raises(TypeError):
        alias += ["X"]
    assert len(FEATURES) == 13 and FEATURES[11] == "B"
    mine = list(FEATURES)
    mine.remove("B")
    assert len(mine) == 12 and type(FEATURES + ["MEDV"]) is list
    frame = pd.DataFrame([range(13)], columns=list(FEATURES))
    assert list(frame[FEATURES].columns) == list(FEATURES)
