"""Sphinx settings of the course website, shared by both editions (make site; instructor/site.py).

instructor/site.py stages each edition's pages into build/site-src/<language>/ with a ``_site.json`` beside
them (the language, the other edition's pages) and runs Sphinx once per edition with this folder as its
configuration directory: English into build/site/, Korean into build/site/ko/. The notebooks were executed by
``make run``; MyST-NB shows their stored outputs and never runs them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
if "COURSE_SITE_JSON" not in os.environ:  # sphinx-build run by hand: the staging is instructor.site's
    raise RuntimeError("build the site with make site (python -m instructor.site), which stages each edition")
SITE = json.loads(Path(os.environ["COURSE_SITE_JSON"]).read_text(encoding="utf-8"))
KOREAN = SITE["language"] == "ko"

project = "torch-core-models"
html_title = "torch-core-models 한국어판" if KOREAN else "torch-core-models"
author = "torch-core-models"
copyright = "the torch-core-models authors (MIT)"
language = SITE["language"]
extensions = ["myst_nb", "sphinx.ext.githubpages"]  # githubpages: a .nojekyll, so GitHub Pages serves _static/
exclude_patterns = ["_site.json"]
# Korean strings for the theme's own labels, which Sphinx's Korean catalog lacks (docs/locale/ko/...)
locale_dirs = [str(HERE / "locale")]
templates_path = [str(HERE / "_templates")]

# MyST-NB: show what make run stored, run nothing; ```{toctree}```, $math$ and tables in Markdown pages
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# the solutions jump from their title to ### exercise headings: a style choice of theirs, not a broken page
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# MathJax from npm (docs/package.json), copied into _static by instructor/site.py: math renders offline
mathjax_path = "mathjax/tex-chtml.js"
html_static_path = [SITE["static"], str(HERE / "_static")]
html_css_files = ["course.css"]
html_favicon = str(HERE / "_static" / "favicon.svg")  # browsers ask for one; without it each page logs a 404

html_theme = "furo"
html_theme_options = {"navigation_with_keys": True, "top_of_page_buttons": []}
html_sidebars = {"**": ["sidebar/brand.html", "sidebar/search.html", "language.html", "sidebar/scroll-start.html",
                        "sidebar/navigation.html", "sidebar/scroll-end.html"]}
html_use_index = False  # the pages have no index entries: an empty genindex.html would be a dead end
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {"other_edition": SITE["other"]}
