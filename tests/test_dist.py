"""The course as pip installs it (make dist, make dist-test): the wheel's metadata and files, each
lesson run alone from the installed wheel, and a clone run without installing anything.

The fresh virtual environments get the main environment's third-party packages as symlinks, one per
entry of its site-packages, minus the course's own editable install (``__editable__*`` and the
``torch_core_models`` dist-info): pip sees every dependency installed, installs the wheel alone
(``--no-index``: nothing is downloaded) and checks that its declared dependencies are satisfied, while
torch is not copied again (5.5 GB). Nothing of the repository is on such an environment's path;
``test_the_fresh_environment_cannot_import_the_course`` proves it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.metadata import Metadata
from packaging.requirements import Requirement

from helpers.boston import BOSTON_SHA256
from helpers.co2 import CO2_FILENAME, CO2_SHA256
from helpers.mnist import MNIST_MD5
from helpers.plots import HANGUL_FONT
from instructor import run as batch

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.dist

DIST = ROOT / "dist"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Any download goes to the discard port on 127.0.0.1 and fails at once: the runs are offline.
OFFLINE = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}
OFFLINE |= {key.upper(): value for key, value in OFFLINE.items()}
RUN_TIMEOUT = 900  # seconds for one lesson; lesson 04 takes about 40 s on a quiet 2-core machine


def project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def built(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    if len(found) != 1:
        pytest.fail(f"expected one {pattern} in {DIST}, found {[p.name for p in found]}: run `make dist`")
    return found[0]


def tracked(*patterns: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line and not (ROOT / line).is_symlink()]


# ---------------------------------------------------------------------------------------------- make dist


def test_built_wheel_metadata_declares_what_pyproject_says():
    wheel = built("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Metadata.from_email(archive.read(name), validate=True)  # raises on invalid core metadata
    spec = project()
    assert (meta.name, str(meta.version)) == (spec["name"], spec["version"])
    assert str(meta.requires_python) == spec["requires-python"]
    assert meta.description_content_type == "text/markdown" and "make lab" in meta.description
    expected = [Requirement(r) for r in spec["dependencies"]]
    assert sorted(map(str, meta.requires_dist)) == sorted(map(str, expected))
    assert not meta.provides_extra, "no extras: the developers' tools are requirements-dev.txt, not the package's"


def test_built_wheel_carries_every_module_the_checksummed_boston_table_and_the_hangul_font():
    with zipfile.ZipFile(built("*.whl")) as archive:
        names = set(archive.namelist())
        boston = archive.read("helpers/boston_housing.csv")
        co2 = archive.read(f"helpers/{CO2_FILENAME}")  # lesson 05's series
        font = archive.read("helpers/fonts/NanumGothic.ttf")
    assert hashlib.sha256(boston).hexdigest() == BOSTON_SHA256
    assert hashlib.sha256(co2).hexdigest() == CO2_SHA256
    assert font == HANGUL_FONT.read_bytes()  # tests/test_korean.py checks its SHA-256 against fonts/README.md
    # the message tables, and the font with its licence and provenance, too
    modules = set(tracked("helpers/*.py", "helpers/locale/*.json", "helpers/fonts/*"))
    assert {"helpers/fonts/OFL.txt", "helpers/fonts/README.md"} <= modules
    assert sorted(modules - names) == []
    # instructor/ and deploy/ are a clone's tools (their paths are the repository's): not the students' package
    assert [n for n in names if n.split("/")[0] in ("tests", "notebooks", "data", "deploy", "instructor")] == []


def test_built_sdist_holds_the_same_package():
    sdist = built("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        prefix = archive.getnames()[0].split("/")[0]
        Metadata.from_email(archive.extractfile(f"{prefix}/PKG-INFO").read(), validate=True)
    assert {"pyproject.toml", "README.md", "helpers/boston_housing.csv", "helpers/fonts/NanumGothic.ttf",
            "helpers/fonts/OFL.txt"} <= names
    assert sorted(set(tracked("helpers/*.py")) - names) == []


# ------------------------------------------------------------------------------------------- make dist-test


def deps_only_venv(path: Path) -> Path:
    """A fresh venv at ``path`` whose site-packages links every third-party package of this one but
    not the course (no editable install, no dist-info). Returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if entry.name.startswith(("__editable__", "torch_core_models", "helpers", "instructor")):
            continue
        (site / entry.name).symlink_to(entry)
    return python


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    return env | OFFLINE | {"COURSE_PROGRESS": "0"} | extra


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, Path]:
    """Two fresh environments (dependencies only; dependencies + the installed wheel), a folder of
    pre-seeded MNIST files for ``COURSE_DATA_DIR``, and an empty per-user cache."""
    base = tmp_path_factory.mktemp("fresh")
    deps = deps_only_venv(base / "deps-only")
    installed = deps_only_venv(base / "wheel")
    wheel = built("*.whl")
    subprocess.run([installed, "-m", "pip", "install", "--no-index", "--no-cache-dir", "-q", str(wheel)],
                   check=True, env=clean_env(), timeout=300)
    mnist = base / "mnist-data"
    (mnist / "MNIST" / "raw").mkdir(parents=True)
    for name in MNIST_MD5:
        source = ROOT / "data" / "MNIST" / "raw" / name
        if not source.is_file():
            pytest.fail(f"{source} is missing: pre-seed MNIST (.ci/run copies it from ../shared)")
        (mnist / "MNIST" / "raw" / name).symlink_to(source)
    return {"deps": deps, "installed": installed, "mnist": mnist, "cache": base / "cache", "base": base}


