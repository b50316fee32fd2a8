"""The training loop the notebooks first write by hand, packaged: ``train_one_epoch``,
``evaluate``, ``predict`` and ``fit``.

``data`` is anything that yields ``(x, y)`` batches on every pass: a ``DataLoader`` or a
``TensorBatches``. ``metrics`` map a name to ``fn(pred, target) -> float``, a mean over the
batch (see ``helpers.metrics``). Losses and metrics are averaged over samples, so a short
last batch counts for what it holds. They are summed as tensors on the model's device and read
once per pass: a float per batch would make the CPU wait for the GPU at every batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import pandas as pd
import torch
from torch import nn

from helpers.checks import check_pitfalls
from helpers.i18n import tr
from helpers.metrics import batch_metric
from helpers.models import model_device
from helpers.progress import make_bar
from helpers.validate import positive_int

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
Metric = Callable[[torch.Tensor, torch.Tensor], float]


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model.eval()`` and no gradients inside the ``with`` block; the mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield model
    finally:
        model.train(was_training)


def train_one_epoch(
    model: nn.Module,
    data: Batches,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    metrics: dict[str, Metric] | None = None,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    check: bool = False,
) -> dict[str, float]:
    """One pass over ``data``, one optimizer step per batch; returns the mean ``loss`` and metrics.

    Each step is the loop the course writes by hand: ``pred = model(x); loss = loss_fn(pred, y);
    optimizer.zero_grad(); loss.backward(); optimizer.step()``. A ``scheduler`` steps after every
    batch. ``check`` runs ``check_pitfalls`` on the first batch, before any weight changes.
    """
    device = model_device(model)
    per_batch = {name: batch_metric(fn) for name, fn in (metrics or {}).items()}
    model.train()
    totals = {name: torch.zeros((), device=device) for name in ["loss", *per_batch]}
    count = 0
    for x, y in data:
        x, y = x.to(device), y.to(device)
        if check and count == 0:
            with eval_mode(model):
                check_pitfalls(model, model(x), y, loss_fn)
        pred = model(x)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        totals["loss"].add_(loss.detach(), alpha=len(x))  # one op: sum += loss * len(x)
        for name, fn in per_batch.items():
            totals[name].add_(fn(pred.detach(), y), alpha=len(x))
        count += len(x)
    if count == 0:
        raise ValueError(tr("train_one_epoch() got no batches: the training data is empty"))
    return _means(totals, count)


def evaluate(
    model: nn.Module, data: Batches, loss_fn: nn.Module | None = None,
    metrics: dict[str, Metric] | None = None,
) -> dict[str, float]:
    """Mean ``loss`` (when ``loss_fn`` is given) and metrics over ``data``, in ``eval_mode``."""
    device = model_device(model)
    per_batch = {name: batch_metric(fn) for name, fn in (metrics or {}).items()}
    names = (["loss"] if loss_fn is not None else []) + list(per_batch)
    totals = {name: torch.zeros((), device=device) for name in names}
    count = 0
    with eval_mode(model):
        for x, y in data:
            x, y = x.to(device), y.to(device)
            pred = model(x)
            if loss_fn is not None:
                totals["loss"].add_(loss_fn(pred, y), alpha=len(x))
            for name, fn in per_batch.items():
                totals[name].add_(fn(pred, y), alpha=len(x))
            count += len(x)
    if count == 0:
        raise ValueError(tr("evaluate() got no batches: the data is empty"))
    return _means(totals, count)


def _means(totals: dict[str, torch.Tensor], count: int) -> dict[str, float]:
    """Sums (0-d tensors on the device) divided by ``count``: one transfer for all of them."""
    return dict(zip(totals, (torch.stack(list(totals.values())) / count).tolist(), strict=True))


def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
    """The model's outputs for inputs ``x`` (N, ...), in order, on the CPU: shape (N, outputs)."""
    device = model_device(model)
    with eval_mode(model):
        starts = range(0, len(x), batch_size)
        outputs = [model(x[i : i + batch_size].to(device)).cpu() for i in starts]
    if not outputs:
        raise ValueError(tr("predict() got no inputs"))
    return torch.cat(outputs)


def fit(
    model: nn.Module,
    train_data: Batches,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    val_data: Batches | None = None,
    metrics: dict[str, Metric] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    progress: bool | None = None,
    restore_best: bool = False,
) -> pd.DataFrame:
    """Train for ``epochs`` passes of ``train_one_epoch``; evaluate ``val_data`` after each.

    Returns one row per finished epoch: ``epoch``, ``train_loss``, ``train_<metric>``,
    ``val_loss`` and ``val_<metric>`` (with ``val_data``) and ``seconds``. The first batch is
    checked for shape and output-layer mistakes (``helpers.checks``) before any step. With
    ``restore_best`` the model ends with the weights of its best epoch, ``best_epoch(history)``.

    Raises ``FloatingPointError`` when the loss turns NaN or infinite. Jupyter's stop button
    (``KeyboardInterrupt``) stops Run All: ``fit`` says how many epochs finished and re-raises it
    with the history so far as ``.history``; the model keeps the weights it had when stopped.
    """
    positive_int("epochs", epochs)
    if restore_best and val_data is None:
        raise ValueError(tr("restore_best=True needs val_data: the best epoch is chosen on "
                            "validation data"))
    rows = []
    best_loss, best_state = math.inf, None
    bar = make_bar(epochs, desc=tr("training"), enabled=progress)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            scores = train_one_epoch(model, train_data, loss_fn, optimizer, metrics,
                                     scheduler=scheduler, check=epoch == 1)
            if not math.isfinite(scores["loss"]):
                raise FloatingPointError(tr(
                    "The training loss became {loss} in epoch {epoch}: training diverged. Try a "
                    "10x smaller learning rate, standardized inputs, or check the data for NaN "
                    "values.",
                    loss=scores["loss"], epoch=epoch,
                ))
            row = {"epoch": epoch, **{f"train_{k}": v for k, v in scores.items()}}
            if val_data is not None:
                val_scores = evaluate(model, val_data, loss_fn, metrics)
                row.update({f"val_{k}": v for k, v in val_scores.items()})
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            if restore_best and row["val_loss"] < best_loss:
                best_loss = row["val_loss"]
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            bar.update(1)
            losses = {k: f"{v:.4g}" for k, v in row.items() if k.endswith("loss")}
            bar.set_postfix(losses, refresh=False)
    except KeyboardInterrupt as stop:
        print(tr("Training stopped during epoch {epoch} of {epochs}: {finished} epoch(s) finished; "
                 "the model keeps the weights it has now. The cells below will not run: run them "
                 "when you are ready.", epoch=len(rows) + 1, epochs=epochs, finished=len(rows)))
        stop.history = pd.DataFrame(rows)  # type: ignore[attr-defined]
        raise
    finally:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return pd.DataFrame(rows)


def best_epoch(history: pd.DataFrame, column: str = "val_loss") -> int:
    """The course's rule for the number of epochs: the epoch whose validation loss is lowest.

    The loss, not accuracy: it is defined for every task and moves smoothly, while accuracy
    on a few dozen validation rows jumps in steps of one row. Ties go to the earlier epoch.
    """
    if column not in history.columns or history.empty:
        raise ValueError(tr("the history has no {column!r} values: train with val_data=... first",
                            column=column))
    return int(history.loc[history[column].idxmin(), "epoch"])
