"""Helpers for the torch-core-models course.

One module per concern:
    helpers.device      get_device, describe_device
    helpers.seed        set_seed, seed_worker
    helpers.data        Boston housing, splits, Standardizer, targets, TabularDataset, TensorBatches
    helpers.mnist       load_mnist (verified torchvision download), mnist_tensors (fast path)
    helpers.training    fit, evaluate, predict
    helpers.metrics     accuracies, RMSE/MAE, confusion matrix, precision/recall
    helpers.checks      the pitfall checks fit() runs before training
    helpers.plots       figures (each returns a matplotlib Figure)
    helpers.checkpoint  save_checkpoint, load_checkpoint (weights_only=True)
    helpers.params      check_parameters (validate a notebook's parameters cell)
"""

from helpers.checkpoint import load_checkpoint, save_checkpoint
from helpers.data import (
    BAND_NAMES,
    FEATURES,
    BostonSplits,
    Standardizer,
    TabularDataset,
    TensorBatches,
    band_targets,
    binary_targets,
    boston_splits,
    load_boston,
    regression_targets,
    resolve_data_dir,
    split_indices,
)
from helpers.device import describe_device, get_device
from helpers.mnist import MNISTDataError, load_mnist, mnist_tensors
from helpers.params import check_parameters
from helpers.seed import set_seed
from helpers.training import evaluate, fit, predict

__all__ = [
    "BAND_NAMES", "FEATURES", "BostonSplits", "MNISTDataError", "Standardizer", "TabularDataset", "check_parameters",
    "TensorBatches", "band_targets", "binary_targets", "boston_splits", "describe_device", "evaluate",
    "fit", "get_device", "load_boston", "load_checkpoint", "load_mnist", "mnist_tensors", "predict",
    "regression_targets", "resolve_data_dir", "save_checkpoint", "set_seed", "split_indices",
]
