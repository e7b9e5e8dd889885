"""What the store says: `campaign status`, `campaign report` and `campaign audit`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.defaults import ATTENTION_LIMIT, AUDIT_LIMIT, MAX_AUDIT_LIMIT
from scheduler.errors import UsageError
from scheduler.service.clock import now_utc
from scheduler.store import audit, engagement, figures, queries
from scheduler.store.audit import AuditRecord as AuditRecord
from scheduler.store.database import Database
from scheduler.store.engagement import RunRecord
from scheduler.store.figures import Reading
from scheduler.store.queries import ReportData as ReportData
from scheduler.store.queries import StatusData


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


@dataclass(frozen=True)
class Engagement:
    """What the platforms counted, for the report's results."""

    readings: list[Reading]
    """Every figure fetched for the deliveries still sent, oldest first."""
    last_run: RunRecord | None
    """The last collection, with its notes per account."""


def engagement_figures(database: Database, campaign_id: str | None = None) -> Engagement:
    """Every count the platforms gave for the sent deliveries (of ``campaign_id``), and the last
    collection with what went wrong per account."""
    with database.snapshot() as session:
        if campaign_id is not None:
            queries.select_campaigns(session, campaign_id)  # an unknown one is refused by name
        return Engagement(
            figures.readings(session, campaign_id),
            engagement.last_run(session, campaign_id=campaign_id),
        )


def last_engagement_run(database: Database, campaign_id: str | None = None) -> RunRecord | None:
    """The last collection of the platforms' counts (of ``campaign_id``, or of every campaign),
    with its notes per account; None if there never was one."""
    with database.snapshot() as session:
        return engagement.last_run(session, campaign_id=campaign_id)


def audit_entries(
    database: Database,
    *,
    campaign_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = AUDIT_LIMIT,
    before_id: int | None = None,
) -> list[AuditRecord]:
    """The audit log, newest first: who did what and when, from the CLI, the daemon and the
    dashboard alike; at most ``limit`` entries, older than entry ``before_id`` when given (the
    next page), filtered by campaign (entries of no campaign, such as logging in, always
    show), actor and action. Details never hold a secret: they are written without any."""
    if not 1 <= limit <= MAX_AUDIT_LIMIT:
        raise UsageError(f"limit: {limit} is not between 1 and {MAX_AUDIT_LIMIT}")
    with database.snapshot() as session:
        if campaign_id is not None:
            queries.select_campaigns(session, campaign_id)  # an unknown one is refused by name
        return audit.select_entries(
            session,
            campaign_id=campaign_id,
            actor=actor,
            action=action,
            limit=limit,
            before_id=before_id,
        )


def audit_choices(database: Database) -> tuple[list[str], list[str]]:
    """Who is in the audit log, and which actions: the audit page's filters."""
    with database.snapshot() as session:
        return audit.choices(session)
