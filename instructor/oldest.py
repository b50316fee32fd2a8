"""make oldest: the course on the oldest versions its package declares.

pyproject.toml gives a lower bound for the Python (``requires-python``) and for every dependency
(``torch>=2.2`` ...). Each is a promise, so this job keeps it: it builds ``.venv-oldest`` with that
Python and exactly those versions, adds the tools that are not the package's dependencies (the test
runner, papermill and a Jupyter kernel, at current versions), then runs the unit tests and every
notebook on its quick settings there. The pinned set in requirements.txt stays the default.

    python -m instructor.oldest              # build (or reuse) .venv-oldest, then test in it
    python -m instructor.oldest --pins       # only print the oldest versions

Exit status: 0 when the unit tests and every notebook pass on the oldest versions, 1 otherwise.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-oldest"
OUTPUT = ROOT / "build" / "oldest"
_LOWER_BOUND = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][0-9.]*)\s*$")


def project() -> dict:
    """pyproject.toml's ``[project]`` table (read by hand: ``tomllib`` needs Python 3.11)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    python = re.search(r'^requires-python\s*=\s*"([^"]+)"', text, re.M)
    block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.M | re.S)
    if python is None or block is None:
        raise SystemExit("pyproject.toml: no requires-python or [project] dependencies")
    return {"requires-python": python.group(1), "dependencies": re.findall(r'"([^"]+)"', block.group(1))}


def oldest_pins(dependencies: list[str]) -> list[str]:
    """``["torch>=2.2", ...]`` -> ``["torch==2.2", ...]``. A dependency without a plain lower bound
    cannot be tested at its oldest version, so it is refused."""
    pins = []
    for spec in dependencies:
        match = _LOWER_BOUND.match(spec)
        if match is None:
            raise SystemExit(f"pyproject.toml: {spec!r} is not NAME>=VERSION; make oldest needs a lower bound")
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


def oldest_python_version(requires_python: str) -> str:
    """``">=3.10"`` -> ``"3.10"``."""
    match = re.fullmatch(r"\s*>=\s*(3\.\d+)\s*", requires_python)
    if match is None:
        raise SystemExit(f"requires-python {requires_python!r} is not >=3.N; make oldest needs a lower bound")
    return match.group(1)


def find_python(version: str) -> str:
    """An interpreter of ``version``: ``pythonX.Y`` on the PATH, or pyenv's copy (``~/.pyenv``)."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == version:  # a pyenv shim may exist and fail
            return candidate
    raise SystemExit(f"make oldest needs Python {version}, the oldest that pyproject.toml allows: install it "
                     f"(pyenv install {version}, or your system's python{version}) or pass --python")


def tools() -> list[str]:
    """What the tests and the notebooks need besides the package: requirements-dev.txt and the
    students' JupyterLab kernel from requirements.txt, without the package's own dependencies."""
    own = {re.split(r"[<>=]", spec)[0].strip().lower() for spec in project()["dependencies"]}
    lines = []
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-") and re.split(r"[<>=]", line)[0].strip().lower() not in own:
                lines.append(line)
    return lines


def build(python: str, pins: list[str]) -> Path:
    """``.venv-oldest`` with ``pins`` exactly, the tools and the course (editable); reused while the
    pins and tools are unchanged. Returns its python."""
    extra = tools()
    wanted = "\n".join([python, *pins, *extra]) + "\n"
    stamp, venv_python = VENV / ".installed", VENV / "bin" / "python"
    if stamp.is_file() and stamp.read_text() == wanted and venv_python.exists():
        print(f"oldest: reusing {VENV}")
        return venv_python
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "constraints.txt").write_text("\n".join(pins) + "\n")
    (OUTPUT / "tools.txt").write_text("\n".join(extra) + "\n")
    pip = [str(venv_python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-c", str(OUTPUT / "constraints.txt"), "-r", str(OUTPUT / "constraints.txt"),
                    "-r", str(OUTPUT / "tools.txt")], check=True)
    subprocess.run([*pip, "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
    stamp.write_text(wanted)
    return venv_python


def installed_versions(venv_python: Path, names: list[str]) -> dict[str, str]:
    """The versions of ``names`` that ``venv_python`` imports, as importlib.metadata reports them."""
    code = "import sys, importlib.metadata as m; print('\\n'.join(m.version(n) for n in sys.argv[1:]))"
    out = subprocess.run([str(venv_python), "-c", code, *names], capture_output=True, text=True, check=True)
    return dict(zip(names, out.stdout.split(), strict=True))


def same_version(installed: str, pinned: str) -> bool:
    """``2.2.0`` is ``2.2``; ``2.2.0+cpu`` too (a local build of that release)."""
    def parts(v: str) -> list[int]:
        numbers = [int(p) for p in re.findall(r"\d+", v.split("+")[0])]
        while numbers and numbers[-1] == 0:
            numbers.pop()
        return numbers
    return parts(installed) == parts(pinned)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pins", action="store_true", help="print the oldest versions and stop")
    parser.add_argument("--python", help="the interpreter to use (default: the oldest one allowed)")
    args = parser.parse_args(argv)
    spec = project()
    version, pins = oldest_python_version(spec["requires-python"]), oldest_pins(spec["dependencies"])
    if args.pins:
        print("\n".join([f"python=={version}", *pins]))
        return 0
    venv_python = build(args.python or find_python(version), pins)
    names = [pin.split("==")[0] for pin in pins]
    seen = installed_versions(venv_python, names)
    wrong = [f"{name} {seen[name]} (pinned {pin.split('==')[1]})" for name, pin in zip(names, pins, strict=True)
             if not same_version(seen[name], pin.split("==")[1])]
    if wrong:
        print("oldest: pip did not install the oldest versions: " + ", ".join(wrong), file=sys.stderr)
        return 1
    env = dict(os.environ, COURSE_PROGRESS="0")
    unit = subprocess.run([str(venv_python), "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider",
                           "-m", "not browser and not claims and not dist"], cwd=ROOT, env=env)
    notebooks = subprocess.run([str(venv_python), "-m", "instructor.run", "--quick", "--output",
                                str(OUTPUT / "run")], cwd=ROOT, env=env)
    python = subprocess.run([str(venv_python), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"oldest: {python}, " + ", ".join(f"{name} {seen[name]}" for name in names))
    print(f"oldest: unit tests {'passed' if unit.returncode == 0 else 'FAILED'}, "
          f"notebooks on quick settings {'passed' if notebooks.returncode == 0 else 'FAILED'}")
    return 0 if unit.returncode == 0 and notebooks.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
