"""helpers.data: the Boston loader and its checks, splits, scaling, targets, datasets, batches."""

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from helpers import data
from helpers.data import (
    BAND_NAMES,
    FEATURES,
    Standardizer,
    TabularDataset,
    TensorBatches,
    band_targets,
    binary_targets,
    boston_splits,
    load_boston,
    regression_targets,
    split_indices,
)

BUNDLED = data.repo_root() / "data" / data.BOSTON_FILENAME


@pytest.fixture
def no_bundled_copy(monkeypatch, tmp_path):
    """Point repo_root() at an empty folder so only the given data dir can serve the file."""
    fake_root = tmp_path / "fake_repo"
    (fake_root / "data").mkdir(parents=True)
    monkeypatch.setattr(data, "repo_root", lambda: fake_root)
    return fake_root


def test_bundled_boston_loads_and_matches_the_published_data():
    frame = load_boston()
    assert frame.shape == (506, 14)
    assert list(frame.columns) == FEATURES + ["MEDV"]
    assert frame["MEDV"].between(5, 50).all()
    assert frame.isna().sum().sum() == 0


def test_data_dir_resolution_order(monkeypatch, tmp_path):
    assert data.resolve_data_dir() == data.repo_root() / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    assert data.resolve_data_dir() == tmp_path / "env"
    assert data.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_a_data_dir_without_boston_falls_back_to_the_bundled_copy(tmp_path):
    assert load_boston(tmp_path).equals(load_boston())


def test_crlf_checkout_still_verifies(tmp_path, no_bundled_copy):
    (tmp_path / data.BOSTON_FILENAME).write_bytes(BUNDLED.read_bytes().replace(b"\n", b"\r\n"))
    assert load_boston(tmp_path).shape == (506, 14)


def test_missing_file_says_where_and_how_to_restore(tmp_path, no_bundled_copy):
    with pytest.raises(FileNotFoundError) as info:
        load_boston(tmp_path)
    message = str(info.value)
    assert str(tmp_path / data.BOSTON_FILENAME) in message
    assert "git checkout -- data/boston_housing.csv" in message and "COURSE_DATA_DIR" in message


def test_damaged_file_is_refused_and_left_untouched(tmp_path, no_bundled_copy):
    damaged = BUNDLED.read_bytes().replace(b"24.0", b"99.0", 1)
    target = tmp_path / data.BOSTON_FILENAME
    target.write_bytes(damaged)
    with pytest.raises(ValueError, match="damaged or modified"):
        load_boston(tmp_path)
    assert target.read_bytes() == damaged  # nothing lost


def test_without_checksum_the_structure_is_still_checked(tmp_path, no_bundled_copy):
    target = tmp_path / data.BOSTON_FILENAME
    frame = pd.read_csv(BUNDLED)
    frame.drop(columns=["B"]).to_csv(target, index=False)
    with pytest.raises(ValueError, match="has columns"):
        load_boston(tmp_path, verify=False)
    frame.head(100).to_csv(target, index=False)
    with pytest.raises(ValueError, match="has 100 rows, expected 506"):
        load_boston(tmp_path, verify=False)
    target.write_bytes(b"")
    with pytest.raises(ValueError, match="not a readable CSV"):
        load_boston(tmp_path, verify=False)


def test_split_is_seeded_disjoint_and_test_set_independent_of_validation():
    train, val, test = split_indices(506, test_fraction=0.2, val_fraction=0.2, seed=3)
    assert (len(train), len(val), len(test)) == (324, 81, 101)
    assert len(set(train) | set(val) | set(test)) == 506
    _, _, test_again = split_indices(506, test_fraction=0.2, val_fraction=0.0, seed=3)
    assert np.array_equal(test, test_again)
    assert not np.array_equal(test, split_indices(506, seed=4)[2])


@pytest.mark.parametrize("kwargs", [{"test_fraction": 0}, {"test_fraction": 1.0}, {"val_fraction": -0.1}, {"val_fraction": 1}])
def test_split_rejects_bad_fractions(kwargs):
    with pytest.raises(ValueError):
        split_indices(100, **kwargs)


def test_split_rejects_too_few_rows():
    with pytest.raises(ValueError, match="cannot be split"):
        split_indices(2, test_fraction=0.5, val_fraction=0.9)


