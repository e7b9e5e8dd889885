"""The kill switch: pause and resume a campaign, an embassy, a platform or an account."""

from __future__ import annotations

import datetime as dt

from scheduler.service.clock import now_utc
from scheduler.store import pauses, queries
from scheduler.store.database import Database
from scheduler.store.pauses import Scope as Scope  # for the commands
from scheduler.store.queries import ActivePause as ActivePause  # for the dashboard


def pause(
    database: Database,
    scope: Scope,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
) -> int:
    """Stop every delivery in ``scope`` from being claimed, by every daemon, from commit on."""
    with database.transaction() as session:
        return pauses.pause(session, scope, reason=reason, actor=actor, now=now or now_utc())


def resume(
    database: Database,
    scope: Scope | None = None,
    *,
    pause_id: int | None = None,
    actor: str,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Lift pauses and release suspended accounts: (pauses lifted, accounts released)."""
    with database.transaction() as session:
        return pauses.resume(session, scope, pause_id=pause_id, actor=actor, now=now or now_utc())


def active_pauses(database: Database, campaign_id: str | None = None) -> list[ActivePause]:
    """The pauses in force, oldest first; for one campaign, also those that stop every one:
    what the dashboard shows on every page."""
    with database.snapshot() as session:
        return queries.active_pauses(session, campaign_id)
