"""helpers.data: where the data lives, splits, scaling, the table Dataset and in-memory batches."""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import data
from helpers.data import Standardizer, TabularDataset, TensorBatches, resolve_data_dir, split_indices


def test_data_dir_argument_wins_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir("") == tmp_path / "env"  # papermill -p DATA_DIR "" means "not given"


@pytest.mark.parametrize("workdir", [".", "notebooks", "notebooks/solutions"])
def test_a_copied_course_finds_its_data_from_where_a_notebook_runs(copied_course, monkeypatch, workdir):
    monkeypatch.chdir(copied_course / workdir)
    assert resolve_data_dir() == copied_course / "data"


def test_outside_any_course_the_data_dir_is_the_per_user_cache(copied_course, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.course_data_dir() is None
    assert resolve_data_dir() == data.user_cache_dir()
    if sys.platform.startswith("linux"):
        assert resolve_data_dir() == tmp_path / "cache" / "torch-core-models"


def test_a_clone_or_editable_install_leads_to_the_repository_data_from_anywhere(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no course here: only the package's own location is left
    assert resolve_data_dir() == Path(data.__file__).resolve().parent.parent / "data"
    assert (resolve_data_dir() / "README.md").is_file()


def test_split_is_seeded_disjoint_and_the_test_rows_do_not_depend_on_validation():
    train, val, test = split_indices(506, test_fraction=0.2, val_fraction=0.2, seed=3)
    assert (len(train), len(val), len(test)) == (324, 81, 101)
    assert len(set(train) | set(val) | set(test)) == 506
    assert np.array_equal(test, split_indices(506, test_fraction=0.2, seed=3)[2])
    assert np.array_equal(train, split_indices(506, test_fraction=0.2, val_fraction=0.2, seed=3)[0])
    assert not np.array_equal(test, split_indices(506, test_fraction=0.2, seed=4)[2])


@pytest.mark.parametrize(
    "n, kwargs",
    [(100, {"test_fraction": 0}), (100, {"test_fraction": 1.0}), (100, {"val_fraction": -0.1}),
     (100, {"val_fraction": 1}), (2, {"test_fraction": 0.5, "val_fraction": 0.9})],
)
def test_split_refuses_bad_fractions_and_too_few_rows(n, kwargs):
    with pytest.raises(ValueError, match="fraction"):
        split_indices(n, **kwargs)


def test_standardizer_uses_the_training_rows_only():
    train = pd.DataFrame({"a": [0.0, 2.0, 4.0], "b": [5.0, 5.0, 5.0]})
    scaler = Standardizer.fit(train)
    scaled = scaler.transform(train)
    assert scaled.dtype == torch.float32
    assert torch.allclose(scaled.mean(dim=0), torch.zeros(2), atol=1e-6)
    assert scaler.std[1].item() == 1.0  # a constant column: no division by zero
    assert torch.allclose(scaler.transform(np.array([[10.0, 5.0]])), torch.tensor([[(10 - 2) / scaler.std[0], 0.0]]))


@pytest.mark.parametrize("rows", [torch.zeros(1, 2), torch.zeros(4)])
def test_standardizer_needs_a_table_of_at_least_two_rows(rows):
    with pytest.raises(ValueError, match="at least 2 rows"):
        Standardizer.fit(rows)


def test_standardizer_refuses_another_number_of_features():
    with pytest.raises(ValueError, match=r"expected shape \(N, 2\)"):
        Standardizer.fit(torch.zeros(3, 2)).transform(torch.zeros(3, 3))


def test_tabular_dataset_rows_from_pandas_and_its_length_check():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas 3's read-only arrays made torch warn in the notebook
        ds = TabularDataset(pd.DataFrame({"a": [1, 2], "b": [3, 4]}, dtype="float32"), pd.Series([0, 1]))
    x, y = ds[1]
    assert len(ds) == 2 and x.tolist() == [2.0, 4.0] and x.dtype == torch.float32 and y.item() == 1
    with pytest.raises(ValueError, match="differ in rows"):
        TabularDataset(torch.zeros(3, 2), torch.zeros(2))


def test_tabular_dataset_pickles_for_worker_processes():
    ds = TabularDataset(torch.arange(6.0).reshape(3, 2), torch.arange(3))
    copy = pickle.loads(pickle.dumps(ds))  # what DataLoader(num_workers > 0) does under spawn
    assert type(copy) is TabularDataset and torch.equal(copy[2][0], ds[2][0])


def test_tensor_batches_cover_every_row_once_and_reshuffle_each_pass():
    x, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    batches = TensorBatches(x, y, batch_size=4, seed=1)
    first = [yb.tolist() for _, yb in batches]
    second = [yb.tolist() for _, yb in batches]
    assert len(batches) == 3 and [len(b) for b in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == list(range(10)) and first != second
    assert first == [yb.tolist() for _, yb in TensorBatches(x, y, batch_size=4, seed=1)]  # same seed, same order
    for xb, yb in batches:
        assert torch.equal(xb.reshape(-1).long(), yb)  # rows stay paired


def test_tensor_batches_without_a_seed_follow_set_seed():
    """Like DataLoader(shuffle=True): the order follows torch's global random state, so each SEED gives
    its own order, and one SEED the same order every time."""
    from helpers.seed import set_seed

    x, y = torch.arange(40.0).reshape(40, 1), torch.arange(40)

    def order(seed: int) -> list[int]:
        set_seed(seed)
        return [v for _, yb in TensorBatches(x, y, batch_size=8) for v in yb.tolist()]

    assert order(0) == order(0) and order(1) == order(1)
    assert order(0) != order(1)
    set_seed(0)
    TensorBatches(x, y, 8, shuffle=False)
    after_unshuffled = torch.rand(3)
    set_seed(0)
    assert torch.equal(after_unshuffled, torch.rand(3)), "unshuffled batches draw nothing from the global RNG"


def test_a_shuffled_pass_slices_one_copy_in_the_seeded_order():
    x, y = torch.arange(10, dtype=torch.uint8).reshape(10, 1), torch.arange(10)
    batches = list(TensorBatches(x, y, batch_size=4, seed=3))
    order = torch.randperm(10, generator=torch.Generator().manual_seed(3))  # the pass's order, from the seed
    assert torch.equal(torch.cat([xb for xb, _ in batches]).view(-1), order.to(torch.uint8))
    assert all(xb.dtype == torch.uint8 and torch.equal(xb.view(-1).long(), yb) for xb, yb in batches)
    assert len({xb.untyped_storage().data_ptr() for xb, _ in batches}) == 1, "slices of one shuffled copy"
    assert torch.equal(x.view(-1), torch.arange(10, dtype=torch.uint8)), "x itself is not reordered"


def test_tensor_batches_in_order_without_shuffle():
    x, y = torch.arange(5.0).reshape(5, 1), torch.arange(5)
    assert [yb.tolist() for _, yb in TensorBatches(x, y, 2, shuffle=False)] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(
    "x, y, batch_size, message",
    [
        (torch.zeros(3), torch.zeros(2), 2, "same number of rows"),
        (torch.zeros(3), torch.zeros(3, device="meta"), 2, "same device"),
        (torch.zeros(3), torch.zeros(3), 0, "batch_size must be an integer >= 1"),
        (torch.zeros(3), torch.zeros(3), True, "batch_size must be an integer >= 1"),
        (torch.zeros(3), torch.zeros(3), 2.0, "batch_size must be an integer >= 1"),
    ],
)
def test_tensor_batches_refuse_bad_input(x, y, batch_size, message):
    with pytest.raises(ValueError, match=message):
        TensorBatches(x, y, batch_size)
