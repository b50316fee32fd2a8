"""MNIST for the course: verified download through torchvision and an in-memory fast path.

Files live in torchvision's layout, ``<data_dir>/MNIST/raw/`` holding the four
uncompressed idx files (``<data_dir>``: ``helpers.data.resolve_data_dir``); a missing file is
downloaded there once.

Shapes: ``load_mnist`` gives one image float32 (1, 28, 28) at a time; ``mnist_tensors`` gives all
images uint8 (N, 1, 28, 28); labels are int64 (N,); N = 60000 (train) or 10000 (test).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from helpers.data import DATA_DIR_ENV_VAR, resolve_data_dir
from helpers.i18n import tr

if TYPE_CHECKING:
    from torchvision import datasets

#: The canonical MD5 of each uncompressed file, as published with the dataset.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


#: How torchvision's RuntimeError begins when a download failed: every mirror failed, or a file came
#: back corrupted (torchvision 0.17 raises that one at once, without trying the next mirror).
DOWNLOAD_FAILED = ("Error downloading", "File not found or corrupted")


class MNISTDataError(RuntimeError):
    """The MNIST files are missing or damaged and could not be downloaded."""


def mnist_raw_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``<data_dir>/MNIST/raw``: where the four idx files must be."""
    return resolve_data_dir(data_dir) / "MNIST" / "raw"


