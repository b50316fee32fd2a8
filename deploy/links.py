"""nbgitpuller links that open each lesson on a JupyterHub: the student clicks one, logs in, the hub
starts their server, nbgitpuller clones the course into their home folder (or pulls the instructor's
new commits, keeping the student's own changes) and JupyterLab opens the lesson.

    .venv/bin/python -m deploy.links --hub https://hub.example.org --repo https://github.com/you/torch-core-models
    .venv/bin/python -m deploy.links ... --edition ko      # the Korean edition's lessons (notebooks/ko/)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
#: The folder in each student's home that nbgitpuller clones the course into.
TARGET = "torch-core-models"


def lessons(root: Path = ROOT, edition: str = "en") -> list[str]:
    """The lessons of the ``edition`` ("en", or "ko" for notebooks/ko/), as paths inside the repository
    (``notebooks/01_linear_regression.ipynb``, ...)."""
    folder = root / "notebooks" / ("ko" if edition == "ko" else "")
    return [p.relative_to(root).as_posix() for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))]


def pull_link(hub: str, repo: str, notebook: str, *, branch: str = "main", target: str = TARGET) -> str:
    """The link that clones or updates ``repo`` into ``~/target`` and opens ``notebook`` in JupyterLab."""
    query = urlencode({"repo": repo, "branch": branch, "targetpath": target,
                       "urlpath": f"lab/tree/{target}/{notebook}"})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example.org")
    parser.add_argument("--repo", required=True, help="the course's git URL the hub can clone")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--edition", choices=("en", "ko"), default="en", help="ko: the Korean edition's lessons")
    args = parser.parse_args(argv)
    print("| lesson | link |\n|---|---|")
    for notebook in lessons(edition=args.edition):
        print(f"| {Path(notebook).stem} | {pull_link(args.hub, args.repo, notebook, branch=args.branch)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
