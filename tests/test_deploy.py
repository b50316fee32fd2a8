"""deploy/: the nbgitpuller links, and the one-machine and Kubernetes configurations giving every student
the same measured guarantees. (make hub-test runs a real hub with deploy/jupyterhub_config.py.)"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml
from traitlets.config import Config

from deploy import measure
from deploy.links import TARGET, lessons, pull_link

ROOT = Path(__file__).resolve().parent.parent


def hub_config() -> Config:
    config = Config()
    code = (ROOT / "deploy" / "jupyterhub_config.py").read_text()
    exec(compile(code, "jupyterhub_config.py", "exec"), {"get_config": lambda: config})
    return config


def test_a_link_pulls_the_course_and_opens_the_lesson():
    link = pull_link("https://hub.example.org/", "https://git.example.org/course.git", "notebooks/02_x.ipynb")
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("hub.example.org", "/hub/user-redirect/git-pull")
    query = {key: value[0] for key, value in parse_qs(parts.query).items()}
    assert query == {"repo": "https://git.example.org/course.git", "branch": "main", "targetpath": TARGET,
                     "urlpath": f"lab/tree/{TARGET}/notebooks/02_x.ipynb"}


def test_links_are_made_for_whatever_lessons_notebooks_holds():
    assert lessons() == [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))]
    assert len(lessons()) >= 4
    korean = lessons(edition="ko")
    assert korean == [f"notebooks/ko/{Path(p).name}" for p in lessons()], "the Korean edition, lesson for lesson"


def test_one_machine_and_kubernetes_give_a_student_the_same_resources():
    spawner = hub_config().Spawner
    z2jh = yaml.safe_load((ROOT / "deploy" / "z2jh" / "config.yaml").read_text())["singleuser"]
    assert (spawner.mem_guarantee, spawner.mem_limit) == (z2jh["memory"]["guarantee"], z2jh["memory"]["limit"])
    assert (spawner.cpu_guarantee, spawner.cpu_limit) == (z2jh["cpu"]["guarantee"], z2jh["cpu"]["limit"])
    assert spawner.environment["COURSE_DATA_DIR"] == z2jh["extraEnv"]["COURSE_DATA_DIR"]
    assert spawner.http_timeout > 30, "a busy machine takes longer than JupyterHub's default 30 s to start a server"



@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="make measure reads Linux's /proc")
def test_measure_reads_the_kernel_process_peak_from_outside(tmp_path):
    mine = measure.kernel_usage(os.getpid())
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    assert mine["peak_rss_mib"] == pytest.approx(int(status["VmHWM"].split()[0]) / 1024, abs=64) and mine["cpu_s"] > 0
    notebook = tmp_path / "fills.ipynb"  # a kernel that fills 300 MiB and frees it: its peak, not this process's
    cell = nbformat.v4.new_code_cell("block = bytearray(300 * 2**20)\ndel block")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), notebook)
    usage = asyncio.run(measure.run_all(notebook, timeout=120))
    assert usage["peak_rss_mib"] > 300 > measure.kernel_usage(os.getpid())["peak_rss_mib"] - mine["peak_rss_mib"]
    assert usage["wall_s"] > 0 and usage["cpu_s"] > 0
