"""Benchmark: the source's MNIST pipeline against the in-memory one, and the matmul roofline.

    python -m instructor.bench              # the full benchmark (about 3 minutes on 2 CPU cores)
    python -m instructor.bench --quick      # smoke run of about 10 s on tiny subsets: timings mean nothing
    python -m instructor.bench --profile    # torch.profiler's table of one in-memory step, by phase
    python -m instructor.bench --threads 2  # torch's CPU threads (default 1, as the lessons run)

Both pipelines train the source's 784-128-64-10 ``MNIST_Classifier`` with Adam:

- **source**: ``torchvision`` MNIST with ``ToTensor()``, ``DataLoader(batch_size=64, shuffle=True)``,
  ``Adam(lr=1e-3)``: the course's source post, as written.
- **in-memory**: ``helpers.mnist_tensors`` (the whole split as uint8, one byte per pixel),
  ``helpers.data.TensorBatches`` (batch 256), the model's first step ``Standardize`` (each batch converted
  to float32 and standardized with the training images' mean and std), fused Adam where supported,
  ``OneCycleLR``, and the training accuracy of every batch, as ``fit`` runs it in lesson 04.

Each reports training samples/s and the seconds of training (test evaluations not counted) until
the test accuracy first reaches 98 %. The roofline is float32 matmul speed at the MLP's layer shapes
(the eight matmuls autograd runs per step: 454,400 FLOPs per training sample) at the in-memory batch
size, turned into samples/s.

On the CPU the benchmark runs on one thread, as the lessons do (``setup_notebook``): on a shared
machine two-thread matmuls wait for each other and slow down many times over. The speed of this
CPU also changes by itself, over minutes. So the repeats are interleaved rounds (source run,
in-memory run, roofline), every ratio is computed inside its round, and the medians over rounds are
reported with the load average. ``inmemory_roofline_epochs_to_98`` (seconds to 98 % x roofline
samples/s / 60,000 training images: the time to 98 % in epochs at roofline speed) compares across
machines.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn
from torch.profiler import record_function
from torch.utils import benchmark
from torch.utils.data import DataLoader, Subset

from helpers.data import TensorBatches
from helpers.device import get_device
from helpers.metrics import batch_metric, multiclass_accuracy
from helpers.mnist import load_mnist, mnist_tensors
from helpers.models import MNIST_Classifier, Standardize, model_device  # the course's reference models
from helpers.seed import set_seed
from helpers.training import evaluate, train_one_epoch

ROOT = Path(__file__).resolve().parent.parent
#: The MLP's layers (fan_in, fan_out), as in the course's source.
LAYERS = ((28 * 28, 128), (128, 64), (64, 10))
#: FLOPs of one training sample: 2 per multiply-add, for the forward and the two backward matmuls of
#: each layer, less the first layer's input gradient, which autograd never computes (the images need none).
FLOPS_PER_SAMPLE = 2 * (3 * sum(fan_in * fan_out for fan_in, fan_out in LAYERS) - LAYERS[0][0] * LAYERS[0][1])
MNIST_TRAIN_SAMPLES = 60_000
TARGET_ACCURACY = 0.98
#: The two recipes; --quick keeps them and shrinks the data and the epochs.
SOURCE = {"batch_size": 64, "lr": 1e-3, "epochs": 8}
INMEMORY = {"batch_size": 256, "max_lr": 1e-2, "epochs": 5}


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none): how busy the machine was."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def synchronize(device: torch.device) -> None:
    """Wait for the accelerator's queued work (CUDA, MPS...), so that a timer around it measures the work."""
    if device.type != "cpu":
        torch.accelerator.synchronize(device)


def fused_adam_supported(device: torch.device) -> bool:
    """Whether ``Adam(fused=True)`` steps on ``device`` with this torch (the CPU since torch 2.4)."""
    try:
        param = torch.zeros(2, device=device, requires_grad=True)
        param.grad = torch.ones_like(param)
        torch.optim.Adam([param], fused=True).step()
        return True
    except (RuntimeError, ValueError, TypeError):
        return False


