"""The Boston housing table (bundled with the course) and the three tasks built on it.

Shapes (N rows, 13 features):
    features            float32 (N, 13)
    regression target   float32 (N, 1)   the median house value MEDV, in thousands of dollars
    binary target       float32 (N, 1)   1.0 if MEDV is above the training median, else 0.0
    price-band target   int64   (N,)     0 = low, 1 = middle, 2 = high (at the training tertiles)
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import torch

from helpers.bundled import bundled_file, reinstall_hint, verified_bytes
from helpers.data import Standardizer, as_float_tensor, split_indices
from helpers.i18n import tr

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable  # Python 3.11+; only for the annotation

BOSTON_FILENAME = "boston_housing.csv"
BOSTON_SHA256 = "59f7ce87c12ec1b5171d45cf591ff1111ecb9b3bf127bacf1a7e46be883ed2dd"


class SharedList(list):
    """A list the whole course shares, so it refuses to change: ``FEATURES.remove("B")`` would
    otherwise change it for every later cell and checker. Copy it first: ``mine = list(FEATURES)``.
    Reading, slicing, ``+`` and ``frame[FEATURES]`` work as for any list."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError(tr(
            "FEATURES is shared by the whole course and cannot be changed. Make your own copy "
            "first (list(FEATURES)) and change the copy."
        ))

    def __copy__(self) -> list[str]:
        """``copy.copy(FEATURES)``: a plain list the learner may change (not a refusing copy)."""
        return list(self)

    def __deepcopy__(self, memo: dict) -> list[str]:
        """``copy.deepcopy(FEATURES)``: a plain list, as ``list(FEATURES)``."""
        return list(self)

    append = extend = insert = remove = _refuse  # type: ignore[assignment]
    pop = clear = sort = reverse = _refuse  # type: ignore[assignment]
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]


#: The 13 feature columns, in the table's order (a ``SharedList``: copy it before changing it).
FEATURES = SharedList([
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT",
])
TARGET = "MEDV"
#: The three price bands of notebook 03, in class-index order.
BAND_NAMES = ("low", "middle", "high")

Task = Literal["regression", "binary", "bands"]


def bundled_boston() -> Traversable:
    """The copy of the table inside the ``helpers`` package: a wheel has it as a clone does."""
    return bundled_file(BOSTON_FILENAME)


def load_boston() -> pd.DataFrame:
    """The Boston table, 506 rows: the 13 ``FEATURES`` and the target ``MEDV``, from the package's
    copy (``bundled_boston``), its SHA-256 checked first. A missing (``FileNotFoundError``) or
    modified (``ValueError``) file stops with a message that says how to restore it.
    """
    source = bundled_boston()
    reinstall = reinstall_hint(BOSTON_FILENAME)
    if not source.is_file():
        raise FileNotFoundError(tr("Boston housing data not found at {source}. It ships inside "
                                   "the course's package: {reinstall}.",
                                   source=source, reinstall=reinstall))
    data = verified_bytes(source, BOSTON_SHA256, reinstall)
    return pd.read_csv(io.BytesIO(data))  # the checksum fixes the columns and the 506 rows


@dataclass
class BostonSplits:
    """Tensors for one task: ``X_*`` float32 (n, 13), ``y_*`` as in the module docstring.

    ``cut_points`` holds what was computed from the training rows to make the targets:
    ``(median,)`` for "binary", the two tertiles for "bands", ``()`` for "regression".
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    standardizer: Standardizer | None
    cut_points: tuple[float, ...]


def boston_splits(
    task: Task = "regression",
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    standardize: bool = True,
    columns: Sequence[str] = FEATURES,
) -> BostonSplits:
    """Load Boston, split it with ``split_indices`` (20 % test rows) and build the tensors for
    ``task``. ``columns`` picks the features, in that order: X_* are float32 (n, len(columns)).

    Everything fitted from data (the scaling, the median, the tertiles) comes from the
    training rows alone, so the validation and test rows stay unseen.
    """
    if task not in ("regression", "binary", "bands"):
        raise ValueError(tr('task must be "regression", "binary" or "bands", got {task!r}',
                            task=task))
    columns = list(columns)
    unknown = [name for name in columns if name not in FEATURES]
    if unknown or not columns:
        raise ValueError(tr("columns must be a non-empty list of names from FEATURES {features}; "
                            "unknown: {unknown}", features=FEATURES, unknown=unknown))
    frame = load_boston()
    train_idx, val_idx, test_idx = split_indices(len(frame), val_fraction=val_fraction, seed=seed)
    train_medv = frame[TARGET].iloc[train_idx]
    scaler = Standardizer.fit(frame[columns].iloc[train_idx]) if standardize else None
    x = as_float_tensor(frame[columns])
    if scaler is not None:
        x = scaler.transform(x)
    # (N, 1) like a one-output model's predictions: (N,) would broadcast against them inside
    # nn.MSELoss into an (N, N) matrix, a wrong loss with only a warning
    medv = as_float_tensor(frame[TARGET]).reshape(-1, 1)
    if task == "regression":
        cut_points: tuple[float, ...] = ()
        y = medv
    elif task == "binary":
        cut_points = (float(train_medv.median()),)
        y = (medv > cut_points[0]).float()
    else:
        cut_points = tuple(float(q) for q in np.quantile(train_medv, [1 / 3, 2 / 3]))
        # a value equal to a tertile goes to the higher band
        y = torch.bucketize(medv.reshape(-1), torch.tensor(cut_points), right=True)
    train, val, test = (torch.from_numpy(idx) for idx in (train_idx, val_idx, test_idx))
    return BostonSplits(
        X_train=x[train], y_train=y[train], X_val=x[val], y_val=y[val],
        X_test=x[test], y_test=y[test], standardizer=scaler, cut_points=cut_points,
    )
