"""One line instead of a traceback when the kernel's Python lacks a library the course needs.

A clone of the course runs without installing it (``notebooks/helpers`` links to this package),
so the first thing that can be missing is a dependency, not ``helpers`` itself.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from helpers.i18n import tr  # the standard library only: safe before any dependency check

#: The import names of what every lesson needs: pyproject.toml's [project] dependencies, less
#: torchinfo (lesson 04 alone imports it, in its first cell, whose line says how to install it).
REQUIRED = ("torch", "torchvision", "numpy", "pandas", "matplotlib", "tqdm", "platformdirs")


def install_command(missing: list[str]) -> str:
    """What to run in a notebook cell to install the ``missing`` libraries into this kernel."""
    requirements = Path(__file__).resolve().parent.parent / "requirements.txt"
    if requirements.is_file():  # a clone of the course: its tested set
        return f'%pip install -r "{requirements}"'
    # an installed package whose environment lost a library
    return f"%pip install {' '.join(missing)}"


def require_dependencies() -> None:
    """Raise ``ModuleNotFoundError`` with one line that says what to run when a dependency is
    missing."""
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(tr(
            "The course needs {missing}, which this kernel's Python ({python}) lacks: "
            "run `{command}` in a cell, then Kernel > Restart Kernel and run the notebook again.",
            missing=", ".join(missing), python=sys.executable, command=install_command(missing),
        ))


# on import: ``helpers/__init__.py`` imports this module before anything else
require_dependencies()
