"""`campaign settle`: a person says what became of a delivery whose outcome is unknown."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scheduler.errors import UsageError
from scheduler.service.clock import now_utc
from scheduler.store.audit import record
from scheduler.store.database import Database, Session
from scheduler.store.deliveries import back_on_schedule, delivery_by_key, move, one_delivery
from scheduler.store.states import DeliveryState

SETTLEMENTS = {
    "posted": (DeliveryState.SENT, frozenset({DeliveryState.UNKNOWN, DeliveryState.NEEDS_REVIEW})),
    "not-posted": (
        DeliveryState.SCHEDULED,
        frozenset({DeliveryState.UNKNOWN, DeliveryState.NEEDS_REVIEW}),
    ),
    "retry": (DeliveryState.SCHEDULED, frozenset({DeliveryState.FAILED, DeliveryState.MISSED})),
    "give-up": (
        DeliveryState.FAILED,
        frozenset({DeliveryState.UNKNOWN, DeliveryState.NEEDS_REVIEW}),
    ),
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
        row = delivery_by_key(session, delivery_key)
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


def _settle_one(
    session: Session,
    delivery_id: int,
    target: DeliveryState,
    allowed: frozenset[DeliveryState],
    moment: dt.datetime,
    values: dict[str, Any],
) -> DeliveryState | None:
    """The state the delivery moved to (back on the schedule may mean cancelled, when its post
    was cancelled meanwhile), or None when it is in none of ``allowed``."""
    if target is DeliveryState.SCHEDULED:
        return back_on_schedule(session, delivery_id, allowed, moment, **values)
    moved = move(session, one_delivery(delivery_id), target, allowed, moment, **values)
    return target if moved else None
