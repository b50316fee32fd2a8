"""helpers: the small library the course's notebooks import.

    notebook    setup_notebook (settings, seed, device, one thread), claims_apply, show_results
    edition     which edition a notebook is (English, Korean), from its metadata or folder
    models      the course's reference models (the source's networks), for checkers, bench and tests
    validate    the rules of the notebooks' settings (setup_notebook) and of the helpers' arguments
    device      get_device, describe_device
    seed        set_seed
    data        resolve_data_dir, split_indices, Standardizer, TabularDataset, TensorBatches
    bundled     the data files inside the package: their place, their verified bytes
    boston      the bundled Boston table and its three tasks (regression, binary, price bands)
    co2         the bundled monthly Mauna Loa CO2 record (lesson 05)
    mnist       load_mnist (verified torchvision download), mnist_tensors (the fast path)
    training    train_one_epoch, evaluate, predict, fit, best_epoch, eval_mode
    checks      the shape and last-layer checks fit runs on the first batch
    metrics     accuracy, RMSE, confusion matrix, precision and recall
    plots       figures, each returned as a matplotlib Figure; the Hangul font (fonts/) for Korean
    progress    one progress bar that works in JupyterLab, a terminal and batch runs
    checkpoint  save_checkpoint, load_checkpoint (weights_only=True)
    exercises   the exercise checkers, one module per lesson

Notebooks import what they use from the top level (``from helpers import boston_splits``);
``__all__`` is exactly that set, and tests/test_repository.py keeps it so.
"""

# First: a missing dependency stops here with one line that says what to install.
import helpers.environment  # noqa: F401
from helpers.boston import FEATURES, boston_splits, load_boston
from helpers.co2 import load_co2
from helpers.data import split_indices
from helpers.mnist import load_mnist, mnist_tensors
from helpers.notebook import setup_notebook, show_results
from helpers.training import fit

__all__ = [
    "FEATURES",
    "boston_splits",
    "fit",
    "load_boston",
    "load_co2",
    "load_mnist",
    "mnist_tensors",
    "setup_notebook",
    "show_results",
    "split_indices",
]