def matmul_roofline(batch_size: int, device: torch.device, seconds: float = 0.3) -> dict[str, float]:
    """Float32 matmul speed at the MLP's shapes for one batch, and the training samples/s it allows.

    One training step runs eight matmuls, the ones autograd runs: per layer the forward ``x @ W.T``
    (B, in) x (in, out) and the weight gradient ``g.T @ x``, and for the second and third layers the
    input gradient ``g @ W`` (the first layer's input, the images, needs no gradient). They run back
    to back into preallocated outputs, timed by ``torch.utils.benchmark.Timer.blocked_autorange`` for
    at least ``seconds`` with this process's thread count: only the matmuls count.
    """
    gen = torch.Generator().manual_seed(0)
    products = []  # (a, b, out) for out = a @ b
    for layer, (fan_in, fan_out) in enumerate(LAYERS):
        x, w, g = (torch.randn(*shape, generator=gen).to(device) for shape in
                   ((batch_size, fan_in), (fan_out, fan_in), (batch_size, fan_out)))
        products += [(x, w.t(), x.new_empty(batch_size, fan_out)), (g.t(), x, x.new_empty(fan_out, fan_in))]
        if layer > 0:
            products.append((g, w, x.new_empty(batch_size, fan_in)))

    def step() -> None:
        for a, b, out in products:
            torch.mm(a, b, out=out)

    # Timer synchronizes the accelerator around each block of steps; it would run on 1 thread by default.
    timer = benchmark.Timer("step()", globals={"step": step}, num_threads=torch.get_num_threads())
    step_seconds = timer.blocked_autorange(min_run_time=seconds).median
    return {"gflops": FLOPS_PER_SAMPLE * batch_size / step_seconds / 1e9, "samples_per_s": batch_size / step_seconds}


def roofline_epochs(seconds: float | None, roofline_samples_per_s: float) -> float | None:
    """Training seconds as epochs at roofline speed: ``seconds x roofline samples/s / 60,000`` (None stays None)."""
    return None if seconds is None else seconds * roofline_samples_per_s / MNIST_TRAIN_SAMPLES


def training_run(
    model: nn.Module, train_data: Iterable, test_data: Iterable, optimizer: torch.optim.Optimizer, *,
    epochs: int, train_samples: int, scheduler: Any = None, metrics: dict[str, Any] | None = None,
    check: bool = False,
) -> dict[str, Any]:
    """Train ``epochs`` epochs with ``train_one_epoch``, testing after each with the clock stopped.

    ``metrics`` and ``check`` (the first-batch checks, in the first epoch) make each epoch the one
    ``fit`` runs. Returns training samples/s, the training seconds at which the test accuracy first
    reached ``TARGET_ACCURACY`` (None if it never did) and the accuracy after each epoch.
    """
    device = model_device(model)
    loss_fn = nn.CrossEntropyLoss()
    train_seconds, seconds_to_98, accuracies = 0.0, None, []
    for epoch in range(epochs):
        synchronize(device)
        start = time.perf_counter()
        train_one_epoch(model, train_data, loss_fn, optimizer, metrics, scheduler=scheduler, check=check and epoch == 0)
        synchronize(device)
        train_seconds += time.perf_counter() - start
        accuracies.append(evaluate(model, test_data, metrics={"accuracy": multiclass_accuracy})["accuracy"])
        if seconds_to_98 is None and accuracies[-1] >= TARGET_ACCURACY:
            seconds_to_98 = train_seconds
    return {"samples_per_s": train_samples * epochs / train_seconds, "seconds_to_98": seconds_to_98,
            "accuracies": accuracies}


