"""The course as a student sees it (``make e2e``): Run All in JupyterLab, in headless Chromium.

One JupyterLab per session, started as ``make lab`` starts it, and one browser (the system's Chromium driven by
Playwright; nothing is downloaded) opening one notebook at a time: Run > Run All Cells from the menu, a wait on
JupyterLab's own state (kernel idle, no cell queued or running, every output renderer and the math typesetter
done), screenshots top to bottom, then ``check_notebook`` on what the page shows. Autosave is off: the notebooks'
bytes must not change. The course's notebooks (``--only``, ``--include-solutions`` as for ``instructor.run``)
run on their quick settings (a copy under build/e2e/quick/ with ``course.quick`` injected, as ``make run
--quick`` does; nbval runs them at full settings) and write build/e2e/<notebook>/NN.png and
build/e2e/report.json; the fixture notebooks (tests/fixtures/e2e/) prove that the check can fail.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from instructor import run as batch

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "e2e"
OUTPUT = REPO / "build" / "e2e"
# Seconds per notebook, opening included: for a hang, not a slow machine (at load 17 lesson 01 took 317 s).
TIMEOUT_S = float(os.environ.get("COURSE_E2E_TIMEOUT", 900))
DRAWS_FIGURE = re.compile(r"\bplot_\w+\(|\bNotebookFigure\(|\bplt\.(?:show|subplots|figure)\(")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_FAILURES = ("Error displaying widget", "IProgress not found")
SETTINGS = {  # JupyterLab user settings for the run; everything else is JupyterLab's default
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},  # the notebooks stay as committed
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},  # every output in the page
}
# The Korean edition runs under the Korean language pack's locale, as make lab-ko sets it (a user setting, read
# when a page loads): the locale and the student's Run > Run All Cells menu, in each language.
LOCALES = {"en": ("en", "Run", "Run All Cells"), "ko": ("ko_KR", "실행", "모든 셀 실행")}

# JavaScript run in the page: JupyterLab's app is window.jupyterapp (expose_app_in_browser).
_PANEL = """const app = window.jupyterapp, panel = app && app.shell.currentWidget;
if (!panel || !panel.context || !panel.content || panel.context.path !== rel) return null;
const dialogs = [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText.slice(0, 300));
const kernel = panel.sessionContext.session?.kernel, idle = panel.sessionContext.kernelDisplayStatus === 'idle';
"""
# Opened: the kernel is up and idle. Finished: idle, no cell running, and a cell has run. Or a dialog came up.
STATE = "([rel, finished]) => {" + _PANEL + """
const code = panel.content.widgets.filter(c => c.model.type === 'code');
const done = finished ? idle && code.every(c => c.model.executionState !== 'running')
                        && code.some(c => c.model.executionCount !== null) : panel.context.isReady && kernel && idle;
return dialogs.length || done ? {dialogs} : null;
}"""
# Every output goes through the panel's rendermime; keep the promises of its renderers and of the math
# typesetter, so that COLLECT can wait until the page shows all it will show.
TRACK = "rel => {" + _PANEL + """
const rm = panel.content.rendermime, pending = window.e2ePending = new Set();
const track = p => { pending.add(p); const drop = () => pending.delete(p); p.then(drop, drop); return p; };
const create = rm.createRenderer.bind(rm);
rm.createRenderer = mime => { const r = create(mime), render = r.renderModel.bind(r);
  r.renderModel = m => track(render(m)); return r; };
