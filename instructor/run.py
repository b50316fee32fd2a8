"""Batch runs of the course: execute the notebooks with papermill and report what they learned.

    python -m instructor.run --quick                  # smoke run: each notebook's own short settings
    python -m instructor.run --only 01 04 -p EPOCHS 3 -p 04:EPOCHS 5 --device cpu

Notebooks: the lessons notebooks/NN_name.ipynb (named NN_name), then their solutions
notebooks/solutions/NN_name.ipynb (named solutions/NN_name), then the Korean edition's, named ko/NN_name
and ko/solutions/NN_name. A KEY in --only, in -p KEY:NAME and in a YAML section is NN (lesson NN
and its solution, in both editions), solutions/NN (the English solution only), ko/NN (the Korean
lesson and its solution) or a full name (that notebook only). Parameters, lowest priority first: the
YAML file's top level, its KEY sections, --quick and --device, -p NAME VALUE, -p KEY:NAME VALUE; one
that a selected notebook's cell tagged 'parameters' does not declare is refused before anything runs.

Writes OUTPUT/notebooks/<name>.ipynb (executed, also when it fails), OUTPUT/html/<name>.html,
OUTPUT/summary.json ({"notebooks": [{name, status, seconds, parameters, results, error}, ...]}: the
injected parameters, the JSON that the cell tagged 'results' displays) and OUTPUT/summary.md.
Status: ok, failed (it raised, or displayed no results) or skipped (--fail-fast, Ctrl-C).
Exit status: 0 all ok, 1 a notebook failed, 2 a usage error (nothing ran), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import nbformat
import papermill
import yaml
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError

ROOT = Path(__file__).resolve().parent.parent
#: The kernels' environment: no progress bars; the inline backend keeps figures (``Agg`` would drop them).
KERNEL_ENV = {"COURSE_PROGRESS": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C: 128 + SIGINT
_NAME = re.compile(r"^[A-Za-z_]\w*$")


class CourseError(Exception):
    """A usage error found before any notebook runs (unknown notebook, undeclared parameter...)."""


@dataclass
class Report:
    """What one notebook run produced: one entry of ``summary.json``."""

    name: str
    status: str = "skipped"
    seconds: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None


def discover(folder: Path) -> dict[str, Path]:
    """The course's notebooks by name: the lessons ``NN_name`` in ``folder``, then the solutions
    ``solutions/NN_name`` in ``folder/solutions``, each in number order."""
    if not folder.is_dir():
        raise CourseError(f"notebook folder {folder} does not exist")
    found = {}
    for edition in ("", "ko/"):  # the English course, then the Korean edition (notebooks/ko/)
        found |= {f"{edition}{p.stem}": p for p in sorted(folder.glob(f"{edition}[0-9][0-9]_*.ipynb"))}
        solutions = sorted(folder.glob(f"{edition}solutions/[0-9][0-9]_*.ipynb"))
        found |= {f"{edition}solutions/{p.stem}": p for p in solutions}
    if not found:
        raise CourseError(f"no notebooks named NN_name.ipynb in {folder} or {folder / 'solutions'}")
    return found


def matches(name: str, key: str) -> bool:
    """Whether ``key`` (NN, solutions/NN or a full name: see the module's doc) names notebook ``name``."""
    key = key.strip()
    folder, _, last = key.rpartition("/")
    if last.isdigit():
        return f"{int(last):02d}" == name.rpartition("/")[2][:2] and (not folder or name.startswith(folder + "/"))
    return key == name


def select(course: dict[str, Path], only: Sequence[str] | None) -> dict[str, Path]:
    """The notebooks that ``--only`` names (all of them without it), in course order."""
    for key in only or ():
        if not any(matches(name, key) for name in course):
            raise CourseError(f"--only {key}: no such notebook; choose from {', '.join(course)}")
    return {name: path for name, path in course.items() if not only or any(matches(name, k) for k in only)}


def parse_value(text: str) -> Any:
    """A ``-p`` value exactly as ``papermill -p`` reads it: ``True``, ``False``, ``None``, an int, a float,
    else the text unchanged (so ``true``, ``null`` and ``[1, 2]`` stay strings; use a YAML file for lists)."""
    spelled = {"True": True, "False": False, "None": None}
    if text in spelled:
        return spelled[text]
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(text)
    return text


def quick_parameters(path: Path) -> dict[str, Any]:
    """A notebook's smoke-run settings, kept in its metadata (``course.quick``) off the student's page."""
    quick = nbformat.read(path, as_version=4).metadata.get("course", {}).get("quick", {})
    if not isinstance(quick, dict):
        raise CourseError(f"{path}: metadata course.quick must be a mapping of NAME: value, got {quick!r}")
    return dict(quick)


def prepare_quick(source: Path, target: Path) -> Path:
    """``source`` written to ``target`` with its quick settings (``quick_parameters``) injected after its
    parameters cell, not executed: papermill's own parameterizing (``prepare_only``). The browser and hub
    tests open such a copy, so that each lesson runs at full settings once per CI run, under nbval."""
    target.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(source), str(target), parameters=quick_parameters(source),
                               prepare_only=True, kernel_name="python3", progress_bar=False)
    return target


