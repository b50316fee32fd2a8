"""helpers.mnist on tiny idx files: verification, the offline error, set-aside of damaged
files, a real download from a local server, and the in-memory fast path."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest
import torch
from torchvision import datasets

from helpers import mnist
from helpers.mnist import MNISTDataError, check_mnist_files, ensure_mnist, load_mnist, mnist_tensors
from tests.conftest import gzip_file

NO_SERVER = ["http://127.0.0.1:9/"]  # discard port: connection refused at once, never the internet


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "mirrors", NO_SERVER)


def test_verified_files_load_without_network(tiny_mnist, offline):
    assert check_mnist_files(tiny_mnist) == {}
    train = load_mnist(True, tiny_mnist)
    image, label = train[3]
    assert len(train) == 12 and image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and label == 3
    assert len(load_mnist(False, tiny_mnist)) == 6


def test_env_var_sets_the_data_dir(tiny_mnist, offline, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tiny_mnist))
    assert ensure_mnist() == tiny_mnist


def test_missing_files_offline_give_one_clear_error(tmp_path, offline, capsys):
    with pytest.raises(MNISTDataError) as info:
        load_mnist(True, tmp_path)
    message = str(info.value)
    assert "the download failed" in message
    for name in mnist.MNIST_MD5:
        assert f"{name}: missing" in message
    assert str(tmp_path / "MNIST" / "raw") in message and "COURSE_DATA_DIR" in message
    assert "Traceback" not in message


def test_download_switched_off(tmp_path):
    with pytest.raises(MNISTDataError, match=r"download=False"):
        ensure_mnist(tmp_path, download=False)


def test_damaged_file_is_set_aside_not_deleted(tiny_mnist, offline):
    raw = tiny_mnist / "MNIST" / "raw"
    labels = raw / "t10k-labels-idx1-ubyte"
    damaged = labels.read_bytes()[:-1] + b"\x09"
    labels.write_bytes(damaged)
    assert "damaged" in check_mnist_files(tiny_mnist)["t10k-labels-idx1-ubyte"]
    with pytest.raises(MNISTDataError, match="t10k-labels-idx1-ubyte: missing"):
        ensure_mnist(tiny_mnist)
    assert (raw / "t10k-labels-idx1-ubyte.damaged").read_bytes() == damaged


def test_damaged_without_download_is_reported_as_damaged(tiny_mnist):
    (tiny_mnist / "MNIST" / "raw" / "train-labels-idx1-ubyte").write_bytes(b"junk")
    with pytest.raises(MNISTDataError, match=r"train-labels-idx1-ubyte: damaged \(md5"):
        ensure_mnist(tiny_mnist, download=False)


def serve(directory) -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``directory`` on 127.0.0.1 (a random free port), running in a thread."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def local_mirror(tiny_mnist, tmp_path_factory, monkeypatch):
    """Mirrors on 127.0.0.1, as torchvision tries them: the first refuses connections, the second
    breaks off every file half-way (a mirror failing mid-download), the third serves good files."""
    good, broken = tmp_path_factory.mktemp("mirror"), tmp_path_factory.mktemp("broken")
    raw = tiny_mnist / "MNIST" / "raw"
    resources = [(f"{name}.gz", gzip_file(raw / name, good / f"{name}.gz")) for name in mnist.MNIST_MD5]
    for name, _ in resources:
        data = (good / name).read_bytes()
        (broken / name).write_bytes(data[: len(data) // 2])
    servers = [serve(broken), serve(good)]
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(
        datasets.MNIST, "mirrors", NO_SERVER + [f"http://127.0.0.1:{s.server_port}/" for s in servers]
    )
    yield good
    for server in servers:
        server.shutdown()


def test_download_survives_dead_and_truncating_mirrors_and_verifies(tiny_mnist, local_mirror, tmp_path_factory):
    fresh = tmp_path_factory.mktemp("fresh")
    assert ensure_mnist(fresh) == fresh
    assert check_mnist_files(fresh) == {}
    assert len(load_mnist(False, fresh)) == 6


def test_downloaded_files_with_wrong_checksums_are_refused(tiny_mnist, local_mirror, tmp_path_factory, monkeypatch):
    monkeypatch.setattr(mnist, "MNIST_MD5", {name: "0" * 32 for name in mnist.MNIST_MD5})
    with pytest.raises(MNISTDataError, match="do not match the published checksums"):
        ensure_mnist(tmp_path_factory.mktemp("fresh"))


def test_mnist_tensors_fast_path(tiny_mnist, offline):
    images, labels = mnist_tensors(True, tiny_mnist, normalize=False)
    assert images.shape == (12, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (12,) and labels.dtype == torch.int64
    reference = load_mnist(True, tiny_mnist)
    assert torch.allclose(images[5], reference[5][0])  # same pixels as ToTensor()
    normalized, _ = mnist_tensors(False, tiny_mnist)
    raw, _ = mnist_tensors(False, tiny_mnist, normalize=False)
    assert torch.allclose(normalized, (raw - mnist.MNIST_MEAN) / mnist.MNIST_STD)


def test_shipped_checksums_are_the_canonical_ones():
    assert mnist.MNIST_MD5 == {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
