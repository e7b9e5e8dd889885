"""The figures the report shows: every count the platforms gave for the sent deliveries, by
delivery key, oldest first (the report takes each metric's latest and draws the curves)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store.schema import Delivery, EngagementSnapshot
from scheduler.store.states import DeliveryState


@dataclass(frozen=True, slots=True)
class Reading:
    """One figure a platform gave: a delivery's value of a metric, as fetched at an instant."""

    delivery: str
    """The delivery's key."""
    metric: str
    value: int
    fetched_at: dt.datetime


def readings(session: Session, campaign_id: str | None = None) -> list[Reading]:
    """Every snapshot of the deliveries still sent (a retracted copy's figures are left out:
    the post is gone), of ``campaign_id`` if given, by delivery, metric and time."""
    query = (
        select(
            Delivery.key,
            EngagementSnapshot.metric,
            EngagementSnapshot.value,
            EngagementSnapshot.fetched_at,
        )
        .join(Delivery, Delivery.id == EngagementSnapshot.delivery_id)
        .where(Delivery.state == DeliveryState.SENT)
        .order_by(
            Delivery.key,
            EngagementSnapshot.metric,
            EngagementSnapshot.fetched_at,
            EngagementSnapshot.id,
        )
    )
    if campaign_id is not None:
        query = query.where(Delivery.campaign_id == campaign_id)
    return [Reading(key, metric, value, at) for key, metric, value, at in session.execute(query)]
