"""The one setup call at the top of every notebook."""

from __future__ import annotations

from collections.abc import Callable

import torch

from helpers.device import describe_device, get_device
from helpers.seed import set_seed
from helpers.validate import PARAMETERS

Validator = Callable[[str, object], object]


def setup_notebook(*, rules: dict[str, Validator] | None = None, **parameters: object) -> torch.device:
    """Check a notebook's parameters, seed everything, pick the device; return the device.

    Call it with every parameter of the notebook's ``parameters`` cell, by name::

        device = setup_notebook(EPOCHS=EPOCHS, LR=LR, SEED=SEED, DEVICE=DEVICE, ...)

    - Each value is checked by its validator in ``helpers.validate.PARAMETERS``; a notebook's
      own extras bring theirs in ``rules``, e.g. ``rules={"LONG_EPOCHS": positive_int}``. A bad
      value (``papermill -p LR -1``) stops here with one line, not deep inside training.
    - ``SEED`` seeds Python, NumPy and torch: the split, the initial weights and the shuffling.
    - ``DEVICE`` ("auto", "cpu", "cuda", "cuda:N", "mps") picks where to train.
    - On the CPU, torch gets one thread. The course's models are tiny: one operation on a
      batch takes microseconds, too little to split across cores, and on a busy machine
      threads that wait for each other made training 20-50x slower. GPUs are unaffected.

    Prints one line about the device, e.g. ``cpu · x86_64 · 1 thread · torch 2.14.1``.
    """
    rules = {**PARAMETERS, **(rules or {})}
    for name, value in parameters.items():
        if name not in rules:
            raise ValueError(
                f"setup_notebook() has no rule for the parameter {name}: pass one, e.g. "
                f'rules={{"{name}": positive_int}} (validators are in helpers.validate).'
            )
        rules[name](name, value)
    if "SEED" not in parameters:
        raise ValueError("setup_notebook() needs SEED=SEED: every notebook seeds its split, weights and shuffling.")
    try:
        device = get_device(parameters.get("DEVICE", "auto"))  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"DEVICE: {exc}") from None
    if device.type == "cpu":
        torch.set_num_threads(1)
    set_seed(parameters["SEED"])  # type: ignore[arg-type]
    print(describe_device(device))
    return device
