"""make hub-test: a class on a real JupyterHub, on 127.0.0.1 only.

JupyterHub (PyPI) with its proxy (configurable-http-proxy, npm, in deploy/node_modules) starts with
deploy/jupyterhub_config.py, in which only the login (dummy authenticator), the spawner (local
processes), the addresses and the idle culler are replaced. Three students open lesson 02's nbgitpuller
link in headless Chromium at the same time: each logs in, the hub starts their server, nbgitpuller
clones the course (a snapshot of this working tree in a local git repository, the lesson on its quick
settings) into their home folder and JupyterLab opens the lesson; each clicks Run > Run All Cells.
Every code cell must run, with no error. Then the hub is stopped, which stops the proxy and the
servers, and the test fails if any process it started is left (leftovers are killed). It prints each
student's Run All time and their server's and kernel's memory. Everything lives in build/hub/.

    .venv/bin/python -m deploy.hub_test [--students 3] [--lesson 02] [--timeout 900]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from deploy.links import lessons, pull_link
from instructor.run import prepare_quick

ROOT = Path(__file__).resolve().parent.parent
PROXY = ROOT / "deploy" / "node_modules" / ".bin" / "configurable-http-proxy"
NAMES = ("ada", "grace", "alan", "emmy", "kurt", "rosalind")

# Read in the page (JupyterLab exposes its app as window.jupyterapp with expose_app_in_browser):
# the open notebook's path, its kernel's status, and per code cell its execution count, tags and errors.
STATE_JS = """
const app = window.jupyterapp;
const panel = app && app.shell.currentWidget;
if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) { return null; }
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
const cells = [];
for (const cell of panel.content.model.cells) {
  if (cell.type !== 'code') { continue; }
  const outputs = cell.outputs.toJSON();
  cells.push({count: cell.executionCount, tags: cell.getMetadata('tags') || [],
              errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)});
}
return {path: panel.context.path, kernel: kernel ? kernel.status : null, kernel_name: kernel ? kernel.name : null,
        cells: cells};
"""


class HubTestError(RuntimeError):
    """The class did not run as it should; the message says what failed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshot(dest: Path, quick: str) -> Path:
    """This working tree (tracked and new files, symlinks kept) committed into a fresh git repository at
    ``dest``, on branch main: what nbgitpuller clones from. The notebook ``quick`` (a path in the
    repository) has its quick settings injected (``prepare_quick``): the hub test is about the class, not
    the lesson's numbers, and nbval runs each lesson at full settings once per CI run."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source, target = ROOT / name, dest / name
        if not (source.exists() or source.is_symlink()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    prepare_quick(ROOT / quick, dest / quick)
    git = ["git", "-C", str(dest), "-c", "user.name=hub-test", "-c", "user.email=hub-test@127.0.0.1"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot for make hub-test"], check=True)
    return dest


def write_config(run: Path, port: int, password: str) -> Path:
    """The hub's configuration: deploy/jupyterhub_config.py, then the test's replacements."""
    singleuser = Path(sys.executable).parent / "jupyterhub-singleuser"
    args = ["--LabApp.expose_app_in_browser=True"] + (["--allow-root"] if os.geteuid() == 0 else [])
    config = f"""
