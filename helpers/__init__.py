"""helpers: the small library the course's notebooks import.

    notebook    setup_notebook: check the parameters, seed, pick the device, one CPU thread
    validate    the small validators behind setup_notebook and the helpers' own arguments
    device      get_device, describe_device
    seed        set_seed, seed_worker
    data        resolve_data_dir, split_indices, Standardizer, TabularDataset, TensorBatches
    boston      the bundled Boston table and its three tasks (regression, binary, price bands)
    mnist       load_mnist (verified torchvision download), mnist_tensors (the fast path)
    training    train_one_epoch, evaluate, predict, fit, eval_mode, model_device
    checks      the shape and output-layer checks fit runs on the first batch
    metrics     accuracy, RMSE, confusion matrix, precision and recall
    plots       figures, each returned as a matplotlib Figure
    progress    one progress bar that works in JupyterLab, a terminal and batch runs
    checkpoint  save_checkpoint, load_checkpoint (weights_only=True)
    exercises   the exercise checkers, one module per lesson

Notebooks import what they use from the top level: ``from helpers import fit, evaluate``.
"""

from helpers.boston import BAND_NAMES, FEATURES, boston_splits, load_boston
from helpers.checkpoint import load_checkpoint, save_checkpoint
from helpers.data import Standardizer, TabularDataset, TensorBatches, split_indices
from helpers.device import describe_device, get_device
from helpers.metrics import (
    binary_accuracy,
    binary_accuracy_logits,
    confusion_matrix,
    mae,
    multiclass_accuracy,
    precision_recall,
    rmse,
)
from helpers.mnist import load_mnist, mnist_tensors
from helpers.notebook import setup_notebook
from helpers.plots import NotebookFigure, plot_confusion_matrix, plot_history, plot_image_grid, plot_predictions
from helpers.seed import set_seed
from helpers.training import best_epoch, evaluate, fit, predict, train_one_epoch

__all__ = [
    "BAND_NAMES",
    "FEATURES",
    "NotebookFigure",
    "Standardizer",
    "TabularDataset",
    "TensorBatches",
    "best_epoch",
    "binary_accuracy",
    "binary_accuracy_logits",
    "boston_splits",
    "confusion_matrix",
    "describe_device",
    "evaluate",
    "fit",
    "get_device",
    "load_boston",
    "load_checkpoint",
    "load_mnist",
    "mae",
    "mnist_tensors",
    "multiclass_accuracy",
    "plot_confusion_matrix",
    "plot_history",
    "plot_image_grid",
    "plot_predictions",
    "precision_recall",
    "predict",
    "rmse",
    "save_checkpoint",
    "set_seed",
    "setup_notebook",
    "split_indices",
    "train_one_epoch",
]