def source_run(train_set: Any, test: TensorBatches, device: torch.device, seed: int, epochs: int) -> dict[str, Any]:
    """The source's pipeline: ``DataLoader(batch_size=64, shuffle=True)`` over ``ToTensor()`` images, Adam 1e-3."""
    set_seed(seed)
    model = MNIST_Classifier().to(device)
    loader = DataLoader(train_set, batch_size=SOURCE["batch_size"], shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=SOURCE["lr"])
    return training_run(model, loader, test, optimizer, epochs=epochs, train_samples=len(train_set))


def inmemory_setup(x: torch.Tensor, y: torch.Tensor, stats: tuple[float, float], seed: int, epochs: int,
                   fused: bool) -> dict[str, Any]:
    """Lesson 04's fast path on uint8 images ``x`` (N, 1, 28, 28): the model (``Standardize(*stats)``, then
    the MLP), ``TensorBatches``, (fused) Adam and ``OneCycleLR``, seeded."""
    set_seed(seed)
    model = nn.Sequential(Standardize(*stats), MNIST_Classifier()).to(x.device)
    batches = TensorBatches(x, y, INMEMORY["batch_size"], seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=INMEMORY["max_lr"], fused=True if fused else None)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=INMEMORY["max_lr"], epochs=epochs,
                                                    steps_per_epoch=len(batches))
    return {"model": model, "batches": batches, "optimizer": optimizer, "scheduler": scheduler}


def inmemory_run(
    x: torch.Tensor, y: torch.Tensor, stats: tuple[float, float], test: TensorBatches, seed: int, epochs: int,
    fused: bool,
) -> dict[str, Any]:
    """The in-memory pipeline as ``fit`` runs it in lesson 04: training accuracy on every batch, the
    first batch checked."""
    run = inmemory_setup(x, y, stats, seed, epochs, fused)
    return training_run(run["model"], run["batches"], test, run["optimizer"], epochs=epochs, train_samples=len(x),
                        scheduler=run["scheduler"], metrics={"accuracy": multiclass_accuracy}, check=True)


#: The phases of one training step, in the order ``train_one_epoch`` runs them.
PHASES = ("batching", "standardize", "forward", "loss", "zero_grad", "backward", "optimizer", "schedule", "metrics")
#: Labels torch's optimizers put on their own calls.
OPTIMIZER_LABELS = {"Optimizer.zero_grad#Adam.zero_grad": "zero_grad", "Optimizer.step#Adam.step": "optimizer"}
MATMULS = {"aten::mm", "aten::addmm"}
#: What is left: the ops of train_one_epoch's own lines.
LOOP_LINES = "the loop's own lines (.to(device), loss sum)"


class Labelled(nn.Module):
    """``module`` called inside a profiler label: how the profile tells the forward pass from the loss."""

    def __init__(self, module: nn.Module, label: str) -> None:
        super().__init__()
        self.module, self.label = module, label

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        with record_function(self.label):
            return self.module(*args)


