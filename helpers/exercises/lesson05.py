"""Checkers for notebook 05 (shapes through a CNN and an RNN)."""

from __future__ import annotations

from helpers import notebook

DEFAULTS: dict[str, object] = {"CNN_EPOCHS": 2, "TRAIN_IMAGES": 10000, "VAL_SIZE": 5000, "BATCH_SIZE": 64,
                               "EPOCHS": 30, "LR": 0.01}


def claims_apply() -> bool:
    return notebook.claims_apply(DEFAULTS)


def _stub(*args):
    return None


exercise_1 = exercise_2 = exercise_3 = exercise_4 = exercise_5 = exercise_6 = _stub
