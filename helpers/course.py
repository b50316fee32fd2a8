"""Batch runs of the course: execute the notebooks with papermill and report what they learned.

    python -m helpers.course run                        # every notebook, default parameters
    python -m helpers.course run --quick                # smoke run: each notebook's own short settings
    python -m helpers.course run --only 01 04 -p EPOCHS 3 -p 04:EPOCHS 5 --device cpu

For each selected notebook ``notebooks/NN_name.ipynb`` (in course order) this writes

    <output>/notebooks/NN_name.ipynb    the executed notebook (also when it fails: open it at the error)
    <output>/html/NN_name.html          the same, exported with nbconvert
    <output>/summary.json               {"notebooks": [{"name", "status", "seconds", "parameters",
                                                         "results", "error"}, ...]}
    <output>/summary.md                 the same as a markdown table (also printed at the end)

``parameters`` in the summary are the values the run injected (``-p``, the YAML file, ``--quick``,
``--device``); every other parameter kept the notebook's default. ``results`` is the JSON object the
cell tagged ``results`` displays (an ``application/json`` output, never parsed from printed text).

Parameters, lowest priority first: the YAML file's top level, its per-notebook sections, ``--quick``
and ``--device``, ``-p NAME VALUE``, ``-p NN:NAME VALUE``. A parameter that a selected notebook does
not declare in its cell tagged ``parameters`` is rejected before anything runs.

Status per notebook: ``"ok"``, ``"failed"`` (it raised, or displayed no results: ``error`` says
where and what) or ``"skipped"`` (not run because of ``--fail-fast`` or Ctrl-C; the notebook that
Ctrl-C interrupted is also ``"skipped"``, with the interruption as its ``error``). Exit status:
0 all ok, 1 a notebook failed, 2 a usage error (nothing ran), 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import nbformat
import papermill
import yaml
from papermill.exceptions import PapermillExecutionError

from helpers.data import repo_root

#: Kernel used for every notebook (the course's notebooks all declare it).
KERNEL_NAME = "python3"

#: Environment of the kernels. ``MPLBACKEND`` is the inline backend on purpose, not ``Agg``: with
#: ``Agg`` a kernel displays no figures, so the executed notebooks and HTML pages would have none.
#: The inline backend is just as headless (it never opens a window).
KERNEL_ENV = {"COURSE_PROGRESS": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}

#: Exit status after Ctrl-C (the shell's convention: 128 + SIGINT).
EXIT_INTERRUPTED = 130

_NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_\w+\.ipynb$")
_NAME_PATTERN = re.compile(r"^[A-Za-z_]\w*$")


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


# ---------------------------------------------------------------------------------------------
# Choosing notebooks and parameters


def discover(folder: Path) -> list[Path]:
    """The course notebooks ``NN_name.ipynb`` in ``folder``, in course order."""
    if not folder.is_dir():
        raise CourseError(f"notebook folder {folder} does not exist")
    found = sorted(p for p in folder.iterdir() if _NOTEBOOK_PATTERN.match(p.name))
    if not found:
        raise CourseError(f"no notebooks named NN_name.ipynb in {folder}")
    return found


def _matches(path: Path, key: str) -> bool:
    """Whether ``key`` ("04", 4 written as "4", or "04_mnist_classification") names ``path``."""
    key = key.strip()
    if key.isdigit():
        key = f"{int(key):02d}"
    return key in (path.stem[:2], path.stem, path.name)


def select(notebooks: Sequence[Path], only: Sequence[str] | None) -> list[Path]:
    """The notebooks named by ``--only`` (number prefix or full name), in course order."""
    if not only:
        return list(notebooks)
    for key in only:
        if not any(_matches(p, key) for p in notebooks):
            raise CourseError(f"--only {key}: no such notebook; choose from {', '.join(p.stem for p in notebooks)}")
    return [p for p in notebooks if any(_matches(p, key) for key in only)]


def parse_value(text: str) -> Any:
    """A ``-p`` value as papermill's ``-p`` reads it: int, float, bool, None, else the string.

    Parsed with ``yaml.safe_load`` (so ``[1, 2]`` is a list), with papermill's spellings on top:
    ``None`` is None and ``1e-3`` a float. YAML 1.1 oddities (``yes``/``on`` as booleans, dates)
    stay strings.
    """
    if text == "None":
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None:
        return None if text.strip() in ("null", "Null", "NULL", "~") else text
    if isinstance(value, str):
        try:
            return float(text)
        except ValueError:
            return value
    if isinstance(value, bool):
        return value if text.strip().lower() in ("true", "false") else text
    if isinstance(value, int):
        try:
            return int(text)
        except ValueError:  # YAML 1.1 reads 0x10, 0o7 and 12:30 as integers; papermill does not
            return text
    return value if isinstance(value, (float, list, dict)) else text


def split_scope(name: str) -> tuple[str | None, str]:
    """``"04:EPOCHS"`` -> ``("04", "EPOCHS")``; ``"EPOCHS"`` -> ``(None, "EPOCHS")``."""
    scope, sep, bare = name.rpartition(":")
    if not sep:
        scope, bare = "", name
    if not _NAME_PATTERN.match(bare) or (sep and not scope.strip()):
        raise CourseError(f"-p {name}: expected NAME or NN:NAME (e.g. EPOCHS or 04:EPOCHS)")
    return (scope.strip() or None), bare


def load_parameters_file(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Read a YAML parameters file into (parameters for every notebook, parameters per notebook).

    Top-level ``NAME: value`` pairs apply to every notebook; a top-level key naming a notebook (its
    number, quoted or not, or its full name) holds a mapping of parameters for that notebook only::

        EPOCHS: 3
        "04":
          EPOCHS: 5
          LR: 0.003
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CourseError(f"--parameters-file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CourseError(f"--parameters-file {path}: not valid YAML ({exc})") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise CourseError(f"--parameters-file {path}: expected a mapping of NAME: value, got {type(data).__name__}")
    common: dict[str, Any] = {}
    scoped: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            scope = f"{key:02d}" if isinstance(key, int) and not isinstance(key, bool) else str(key)
            for name in value:
                if not isinstance(name, str) or not _NAME_PATTERN.match(name):
                    raise CourseError(f"--parameters-file {path}: {name!r} under {key!r} is not a parameter name")
            scoped.setdefault(scope, {}).update(value)
        elif isinstance(key, str) and _NAME_PATTERN.match(key):
            common[key] = value
        else:
            raise CourseError(
                f"--parameters-file {path}: {key!r} is neither a parameter name nor a notebook with a mapping"
            )
    return common, scoped


def declared_parameters(path: Path) -> list[str]:
    """The parameter names ``path`` declares in its cell tagged ``parameters``, in order.

    Uses ``papermill.inspect_notebook``, plus the assignments papermill's pattern misses (it skips
    annotated ones such as ``DATA_DIR: str | None = None``).
    """
    with _quiet_papermill():
        names = list(papermill.inspect_notebook(str(path)))
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            with contextlib.suppress(SyntaxError):
                for node in ast.parse(cell.source).body:
                    targets = node.targets if isinstance(node, ast.Assign) else []
                    targets = [node.target] if isinstance(node, ast.AnnAssign) else targets
                    names += [t.id for t in targets if isinstance(t, ast.Name) and t.id not in names]
            break
    return names


def plan(
    notebooks: Sequence[Path],
    assignments: Sequence[tuple[str, str]] = (),
    parameters_file: Path | None = None,
    *,
    quick: bool = False,
    device: str | None = None,
    course: Sequence[Path] | None = None,
) -> dict[Path, dict[str, Any]]:
    """The parameters to inject into each notebook, checked against what each one declares.

    ``assignments`` are the raw ``-p NAME VALUE`` pairs; ``course`` (default ``notebooks``) is every
    notebook a scope such as ``04:`` may name, so that a scope for an unselected notebook is ignored
    while a scope naming no notebook at all is an error.

    Raises:
        CourseError: a scope names no notebook, or a notebook does not declare a parameter; the
            message lists the parameters each offending notebook declares.
    """
    course = list(course) if course is not None else list(notebooks)
    common, scoped = load_parameters_file(parameters_file) if parameters_file else ({}, {})
    options: dict[str, Any] = {}
    if quick:
        options["QUICK"] = True
    if device:
        options["DEVICE"] = device
    cli_common: dict[str, Any] = {}
    cli_scoped: dict[str, dict[str, Any]] = {}
    for name, text in assignments:
        scope, bare = split_scope(name)
        (cli_scoped.setdefault(scope, {}) if scope else cli_common)[bare] = parse_value(text)
    for source, scopes in (("--parameters-file", scoped), ("-p", cli_scoped)):
        for scope in scopes:
            if not any(_matches(p, scope) for p in course):
                raise CourseError(f"{source}: {scope!r} names no notebook; choose from {', '.join(p.stem for p in course)}")

    planned: dict[Path, dict[str, Any]] = {}
    problems: list[str] = []
    for path in notebooks:
        values: dict[str, Any] = dict(common)
        for scope, section in scoped.items():
            if _matches(path, scope):
                values.update(section)
        values.update(options)
        values.update(cli_common)
        for scope, section in cli_scoped.items():
            if _matches(path, scope):
                values.update(section)
        declared = declared_parameters(path)
        unknown = [name for name in values if name not in declared]
        if unknown:
            problems.append(
                f"{path.stem} does not declare {', '.join(unknown)}; it declares: "
                + (", ".join(declared) if declared else "nothing (no cell tagged 'parameters')")
            )
        planned[path] = values
    if problems:
        raise CourseError("unknown parameter(s), nothing was run:\n  " + "\n  ".join(problems))
    return planned


# ---------------------------------------------------------------------------------------------
# Running one notebook


def _drop_known_papermill_warnings(record: logging.LogRecord) -> bool:
    # plan() has checked every name with declared_parameters(), which also reads the assignments
    # papermill's line pattern cannot parse (X: str | None = None, or a comment holding a colon).
    return not record.getMessage().startswith(("Passed unknown parameter", "Unable to parse line"))


@contextlib.contextmanager
def _quiet_papermill() -> Iterator[None]:
    """Drop papermill's warnings about parameters that ``declared_parameters`` already handles."""
    loggers = [logging.getLogger("papermill"), logging.getLogger("papermill.translators")]
    for logger in loggers:
        logger.addFilter(_drop_known_papermill_warnings)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(_drop_known_papermill_warnings)


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Set ``KERNEL_ENV`` for the kernels started inside the block (restored afterwards)."""
    saved = {name: os.environ.get(name) for name in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def read_results(notebook: nbformat.NotebookNode) -> dict[str, Any] | None:
    """The ``application/json`` object displayed by the last cell tagged ``results``, else None."""
    tagged = [c for c in notebook.cells if c.cell_type == "code" and "results" in c.metadata.get("tags", [])]
    if not tagged:
        return None
    for output in tagged[-1].get("outputs", []):
        data = output.get("data", {})
        if isinstance(data.get("application/json"), dict):
            return json.loads(json.dumps(data["application/json"]))
    return None


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_failure(exc: BaseException) -> dict[str, Any]:
    """The summary's ``error``: the failing cell (execution count, else index), the first line of
    its source and the error's last line (``ename: evalue``)."""
    if isinstance(exc, PapermillExecutionError):
        source_lines = [line for line in str(exc.source).splitlines() if line.strip()]
        return {
            "cell": exc.exec_count if exc.exec_count is not None else exc.cell_index,
            "source_first_line": source_lines[0].strip() if source_lines else "",
            "error": _one_line(f"{exc.ename}: {exc.evalue}" if exc.evalue else exc.ename),
        }
    return {"cell": None, "source_first_line": "", "error": _one_line(f"{type(exc).__name__}: {exc}")}


