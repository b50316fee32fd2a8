"""One progress bar per training run that behaves in JupyterLab, a terminal and batch runs.

- JupyterLab with ipywidgets: a widget bar (``tqdm.auto``).
- A notebook without ipywidgets: a plain text bar instead of tqdm's "IProgress not found" error.
- Batch runs (papermill, nbval, CI): no bar at all, so an executed notebook does not collect
  hundreds of progress lines. Set ``COURSE_PROGRESS=0`` to switch bars off, ``=1`` to force them.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from tqdm import tqdm as text_tqdm

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


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")  # get_ipython() is None outside IPython
    return shell is not None and type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"


def widgets_available() -> bool:
    """True when ipywidgets is installed, so ``tqdm.notebook`` can draw its widget."""
    return importlib.util.find_spec("ipywidgets") is not None


def make_bar(total: int, desc: str, enabled: bool | None = None):
    """A tqdm bar over ``total`` steps, or a disabled one (same API, prints nothing)."""
    if enabled is None:
        enabled = progress_enabled()
    if enabled and _in_notebook() and widgets_available():
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm(total=total, desc=desc, leave=True)
    return text_tqdm(total=total, desc=desc, leave=True, disable=not enabled, mininterval=0.5, file=sys.stderr)
