"""Deliveries in the store: the one place their state changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from scheduler.campaign.planner import Delivery as PlannedDelivery
from scheduler.campaign.timing import describe_span, past_grace
from scheduler.errors import ConfigurationError, UsageError
from scheduler.store.alerts import AlertKind, raise_alert
from scheduler.store.documents import DeliveryPayload
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.schema import Media, Post
from scheduler.store.states import PENDING, DeliveryState, guard


def one_delivery(delivery_id: int) -> ColumnElement[bool]:
    """Which deliveries :func:`move` and its kin change: the one with this id."""
    return StoredDelivery.id == delivery_id


def move(
    session: Session,
    where: ColumnElement[bool],
    to: DeliveryState,
    allowed_from: frozenset[DeliveryState],
    now: dt.datetime,
    **values: Any,
) -> int:
    """Move every delivery matching ``where`` and in one of ``allowed_from`` to ``to``.

    One guarded UPDATE: rows in any other state are left alone, so a concurrent writer that
    got there first wins cleanly. Returns how many rows moved.
    """
    states = [str(state) for state in guard(to, allowed_from)]
    statement = (
        update(StoredDelivery)
        .where(where, StoredDelivery.state.in_(states))
        .values(state=str(to), state_since=now, **values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


DELIVERIES = cast(Table, StoredDelivery.__table__)
"""The table itself, for statements over many rows at once (no ORM objects)."""
MANY = 2_000
"""Ids per statement in :func:`move_returning` and its kin: well under every driver's limit on
bound parameters."""


def move_each(
    session: Session,
    rows: Sequence[dict[str, Any]],
    to: DeliveryState,
    allowed_from: frozenset[DeliveryState],
    now: dt.datetime,
) -> set[int]:
    """:func:`move` for many deliveries, each with values of its own (``rows``: the columns to
    set, and ``id``): the same guarded UPDATE, sent as one batch. The ids of those that moved."""
    states = [str(state) for state in guard(to, allowed_from)]
    # IN (...) expands per statement, which a batch cannot do: one equality per state instead.
    in_state = or_(*(DELIVERIES.c.state == state for state in states))
    statement = update(DELIVERIES).where(DELIVERIES.c.id == bindparam("row_id"), in_state)
    moved: set[int] = set()
    for start in range(0, len(rows), MANY):
        batch = [
            {**_without_id(row), "row_id": row["id"], "state": str(to), "state_since": now}
            for row in rows[start : start + MANY]
        ]
        if _rowcount(session.execute(statement, batch)) == len(batch):
            moved.update(params["row_id"] for params in batch)
            continue
        # Some were in another state (a daemon began sending them meanwhile): find which, one
        # at a time. Repeating the update of one that moved in the batch changes nothing.
        for params in batch:
            if _rowcount(session.execute(statement, params)):
                moved.add(params["row_id"])
    return moved


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {column: value for column, value in row.items() if column != "id"}


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def move_returning(
    session: Session,
    ids: Sequence[int],
    to: DeliveryState,
    allowed_from: frozenset[DeliveryState],
    now: dt.datetime,
    **values: Any,
) -> set[int]:
    """:func:`move` for the deliveries with these ``ids``, all given the same ``values``; the
    ids of those that moved."""
    states = [str(state) for state in guard(to, allowed_from)]
    moved: set[int] = set()
    for start in range(0, len(ids), MANY):
        statement = (
            update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(ids[start : start + MANY]), DELIVERIES.c.state.in_(states))
            .values(state=str(to), state_since=now, **values)
            .returning(DELIVERIES.c.id)
        )
        moved.update(session.scalars(statement))
    return moved


def current_states(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, dt.datetime]]:
    """Each delivery's state and due time as stored now, by id."""
    found: dict[int, tuple[str, dt.datetime]] = {}
    for start in range(0, len(ids), MANY):
        query = select(DELIVERIES.c.id, DELIVERIES.c.state, DELIVERIES.c.due_at).where(
            DELIVERIES.c.id.in_(ids[start : start + MANY])
        )
        found.update((row.id, (row.state, row.due_at)) for row in session.execute(query))
    return found


def mark_changed_after_sent(session: Session, ids: Sequence[int]) -> None:
    """Their post was edited after these copies went out: reported, never re-sent by itself."""
    for start in range(0, len(ids), MANY):
        statement = (
            update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(ids[start : start + MANY]))
            .values(changed_after_sent=True)
        )
        session.execute(statement)