def probe(python: Path, cwd: Path, code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_fresh_environment_cannot_import_the_course(fresh, tmp_path):
    done = probe(fresh["deps"], tmp_path, "import torch, pandas, papermill; import helpers", clean_env())
    assert "No module named 'helpers'" in done.stderr, done.stderr
    done = probe(fresh["installed"], tmp_path, "import helpers, sys; print(helpers.__file__, sys.prefix)", clean_env())
    assert done.returncode == 0, done.stderr
    location, prefix = done.stdout.split()
    assert location.startswith(prefix) and "site-packages" in location and str(ROOT) not in location
    # papermill's python3 kernel is this environment's Python, and it imports the installed package
    seen = kernel_python(fresh["installed"], tmp_path, clean_env()).splitlines()
    assert seen == [str(fresh["installed"]), location], seen


def quick(notebook: Path) -> list[str]:
    """papermill's arguments for ``notebook``'s quick settings (metadata ``course.quick``): each lesson runs
    at full settings once per CI run, under nbval; here it only has to run from the wheel."""
    return ["-y", yaml.safe_dump(batch.quick_parameters(notebook))]


def run_notebook(python: Path, notebook: Path, cwd: Path, env: dict[str, str], *params: str) -> dict:
    """Run ``notebook`` with papermill (kernel python3 = ``python``) on its quick settings and ``params``;
    return the executed notebook."""
    out = cwd / f"{notebook.stem}.out.ipynb"
    cmd = [python, "-m", "papermill", str(notebook), str(out), "--cwd", str(cwd), "-k", "python3",
           *quick(notebook), *params]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, f"{notebook.name} failed:\n{done.stderr[-4000:]}"
    return json.loads(out.read_text())


def kernel_python(python: Path, cwd: Path, env: dict[str, str]) -> str:
    """The interpreter and the helpers module that papermill's python3 kernel gets in this environment."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys, helpers\nprint(sys.executable)\n"
                                                                   "print(helpers.__file__)")])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, cwd / "probe.ipynb")
    out = run_notebook(python, cwd / "probe.ipynb", cwd, env)
    (cwd / "probe.ipynb").unlink()
    (cwd / "probe.out.ipynb").unlink()
    text = out["cells"][0]["outputs"][0]["text"]
    return "".join(text) if isinstance(text, list) else text


# and one lesson of the Korean edition: the wheel carries the Korean message table
KOREAN_02 = sorted((ROOT / "notebooks" / "ko").glob("02_*.ipynb"))


@pytest.mark.parametrize("lesson", LESSONS + KOREAN_02, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def test_a_lesson_alone_runs_from_the_installed_wheel(fresh, lesson, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(lesson, alone)  # the lesson and nothing else: no helpers/, data/ or solutions/ beside it
    env = clean_env(COURSE_DATA_DIR=str(fresh["mnist"]), XDG_CACHE_HOME=str(fresh["cache"]))
    nb = run_notebook(fresh["installed"], alone / lesson.name, alone, env)
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert "results" in nb["cells"][-1]["metadata"].get("tags", []) and nb["cells"][-1]["outputs"], "results shown"
    if lesson in KOREAN_02:  # the untouched exercises' feedback comes from the installed Korean table
        shown = json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False)
        assert "아직 풀지 않음" in shown, "the checkers answered in English in the Korean edition"
    assert sorted(p.name for p in alone.iterdir() if not p.name.endswith(".out.ipynb")) == [lesson.name], (
        "the lesson wrote files beside itself"
    )


def test_a_clone_runs_without_installing_the_course(fresh, tmp_path):
    clone = tmp_path / "clone"
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n")
    for name in filter(None, listed):
        source, target = ROOT / name, clone / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    env = clean_env(XDG_CACHE_HOME=str(fresh["cache"]))
    lesson = next(p for p in LESSONS if p.name.startswith("02_"))
    for folder in ("notebooks", "notebooks/solutions"):  # a kernel's sys.path starts with its notebook's folder
        done = probe(fresh["deps"], clone / folder, "import helpers; print(helpers.__file__)", env)
        assert Path(done.stdout.strip()).resolve() == clone / "helpers" / "__init__.py", done.stderr
    nb = run_notebook(fresh["deps"], clone / "notebooks" / lesson.name, clone / "notebooks", env)
    assert [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"] == []


def test_a_lesson_alone_without_mnist_or_network_stops_with_one_line(fresh, tmp_path):
    lesson = next((p for p in LESSONS if "load_mnist(" in p.read_text()), None)
    if lesson is None:
        pytest.skip("no lesson loads MNIST")
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(lesson, alone)
    cache = tmp_path / "empty-cache"  # a class image with no MNIST, no COURSE_DATA_DIR and no network
    out = alone / f"{lesson.stem}.out.ipynb"
    cmd = [fresh["installed"], "-m", "papermill", str(alone / lesson.name), str(out), "--cwd", str(alone),
           "-k", "python3", *quick(lesson)]
    done = subprocess.run(cmd, env=clean_env(XDG_CACHE_HOME=str(cache)), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    assert done.returncode != 0
    errors = [o for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert [e["ename"] for e in errors] == ["MNISTDataError"]
    first = errors[0]["evalue"].splitlines()[0]
    raw = cache / "torch-core-models" / "MNIST" / "raw"
    assert first.startswith(f"MNIST is not ready in {raw} (the download failed"), first
    assert "COURSE_DATA_DIR" in first and "run this cell again" in first
