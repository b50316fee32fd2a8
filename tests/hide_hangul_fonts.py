"""Hide every system font that has Hangul from matplotlib, as on a fresh Colab runtime.

CI's machine has fonts-noto-cjk (Chromium needs it to draw the Korean JupyterLab page in
``make e2e``), so the Korean edition's figures would find a system Hangul font there and a test of
"no Hangul font on the machine" would pass for the wrong reason. ``hide()`` takes such fonts out of
``matplotlib.font_manager.fontManager`` by what they contain, not by their names: any font file
with a glyph for 한 (U+D55C) goes, whatever it is called (Noto Sans CJK, Nanum, Unifont, ...;
recent matplotlib's own LastResort font, whose placeholder boxes cover every character, goes too).
``findSystemFonts`` is filtered the same way, so code that looks for font files after matplotlib
listed them (the old ``korean_font()`` did) cannot bring them back. Fonts added afterwards with
``fontManager.addfont`` (the course's own NanumGothic) are not touched.

Used two ways:

- imported, in the test process: ``tests/test_korean.py`` (a fixture restores what it changed);
- run as a kernel's startup line by ``tests/test_korean_lessons.py``, before any cell::

      --IPKernelApp.exec_lines=import runpy; runpy.run_path("<this file>", run_name="__kernel__")

  ``runpy`` runs the file in a namespace of its own, so none of its names reach the lesson's. It
  also turns matplotlib's "Glyph ... missing from font(s)" warning into an error and writes what it
  hid, and the Hangul fonts matplotlib still knows (none), as JSON to ``$COURSE_HIDDEN_FONTS_REPORT``:
  that file proves the startup line ran (IPython only logs a failing startup line).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

#: 한: a syllable every Hangul font has.
HANGUL_PROBE = 0xD55C
REPORT_ENV = "COURSE_HIDDEN_FONTS_REPORT"
GLYPH_MISSING = r"Glyph \d+ .* missing from font"


def has_hangul(path: str) -> bool:
    """Whether the font file at ``path`` (its first face) has a glyph for 한."""
    try:
        return FT2Font(path).get_char_index(HANGUL_PROBE) != 0
    except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read draws no Hangul either
        return False


def hangul_fonts() -> list[str]:
    """The files of the fonts matplotlib knows that have Hangul."""
    return sorted({font.fname for font in font_manager.fontManager.ttflist if has_hangul(font.fname)})


def hide() -> list[str]:
    """Remove the Hangul fonts from matplotlib's font list and from ``findSystemFonts``; returns
    the files hidden. The font lookups matplotlib cached are cleared."""
    hidden = hangul_fonts()
    manager = font_manager.fontManager
    manager.ttflist = [font for font in manager.ttflist if font.fname not in hidden]
    manager._findfont_cached.cache_clear()  # a lookup made before could still name a hidden file
    find_system_fonts = font_manager.findSystemFonts
    font_manager.findSystemFonts = lambda *args, **kwargs: [
        path for path in find_system_fonts(*args, **kwargs) if not has_hangul(path)]
    return hidden


def kernel_startup() -> None:
    """In a notebook kernel, before the first cell: hide, make a missing glyph an error, report."""
    hidden = hide()
    warnings.filterwarnings("error", message=GLYPH_MISSING)
    report = {"hidden": hidden, "hangul_fonts_left": hangul_fonts()}
    Path(os.environ[REPORT_ENV]).write_text(json.dumps(report), encoding="utf-8")


if __name__ == "__kernel__":
    kernel_startup()
