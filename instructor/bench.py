"""Benchmark: the source's MNIST pipeline against the in-memory one, and the matmul roofline.

    python -m instructor.bench              # the full benchmark (about 2 minutes on 2 CPU cores)
    python -m instructor.bench --quick      # smoke run of about 10 s on tiny subsets: timings mean nothing

Both pipelines train the source's 784-128-64-10 ``MNIST_Classifier`` with Adam:

- **source**: ``torchvision`` MNIST with ``ToTensor()``, ``DataLoader(batch_size=64, shuffle=True)``,
  ``Adam(lr=1e-3)``: the course's source post, as written.
- **in-memory**: ``helpers.mnist_tensors`` (the whole split converted once, then standardized with
  the training images' mean and std), ``helpers.TensorBatches`` (batch 256), fused Adam where
  supported, ``OneCycleLR``.

Each reports training samples/s and the seconds of training (test evaluations not counted) until
the test accuracy first reaches 98 %. The roofline is float32 matmul speed at the MLP's layer shapes
(forward, input gradient, weight gradient: 3 x 2 x (784*128 + 128*64 + 64*10) = 655,104 FLOPs per
training sample) at the in-memory batch size, turned into samples/s.

On a shared CPU the speed of two-thread matmuls jumps between two levels by itself, over minutes.
So the repeats are interleaved rounds (source run, in-memory run, roofline), every ratio is
computed inside its round, and the medians over rounds are reported with the load average.
``inmemory_roofline_epochs_to_98`` (seconds to 98 % x roofline samples/s / 60,000 training images:
the time to 98 % in epochs at roofline speed) compares across machines.
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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from helpers.data import TensorBatches
from helpers.device import get_device
from helpers.metrics import multiclass_accuracy
from helpers.mnist import load_mnist, mnist_tensors
from helpers.models import MNIST_Classifier  # the course's reference models
from helpers.seed import set_seed
from helpers.training import evaluate, train_one_epoch

ROOT = Path(__file__).resolve().parent.parent
#: The MLP's layers (fan_in, fan_out), as in the course's source.
LAYERS = ((28 * 28, 128), (128, 64), (64, 10))
#: FLOPs of one training sample: 2 per multiply-add, x3 for the forward and the two backward matmuls.
FLOPS_PER_SAMPLE = 3 * 2 * sum(fan_in * fan_out for fan_in, fan_out in LAYERS)
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
    """Wait for queued GPU work, so that a timer around it measures the work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


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

    One training step runs nine matmuls: per layer the forward ``x @ W.T`` (B, in) x (in, out), the
    input gradient ``g @ W`` and the weight gradient ``g.T @ x``. They run back to back into
    preallocated outputs for about ``seconds``: only the matmuls count.
    """
    gen = torch.Generator().manual_seed(0)
    operands = []
    for fan_in, fan_out in LAYERS:
        x, w, g = (torch.randn(*shape, generator=gen).to(device) for shape in
                   ((batch_size, fan_in), (fan_out, fan_in), (batch_size, fan_out)))
        outs = (x.new_empty(batch_size, fan_out), x.new_empty(batch_size, fan_in), x.new_empty(fan_out, fan_in))
        operands.append((x, w, g, outs))

    def timed(steps: int) -> float:
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            for x, w, g, (y, grad_x, grad_w) in operands:
                torch.mm(x, w.t(), out=y)
                torch.mm(g, w, out=grad_x)
                torch.mm(g.t(), x, out=grad_w)
        synchronize(device)
        return time.perf_counter() - start

    steps, elapsed = 4, timed(4)  # also the warm-up
    while elapsed < seconds / 10:
        steps *= 4
        elapsed = timed(steps)
    steps = max(1, round(steps * seconds / elapsed))
    step_seconds = timed(steps) / steps
    return {"gflops": FLOPS_PER_SAMPLE * batch_size / step_seconds / 1e9, "samples_per_s": batch_size / step_seconds}


def roofline_epochs(seconds: float | None, roofline_samples_per_s: float) -> float | None:
    """Training seconds as epochs at roofline speed: ``seconds x roofline samples/s / 60,000`` (None stays None)."""
    return None if seconds is None else seconds * roofline_samples_per_s / MNIST_TRAIN_SAMPLES


def training_run(
    model: nn.Module, train_data: Iterable, test_data: Iterable, optimizer: torch.optim.Optimizer, *,
    epochs: int, train_samples: int, scheduler: Any = None,
) -> dict[str, Any]:
    """Train ``epochs`` epochs, testing after each with the clock stopped.

    Returns training samples/s, the training seconds at which the test accuracy first reached
    ``TARGET_ACCURACY`` (None if it never did) and the accuracy after each epoch.
    """
    device = next(model.parameters()).device
    loss_fn = nn.CrossEntropyLoss()
    train_seconds, seconds_to_98, accuracies = 0.0, None, []
    for _ in range(epochs):
        synchronize(device)
        start = time.perf_counter()
        train_one_epoch(model, train_data, loss_fn, optimizer, scheduler=scheduler)
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


def inmemory_run(
    x: torch.Tensor, y: torch.Tensor, test: TensorBatches, seed: int, epochs: int, fused: bool
) -> dict[str, Any]:
    """The in-memory pipeline: ``TensorBatches`` over standardized tensors, (fused) Adam with OneCycleLR."""
    set_seed(seed)
    model = MNIST_Classifier().to(x.device)
    batches = TensorBatches(x, y, INMEMORY["batch_size"], seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=INMEMORY["max_lr"], fused=True if fused else None)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=INMEMORY["max_lr"], epochs=epochs,
                                                    steps_per_epoch=len(batches))
    return training_run(model, batches, test, optimizer, epochs=epochs, train_samples=len(x), scheduler=scheduler)


def median(values: Sequence[float | None]) -> float | None:
    """The median, where None (target not reached) counts as slowest; None if the median is."""
    middle = statistics.median([math.inf if v is None else v for v in values])
    return None if math.isinf(middle) else float(middle)


def run_benchmark(device: torch.device, repeats: int, quick: bool) -> dict[str, Any]:
    """Interleaved rounds of (source run, in-memory run, roofline); returns the summary."""
    load_start = load_average()
    train_set = load_mnist(True, download=False)  # ToTensor() per image, as in the source
    x, y = mnist_tensors(True, device=device, download=False)
    x_test, y_test = mnist_tensors(False, device=device, download=False)
    if quick:
        n, n_test = min(2048, len(x)), min(500, len(x_test))
        train_set, x, y, x_test, y_test = Subset(train_set, range(n)), x[:n], y[:n], x_test[:n_test], y_test[:n_test]
    mean, std = x.mean(), x.std()  # statistics of the training images only
    raw_test = TensorBatches(x_test, y_test, 2000, shuffle=False)  # [0, 1], as ToTensor() gives them
    standardized_test = TensorBatches((x_test - mean) / std, y_test, 2000, shuffle=False)
    x = (x - mean) / std
    fused = fused_adam_supported(device)
    source_epochs, inmemory_epochs = (1, 1) if quick else (SOURCE["epochs"], INMEMORY["epochs"])

    rounds = []
    for seed in range(repeats):
        source = source_run(train_set, raw_test, device, seed, source_epochs)
        inmemory = inmemory_run(x, y, standardized_test, seed, inmemory_epochs, fused)
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
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "bench.json", help="default: build/bench.json")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    started = time.perf_counter()
    summary = run_benchmark(get_device(args.device), repeats, args.quick)
    summary["bench_seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(format_table(summary))
    print(f"\nWrote {args.output} ({summary['bench_seconds']:.0f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