const ts = rm.latexTypesetter, typeset = ts && ts.typeset.bind(ts);
if (ts) ts.typeset = node => track(Promise.resolve(typeset(node)));
}"""
COLLECT = "async rel => {" + _PANEL + """
const pending = window.e2ePending || new Set();
do { await Promise.allSettled([...pending]); await new Promise(r => setTimeout(r)); } while (pending.size);
await Promise.all([...panel.node.querySelectorAll('img')].map(i => i.decode().catch(() => null)));
const cells = panel.content.widgets.map(cell => {
  const area = cell.node.querySelector('.jp-OutputArea'), all = s => area ? [...area.querySelectorAll(s)] : [];
  const ok = i => i.complete && i.naturalWidth > 0, text = area ? area.innerText.slice(0, 20000) : '';
  return {images: all('img').filter(ok).length, broken_images: all('img').filter(i => !ok(i)).length,
          widgets: all('.jupyter-widgets').filter(w => !w.parentElement.closest('.jupyter-widgets')
                                                   && !w.innerText.includes('Error displaying widget')).length,
          math: all('mjx-container, .MathJax').length, json: all('.jp-RenderedJSON').length, text};
});
return {notebook: panel.context.model.toJSON(), kernel: kernel?.name, cells};
}"""
SCROLL = "([rel, top]) => {" + _PANEL + """
const scroller = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
scroller.scrollTop = top;
const last = panel.content.widgets.at(-1).node.getBoundingClientRect().bottom;
const bottom = last - scroller.getBoundingClientRect().top + scroller.scrollTop;
return {top: scroller.scrollTop, height: scroller.clientHeight, bottom: Math.min(bottom, scroller.scrollHeight)};
}"""


def pytest_generate_tests(metafunc):
    """``course_notebook``: the lessons (and solutions) as ``instructor.run`` finds and names them."""
    if "course_notebook" in metafunc.fixturenames:
        only = [key for value in metafunc.config.getoption("only") for key in value.replace(",", " ").split()]
        solutions = metafunc.config.getoption("include_solutions")
        course = {name: path for name, path in batch.discover(REPO / "notebooks").items()
                  if solutions or "solutions/" not in name}
        try:
            chosen = batch.select(course, only)
        except batch.CourseError as error:
            raise pytest.UsageError(str(error)) from None
        metafunc.parametrize("course_notebook", list(chosen.values()), ids=list(chosen))


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """``make lab``'s JupyterLab (this Python) on 127.0.0.1, with ``SETTINGS``; stopped, kernels with it, at the end."""
    scratch = tmp_path_factory.mktemp("lab")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lab = SimpleNamespace(url=f"http://127.0.0.1:{port}", token=secrets.token_hex(24))
    env = dict(os.environ, COURSE_PROGRESS="1", JUPYTERLAB_SETTINGS_DIR=str(scratch / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"), JUPYTER_RUNTIME_DIR=str(scratch / "runtime"))
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={REPO}", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={lab.token}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.extension_manager=readonly", "--allow-root"]  # no PyPI queries; CI runs as root
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT / "lab.log", "w") as log:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 90
            while True:  # the server's start: the one wait that has no page to watch
                try:
                    urllib.request.urlopen(f"{lab.url}/api/status?token={lab.token}", timeout=5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"JupyterLab did not start within 90 s; see {log.name}")
                    time.sleep(0.3)
            for plugin, values in SETTINGS.items():
                put_setting(lab, plugin, values)
            yield lab
        finally:
            process.terminate()  # jupyter_server shuts its kernels down, then exits
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the server and its kernels
                process.wait()


def put_setting(lab, plugin: str, values: dict) -> None:
    """Write the user settings of a JupyterLab ``plugin`` (id ``package:name``): pages opened later read them."""
    body = json.dumps({"raw": json.dumps(values)}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{lab.url}/lab/api/settings/{plugin}", data=body, method="PUT",
                                                  headers={"Authorization": f"token {lab.token}"}), timeout=30).close()


@pytest.fixture(scope="session")
def browser():
    """The system's headless Chromium (Playwright's own browsers are never installed or used)."""
    from playwright.sync_api import sync_playwright

    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    executable = os.environ.get("COURSE_E2E_BROWSER") or next(filter(None, map(shutil.which, names)), None)
    if not executable or not Path(executable).is_file():
        pytest.exit("make e2e drives your system's Chromium (nothing is downloaded). Debian/Ubuntu: sudo apt-get"
                    " install chromium; elsewhere set COURSE_E2E_BROWSER to a Chrome or Chromium executable", 2)
    with sync_playwright() as playwright:
        yield playwright.chromium.launch(executable_path=executable, args=["--disable-dev-shm-usage", "--disable-gpu"])