def check_mnist_files(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Check the four files. Returns ``{filename: problem}`` for each missing or damaged
    file (``"missing"`` or ``"damaged (md5 ...)"``); an empty dict means all is well."""
    raw = mnist_raw_dir(data_dir)
    problems: dict[str, str] = {}
    for name, expected in MNIST_MD5.items():
        path = raw / name
        if not path.is_file():
            problems[name] = tr("missing")
        else:
            actual = hashlib.md5(path.read_bytes()).hexdigest()  # 47 MB at most
            if actual != expected:
                problems[name] = tr("damaged (md5 {actual}, expected {expected})",
                                    actual=actual, expected=expected)
    return problems


def download_from_mirrors(name: str, raw: Path) -> None:
    """Download ``<name>.gz`` into ``raw`` and unpack it, from the first of torchvision's MNIST
    mirrors that delivers it whole (its published MD5 checked by torchvision).

    A dead mirror or a damaged file moves on to the next mirror: torchvision's own loop does that
    only in its recent releases (before, a damaged file stopped the whole download), and the course
    supports torchvision 0.17 and later. When every mirror failed, the last mirror's error is
    raised; an error that is not a failed download (e.g. an API change) propagates at once.
    """
    # imported when needed: torchvision takes seconds to import
    from torchvision.datasets import MNIST, utils

    md5 = dict(MNIST.resources)[f"{name}.gz"]
    failure: Exception | None = None
    for mirror in MNIST.mirrors:
        try:
            url = f"{mirror}{name}.gz"
            utils.download_and_extract_archive(url, str(raw), filename=f"{name}.gz", md5=md5)
            return
        except PermissionError:
            raise
        except (OSError, RuntimeError) as exc:  # URLError and a reset connection are OSErrors
            if isinstance(exc, RuntimeError) and not str(exc).startswith(DOWNLOAD_FAILED):
                raise
            failure = exc
    raise failure  # every mirror failed: the last one's error says why


def ensure_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Make sure the four verified MNIST files are in place; return the data directory.

    Damaged files are renamed to ``*.damaged`` (never deleted) and downloaded again (when
    ``download``).

    Raises:
        MNISTDataError: files are missing or damaged and the download is off or failed (no network,
            every mirror failed, a read-only folder). The message names the files, where they must
            go, and ``COURSE_DATA_DIR``. Any other error of torchvision's propagates as it is.
    """
    root = resolve_data_dir(data_dir)
    raw = mnist_raw_dir(root)
    problems = check_mnist_files(root)
    if not problems:
        return root
    damaged = [name for name in problems if (raw / name).is_file()]
    cause = tr("downloading is switched off (download=False)")
    kept = ""
    if download:
        try:
            # damaged files are renamed <name>.damaged, so the download can replace them: nothing
            # is deleted
            names = ", ".join((raw / n).replace(raw / f"{n}.damaged").name for n in damaged)
            if names:
                kept = "\n" + tr("The damaged copies were kept as: {names}.", names=names)
                print(tr("Set aside damaged MNIST files: {names}", names=names))
            for name in problems:
                download_from_mirrors(name, raw)
        except PermissionError as exc:  # a read-only folder, e.g. a class image's shared data
            cause = tr("the folder cannot be written: {reason}", reason=exc.strerror)
        except (OSError, RuntimeError) as exc:  # no network: URLError, ConnectionError are OSErrors
            if isinstance(exc, RuntimeError) and not str(exc).startswith(DOWNLOAD_FAILED):
                raise  # not a failed download: e.g. a change in torchvision's API
            detail = (str(exc).strip().splitlines() or [tr("no detail")])[-1]
            cause = tr("the download failed ({error}: {detail})",
                       error=type(exc).__name__, detail=detail)
        else:
            cause = tr("the downloaded files do not match the published checksums")
        problems = check_mnist_files(root)
        if not problems:
            return root
    listing = "\n".join(f"  - {name}: {problem}" for name, problem in problems.items())
    raise MNISTDataError(tr(
        "MNIST is not ready in {raw} ({cause}): copy the four uncompressed idx files there, or set "
        "{env} (or pass DATA_DIR) to a folder that holds MNIST/raw/, then run this cell again.\n"
        "Missing or damaged:\n{listing}{kept}\n"
        "On a machine with internet, running the notebook once downloads them. On a class server "
        "without internet, your instructor puts them in the class image and sets {env}.",
        raw=raw, cause=cause, env=DATA_DIR_ENV_VAR, listing=listing, kept=kept,
    ))


def load_mnist(
    train: bool = True,
    data_dir: str | os.PathLike | None = None,
    *,
    transform: Callable | None = None,
    download: bool = True,
) -> datasets.MNIST:
    """``torchvision.datasets.MNIST`` for the train or test split, files verified first.

    ``transform`` defaults to ``transforms.ToTensor()`` (as in the course's source):
    each item is then ``(image float32 (1, 28, 28) in [0, 1], label int)``.
    """
    # imported when needed: torchvision takes seconds to import
    from torchvision import datasets, transforms

    root = ensure_mnist(data_dir, download=download)
    transform = transform if transform is not None else transforms.ToTensor()
    return datasets.MNIST(str(root), train=train, download=False, transform=transform)


#: The idx files of each split, (images, labels), by ``train``.
MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: str | os.PathLike) -> torch.Tensor:
    """An idx file of unsigned bytes (MNIST's format) as a uint8 tensor of the shape in its header.

    The header is two zero bytes, the type (``0x08``: unsigned byte), the number of dimensions,
    then each size as a big-endian 32-bit integer: (N, 28, 28) for images, (N,) for labels. The
    bytes after it are read straight into the tensor's memory, without a second copy.
    """
    with open(path, "rb") as file:
        ndim = file.read(4)[3]
        shape = [int.from_bytes(file.read(4), "big") for _ in range(ndim)]
        return torch.from_numpy(np.fromfile(file, dtype=np.uint8)).view(shape)


def mnist_tensors(
    train: bool = True,
    data_dir: str | os.PathLike | None = None,
    *,
    device: str | torch.device = "cpu",
    download: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole MNIST split as two tensors on ``device``: the fast path.

    Returns ``images`` uint8 (N, 1, 28, 28), the pixels 0-255 as the files hold them, and
    ``labels`` int64 (N,). One byte per pixel: 47 MB for the 60,000 training images, where
    float32 takes 188 MB. Convert each batch when it is used, e.g.
    ``x.float().sub_(mean).div_(std)``; ``x.float() / 255`` is what ``ToTensor()`` gives.
    The files are verified first (``ensure_mnist``).
    """
    raw = mnist_raw_dir(ensure_mnist(data_dir, download=download))
    image_file, label_file = MNIST_FILES[bool(train)]
    images = read_idx(raw / image_file).unsqueeze(1)  # (N, 28, 28) -> (N, 1, 28, 28): one channel
    labels = read_idx(raw / label_file).to(torch.int64)
    return images.to(device), labels.to(device)
