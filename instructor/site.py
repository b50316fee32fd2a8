"""The course website (make site): every lesson and solution with the outputs and figures of ``make run``, the
glossary, and the guides, in English (build/site/) and Korean (build/site/ko/), as one static folder.

    python -m instructor.site                  # after make run (or make run ARGS=--quick)

Sphinx with MyST-NB and the Furo theme (docs/conf.py) builds each edition from a staging folder,
build/site-src/<language>/: the pages in docs/<language>/, the README of that language as its "start" page,
and the executed notebooks of build/notebooks/ that ``instructor.run`` names for that edition (a lesson 05,
when it lands, comes with them), plus the glossary. Links between the repository's files (a lesson's
``glossary.ipynb``, a guide's ``docs/en/hub.md``) are rewritten to the pages they became. MathJax comes from
npm (docs/package.json, make site installs it) and is copied into the site: nothing is fetched to build or
to read it. Sphinx's warnings are errors: a link to a page that is not there stops the build.

Exit status: 0 built, 1 a notebook is missing from build/notebooks/ or failed in the last run, or Sphinx
failed; the message says which and what to run.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import furo
import myst_nb
import nbformat
import sphinx
from sphinx.cmd.build import build_main

from instructor import run

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MATHJAX = DOCS / "node_modules" / "mathjax" / "es5"
# What the pages need of MathJax 3: the TeX-to-HTML component, its fonts, the TeX extensions it loads on demand
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")


class SiteError(Exception):
    """Something the build cannot start without (an executed notebook, MathJax); nothing was built."""


@dataclass(frozen=True)
class Edition:
    code: str  # Sphinx's language and the folder of the Korean notebooks (notebooks/ko/)
    label: str  # how the other edition's switch names this one
    folder: str  # where the edition lands inside the site
    readme: str  # the README of that language, the site's "start" page


EDITIONS = {
    "en": Edition("en", "English", "", "README.md"),
    "ko": Edition("ko", "한국어", "ko/", "README.ko.md"),
}
#: Markdown links and HTML href/src attributes inside a notebook's or a page's Markdown
_LINK = re.compile(r"(\[([^\[\]]*)\]\(<?([^)\s<>]+)>?\))|((?:href|src)=\")([^\"<>\s]+)")


def versions() -> str:
    """The tools that build the site, as the report and the README name them."""
    return f"Sphinx {sphinx.__version__}, MyST-NB {myst_nb.__version__}, Furo {furo.__version__}"


def edition_notebooks(edition: Edition, build: Path, notebooks: Path) -> dict[str, tuple[Path, Path]]:
    """The edition's course notebooks: staged path -> (executed copy in build/notebooks/, source notebook).
    The lessons and solutions are those ``instructor.run`` finds; the glossary is the edition's own when it
    has one (notebooks/ko/glossary.ipynb), else the bilingual one (notebooks/glossary.ipynb)."""
    prefix = "ko/" if edition.code == "ko" else ""
    chosen = {name: path for name, path in run.discover(notebooks).items()
              if name.startswith("ko/") == (edition.code == "ko")}
    summary = build / "summary.json"
    statuses = {}
    if summary.is_file():
        statuses = {r["name"]: r["status"] for r in json.loads(summary.read_text(encoding="utf-8"))["notebooks"]}
    missing = [name for name in chosen if not (build / "notebooks" / f"{name}.ipynb").is_file()]
    failed = [name for name in chosen if statuses.get(name) not in (None, "ok")]
    if missing or failed:
        lines = [f"{name}: not in {build / 'notebooks'}" for name in missing]
        lines += [f"{name}: {statuses[name]} in the last run ({summary})" for name in failed]
        raise SiteError("the site shows the notebooks as make run executed them; run `make run` (or `make run "
                        "ARGS=--quick`, or `ARGS=\"--only NN\"` for these) first:\n  " + "\n  ".join(lines))
    staged = {f"{name.removeprefix(prefix)}.ipynb": (build / "notebooks" / f"{name}.ipynb", path)
              for name, path in chosen.items()}
    own_glossary = notebooks / prefix / "glossary.ipynb"
    glossary = own_glossary if own_glossary.is_file() else notebooks / "glossary.ipynb"
    if glossary.is_file():
        staged["glossary.ipynb"] = (glossary, glossary)
    return staged


def edition_pages(edition: Edition) -> dict[str, Path]:
    """The edition's Markdown pages: staged path -> source (docs/<language>/, the README as start.md)."""
    folder = DOCS / edition.code
    pages = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*.md"))}
    pages["start.md"] = ROOT / edition.readme
    return pages