@pytest.fixture(scope="session")
def course_reports():
    """The course notebooks' reports, written to build/e2e/report.json when the session ends."""
    reports, start = [], time.monotonic()
    yield reports
    if reports:
        load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
        summary = {"seconds": round(time.monotonic() - start, 1), "load_average": load, "notebooks": reports}
        (OUTPUT / "report.json").write_text(json.dumps(summary, indent=2) + "\n")


def run_notebook(browser, lab, path: Path, output: Path, *, results_cell: bool = True, language: str = "en") -> dict:
    """Open ``path`` in JupyterLab in ``language``, Run All from the menu, wait, screenshot and check: one
    report.json entry."""
    from playwright.sync_api import Error as PlaywrightError

    rel, committed = path.relative_to(REPO).as_posix(), path.read_bytes()
    cells = json.loads(committed)["cells"]
    report = {"name": path.stem, "path": rel, "status": "failed", "cells": len(cells),
              "code_cells": sum(c["cell_type"] == "code" for c in cells), "seconds": 0.0, "images": 0,
              "figure_cells": 0, "widgets": 0, "screenshots": [], "problems": []}
    problems, start = report["problems"], time.monotonic()
    locale, menu, item = LOCALES[language]
    put_setting(lab, "@jupyterlab/translation-extension:plugin", {"locale": locale})
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)  # clicks and screenshots on a busy machine

    def wait(finished: bool) -> dict:  # Playwright runs STATE on every animation frame until it returns something
        timeout = max(1000, (start + TIMEOUT_S - time.monotonic()) * 1000)
        return page.wait_for_function(STATE, arg=[rel, finished], timeout=timeout).json_value()

    try:  # a workspace of its own, reset: only this notebook open
        page.goto(f"{lab.url}/lab/workspaces/e2e-{path.stem}/tree/{rel}?reset&token={lab.token}")
        state = wait(finished=False)
        if not state["dialogs"]:
            page.evaluate(TRACK, rel)
            page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # room for the notebook
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()
            state = wait(finished=True)
        report["seconds"] = round(time.monotonic() - start, 1)
        problems += [f"a dialog came up: {' | '.join(state['dialogs'])!r}"] if state["dialogs"] else []
        shown = page.evaluate(COLLECT, rel)
        found, counts = check_notebook(shown["notebook"], shown["cells"], shown["kernel"], results_cell=results_cell)
        problems += found
        report.update(counts)
    except PlaywrightError as error:  # a timeout, or the page broke: say so, with what the page showed
        report["seconds"] = round(time.monotonic() - start, 1)
        problems.append(f"the browser run failed: {str(error).splitlines()[0][:300]}")
    try:
        report["screenshots"] = screenshots(page, rel, output / path.stem)
        page.evaluate("rel => {" + _PANEL + "return panel.sessionContext.shutdown(); }", rel)  # free its memory
    except PlaywrightError as error:
        problems.append(f"the screenshots failed: {str(error).splitlines()[0][:300]}")
    finally:
        page.close()
    if path.read_bytes() != committed:
        problems.append("the notebook file changed on disk during the run (autosave, or someone editing it)")
    report["status"] = "failed" if problems else "ok"
    return report


