"""deploy/: the nbgitpuller links, and the one-machine and Kubernetes configurations giving every student
the same measured guarantees. (make hub-test runs a real hub with deploy/jupyterhub_config.py.)"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml
from traitlets.config import Config

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
