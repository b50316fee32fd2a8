"""Shared fixtures: a clean course environment, tiny MNIST idx files made on the fly, a copied course tree."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import i18n, mnist

ROOT = Path(__file__).resolve().parent.parent


def write_idx_images(path: Path, images: np.ndarray) -> None:
    """Write uint8 images (N, 28, 28) in the idx3 format MNIST uses."""
    n, h, w = images.shape
    path.write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    """Write uint8 labels (N,) in the idx1 format."""
    path.write_bytes(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


def pytest_addoption(parser):
    """make e2e's notebook choice (tests/test_e2e.py), in instructor.run's --only grammar."""
    group = parser.getgroup("e2e", "make e2e: the course in JupyterLab")
    group.addoption("--only", action="append", default=[], metavar="KEYS",
                    help="course notebooks, named as for instructor.run: 01, 4, solutions/02 (comma-separated)")
    group.addoption("--include-solutions", action="store_true", help="also run notebooks/solutions/NN_*.ipynb")


@pytest.fixture(autouse=True, scope="session")
def _one_cpu_thread():
    """One torch thread, as the notebooks use: the tests' models are tiny, and threads that wait for
    each other on a busy 2-core machine made one 15-epoch test take 5 s instead of 0.2 s."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """Tests start without the course's environment overrides."""
    for name in ("COURSE_DEVICE", "COURSE_DATA_DIR", "COURSE_PROGRESS", "CI"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch) -> Path:
    """A data dir holding tiny but well-formed MNIST files (12 train, 6 test images), with the
    expected checksums patched to theirs. Returns the data dir."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx_images(raw / "train-images-idx3-ubyte", rng.integers(0, 256, (12, 28, 28)))
    write_idx_labels(raw / "train-labels-idx1-ubyte", np.arange(12) % 10)
    write_idx_images(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, (6, 28, 28)))
    write_idx_labels(raw / "t10k-labels-idx1-ubyte", np.arange(6) % 10)
    md5 = {name: hashlib.md5((raw / name).read_bytes()).hexdigest() for name in mnist.MNIST_MD5}
    monkeypatch.setattr(mnist, "MNIST_MD5", md5)
    return tmp_path


@pytest.fixture
def copied_course(tmp_path, monkeypatch) -> Path:
    """The course copied to a plain folder (no editable install): an empty ``data/`` and an empty
    ``notebooks/solutions/``; ``helpers`` pretends to be installed in a site-packages folder
    elsewhere, so only the working folder can lead to the data. Returns the copy's root."""
    course = tmp_path / "course"
    (course / "data").mkdir(parents=True)
    (course / "notebooks" / "solutions").mkdir(parents=True)
    from helpers import data

    site = tmp_path / "site-packages" / "helpers"
    site.mkdir(parents=True)
    monkeypatch.setattr(data, "__file__", str(site / "data.py"))
    return course


def _session_state() -> dict:
    """What a checker must leave as it found it: random states, threads, grad mode, default dtype, language."""
    import random

    return {
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state()[1].copy(),
        "python_rng": random.getstate(),
        "threads": torch.get_num_threads(),
        "grad": torch.is_grad_enabled(),
        "dtype": torch.get_default_dtype(),
        "language": i18n.language(),
    }


@pytest.fixture
def korean():
    """The Korean edition's language for the test, English again after it (even when it fails)."""
    i18n.set_language("ko")
    yield
    i18n.set_language("en")


@pytest.fixture
def session_untouched():
    """Fails the test if anything it ran changed torch's, NumPy's or Python's random state, torch's
    thread count, grad mode, default dtype or the course's language. Use it in every test that calls a
    checker."""
    before = _session_state()
    yield
    after = _session_state()
    assert torch.equal(before.pop("torch_rng"), after.pop("torch_rng")), "torch's random state changed"
    assert np.array_equal(before.pop("numpy_rng"), after.pop("numpy_rng")), "NumPy's random state changed"
    assert before == after, f"the session changed: {before} -> {after}"
