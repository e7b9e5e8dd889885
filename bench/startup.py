"""Start-up benchmark: how long a command takes before it does anything, and how much it loads.

Runs each case in a fresh Python process, N times, the cases taken in turn so that a change in
the machine's load falls on all of them alike; prints the median wall time, its ratio to
``python -c pass`` measured in the same run, and the number of modules the case leaves loaded
(counted in one more run of its own, so that counting costs the timed runs nothing).

Usage: python bench/startup.py [--runs N] [--file campaigns.yaml]
`campaign status` and `campaign report` read a database synced from that file in a temporary
folder (the sync itself is not timed).
The code measured is whatever ``scheduler`` the interpreter imports: set PYTHONPATH to measure
another checkout (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    label: str
    code: str


def _campaign(*args: str) -> str:
    """What the `campaign` console script runs, with these arguments."""
    return (
        "import sys\n"
        "from scheduler.cli import main\n"
        f"sys.argv = ['campaign', *{list(args)!r}]\n"
        "main()\n"
    )


def cases(file: Path, database: Path) -> list[Case]:
    """``database``: synced from ``file`` already, for the commands that read the store."""
    return [
        Case("python -c pass", "pass"),
        Case("python -c 'import adapters'", "import adapters"),
        Case("campaign --help", _campaign("--help")),
        Case(f"campaign validate {file.name}", _campaign("validate", str(file))),
        Case(
            f"campaign preview {file.name} -f json", _campaign("preview", str(file), "-f", "json")
        ),
        Case("campaign status", _campaign("status", "--database", str(database))),
        Case(
            "campaign report -f json",
            _campaign("report", "-f", "json", "--database", str(database)),
        ),
    ]


def synced_database(file: Path, folder: Path) -> Path:
    """A database in ``folder`` synced from ``file``, as `campaign sync` makes it."""
    database = folder / "campaign.db"
    done = _run(_campaign("sync", str(file), "--database", str(database)))
    if done.returncode != 0:
        raise SystemExit(f"campaign sync {file} failed:\n{done.stderr}")
    return database


def _run(code: str) -> subprocess.CompletedProcess[str]:
    # Output goes to /dev/null, as `> /dev/null` would send it: the figures are start-up and
    # work, not a terminal's drawing.
    return subprocess.run(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        check=False,
    )


def wall_time(code: str) -> float:
    start = time.perf_counter()
    _run(code)
    return time.perf_counter() - start


def modules_loaded(code: str) -> int:
    counting = (
        f"import sys\ntry:\n    exec({code!r})\nfinally:\n"
        "    print(len(sys.modules), file=sys.stderr)\n"
    )
    return int(_run(counting).stderr.strip().splitlines()[-1])


def measure(all_cases: list[Case], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {case.label: [] for case in all_cases}
    for _ in range(runs):
        for case in all_cases:
            times[case.label].append(wall_time(case.code))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per case (default 10)")
    parser.add_argument("--file", type=Path, default=ROOT / "campaigns.yaml")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as folder:
        file = options.file.resolve()
        all_cases = cases(file, synced_database(file, Path(folder)))
        load_before = os.getloadavg()
        times = measure(all_cases, options.runs)
        load_after = os.getloadavg()
        modules = {case.label: modules_loaded(case.code) for case in all_cases}
    baseline = statistics.median(times[all_cases[0].label])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {options.runs} runs a case")
    print(
        "load average (1, 5, 15 min): before " + _load(load_before) + ", after " + _load(load_after)
    )
    print()
    print(f"| {'command':<42} | {'median wall':>11} | {'x pass':>6} | {'modules':>7} |")
    print(f"|{'-' * 44}|{'-' * 12}:|{'-' * 7}:|{'-' * 8}:|")
    for case in all_cases:
        median = statistics.median(times[case.label])
        print(
            f"| {case.label:<42} | {median * 1000:>8.0f} ms | {median / baseline:>6.1f} | "
            f"{modules[case.label]:>7} |"
        )


def _load(average: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.2f}" for value in average)


if __name__ == "__main__":
    main()
