"""The benchmarks' quick subset: each one runs, at a size that takes seconds, as its documented
command, and prints its table. Nothing here looks at a time (the figures are for people, in
docs/performance.md); what is checked is that each benchmark still works end to end against
the current code, and what must hold at any speed: every post reached its fake, none twice,
none early.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from store_fixtures import POSTGRES_ADMIN_URL

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
HANG = 600.0
"""Seconds: only catches a benchmark that hangs; a loaded machine may be slow."""
pytestmark = pytest.mark.slow


def run_bench(script: str, *args: str) -> str:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=HANG,
        env=environment,
        cwd=ROOT,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr
    return finished.stdout


def cells(line: str) -> list[str]:
    """A table line's cells, for plain (``a | b``) and Markdown (``| a | b |``) tables."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def row(output: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for line in output.splitlines():
        if cells(line)[0] == first:
            return cells(line)
    raise AssertionError(f"no row {first!r} in:\n{output}")


def column(output: str, header: str, first: str) -> str:
    """The cell under ``header`` in the row whose first cell is ``first``."""
    for line in output.splitlines():
        if header in cells(line):
            return row(output, first)[cells(line).index(header)]
    raise AssertionError(f"no column {header!r} in:\n{output}")


def test_every_benchmark_is_documented_with_its_command() -> None:
    performance = (ROOT / "docs" / "performance.md").read_text("utf-8")
    index = (BENCH / "README.md").read_text("utf-8")
    for script in sorted(BENCH.glob("*.py")):
        if script.name == "daemon_world.py":  # the daemon benchmarks' library, not a command
            continue
        assert f"python bench/{script.name}" in performance, script.name
        assert f"bench/{script.name}" in index, script.name


def test_burst_sends_every_post_once() -> None:
    output = run_bench("burst.py", "--embassies", "3", "--latency", "0.01", "--lead", "5")
    assert column(output, "duplicates", "9") == "0"
    assert "states: {'sent': 9}" in output
    assert "at the fakes: {'x': 3, 'mastodon': 3, 'bluesky': 3}" in output


def test_punctuality_sends_nothing_early() -> None:
    output = run_bench("punctuality.py", "--embassies", "3", "--window", "5", "--lead", "5")
    assert column(output, "early", "9") == "0"
    assert column(output, "duplicates", "9") == "0"


@pytest.mark.usefixtures("postgres_server")  # skipped without PostgreSQL (failed in CI)
def test_scale_out_shares_the_posts_without_duplicates() -> None:
    output = run_bench("scaleout.py", "--embassies", "3", "--daemons", "1,2", "--lead", "5")
    for daemons in ("1", "2"):
        assert column(output, "at the fakes", daemons) == "9"
        assert column(output, "duplicates", daemons) == "0"


def test_idle_compares_the_daemon_with_apschedulers_job_store() -> None:
    output = run_bench(
        "idle.py", "--pending", "300", "--window", "1", "--settle", "1", "--add-sample", "10"
    )
    assert row(output, "campaign run")
    assert row(output, "APScheduler 3.11 SQLAlchemyJobStore")
    assert re.search(r"APScheduler add_job: [\d.]+ ms each over 10", output)


def test_accounts_rss_reports_each_size() -> None:
    output = run_bench("accounts_rss.py", "--embassies", "2,3")
    assert column(output, "RSS after", "6").endswith("MB")
    assert column(output, "RSS per added account", "9").endswith("KB")


def test_planning_compares_with_the_libyaml_parse() -> None:
    output = run_bench("plan_bench.py", "--sizes", "2", "--repeat", "1")
    assert re.search(r"ratio validate \+ plan / CSafeLoader parse \(goal <= 10x\) +[\d.]+x", output)
    assert re.search(r"campaign preview -f json: peak RSS \(MB, goal <= 300\) +\d+", output)


@pytest.mark.usefixtures("postgres_server")
def test_sync_measures_sqlite_and_postgresql() -> None:
    output = run_bench("sync_bench.py", "--deliveries", "600", "--postgres", POSTGRES_ADMIN_URL)
    assert column(output, "changes", "first sync, empty SQLite file") == "768 added"
    assert column(output, "changes", "again, nothing changed (SQLite)") == "768 unchanged"
    assert column(output, "changes", "3 posts edited (SQLite)") == "24 updated, 744 unchanged"
    assert column(output, "changes", "first sync, empty PostgreSQL database") == "768 added"


def test_startup_times_every_command() -> None:
    output = run_bench("startup.py", "--runs", "1", "--file", "campaigns.yaml")
    for command in ("campaign --help", "campaign validate campaigns.yaml", "campaign status"):
        assert command in output, command


def test_secrets_load_and_preview_size() -> None:
    assert row(run_bench("secrets_load.py", "20"), "20")
    assert "images" in run_bench("preview_html_size.py")