load_subconfig({str(ROOT / "deploy" / "jupyterhub_config.py")!r})
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allow_all = True
c.Authenticator.admin_users = set()
c.JupyterHub.spawner_class = "simple"  # SimpleLocalProcessSpawner: servers run as this user
c.SimpleLocalProcessSpawner.home_dir_template = {str(run / "home" / "{username}")!r}
c.Spawner.cmd = [{str(singleuser)!r}]
c.Spawner.args = {args!r}
c.Spawner.ip = "127.0.0.1"
c.Spawner.environment["COURSE_DATA_DIR"] = {str(run / "data")!r}
c.JupyterHub.services = []  # no idle culler in a five-minute test
c.JupyterHub.load_roles = []
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.ConfigurableHTTPProxy.pid_file = {str(run / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{run / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(run / "cookie_secret")!r}
c.JupyterHub.pid_file = {str(run / "hub.pid")!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
"""
    path = run / "jupyterhub_config.py"
    path.write_text(config)
    return path


def wait_for(what: str, check, timeout: float, poll: float = 0.5):
    """Call ``check()`` until it returns something truthy; ``HubTestError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise HubTestError(f"timed out after {timeout:.0f} s waiting for {what}")


def chromium(playwright):
    """The system's Chromium, headless, driven by Playwright (which never downloads a browser here)."""
    browser = os.environ.get("COURSE_E2E_BROWSER") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        raise HubTestError("Chromium is needed: sudo apt-get install chromium (or set COURSE_E2E_BROWSER)")
    return playwright.chromium.launch(executable_path=browser, args=["--disable-dev-shm-usage", "--disable-gpu"])


def student(name: str, password: str, link: str, notebook: str, run: Path, timeout: float, report: dict) -> None:
    """One student: open the link, log in, wait for the pulled lesson, Run All, wait for the kernel.

    Each student's thread has its own Playwright and browser (Playwright's objects stay in their thread)."""
    from playwright.sync_api import Error, sync_playwright

    began = time.monotonic()
    with sync_playwright() as playwright:
        browser = chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)

        def state():
            """JupyterLab's state, or None while the page is between documents (login, spawn, pull)."""
            try:
                return page.evaluate("() => {" + STATE_JS + "}")
            except Error as exc:
                if "context was destroyed" in str(exc) or "navigat" in str(exc):
                    return None
                raise

        try:
            page.goto(link)
            page.fill("#username_input", name)
            page.fill("#password_input", password)
            page.click("#login_submit")

            def lesson_ready():
                now = state()
                return now if now and now["path"].endswith(notebook) and now["kernel"] == "idle" else None

            opened = wait_for(f"{name}'s server, the pull and lesson {notebook}", lesson_ready, timeout)
            report["opened_s"] = time.monotonic() - began
            report["kernel_name"] = opened["kernel_name"]
            page.click("xpath=//li[contains(@class,'lm-MenuBar-item')]"
                       "[.//div[contains(@class,'lm-MenuBar-itemLabel')][text()='Run']]")
            page.click("xpath=//li[contains(@class,'lm-Menu-item')][not(contains(@class,'lm-mod-disabled'))]"
                       "[.//div[contains(@class,'lm-Menu-itemLabel')][text()='Run All Cells']]")
            clicked = time.monotonic()

            def finished():
                now = state()
                errors = [e for c in now["cells"] for e in c["errors"] if "raises-expected" not in c["tags"]]
                if errors:
                    raise HubTestError(f"{name}: a cell raised {errors[0]}")
                done = all(c["count"] is not None for c in now["cells"]) and now["kernel"] == "idle"
                return now if done else None

            final = wait_for(f"{name}'s Run All of {notebook}", finished, timeout, poll=1.0)
            report["run_all_s"] = time.monotonic() - clicked
            report["cells"] = len(final["cells"])
            page.screenshot(path=str(run / f"{name}.png"))
        except Exception as exc:  # reported by the main thread, with the student's name
            report["error"] = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
            try:
                page.screenshot(path=str(run / f"{name}-failed.png"))
            except Exception:
                pass
        finally:
            browser.close()


def memory(hub: psutil.Process, names: list[str]) -> dict[str, dict[str, float]]:
    """Each student's server and kernel resident memory (MiB), found among the hub's descendants."""
    found: dict[str, dict[str, float]] = {}
    for proc in hub.children(recursive=True):
        try:
            cmd, env_user = " ".join(proc.cmdline()), proc.environ().get("JUPYTERHUB_USER")
            rss = proc.memory_info().rss / 2**20
            parent_user = proc.parent().environ().get("JUPYTERHUB_USER") if proc.parent() else None
        except psutil.Error:
            continue
        if env_user in names and "jupyterhub-singleuser" in cmd:
            found.setdefault(env_user, {})["server_mib"] = rss
        elif "ipykernel" in cmd and parent_user in names:
            found.setdefault(parent_user, {})["kernel_mib"] = rss
    return found


def stop(hub: subprocess.Popen, seen: dict[int, psutil.Process]) -> list[str]:
    """Stop the hub (it stops the proxy and the servers); kill and name whatever is left."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=60)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait(timeout=10)
    time.sleep(1)
    left = []
    for proc in seen.values():
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
                proc.kill()
        except psutil.NoSuchProcess:
            continue
    return left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=3, help=f"students at once (1 to {len(NAMES)}, default 3)")
    parser.add_argument("--lesson", default="02", help="the lesson they run (default 02)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for each wait (default 900)")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "hub")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= len(NAMES):
        parser.error(f"--students must be between 1 and {len(NAMES)}")
    if not PROXY.exists():
        raise SystemExit(f"{PROXY} is missing: run `make hub-test` (it runs npm ci --prefix deploy)")
    notebook = next((n for n in lessons() if Path(n).name.startswith(f"{args.lesson}_")), None)
    if notebook is None:
        parser.error(f"no lesson notebooks/{args.lesson}_*.ipynb")

    run = args.output
    shutil.rmtree(run, ignore_errors=True)
    (run / "home").mkdir(parents=True)
    (run / "data").mkdir()
    mnist = ROOT / "data" / "MNIST"
    if mnist.is_dir():  # the class image's shared data (lesson 04); lesson 02 needs none
        (run / "data" / "MNIST").symlink_to(mnist)
    repo = snapshot(run / "course.git", notebook)
    password = secrets.token_urlsafe(12)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    link = pull_link(hub_url, str(repo), notebook)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "JUPYTER"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = (run / "jupyterhub.log").open("w")
    hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(write_config(run, port, password))],
                           cwd=run, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    hub_proc = psutil.Process(hub.pid)
    seen: dict[int, psutil.Process] = {hub.pid: hub_proc}
    names = list(NAMES[: args.students])
    reports: dict[str, dict] = {name: {} for name in names}
    failures: list[str] = []
    print(f"hub-test: JupyterHub on {hub_url}, {len(names)} students run {notebook}; logs in {run}", flush=True)
    try:
        import urllib.request

        def hub_up():
            if hub.poll() is not None:
                raise HubTestError(f"JupyterHub exited with {hub.returncode}: see {run / 'jupyterhub.log'}")
            try:
                with urllib.request.urlopen(f"{hub_url}/hub/api", timeout=5) as answer:
                    return answer.status == 200
            except OSError:
                return False

        wait_for("JupyterHub to answer", hub_up, 120)
        threads = [threading.Thread(target=student, args=(n, password, link, notebook, run, args.timeout, reports[n]))
                   for n in names]
        for thread in threads:
            thread.daemon = True  # an interrupted test must not wait for the students' timeouts
        load_before = os.getloadavg()[0]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            for proc in hub_proc.children(recursive=True):  # every process the hub starts, to check they all end
                seen.setdefault(proc.pid, proc)
            mem = memory(hub_proc, names)
            for name, values in mem.items():
                for key, mib in values.items():
                    reports[name][f"peak_{key}"] = max(mib, reports[name].get(f"peak_{key}", 0.0))
            time.sleep(1.0)
        load_after = os.getloadavg()[0]
        failures += [f"{n}: {r['error']}" for n, r in reports.items() if "error" in r]
        for name in names:
            pulled = run / "home" / name / "torch-core-models" / notebook
            if not pulled.is_file():
                failures.append(f"{name}: nbgitpuller did not put {notebook} in {pulled.parent}")
            if "error" not in reports[name] and reports[name].get("kernel_name") != "python3":
                failures.append(f"{name}: kernel {reports[name].get('kernel_name')!r}, expected python3")
    except HubTestError as exc:
        failures.append(str(exc))
        load_after = os.getloadavg()[0]
        load_before = load_before if "load_before" in locals() else load_after
    finally:
        for proc in hub_proc.children(recursive=True) if hub.poll() is None else []:
            seen.setdefault(proc.pid, proc)
        left = stop(hub, seen)
        log.close()
    if left:
        failures.append("processes left after the hub stopped (killed now): " + "; ".join(left))
    ours = [p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    if ours:
        failures.append(f"processes of the test left: {[' '.join(p.cmdline())[:80] for p in ours]}")
    summary = {"lesson": notebook, "students": reports, "load_before": load_before, "load_after": load_after,
               "processes_seen": len(seen), "failures": failures}
    (run / "report.json").write_text(json.dumps(summary, indent=2))
    print("| student | opened s | Run All s | code cells | peak server MiB | peak kernel MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in reports.items():
        print(f"| {name} | {r.get('opened_s', float('nan')):.1f} | {r.get('run_all_s', float('nan')):.1f} | "
              f"{r.get('cells', '-')} | {r.get('peak_server_mib', float('nan')):.0f} | "
              f"{r.get('peak_kernel_mib', float('nan')):.0f} |")
    print(f"load average {load_before:.2f} before, {load_after:.2f} after; {len(seen)} processes started, none left"
          if not left else f"load average {load_before:.2f} before, {load_after:.2f} after")
    if failures:
        print("hub-test FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        tail = (run / "jupyterhub.log").read_text().splitlines()[-15:]
        print("last lines of jupyterhub.log:\n  " + "\n  ".join(tail), file=sys.stderr)
        return 1
    print(f"hub-test passed: {len(names)} students ran every cell of {notebook} at once")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
