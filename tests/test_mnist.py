"""helpers.mnist on tiny idx files: verification, the offline error, damaged files set aside, a
download from local mirrors (one breaks off mid-file), and the in-memory fast path. No network."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import shutil
import sys
import threading
from pathlib import Path
from urllib.error import URLError

import pytest
import torch
from torchvision import datasets

from helpers import mnist
from helpers.mnist import MNISTDataError, check_mnist_files, ensure_mnist, load_mnist, mnist_tensors
from helpers.models import Standardize
from instructor.bench import pixel_stats

NO_SERVER = ["http://127.0.0.1:9/"]  # the discard port: connection refused at once, never the internet


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "mirrors", NO_SERVER)


def test_verified_files_load_as_tensors_in_0_1(tiny_mnist, offline):
    train = load_mnist(True, tiny_mnist)
    image, label = train[3]
    assert len(train) == 12 and image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and label == 3
    assert len(load_mnist(False, tiny_mnist)) == 6


def test_a_transform_replaces_to_tensor(tiny_mnist, offline):
    image, _ = load_mnist(True, tiny_mnist, transform=lambda picture: picture.size)[0]
    assert image == (28, 28)


def test_the_environment_variable_names_the_data_dir(tiny_mnist, offline, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tiny_mnist))
    assert ensure_mnist() == tiny_mnist


def test_missing_files_offline_give_one_clear_error(tmp_path, offline):
    with pytest.raises(MNISTDataError) as info:
        load_mnist(True, tmp_path)
    message = str(info.value)
    assert "the download failed" in message
    assert all(f"{name}: missing" in message for name in mnist.MNIST_MD5)
    assert str(tmp_path / "MNIST" / "raw") in message and "COURSE_DATA_DIR" in message
    first = message.splitlines()[0]  # the line a student reads: where, why, and what to do
    assert str(tmp_path / "MNIST" / "raw") in first and "the download failed" in first
    assert "COURSE_DATA_DIR" in first and "run this cell again" in first


def test_a_folder_that_cannot_be_written_says_so(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # as a class image's shared, read-only data folder
    monkeypatch.setattr(datasets.utils, "download_and_extract_archive", read_only)
    with pytest.raises(MNISTDataError, match=r"^MNIST is not ready in .*cannot be written: Permission denied"):
        ensure_mnist(tmp_path)


def torchvision_raising(error: Exception):
    """A stand-in for torchvision's ``download_and_extract_archive`` that raises ``error`` at every mirror."""

    def download(*args, **kwargs):
        raise error

    return download


@pytest.mark.parametrize(
    "error",
    [URLError("[Errno -3] Temporary failure in name resolution"), ConnectionResetError(104, "reset by peer"),
     RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://x/, got:\nFile not found."),
     RuntimeError("File not found or corrupted.")],
    ids=["no network", "connection reset", "every mirror failed", "a corrupted file (torchvision 0.17)"],
)
def test_a_failed_download_gives_the_clear_message(tmp_path, monkeypatch, error):
    monkeypatch.setattr(datasets.utils, "download_and_extract_archive", torchvision_raising(error))
    failed = rf"^MNIST is not ready in .*the download failed \({type(error).__name__}: "
    with pytest.raises(MNISTDataError, match=failed):
        ensure_mnist(tmp_path)


@pytest.mark.parametrize(
    "error", [TypeError("MNIST.__init__() got an unexpected keyword argument 'download'"), RuntimeError("other")],
    ids=["TypeError", "a RuntimeError that is not a download's"],
)
def test_anything_but_a_failed_download_propagates(tmp_path, monkeypatch, error):
    """A torchvision API change is not "the download failed": the student (and the course) must see it."""
    monkeypatch.setattr(datasets.utils, "download_and_extract_archive", torchvision_raising(error))
    with pytest.raises(Exception) as info:
        ensure_mnist(tmp_path)
    assert info.value is error  # as torchvision raised it (MNISTDataError is a RuntimeError too)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_CACHE_HOME places the cache on Linux")
def test_an_installed_package_outside_a_repository_uses_the_per_user_cache(
    tiny_mnist, copied_course, offline, monkeypatch, tmp_path
):
    cache = tmp_path / "xdg-cache"
    shutil.copytree(tiny_mnist / "MNIST", cache / "torch-core-models" / "MNIST")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # no repository here, and helpers sits in a site-packages
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert ensure_mnist() == cache / "torch-core-models"
    assert len(load_mnist(False)) == 6


def test_with_downloading_off_nothing_is_fetched_or_moved(tiny_mnist):
    labels = tiny_mnist / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    labels.write_bytes(b"junk")
    with pytest.raises(MNISTDataError, match=r"download=False(.|\n)*train-labels-idx1-ubyte: damaged \(md5"):
        ensure_mnist(tiny_mnist, download=False)
    assert labels.read_bytes() == b"junk"


def test_a_damaged_file_is_set_aside_not_deleted(tiny_mnist, offline, capsys):
    raw = tiny_mnist / "MNIST" / "raw"
    labels = raw / "t10k-labels-idx1-ubyte"
    damaged = labels.read_bytes()[:-1] + b"\x09"
    labels.write_bytes(damaged)
    with pytest.raises(MNISTDataError, match=r"ubyte: missing[\s\S]*kept as: t10k-labels-idx1-ubyte.damaged"):
        ensure_mnist(tiny_mnist)
    assert (raw / "t10k-labels-idx1-ubyte.damaged").read_bytes() == damaged
    assert "t10k-labels-idx1-ubyte.damaged" in capsys.readouterr().out


