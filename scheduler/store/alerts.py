"""The alerts outbox: written in the same transaction as what it reports, sent later as a digest
(daemon.notify), so an alert is never lost and never sent for something that rolled back."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.store.schema import Alert


class AlertKind(StrEnum):
    FAILED = "failed"
    MISSED = "missed"
    NEEDS_REVIEW = "needs_review"
    SUSPENDED = "suspended"
    PAUSED = "paused"
    RESUMED = "resumed"
    RETRACTED = "retracted"


def raise_alert(
    session: Session,
    now: dt.datetime,
    kind: AlertKind,
    message: str,
    *,
    campaign_id: str | None = None,
    subject: str | None = None,
) -> None:
    session.add(
        Alert(created_at=now, kind=str(kind), campaign_id=campaign_id, subject=subject,
              message=message)
    )  # fmt: skip


def unsent(session: Session, limit: int = 500) -> list[Alert]:
    query = select(Alert).where(Alert.sent_at.is_(None)).order_by(Alert.id).limit(limit)
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def mark_sent(session: Session, alert_ids: list[int], now: dt.datetime) -> None:
    session.execute(
        update(Alert)
        .where(Alert.id.in_(alert_ids), Alert.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
