"""The course website in a real browser (``make site-test``, after ``make site``): the system's Chromium, as
``make e2e`` drives it, opens every page of build/site/ that a link leads to from either edition's front page.

Every page loads without a console error or a failed request; every internal link leads to a page or file
that is there, and to an anchor that the page has; every image loads; every figure a notebook stored is on
its page; math is typeset (MathJax, served from the site itself) without an error; Hangul is drawn by a font
that has Hangul, not as boxes; the search finds a lesson term in each edition; a lesson at a phone's width
reads without sideways scrolling. Screenshots (front pages, a lesson per edition, the phone) go to
build/site-test/. A small broken site (tests/fixtures/site/) proves that the checker finds what it looks for.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest

from tests.test_e2e import browser  # noqa: F401 - the system's Chromium, exactly as make e2e launches it

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "build" / "site"
STAGED = REPO / "build" / "site-src"  # the notebooks as instructor.site staged them: what each page must show
FIXTURE = Path(__file__).parent / "fixtures" / "site"
OUTPUT = REPO / "build" / "site-test"
# The front pages, and the search pages that the search box of every page leads to
FRONT_PAGES = ("index.html", "ko/index.html", "search.html", "ko/search.html")
LESSON = re.compile(r"^(?:ko/)?\d\d_\w+\.html$")
PHONE = {"width": 390, "height": 844}
# Terms a reader of each edition would look for, and the pages the search must list for them
SEARCHES = {"en": ("epoch", re.compile(r"^\d\d_\w+\.html")), "ko": ("에포크", re.compile(r"^ko/\d\d_\w+\.html"))}

pytestmark = pytest.mark.browser

# What a page shows, read once MathJax and the images are done
PAGE_STATE = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  return {
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    figures: document.querySelectorAll('.cell_output img').length,
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    math: document.querySelectorAll('mjx-container').length,
    math_errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80)),
    lang: document.documentElement.lang,
  };
}"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what failed; the server need not
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on 127.0.0.1 (a static host, as GitHub Pages would serve it); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def visit(context, url: str) -> dict:
    """Open ``url``; return what it showed (PAGE_STATE), its HTTP status and every console error, uncaught
    exception and failed request."""
    page, errors = context.new_page(), []
    page.on("console", lambda message: errors.append(f"console: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"exception: {error}"))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    try:
        response = page.goto(url, wait_until="load")
        state = page.evaluate(PAGE_STATE)
        state["status"] = response.status if response else None
    finally:
        page.close()
    return {**state, "errors": errors}


def crawl(context, base: str, starts) -> dict[str, dict]:
    """Every page under ``base`` that a link leads to from ``starts``: {path from base: visit(...)}."""
    pages: dict[str, dict] = {}
    queue = [urljoin(base, start) for start in starts]
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path.removeprefix(urlsplit(base).path)
        if path in pages or not path.endswith(".html"):
            continue
        pages[path] = visit(context, url)
        queue += [urldefrag(link).url for link in pages[path]["links"] if link.startswith(base)]
    return pages


@functools.cache
def status(url: str) -> int:
    """The HTTP status of a file that is not a page (an image, a download)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def problems(pages: dict[str, dict], base: str) -> list[str]:
    """One line per thing that is wrong on the crawled pages: errors, broken links, anchors, images, math."""
    found = []
    for path, page in pages.items():
        found += [f"{path}: {error}" for error in page["errors"]]
        if page["status"] != 200:
            found.append(f"{path}: HTTP {page['status']}")
        found += [f"{path}: broken image {image['src']}" for image in page["images"] if not image["ok"]]
        found += [f"{path}: math error {error!r}" for error in page["math_errors"]]
        for link in page["links"]:
            if not link.startswith(base):
                continue  # another site: the check runs offline
            url, anchor = urldefrag(link)
            target = unquote(urlsplit(url).path.removeprefix(urlsplit(base).path))
            if target.endswith(".html"):
                if target not in pages or pages[target]["status"] != 200:
                    found.append(f"{path}: link to a missing page {target}")
                elif anchor and unquote(anchor) not in pages[target]["ids"]:
                    found.append(f"{path}: link to a missing anchor {target}#{anchor}")
            elif status(url) != 200:
                found.append(f"{path}: link to a missing file {target}")
    return found


@pytest.fixture(scope="module")
def site():
    """build/site served on 127.0.0.1: yields (base URL, every page crawled from both front pages)."""
    if not (SITE / "index.html").is_file() or not (SITE / "ko" / "index.html").is_file():
        pytest.fail("no site in build/site: run make site first (after make run, or make run ARGS=--quick)")
    with serve(SITE) as base:
        yield base


@pytest.fixture(scope="module")
def context(browser):  # noqa: F811 - the fixture imported above
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture(scope="module")
def pages(site, context) -> dict[str, dict]:
    return crawl(context, site, FRONT_PAGES)


def test_every_page_loads_and_every_link_image_and_formula_is_whole(site, pages):
    assert problems(pages, site) == []


