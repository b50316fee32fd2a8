"""Sweep seeds: run lessons at many ``SEED`` values and report every self-check and result.

    python -m instructor.seeds --only 02 --seeds 0-29          # make seeds ARGS="--only 02 --seeds 0-29"
    python -m instructor.seeds --only 01 04 --seeds 30-59 --jobs 2

A lesson's self-check asserts every claim its prose makes about a run, so a seed whose run fails
is a claim that does not hold for that split. Writes ``build/seeds/<lesson>.json`` (per seed: status,
error, results) and prints one line per lesson: how many seeds passed, and the failing ones.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat

from instructor.run import (
    KERNEL_ENV,
    ROOT,
    CourseError,
    describe_failure,
    discover,
    execute,
    parse_value,
    read_results,
    select,
)


def seed_range(text: str) -> list[int]:
    """``"0-29"`` -> 0..29; ``"3,7,40-42"`` -> [3, 7, 40, 41, 42]."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def run_seed(path: Path, seed: int, parameters: dict[str, Any]) -> dict[str, Any]:
    """One papermill run of ``path`` at ``seed``: ``{"seed", "status", "error", "results"}``."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            executed = execute(path, Path(folder) / path.name, {**parameters, "SEED": seed})
            return {"seed": seed, "status": "ok", "error": None, "results": read_results(executed)}
        except Exception as exc:  # noqa: BLE001 - a failing seed is the finding, not a crash
            partial = Path(folder) / path.name
            results = read_results(nbformat.read(partial, as_version=4)) if partial.is_file() else None
            return {"seed": seed, "status": "failed", "error": describe_failure(exc), "results": results}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="lessons to sweep, e.g. 01 03 (default: all lessons)")
    parser.add_argument("--seeds", default="0-29", help="seeds, e.g. 0-29 or 3,7,40-42 (default 0-29)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--output", type=Path, default=Path("build/seeds"))
    args = parser.parse_args(argv)
    try:
        selected = select(discover(ROOT / "notebooks"), args.only)
        lessons = {name: path for name, path in selected.items() if "solutions/" not in name}
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.environ.update(KERNEL_ENV)
    parameters = {name: parse_value(value) for name, value in args.parameter}
    args.output.mkdir(parents=True, exist_ok=True)
    failed, seeds = 0, seed_range(args.seeds)
    for name, path in lessons.items():
        with ThreadPoolExecutor(args.jobs) as pool:
            runs = list(pool.map(run_seed, [path] * len(seeds), seeds, [parameters] * len(seeds)))
        (args.output / f"{name}.json").parent.mkdir(parents=True, exist_ok=True)
        (args.output / f"{name}.json").write_text(json.dumps(runs, indent=1))
        bad = [r for r in runs if r["status"] != "ok"]
        failed += len(bad)
        print(f"{name}: {len(runs) - len(bad)}/{len(runs)} seeds passed"
              + "".join(f"\n  SEED {r['seed']}: {r['error']['error']}" for r in bad))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
