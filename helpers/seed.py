"""Make runs repeatable: one seed for Python, NumPy and torch."""

from __future__ import annotations

import random

import numpy as np
import torch

from helpers.validate import non_negative_int


def set_seed(seed: int) -> torch.Generator:
    """Seed ``random``, NumPy and torch (CUDA included) with ``seed``, an integer >= 0.

    Returns a CPU ``torch.Generator`` seeded the same way; pass it to
    ``DataLoader(..., generator=g)`` so that shuffling is repeatable too. Two runs with one seed
    then give identical losses on the CPU (GPUs may differ in the last digits because some of
    their kernels are not deterministic).
    """
    seed = non_negative_int("seed", int(seed) if isinstance(seed, np.integer) else seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)