class _ProgressLine:
    """One line per notebook: ``[2/4] 02_binary_classification ... ok 6.1 s``.

    On a terminal the elapsed time ticks while the notebook runs; elsewhere (CI, a log file) the
    line is written once at the start and completed at the end. With ``own_line`` (``--verbose``:
    papermill draws its own bar meanwhile) the start and the end are two lines.
    """

    def __init__(self, label: str, stream: TextIO, *, own_line: bool = False):
        self.label, self.stream, self.own_line = label, stream, own_line
        self.live = not own_line and stream.isatty()
        self.start = time.perf_counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _ProgressLine:
        self.stream.write(f"{self.label} ..." + ("\n" if self.own_line else " "))
        self.stream.flush()
        if self.live:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self.stream.write(f"\r{self.label} ... {time.perf_counter() - self.start:.0f} s ")
            self.stream.flush()

    def finish(self, status: str, seconds: float) -> None:
        self.close()
        prefix = f"\r{self.label} " if self.live else (f"{self.label} " if self.own_line else "")
        self.stream.write(f"{prefix}{status} {seconds:.1f} s\n")
        self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_notebook(
    source: Path, output_dir: Path, parameters: dict[str, Any], *, verbose: bool = False, exporter: Any = None
) -> Report:
    """Execute ``source`` with papermill into ``output_dir/notebooks`` and export it to HTML.

    The kernel runs in the notebook's own folder. A notebook that raises comes back as a failed
    ``Report`` (its executed notebook, error included, is still written); KeyboardInterrupt passes.
    """
    report = Report(name=source.stem, parameters=dict(parameters))
    executed_path = output_dir / "notebooks" / source.name
    html_path = output_dir / "html" / f"{source.stem}.html"
    executed_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (executed_path, html_path):  # never publish a previous run's pages as this one's
        stale.unlink(missing_ok=True)
    start = time.perf_counter()
    notebook: nbformat.NotebookNode | None = None
    try:
        with kernel_environment(), _quiet_papermill():
            notebook = papermill.execute_notebook(
                str(source),
                str(executed_path),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                cwd=str(source.parent),
                progress_bar=verbose,
                # ipykernel warns on every start that its local TCP sockets are unencrypted: noise here.
                extra_arguments=[] if verbose else ["--IPKernelApp.log_level=CRITICAL"],
            )
    except Exception as exc:  # noqa: BLE001 - any failure is reported, the next notebook still runs
        report.status, report.error = "failed", describe_failure(exc)
    finally:
        report.seconds = round(time.perf_counter() - start, 2)
    if notebook is not None:
        results = read_results(notebook)
        if results is None:
            report.status = "failed"
            report.error = {
                "cell": None,
                "source_first_line": "",
                "error": "MissingResults: no application/json output in a cell tagged 'results'",
            }
        else:
            report.status, report.results = "ok", results
    if executed_path.is_file():
        try:
            export_html(nbformat.read(executed_path, as_version=4), html_path, exporter)
        except Exception as exc:  # noqa: BLE001 - a page that cannot be exported must not lose the summary
            print(f"warning: {source.stem}: HTML export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return report


def export_html(notebook: nbformat.NotebookNode, destination: Path, exporter: Any = None) -> Path:
    """Write ``notebook`` as a standalone HTML page (figures embedded) to ``destination``."""
    if exporter is None:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter()
    body, _ = exporter.from_notebook_node(notebook)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(body, encoding="utf-8")
    return destination


# ---------------------------------------------------------------------------------------------
# Summary


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if isinstance(value, str) else repr(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(reports: Sequence[Report]) -> str:
    """A markdown table of the reports (one row per notebook), then the failures' details."""
    lines = [
        "| notebook | status | seconds | parameters | results |",
        "|---|---|---:|---|---|",
    ]
    for r in reports:
        params = ", ".join(f"{k}={_format(v)}" for k, v in r.parameters.items()) or "defaults"
        results = ", ".join(f"{k}={_format(v)}" for k, v in r.results.items()) or "-"
        lines.append(f"| {r.name} | {r.status} | {r.seconds:.1f} | {_cell(params)} | {_cell(results)} |")
    total = sum(r.seconds for r in reports)
    counts = {s: sum(r.status == s for r in reports) for s in ("ok", "failed", "skipped")}
    lines += ["", f"{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped in {total:.1f} s."]
    errors = [r for r in reports if r.error]
    if errors:
        lines += ["", "Errors:", ""]
        for r in errors:
            where = f"cell {r.error['cell']}" if r.error.get("cell") is not None else "the notebook"
            first = f" (`{r.error['source_first_line']}`)" if r.error.get("source_first_line") else ""
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


# ---------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m helpers.course`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.course", description="Batch runs of the course notebooks (papermill)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="execute the notebooks, export HTML, write summary.json and summary.md",
        description="Execute the course notebooks in order into OUTPUT/notebooks, export them to "
        "OUTPUT/html and write OUTPUT/summary.json and OUTPUT/summary.md.",
    )
    run.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (e.g. 01 04)")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="set a parameter in every notebook (EPOCHS 3) or in one (04:EPOCHS 5); repeatable",
    )
    run.add_argument("--parameters-file", type=Path, metavar="YAML",
                     help='YAML file: NAME: value for every notebook, "NN": {NAME: value} for one')
    run.add_argument("--output", type=Path, default=None, metavar="DIR", help="output folder (default: <repo>/build)")
    run.add_argument("--quick", action="store_true", help="QUICK=True: each notebook's short smoke-run settings")
    run.add_argument("--device", metavar="DEV", help="DEVICE for every notebook: auto, cpu, cuda, cuda:N, mps")
    run.add_argument("--verbose", action="store_true", help="show papermill's per-cell progress bar")
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    run.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                     help="folder of NN_name.ipynb notebooks (default: <repo>/notebooks)")
    return parser


