"""Data for the course: the Boston housing table, splits, scaling, targets,
a ``Dataset`` for tabular data and a fast in-memory mini-batch iterator.

Shapes used throughout (N rows, F = 13 features):
    features            float32 (N, 13)
    regression target   float32 (N, 1)   house price MEDV in $1000s
    binary target       float32 (N, 1)   1.0 if MEDV is above the training median
    price-band target   int64   (N,)     0 = low, 1 = middle, 2 = high (training tertiles)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

#: Environment variable naming the data directory (default: ``<repo>/data``).
DATA_DIR_ENV_VAR = "COURSE_DATA_DIR"

BOSTON_FILENAME = "boston_housing.csv"
BOSTON_SHA256 = "59f7ce87c12ec1b5171d45cf591ff1111ecb9b3bf127bacf1a7e46be883ed2dd"
BOSTON_ROWS = 506
FEATURES = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"]
TARGET = "MEDV"
#: Names of the three price bands used by the softmax notebook, in class-index order.
BAND_NAMES = ("low", "middle", "high")

Task = Literal["regression", "binary", "bands"]


def repo_root() -> Path:
    """The course repository (the folder that holds ``helpers/`` and ``data/``)."""
    return Path(__file__).resolve().parent.parent


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: ``data_dir`` if given, else ``$COURSE_DATA_DIR``, else ``<repo>/data``."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return repo_root() / "data"


def _sha256_normalized(path: Path) -> str:
    # Hash with Windows line endings folded to Unix ones, so a checkout made with
    # git's core.autocrlf still matches the published checksum.
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def load_boston(data_dir: str | os.PathLike | None = None, *, verify: bool = True) -> pd.DataFrame:
    """Load the Boston housing table (506 rows: 13 features and the target MEDV).

    Looks for ``boston_housing.csv`` in ``resolve_data_dir(data_dir)``; if that folder
    lacks it (say ``COURSE_DATA_DIR`` points at a folder made for MNIST only), the copy
    that ships with the course in ``<repo>/data`` is used. With ``verify`` the file is
    checked (SHA-256, columns, row count) before use.

    Raises:
        FileNotFoundError: no copy of the file was found; says where it should be.
        ValueError: the file is damaged or not the Boston data; says how to restore it.
    """
    candidates = [resolve_data_dir(data_dir) / BOSTON_FILENAME, repo_root() / "data" / BOSTON_FILENAME]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            f"Boston housing data not found. Looked for {candidates[0]}"
            + (f" and {candidates[1]}" if candidates[1] != candidates[0] else "")
            + ". The course ships it as data/boston_housing.csv: restore it with "
            "`git checkout -- data/boston_housing.csv`, or pass data_dir= (or set "
            f"{DATA_DIR_ENV_VAR}) to the folder that holds it."
        )
    restore = f"Restore the original with `git checkout -- data/{BOSTON_FILENAME}` (or copy a fresh one from the course repository)."
    if verify:
        digest = _sha256_normalized(path)
        if digest != BOSTON_SHA256:
            raise ValueError(
                f"{path} is damaged or modified: its SHA-256 is {digest[:12]}..., "
                f"expected {BOSTON_SHA256[:12]}.... {restore}"
            )
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path} is not a readable CSV file ({exc}). {restore}") from exc
    expected = FEATURES + [TARGET]
    if list(frame.columns) != expected:
        raise ValueError(
            f"{path} has columns {list(frame.columns)}, expected {expected}. {restore}"
        )
    if len(frame) != BOSTON_ROWS:
        raise ValueError(f"{path} has {len(frame)} rows, expected {BOSTON_ROWS}. {restore}")
    return frame


def split_indices(
    n: int, *, test_fraction: float = 0.2, val_fraction: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it into (train, val, test) index arrays.

    The test rows are taken first, then ``val_fraction`` of the remaining rows becomes
    the validation set, so the test set depends only on ``n``, ``test_fraction`` and
    ``seed``: adding a validation split never moves rows into or out of the test set.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    n_val = int(round((n - n_test) * val_fraction))
    if n_test == 0 or n - n_test - n_val < 1:
        raise ValueError(f"{n} rows cannot be split with test_fraction={test_fraction}, val_fraction={val_fraction}")
    test, val, train = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    return np.sort(train), np.sort(val), np.sort(test)


def _as_float_tensor(x: torch.Tensor | np.ndarray | pd.DataFrame | pd.Series) -> torch.Tensor:
    if isinstance(x, (pd.DataFrame, pd.Series)):
        x = x.to_numpy()
    return torch.as_tensor(np.asarray(x, dtype=np.float32) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32)


@dataclass
class Standardizer:
    """Per-feature standardization ``(x - mean) / std`` with statistics fitted on training rows only.

    ``mean`` and ``std`` are float32 tensors of shape (F,). Fit on the training split,
    then transform the training, validation and test splits with the same numbers:
    fitting on all rows would leak information from the test set into training.
    """

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, x: torch.Tensor | np.ndarray | pd.DataFrame) -> "Standardizer":
        """Fit on ``x`` of shape (N, F). Constant features get std 1 (no division by zero)."""
        x = _as_float_tensor(x)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"Standardizer.fit needs a 2-D array with at least 2 rows, got shape {tuple(x.shape)}")
        std = x.std(dim=0, unbiased=False)
        return cls(mean=x.mean(dim=0), std=torch.where(std > 0, std, torch.ones_like(std)))

    def transform(self, x: torch.Tensor | np.ndarray | pd.DataFrame) -> torch.Tensor:
        """Standardize ``x`` (N, F) -> float32 (N, F)."""
        x = _as_float_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"expected shape (N, {self.mean.shape[0]}), got {tuple(x.shape)}")
        return (x - self.mean) / self.std


def regression_targets(medv: pd.Series | np.ndarray | torch.Tensor) -> torch.Tensor:
    """MEDV as float32 of shape (N, 1), the shape of a 1-output model's predictions.

    A target of shape (N,) would broadcast against predictions of shape (N, 1) inside
    ``nn.MSELoss`` into an (N, N) matrix: a wrong loss with only a warning.
    """
    return _as_float_tensor(medv).reshape(-1, 1)


def binary_targets(medv: pd.Series | np.ndarray | torch.Tensor, threshold: float) -> torch.Tensor:
    """1.0 where MEDV > ``threshold`` (use the training median), else 0.0; float32 (N, 1)."""
    return (_as_float_tensor(medv).reshape(-1, 1) > threshold).float()


def band_targets(medv: pd.Series | np.ndarray | torch.Tensor, edges: tuple[float, float]) -> torch.Tensor:
    """Price band per row as int64 class indices of shape (N,): 0 below ``edges[0]``,
    1 up to ``edges[1]``, 2 above. Use the training tertiles as ``edges``."""
    values = _as_float_tensor(medv).reshape(-1)
    boundaries = torch.tensor(sorted(edges), dtype=torch.float32)
    return torch.bucketize(values, boundaries, right=True).to(torch.int64)


@dataclass
class BostonSplits:
    """Tensors for one Boston task. X_* are float32 (n, 13); y_* are as in the module docstring.

    ``cut_points`` holds the thresholds taken from the training rows: ``(median,)`` for the
    binary task, the two tertiles for the bands task, ``()`` for regression.
    """

    task: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    feature_names: list[str]
    standardizer: Standardizer | None
    cut_points: tuple[float, ...]

    def sizes(self) -> dict[str, int]:
        """Rows per split, e.g. ``{"train": 324, "val": 81, "test": 101}``."""
        return {"train": len(self.X_train), "val": len(self.X_val), "test": len(self.X_test)}


def boston_splits(
    task: Task = "regression",
    *,
    test_fraction: float = 0.2,
    val_fraction: float = 0.0,
    seed: int = 0,
    standardize: bool = True,
    data_dir: str | os.PathLike | None = None,
) -> BostonSplits:
    """Load Boston, split it with ``split_indices`` and build the tensors for ``task``.

    Everything fitted from data (scaling, the median, the tertiles) comes from the
    training rows alone, so the validation and test rows stay unseen.
    """
    if task not in ("regression", "binary", "bands"):
        raise ValueError(f'task must be "regression", "binary" or "bands", got {task!r}')
    frame = load_boston(data_dir)
    train_idx, val_idx, test_idx = split_indices(
        len(frame), test_fraction=test_fraction, val_fraction=val_fraction, seed=seed
    )
    parts = {name: frame.iloc[idx] for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx))}
    scaler = Standardizer.fit(parts["train"][FEATURES]) if standardize else None

    def features(part: pd.DataFrame) -> torch.Tensor:
        x = _as_float_tensor(part[FEATURES]).reshape(-1, len(FEATURES))
        return scaler.transform(x) if scaler is not None else x

    train_medv = parts["train"][TARGET]
    if task == "regression":
        cut_points: tuple[float, ...] = ()
        make = regression_targets
    elif task == "binary":
        cut_points = (float(train_medv.median()),)
        make = lambda m: binary_targets(m, cut_points[0])  # noqa: E731
    else:
        cut_points = tuple(float(q) for q in np.quantile(train_medv, [1 / 3, 2 / 3]))
        make = lambda m: band_targets(m, cut_points)  # noqa: E731
    return BostonSplits(
        task=task,
        X_train=features(parts["train"]),
        y_train=make(parts["train"][TARGET]),
        X_val=features(parts["val"]),
        y_val=make(parts["val"][TARGET]),
        X_test=features(parts["test"]),
        y_test=make(parts["test"][TARGET]),
        feature_names=list(FEATURES),
        standardizer=scaler,
        cut_points=cut_points,
    )


class TabularDataset(Dataset):
    """A ``Dataset`` of (features, target) rows, the way the course first writes one.

    ``features``: (N, F) float32; ``targets``: (N, ...) any dtype; ``dataset[i]`` returns
    ``(features[i], targets[i])``. It lives in ``helpers`` (not in a notebook) so that
    DataLoader worker processes can pickle it on Windows and macOS.
    """

    def __init__(self, features: torch.Tensor | np.ndarray | pd.DataFrame, targets: torch.Tensor | np.ndarray | pd.Series):
        self.features = _as_float_tensor(features)
        self.targets = torch.as_tensor(targets.to_numpy(copy=True) if isinstance(targets, (pd.Series, pd.DataFrame)) else targets)
        if len(self.features) != len(self.targets):
            raise ValueError(
                f"features and targets must have the same number of rows: {len(self.features)} != {len(self.targets)}"
            )

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.features[index], self.targets[index]


class TensorBatches:
    """Mini-batches sliced from whole tensors already on the device: the fast path.

    ``x`` (N, ...) and ``y`` (N, ...) stay where they are (e.g. on the GPU); each pass
    (``for xb, yb in batches``) draws a new random order from its own seeded generator,
    so epochs differ but two runs with the same seed are identical. ``fit``, ``evaluate``
    and ``predict`` accept it wherever they accept a ``DataLoader``.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same number of rows: {len(x)} != {len(y)}")
        if x.device != y.device:
            raise ValueError(f"x and y must be on the same device, got {x.device} and {y.device}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def num_samples(self) -> int:
        return len(self.x)

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.x) // self.batch_size
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.x.device)
        for batch in range(len(self)):
            start = batch * self.batch_size
            if self.shuffle:
                idx = order[start : start + self.batch_size]
                yield self.x[idx], self.y[idx]
            else:
                yield self.x[start : start + self.batch_size], self.y[start : start + self.batch_size]
