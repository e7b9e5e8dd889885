"""`campaign settle`: a person says what became of a delivery whose outcome is unknown."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.errors import UsageError
from scheduler.service.clock import now_utc
from scheduler.store.audit import record
from scheduler.store.database import Database
from scheduler.store.deliveries import back_on_schedule, move
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.states import DeliveryState as S

SETTLEMENTS = {
    "posted": (S.SENT, frozenset({S.UNKNOWN, S.NEEDS_REVIEW})),
    "not-posted": (S.SCHEDULED, frozenset({S.UNKNOWN, S.NEEDS_REVIEW})),
    "retry": (S.SCHEDULED, frozenset({S.FAILED, S.MISSED})),
    "give-up": (S.FAILED, frozenset({S.UNKNOWN, S.NEEDS_REVIEW})),
}
"""What a person may decide about a delivery the daemon could not settle, and from which states."""


def settle(
    database: Database,
    delivery_key: str,
    decision: str,
    *,
    actor: str,
    url: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, str]:
    """A person's decision on one delivery; returns its whole key and its new state."""
    target, allowed = SETTLEMENTS[decision]
    moment = now or now_utc()
    values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None, "not_before": None}
    if decision == "posted":
        values.update(remote_url=url, sent_at=moment, error_class=None, error_message=None)
    else:
        values.update(error_message=f"{decision} decided by {actor}")
    with database.transaction() as session:
        row = _delivery_by_key(session, delivery_key)
        delivery_key = row.key
        moved = _settle_one(session, row.id, target, allowed, moment, values)
        if moved is None:
            states = ", ".join(sorted(allowed))
            raise UsageError(f"{delivery_key} is {row.state}; --{decision} applies to: {states}")
        record(
            session,
            moment,
            actor,
            "settle",
            row.campaign_id,
            delivery_key,
            decision=decision,
            url=url,
        )
    return delivery_key, str(moved)


def _delivery_by_key(session: Session, given: str) -> StoredDelivery:
    """The delivery ``given`` names: its full key (campaign/post/embassy/platform/part), or the
    key without the campaign, as `campaign status` shows it when one campaign is shown."""
    given = given.strip().strip("/")
    rows = session.scalars(
        select(StoredDelivery)
        .where(
            or_(
                StoredDelivery.key == given,
                StoredDelivery.key.endswith(f"/{given}", autoescape=True),
            )
        )
        .order_by(StoredDelivery.key)
    ).all()
    exact = [row for row in rows if row.key == given]
    if exact:
        return exact[0]
    short = [row for row in rows if row.key.split("/", 1)[-1] == given]
    if len(short) == 1:
        return short[0]
    if short:
        keys = ", ".join(row.key for row in short)
        raise UsageError(f"{given} is in several campaigns: {keys}; give the whole key")
    raise UsageError(f"no delivery {given}; `campaign status` lists the keys")


def _settle_one(
    session: Session,
    delivery_id: int,
    target: S,
    allowed: frozenset[S],
    moment: dt.datetime,
    values: dict[str, Any],
) -> S | None:
    """The state the delivery moved to (back on the schedule may mean cancelled, when its post
    was cancelled meanwhile), or None when it is in none of ``allowed``."""
    if target is S.SCHEDULED:
        return back_on_schedule(session, delivery_id, allowed, moment, **values)
    moved = move(session, StoredDelivery.id == delivery_id, target, allowed, moment, **values)
    return target if moved else None
