"""`campaign sync`: bring the store in line with the campaign file, all of it or nothing."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from scheduler.problems import Problem
from scheduler.service.clock import now_utc
from scheduler.service.validation import Validation, valid_file
from scheduler.store.database import Database
from scheduler.store.sync import NEEDS_ATTENTION as NEEDS_ATTENTION  # for the commands
from scheduler.store.sync import SyncReport as SyncReport
from scheduler.store.sync import sync_campaign


def sync_file(
    path: Path,
    database: Database,
    *,
    actor: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    step: Callable[[str], None] | None = None,
) -> tuple[SyncReport, list[Problem]]:
    """Bring the store in line with the file at ``path``: all of it, or (on any error) nothing.
    ``step`` is told what is being done, for a progress display (`campaign sync` on a
    terminal)."""
    (step or _quiet)(f"checking {path}")
    return sync_valid(valid_file(path), database, actor=actor, dry_run=dry_run, now=now, step=step)


def _quiet(_: str) -> None:
    """No progress display."""


def sync_valid(
    valid: Validation,
    database: Database,
    *,
    actor: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    step: Callable[[str], None] | None = None,
) -> tuple[SyncReport, list[Problem]]:
    """:func:`sync_file` for a file validated already (:func:`valid_file`)."""
    say = step or _quiet
    assert valid.campaign is not None and valid.plan is not None
    with _plan_left_out_of_collections(), database.transaction(commit=not dry_run) as session:
        report = sync_campaign(
            session, valid.campaign, valid.plan, actor=actor, now=now or now_utc(), step=step
        )
        say("rolling back (dry run)" if dry_run else "committing")
    return report, valid.problems


@contextmanager
def _plan_left_out_of_collections() -> Iterator[None]:
    """The plan (millions of objects at 100,000 deliveries) lives as long as the sync: while the
    sync makes its rows, the garbage collector need not scan it again and again (a fifth of the
    store's time)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
