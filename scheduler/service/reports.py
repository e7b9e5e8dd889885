"""What the store says: `campaign status` and `campaign report`."""

from __future__ import annotations

import datetime as dt

from scheduler.defaults import ATTENTION_LIMIT
from scheduler.service.clock import now_utc
from scheduler.store import queries
from scheduler.store.database import Database
from scheduler.store.queries import ReportData, StatusData


def status(
    database: Database,
    campaign_id: str | None = None,
    *,
    attention_limit: int | None = ATTENTION_LIMIT,
    now: dt.datetime | None = None,
) -> StatusData:
    """Counts by state per local day, embassy and platform, what needs attention (at most
    ``attention_limit`` listed; None lists all), active pauses, accounts that cannot post."""
    with database.snapshot() as session:
        return queries.status(session, campaign_id, now or now_utc(), attention_limit)


def report(
    database: Database, campaign_id: str | None = None, *, now: dt.datetime | None = None
) -> ReportData:
    """What went out (with its URL), what failed and why, what was missed or cancelled."""
    with database.snapshot() as session:
        return queries.report(session, campaign_id, now or now_utc())
