"""The benchmark's arithmetic, its roofline and its profile, each against the real code; speed is
never asserted (``make bench`` reports it, CI runs ``make bench ARGS=--quick`` once)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from torch import nn

from helpers.models import MNIST_Classifier
from instructor import bench

#: The keys build/bench.json must have (issue 10's list, plus the load average and the new one).
REQUIRED_KEYS = {
    "speedup", "roofline_fraction", "roofline_samples_per_s", "dataloader_samples_per_s", "inmemory_samples_per_s",
    "inmemory_seconds_to_98", "dataloader_seconds_to_98", "device", "torch_version", "threads", "load_average",
    "inmemory_roofline_epochs_to_98",
}


def matmuls(fn, *args) -> tuple[Counter, float]:
    """The (name, input shapes) of every matmul ``fn(*args)`` runs, and their FLOPs, by torch.profiler."""
    with torch.profiler.profile(record_shapes=True, with_flops=True) as prof:
        fn(*args)
    events = [e for e in prof.events() if e.name in bench.MATMULS]
    operands = [e.input_shapes[1:3] if e.name == "aten::addmm" else e.input_shapes[:2] for e in events]
    return Counter(tuple(map(tuple, shapes)) for shapes in operands), sum(e.flops for e in events)


def training_step(batch_size: int) -> None:
    model = MNIST_Classifier()
    x, y = torch.randn(batch_size, 1, 28, 28), torch.randint(0, 10, (batch_size,))
    nn.CrossEntropyLoss()(model(x), y).backward()


def test_flops_per_sample_are_those_of_the_matmuls_autograd_runs():
    _, flops = matmuls(training_step, 32)
    assert bench.FLOPS_PER_SAMPLE == flops / 32 == 454_400  # 8 matmuls: the images need no gradient


def test_roofline_times_the_matmuls_of_a_training_step():
    step_shapes, _ = matmuls(training_step, 32)
    roofline_shapes, _ = matmuls(bench.matmul_roofline, 32, torch.device("cpu"), 0.001)
    # The roofline runs its step many times: every training-step matmul shape, as often as each other.
    assert set(roofline_shapes) == set(step_shapes) and len(set(roofline_shapes.values())) == 1


def test_epochs_to_98_at_roofline_speed():
    # 1.5 s at 200,000 samples/s is 300,000 samples: five passes over MNIST's 60,000 training images.
    assert bench.roofline_epochs(1.5, 200_000.0) == pytest.approx(5.0)
    assert bench.roofline_epochs(None, 200_000.0) is None


def test_not_reached_counts_as_slowest_in_the_median():
    assert bench.median([1.0, None, 2.0]) == 2.0
    assert bench.median([1.0, None, None]) is None


def test_ratios_are_taken_inside_each_round(monkeypatch):
    # (source, in-memory, roofline samples/s, in-memory seconds to 98 %) per round; round 2 ran in a
    # slow speed level. Medians of the per-round ratios (10x, 50 %, 3.33 epochs) differ from ratios of
    # the medians (9x, 40 %, 3.6 epochs): only ratios taken inside each round give the first.
    scripted = iter([(10_000, 100_000, 200_000, 1.0), (5_000, 60_000, 100_000, 1.7), (8_000, 72_000, 180_000, 1.2)])
    rounds = []

    def source_run(*args):
        rounds.append(next(scripted))
        return {"samples_per_s": rounds[-1][0], "seconds_to_98": None, "accuracies": [0.97]}

    monkeypatch.setattr(bench, "mnist_data", lambda device, quick: dict.fromkeys(("train_set", "raw_test", "test"))
                        | {"x": torch.zeros(60_000, 1), "y": torch.zeros(60_000), "stats": (0.0, 1.0)})
    monkeypatch.setattr(bench, "source_run", source_run)
    monkeypatch.setattr(bench, "inmemory_run", lambda *args: {
        "samples_per_s": rounds[-1][1], "seconds_to_98": rounds[-1][3], "accuracies": [0.98]})
    monkeypatch.setattr(bench, "matmul_roofline", lambda *args, **kwargs: {
        "samples_per_s": rounds[-1][2], "gflops": rounds[-1][2] * bench.FLOPS_PER_SAMPLE / 1e9})
    summary = bench.run_benchmark(torch.device("cpu"), repeats=3, quick=False)
    assert REQUIRED_KEYS <= set(summary)
    assert summary["speedup"] == pytest.approx(10.0) and summary["roofline_fraction"] == pytest.approx(0.5)
    assert summary["inmemory_roofline_epochs_to_98"] == pytest.approx(1.0 * 200_000 / 60_000)
    assert summary["inmemory_seconds_to_98"] == 1.2 and summary["dataloader_seconds_to_98"] is None
    assert all(r["load_average"] is not None for r in summary["rounds"])
    table = bench.format_table(summary)
    assert "10.0x" in table and "not reached" in table and "50%" in table


def test_quick_run_on_tiny_mnist_writes_the_summary(tiny_mnist, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tiny_mnist))
    output = tmp_path / "bench.json"
    assert bench.main(["--quick", "--device", "cpu", "--output", str(output)]) == 0
    summary = json.loads(output.read_text())
    assert REQUIRED_KEYS <= set(summary)
    assert summary["train_samples"] == 12 and summary["repeats"] == 1 and summary["quick"] is True
    assert summary["threads"] == 1  # the lessons' setting on the CPU
    assert summary["speedup"] > 0 and 0 < summary["roofline_fraction"]
    assert "training samples/s" in capsys.readouterr().out


def test_profile_accounts_for_every_phase_of_the_step(tiny_mnist, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tiny_mnist))
    data = bench.mnist_data(torch.device("cpu"), quick=True)
    fused = bench.fused_adam_supported(torch.device("cpu"))  # torch 2.4+ on the CPU (make oldest: 2.2)
    profile = bench.profile_inmemory(data["x"], data["y"], data["stats"], fused=fused, steps=8, rounds=2,
                                     roofline_seconds=0.01)
    assert profile["steps"] == 1 and profile["matmuls_per_step"] == 8  # 12 images: one batch
    assert all(profile["phases"][name]["ms"] > 0 for name in bench.PHASES), profile["phases"]
    assert profile["phases"]["forward"]["matmul_ms"] > 0 and profile["phases"]["backward"]["matmul_ms"] > 0
    assert profile["phases"]["batching"]["matmul_ms"] == profile["phases"]["optimizer"]["matmul_ms"] == 0
    traced = sum(p["ms"] for p in profile["phases"].values())
    assert traced + profile["untraced_ms"] == pytest.approx(profile["profiled_step_ms"])
    table = bench.format_profile(profile)
    assert all(f"| {name} |" in table for name in bench.PHASES) and "8 matmuls per step" in table
    assert profile["fixed_batch_step_ms"] > 0 and 0 < profile["roofline_fraction"] and "in place, at" in table
    assert profile["float_batch_step_ms"] > 0 and 0 < profile["fixed_batch_fraction"] and "already in float32" in table


def test_threads_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--threads", "0"])
    assert "--threads must be at least 1" in capsys.readouterr().err
