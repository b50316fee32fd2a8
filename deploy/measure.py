"""What one student's kernel costs, for sizing a class (make measure). Linux: it reads /proc.

1. Each lesson in turn, Run All in a fresh kernel (nbclient, from notebooks/ as a student's kernel
   runs): the kernel process's peak resident set, ``VmHWM`` in ``/proc/<pid>/status``, and its CPU
   seconds (``/proc/<pid>/stat``), both read from outside the kernel after the last cell and before
   the kernel is shut down (kernel start and imports included), and the wall time.
2. One lesson (02 by default) run by 1, 2 and 4 students at once (one kernel each, started
   together): each run's wall time, CPU seconds and peak. The rounds are interleaved (1, 2, 4, 1, 2,
   4...) so a change in the machine's speed hits every row alike.

Every number comes with the load average read before and after it, because the machine may be
shared. Writes build/measure/measure.json and prints a Markdown table.

    .venv/bin/python -m deploy.measure [--only 04] [--rounds 2] [--students 1 2 4] [--lesson 02]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def lessons() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def kernel_usage(pid: int) -> dict:
    """The process's peak resident set (``VmHWM``, MiB) and CPU seconds (its own and its waited-for
    children's), read from ``/proc/<pid>``: what ``ps`` or a cgroup sees, not what the kernel reports."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # after "pid (comm)"
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return {"peak_rss_mib": int(status["VmHWM"].split()[0]) / 1024, "cpu_s": ticks / os.sysconf("SC_CLK_TCK")}


async def run_all(lesson: Path, timeout: float) -> dict:
    """Run All of ``lesson`` in a fresh kernel; the kernel's usage is read before it is shut down."""
    notebook = nbformat.read(lesson, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    began = time.perf_counter()
    async with client.async_setup_kernel(env=dict(os.environ, COURSE_PROGRESS="0")):
        pid = client.km.provisioner.pid
        for index, cell in enumerate(notebook.cells):  # a failing cell raises CellExecutionError
            await client.async_execute_cell(cell, index)
        usage = kernel_usage(pid)
    return {**usage, "wall_s": time.perf_counter() - began}


def measure_lessons(chosen: list[Path], timeout: float) -> list[dict]:
    rows = []
    for lesson in chosen:
        before = loadavg()
        usage = asyncio.run(asyncio.wait_for(run_all(lesson, timeout), timeout))
        rows.append({"lesson": lesson.stem, **usage, "load_before": before, "load_after": loadavg()})
        print(f"{lesson.stem}: {rows[-1]}", flush=True)
    return rows


async def at_once(lesson: Path, n: int, timeout: float) -> list[dict]:
    return await asyncio.gather(*(asyncio.wait_for(run_all(lesson, timeout), timeout) for _ in range(n)))


def measure_students(lesson: Path, counts: list[int], rounds: int, timeout: float) -> list[dict]:
    rows = []
    for r in range(rounds):
        for n in counts:
            before = loadavg()
            runs = asyncio.run(at_once(lesson, n, timeout))
            walls = [run["wall_s"] for run in runs]
            rows.append({"round": r + 1, "students": n, "wall_s": walls, "slowest_s": max(walls),
                         "cpu_s": [run["cpu_s"] for run in runs], "peak_rss_mib": [run["peak_rss_mib"] for run in runs],
                         "load_before": before, "load_after": loadavg()})
            print(f"round {r + 1}, {n} students: {rows[-1]}", flush=True)
    return rows


def table(alone: list[dict], together: list[dict]) -> str:
    lines = ["| lesson | kernel peak RSS (VmHWM, MiB) | kernel CPU s | Run All wall s | load avg before / after |",
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
    parser.add_argument("--only", nargs="+", default=None, metavar="NN",
                        help="the lessons measured alone (default: all), e.g. --only 04")
    parser.add_argument("--lesson", default="02", help="the lesson run by several students at once (default 02)")
    parser.add_argument("--students", type=int, nargs="*", default=[1, 2, 4],
                        help="students at once (default 1 2 4; none: skip this part)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-lessons", action="store_true", help="only the students-at-once part")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per run (default 1200)")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "measure")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").is_file():
        parser.error("make measure reads /proc/<pid>/status: it runs on Linux, as a class server does")
    chosen = [p for p in lessons() if args.only is None or p.name[:2] in args.only]
    lesson = next(p for p in lessons() if p.name.startswith(f"{args.lesson}_"))
    alone = [] if args.skip_lessons else measure_lessons(chosen, args.timeout)
    together = measure_students(lesson, args.students, args.rounds, args.timeout)
    shutil.rmtree(args.output, ignore_errors=True)
    args.output.mkdir(parents=True)
    result = {"cpus": os.cpu_count(), "alone": alone, "together": together, "lesson_together": lesson.stem}
    (args.output / "measure.json").write_text(json.dumps(result, indent=2))
    print(table(alone, together))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
