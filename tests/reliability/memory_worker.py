"""Runs `campaign` commands for the hostile-input tests and measures each one's peak memory.

Started once per test module (importing the program takes seconds), it reads one JSON request
per line, ``{"args": [...], "unprivileged": false}``, and answers one JSON line:
``{"exit_code", "output", "error", "peak_bytes"}``. Each command runs in a child forked for it,
so that its peak resident memory is its own (ru_maxrss starts from what the child shares), and
a command that blows up cannot take the worker or the machine with it: the child's address
space is capped (Linux), so a runaway allocation fails with MemoryError instead.

This process has no threads, which is what makes forking it safe.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from scheduler.cli import main as campaign

ADDRESS_SPACE_HEADROOM = 4 * 2**30
"""How much more address space a child may map than the worker had: far above any bound the
tests assert, far below what would make the machine swap."""

NOBODY = 65534


def serve() -> None:
    _warm_up()
    for line in sys.stdin:
        request = json.loads(line)
        answer = run_forked(request["args"], unprivileged=request.get("unprivileged", False))
        print(json.dumps(answer), flush=True)


def _warm_up() -> None:
    """Run each command once here, so that every child inherits the modules they import
    lazily (previews, migrations, the PostgreSQL driver) instead of importing them again."""
    import psycopg  # noqa: F401  (imported on the first PostgreSQL connection otherwise)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the builders
    from campaign_builders import write_campaign

    with tempfile.TemporaryDirectory() as folder:
        file = str(write_campaign(Path(folder)))
        database = str(Path(folder) / "warm.db")
        for args in (
            ["validate", file],
            ["preview", file, "-f", "json"],
            ["sync", file, "--database", database, "--dry-run"],
            ["sync", file, "--database", database],
        ):
            CliRunner().invoke(campaign, args)


def run_forked(args: list[str], *, unprivileged: bool) -> dict[str, Any]:
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, and leave without running any cleanup of the parent
        os.close(reading)
        with os.fdopen(writing, "w") as report:
            json.dump(_run(args, unprivileged), report)
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as report:
        text = report.read()  # before waiting: a large report would fill the pipe
    _, status = os.waitpid(pid, 0)
    if not text:
        return {"exit_code": None, "output": "", "error": f"child ended: status {status}"}
    answer: dict[str, Any] = json.loads(text)
    return answer


def _run(args: list[str], unprivileged: bool) -> dict[str, Any]:
    _cap_address_space()
    if unprivileged and os.geteuid() == 0:
        # root reads any file: to see "permission denied", become nobody (the child only).
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        result = CliRunner().invoke(campaign, args, prog_name="campaign")
    except BaseException:  # the runner catches almost everything; this is for the rest
        return {"exit_code": None, "output": "", "error": traceback.format_exc(), "peak_bytes": 0}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start
    error = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
    return {
        "exit_code": result.exit_code,
        "output": result.output[-20_000:],
        "error": error,
        "peak_bytes": peak if sys.platform == "darwin" else peak * 1024,
    }


def _cap_address_space() -> None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            sizes = [line.split()[1] for line in status if line.startswith("VmSize:")]
    except OSError:
        return  # not Linux: no cap, the bounds are still checked
    limit = int(sizes[0]) * 1024 + ADDRESS_SPACE_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


if __name__ == "__main__":
    serve()