def test_the_links_reach_every_page_of_both_editions(pages):
    built = {p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")}
    assert sorted(built - set(pages)) == [], "pages no link leads to"
    assert {page["lang"] for path, page in pages.items() if path.startswith("ko/")} == {"ko"}
    assert {page["lang"] for path, page in pages.items() if not path.startswith("ko/")} == {"en"}


def test_every_lesson_and_solution_of_the_course_is_a_page(pages):
    """Whatever notebooks the course has (a lesson 05 too): each staged notebook is a page of its edition."""
    staged = {p.relative_to(STAGED).with_suffix(".html").as_posix() for p in STAGED.glob("*/**/*.ipynb")}
    expected = {path.removeprefix("en/") for path in staged}
    assert expected and sorted(expected - set(pages)) == []
    assert any(LESSON.match(path) and not path.startswith("ko/") for path in pages)
    assert any(LESSON.match(path) and path.startswith("ko/") for path in pages)


def stored_figures(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(any(key.startswith("image/") for key in output.get("data", {}))
               for cell in cells for output in cell.get("outputs", []))


def test_every_figure_a_notebook_stored_is_on_its_page(pages):
    missing = []
    for notebook in sorted(STAGED.glob("*/**/*.ipynb")):
        path = notebook.relative_to(STAGED).with_suffix(".html").as_posix().removeprefix("en/")
        if pages[path]["figures"] < stored_figures(notebook):
            missing.append(f"{path}: {pages[path]['figures']} of {stored_figures(notebook)} figures")
    assert missing == []
    assert sum(page["figures"] for page in pages.values()) > 0


def test_math_is_typeset_in_both_editions(pages):
    for korean in (False, True):
        typeset = [path for path, page in pages.items() if path.startswith("ko/") == korean and page["math"]]
        assert typeset, f"no page of the {'Korean' if korean else 'English'} edition shows typeset math"


def korean_font_families() -> set[str]:
    listed = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True).stdout
    return {name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}


def test_hangul_is_drawn_with_a_font_that_has_it(site, context):
    """Chromium's own account of the fonts that drew a Korean lesson's title (DevTools' platform fonts): one of
    them must be a font with Hangul, else the reader sees boxes."""
    families = korean_font_families()
    if not families:
        pytest.fail("no Korean font: Chromium would draw Hangul as boxes (Debian/Ubuntu: apt install fonts-noto-cjk)")
    page = context.new_page()
    try:
        page.goto(urljoin(site, "ko/01_linear_regression.html"))
        devtools = context.new_cdp_session(page)
        devtools.send("DOM.enable")
        devtools.send("CSS.enable")
        root = devtools.send("DOM.getDocument")["root"]["nodeId"]
        title = devtools.send("DOM.querySelector", {"nodeId": root, "selector": "article h1"})["nodeId"]
        fonts = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": title})["fonts"]
    finally:
        page.close()
    assert any(font["familyName"] in families for font in fonts), f"{fonts} (fonts with Hangul: {families})"


@pytest.mark.parametrize("language", list(SEARCHES))
def test_the_search_finds_a_lesson_term(site, context, language):
    term, lesson = SEARCHES[language]
    page = context.new_page()
    try:
        folder = "ko/" if language == "ko" else ""
        page.goto(urljoin(site, f"{folder}search.html?q={term}"))
        # Sphinx titles the results "Search Results" (in the page's language) once the search has finished
        page.wait_for_function("() => document.querySelector('#search-results h2')?.textContent"
                               " === Documentation.gettext('Search Results')", timeout=60_000)
        found = page.eval_on_selector_all("#search-results a", "links => links.map(a => a.href)")
    finally:
        page.close()
    paths = [urlsplit(link).path.removeprefix(urlsplit(site).path) for link in found]
    assert any(lesson.match(path) for path in paths), f"{term!r} found only {paths}"


@pytest.mark.parametrize("path", ["01_linear_regression.html", "ko/01_linear_regression.html"])
def test_a_lesson_reads_at_a_phones_width(site, browser, path):  # noqa: F811
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = phone.new_page()
    try:
        page.goto(urljoin(site, path))
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=OUTPUT / f"phone-{path.replace('/', '-').removesuffix('.html')}.png")
        layout = page.evaluate("""() => {
          const p = document.querySelector('article p'), article = document.querySelector('article');
          return {scroll: document.documentElement.scrollWidth, width: window.innerWidth,
                  font: parseFloat(getComputedStyle(p).fontSize), text: article.getBoundingClientRect().width};
        }""")
    finally:
        phone.close()
    assert layout["scroll"] <= layout["width"], f"the page scrolls sideways: {layout}"
    assert layout["font"] >= 14, f"text too small to read: {layout}"
    assert layout["text"] >= 0.85 * layout["width"], f"the text does not use the screen: {layout}"


def test_screenshots_of_the_front_pages_and_a_lesson(site, browser):  # noqa: F811
    """For a person to look at: build/site-test/*.png (the test only checks that they were written). A context
    of its own: the search test's highlighted terms stay in the other one's storage."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    shots = {"front-en": "index.html", "front-ko": "ko/index.html", "lesson-en": "02_binary_classification.html",
             "lesson-ko": "ko/02_binary_classification.html"}
    for name, path in shots.items():
        page = context.new_page()
        try:
            page.goto(urljoin(site, path))
            page.screenshot(path=OUTPUT / f"{name}.png")
        finally:
            page.close()
    context.close()
    assert all((OUTPUT / f"{name}.png").stat().st_size > 10_000 for name in shots)


def test_the_checker_finds_what_is_broken(context):
    """tests/fixtures/site/: a missing page, a missing anchor, a missing image, a missing file, a script error."""
    with serve(FIXTURE) as base:
        found = problems(crawl(context, base, ["index.html"]), base)
    expected = ["index.html: link to a missing page missing.html", "index.html: link to a missing anchor "
                "good.html#nowhere", "index.html: broken image", "index.html: link to a missing file missing.pdf",
                "index.html: exception: the page's script failed", "index.html: HTTP 404"]
    assert [e for e in expected if not any(line.startswith(e) for line in found)] == [], found
    assert not any(line.startswith("good.html") for line in found), found
