"""Generated campaign files: thousands of near-valid files through validate, preview and sync.

For every file, whatever is in it: a documented exit code and no traceback; validate, preview and
sync agree on whether it is valid; every problem names the file, and the line where there is
one. A refused file leaves the store exactly as it was. A valid one syncs whole: the store then
holds as many live deliveries as preview shows, and syncing it again changes nothing.
"""

from __future__ import annotations

import gc
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from hypothesis import given

from scheduler.service import validation as validation_service

from .campaign_strategies import CampaignCase, campaign_files
from .harness import (
    ACTOR,
    FIGURES,
    assert_clean,
    assert_lines_name_the_file,
    count,
    explore,
    invoke,
    sized,
)
from .hostile_corpus import billion_laughs
from .stores import PostgresStore, SeededStore, SqliteStore

GENERATED = sized(quick=100, full=10_000)
ON_POSTGRES = sized(quick=10, full=500)
CYCLES = sized(quick=20, full=200)
WARM_UP = 100
"""Cycles that fill the caches first (pydantic's, the text-length cache): they retain memory
for the first few dozen runs, then stop growing."""

WHOLE_FILE_CODES = {"file-not-found", "file-unreadable", "file-too-large", "empty-file"}
"""Problems about the file as a whole, which have no line to point at."""


@explore(GENERATED)
@given(case=campaign_files())
def test_generated_files_on_sqlite(
    case: CampaignCase, campaign_folder: Path, seeded_sqlite: SqliteStore
) -> None:
    check_case(case, campaign_folder, seeded_sqlite, "generated files, SQLite")


@explore(ON_POSTGRES)
@given(case=campaign_files())
def test_generated_files_on_postgres(
    case: CampaignCase, campaign_folder: Path, seeded_postgres: PostgresStore
) -> None:
    check_case(case, campaign_folder, seeded_postgres, "generated files, PostgreSQL")


def test_reading_files_again_and_again_retains_nothing(campaign_folder: Path) -> None:
    """A process that validates thousands of files (this harness, a web dashboard) must not
    keep what it read. Measured below the CLI: click's test runner keeps each call's output."""
    accepted = campaign_folder / "seed.yaml"
    refused = campaign_folder / "refused.yaml"
    refused.write_text(accepted.read_text().replace("  day: 1\n", "  day: 99\n"))
    hostile = campaign_folder / "laughs.yaml"
    hostile.write_text(billion_laughs())

    def cycle() -> list[validation_service.Validation]:
        validations = [
            validation_service.validate_file(file) for file in (accepted, refused, hostile)
        ]
        assert [validation.ok for validation in validations] == [True, False, False]
        return validations

    for _ in range(WARM_UP):
        cycle()
    per_cycle = retained_by(cycle, CYCLES) / CYCLES
    kept: list[validation_service.Validation] = []
    one_cycle_kept = retained_by(lambda: kept.extend(cycle()), 1)
    FIGURES.setdefault("reading files again and again", Counter()).update(
        {
            "cycles": CYCLES,
            "memory blocks retained per cycle": round(per_cycle, 1),
            "memory blocks of one cycle's results, kept": one_cycle_kept,
        }
    )
    # Keeping what was read would retain a whole cycle's results each time; the little that
    # stays is the interpreter's own bookkeeping (interned names, type caches).
    assert per_cycle < one_cycle_kept / 50, f"{per_cycle:.1f} blocks retained per cycle"


def retained_by(action: Callable[[], object], times: int) -> int:
    """Memory blocks still allocated after ``times`` runs of ``action``: a count, unlike a time,
    that does not depend on the machine."""
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(times):
        action()
    gc.collect()
    return sys.getallocatedblocks() - before


def check_case(case: CampaignCase, folder: Path, store: SeededStore, scenario: str) -> None:
    file = folder / "generated.yaml"
    file.write_bytes(case.content)
    validated = invoke("validate", "--json", str(file))
    assert_clean(validated, (0, 1))
    report = validation_report(validated, file)
    previewed = invoke("preview", str(file), "-f", "json")
    assert_clean(previewed, (validated.exit_code,))
    if validated.exit_code == 0:
        check_accepted(file, report, previewed, store)
        count(scenario, "files", "valid")
    else:
        check_refused(file, previewed, store)
        count(scenario, "files", "refused")
        count(f"{scenario}: problem codes", *{p["code"] for p in report["problems"]})


def validation_report(result: Result, file: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["file"] == str(file)
    assert report["ok"] is (result.exit_code == 0)
    for problem in report["problems"]:
        assert problem["file"] == str(file), problem
        assert problem["message"] and "\n" not in problem["message"], problem
        assert problem["line"] is not None or problem["code"] in WHOLE_FILE_CODES, problem
    return report


def check_refused(file: Path, previewed: Result, store: SeededStore) -> None:
    assert_lines_name_the_file(previewed, file)
    synced = invoke("sync", str(file), "--database", store.target, "--as", ACTOR)
    assert_clean(synced, (1,))
    assert_lines_name_the_file(synced, file)
    assert store.dump() == store.seeded, "a refused file changed the store"


def check_accepted(
    file: Path, report: dict[str, Any], previewed: Result, store: SeededStore
) -> None:
    planned = len(json.loads(previewed.stdout)["deliveries"])
    assert planned == report["deliveries"]
    dry_run = invoke("sync", str(file), "--database", store.target, "--as", ACTOR, "--dry-run")
    assert_clean(dry_run, (0,))
    assert store.dump() == store.seeded, "a dry run changed the store"
    try:
        synced = sync_json(file, store)
        assert store.live_deliveries(synced["campaign"]) == planned
        again = sync_json(file, store)
        assert (again["changes"], again["unchanged"]) == ([], planned), again
    finally:
        store.reset()


def sync_json(file: Path, store: SeededStore) -> dict[str, Any]:
    result = invoke("sync", str(file), "--database", store.target, "--as", ACTOR, "--json")
    assert_clean(result, (0,))
    report: dict[str, Any] = json.loads(result.stdout)
    return report
