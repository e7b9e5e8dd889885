"""The audit log: who did what, when. Written in the same transaction as the change itself."""

from __future__ import annotations

import datetime as dt
import getpass
import os

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
