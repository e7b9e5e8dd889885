"""The audit log: who did what, when. Written in the same transaction as the change itself."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.defaults import ACTOR_ENV
from scheduler.store.schema import AuditEntry


def default_actor() -> str:
    """Who is at the keyboard, when ``--as`` is not given: CAMPAIGN_USER, else the login name."""
    try:
        return os.environ.get(ACTOR_ENV) or getpass.getuser()
    except OSError:  # no login name (a container without a passwd entry)
        return "unknown"


def record(
    session: Session,
    now: dt.datetime,
    actor: str,
    action: str,
    campaign_id: str | None,
    subject: str | None,
    **details: object,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            campaign_id=campaign_id,
            subject=subject,
            details=details,
        )
    )


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log, as read back."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    campaign_id: str | None
    subject: str | None
    details: dict[str, Any]


def select_entries(
    session: Session,
    *,
    campaign_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[AuditRecord]:
    """The newest entries first (by id: the order they were written in), at most ``limit``,
    only those older than ``before_id`` when given (the next page), filtered by campaign, actor
    and action when given. Entries of no campaign (users, logging in) show under every one."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if campaign_id is not None:
        query = query.where(
            or_(AuditEntry.campaign_id == campaign_id, AuditEntry.campaign_id.is_(None))
        )
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        AuditRecord(e.id, e.at, e.actor, e.action, e.campaign_id, e.subject, dict(e.details))
        for e in session.scalars(query)
    ]


def choices(session: Session) -> tuple[list[str], list[str]]:
    """Every actor and every action the log holds, sorted: a filter's choices."""
    actors = select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)
    actions = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return list(session.scalars(actors)), list(session.scalars(actions))
