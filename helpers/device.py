"""Pick the device (CPU, CUDA GPU or Apple MPS) that the course trains on: ``setup_notebook`` calls
``get_device(DEVICE)`` and the notebook moves its model and tensors there, so it runs unchanged on a
laptop CPU, an NVIDIA GPU or an Apple-silicon Mac."""

from __future__ import annotations

import os
import platform

import torch

from helpers.i18n import tr

#: Environment variable that overrides the automatic choice, e.g. ``COURSE_DEVICE=cpu``.
DEVICE_ENV_VAR = "COURSE_DEVICE"


def _mps_available() -> bool:
    return torch.backends.mps.is_available()  # False on every machine but an Apple-silicon Mac


def available_devices() -> list[str]:
    """Names of the devices this machine can use, e.g. ``["cpu", "cuda:0", "mps"]``."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    return names


def _auto_device() -> torch.device:
    """The machine's accelerator (CUDA or Apple MPS) if it has one, else the CPU."""
    accelerator = getattr(torch, "accelerator", None)  # torch 2.6+; the fallback serves older releases
    if accelerator is not None:
        return accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def get_device(preference: str | torch.device | None = "auto") -> torch.device:
    """Return the ``torch.device`` to train on.

    Args:
        preference: ``"auto"`` (or ``None``) picks CUDA, then Apple MPS, then the
            CPU, unless the environment variable ``COURSE_DEVICE`` names a device.
            ``"cpu"``, ``"cuda"``, ``"cuda:N"`` and ``"mps"`` ask for that device.

    Raises:
        ValueError: the device is unknown or not available here; the message lists
            the devices that are.
    """
    choice = str(preference or "auto").strip().lower()  # a torch.device too
    source = tr("preference")
    if choice == "auto":
        env = os.environ.get(DEVICE_ENV_VAR, "").strip().lower()
        if env in ("", "auto"):
            return _auto_device()
        choice, source = env, tr("environment variable {name}", name=DEVICE_ENV_VAR)

    available = available_devices()

    def unavailable(why: str) -> ValueError:
        return ValueError(tr(
            "Device {choice!r} (from {source}) {why}. Available here: {available}. "
            'Use DEVICE="auto" to pick the best one automatically.',
            choice=choice, source=source, why=why, available=", ".join(available),
        ))

    if choice == "cpu":
        return torch.device("cpu")
    if choice == "mps":
        if not _mps_available():
            raise unavailable(
                tr("is not available (Apple MPS needs a Mac with Apple silicon and a torch build with MPS)"))
        return torch.device("mps")
    if choice == "cuda" or choice.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise unavailable(tr("is not available (no CUDA GPU, or torch was installed without CUDA)"))
        if choice == "cuda":
            return torch.device("cuda")
        index_text = choice.split(":", 1)[1]
        if not index_text.isdigit():
            raise unavailable(tr("is not a valid device name (write cuda:0, cuda:1, ...)"))
        if int(index_text) >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise unavailable(tr("does not exist: this machine has {count} CUDA device(s)", count=count))
        return torch.device(choice)
    raise unavailable(tr('is not a device name torch knows here (use "auto", "cpu", "cuda", "cuda:N" or "mps")'))


def describe_device(device: str | torch.device) -> str:
    """One readable line about ``device``, with the torch version.

    Example: ``"cuda:0 · NVIDIA H100 80GB HBM3 · 79.2 GiB · torch 2.14.1"``.
    """
    dev, machine, threads = get_device(device), platform.machine() or tr("unknown CPU"), torch.get_num_threads()
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        detail = f"cuda:{index} · {props.name} · {props.total_memory / 2**30:.1f} GiB"
    elif dev.type == "mps":
        detail = tr("mps · Apple GPU (Metal) on {machine}", machine=machine)
    elif threads == 1:
        detail = tr("cpu · {machine} · 1 thread", machine=machine)
    else:
        detail = tr("cpu · {machine} · {threads} threads", machine=machine, threads=threads)
    return f"{detail} · torch {torch.__version__}"