def run_course(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    """Run ``args`` (a parsed ``run`` command), reporting to ``stream`` (default: stdout); return
    the exit status."""
    stream = stream if stream is not None else sys.stdout
    folder = (args.notebooks or repo_root() / "notebooks").resolve()
    output_dir = (args.output or repo_root() / "build").resolve()
    course = discover(folder)
    selected = select(course, args.only)
    planned = plan(
        selected, args.parameter, args.parameters_file, quick=args.quick, device=args.device, course=course
    )

    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    reports = [Report(name=p.stem, parameters=planned[p]) for p in selected]
    stream.write(f"Running {len(selected)} notebook(s) from {folder} into {output_dir}\n")
    status = 0
    index, started = 0, time.perf_counter()
    try:
        for index, path in enumerate(selected):
            started = time.perf_counter()
            with _ProgressLine(f"[{index + 1}/{len(selected)}] {path.stem}", stream, own_line=args.verbose) as line:
                reports[index] = run_notebook(path, output_dir, planned[path], verbose=args.verbose, exporter=exporter)
                line.finish(reports[index].status, reports[index].seconds)
            if reports[index].status == "failed":
                status = 1
                if args.fail_fast:
                    break
    except KeyboardInterrupt:
        stream.write("\nInterrupted (Ctrl-C): writing the summary of what finished.\n")
        if reports[index].status == "skipped":
            reports[index].seconds = round(time.perf_counter() - started, 2)
            reports[index].error = {"cell": None, "source_first_line": "", "error": "KeyboardInterrupt: stopped by Ctrl-C"}
        status = EXIT_INTERRUPTED
    markdown = write_summary(reports, output_dir)
    stream.write("\n" + markdown)
    stream.write(f"\nWrote {output_dir / 'summary.json'}, {output_dir / 'summary.md'}, "
                 f"{output_dir / 'notebooks'} and {output_dir / 'html'}\n")
    stream.flush()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m helpers.course``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return run_course(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
