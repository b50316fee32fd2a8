"""helpers.device: every branch, with CUDA and MPS mocked."""

from types import SimpleNamespace

import pytest
import torch

from helpers import device as dev


@pytest.fixture
def fake_gpus(monkeypatch):
    """Pretend to have ``cuda`` GPUs and/or MPS."""

    def apply(cuda: int = 0, mps: bool = False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(dev, "_mps_available", lambda: mps)

    return apply


def test_auto_prefers_cuda_then_mps_then_cpu(fake_gpus):
    fake_gpus(cuda=1, mps=True)
    assert dev.get_device() == torch.device("cuda")
    fake_gpus(cuda=0, mps=True)
    assert dev.get_device("auto") == torch.device("mps")
    fake_gpus(cuda=0, mps=False)
    assert dev.get_device(None) == torch.device("cpu")


def test_explicit_names(fake_gpus):
    fake_gpus(cuda=2, mps=True)
    assert dev.get_device("cpu") == torch.device("cpu")
    assert dev.get_device("CUDA") == torch.device("cuda")
    assert dev.get_device("cuda:1") == torch.device("cuda:1")
    assert dev.get_device(torch.device("cuda:0")) == torch.device("cuda:0")
    assert dev.get_device("mps") == torch.device("mps")
    assert dev.available_devices() == ["cpu", "cuda:0", "cuda:1", "mps"]


@pytest.mark.parametrize(
    "name, cuda, mps, fragment",
    [
        ("cuda", 0, False, "no CUDA GPU"),
        ("cuda:3", 2, False, "has 2 CUDA device"),
        ("cuda:x", 1, False, "cuda:0, cuda:1"),
        ("mps", 0, False, "Apple MPS"),
        ("tpu", 0, False, "not a device name"),
    ],
)
def test_unavailable_or_unknown_device_names_what_is_available(fake_gpus, name, cuda, mps, fragment):
    fake_gpus(cuda=cuda, mps=mps)
    with pytest.raises(ValueError) as info:
        dev.get_device(name)
    message = str(info.value)
    assert fragment in message
    assert "Available here: cpu" in message


def test_env_var_overrides_auto_only(fake_gpus, monkeypatch):
    fake_gpus(cuda=1)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert dev.get_device("auto") == torch.device("cpu")
    assert dev.get_device("cuda") == torch.device("cuda")  # an explicit choice wins
    monkeypatch.setenv("COURSE_DEVICE", "auto")
    assert dev.get_device() == torch.device("cuda")
    monkeypatch.setenv("COURSE_DEVICE", "mps")
    with pytest.raises(ValueError, match="environment variable COURSE_DEVICE"):
        dev.get_device()


def test_describe_device_each_kind(fake_gpus, monkeypatch):
    fake_gpus(cuda=1, mps=True)
    props = SimpleNamespace(name="Fake GPU", total_memory=8 * 2**30)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert dev.describe_device("cuda").startswith("cuda:0 · Fake GPU · 8.0 GiB · torch ")
    assert dev.describe_device("mps").startswith("mps · Apple GPU")
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        line = dev.describe_device("cpu")
        assert line.startswith("cpu · ") and " · 2 threads · " in line
        assert line.endswith(f"torch {torch.__version__}")
        torch.set_num_threads(1)
        assert " · 1 thread · " in dev.describe_device("cpu")
    finally:
        torch.set_num_threads(threads)


def test_cpu_name_from_cpuinfo_or_platform(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Example CPU 9000\n")
    monkeypatch.setattr(dev.sys, "platform", "linux")
    monkeypatch.setattr(dev, "CPUINFO", cpuinfo)
    assert dev.cpu_name() == "Example CPU 9000"
    cpuinfo.unlink()
    monkeypatch.setattr(dev.platform, "processor", lambda: "")
    monkeypatch.setattr(dev.platform, "machine", lambda: "arm64")
    assert dev.cpu_name() == "arm64"
