"""Hostile YAML and hostile files: a clear message, no traceback, bounded memory, store unchanged.

Every case of hostile_corpus.py goes through validate, preview and sync (and sync --dry-run
when the file is valid), each in a process forked for it (memory_worker.py), which measures its
peak memory. The case's
message must be printed, at its line when it has one, on every line naming the file; a refused
file must leave a seeded store exactly as it was, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from scheduler.campaign import sourcemap
from scheduler.campaign.sourcemap import parse_yaml

from .harness import ACTOR, FIGURES, FULL, SIZE_ENV, count
from .hostile_corpus import CORPUS, MARKER, MIB, Hostile
from .stores import PostgresStore, SeededStore, SqliteStore

WORKER = Path(__file__).with_name("memory_worker.py")


class Worker:
    """The memory worker, one request and one answer at a time."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=folder,  # where a tag that ran a shell command would leave its MARKER
        )

    def run(self, args: list[str], *, unprivileged: bool = False) -> dict[str, Any]:
        request, answers = self._pipes()
        request.write(json.dumps({"args": args, "unprivileged": unprivileged}) + "\n")
        request.flush()
        answer: dict[str, Any] = json.loads(answers.readline())
        return answer

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        return self.process.stdin, self.process.stdout

    def close(self) -> None:
        self._pipes()[0].close()
        self.process.wait()
        self._pipes()[1].close()


@pytest.fixture(scope="module")
def worker(campaign_folder: Path) -> Iterator[Worker]:
    started = Worker(campaign_folder)
    yield started
    started.close()


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_hostile_input_on_sqlite(
    case: Hostile, campaign_folder: Path, worker: Worker, seeded_sqlite: SqliteStore
) -> None:
    skip_unless_full(case)
    target = case.make(campaign_folder / case.name)
    validated = run(worker, case, ["validate", str(target)])
    if case.line is not None:
        assert f"{target}:{case.line}:" in validated["output"], validated["output"]
    run(worker, case, ["preview", str(target), "-f", "json"])
    check_sync(worker, case, target, seeded_sqlite)
    assert not (campaign_folder / MARKER).exists(), "a YAML tag ran a shell command"
    count("hostile YAML, SQLite", "cases", "accepted" if case.exit_code == 0 else "refused")


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_hostile_input_on_postgres(
    case: Hostile, campaign_folder: Path, worker: Worker, seeded_postgres: PostgresStore
) -> None:
    skip_unless_full(case)
    target = case.make(campaign_folder / "postgres" / case.name)
    check_sync(worker, case, target, seeded_postgres)
    count("hostile YAML, PostgreSQL", "cases", "accepted" if case.exit_code == 0 else "refused")


def test_the_value_limit_stops_before_building_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    """What '20-mb-of-tiny-values' checks in a full run, with the limit made small."""
    monkeypatch.setattr(sourcemap, "MAX_NODES", 1_000)
    text = "tags: [" + "g7, " * 5_000 + "g7]\n"
    problems = [str(problem) for problem in parse_yaml(text, "f.yaml").problems]
    assert problems == [
        "f.yaml:1:3996: error: (top level): the file holds more than 1,000 values; expected "
        "a campaign of a reasonable size (a 2,000-embassy campaign holds about 85,000)"
    ]


def skip_unless_full(case: Hostile) -> None:
    if case.full_only and not FULL:
        pytest.skip(f"minutes of parsing: run with {SIZE_ENV}=full")


def check_sync(worker: Worker, case: Hostile, target: Path, store: SeededStore) -> None:
    """A refused file changes nothing (a dry run fails the same way, before any transaction);
    an accepted one is written, and a dry run of it first writes nothing."""
    sync = ["sync", str(target), "--database", store.target, "--as", ACTOR]
    if case.unprivileged and isinstance(store, SqliteStore):
        store.open_to_everyone()
    if case.exit_code == 0:
        run(worker, case, [*sync, "--dry-run"])
        assert store.dump() == store.seeded, "a dry run changed the store"
        run(worker, case, sync)
        store.reset()
        return
    run(worker, case, sync)
    assert store.dump() == store.seeded, "a refused file changed the store"


def run(worker: Worker, case: Hostile, args: list[str]) -> dict[str, Any]:
    """One command on the case, held to the promises every command makes."""
    answer = worker.run(args, unprivileged=case.unprivileged)
    assert answer["error"] is None, answer["error"]
    output: str = answer["output"]
    assert "Traceback" not in output, output
    assert answer["exit_code"] == case.exit_code, (answer["exit_code"], output)
    if case.exit_code != 0 or args[0] == "validate":
        assert case.says in output, output
    if case.exit_code == 1:
        target = args[1]
        for line in output.splitlines():
            assert line.startswith(f"{target}:") or line.startswith("("), (line, output)
    peak = answer["peak_bytes"]
    assert peak < case.memory_mib * MIB, f"{args[0]}: {peak / MIB:.0f} MiB"
    _record_peak(case.name, peak)
    return answer


def _record_peak(name: str, peak: int) -> None:
    peaks = FIGURES.setdefault("hostile YAML: peak memory of one command, MiB", Counter())
    peaks[name] = max(peaks[name], round(peak / MIB))
