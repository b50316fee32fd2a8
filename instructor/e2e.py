"""The course as a student sees it: Run All in JupyterLab, in headless Chromium.

    python -m instructor.e2e                          # the lessons notebooks/NN_name.ipynb
    python -m instructor.e2e --only 01 04             # some of them
    python -m instructor.e2e --include-solutions      # also notebooks/solutions/NN_name.ipynb
    python -m instructor.e2e --notebook tests/fixtures/e2e/clean.ipynb   # any notebook in the repository

It starts JupyterLab from this Python the way ``make lab`` does (``COURSE_PROGRESS=1``, root = the
repository) on 127.0.0.1, a free port and a random token, and drives the operating system's Chromium
with its chromedriver (both from the distribution's packages; nothing is downloaded, Selenium
Manager never runs). For each notebook it opens the notebook's URL, clicks Run > Run All Cells in
the menu bar, waits until no cell is queued or running and the kernel is idle, scrolls through the
notebook taking screenshots, then checks what the page shows:

- the notebook opened on the kernel ``python3`` and no "Select Kernel" dialog came up;
- every non-empty code cell has an execution count;
- no error output and no stderr output, except in cells tagged ``raises-expected`` (may show an
  error) or ``stderr-expected`` (may write to stderr);
- figures: every cell whose source draws one (calls a ``plot_*`` function, builds a
  ``NotebookFigure`` or calls ``plt.show``/``plt.subplots``/``plt.figure``) shows at least one
  rendered image, and every image output the kernel sent is rendered as an ``<img>`` that decoded;
- every widget output is rendered as a widget (progress bars: ``.widget-progress``), with no
  "Error displaying widget" and no "IProgress not found" anywhere in the outputs;
- no math typesetting (MathJax ``mjx-container``) in any cell output, except in cells tagged
  ``math-expected`` (Markdown cells of the lesson are static text and may hold math);
- the cell tagged ``results`` shows its JSON (an ``application/json`` output, rendered).

The committed notebooks are opened in place (what a student opens), so the run must not write them:
JupyterLab runs with its own temporary user settings with autosave off, and the notebooks' bytes are
compared before and after (a change is a problem).

Output, in ``build/e2e/`` (``--output``): ``<notebook>/NN.png`` screenshots from top to bottom, and
``report.json``: ``{"seconds", "load_average", "notebooks": [{"name", "path", "status", "cells",
"code_cells", "seconds", "images", "figure_cells", "widgets", "screenshots", "problems"}]}``.
Exit status: 0 all notebooks passed, 1 a problem (listed at the end), 2 usage error or no browser.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from instructor import run as batch

#: The repository (the folder holding notebooks/), which JupyterLab serves as its root.
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Kernel every course notebook must open on.
KERNEL_NAME = "python3"

#: Cell tags that allow what the checks otherwise reject, cell by cell.
TAG_RAISES = "raises-expected"
TAG_STDERR = "stderr-expected"
TAG_MATH = "math-expected"
TAG_RESULTS = "results"

#: Where the browser and its driver are looked for; the environment variables override.
BROWSER_ENV_VAR = "COURSE_E2E_BROWSER"
DRIVER_ENV_VAR = "COURSE_E2E_DRIVER"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVER_PATHS = ("chromedriver", "/usr/lib/chromium/chromedriver", "/usr/lib/chromium-browser/chromedriver")

INSTALL_HELP = """\
make e2e needs Chromium and its chromedriver from your system's packages (nothing is downloaded):
  Debian / Ubuntu:  sudo apt-get install chromium chromium-driver
                    (Ubuntu's chromium is a snap: chromium-browser + chromium-chromedriver also work)
  Fedora:           sudo dnf install chromium chromedriver
  macOS:            brew install --cask chromium chromedriver, then
                    export COURSE_E2E_BROWSER=/Applications/Chromium.app/Contents/MacOS/Chromium
  elsewhere:        install Chrome or Chromium and the chromedriver of the same version, then point
                    COURSE_E2E_BROWSER and COURSE_E2E_DRIVER at the two executables."""

#: Source lines that draw a figure the cell should show.
DRAWS_FIGURE = re.compile(r"\bplot_\w+\(|\bNotebookFigure\(|\bplt\.(?:show|subplots|figure)\(")

#: Text that means a progress bar fell back to an error.
WIDGET_FAILURES = ("Error displaying widget", "IProgress not found")

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_NOTEBOOK_PATTERN = re.compile(r"^\d\d_\w+\.ipynb$")


class E2EError(Exception):
    """A usage or setup error found before any notebook runs (exit status 2)."""


# ---------------------------------------------------------------------------------------------
# Which notebooks


def course_notebooks(only: Sequence[str] = (), *, include_solutions: bool = False) -> list[Path]:
    """The lessons in course order, then (with ``include_solutions``) their solutions, as ``--only``
    names them. The list and the key grammar are the batch runner's (``instructor.run``), so both
    tools agree on what the course holds and what "04" means."""
    try:
        course = {name: path for name, path in batch.discover(REPO_ROOT / "notebooks").items()
                  if include_solutions or not name.startswith("solutions/")}
        return list(batch.select(course, only).values())
    except batch.CourseError as error:
        raise E2EError(str(error)) from None


# ---------------------------------------------------------------------------------------------
# The browser


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) executables, or None when either is missing."""
    browser = os.environ.get(BROWSER_ENV_VAR) or next(filter(None, map(shutil.which, BROWSER_NAMES)), None)
    driver = os.environ.get(DRIVER_ENV_VAR) or next(filter(None, map(shutil.which, DRIVER_PATHS)), None)
    if not browser or not driver or not Path(browser).is_file() or not Path(driver).is_file():
        return None
    return browser, driver


@contextlib.contextmanager
def open_browser(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium driven by the system's chromedriver (passed explicitly: Selenium
    Manager, which would download a driver, never runs)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise E2EError("Chromium or chromedriver not found.\n" + INSTALL_HELP)
    browser, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", f"--window-size={width},{height}", "--no-sandbox",
                     "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


# ---------------------------------------------------------------------------------------------
# JupyterLab


@dataclass
class Lab:
    """A running JupyterLab server: its URL and token."""

    url: str
    token: str
    process: subprocess.Popen

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API (on 127.0.0.1 only); the decoded JSON reply, or None."""
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            body = reply.read()
        return json.loads(body) if body else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """JupyterLab user settings for the run: autosave off (the notebooks stay as committed) and no
    news feed (no request leaves the machine). Everything else is JupyterLab's default."""
    settings = {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for plugin, values in settings.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def start_lab(root: Path = REPO_ROOT, *, log_path: Path | None = None, startup_timeout: float = 90.0) -> Iterator[Lab]:
    """``make lab``'s server (this Python, ``COURSE_PROGRESS=1``, root ``root``) on 127.0.0.1 with a
    free port and a random token; stopped (kernels first) when the block ends, however it ends."""
    port, token = _free_port(), secrets.token_hex(24)
    with tempfile.TemporaryDirectory(prefix="course-e2e-") as scratch:
        scratch_path = Path(scratch)
        _write_settings(scratch_path / "settings")
        env = dict(os.environ, COURSE_PROGRESS="1",
                   JUPYTERLAB_SETTINGS_DIR=str(scratch_path / "settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(scratch_path / "workspaces"),
                   JUPYTER_RUNTIME_DIR=str(scratch_path / "runtime"))
        command = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={root}", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
                   "--LabApp.extension_manager=readonly"]  # the extension manager would ask PyPI
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            command.append("--allow-root")
        log = open(log_path or scratch_path / "lab.log", "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(command, env=env, cwd=root, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        lab = Lab(url=f"http://127.0.0.1:{port}", token=token, process=process)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if process.poll() is not None:
                    raise E2EError(f"JupyterLab exited with status {process.returncode} before answering"
                                   f" (log: {log.name})")
                with contextlib.suppress(OSError):
                    lab.api("GET", "/api/status")
                    break
                if time.monotonic() > deadline:
                    raise E2EError(f"JupyterLab did not answer within {startup_timeout:.0f} s (log: {log.name})")
                time.sleep(0.3)
            yield lab
        finally:
            _stop_lab(lab)
            log.close()


def _stop_lab(lab: Lab) -> None:
    """Shut the kernels down through the API, then the server; kill it (its own process group, which
    holds any kernel left) only if it does not stop within 20 seconds."""
    if lab.process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            for kernel in lab.api("GET", "/api/kernels") or []:
                lab.api("DELETE", f"/api/kernels/{kernel['id']}")
        with contextlib.suppress(ProcessLookupError):
            lab.process.send_signal(signal.SIGTERM)  # jupyter_server stops its kernels, then exits
        try:
            lab.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(lab.process.pid, signal.SIGKILL)
            lab.process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# JavaScript run in the page (JupyterLab's app is on window.jupyterapp: expose_app_in_browser)

_JS_PANEL = """
const app = window.jupyterapp;
if (!app) return null;
const panel = app.shell.currentWidget;
if (!panel || !panel.context || !panel.content || panel.context.path !== arguments[0]) return null;
"""

_JS_OPEN_STATE = _JS_PANEL + """
const dialogs = Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.innerText.slice(0, 300));
const session = panel.sessionContext.session;
return {
  ready: panel.context.isReady && panel.sessionContext.isReady,
  kernel: session && session.kernel ? session.kernel.name : null,
  session: session ? session.id : null,
  status: panel.sessionContext.kernelDisplayStatus,
  dialogs: dialogs,
};
"""

_JS_RUN_STATE = _JS_PANEL + """
const cells = panel.content.widgets.filter(c => c.model.type === 'code');
return {
  status: panel.sessionContext.kernelDisplayStatus,
  pending: cells.filter(c => c.promptNode && c.promptNode.textContent.includes('*')).length,
  counted: cells.filter(c => c.model.executionCount !== null).length,
  dialogs: Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.innerText.slice(0, 300)),
};
"""

_JS_SCROLLER = _JS_PANEL + """
const scroller = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
"""

_JS_SCROLL_TO = _JS_SCROLLER + """
scroller.scrollTop = arguments[1];
const last = panel.content.widgets[panel.content.widgets.length - 1];
const box = scroller.getBoundingClientRect();
const bottom = last ? last.node.getBoundingClientRect().bottom - box.top + scroller.scrollTop : 0;
return {top: scroller.scrollTop, bottom: Math.min(bottom, scroller.scrollHeight), view: scroller.clientHeight};
"""

_JS_COLLECT = _JS_PANEL + """
const result = {notebook: panel.context.model.toJSON(), kernel: null, cells: []};
const session = panel.sessionContext.session;
result.kernel = session && session.kernel ? session.kernel.name : null;
for (const cell of panel.content.widgets) {
  const area = cell.node.querySelector('.jp-OutputArea');
  const all = sel => area ? Array.from(area.querySelectorAll(sel)) : [];
  result.cells.push({
    type: cell.model.type,
    images: all('img').filter(i => i.complete && i.naturalWidth > 0).length,
    broken_images: all('img').filter(i => !(i.complete && i.naturalWidth > 0)).length,
    widgets: all('.jupyter-widgets').filter(w => !w.closest('.jupyter-widgets:not(:scope)')
                                              && !w.innerText.includes('Error displaying widget')).length,
    progress: all('.widget-progress').length,
    math: all('mjx-container, .MathJax, .MathJax_Display, .MathJax_Preview').length,
    json: all('.jp-RenderedJSON').length,
    text: area ? area.innerText.slice(0, 20000) : '',
  });
}
return result;
"""


# ---------------------------------------------------------------------------------------------
# One notebook


@dataclass
class NotebookReport:
    """What one notebook showed: one entry of report.json."""

    name: str
    path: str
    status: str = "failed"
    cells: int = 0
    code_cells: int = 0
    seconds: float = 0.0
    images: int = 0
    figure_cells: int = 0
    widgets: int = 0
    screenshots: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _wait(driver: Any, script: str, arg: str, done: Any, timeout: float, poll: float = 0.5) -> dict | None:
    """Poll ``script`` until ``done(state)``; the last state (None if the panel never showed)."""
    deadline = time.monotonic() + timeout
    state = None
    while True:
        state = driver.execute_script(script, arg)
        if state is not None and done(state):
            return state
        if time.monotonic() > deadline:
            return state
        time.sleep(poll)


def _click_menu(driver: Any, menu: str, item: str, timeout: float = 15.0) -> None:
    """Click ``menu`` in JupyterLab's menu bar, then ``item`` in the menu it opens."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout)
    top = f"//li[contains(@class,'lm-MenuBar-item')][.//div[contains(@class,'lm-MenuBar-itemLabel')][text()='{menu}']]"
    wait.until(ec.element_to_be_clickable((By.XPATH, top))).click()
    entry = (f"//ul[contains(@class,'lm-Menu-content')]/li[contains(@class,'lm-Menu-item')]"
             f"[not(contains(@class,'lm-mod-disabled'))][.//div[contains(@class,'lm-Menu-itemLabel')][text()='{item}']]")
    wait.until(ec.element_to_be_clickable((By.XPATH, entry))).click()


def _screenshots(driver: Any, rel: str, folder: Path) -> list[str]:
    """Screenshots of the notebook from top to its last cell (each scroll step 90% of the visible height)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shots: list[str] = []
    top = 0
    while True:
        state = driver.execute_script(_JS_SCROLL_TO, rel, top)
        if state is None:
            break
        time.sleep(0.2)  # let the freshly visible outputs paint before the picture
        path = folder / f"{len(shots) + 1:02d}.png"
        driver.save_screenshot(str(path))
        shots.append(str(path))
        if state["top"] + state["view"] >= state["bottom"] - 2 or len(shots) >= 200:
            break
        top = state["top"] + max(100, int(state["view"] * 0.9))
    return shots


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else text
    if output.get("output_type") == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    data = output.get("data", {})
    text = data.get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def check_notebook(notebook: dict, dom: list[dict], kernel: str | None, *,
                   expect_results: bool = True) -> tuple[list[str], dict[str, int]]:
    """The problems in an executed notebook (``notebook``: the nbformat JSON the page holds) as
    rendered (``dom``: one dict per cell: images, broken_images, widgets, progress, math, json, text);
    and the counts (images, figure_cells, widgets) for the report. ``expect_results``: the notebook
    must have exactly one cell tagged ``results`` (the course's notebooks do)."""
    problems: list[str] = []
    counts = {"images": 0, "figure_cells": 0, "widgets": 0}
    if kernel != KERNEL_NAME:
        problems.append(f"opened on kernel {kernel!r}, not {KERNEL_NAME!r}")
    cells = notebook.get("cells", [])
    if len(cells) != len(dom):
        problems.append(f"the page shows {len(dom)} cells, the notebook model holds {len(cells)}")
    results_cells, not_run = 0, []
    for index, (cell, shown) in enumerate(zip(cells, dom, strict=False), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        first = next((line.strip() for line in source.splitlines() if line.strip()), "")[:60]
        where = f"cell {index} ({first!r})"
        tags = set(cell.get("metadata", {}).get("tags", []))
        outputs = cell.get("outputs", [])
        counts["images"] += shown["images"]
        counts["widgets"] += shown["widgets"]
        results_cells += TAG_RESULTS in tags
        if source.strip() and cell.get("execution_count") is None:
            not_run.append(index)  # the checks of what it shows would only repeat this
            continue
        for output in outputs:
            kind = output.get("output_type")
            if kind == "error" and TAG_RAISES not in tags:
                problems.append(f"{where}: error output {_output_text(output)[:300]}")
            if kind == "stream" and output.get("name") == "stderr" and TAG_STDERR not in tags:
                problems.append(f"{where}: stderr output {_output_text(output).strip()[:300]!r}")
        texts = [_output_text(o) for o in outputs] + [shown["text"]]
        for failure in WIDGET_FAILURES:
            if any(failure in text for text in texts):
                problems.append(f"{where}: shows {failure!r}")
        image_outputs = sum(1 for o in outputs if any(m.startswith("image/") for m in o.get("data", {})))
        draws = bool(DRAWS_FIGURE.search(source))
        counts["figure_cells"] += draws
        if draws and shown["images"] == 0:
            problems.append(f"{where}: draws a figure but shows no image")
        if shown["images"] < image_outputs or shown["broken_images"]:
            problems.append(f"{where}: {image_outputs} image outputs, {shown['images']} rendered images"
                            f" ({shown['broken_images']} broken)")
        widget_outputs = sum(1 for o in outputs if WIDGET_MIME in o.get("data", {}))
        if shown["widgets"] < widget_outputs:
            problems.append(f"{where}: {widget_outputs} widget outputs, {shown['widgets']} rendered widgets")
        if shown["math"] and TAG_MATH not in tags:
            problems.append(f"{where}: {shown['math']} math typesetting elements in the output (a pair of"
                            " dollar signs in generated Markdown/HTML? tag the cell math-expected if meant)")
        if TAG_RESULTS in tags:
            if not any("application/json" in o.get("data", {}) for o in outputs) or not shown["json"]:
                problems.append(f"{where}: the results cell shows no JSON")
    if not_run:
        listed = ", ".join(map(str, not_run[:12])) + (f" and {len(not_run) - 12} more" if len(not_run) > 12 else "")
        problems.append(f"{len(not_run)} code cells did not run (no execution count): cells {listed}")
    if expect_results and results_cells != 1:
        problems.append(f"{results_cells} cells tagged {TAG_RESULTS!r}, expected 1")
    return problems, counts


def run_notebook(driver: Any, lab: Lab, path: Path, output: Path, *, timeout: float = 300.0,
                 root: Path = REPO_ROOT) -> NotebookReport:
    """Open ``path`` in JupyterLab, Run All from the menu, wait, take screenshots and check the page."""
    rel = _relative(path, root)
    report = NotebookReport(name=path.stem, path=rel)
    committed = json.loads(path.read_text())
    report.cells = len(committed["cells"])
    report.code_cells = sum(c["cell_type"] == "code" for c in committed["cells"])
    start = time.monotonic()
    # A workspace of its own, reset: only this notebook open, whatever ran before or beside it.
    driver.get(f"{lab.url}/lab/workspaces/e2e-{path.stem}/tree/{rel}?reset&token={lab.token}")
    state = _wait(driver, _JS_OPEN_STATE, rel,
                  lambda s: s["dialogs"] or (s["ready"] and s["kernel"] and s["status"] == "idle"), timeout=120)
    try:
        if state is None or state["dialogs"] or not state["kernel"] or state["status"] != "idle":
            if state and state["dialogs"]:
                report.problems.append(f"a dialog came up on opening: {' | '.join(state['dialogs'])!r}")
            report.problems.append(f"the notebook did not open on an idle kernel within 120 s (state {state})")
            report.screenshots = _screenshots(driver, rel, output / path.stem)
            report.seconds = round(time.monotonic() - start, 1)
        else:
            _run_and_check(driver, path, rel, output, report, state, timeout, start)
    finally:  # free the kernel for the next notebook
        if state and state.get("session"):
            with contextlib.suppress(OSError, ValueError):
                lab.api("DELETE", f"/api/sessions/{state['session']}")
    report.status = "failed" if report.problems else "ok"
    return report


def _run_and_check(driver: Any, path: Path, rel: str, output: Path, report: NotebookReport, state: dict,
                   timeout: float, start: float) -> None:
    """Run All from the menu on the open notebook, wait, take the screenshots, fill in ``report``."""
    if state["kernel"] != KERNEL_NAME:
        report.problems.append(f"opened on kernel {state['kernel']!r}, not {KERNEL_NAME!r}")
    with contextlib.suppress(Exception):  # more room for the notebook in the screenshots
        driver.execute_script("window.jupyterapp.shell.collapseLeft()")
    _click_menu(driver, "Run", "Run All Cells")
    stable = 0

    def finished(s: dict) -> bool:
        nonlocal stable
        stable = stable + 1 if (s["status"] == "idle" and s["pending"] == 0 and s["counted"] > 0) else 0
        return stable >= 3 or bool(s["dialogs"])

    state = _wait(driver, _JS_RUN_STATE, rel, finished, timeout=timeout)
    report.seconds = round(time.monotonic() - start, 1)
    if state is None or stable < 3:
        report.problems.append(f"still running after {timeout:.0f} s (state {state}); interrupted")
        with contextlib.suppress(Exception):
            driver.execute_script("window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.interrupt()")
    if state and state["dialogs"]:
        report.problems.append(f"a dialog came up while running: {' | '.join(state['dialogs'])!r}")
    report.screenshots = _screenshots(driver, rel, output / path.stem)
    driver.execute_script(_JS_SCROLL_TO, rel, 0)
    collected = driver.execute_script(_JS_COLLECT, rel)
    if collected is None:
        report.problems.append("the notebook panel was gone when its outputs were collected")
        return
    problems, counts = check_notebook(collected["notebook"], collected["cells"], collected["kernel"],
                                      expect_results=bool(_NOTEBOOK_PATTERN.match(path.name)))
    report.problems += [p for p in problems if p not in report.problems]
    report.images, report.figure_cells, report.widgets = counts["images"], counts["figure_cells"], counts["widgets"]


def _digest(paths: Sequence[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _schedule(notebooks: Sequence[Path], previous: Path) -> list[Path]:
    """The order to start the notebooks in: longest first by the previous report (so that two
    workers finish together), else course order."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        seconds = {n["path"]: n["seconds"] for n in json.loads(previous.read_text())["notebooks"]}
        return sorted(notebooks, key=lambda p: -seconds.get(_relative(p), 0.0))
    return list(notebooks)


def _relative(path: Path, root: Path = REPO_ROOT) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def run_all(notebooks: Sequence[Path], output: Path, *, timeout: float = 300.0, jobs: int = 2,
            root: Path = REPO_ROOT, verbose: bool = True) -> list[NotebookReport]:
    """Run the notebooks in one JupyterLab, ``jobs`` at a time (one headless browser each, one kernel
    per notebook); write screenshots and ``report.json`` under ``output``; return the reports in the
    order of ``notebooks``. A notebook whose file changed on disk during the run fails."""
    if find_browser() is None:
        raise E2EError("Chromium or chromedriver not found.\n" + INSTALL_HELP)
    output.mkdir(parents=True, exist_ok=True)
    before = _digest(notebooks)
    todo: queue.Queue[Path] = queue.Queue()
    for path in _schedule(notebooks, output / "report.json"):
        todo.put(path)
    done: dict[Path, NotebookReport] = {}
    start = time.monotonic()

    def worker() -> None:
        with open_browser() as driver:
            while True:
                try:
                    path = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    report = run_notebook(driver, lab, path, output, timeout=timeout, root=root)
                except Exception as error:  # one notebook's breakage must not hide the others
                    report = NotebookReport(name=path.stem, path=_relative(path, root), problems=[
                        f"the browser run failed: {type(error).__name__}: {error}"[:500]])
                if hashlib.sha256(path.read_bytes()).hexdigest() != before[path]:
                    report.problems.append("the notebook file changed on disk during the run"
                                           " (autosave, or someone editing it)")
                    report.status = "failed"
                done[path] = report
                if verbose:
                    print(f"e2e: {report.name}: {report.status} in {report.seconds:.0f} s ({report.images} images,"
                          f" {report.widgets} widgets, {len(report.screenshots)} screenshots)", flush=True)

    with start_lab(root, log_path=output / "lab.log") as lab:
        if verbose:
            print(f"e2e: JupyterLab at {lab.url}, {len(notebooks)} notebooks, {jobs} at a time", flush=True)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for future in [pool.submit(worker) for _ in range(max(1, min(jobs, len(notebooks))))]:
                future.result()
    reports = [done[p] for p in notebooks]
    summary = {
        "seconds": round(time.monotonic() - start, 1),
        "jobs": jobs,
        "load_average": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
        if Path("/proc/loadavg").exists() else None,
        "notebooks": [asdict(r) for r in reports],
    }
    (output / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.e2e", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", default=[], metavar="KEY",
                        help="run only these notebooks, named as for instructor.run (01, 4, 04_mnist_classification)")
    parser.add_argument("--include-solutions", action="store_true", help="also notebooks/solutions/NN_*.ipynb")
    parser.add_argument("--notebook", nargs="+", type=Path, default=[], metavar="PATH",
                        help="run these notebooks (inside the repository) instead of the course's")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per notebook (default 300)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at the same time (default 2)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "build" / "e2e", help="default build/e2e")
    args = parser.parse_args(argv)
    try:
        if args.notebook:
            notebooks = [p.resolve() for p in args.notebook]
            outside = [str(p) for p in notebooks if not p.is_file() or REPO_ROOT not in p.parents]
            if outside:
                raise E2EError(f"not a notebook inside {REPO_ROOT}: {', '.join(outside)}")
        else:
            notebooks = course_notebooks(args.only, include_solutions=args.include_solutions)
        if not notebooks:
            raise E2EError("no notebooks to run")
        if find_browser() is None:
            raise E2EError("Chromium or chromedriver not found.\n" + INSTALL_HELP)
        reports = run_all(notebooks, args.output, timeout=args.timeout, jobs=args.jobs)
    except E2EError as error:
        print(f"e2e: {error}", file=sys.stderr)
        return 2
    report_path = args.output / "report.json"
    total = json.loads(report_path.read_text())["seconds"]
    failed = [r for r in reports if r.problems]
    print(f"e2e: {len(reports) - len(failed)}/{len(reports)} notebooks passed in {total:.0f} s;"
          f" screenshots and {report_path}")
    if failed:
        print("e2e: problems:", file=sys.stderr)
        for report in failed:
            for problem in report.problems:
                print(f"  {report.name}: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