def split_scope(name: str) -> tuple[str | None, str]:
    """``"04:EPOCHS"`` -> ``("04", "EPOCHS")``; ``"EPOCHS"`` -> ``(None, "EPOCHS")``."""
    scope, sep, bare = name.rpartition(":")
    if not _NAME.match(bare) or (sep and not scope.strip()):
        raise CourseError(f"-p {name}: expected NAME or KEY:NAME (e.g. EPOCHS or 04:EPOCHS)")
    return (scope.strip() or None), bare


def load_parameters_file(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A YAML file as (parameters for every notebook, parameters per KEY), e.g. ``EPOCHS: 3`` for
    every notebook and ``"04": {EPOCHS: 5}`` for lesson 04 and its solution."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise CourseError(f"--parameters-file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CourseError(f"--parameters-file {path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CourseError(f"--parameters-file {path}: expected a mapping of NAME: value, got {type(data).__name__}")
    common: dict[str, Any] = {}
    scoped: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            bad = [name for name in value if not (isinstance(name, str) and _NAME.match(name))]
            if bad:
                raise CourseError(f"--parameters-file {path}: {bad[0]!r} under {key!r} is not a parameter name")
            scope = f"{key:02d}" if isinstance(key, int) and not isinstance(key, bool) else str(key)
            scoped.setdefault(scope, {}).update(value)
        elif isinstance(key, str) and _NAME.match(key):
            common[key] = value
        else:
            raise CourseError(f"--parameters-file {path}: {key!r} is neither a parameter name nor a KEY with a mapping")
    return common, scoped


def plan(
    selected: dict[str, Path],
    assignments: Sequence[tuple[str, str]] = (),
    parameters_file: Path | None = None,
    *,
    quick: bool = False,
    device: str | None = None,
    course: dict[str, Path] | None = None,
) -> dict[str, dict[str, Any]]:
    """The parameters to inject into each selected notebook (``assignments``: the raw ``-p`` pairs),
    checked against what each declares. A KEY must name a notebook of ``course`` (default ``selected``)."""
    common, scoped = load_parameters_file(parameters_file) if parameters_file else ({}, {})
    options = {"DEVICE": device} if device else {}
    layers: list[tuple[str | None, dict[str, Any]]] = [(None, common), *scoped.items(), (None, options)]
    cli = [(*split_scope(name), parse_value(text)) for name, text in assignments]
    layers += [(scope, {bare: value}) for scope, bare, value in sorted(cli, key=lambda item: item[0] is not None)]
    for scope, _ in layers:
        if scope is not None and not any(matches(name, scope) for name in course or selected):
            choices = ", ".join(course or selected)
            raise CourseError(f"{scope!r} (in -p or the YAML file) names no notebook; choose from {choices}")

    planned: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for name, path in selected.items():
        values: dict[str, Any] = quick_parameters(path) if quick else {}  # anything given explicitly wins
        for scope, section in layers:
            if scope is None or matches(name, scope):
                values.update(section)
        declared = list(papermill.inspect_notebook(str(path)))  # the cell tagged 'parameters', in order
        unknown = [p for p in values if p not in declared]
        if unknown:
            declares = ", ".join(declared) or "nothing"
            problems.append(f"{name} does not declare {', '.join(unknown)}; it declares: {declares}")
        planned[name] = values
    if problems:
        raise CourseError("unknown parameter(s), nothing was run:\n  " + "\n  ".join(problems))
    return planned


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """``KERNEL_ENV`` set for the kernels started inside the block; the environment restored afterwards."""
    saved = dict(os.environ)
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def read_results(notebook: nbformat.NotebookNode) -> dict[str, Any] | None:
    """The ``application/json`` object that the last cell tagged ``results`` displays, else None."""
    tagged = [c for c in notebook.cells if c.cell_type == "code" and "results" in c.metadata.get("tags", [])]
    for output in tagged[-1].get("outputs", []) if tagged else []:
        data = output.get("data", {}).get("application/json")
        if isinstance(data, dict):
            return json.loads(json.dumps(data))
    return None


def describe_failure(exc: BaseException) -> dict[str, Any]:
    """The summary's ``error``: the failing cell (execution count), its first line, ``ename: evalue``."""
    if isinstance(exc, PapermillExecutionError):
        lines = [line.strip() for line in str(exc.source).splitlines() if line.strip()]
        cell, first, text = exc.exec_count, lines[0] if lines else "", f"{exc.ename}: {exc.evalue}"
    else:
        cell, first, text = None, "", f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return {"cell": cell, "source_first_line": first, "error": text if len(text) <= 300 else text[:297] + "..."}


def execute(
    source: Path, executed: Path, parameters: dict[str, Any], *, verbose: bool = False
) -> nbformat.NotebookNode:
    """papermill's run of ``source`` into ``executed``, as every batch tool runs a notebook: the python3
    kernel, started in the notebook's own folder, quiet unless ``verbose``."""
    return papermill.execute_notebook(
        str(source), str(executed), parameters=parameters, kernel_name="python3", cwd=str(source.parent),
        progress_bar=verbose, extra_arguments=[] if verbose else ["--IPKernelApp.log_level=CRITICAL"],
    )


def run_notebook(
    name: str, source: Path, output_dir: Path, parameters: dict[str, Any], *, verbose: bool = False
) -> Report:
    """Execute ``source`` into ``output_dir/notebooks/<name>.ipynb`` (kernel in the notebook's own
    folder) and export it to ``output_dir/html/<name>.html``. A notebook that raises comes back as
    a failed Report, its executed notebook still written; KeyboardInterrupt passes through."""
    report = Report(name=name, parameters=dict(parameters))
    executed, html = output_dir / "notebooks" / f"{name}.ipynb", output_dir / "html" / f"{name}.html"
    executed.parent.mkdir(parents=True, exist_ok=True)
    for stale in (executed, html):  # never publish a previous run's pages as this one's
        stale.unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        with kernel_environment():
            notebook = execute(source, executed, parameters, verbose=verbose)
        results = read_results(notebook)
        if results is None:
            missing = "MissingResults: no application/json output in a cell tagged 'results'"
            report.status, report.error = "failed", {"cell": None, "source_first_line": "", "error": missing}
        else:
            report.status, report.results = "ok", results
    except Exception as exc:  # noqa: BLE001 - any failure is reported; the next notebook still runs
        report.status, report.error = "failed", describe_failure(exc)
    report.seconds = round(time.perf_counter() - start, 2)
    if executed.is_file():
        try:
            body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(body, encoding="utf-8")
        except Exception as exc:  # noqa: BLE001 - a page that cannot be exported must not lose the summary
            print(f"warning: {name}: HTML export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return report


def summary_markdown(reports: Sequence[Report]) -> str:
    """A markdown table (one row per notebook), the counts, then each error."""

    def text(values: dict[str, Any], empty: str) -> str:
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        return (shown or empty).replace("|", "\\|").replace("\n", " ")

    lines = ["| notebook | status | seconds | parameters | results |", "|---|---|---:|---|---|"]
    lines += [f"| {r.name} | {r.status} | {r.seconds:.1f} | {text(r.parameters, 'defaults')} | {text(r.results, '-')} |"
              for r in reports]
    counts = {s: sum(r.status == s for r in reports) for s in ("ok", "failed", "skipped")}
    total = sum(r.seconds for r in reports)
    lines += ["", f"{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped in {total:.1f} s."]
    errors = [r for r in reports if r.error]
    if errors:
        lines += ["", "Errors:", ""]
    for r in errors:
        where = "the notebook" if r.error["cell"] is None else f"cell {r.error['cell']}"
        first = f" (`{r.error['source_first_line']}`)" if r.error["source_first_line"] else ""
        lines.append(f"- {r.name}: {where}{first}: {r.error['error']}")
    return "\n".join(lines) + "\n"


def write_summary(reports: Sequence[Report], output_dir: Path) -> str:
    """Write ``summary.json`` and ``summary.md`` into ``output_dir``; return the markdown."""
    output_dir.mkdir(parents=True, exist_ok=True)
    summary = {"notebooks": [asdict(r) for r in reports]}
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    markdown = summary_markdown(reports)
    (output_dir / "summary.md").write_text(markdown, encoding="utf-8")
    return markdown


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m instructor.run`` options."""
    parser = argparse.ArgumentParser(
        prog="python -m instructor.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", metavar="KEY", help="run only these notebooks (e.g. 01 04, solutions/04)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a parameter in every notebook (EPOCHS 3) or in some (04:EPOCHS 5); repeatable")
    parser.add_argument("--parameters-file", type=Path, metavar="YAML",
                        help='YAML file: NAME: value for every notebook, "KEY": {NAME: value} for some')
    parser.add_argument("--quick", action="store_true",
                        help="each notebook's short smoke-run settings (metadata course.quick)")
    parser.add_argument("--device", metavar="DEV", help="DEVICE for every notebook: auto, cpu, cuda, cuda:N, mps")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    parser.add_argument("--verbose", action="store_true", help="show papermill's per-cell progress bar")
    parser.add_argument("--output", type=Path, default=ROOT / "build", metavar="DIR", help="default: build")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", metavar="DIR", help="default: notebooks")
    return parser


def run_course(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    """Run the parsed command, reporting to ``stream`` (default: stdout); return the exit status."""
    stream = stream or sys.stdout
    folder, output_dir = args.notebooks.resolve(), args.output.resolve()
    course = discover(folder)
    selected = select(course, args.only)
    planned = plan(selected, args.parameter, args.parameters_file, quick=args.quick, device=args.device, course=course)
    reports = [Report(name=name, parameters=planned[name]) for name in selected]
    stream.write(f"Running {len(selected)} notebook(s) from {folder} into {output_dir}\n")
    status, index, started = 0, 0, time.perf_counter()
    try:
        for index, (name, path) in enumerate(selected.items()):
            started = time.perf_counter()
            stream.write(f"[{index + 1}/{len(selected)}] {name} ..." + ("\n" if args.verbose else " "))
            stream.flush()
            report = reports[index] = run_notebook(name, path, output_dir, planned[name], verbose=args.verbose)
            stream.write(f"{name + ' ' if args.verbose else ''}{report.status} {report.seconds:.1f} s\n")
            if report.status == "failed":
                status = 1
                if args.fail_fast:
                    break
    except KeyboardInterrupt:
        stream.write("\nInterrupted (Ctrl-C): writing the summary of what finished.\n")
        if reports[index].status == "skipped":
            reports[index].seconds = round(time.perf_counter() - started, 2)
            stopped = "KeyboardInterrupt: stopped by Ctrl-C"
            reports[index].error = {"cell": None, "source_first_line": "", "error": stopped}
        status = EXIT_INTERRUPTED
    stream.write("\n" + write_summary(reports, output_dir))
    stream.write(f"\nWrote {output_dir / 'summary.json'}, summary.md, notebooks/ and html/ there.\n")
    stream.flush()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m instructor.run``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return run_course(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
