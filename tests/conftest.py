"""Shared fixtures: tiny MNIST idx files made on the fly, a clean environment."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from helpers import mnist


def write_idx_images(path: Path, images: np.ndarray) -> None:
    """Write uint8 images (N, 28, 28) in the idx3 format MNIST uses."""
    n, h, w = images.shape
    path.write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    """Write uint8 labels (N,) in the idx1 format."""
    path.write_bytes(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """Tests start without the course's environment overrides."""
    for name in ("COURSE_DEVICE", "COURSE_DATA_DIR", "COURSE_PROGRESS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
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


def gzip_file(src: Path, dst: Path) -> str:
    """Gzip ``src`` to ``dst``; return the md5 of the .gz."""
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return hashlib.md5(dst.read_bytes()).hexdigest()
