"""Sync benchmark: how long `campaign sync` of a large campaign takes, and how much memory.

Generates the planning benchmark's campaign (bench/plan_bench.py) at about N deliveries, then
runs each case in a fresh Python process, as `campaign sync` would:

- first sync into an empty SQLite file;
- the same file synced again, nothing changed;
- the file with a few posts edited (each edit changes that post's copy for every account);
- the first sync into an empty PostgreSQL database (one made for the run, dropped after).

Each case prints the whole process's wall time, CPU time (user + system) and peak RSS, and,
inside the process, the plan (validate + plan, what every command pays) apart from the store's
own share (the transaction: compare, write, commit), so that what sync adds is visible.

Usage: python bench/sync_bench.py [--deliveries 100000] [--postgres URL | --no-postgres]
       [--profile N] [--keep DIR]
See docs/performance.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_bench import PLATFORMS, POSTS_PER_ACCOUNT, write_campaign

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
EDITED_POSTS = ("d01-morning", "d05-midday", "d10-afternoon")
"""Posts whose English text the edited file changes: each sends ~3 copies per embassy."""
EDIT_MARK = "Updated: "


# --- The campaigns ----------------------------------------------------------------------------


def embassies_for(deliveries: int) -> int:
    """The planner makes 64 deliveries per account (threads of 2 replace 2 posts), 3 accounts
    per embassy."""
    return max(1, math.ceil(deliveries / (POSTS_PER_ACCOUNT * len(PLATFORMS))))


def write_edited(original: Path) -> Path:
    """A copy of ``original`` beside it (same media folder) with :data:`EDITED_POSTS`' English
    text changed."""
    lines = original.read_text("utf-8").splitlines()
    post: str | None = None
    in_text = False
    for number, line in enumerate(lines):
        if line.startswith("  - id: "):
            post, in_text = line.removeprefix("  - id: "), False
        elif post in EDITED_POSTS and line == "    text:":
            in_text = True
        elif in_text and line.startswith('      en: "'):
            lines[number] = line.replace('en: "', f'en: "{EDIT_MARK}', 1)
            in_text = False
    edited = original.with_name("campaign-edited.yaml")
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return edited


# --- One case, in a fresh process -------------------------------------------------------------


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _timed(figures: dict[str, float], name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), _cpu()
    yield
    figures[f"{name}_s"] = time.perf_counter() - wall
    figures[f"{name}_cpu_s"] = _cpu() - cpu
    figures[f"{name}_rss_mb"] = _peak_rss_mb()


class Steps:
    """The store's steps, as sync tells its progress display: the CPU time each took."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = [("open the database", _cpu())]

    def __call__(self, label: str) -> None:
        self.marks.append((label, _cpu()))

    def cpu_seconds(self) -> dict[str, float]:
        """Each step's CPU seconds, by what it does: a step ends where the next begins."""
        pairs = zip(self.marks, self.marks[1:], strict=False)
        return {label: end - start for (label, start), (_, end) in pairs if label}


def run_case(path: Path, database: str, profile_top: int) -> dict[str, Any]:
    """What `campaign sync` does: validate and plan, then one transaction."""
    figures: dict[str, float] = {}
    with _timed(figures, "imports"):
        from scheduler.service.sync import sync_valid
        from scheduler.service.validation import valid_file
        from scheduler.store.database import open_database
    with _timed(figures, "plan"):
        valid = valid_file(path)
    profiler = cProfile.Profile() if profile_top else None
    with _timed(figures, "store"):
        steps = Steps()
        opened = open_database(database)
        if profiler:
            profiler.enable()
        try:
            report, _ = sync_valid(valid, opened, actor="bench", step=steps)
            steps("done")
        finally:
            if profiler:
                profiler.disable()
            opened.close()
    counts = {str(kind): n for kind, n in report.counts().items()}
    result: dict[str, Any] = {
        "deliveries": len(valid.plan.deliveries) if valid.plan else 0,
        "counts": counts,
        "unchanged": report.unchanged,
        "cpu_s": _cpu(),
        "figures": figures,
        "steps": steps.cpu_seconds(),
    }
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(profile_top)
        stats.sort_stats("cumulative").print_stats(profile_top)
        result["profile"] = out.getvalue()
    return result


