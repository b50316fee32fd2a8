"""The benchmark's arithmetic and its summary; speed is never asserted (``make bench`` reports it,
CI runs ``make bench ARGS=--quick`` once)."""

from __future__ import annotations

import json

import pytest
import torch

from instructor import bench

#: The keys build/bench.json must have (issue 10's list, plus the load average and the new one).
REQUIRED_KEYS = {
    "speedup", "roofline_fraction", "roofline_samples_per_s", "dataloader_samples_per_s", "inmemory_samples_per_s",
    "inmemory_seconds_to_98", "dataloader_seconds_to_98", "device", "torch_version", "threads", "load_average",
    "inmemory_roofline_epochs_to_98",
}


def fake_round(source: float, inmemory: float, roofline: float, seconds_to_98: float | None) -> dict:
    return {
        "source": {"samples_per_s": source, "seconds_to_98": None, "accuracies": [0.97]},
        "inmemory": {"samples_per_s": inmemory, "seconds_to_98": seconds_to_98, "accuracies": [0.98]},
        "roofline": {"samples_per_s": roofline, "gflops": roofline * bench.FLOPS_PER_SAMPLE / 1e9},
        "speedup": inmemory / source,
        "roofline_fraction": inmemory / roofline,
        "inmemory_roofline_epochs_to_98": bench.roofline_epochs(seconds_to_98, roofline),
    }


def test_flops_per_sample_are_three_matmuls_per_weight_of_the_model():
    weights = sum(m.weight.numel() for m in bench.MNIST_Classifier().modules() if isinstance(m, torch.nn.Linear))
    assert bench.FLOPS_PER_SAMPLE == 3 * 2 * weights


def test_roofline_turns_matmul_time_into_samples_per_second():
    result = bench.matmul_roofline(32, torch.device("cpu"), seconds=0.01)
    assert result["samples_per_s"] > 0
    assert result["gflops"] * 1e9 == pytest.approx(result["samples_per_s"] * bench.FLOPS_PER_SAMPLE)


def test_epochs_to_98_at_roofline_speed():
    # 1.5 s at 200,000 samples/s is 300,000 samples: five passes over MNIST's 60,000 training images.
    assert bench.roofline_epochs(1.5, 200_000.0) == pytest.approx(5.0)
    assert bench.roofline_epochs(None, 200_000.0) is None


def test_not_reached_counts_as_slowest_in_the_median():
    assert bench.median([1.0, None, 2.0]) == 2.0
    assert bench.median([1.0, None, None]) is None


def test_ratios_are_taken_inside_each_round_so_they_hold_in_either_speed_level():
    # Round 2 ran in the slow level: everything there is 0.6x, so its ratios equal round 1's.
    rounds = [fake_round(10_000, 100_000, 200_000, 1.0), fake_round(6_000, 60_000, 120_000, 1.7),
              fake_round(10_000, 100_000, 200_000, 1.2)]
    summary = bench.summarize(rounds, device=torch.device("cpu"), load_start=0.5, quick=False, fused=True,
                              epochs=(8, 5), train_samples=60_000)
    assert REQUIRED_KEYS <= set(summary)
    assert summary["speedup"] == pytest.approx(10.0) and summary["roofline_fraction"] == pytest.approx(0.5)
    assert summary["inmemory_seconds_to_98"] == 1.2 and summary["dataloader_seconds_to_98"] is None
    # Per round 3.33, 3.40 and 4.00 epochs: the slow round's 1.7 s is 3.4 epochs at its own roofline.
    assert summary["inmemory_roofline_epochs_to_98"] == pytest.approx(1.7 * 120_000 / 60_000)
    table = bench.format_table(summary)
    assert "10.0x" in table and "not reached" in table and "50%" in table


def test_quick_run_on_tiny_mnist_writes_the_summary(tiny_mnist, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tiny_mnist))
    output = tmp_path / "bench.json"
    assert bench.main(["--quick", "--device", "cpu", "--output", str(output)]) == 0
    summary = json.loads(output.read_text())
    assert REQUIRED_KEYS <= set(summary)
    assert summary["train_samples"] == 12 and summary["repeats"] == 1 and summary["quick"] is True
    assert summary["speedup"] > 0 and 0 < summary["roofline_fraction"]
    assert "training samples/s" in capsys.readouterr().out