def back_on_schedule(
    session: Session,
    delivery_id: int,
    allowed_from: frozenset[DeliveryState],
    now: dt.datetime,
    **values: Any,
) -> DeliveryState | None:
    """Put a delivery back on the schedule to go out again (reconciled as not posted, settled
    as not posted, retried), unless its post was cancelled or retracted meanwhile: the team said
    stop while the outcome was open, so it is cancelled, never sent after that. The state it
    moved to, or None when it was in none of ``allowed_from``."""
    this = StoredDelivery.id == delivery_id
    if not move(session, this, DeliveryState.SCHEDULED, allowed_from, now, **values):
        return None
    withdrawn = exists().where(
        Post.campaign_id == StoredDelivery.campaign_id,
        Post.id == StoredDelivery.post_id,
        Post.cancelled_at.is_not(None),
    )
    if move(session, and_(this, withdrawn), DeliveryState.CANCELLED,
            frozenset({DeliveryState.SCHEDULED}), now,
            error_message="not sent: its post was cancelled before it was settled"):  # fmt: skip
        return DeliveryState.CANCELLED
    return DeliveryState.SCHEDULED


def mark_missed(
    session: Session,
    where: ColumnElement[bool],
    allowed_from: frozenset[DeliveryState],
    now: dt.datetime,
    *,
    key: str,
    campaign_id: str,
    message: str,
    **values: Any,
) -> bool:
    """Too late under the late policy: missed, with the reason, and the team is told."""
    return move_and_alert(
        session, where, DeliveryState.MISSED, allowed_from, now,
        alert=AlertKind.MISSED, key=key, campaign_id=campaign_id, message=message,
        error_class="Missed", error_message=message, **values,
    )  # fmt: skip


def move_and_alert(
    session: Session,
    where: ColumnElement[bool],
    to: DeliveryState,
    allowed_from: frozenset[DeliveryState],
    now: dt.datetime,
    *,
    alert: AlertKind,
    key: str,
    campaign_id: str,
    message: str,
    **values: Any,
) -> bool:
    """:func:`move`, and when a delivery moved, an alert "``key``: ``message``" for the team, in
    the same transaction: an alert only for a change that happened. True when one moved."""
    moved = move(session, where, to, allowed_from, now, **values)
    if moved:
        raise_alert(session, now, alert, f"{key}: {message}", campaign_id=campaign_id,
                    subject=key)  # fmt: skip
    return bool(moved)


def get_delivery(session: Session, delivery_id: int) -> StoredDelivery | None:
    return session.get(StoredDelivery, delivery_id)


def delivery_by_key(session: Session, given: str) -> StoredDelivery:
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


def sent_deliveries(session: Session, campaign_id: str, post_id: str) -> list[StoredDelivery]:
    """The sent deliveries of a post, each account's thread from its last part to its first."""
    query = (
        select(StoredDelivery)
        .where(
            _of_post(campaign_id, post_id),
            StoredDelivery.state == str(DeliveryState.SENT),
        )
        .order_by(StoredDelivery.embassy_id, StoredDelivery.platform, StoredDelivery.part.desc())
    )
    return list(session.scalars(query))


def count_pending(session: Session, campaign_id: str, post_id: str) -> int:
    """How many deliveries of a post have not gone out yet."""
    query = select(func.count(StoredDelivery.id)).where(
        _of_post(campaign_id, post_id),
        StoredDelivery.state.in_([str(state) for state in PENDING]),
    )
    return int(session.scalar(query) or 0)


def _of_post(campaign_id: str, post_id: str) -> ColumnElement[bool]:
    return and_(StoredDelivery.campaign_id == campaign_id, StoredDelivery.post_id == post_id)


def delivery_key(campaign_id: str, planned: PlannedDelivery) -> str:
    return f"{campaign_id}/{planned.id}"


def planned_values(planned: PlannedDelivery) -> dict[str, Any]:
    """The columns a plan decides (what goes out, where and when), for insert or update."""
    return {
        "post_id": planned.post_id,
        "embassy_id": planned.embassy_id,
        "platform": str(planned.platform),
        "part": planned.part,
        "parts": planned.parts,
        "due_at": planned.due_at,
        "local_time": planned.local_time.isoformat(timespec="minutes"),
        "timezone": planned.timezone,
        "language": planned.language,
        "payload": DeliveryPayload.planned(planned).to_stored(),
        "content_hash": planned.content_hash,
        "grace_seconds": int(planned.grace.total_seconds()),
    }