def test_standardizer_uses_training_statistics_only():
    train = torch.tensor([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    scaler = Standardizer.fit(train)
    assert torch.allclose(scaler.transform(train).mean(dim=0), torch.zeros(2), atol=1e-6)
    assert torch.equal(scaler.std[1], torch.tensor(1.0))  # constant column: no division by zero
    test = torch.tensor([[10.0, 5.0]])
    assert torch.allclose(scaler.transform(test), torch.tensor([[(10 - 2) / scaler.std[0].item(), 0.0]]))
    with pytest.raises(ValueError, match=r"expected shape \(N, 2\)"):
        scaler.transform(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="at least 2 rows"):
        Standardizer.fit(torch.zeros(1, 2))


def test_targets_have_the_shapes_the_losses_need():
    medv = pd.Series([10.0, 20.0, 30.0, 40.0])
    reg = regression_targets(medv)
    assert reg.shape == (4, 1) and reg.dtype == torch.float32
    binary = binary_targets(medv, threshold=20.0)
    assert binary.shape == (4, 1) and binary.dtype == torch.float32
    assert binary.reshape(-1).tolist() == [0.0, 0.0, 1.0, 1.0]
    bands = band_targets(medv, (15.0, 35.0))
    assert bands.shape == (4,) and bands.dtype == torch.int64
    assert bands.tolist() == [0, 1, 1, 2]


def test_mse_with_n_shaped_targets_is_the_bug_the_shape_prevents():
    pred = torch.tensor([[1.0], [2.0], [3.0]])
    right = regression_targets(np.array([1.0, 2.0, 3.0]))
    assert nn.MSELoss()(pred, right).item() == 0.0
    with pytest.warns(UserWarning, match="different to the input size"):
        wrong = nn.MSELoss()(pred, right.reshape(-1))
    assert wrong.item() > 0  # (N, N) broadcast: every prediction against every target


@pytest.mark.parametrize("task", ["regression", "binary", "bands"])
def test_boston_splits_fit_everything_on_training_rows(task):
    s = boston_splits(task, val_fraction=0.2, seed=0)
    assert s.sizes() == {"train": 324, "val": 81, "test": 101}
    assert s.X_train.shape == (324, 13) and s.X_train.dtype == torch.float32
    assert torch.allclose(s.X_train.mean(dim=0), torch.zeros(13), atol=1e-4)
    assert not torch.allclose(s.X_test.mean(dim=0), torch.zeros(13), atol=1e-3)
    frame = load_boston()
    train_idx, _, _ = split_indices(506, val_fraction=0.2, seed=0)
    train_medv = frame["MEDV"].to_numpy()[train_idx]
    if task == "regression":
        assert s.y_train.shape == (324, 1) and s.cut_points == ()
        assert torch.allclose(s.y_train.reshape(-1), torch.tensor(train_medv, dtype=torch.float32))
    elif task == "binary":
        assert s.cut_points == (float(np.median(train_medv)),)
        assert s.y_test.shape == (101, 1) and s.y_test.dtype == torch.float32
    else:
        assert len(s.cut_points) == 2 and s.y_val.dtype == torch.int64
        counts = torch.bincount(s.y_train, minlength=len(BAND_NAMES))
        assert counts.min() >= 100  # tertiles: roughly a third each


def test_boston_splits_raw_features_and_bad_task():
    raw = boston_splits("regression", standardize=False)
    assert raw.standardizer is None and raw.X_train[:, FEATURES.index("TAX")].min() > 100
    with pytest.raises(ValueError, match="task must be"):
        boston_splits("clustering")


def test_tabular_dataset_rows_and_length_check():
    ds = TabularDataset(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), pd.Series([0, 1]))
    assert len(ds) == 2
    x, y = ds[1]
    assert x.tolist() == [2.0, 4.0] and y.item() == 1
    with pytest.raises(ValueError, match="same number of rows"):
        TabularDataset(torch.zeros(3, 2), torch.zeros(2))


def test_tabular_dataset_works_with_worker_processes():
    ds = TabularDataset(torch.arange(20.0).reshape(10, 2), torch.arange(10))
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert torch.cat([y for _, y in loader]).tolist() == list(range(10))


def test_tensor_batches_cover_everything_and_reshuffle_each_epoch():
    x, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    batches = TensorBatches(x, y, batch_size=4, seed=1)
    assert len(batches) == 3 and batches.num_samples == 10
    first = [yb.tolist() for _, yb in batches]
    second = [yb.tolist() for _, yb in batches]
    assert sorted(sum(first, [])) == list(range(10)) and [len(b) for b in first] == [4, 4, 2]
    assert first != second
    assert first == [yb.tolist() for _, yb in TensorBatches(x, y, batch_size=4, seed=1)]
    ordered = TensorBatches(x, y, batch_size=4, shuffle=False, drop_last=True)
    assert len(ordered) == 2 and [yb.tolist() for _, yb in ordered] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    for xb, yb in TensorBatches(x, y, batch_size=3, seed=2):
        assert torch.equal(xb.reshape(-1).long(), yb)  # rows stay paired


def test_tensor_batches_reject_bad_input():
    with pytest.raises(ValueError, match="same number of rows"):
        TensorBatches(torch.zeros(3), torch.zeros(2), 2)
    with pytest.raises(ValueError, match="batch_size"):
        TensorBatches(torch.zeros(3), torch.zeros(3), 0)
    with pytest.raises(ValueError, match="same device"):
        TensorBatches(torch.zeros(3), torch.zeros(3, device="meta"), 2)