class BreaksOffHalfWay(http.server.SimpleHTTPRequestHandler):
    """Announces the whole file, sends half of it and hangs up: a mirror failing mid-download."""

    served: list[str] = []

    def do_GET(self):
        self.served.append(self.path)
        whole = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(whole)))
        self.end_headers()
        self.wfile.write(whole[: len(whole) // 2])
        self.close_connection = True


def serve(directory, handler=http.server.SimpleHTTPRequestHandler) -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``directory`` on 127.0.0.1 (a free port), running in a thread."""
    bound = functools.partial(handler, directory=str(directory))
    bound.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bound)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


@pytest.fixture
def local_mirrors(tiny_mnist, tmp_path_factory, monkeypatch):
    """Mirrors on 127.0.0.1, tried in order as torchvision does: the first refuses connections,
    the second breaks off every file half-way, the third serves the files whole."""
    good = tmp_path_factory.mktemp("mirror")
    raw = tiny_mnist / "MNIST" / "raw"
    resources = []
    for name in mnist.MNIST_MD5:  # a mirror serves gzipped files, each with the md5 of its .gz
        (good / f"{name}.gz").write_bytes(gzip.compress((raw / name).read_bytes()))
        resources.append((f"{name}.gz", hashlib.md5((good / f"{name}.gz").read_bytes()).hexdigest()))
    monkeypatch.setattr(BreaksOffHalfWay, "served", [])
    servers = [serve(good, BreaksOffHalfWay), serve(good)]
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(datasets.MNIST, "mirrors", NO_SERVER + [f"http://127.0.0.1:{s.server_port}/" for s in servers])
    yield
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_download_survives_dead_and_truncating_mirrors_and_is_verified(local_mirrors, tmp_path_factory):
    fresh = tmp_path_factory.mktemp("fresh")
    assert ensure_mnist(fresh) == fresh
    assert check_mnist_files(fresh) == {}
    assert len(load_mnist(False, fresh)) == 6
    assert {path.strip("/") for path in BreaksOffHalfWay.served} == {f"{name}.gz" for name in mnist.MNIST_MD5}


def test_downloaded_files_with_wrong_checksums_are_refused(local_mirrors, tmp_path_factory, monkeypatch):
    monkeypatch.setattr(mnist, "MNIST_MD5", {name: "0" * 32 for name in mnist.MNIST_MD5})
    with pytest.raises(MNISTDataError, match="do not match the published checksums"):
        ensure_mnist(tmp_path_factory.mktemp("fresh"))


def test_the_fast_path_keeps_the_file_bytes_that_to_tensor_divides_by_255(tiny_mnist, offline):
    images, labels = mnist_tensors(True, tiny_mnist)
    assert images.shape == (12, 1, 28, 28) and images.dtype == torch.uint8 and images.is_contiguous()
    assert labels.shape == (12,) and labels.dtype == torch.int64 and labels.tolist() == [i % 10 for i in range(12)]
    reference = load_mnist(True, tiny_mnist)
    assert all(torch.equal(images[i].float() / 255, reference[i][0]) for i in range(12))  # ToTensor()'s [0, 1]
    assert torch.equal(images.squeeze(1), reference.data)  # the very bytes torchvision reads
    meta_images, meta_labels = mnist_tensors(False, tiny_mnist, device="meta")
    assert meta_images.device.type == "meta" and meta_images.shape == (6, 1, 28, 28) and meta_labels.shape == (6,)


def test_read_idx_takes_the_shape_from_the_header(tiny_mnist):
    raw = tiny_mnist / "MNIST" / "raw"
    assert mnist.read_idx(raw / "t10k-images-idx3-ubyte").shape == (6, 28, 28)
    labels = mnist.read_idx(raw / "train-labels-idx1-ubyte")
    assert labels.dtype == torch.uint8 and labels.tolist() == [i % 10 for i in range(12)]


def test_standardizing_each_uint8_batch_equals_the_old_float_copy(tiny_mnist, offline):
    images, _ = mnist_tensors(True, tiny_mnist)
    pixels = images.float() / 255  # the old fast path: the whole split as float32 in [0, 1]
    old = (pixels - pixels.mean()) / pixels.std(correction=0)
    mean, std = pixel_stats(images)  # lesson 04's statistics, in pixel units from the 256 counts
    assert mean == pytest.approx(255 * pixels.mean().item(), rel=1e-6)
    assert std == pytest.approx(255 * pixels.std(correction=0).item(), rel=1e-6)
    before = images.clone()
    for batch in range(0, 12, 5):  # batches of 5, 5 and 2, as TensorBatches cuts them
        new = Standardize(mean, std)(images[batch : batch + 5])
        assert new.dtype == torch.float32 and new.shape == images[batch : batch + 5].shape
        torch.testing.assert_close(new, old[batch : batch + 5], rtol=0, atol=1e-6)
    assert torch.equal(images, before), "x.float() makes a copy: the uint8 images stay as they were"
    assert torch.equal(Standardize(0, 255)(images), pixels)  # mean 0, std 255: exactly ToTensor()'s pixels


def test_standardize_leaves_its_input_alone_and_saves_its_statistics():
    """A float batch comes back standardized without being changed in place, and mean and std are
    buffers: in the state_dict (a checkpoint carries them) and moved with the model."""
    pixels = torch.tensor([[0.0, 255.0]])
    before = pixels.clone()
    assert torch.equal(Standardize(0, 255)(pixels), torch.tensor([[0.0, 1.0]]))
    assert torch.equal(pixels, before), "the caller's tensor was changed in place"
    assert set(Standardize(33.3, 78.6).state_dict()) == {"mean", "std"}