def labelled_call(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    """``fn`` called inside a profiler label."""

    def call(*args: Any) -> Any:
        with record_function(label):
            return fn(*args)

    return call


def labelled_batches(batches: Iterable, label: str = "batching") -> Iterator:
    """The batches of one pass, each drawn inside a profiler label (the shuffle counts, at the first)."""
    iterator = iter(batches)
    while True:
        with record_function(label):
            batch = next(iterator, None)
        if batch is None:
            return
        yield batch


def phase_of(event: Any) -> str:
    """The step phase a profiler event belongs to, from its outermost caller's label."""
    while event.cpu_parent is not None:
        event = event.cpu_parent
    if event.name in PHASES:
        return event.name
    if event.name in OPTIMIZER_LABELS:
        return OPTIMIZER_LABELS[event.name]
    if event.name.startswith("autograd::engine::") or event.name == "aten::ones_like":  # ones_like: backward's seed
        return "backward"
    return LOOP_LINES


def profile_inmemory(x: torch.Tensor, y: torch.Tensor, stats: tuple[float, float], fused: bool, steps: int,
                     rounds: int = 5, roofline_seconds: float = 0.3) -> dict[str, Any]:
    """``torch.profiler`` over ``steps`` steps of ``train_one_epoch`` on the in-memory path, as lesson 04's
    ``fit`` runs them (training accuracy on every batch), after one unprofiled warm-up pass.

    The model's two steps (``Standardize``, the MLP), the loss, the batches, the scheduler and the metric
    are wrapped in profiler labels;
    the optimizer labels itself; the backward pass is the autograd engine's events. Returns per-step
    milliseconds by phase and the matmuls' share of each; and, without the profiler, medians over
    ``rounds`` interleaved rounds of the step, the same step on one uint8 batch that stays in place
    (``fixed_batch_seconds``), the MLP's step on that batch already standardized (float32: the work
    without the per-batch conversion) and the matmul roofline, with each round's ratios.
    """
    n = min(len(x), steps * INMEMORY["batch_size"])
    run = inmemory_setup(x[:n], y[:n], stats, seed=0, epochs=rounds + 2, fused=fused)
    plain = (run["model"], run["batches"], nn.CrossEntropyLoss(), run["optimizer"],
             {"accuracy": multiclass_accuracy})
    device, steps = model_device(run["model"]), len(run["batches"])
    standardize, mlp = run["model"]  # the same modules, each called inside its label
    model = nn.Sequential(Labelled(standardize, "standardize"), Labelled(mlp, "forward"))
    loss_fn = Labelled(nn.CrossEntropyLoss(), "loss")
    metrics = {"accuracy": labelled_call(batch_metric(multiclass_accuracy), "metrics")}
    scheduler = SimpleNamespace(step=labelled_call(run["scheduler"].step, "schedule"))
    fixed_x, fixed_y = x[: INMEMORY["batch_size"]].clone(), y[: INMEMORY["batch_size"]].clone()
    float_x = standardize(fixed_x)  # the same batch, converted and standardized once

    train_one_epoch(*plain, scheduler=run["scheduler"])  # warm-up
    timed = []  # per round: (step, fixed-batch step, roofline step, float32 fixed-batch step) in ms
    for _ in range(rounds):
        synchronize(device)
        start = time.perf_counter()
        train_one_epoch(*plain, scheduler=run["scheduler"])
        synchronize(device)
        step_ms = (time.perf_counter() - start) * 1e3 / steps
        fixed_ms = fixed_batch_seconds(run["model"], run["optimizer"], fixed_x, fixed_y, steps) * 1e3 / steps
        roofline = matmul_roofline(INMEMORY["batch_size"], device, roofline_seconds)
        float_ms = fixed_batch_seconds(mlp, run["optimizer"], float_x, fixed_y, steps) * 1e3 / steps
        timed.append((step_ms, fixed_ms, INMEMORY["batch_size"] / roofline["samples_per_s"] * 1e3, float_ms))
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        train_one_epoch(model, labelled_batches(run["batches"]), loss_fn, run["optimizer"], metrics,
                        scheduler=scheduler)
        synchronize(device)
        profiled_seconds = time.perf_counter() - start

    phases = {name: {"ms": 0.0, "matmul_ms": 0.0} for name in (*PHASES, LOOP_LINES)}
    matmul_calls = 0
    for event in prof.events():
        phase = phases[phase_of(event)]
        if event.cpu_parent is None:
            phase["ms"] += event.cpu_time_total / 1e3 / steps
        if event.name in MATMULS:
            phase["matmul_ms"] += event.self_cpu_time_total / 1e3 / steps
            matmul_calls += 1
    traced = sum(p["ms"] for p in phases.values())
    return {
        "steps": steps, "batch_size": INMEMORY["batch_size"], "load_average": load_average(),
        "threads": torch.get_num_threads(), "device": str(device),
        "phases": phases, "matmuls_per_step": matmul_calls / steps,
        "untraced_ms": profiled_seconds * 1e3 / steps - traced,
        "profiled_step_ms": profiled_seconds * 1e3 / steps,
        "rounds": rounds,
        "step_ms": median([step for step, _, _, _ in timed]),
        "fixed_batch_step_ms": median([fixed for _, fixed, _, _ in timed]),
        "roofline_step_ms": median([roof for _, _, roof, _ in timed]),
        "float_batch_step_ms": median([flt for _, _, _, flt in timed]),
        "roofline_fraction": median([roof / step for step, _, roof, _ in timed]),
        "fixed_batch_roofline_fraction": median([roof / fixed for _, fixed, roof, _ in timed]),
        "fixed_batch_fraction": median([fixed / step for step, fixed, _, _ in timed]),
        "float_batch_fraction": median([flt / step for step, _, _, flt in timed]),
    }


def fixed_batch_seconds(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                        steps: int) -> float:
    """Seconds of ``steps`` hand-written steps (forward, loss, backward, optimizer) on one batch ``x`` (B, ...)
    that stays in place: the recipe's own work, without batching, metrics or schedule."""
    loss_fn, device = nn.CrossEntropyLoss(), model_device(model)
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    synchronize(device)
    return time.perf_counter() - start


def format_profile(profile: dict[str, Any]) -> str:
    """The profile as a Markdown table: milliseconds per step by phase, and the matmuls inside."""
    total = profile["profiled_step_ms"]
    rows = [(name, p["ms"], p["matmul_ms"]) for name, p in profile["phases"].items()]
    rows.append(("Python between ops (not traced)", profile["untraced_ms"], 0.0))
    lines = [
        f"One in-memory training step (batch {profile['batch_size']}), `torch.profiler` over {profile['steps']} "
        f"steps · {profile['device']} · {profile['threads']} thread(s) · load average {profile['load_average']}",
        "",
        "| phase | ms per step | share | of which matmuls (ms) |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {ms:.3f} | {ms / total:.0%} | {f'{mm:.3f}' if mm else ''} |" for name, ms, mm in rows]
    matmul = sum(mm for _, _, mm in rows)
    lines += [
        f"| **step, profiled** | **{total:.3f}** | 100% | **{matmul:.3f}** |",
        "",
        f"{profile['matmuls_per_step']:g} matmuls per step. Without the profiler (medians of {profile['rounds']} "
        f"interleaved rounds, each ratio taken inside its round): a step takes {profile['step_ms']:.3f} ms; "
        f"the same step on one uint8 batch that stays in place (standardize, forward, loss, backward, Adam: no "
        f"batching, metric or schedule) {profile['fixed_batch_step_ms']:.3f} ms; without the standardize step, "
        f"on that batch already in float32, {profile['float_batch_step_ms']:.3f} ms; the 8 matmuls at roofline "
        f"speed {profile['roofline_step_ms']:.3f} ms. The step runs at {profile['roofline_fraction']:.0%} of the "
        f"roofline; the recipe's own work, on one batch in place, at {profile['fixed_batch_roofline_fraction']:.0%}. "
        f"The step runs at {profile['fixed_batch_fraction']:.0%} of the speed of the step on one batch in place "
        f"({profile['float_batch_fraction']:.0%} of the float32 one's).",
    ]
    return "\n".join(lines)


def median(values: Sequence[float | None]) -> float | None:
    """The median, where None (target not reached) counts as slowest; None if the median is."""
    middle = statistics.median([math.inf if v is None else v for v in values])
    return None if math.isinf(middle) else float(middle)


def pixel_stats(images: torch.Tensor) -> tuple[float, float]:
    """The mean and standard deviation of all pixels of uint8 ``images`` (N, 1, 28, 28), in pixel units,
    as lesson 04 computes them: from the count of each of the 256 values, without a float32 copy."""
    counts = torch.bincount(images.flatten(), minlength=256).cpu()
    values = torch.arange(256, dtype=torch.float64)
    mean = (counts * values).sum() / counts.sum()
    return mean.item(), ((counts * (values - mean) ** 2).sum() / counts.sum()).sqrt().item()


def mnist_data(device: torch.device, quick: bool) -> dict[str, Any]:
    """MNIST as both pipelines read it: the ``ToTensor()`` dataset; the uint8 tensors with the training
    images' ``stats`` (mean, std); the test images in [0, 1] for the source's model and as uint8 for the
    in-memory one. ``quick`` keeps 2048 training and 500 test images."""
    train_set = load_mnist(True, download=False)  # ToTensor() per image, as in the source
    x, y = mnist_tensors(True, device=device, download=False)
    x_test, y_test = mnist_tensors(False, device=device, download=False)
    if quick:
        n, n_test = min(2048, len(x)), min(500, len(x_test))
        train_set, x, y, x_test, y_test = Subset(train_set, range(n)), x[:n], y[:n], x_test[:n_test], y_test[:n_test]
    return {"train_set": train_set, "x": x, "y": y, "stats": pixel_stats(x),  # the training images only
            "raw_test": TensorBatches(x_test.float().div_(255), y_test, 2000, shuffle=False),  # as ToTensor()
            "test": TensorBatches(x_test, y_test, 2000, shuffle=False)}


def run_benchmark(device: torch.device, repeats: int, quick: bool) -> dict[str, Any]:
    """Interleaved rounds of (source run, in-memory run, roofline); returns the summary."""
    load_start = load_average()
    data = mnist_data(device, quick)
    train_set, x, y, stats, raw_test, test = (data[k] for k in ("train_set", "x", "y", "stats", "raw_test", "test"))
    fused = fused_adam_supported(device)
    source_epochs, inmemory_epochs = (1, 1) if quick else (SOURCE["epochs"], INMEMORY["epochs"])

    rounds = []
    for seed in range(repeats):
        source = source_run(train_set, raw_test, device, seed, source_epochs)
        inmemory = inmemory_run(x, y, stats, test, seed, inmemory_epochs, fused)
        roofline = matmul_roofline(INMEMORY["batch_size"], device, seconds=0.05 if quick else 0.5)
        rounds.append({
            "source": source, "inmemory": inmemory, "roofline": roofline, "load_average": load_average(),
            "speedup": inmemory["samples_per_s"] / source["samples_per_s"],
            "roofline_fraction": inmemory["samples_per_s"] / roofline["samples_per_s"],
            "inmemory_roofline_epochs_to_98": roofline_epochs(inmemory["seconds_to_98"], roofline["samples_per_s"]),
        })
        print(f"  round {seed + 1}/{repeats}: source {source['samples_per_s']:,.0f} samples/s, in-memory "
              f"{inmemory['samples_per_s']:,.0f}, roofline {roofline['samples_per_s']:,.0f} "
              f"(speedup {rounds[-1]['speedup']:.1f}x, {rounds[-1]['roofline_fraction']:.0%} of the roofline)",
              file=sys.stderr, flush=True)
    return summarize(rounds, device=device, load_start=load_start, quick=quick, fused=fused,
                     epochs=(source_epochs, inmemory_epochs), train_samples=len(x))


def summarize(rounds: list[dict[str, Any]], *, device: torch.device, load_start: float | None, quick: bool,
              fused: bool, epochs: tuple[int, int], train_samples: int) -> dict[str, Any]:
    """The flat ``build/bench.json``: medians over rounds (each ratio computed inside its round)."""

    def over(path: str) -> float | None:
        outer, _, inner = path.partition(".")
        return median([r[outer][inner] if inner else r[outer] for r in rounds])

    return {
        "speedup": over("speedup"),
        "roofline_fraction": over("roofline_fraction"),
        "roofline_samples_per_s": over("roofline.samples_per_s"),
        "roofline_gflops": over("roofline.gflops"),
        "dataloader_samples_per_s": over("source.samples_per_s"),
        "inmemory_samples_per_s": over("inmemory.samples_per_s"),
        "dataloader_seconds_to_98": over("source.seconds_to_98"),
        "inmemory_seconds_to_98": over("inmemory.seconds_to_98"),
        "inmemory_roofline_epochs_to_98": over("inmemory_roofline_epochs_to_98"),
        "dataloader_final_accuracy": median([r["source"]["accuracies"][-1] for r in rounds]),
        "inmemory_final_accuracy": median([r["inmemory"]["accuracies"][-1] for r in rounds]),
        "device": str(device),
        "cpu": cpu_name(),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_average": load_start,
        "load_average_end": load_average(),
        "repeats": len(rounds),
        "quick": quick,
        "train_samples": train_samples,
        "flops_per_sample": FLOPS_PER_SAMPLE,
        "dataloader_recipe": dict(SOURCE, epochs=epochs[0]),
        "inmemory_recipe": dict(INMEMORY, epochs=epochs[1], fused_adam=fused),
        "rounds": rounds,
    }


def format_table(summary: dict[str, Any]) -> str:
    """The summary as a short plain-text table."""

    def num(value: float | None, fmt: str = "{:,.0f}") -> str:
        return "not reached" if value is None else fmt.format(value)

    s, m = summary["dataloader_recipe"], summary["inmemory_recipe"]
    rows = [
        ("", "source (DataLoader)", "in-memory", "ratio"),
        ("batch, optimizer", f"{s['batch_size']}, Adam {s['lr']:g}",
         f"{m['batch_size']}, {'fused ' if m['fused_adam'] else ''}Adam + OneCycleLR", ""),
        ("training samples/s", num(summary["dataloader_samples_per_s"]), num(summary["inmemory_samples_per_s"]),
         f"{summary['speedup']:.1f}x"),
        ("seconds of training to 98 %", num(summary["dataloader_seconds_to_98"], "{:.2f}"),
         num(summary["inmemory_seconds_to_98"], "{:.2f}"), ""),
        (f"test accuracy after {s['epochs']} / {m['epochs']} epochs", f"{summary['dataloader_final_accuracy']:.2%}",
         f"{summary['inmemory_final_accuracy']:.2%}", ""),
        (f"matmul roofline, batch {m['batch_size']}", "", f"{summary['roofline_samples_per_s']:,.0f} samples/s",
         f"{summary['roofline_fraction']:.0%}"),
        ("98 % in epochs at roofline speed", "", num(summary["inmemory_roofline_epochs_to_98"], "{:.2f}"), ""),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "MNIST training benchmark" + (" (QUICK: tiny subsets, timings mean nothing)" if summary["quick"] else ""),
        f"{summary['device']} · {summary['cpu']} · {summary['threads']} thread(s) · torch {summary['torch_version']}"
        f" · load average {summary['load_average']} at start, {summary['load_average_end']} at end"
        f" · median of {summary['repeats']} interleaved round(s)",
        "",
    ]
    lines += ["  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip()
              for r in rows]
    lines.append(f"roofline: {summary['roofline_gflops']:.1f} GFLOP/s / {FLOPS_PER_SAMPLE:,} FLOPs per sample; "
                 "every ratio is taken inside its round, then the median")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m instructor.bench``."""
    parser = argparse.ArgumentParser(prog="python -m instructor.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run of about 10 s on tiny subsets")
    parser.add_argument("--profile", action="store_true",
                        help="instead: torch.profiler's table of one in-memory training step, by phase")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch's CPU threads (default 1 on the CPU, as in the lessons)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "bench.json", help="default: build/bench.json")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    device = get_device(args.device)
    if device.type == "cpu" or args.threads is not None:
        torch.set_num_threads(args.threads or 1)
    if args.profile:
        data = mnist_data(device, args.quick)
        profile = profile_inmemory(data["x"], data["y"], data["stats"], fused_adam_supported(device),
                                   steps=8 if args.quick else 100, rounds=1 if args.quick else 5,
                                   roofline_seconds=0.05 if args.quick else 0.3)
        print(format_profile(profile))
        return 0
    started = time.perf_counter()
    summary = run_benchmark(device, repeats, args.quick)
    summary["bench_seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(format_table(summary))
    print(f"\nWrote {args.output} ({summary['bench_seconds']:.0f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
