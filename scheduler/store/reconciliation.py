"""What settling an unknown outcome reads and writes in the store.

A daemon takes unknown deliveries with a lease, as it claims due ones, so that with several
daemons one of them looks for each lost post; the lease is released by the move that settles the
delivery (sent, back to the schedule, or to a person), or by :func:`release_unsettled` when the
platform could not be asked this time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.errors import StoreError
from scheduler.store.deliveries import move
from scheduler.store.posts import detached_account
from scheduler.store.schema import Account, Attempt, Delivery
from scheduler.store.states import DeliveryState

RELEASED = {"lease_owner": None, "lease_expires_at": None}


@dataclass(frozen=True)
class Unsettled:
    """An unknown delivery taken for reconciliation, with what the search needs."""

    delivery_id: int
    key: str
    campaign_id: str
    account: Account
    first_attempt: dt.datetime
    """When the first call for this delivery started: no earlier post can be its."""
    state_since: dt.datetime
    refused_as_duplicate: bool
    """The last call was refused as a duplicate (X): the post is there, or a person must look."""


def take_unsettled(
    session: Session,
    *,
    worker: str,
    now: dt.datetime,
    lease: dt.timedelta,
    settled_before: dt.datetime,
    limit: int,
) -> list[int]:
    """Lease up to ``limit`` unknown deliveries whose last call started before
    ``settled_before`` (a call that timed out may still commit on the platform until then).
    Returns their ids, oldest first."""
    last_call = (
        select(func.max(Attempt.started_at))
        .where(Attempt.delivery_id == Delivery.id)
        .scalar_subquery()
    )
    free = or_(Delivery.lease_owner.is_(None), Delivery.lease_expires_at < now)
    unknown = and_(Delivery.state == str(DeliveryState.UNKNOWN), free)
    candidates = list(
        session.scalars(
            select(Delivery.id)
            .where(unknown, last_call <= settled_before)
            .order_by(Delivery.state_since, Delivery.id)
            .limit(limit)
        )
    )
    if not candidates:
        return []
    taken = session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(candidates), unknown)
        .values(lease_owner=worker, lease_expires_at=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(taken, key=candidates.index)


def unsettled(session: Session, delivery_id: int) -> Unsettled:
    row = session.get(Delivery, delivery_id)
    assert row is not None
    account = detached_account(session, row.account_id)
    first = session.scalar(
        select(func.min(Attempt.started_at)).where(Attempt.delivery_id == delivery_id)
    )
    return Unsettled(
        delivery_id=row.id,
        key=row.key,
        campaign_id=row.campaign_id,
        account=account,
        first_attempt=first or row.state_since,
        state_since=row.state_since,
        refused_as_duplicate=row.error_class == "Duplicate",
    )


def taken_remote_ids(session: Session, account_id: int) -> frozenset[str]:
    """The posts of an account that already settle one of its deliveries."""
    found = session.scalars(
        select(Delivery.remote_id).where(
            Delivery.account_id == account_id, Delivery.remote_id.is_not(None)
        )
    )
    return frozenset(remote for remote in found if remote is not None)


def release_unsettled(session: Session, delivery_id: int, worker: str) -> None:
    """Give back the lease of a delivery that could not be settled this time."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.lease_owner == worker)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def record_found(
    session: Session,
    delivery_id: int,
    *,
    remote_id: str,
    remote_url: str,
    now: dt.datetime,
    platform_sent_at: dt.datetime | None = None,
) -> int:
    """unknown -> sent, with the post found on the account: ``now`` is our time, and
    ``platform_sent_at`` when the platform says the post was made (None if it does not say).
    A post settles one delivery only: StoreError when this one settles another delivery of the
    account already."""
    try:
        with session.begin_nested():
            return move(
                session, Delivery.id == delivery_id, DeliveryState.SENT,
                frozenset({DeliveryState.UNKNOWN}), now, remote_id=remote_id,
                remote_url=remote_url, sent_at=now, platform_sent_at=platform_sent_at,
                error_class=None, error_message=None, **RELEASED,
            )  # fmt: skip
    except IntegrityError as exc:
        raise StoreError(f"{remote_id} settles another delivery of the account already") from exc