def rewrite_links(text: str, source: Path, staged: str, targets: dict[Path, str], others: dict[Path, str]) -> str:
    """``text`` (Markdown of ``source``, staged as ``staged``) with each relative link to a repository file that
    the site carries pointed at its page, ``#anchor`` kept: ``targets`` are this edition's staged files,
    ``others`` the other edition's pages (as paths from this edition's root; a Markdown link to one becomes an
    HTML link, which Sphinx leaves as written). Either edition's glossary is this edition's. Other links stay
    as written: Sphinx then says when one leads nowhere."""

    def replace(match: re.Match) -> str:
        markdown, target = match.group(1) is not None, match.group(3) or match.group(5)
        path, hash_, anchor = target.partition("#")
        if not path or re.match(r"^[a-z][a-z0-9+.-]*:|^/", path, re.IGNORECASE):
            return match.group(0)
        resolved = (source.parent / path).resolve()
        if resolved.name == "glossary.ipynb" and resolved.parent in (ROOT / "notebooks", ROOT / "notebooks" / "ko"):
            resolved = next((p for p, s in targets.items() if s == "glossary.ipynb"), resolved)
        here = posixpath.dirname(staged) or "."
        if resolved in targets:
            relative = posixpath.relpath(targets[resolved], here) + hash_ + anchor
            return f"[{match.group(2)}]({relative})" if markdown else match.group(4) + relative
        if resolved in others:
            relative = posixpath.relpath(others[resolved], here) + hash_ + anchor
            return f'<a href="{relative}">{match.group(2)}</a>' if markdown else match.group(4) + relative
        return match.group(0)

    return _LINK.sub(replace, text)


def write_if_changed(path: Path, content: str) -> None:
    """Sphinx rebuilds only the pages whose files changed: keep the others' times."""
    if not path.is_file() or path.read_text(encoding="utf-8") != content:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def stage(edition: Edition, other: Edition, build: Path, notebooks: Path, staging: Path) -> list[str]:
    """Write the edition's sources into ``staging`` (files no longer in the course removed); return the pages."""
    books = edition_notebooks(edition, build, notebooks)
    pages = edition_pages(edition)
    targets = {source.resolve(): name for name, (_, source) in books.items()}
    targets |= {source.resolve(): name for name, source in pages.items()}
    prefix = "ko/" if other.code == "ko" else "../"  # the other edition's root, seen from this one's
    other_books, other_pages = edition_notebooks(other, build, notebooks), edition_pages(other)
    others = {source.resolve(): prefix + posixpath.splitext(name)[0] + ".html"
              for name, source in [*((n, s) for n, (_, s) in other_books.items()), *other_pages.items()]}
    for name, (executed, source) in books.items():
        notebook = nbformat.read(executed, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = rewrite_links(cell.source, source, name, targets, others)
        write_if_changed(staging / name, nbformat.writes(notebook) + "\n")
    for name, source in pages.items():
        text = rewrite_links(source.read_text(encoding="utf-8"), source, name, targets, others)
        write_if_changed(staging / name, text)
    settings = {"language": edition.code, "static": str(staging.parent / "static"),
                "other": {"code": other.code, "label": other.label, "prefix": prefix,
                          "pages": sorted(posixpath.splitext(n)[0] for n in {*other_books, *other_pages})}}
    write_if_changed(staging / "_site.json", json.dumps(settings, ensure_ascii=False, indent=1) + "\n")
    kept = {*books, *pages, "_site.json"}
    for stale in [p for p in staging.rglob("*") if p.is_file() and p.relative_to(staging).as_posix() not in kept]:
        stale.unlink()
    return sorted(posixpath.splitext(n)[0] for n in {*books, *pages})


def stage_mathjax(static: Path) -> None:
    """MathJax's parts the pages load, from docs/node_modules (make site runs npm ci there first)."""
    if not (MATHJAX / "tex-chtml.js").is_file():
        raise SiteError(f"MathJax is not installed in {MATHJAX.parent}: run `make site` (it runs npm ci --prefix docs)")
    target = static / "mathjax"
    if target.is_dir():
        shutil.rmtree(target)
    for part in MATHJAX_PARTS:
        source = MATHJAX / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)


def build_site(build: Path, output: Path, notebooks: Path, languages: Sequence[str] = ("en", "ko")) -> dict:
    """Stage and build each edition; return {language: pages} and the seconds it took."""
    start = time.perf_counter()
    staging = build / "site-src"
    stage_mathjax(staging / "static")
    staged = {}
    for code in languages:
        edition, other = EDITIONS[code], EDITIONS["ko" if code == "en" else "en"]
        staged[code] = stage(edition, other, build, notebooks, staging / code)
    if output.is_dir():
        shutil.rmtree(output)  # no page of a notebook that left the course; the doctrees keep rebuilds short
    saved = os.environ.get("COURSE_SITE_JSON")
    try:
        for code in languages:
            os.environ["COURSE_SITE_JSON"] = str(staging / code / "_site.json")  # docs/conf.py reads it
            status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-c", str(DOCS),
                                 "-d", str(build / "site-doctrees" / code), str(staging / code),
                                 str(output / EDITIONS[code].folder)])
            if status:
                raise SiteError(f"Sphinx failed on the {code} edition (its messages are above)")
    finally:
        if saved is None:
            os.environ.pop("COURSE_SITE_JSON", None)
        else:
            os.environ["COURSE_SITE_JSON"] = saved
    return {"pages": {code: len(pages) for code, pages in staged.items()},
            "seconds": round(time.perf_counter() - start, 1), "tools": versions()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.site", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=ROOT / "build", help="make run's output (default: build)")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "site", help="default: build/site")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="default: notebooks")
    args = parser.parse_args(argv)
    try:
        report = build_site(args.build.resolve(), args.output.resolve(), args.notebooks.resolve())
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    pages = ", ".join(f"{code}: {count} pages" for code, count in report["pages"].items())
    print(f"Built {args.output} ({pages}) in {report['seconds']} s with {report['tools']}.")
    (args.output / "site.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