def media_bytes(session: Session, sha256: str) -> bytes:
    media = session.get(Media, sha256)
    if media is None:
        raise ConfigurationError(f"image {sha256[:12]} is missing from the store; sync again")
    return media.data


def thread_remote_ids(session: Session, row: StoredDelivery) -> tuple[str | None, str | None]:
    """The remote ids of the part this one answers and of its thread's first part."""
    if row.part == 1:
        return None, None
    query = select(StoredDelivery.part, StoredDelivery.remote_id).where(
        StoredDelivery.campaign_id == row.campaign_id,
        StoredDelivery.post_id == row.post_id,
        StoredDelivery.embassy_id == row.embassy_id,
        StoredDelivery.platform == row.platform,
        StoredDelivery.part.in_([1, row.part - 1]),
    )
    parts: dict[int, str | None] = dict(session.execute(query).all())
    return parts.get(row.part - 1), parts.get(1)


WAITING = frozenset(
    {DeliveryState.SCHEDULED, DeliveryState.RETRY_WAITING, DeliveryState.AWAITING_APPROVAL}
)
"""States in which a delivery waits for its time (or its approval): those that can be late."""


@dataclass(frozen=True)
class PastDue:
    """Waiting deliveries whose time has passed, as the dispatcher will treat them."""

    late: int
    """Within the grace: they go out late, as soon as a daemon claims them."""
    missed: int
    """Beyond the grace: the daemon marks them missed, never sends them."""
    grace: dt.timedelta
    """The campaign's grace (the widest, when posts set their own)."""
    unapproved: int = 0
    """Of the ``late`` ones, those still awaiting approval: late only if approved in time."""

    def __bool__(self) -> bool:
        return bool(self.late or self.missed)

    def describe(self) -> str:
        """'12 deliveries are already past due: 3 will go out late within the grace (up to
        1 h), 9 will be missed (more than 1 h late)'."""
        total = self.late + self.missed
        grace = describe_span(self.grace)
        parts = []
        if self.late:
            waiting = f"; {self.unapproved} of them only if approved in time" * bool(
                self.unapproved
            )
            parts.append(f"{self.late} will go out late within the grace (up to {grace}{waiting})")
        if self.missed:
            parts.append(f"{self.missed} will be missed (more than {grace} late)")
        noun = "delivery is" if total == 1 else "deliveries are"
        return f"{total} {noun} already past due: " + ", ".join(parts)


def post_past_due(session: Session, campaign_id: str, post_id: str, now: dt.datetime) -> PastDue:
    """:func:`past_due` for the deliveries of one post."""
    return past_due(session, _of_post(campaign_id, post_id), now)


def overdue(
    session: Session, now: dt.datetime, limit: int
) -> Sequence[Row[int, str, str, dt.datetime, int, str]]:
    """Up to ``limit`` waiting deliveries due before ``now`` (id, key, campaign_id, due_at,
    grace_seconds, state), the oldest first: the likeliest to be too late."""
    return session.execute(
        select(
            StoredDelivery.id,
            StoredDelivery.key,
            StoredDelivery.campaign_id,
            StoredDelivery.due_at,
            StoredDelivery.grace_seconds,
            StoredDelivery.state,
        )
        .where(
            StoredDelivery.state.in_([str(state) for state in WAITING]),
            StoredDelivery.due_at < now,
        )
        .order_by(StoredDelivery.due_at)
        .limit(limit)
    ).all()


def past_due(session: Session, where: ColumnElement[bool], now: dt.datetime) -> PastDue:
    """The waiting deliveries matching ``where`` that are due before ``now``, split by the
    dispatcher's own rule (:func:`scheduler.campaign.timing.past_grace`)."""
    rows = session.execute(
        select(StoredDelivery.due_at, StoredDelivery.grace_seconds, StoredDelivery.state).where(
            where,
            StoredDelivery.state.in_([str(state) for state in WAITING]),
            StoredDelivery.due_at < now,
        )
    ).all()
    graces = [dt.timedelta(seconds=row.grace_seconds) for row in rows]
    late = [
        row
        for row, grace in zip(rows, graces, strict=True)
        if not past_grace(row.due_at, grace, now)
    ]
    unapproved = sum(row.state == DeliveryState.AWAITING_APPROVAL for row in late)
    grace = max(graces, default=dt.timedelta())
    return PastDue(len(late), len(rows) - len(late), grace, unapproved)
