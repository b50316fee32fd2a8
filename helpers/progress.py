"""One progress bar per training run that behaves in JupyterLab, a terminal and batch runs.

``tqdm.auto`` draws a widget in a notebook (text, after one "IProgress not found" warning, if
ipywidgets is missing) and text on stderr in a terminal. Batch runs (papermill, nbval, CI) get no
bar at all, so an executed notebook does not collect hundreds of progress lines. Set
``COURSE_PROGRESS=0`` to switch bars off, ``=1`` to force them.
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

#: Environment variable that switches progress bars off ("0") or on ("1").
PROGRESS_ENV_VAR = "COURSE_PROGRESS"


def progress_enabled() -> bool:
    """Whether bars are shown by default: ``$COURSE_PROGRESS`` decides if set, else off under CI."""
    setting = os.environ.get(PROGRESS_ENV_VAR, "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    return not os.environ.get("CI")


def make_bar(total: int, desc: str, enabled: bool | None = None) -> tqdm:
    """A tqdm bar over ``total`` steps, or a disabled one (same API, prints nothing)."""
    enabled = progress_enabled() if enabled is None else enabled
    return tqdm(total=total, desc=desc, leave=True, disable=not enabled, mininterval=0.5)
