"""Check a notebook's parameters at the top, before any work, so a bad value from papermill
(``-p LR -1``) stops the notebook at once with one clear line instead of deep inside training."""

from __future__ import annotations

import torch

from helpers.device import get_device


def check_parameters(
    *, epochs: int, lr: float, batch_size: int, seed: int, device: str = "auto"
) -> torch.device:
    """Validate the common notebook parameters and return the ``torch.device`` to use.

    Raises:
        ValueError: one line naming the parameter, the bad value and what is allowed.
    """
    def is_int(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not is_int(epochs) or epochs < 1:
        raise ValueError(f"EPOCHS must be an integer >= 1, got {epochs!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0 or lr != lr or lr == float("inf"):
        raise ValueError(f"LR must be a finite number > 0, got {lr!r}")
    if not is_int(batch_size) or batch_size < 1:
        raise ValueError(f"BATCH_SIZE must be an integer >= 1, got {batch_size!r}")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"SEED must be an integer >= 0, got {seed!r}")
    try:
        return get_device(device)
    except ValueError as exc:
        raise ValueError(f"DEVICE: {exc}") from None
