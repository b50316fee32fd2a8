"""The data files the course ships inside the ``helpers`` package (the Boston table, the CO2
series): where they are, and their bytes once their SHA-256 matches the course's."""

from __future__ import annotations

import hashlib
import importlib.resources
from typing import TYPE_CHECKING

from helpers.i18n import tr

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable  # Python 3.11+; only for the annotation


def bundled_file(filename: str) -> Traversable:
    """``filename`` inside the ``helpers`` package: a wheel has it as a clone does."""
    return importlib.resources.files("helpers") / filename


def reinstall_hint(filename: str) -> str:
    """How to get the course's own copy of ``filename`` back, for the messages below."""
    return tr(
        "reinstall the course's package (`pip install --force-reinstall --no-deps .` in the "
        "course folder), or in a clone restore it with `git checkout -- helpers/{filename}`",
        filename=filename,
    )


def verified_bytes(source: Traversable, expected_sha256: str, reinstall: str) -> bytes:
    """The bytes of ``source`` (which exists), or a ``ValueError`` that says how to restore it
    when its SHA-256 is not ``expected_sha256``. CRLF is folded into LF first, so a checkout with
    git's autocrlf matches too."""
    data = source.read_bytes()
    digest = hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()
    if digest != expected_sha256:
        restore = tr("Use the original: {reinstall}.", reinstall=reinstall)
        raise ValueError(tr(
            "{source} is damaged or modified: SHA-256 {digest}..., expected {expected}... "
            "{restore}",
            source=source, digest=digest[:12], expected=expected_sha256[:12], restore=restore,
        ))
    return data