@dataclass(frozen=True)
class Case:
    label: str
    file: Path
    database: str


@dataclass(frozen=True)
class Outcome:
    case: Case
    wall_s: float
    figures: dict[str, Any]


def _run(case: Case, profile_top: int) -> Outcome:
    command = [sys.executable, __file__, "--child", str(case.file), "--database", case.database]
    if profile_top:
        command += ["--profile", str(profile_top)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{case.label}: the sync process failed:\n{done.stderr}{done.stdout}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if "profile" in figures:
        print(f"== cProfile of the store's share: {case.label}\n{figures['profile']}")
    print(f"{case.label}: done in {wall:.1f} s", file=sys.stderr, flush=True)
    return Outcome(case, wall, figures)


# --- Reporting --------------------------------------------------------------------------------


def _changes(figures: dict[str, Any]) -> str:
    parts = [f"{n:,} {kind}" for kind, n in sorted(figures["counts"].items())]
    if figures["unchanged"]:
        parts.append(f"{figures['unchanged']:,} unchanged")
    return ", ".join(parts) or "none"


def table(outcomes: list[Outcome]) -> str:
    head = (
        "| case | process wall | process CPU | plan (validate + plan) | store (transaction) "
        "| store / plan | peak RSS | RSS after plan | changes |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for outcome in outcomes:
        f = outcome.figures["figures"]
        lines.append(
            f"| {outcome.case.label} | {outcome.wall_s:.1f} s | {outcome.figures['cpu_s']:.1f} s "
            f"| {f['plan_s']:.1f} s ({f['plan_cpu_s']:.1f} s CPU) "
            f"| {f['store_s']:.1f} s ({f['store_cpu_s']:.1f} s CPU) "
            f"| {f['store_s'] / f['plan_s']:.2f}x | {f['store_rss_mb']:.0f} MB "
            f"| {f['plan_rss_mb']:.0f} MB | {_changes(outcome.figures)} |"
        )
    lines.append("")
    lines.append("The store's share, step by step (CPU seconds):")
    for outcome in outcomes:
        steps = ", ".join(
            f"{label} {seconds:.1f}"
            for label, seconds in outcome.figures["steps"].items()
            if seconds >= 0.05
        )
        lines.append(f"- {outcome.case.label}: {steps}")
    return "\n".join(lines)


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=100_000, help="about this many")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL, help="server (admin) URL")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite cases only")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile top N")
    parser.add_argument("--keep", type=Path, help="write the campaign and database here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_case(args.child, args.database, args.profile)))
        return
    load_before = _load()
    embassies = embassies_for(args.deliveries)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as scratch:
        root = args.keep or Path(scratch)
        path = write_campaign(root / "campaign", embassies)
        edited = write_edited(path)
        sqlite = str(root / "campaign.db")
        Path(sqlite).unlink(missing_ok=True)
        cases = [
            Case("first sync, empty SQLite file", path, sqlite),
            Case("again, nothing changed (SQLite)", path, sqlite),
            Case(f"{len(EDITED_POSTS)} posts edited (SQLite)", edited, sqlite),
        ]
        outcomes = [_run(case, args.profile) for case in cases]
        if not args.no_postgres:
            from daemon_world import (
                postgres_database,
            )  # the daemon benchmarks' world: not in a case

            with postgres_database(args.postgres) as url:
                case = Case("first sync, empty PostgreSQL database", path, url)
                outcomes.append(_run(case, args.profile))
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; {embassies} embassies, "
        f"{outcomes[0].figures['deliveries']:,} deliveries"
    )
    print(f"load average (1, 5, 15 min): before {load_before}, after {_load()}")
    print()
    print(table(outcomes))


if __name__ == "__main__":
    main()
