"""Which edition a notebook belongs to, English or Korean, read off the notebook itself, so that
no student cell has to say it.

The Korean lessons live in ``notebooks/ko/`` and say ``"course": {"language": "ko"}`` in their
metadata. ``edition()`` looks, in order, at:

1. ``COURSE_LANGUAGE`` ("en" or "ko"), for a front end none of the below can see;
2. the notebook's file, where the front end tells the kernel its path (JupyterLab and JupyterHub:
   ``__session__`` or ``JPY_SESSION_NAME``; VS Code: ``__vsc_ipynb_file__``): its metadata, else
   a ``ko`` folder on its path;
3. Colab's copy of the open notebook (its metadata);
4. the working folder, which Jupyter, papermill (``--cwd``) and nbval set to the notebook's: a
   ``ko`` folder there or one above (``ko/solutions``); else the course's notebooks in it, when
   their metadata all name one edition (a Korean lesson saved on its own, run by papermill).

Anything else is English.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from helpers.i18n import LANGUAGES

KOREAN_FOLDER = "ko"
#: How many notebooks of the working folder ``edition`` reads at most (a crowded Downloads folder).
MAX_BESIDE = 20


def _metadata_language(metadata: dict) -> str | None:
    language = metadata.get("course", {}).get("language")
    return language if language in LANGUAGES else None


def _from_path(path: str) -> str | None:
    """The language of the notebook at ``path`` (absolute, or relative to the working folder or
    to the server's root): its metadata if the file can be read, else its folders."""
    for candidate in (Path(path), Path.cwd() / Path(path).name):
        try:
            notebook = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found = _metadata_language(notebook.get("metadata", {}))
        if found:
            return found
    parts = Path(path).parts
    return "ko" if KOREAN_FOLDER in parts[:-1] else None


def _user_namespace() -> dict:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return shell.user_ns if shell is not None else {}


def _colab_language() -> str | None:
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import _message  # type: ignore[import-not-found]

        reply = _message.blocking_request("get_ipynb", request="", timeout_sec=5)
        return _metadata_language(reply["ipynb"].get("metadata", {}))
    except Exception:  # Colab's private API changed or timed out: fall through to the folder
        return None


def edition() -> str:
    """"en" or "ko": the language of the notebook this kernel runs (see the module's docstring)."""
    chosen = os.environ.get("COURSE_LANGUAGE", "").strip().lower()
    if chosen in LANGUAGES:
        return chosen
    namespace = _user_namespace()
    for path in (namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME"),
                 namespace.get("__vsc_ipynb_file__")):
        found = _from_path(path) if isinstance(path, str) and path.endswith(".ipynb") else None
        if found:
            return found
    found = _colab_language()
    if found:
        return found
    cwd = Path.cwd()
    if KOREAN_FOLDER in (cwd.name, cwd.parent.name):
        return "ko"
    beside = {_from_path(str(path)) for path in sorted(cwd.glob("*.ipynb"))[:MAX_BESIDE]}
    beside.discard(None)
    return beside.pop() if len(beside) == 1 else "en"
