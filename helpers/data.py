"""Generic data pieces: where the data lives, train/validation/test splits, feature scaling,
a ``Dataset`` for tables and a fast in-memory mini-batch iterator.

Shapes: features float32 (N, F); targets (N, ...) of any dtype.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs
import torch
from torch.utils.data import TensorDataset

from helpers.i18n import tr
from helpers.validate import fraction, fraction_or_zero, positive_int

#: Environment variable naming the data folder, e.g. ``COURSE_DATA_DIR=/data/course``.
DATA_DIR_ENV_VAR = "COURSE_DATA_DIR"
#: The name of the per-user cache folder (``~/.cache/torch-core-models`` on Linux).
CACHE_NAME = "torch-core-models"


def course_data_dir() -> Path | None:
    """The repository's ``data/`` folder, or ``None`` outside a copy of the repository.

    Looked for beside the folder you work in (a notebook runs in ``notebooks/`` or
    ``notebooks/solutions/``, so ``..`` or ``../..``), then beside the ``helpers`` package,
    which is where a clone (or an editable install, ``pip install -e .``) has it. An installed
    wheel has no such folder.
    """
    here = Path.cwd().resolve()
    for folder in (here, *list(here.parents)[:2], Path(__file__).resolve().parent.parent):
        if (folder / "data").is_dir() and (folder / "notebooks").is_dir():
            return folder / "data"
    return None


def user_cache_dir() -> Path:
    """The per-user cache folder: ``~/.cache/torch-core-models`` on Linux (or under
    ``$XDG_CACHE_HOME``), ``~/Library/Caches/torch-core-models`` on macOS, and
    ``%LOCALAPPDATA%\\torch-core-models\\Cache`` on Windows."""
    return Path(platformdirs.user_cache_dir(CACHE_NAME, appauthor=False))


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder, the first of: ``data_dir`` if given, ``$COURSE_DATA_DIR``, the
    repository's ``data/`` when there is one (see ``course_data_dir``), else the per-user cache
    (see ``user_cache_dir``). MNIST is downloaded into it once."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return course_data_dir() or user_cache_dir()


def split_indices(
    n: int, *, test_fraction: float = 0.2, val_fraction: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it into sorted (train, val, test) index arrays.

    The test rows are taken first, then ``val_fraction`` of the rest becomes validation, so
    adding a validation split never moves rows into or out of the test set.
    """
    fraction("test_fraction", test_fraction)
    fraction_or_zero("val_fraction", val_fraction)
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    n_val = int(round((n - n_test) * val_fraction))
    if n_test == 0 or n - n_test - n_val < 1:
        raise ValueError(tr("{n} rows cannot be split with test_fraction={test}, "
                            "val_fraction={val}", n=n, test=test_fraction, val=val_fraction))
    test, val, train = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    return np.sort(train), np.sort(val), np.sort(test)


def as_float_tensor(x: torch.Tensor | np.ndarray | pd.DataFrame | pd.Series) -> torch.Tensor:
    """``x`` as a float32 tensor (a DataFrame or Series becomes its values)."""
    if isinstance(x, (pd.DataFrame, pd.Series)):
        x = x.to_numpy(dtype=np.float32, copy=True)  # a copy: pandas 3 hands out read-only arrays
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x, dtype=np.float32)
    return torch.as_tensor(x, dtype=torch.float32)


@dataclass
class Standardizer:
    """Per-feature ``(x - mean) / std``, with ``mean`` and ``std`` (F,) fitted on training rows
    only.

    Fit on the training split, then transform every split with the same numbers: fitting on
    all rows would let the test rows leak into training.
    """

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, x: torch.Tensor | np.ndarray | pd.DataFrame) -> Standardizer:
        """Fit on ``x`` (N, F). A constant feature gets std 1 (no division by zero)."""
        x = as_float_tensor(x)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(tr("Standardizer.fit needs a 2-D array with at least 2 rows, got "
                                "shape {shape}", shape=tuple(x.shape)))
        std = x.std(dim=0, correction=0)
        return cls(mean=x.mean(dim=0), std=torch.where(std > 0, std, torch.ones_like(std)))

    def transform(self, x: torch.Tensor | np.ndarray | pd.DataFrame) -> torch.Tensor:
        """Standardize ``x`` (N, F) -> float32 (N, F)."""
        x = as_float_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(tr("expected shape (N, {features}), got {shape}",
                                features=self.mean.shape[0], shape=tuple(x.shape)))
        return (x - self.mean) / self.std


class TabularDataset(TensorDataset):
    """``(features[i], targets[i])`` rows: features (N, F) float32, targets (N, ...) any dtype.

    torch's ``TensorDataset`` with the features made float32 and a clear error for rows that
    differ. It lives in ``helpers``, not in a notebook, so that ``DataLoader(num_workers > 0)``
    can pickle it into worker processes on Windows and macOS.
    """

    def __init__(
        self, features: torch.Tensor | np.ndarray | pd.DataFrame, targets: torch.Tensor | np.ndarray
    ):
        features = as_float_tensor(features)
        if isinstance(targets, (pd.Series, pd.DataFrame)):
            targets = targets.to_numpy(copy=True)  # read-only in pandas 3: torch would warn
        targets = torch.as_tensor(targets)
        if len(features) != len(targets):
            raise ValueError(tr("features and targets differ in rows: {features} != {targets}",
                                features=len(features), targets=len(targets)))
        super().__init__(features, targets)


class TensorBatches:
    """Mini-batches sliced from whole tensors ``x`` (N, ...) and ``y`` (N, ...): the fast path.

    The tensors stay where they are (e.g. on the GPU). Each pass draws a new order from the
    iterator's own generator, so epochs differ while two runs with one seed are identical. Its
    seed is ``seed``, or without one a number drawn from torch's global random state, which
    ``set_seed(SEED)`` seeds: each SEED then gives its own order, as with
    ``DataLoader(shuffle=True)``. ``fit``, ``train_one_epoch`` and ``evaluate`` accept it wherever
    they take a DataLoader.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, *,
                 shuffle: bool = True, seed: int | None = None):
        if len(x) != len(y):
            raise ValueError(tr("x and y must have the same number of rows: {x} != {y}",
                                x=len(x), y=len(y)))
        if x.device != y.device:
            raise ValueError(tr("x and y must be on the same device, got {x} and {y}",
                                x=x.device, y=y.device))
        self.x, self.y = x, y
        self.batch_size = positive_int("batch_size", batch_size)
        self.shuffle = shuffle
        if seed is None:  # from the global random state; unshuffled batches draw nothing from it
            seed = int(torch.randint(2**62, ())) if shuffle else 0
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One pass: batches ``x`` (B, ...) and ``y`` (B, ...), B = ``batch_size`` (the last may be
        shorter), each a slice of contiguous rows.

        A shuffled pass first copies ``x`` and ``y`` in the new order, once (``index_select``),
        then slices that copy: the copy lives while the pass runs (47 MB for MNIST's training
        images as uint8), and a step reads its batch in order instead of copying 256 scattered rows.
        """
        x, y = self.x, self.y
        if self.shuffle:
            order = torch.randperm(len(x), generator=self.generator).to(x.device)
            x, y = x.index_select(0, order), y.index_select(0, order)
        for start in range(0, len(x), self.batch_size):
            yield x[start : start + self.batch_size], y[start : start + self.batch_size]
