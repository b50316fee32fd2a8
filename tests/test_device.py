"""helpers.device: one test per branch of get_device, with CUDA and MPS mocked."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from helpers import device as dev


@pytest.fixture
def machine(monkeypatch):
    """Pretend this machine has ``cuda`` CUDA GPUs and/or Apple MPS, through the functions every
    supported torch (2.2 and later) has."""

    def make(cuda: int = 0, mps: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return make


@pytest.mark.parametrize("cuda, mps, expected", [(1, True, "cuda"), (0, True, "mps"), (0, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(machine, cuda, mps, expected):
    machine(cuda=cuda, mps=mps)
    assert dev.get_device("auto") == dev.get_device(None) == torch.device(expected)


def older_current_accelerator():
    """torch 2.6's ``torch.accelerator.current_accelerator()``: no ``check_available`` keyword (added in 2.7)."""
    return torch.device("cuda") if torch.cuda.is_available() else None


@pytest.mark.parametrize("api", ["torch 2.6", "before torch 2.6"])
def test_auto_works_with_every_supported_torch(machine, monkeypatch, api):
    machine(cuda=0, mps=False)
    if api == "torch 2.6":
        accelerator = SimpleNamespace(current_accelerator=older_current_accelerator)
        monkeypatch.setattr(torch, "accelerator", accelerator, raising=False)
    else:
        monkeypatch.delattr(torch, "accelerator", raising=False)  # torch < 2.6 has no torch.accelerator
    assert dev.get_device("auto") == torch.device("cpu")


def test_cpu_is_always_there(machine):
    machine(cuda=1, mps=True)
    assert dev.get_device(" CPU ") == torch.device("cpu")


def test_cuda(machine):
    machine(cuda=1)
    assert dev.get_device("cuda") == torch.device("cuda")


def test_cuda_n(machine):
    machine(cuda=2)
    assert dev.get_device("cuda:1") == dev.get_device(torch.device("cuda:1")) == torch.device("cuda:1")
    assert dev.available_devices() == ["cpu", "cuda:0", "cuda:1"]


def test_mps(machine):
    machine(mps=True)
    assert dev.get_device("mps") == torch.device("mps")


def test_the_environment_overrides_auto_only(machine, monkeypatch):
    machine(cuda=1)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert dev.get_device("auto") == torch.device("cpu")
    assert dev.get_device("cuda") == torch.device("cuda")  # an explicit choice wins
    monkeypatch.setenv("COURSE_DEVICE", "mps")
    with pytest.raises(ValueError, match="from environment variable COURSE_DEVICE"):
        dev.get_device()


@pytest.mark.parametrize(
    "name, cuda, fragment",
    [
        ("cuda", 0, "no CUDA GPU"),
        ("cuda:3", 2, "this machine has 2 CUDA device"),
        ("cuda:x", 1, "not a device name torch knows"),
        ("mps", 0, "Apple MPS needs a Mac"),
        ("tpu", 0, "not a device name torch knows"),
        ("meta", 0, "not a device the course trains on"),
    ],
)
def test_an_unavailable_device_says_what_is_available(machine, name, cuda, fragment):
    machine(cuda=cuda)
    with pytest.raises(ValueError) as info:
        dev.get_device(name)
    assert fragment in str(info.value)
    assert f"Available here: {', '.join(['cpu'] + [f'cuda:{i}' for i in range(cuda)])}." in str(info.value)


def test_describe_each_kind_of_device(machine, monkeypatch):
    machine(cuda=1, mps=True)
    props = SimpleNamespace(name="Fake GPU", total_memory=8 * 2**30)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert dev.describe_device("cuda") == f"cuda:0 · Fake GPU · 8.0 GiB · torch {torch.__version__}"
    assert dev.describe_device("mps").startswith("mps · Apple GPU (Metal) on ")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert " · 2 threads · torch " in dev.describe_device("cpu")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert " · 1 thread · torch " in dev.describe_device("cpu")
