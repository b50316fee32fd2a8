"""The training loop the notebooks write by hand first, packaged for reuse: ``fit``,
``evaluate`` and ``predict``.

``data`` arguments accept anything that yields ``(x, y)`` batches again on every pass:
a ``DataLoader`` or ``helpers.data.TensorBatches``. ``metrics`` map a name to a function
``fn(pred, target) -> float`` that returns the mean over a batch (see ``helpers.metrics``);
losses and metrics are averaged over samples, so a short last batch counts for what it holds.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import pandas as pd
import torch
from torch import nn

from helpers.checks import check_pitfalls
from helpers.progress import make_bar

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
Metric = Callable[[torch.Tensor, torch.Tensor], float]


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _to(batch: tuple[torch.Tensor, torch.Tensor], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = batch
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def evaluate(
    model: nn.Module,
    data: Batches,
    loss_fn: nn.Module | None = None,
    metrics: dict[str, Metric] | None = None,
    *,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Average loss (key ``"loss"``, if ``loss_fn`` is given) and metrics over all batches of ``data``.

    Runs in ``model.eval()`` mode under ``torch.inference_mode()`` and restores the model's mode after.
    """
    device = device or _model_device(model)
    metrics = metrics or {}
    totals = {name: 0.0 for name in (["loss"] if loss_fn is not None else []) + list(metrics)}
    count = 0
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for batch in data:
                x, y = _to(batch, device)
                pred = model(x)
                n = len(x)
                if loss_fn is not None:
                    totals["loss"] += loss_fn(pred, y).item() * n
                for name, fn in metrics.items():
                    totals[name] += fn(pred, y) * n
                count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate() got no batches: the data is empty")
    return {name: total / count for name, total in totals.items()}


def predict(
    model: nn.Module, data: torch.Tensor | Batches, *, device: torch.device | None = None, batch_size: int = 1024
) -> torch.Tensor:
    """Model outputs for every sample, in order, concatenated on the CPU: shape (N, outputs).

    ``data`` is a tensor of inputs (N, ...) or an iterable of ``(x, y)`` batches (targets
    ignored); don't shuffle it if you compare the outputs with targets.
    """
    device = device or _model_device(model)
    if isinstance(data, torch.Tensor):
        batches: Iterable = (data[i : i + batch_size] for i in range(0, len(data), batch_size))
    else:
        batches = (batch[0] for batch in data)
    outputs = []
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for x in batches:
                outputs.append(model(x.to(device)).cpu())
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict() got no data")
    return torch.cat(outputs)


def fit(
    model: nn.Module,
    train_data: Batches,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    device: torch.device | None = None,
    val_data: Batches | None = None,
    metrics: dict[str, Metric] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    scheduler_interval: str = "batch",
    progress: bool | None = None,
    log_every: int | None = None,
    check: bool = True,
) -> pd.DataFrame:
    """Train ``model`` for ``epochs`` passes over ``train_data``; return the history.

    Each step is the loop the course writes by hand:
    ``pred = model(x); loss = loss_fn(pred, y); optimizer.zero_grad(); loss.backward(); optimizer.step()``.

    Args:
        device: where to train (default: where the model's parameters are). The model is
            moved there; each batch is moved there as it arrives.
        val_data: evaluated after every epoch (``model.eval()``, no gradients).
        metrics: ``{name: fn(pred, target) -> float}``, computed on the training batches as
            they are trained and on ``val_data``.
        scheduler: a learning-rate scheduler, stepped after every batch
            (``scheduler_interval="batch"``, e.g. OneCycleLR) or every epoch (``"epoch"``).
        progress: show a progress bar (default: see ``helpers.progress.progress_enabled``).
        log_every: also print one line every this many epochs (and after the last).
        check: run ``helpers.checks.check_pitfalls`` on the first batch, before the first step.

    Returns:
        A DataFrame with one row per finished epoch: ``epoch``, ``train_loss``, ``val_loss``
        (with ``val_data``), ``train_<metric>`` and ``val_<metric>`` for each metric, ``lr``
        and ``seconds`` (wall time of the epoch, validation included).

    Raises:
        FloatingPointError: the loss became NaN or infinite (the message names the epoch).
        ValueError: bad arguments, or prediction/target shapes that would broadcast.

    Pressing Jupyter's stop button (KeyboardInterrupt) ends training cleanly: the weights
    keep what they learned and the history of the finished epochs is returned.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if scheduler_interval not in ("batch", "epoch"):
        raise ValueError(f'scheduler_interval must be "batch" or "epoch", got {scheduler_interval!r}')
    device = torch.device(device) if device is not None else _model_device(model)
    model.to(device)
    metrics = metrics or {}

    rows: list[dict[str, float]] = []
    bar = make_bar(epochs, desc="training", enabled=progress)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            loss_sum = torch.zeros((), device=device)  # summed on the device: no sync per batch
            totals = {name: 0.0 for name in metrics}
            count = 0
            for batch in train_data:
                x, y = _to(batch, device)
                if check and epoch == 1 and count == 0:
                    # Once, on the very first batch, before any weight changes. Checked here rather
                    # than by peeking at the data, which would use up one shuffle of a seeded loader.
                    check_pitfalls(model, x, y, loss_fn)
                pred = model(x)
                loss = loss_fn(pred, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if scheduler is not None and scheduler_interval == "batch":
                    scheduler.step()
                n = len(x)
                loss_sum += loss.detach() * n
                with torch.no_grad():
                    for name, fn in metrics.items():
                        totals[name] += fn(pred.detach(), y) * n
                count += n
            if count == 0:
                raise ValueError("fit() got no training batches: the training data is empty")
            train_loss = loss_sum.item() / count
            if not math.isfinite(train_loss):
                raise FloatingPointError(
                    f"The training loss became {train_loss} in epoch {epoch}: training diverged. "
                    "Try a lower learning rate (e.g. 10x smaller), standardized inputs, or check the "
                    "data for NaN values."
                )
            row = {"epoch": epoch, "train_loss": train_loss}
            row.update({f"train_{name}": totals[name] / count for name in metrics})
            if val_data is not None:
                scores = evaluate(model, val_data, loss_fn, metrics, device=device)
                row["val_loss"] = scores.pop("loss")
                row.update({f"val_{name}": value for name, value in scores.items()})
            row["lr"] = optimizer.param_groups[0]["lr"]
            if scheduler is not None and scheduler_interval == "epoch":
                scheduler.step()
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            bar.update(1)
            bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k.endswith("loss")}, refresh=False)
            if log_every and (epoch % log_every == 0 or epoch == epochs):
                print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    except KeyboardInterrupt:
        print(f"Training interrupted during epoch {len(rows) + 1}: returning the history of the "
              f"{len(rows)} finished epoch(s); the model keeps its current weights.")
    finally:
        bar.close()
    columns = ["epoch", "train_loss"] + (["val_loss"] if val_data is not None else [])
    columns += [f"train_{n}" for n in metrics] + ([f"val_{n}" for n in metrics] if val_data is not None else [])
    columns += ["lr", "seconds"]
    return pd.DataFrame(rows, columns=columns)