def screenshots(page, rel: str, folder: Path) -> list[str]:
    """The notebook from top to its last cell, each step 90 % of the visible height."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shots, top = [], 0
    while len(shots) < 200:
        view = page.evaluate(SCROLL, [rel, top])
        shots.append(str(folder / f"{len(shots) + 1:02d}.png"))
        page.screenshot(path=shots[-1])
        if view is None or view["top"] + view["height"] >= view["bottom"] - 2:
            return shots
        top = view["top"] + int(view["height"] * 0.9)
    return shots


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def check_notebook(notebook: dict, dom: list[dict], kernel: str | None, *,
                   results_cell: bool = True) -> tuple[list[str], dict[str, int]]:
    """The problems of an executed ``notebook`` (the nbformat JSON the page holds) as rendered (``dom``,
    one dict per cell: images, broken_images, widgets, math, json, text), and the counts for the report.
    ``results_cell``: exactly one cell must be tagged ``results``."""
    problems = [] if kernel == "python3" else [f"opened on kernel {kernel!r}, not 'python3'"]
    counts = {"images": 0, "figure_cells": 0, "widgets": 0}
    cells = notebook["cells"]
    if len(cells) != len(dom):
        problems.append(f"the page shows {len(dom)} cells, the notebook model holds {len(cells)}")
    not_run, results = [], 0
    for index, (cell, shown) in enumerate(zip(cells, dom, strict=False), start=1):
        if cell["cell_type"] != "code":
            continue
        source, tags, outputs = _text(cell["source"]), set(cell["metadata"].get("tags", [])), cell["outputs"]
        where = f"cell {index} ({next(iter(source.strip().splitlines()), '')[:60]!r})"
        counts["images"] += shown["images"]
        counts["widgets"] += shown["widgets"]
        results += "results" in tags
        if source.strip() and cell.get("execution_count") is None:
            not_run.append(str(index))  # what it shows would only repeat this
            continue
        for output in outputs:
            if output["output_type"] == "error" and "raises-expected" not in tags:
                problems.append(f"{where}: error output {output['ename']}: {output['evalue'][:300]}")
            if output.get("name") == "stderr" and "stderr-expected" not in tags:
                problems.append(f"{where}: stderr output {_text(output['text']).strip()[:300]!r}")
        texts = [_text(o.get("text", o.get("data", {}).get("text/plain", ""))) for o in outputs] + [shown["text"]]
        problems += [f"{where}: shows {failure!r}" for failure in WIDGET_FAILURES if any(failure in t for t in texts)]
        draws = bool(DRAWS_FIGURE.search(source))
        counts["figure_cells"] += draws
        if draws and not shown["images"]:
            problems.append(f"{where}: draws a figure but shows no image")
        image_outputs = sum(any(m.startswith("image/") for m in o.get("data", {})) for o in outputs)
        if shown["images"] < image_outputs or shown["broken_images"]:
            problems.append(f"{where}: {image_outputs} image outputs, {shown['images']} rendered images"
                            f" ({shown['broken_images']} broken)")
        widget_outputs = sum(WIDGET_MIME in o.get("data", {}) for o in outputs)
        if shown["widgets"] < widget_outputs:
            problems.append(f"{where}: {widget_outputs} widget outputs, {shown['widgets']} rendered widgets")
        if shown["math"] and "math-expected" not in tags:
            problems.append(f"{where}: {shown['math']} math typesetting elements in the output (a pair of dollar"
                            " signs in generated Markdown/HTML? tag the cell math-expected if meant)")
        if "results" in tags and not (shown["json"] and any("application/json" in o.get("data", {}) for o in outputs)):
            problems.append(f"{where}: the results cell shows no JSON")
    if not_run:
        problems.append(f"{len(not_run)} code cells did not run (no execution count): cells {', '.join(not_run)}")
    if results_cell and results != 1:
        problems.append(f"{results} cells tagged 'results', expected 1")
    return problems, counts


FIXTURE_PROBLEMS = {  # what the check must say about each fixture notebook
    "clean": [],
    "raises": ["cell 2 ('raise ValueError(\"a cell that raises\")'): error output ValueError: a cell that raises",
               "1 code cells did not run (no execution count): cells 3"],
    "dollars": ["cell 1 ('from IPython.display import Markdown, display'): 1 math typesetting elements"],
}


@pytest.mark.browser
@pytest.mark.parametrize("name", FIXTURE_PROBLEMS)
def test_the_check_passes_a_clean_notebook_and_fails_broken_ones(name, browser, lab, tmp_path):
    report = run_notebook(browser, lab, FIXTURES / f"{name}.ipynb", tmp_path, results_cell=False)
    expected = FIXTURE_PROBLEMS[name]
    assert len(report["problems"]) == len(expected), report["problems"]
    assert all(problem.startswith(start) for problem, start in zip(report["problems"], expected, strict=True))
    assert report["status"] == ("failed" if expected else "ok") and report["seconds"] > 0
    assert report["screenshots"] and all(Path(s).read_bytes()[:4] == b"\x89PNG" for s in report["screenshots"])
    if name == "clean":  # a figure, a progress bar
        assert (report["figure_cells"], report["images"] >= 1, report["widgets"] >= 1) == (1, True, True)


@pytest.mark.browser
def test_course_notebook_in_jupyterlab(course_reports, course_notebook, browser, lab):
    korean = course_notebook.is_relative_to(REPO / "notebooks" / "ko")
    if korean and not subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True).stdout.strip():
        pytest.fail("no Korean font: Chromium would draw Hangul as boxes (Debian/Ubuntu: apt install fonts-noto-cjk)")
    # the notebook with its quick settings (metadata course.quick) injected: nbval runs it at full settings
    quick = batch.prepare_quick(course_notebook, OUTPUT / "quick" / course_notebook.relative_to(REPO))
    report = run_notebook(browser, lab, quick, OUTPUT / "ko" if korean else OUTPUT, language="ko" if korean else "en")
    course_reports.append(report)
    assert not report["problems"], "\n".join(report["problems"])


def test_check_notebook_without_a_browser():
    """The rules on what the page showed (``dom``): tagged cells may show an error, stderr, math."""
    def cell(source: str, outputs: list, *tags: str, count: int | None = 1) -> dict:
        return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)}, "outputs": outputs,
                "execution_count": count}

    error = {"output_type": "error", "ename": "ValueError", "evalue": "on purpose", "traceback": []}
    stderr = {"output_type": "stream", "name": "stderr", "text": "UserWarning: careful\n"}
    results = {"output_type": "display_data", "data": {"application/json": {"x": 1.0}}, "metadata": {}}
    png = {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}}
    widget = {"output_type": "display_data", "data": {WIDGET_MIME: {"model_id": "m"}}, "metadata": {}}
    cells = [cell("raise ValueError()", [error], "raises-expected"), cell("warn()", [stderr], "stderr-expected"),
             cell("display(Math(x))", [], "math-expected"), cell("display(JSON(results))", [results], "results")]
    shown = [dict.fromkeys(("images", "broken_images", "widgets", "math", "json"), 0) | {"text": ""} for _ in range(8)]
    shown[2]["math"] = shown[3]["json"] = 1
    assert check_notebook({"cells": cells}, shown[:4], "python3")[0] == []
    cells = [cell("raise ValueError()", [error]), cell("warn()", [stderr]), cell("show(md)", []),
             cell("fig = plot_history(history)", []), cell("fig", [png]), cell("fit(model)", [widget]),
             cell("display(JSON(results))", [], "results"), cell("print(1)", [], count=None)]
    shown[5]["text"] = "Error displaying widget"
    problems, counts = check_notebook({"cells": cells}, shown, "other-kernel")
    assert problems == [
        "opened on kernel 'other-kernel', not 'python3'",
        "cell 1 ('raise ValueError()'): error output ValueError: on purpose",
        "cell 2 ('warn()'): stderr output 'UserWarning: careful'",
        "cell 3 ('show(md)'): 1 math typesetting elements in the output (a pair of dollar signs in generated"
        " Markdown/HTML? tag the cell math-expected if meant)",
        "cell 4 ('fig = plot_history(history)'): draws a figure but shows no image",
        "cell 5 ('fig'): 1 image outputs, 0 rendered images (0 broken)",
        "cell 6 ('fit(model)'): shows 'Error displaying widget'",
        "cell 6 ('fit(model)'): 1 widget outputs, 0 rendered widgets",
        "cell 7 ('display(JSON(results))'): the results cell shows no JSON",
        "1 code cells did not run (no execution count): cells 8",
    ]
    assert counts == {"images": 0, "figure_cells": 1, "widgets": 0}
