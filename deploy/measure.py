"""What one student's kernel costs, for sizing a class (make measure).

1. Each lesson in turn, Run All with papermill: the kernel's peak memory (RSS) and CPU seconds,
   read inside the kernel with ``getrusage`` by one cell appended to a copy of the lesson (kernel
   start and imports included), and the wall time.
2. One lesson (02 by default) run by 1, 2 and 4 students at once (one papermill and one kernel
   each, started together): each run's wall time. The rounds are interleaved (1, 2, 4, 1, 2, 4...)
   so a change in the machine's speed hits every row alike.

Every number comes with the load average read before and after it, because the machine may be
shared. Writes build/measure/measure.json and prints a Markdown table.

    .venv/bin/python -m deploy.measure [--rounds 2] [--students 1 2 4] [--lesson 02]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
MARK = "COURSE_MEASURE "
PROBE = (
    "import json, resource\n"
    "_self, _kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    f"print({MARK!r} + json.dumps({{'peak_rss_mib': _self.ru_maxrss / 1024, "
    "'cpu_s': _self.ru_utime + _self.ru_stime + _kids.ru_utime + _kids.ru_stime}))"
)


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def with_probe(lesson: Path, folder: Path, tag: str) -> Path:
    """A copy of ``lesson`` in ``folder`` with the measuring cell appended."""
    nb = nbformat.read(lesson, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    path = folder / f"{lesson.stem}.{tag}.ipynb"
    nbformat.write(nb, path)
    return path


def start(notebook: Path) -> subprocess.Popen:
    """papermill on ``notebook``, run from notebooks/ as a student's kernel would be."""
    env = dict(os.environ, COURSE_PROGRESS="0")
    out = notebook.with_suffix(".out.ipynb")
    return subprocess.Popen([sys.executable, "-m", "papermill", str(notebook), str(out), "--cwd",
                             str(ROOT / "notebooks"), "-k", "python3"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, notebook: Path, timeout: float) -> dict:
    _, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"{notebook.name} failed:\n{err[-3000:]}")
    out = nbformat.read(notebook.with_suffix(".out.ipynb"), as_version=4)
    text = "".join(o.get("text", "") for o in out.cells[-1].outputs)
    return json.loads(text.split(MARK, 1)[1])


def measure_lessons(folder: Path, timeout: float) -> list[dict]:
    rows = []
    for lesson in lessons():
        notebook = with_probe(lesson, folder, "alone")
        before, began = loadavg(), time.perf_counter()
        probe = finish(start(notebook), notebook, timeout)
        rows.append({"lesson": lesson.stem, **probe, "wall_s": time.perf_counter() - began,
                     "load_before": before, "load_after": loadavg()})
        print(f"{lesson.stem}: {rows[-1]}", flush=True)
    return rows


def measure_students(lesson: Path, counts: list[int], rounds: int, folder: Path, timeout: float) -> list[dict]:
    rows = []
    for r in range(rounds):
        for n in counts:
            notebooks = [with_probe(lesson, folder, f"r{r}s{n}k{k}") for k in range(n)]
            before, began = loadavg(), time.perf_counter()
            procs = [start(nb) for nb in notebooks]
            ended: dict[int, float] = {}
            while len(ended) < n and time.perf_counter() - began < timeout:
                for k, proc in enumerate(procs):
                    if k not in ended and proc.poll() is not None:
                        ended[k] = time.perf_counter() - began
                time.sleep(0.2)
            probes = [finish(proc, nb, timeout) for proc, nb in zip(procs, notebooks, strict=True)]
            walls = [ended.get(k, timeout) for k in range(n)]
            rows.append({"round": r + 1, "students": n, "wall_s": walls, "slowest_s": max(walls),
                         "cpu_s": [p["cpu_s"] for p in probes], "load_before": before, "load_after": loadavg()})
            print(f"round {r + 1}, {n} students: {rows[-1]}", flush=True)
    return rows


def table(alone: list[dict], together: list[dict]) -> str:
    lines = ["| lesson | kernel peak RSS (MiB) | kernel CPU s | Run All wall s | load avg before / after |",
             "|---|---:|---:|---:|---|"]
    lines += [f"| {r['lesson']} | {r['peak_rss_mib']:.0f} | {r['cpu_s']:.1f} | {r['wall_s']:.1f} | "
              f"{r['load_before']:.2f} / {r['load_after']:.2f} |" for r in alone]
    lines += ["", "| students at once | round | slowest Run All s | each (s) | load avg before / after |",
              "|---:|---:|---:|---|---|"]
    lines += [f"| {r['students']} | {r['round']} | {r['slowest_s']:.1f} | {', '.join(f'{w:.1f}' for w in r['wall_s'])}"
              f" | {r['load_before']:.2f} / {r['load_after']:.2f} |" for r in together]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lesson", default="02", help="the lesson run by several students at once (default 02)")
    parser.add_argument("--students", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-lessons", action="store_true", help="only the students-at-once part")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per run (default 1200)")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "measure")
    args = parser.parse_args(argv)
    shutil.rmtree(args.output, ignore_errors=True)
    args.output.mkdir(parents=True)
    lesson = next(p for p in lessons() if p.name.startswith(f"{args.lesson}_"))
    alone = [] if args.skip_lessons else measure_lessons(args.output, args.timeout)
    together = measure_students(lesson, args.students, args.rounds, args.output, args.timeout)
    result = {"cpus": os.cpu_count(), "alone": alone, "together": together, "lesson_together": lesson.stem}
    (args.output / "measure.json").write_text(json.dumps(result, indent=2))
    print(table(alone, together))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
