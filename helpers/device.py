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


def available_devices() -> list[str]:
    """Names of the devices this machine can use, e.g. ``["cpu", "cuda:0", "mps"]``."""
    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = ["mps"] if torch.backends.mps.is_available() else []
    return ["cpu", *(f"cuda:{i}" for i in range(cuda)), *mps]


def get_device(preference: str | torch.device | None = "auto") -> torch.device:
    """The ``torch.device`` to train on: ``preference`` "auto" (or ``None``) picks CUDA, then
    Apple MPS, then the CPU, unless ``$COURSE_DEVICE`` names a device; a name that
    ``torch.device`` reads ("cpu", "cuda", "cuda:1", "mps") asks for that device.

    Raises ``ValueError`` if torch does not know the name or the device is not here; the message
    lists the devices that are.
    """
    choice = str(preference or "auto").strip().lower()  # a torch.device too
    source = tr("preference")
    env = os.environ.get(DEVICE_ENV_VAR, "").strip().lower()
    if choice == "auto" and env not in ("", "auto"):
        choice, source = env, tr("environment variable {name}", name=DEVICE_ENV_VAR)
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if torch.backends.mps.is_available() else "cpu")
    available = available_devices()
    try:
        device = torch.device(choice)  # torch reads the name: "cuda:x" and "tpu" raise here
    except RuntimeError:
        why = tr(
            'is not a device name torch knows here (use "auto", "cpu", "cuda", "cuda:N" or "mps")'
        )
    else:
        # "cuda" (no index) is there when "cuda:0" is
        if device.type == "cpu" or str(device) in available or f"{device}:0" in available:
            return device
        if device.type == "cuda" and torch.cuda.is_available():
            why = tr("does not exist: this machine has {count} CUDA device(s)",
                     count=torch.cuda.device_count())
        elif device.type == "cuda":
            why = tr("is not available (no CUDA GPU, or torch was installed without CUDA)")
        elif device.type == "mps":
            why = tr("is not available (Apple MPS needs a Mac with Apple silicon and a torch "
                     "build with MPS)")
        else:
            why = tr("is not a device the course trains on")
    raise ValueError(tr(
        "Device {choice!r} (from {source}) {why}. Available here: {available}. "
        'Use DEVICE="auto" to pick the best one automatically.',
        choice=choice, source=source, why=why, available=", ".join(available),
    ))


def describe_device(device: str | torch.device) -> str:
    """One line about ``device``, e.g. ``cuda:0 · NVIDIA H100 · 79.2 GiB · torch 2.14.1``."""
    dev, threads = get_device(device), torch.get_num_threads()
    machine = platform.machine() or tr("unknown CPU")
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
