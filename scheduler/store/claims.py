"""How a daemon takes work from the store, and how it reports what became of it.

A claim is one delivery leased to one worker. Every write that follows it is guarded by the
state, the lease owner and the revision the worker read, so a delivery that was cancelled,
edited, paused or taken over in between is simply not written: the worker drops it.

The claim itself is one transaction:

1. pick the earliest due deliveries that may go now, on the platforms the worker has room for:
   scheduled (or due for a retry), its thread's previous part sent, its account neither
   suspended nor rate-limited, no other call of that account in flight, and, for a post or a
   thread's first part, the account not inside its spacing. PostgreSQL: ``FOR UPDATE SKIP
   LOCKED``, so several daemons pick different rows without waiting for each other;
2. take the account's turn: ``UPDATE accounts SET next_post_at = now + spacing WHERE ... <= now``.
   Only one worker can win it, which keeps one account's posts apart even with several daemons.
   A thread's later parts are not spaced: each goes as soon as its parent is sent, back to back,
   and pushes the turn on, so the account's next post keeps its spacing from the thread's end;
3. ``UPDATE deliveries SET state = 'claimed' ... WHERE state IN (...) AND NOT <paused>``: the
   pause check is part of the claim statement, so a pause holds for every daemon from the moment
   it commits.

Steps 2 and 3 run for each candidate in turn, up to the number wanted (:func:`claim_due`): one
transaction claims several deliveries, never two of one account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from adapters.capabilities import Platform
from scheduler.store.deliveries import move
from scheduler.store.posts import detached_account
from scheduler.store.schema import (
    Account,
    Attempt,
    Base,
    Campaign,
    Delivery,
    Pause,
    UTCDateTime,
    Worker,
)
from scheduler.store.states import DeliveryState, guard

# The claim is the one state change that is not a move(): it needs the claimed row back in the
# same statement (RETURNING). Its from-states are checked against the machine all the same.
CLAIMABLE = tuple(
    str(s)
    for s in sorted(
        guard(
            DeliveryState.CLAIMED, frozenset({DeliveryState.SCHEDULED, DeliveryState.RETRY_WAITING})
        )
    )
)
BUSY = (str(DeliveryState.CLAIMED), str(DeliveryState.SENDING))
ALL_PLATFORMS = tuple(str(platform) for platform in Platform)
HOUSEKEEPING = (str(DeliveryState.CLAIMED), str(DeliveryState.SENDING), str(DeliveryState.UNKNOWN))
"""States that housekeeping may act on later: a lease that may run out, an outcome to settle."""


@dataclass(frozen=True)
class Claim:
    """What a worker holds: enough to guard every later write."""

    delivery_id: int
    key: str
    revision: int
    account_id: int
    worker: str
    lease_expires_at: dt.datetime
    attempt_count: int
    platform: str


def paused(delivery: type[Delivery] | Delivery = Delivery) -> ColumnElement[bool]:
    """True where an active pause covers the delivery (a pause's empty field matches anything)."""
    return exists().where(
        Pause.lifted_at.is_(None),
        or_(Pause.campaign_id.is_(None), Pause.campaign_id == delivery.campaign_id),
        or_(Pause.embassy_id.is_(None), Pause.embassy_id == delivery.embassy_id),
        or_(Pause.platform.is_(None), Pause.platform == delivery.platform),
        or_(Pause.post_id.is_(None), Pause.post_id == delivery.post_id),
    )


_PREVIOUS = aliased(Delivery, name="previous")
_OTHER = aliased(Delivery, name="other")
# Aliases are made once: making one builds a proxy of every column, which cost more than the
# query itself when it was done for every claim.
_NOW = bindparam("now", type_=UTCDateTime)


def _previous_part_sent() -> ColumnElement[bool]:
    return or_(
        Delivery.part == 1,
        exists().where(
            _PREVIOUS.campaign_id == Delivery.campaign_id,
            _PREVIOUS.post_id == Delivery.post_id,
            _PREVIOUS.embassy_id == Delivery.embassy_id,
            _PREVIOUS.platform == Delivery.platform,
            _PREVIOUS.part == Delivery.part - 1,
            _PREVIOUS.state == str(DeliveryState.SENT),
        ),
    )


def _account_busy() -> ColumnElement[bool]:
    # Not correlated: the few accounts with a call under way are found once (index on state,
    # account_id), not looked for again for every candidate.
    return Delivery.account_id.in_(select(_OTHER.account_id).where(_OTHER.state.in_(BUSY)))


def _account_may_post(now: ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    return and_(
        Account.suspended_at.is_(None),
        or_(Account.rate_limited_until.is_(None), Account.rate_limited_until <= now),
        # spacing keeps an account's separate posts apart, never the parts of one thread
        or_(Delivery.part > 1, Account.next_post_at.is_(None), Account.next_post_at <= now),
    )


def _due(now: ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    return and_(
        Delivery.state.in_(CLAIMABLE),
        Delivery.due_at <= now,
        or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
    )


@cache
def _candidates_query(dialect: str) -> Select[int, int, int, str]:
    """The candidates' statement, built once per dialect: ``now``, ``platforms`` and ``limit``
    are bound at each execution."""
    query = (
        select(Delivery.id, Delivery.account_id, Delivery.part, Delivery.platform)
        .join(Account, Account.id == Delivery.account_id)
        .where(_due(_NOW), Delivery.platform.in_(bindparam("platforms", expanding=True)))
        .where(_account_may_post(_NOW), ~_account_busy(), _previous_part_sent(), ~paused())
        .order_by(Delivery.due_at, Delivery.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    return query


def _candidates(
    session: Session, now: dt.datetime, platforms: Sequence[str], limit: int
) -> list[tuple[int, int, int, str]]:
    query = _candidates_query(session.get_bind().dialect.name)
    rows = session.execute(query, {"now": now, "platforms": sorted(platforms), "limit": limit})
    return [(row.id, row.account_id, row.part, row.platform) for row in rows]


def claim_next(
    session: Session,
    *,
    worker: str,
    now: dt.datetime,
    lease: dt.timedelta,
    spacing: dt.timedelta,
) -> Claim | None:
    """Lease the earliest delivery that may go out now, or None. Commit right after."""
    room = dict.fromkeys(ALL_PLATFORMS, 1)
    claims = claim_due(session, worker=worker, now=now, lease=lease, spacing=spacing, room=room)
    return claims[0] if claims else None


def claim_due(
    session: Session,
    *,
    worker: str,
    now: dt.datetime,
    lease: dt.timedelta,
    spacing: dt.timedelta,
    room: Mapping[str, int],
    limit: int = 1,
) -> list[Claim]:
    """Lease up to ``limit`` of the earliest deliveries that may go out now, at most ``room[p]``
    on platform ``p`` and one per account, in one transaction; commit right after."""
    left = {platform: free for platform, free in room.items() if free > 0}
    if not left or limit < 1:
        return []
    claims: list[Claim] = []
    accounts: set[int] = set()
    # A few more candidates than wanted: another worker may take an account's turn meanwhile.
    for delivery_id, account_id, part, platform in _candidates(session, now, list(left), limit + 8):
        if len(claims) == limit:
            break
        if account_id in accounts or not left.get(platform):
            continue  # one call at a time per account; the platform's room is used up
        claim = _claim_one(session, delivery_id, account_id, part, platform, worker=worker,
                           now=now, lease=lease, spacing=spacing)  # fmt: skip
        if claim is not None:
            claims.append(claim)
            accounts.add(account_id)
            left[platform] -= 1
    return claims


def _claim_one(
    session: Session,
    delivery_id: int,
    account_id: int,
    part: int,
    platform: str,
    *,
    worker: str,
    now: dt.datetime,
    lease: dt.timedelta,
    spacing: dt.timedelta,
) -> Claim | None:
    if part > 1:
        _keep_turn(session, account_id, now, spacing)
    elif not _take_turn(session, account_id, now, spacing):
        return None  # another worker took this account's turn a moment ago
    values = {"delivery_id": delivery_id, "now": now, "worker": worker, "expires": now + lease}
    claimed = session.execute(_statements().claim, values).one_or_none()
    if claimed is None:
        return None
    return Claim(
        delivery_id=delivery_id,
        key=claimed.key,
        revision=claimed.revision,
        account_id=account_id,
        worker=worker,
        lease_expires_at=now + lease,
        attempt_count=claimed.attempt_count,
        platform=platform,
    )


def _take_turn(session: Session, account_id: int, now: dt.datetime, spacing: dt.timedelta) -> bool:
    values = {"account_id": account_id, "now": now, "turn": now + spacing}
    return bool(session.execute(_statements().take_turn, values).rowcount)  # type: ignore[attr-defined]


def _keep_turn(session: Session, account_id: int, now: dt.datetime, spacing: dt.timedelta) -> None:
    """A thread's later part: not spaced from its parent, but the account's next post is spaced
    from this part, so the gap between two posts counts from the end of a thread."""
    values = {"account_id": account_id, "turn": now + spacing}
    session.execute(_statements().keep_turn, values)


@dataclass(frozen=True)
class _Statements:
    """The statements run for every delivery, built once with their values bound at each
    execution, and on the tables (plain SQL, not the ORM's bulk-update path): building a
    statement and the ORM's bookkeeping cost more than running it."""

    claim: Update
    take_turn: Update
    keep_turn: Update
    begin: Update
    end_attempt: Update
    sent: Update
    account_sent: Update


@cache
def _statements() -> _Statements:
    deliveries, accounts = _table(Delivery), _table(Account)
    now, turn = bindparam("now", type_=UTCDateTime), bindparam("turn", type_=UTCDateTime)
    account = accounts.c.id == bindparam("account_id")
    delivery = deliveries.c.id == bindparam("delivery_id")
    return _Statements(
        claim=update(deliveries)
        .where(delivery, deliveries.c.state.in_(CLAIMABLE), ~paused())
        .values(
            state=str(DeliveryState.CLAIMED),
            state_since=now,
            lease_owner=bindparam("worker"),
            lease_expires_at=bindparam("expires", type_=UTCDateTime),
        )
        .returning(deliveries.c.key, deliveries.c.revision, deliveries.c.attempt_count),
        take_turn=update(accounts)
        .where(account, or_(accounts.c.next_post_at.is_(None), accounts.c.next_post_at <= now))
        .values(next_post_at=turn),
        keep_turn=update(accounts)
        .where(account, or_(accounts.c.next_post_at.is_(None), accounts.c.next_post_at < turn))
        .values(next_post_at=turn),
        # held(), a lease still running and no pause: the claim is still this worker's
        begin=update(deliveries)
        .where(
            delivery,
            deliveries.c.lease_owner == bindparam("worker"),
            deliveries.c.revision == bindparam("claimed_revision"),
            deliveries.c.lease_expires_at > now,
            ~paused(),
            deliveries.c.state.in_(_states(DeliveryState.SENDING, DeliveryState.CLAIMED)),
        )
        .values(
            state=str(DeliveryState.SENDING),
            state_since=now,
            attempt_count=bindparam("number"),
        ),
        end_attempt=update(_table(Attempt))
        .where(_table(Attempt).c.id == bindparam("attempt_id"))
        .values(
            ended_at=now,
            outcome=bindparam("ended_as"),
            remote_id=bindparam("remote"),
            remote_url=bindparam("url"),
            error_class=bindparam("error"),
            error_message=bindparam("message"),
        ),
        # finish(claim, SENT): held() and in a state that may become sent; the lease released
        sent=update(deliveries)
        .where(
            delivery,
            deliveries.c.lease_owner == bindparam("worker"),
            deliveries.c.revision == bindparam("claimed_revision"),
            deliveries.c.state.in_(
                [
                    str(state)
                    for state in guard(DeliveryState.SENT, frozenset({DeliveryState.SENDING}))
                ]
            ),
        )
        .values(
            state=str(DeliveryState.SENT),
            state_since=now,
            sent_at=now,
            remote_id=bindparam("remote"),
            remote_url=bindparam("url"),
            platform_sent_at=bindparam("platform_now", type_=UTCDateTime),
            error_class=None,
            error_message=None,
            lease_owner=None,
            lease_expires_at=None,
        ),
        account_sent=update(accounts).where(account).values(last_sent_at=now),
    )


def _states(to: DeliveryState, source: DeliveryState) -> list[str]:
    """The from-states of a move, checked against the machine as move() does."""
    return [str(state) for state in guard(to, frozenset({source}))]


def _table(entity: type[Base]) -> Table:
    table = entity.__table__
    assert isinstance(table, Table)
    return table


def campaigns_synced(session: Session) -> list[tuple[str, dt.datetime | None]]:
    """Each campaign and when it was last synced: what a cache of their definitions keys on."""
    rows = session.execute(select(Campaign.id, Campaign.synced_at).order_by(Campaign.id))
    return [(row.id, row.synced_at) for row in rows]


def claimed_row(session: Session, claim: Claim) -> tuple[Delivery, Account] | None:
    """The claimed delivery and its account (detached, to be used after the session ends), or
    None when the claim was lost meanwhile: another owner, or another revision."""
    row = session.get(Delivery, claim.delivery_id)
    if row is None or row.lease_owner != claim.worker or row.revision != claim.revision:
        return None
    return row, detached_account(session, row.account_id)


def next_wakeup(session: Session, now: dt.datetime) -> dt.datetime | None:
    """The earliest instant after ``now`` at which something may become claimable: a delivery
    falls due or may be retried, an account's turn comes or its rate limit ends."""
    instants = [session.scalar(query, {"now": now}) for query in _wakeup_queries()]
    found = [instant for instant in instants if instant is not None]
    return min(found) if found else None


@cache
def _wakeup_queries() -> list[Select[dt.datetime | None]]:
    """One query per instant looked for, each the first row of an index (deliveries by state and
    due_at or not_before, accounts by next_post_at or rate_limited_until): a lookup, not a scan
    of every waiting delivery, however many wait. Built once; ``now`` is bound each time."""
    queries = []
    for column, state in (
        *((Delivery.due_at, state) for state in CLAIMABLE),
        *((Delivery.not_before, state) for state in CLAIMABLE),
        (Account.next_post_at, None),
        (Account.rate_limited_until, None),
    ):
        query = select(column).where(column > _NOW)
        if state is not None:
            query = query.where(Delivery.state == state)
        queries.append(query.order_by(column).limit(1))
    return queries


def accounts_posting_before(session: Session, until: dt.datetime) -> list[Account]:
    """The accounts not suspended with deliveries waiting (or awaiting approval) due before
    ``until``; detached, to be used after the session ends."""
    upcoming = select(Delivery.account_id).where(
        Delivery.state.in_([*CLAIMABLE, str(DeliveryState.AWAITING_APPROVAL)]),
        Delivery.due_at < until,
    )
    accounts = list(
        session.scalars(
            select(Account).where(Account.suspended_at.is_(None), Account.id.in_(upcoming))
        )
    )
    session.expunge_all()
    return accounts


def mark_account_sent(session: Session, account_id: int, now: dt.datetime) -> None:
    session.execute(_statements().account_sent, {"account_id": account_id, "now": now})


def rate_limit_account(session: Session, account_id: int, until: dt.datetime) -> None:
    """No daemon claims for the account before ``until`` (the platform's reset)."""
    session.execute(
        update(Account).where(Account.id == account_id).values(rate_limited_until=until)
    )


def awaiting_housekeeping(session: Session) -> int:
    """How many deliveries are in a state housekeeping may act on (:data:`HOUSEKEEPING`)."""
    query = select(func.count(Delivery.id)).where(Delivery.state.in_(HOUSEKEEPING))
    return int(session.scalar(query) or 0)


def in_flight(session: Session, worker: str) -> int:
    """How many of ``worker``'s calls are under way (sending)."""
    query = select(func.count(Delivery.id)).where(
        Delivery.lease_owner == worker, Delivery.state == str(DeliveryState.SENDING)
    )
    return int(session.scalar(query) or 0)


def heartbeat(
    session: Session,
    worker: str,
    now: dt.datetime,
    *,
    host: str,
    pid: int,
    started: bool = False,
    stopped: bool = False,
) -> None:
    """Record that ``worker`` is alive at ``now``; where it runs and since when, on its first
    beat or when it starts again; when it stopped, on its last."""
    row = session.get(Worker, worker)
    if row is None or started:
        row = row or Worker(name=worker)
        row.host, row.pid, row.started_at = host, pid, now
        row.stopped_at = None
    row.seen_at = now
    if stopped:
        row.stopped_at = now
    session.add(row)


def held(claim: Claim) -> ColumnElement[bool]:
    """The delivery is still the one this worker claimed: same lease owner, same revision."""
    return and_(
        Delivery.id == claim.delivery_id,
        Delivery.lease_owner == claim.worker,
        Delivery.revision == claim.revision,
    )


def begin_attempt(
    session: Session, claim: Claim, *, idempotency_key: str, now: dt.datetime
) -> int | None:
    """claimed -> sending, and the attempt recorded, before the platform is called.

    None when the claim was lost (cancelled, edited, paused, lease expired and reaped): the
    worker must not call the platform. Otherwise the attempt's id.
    """
    number = claim.attempt_count + 1
    values = {
        "delivery_id": claim.delivery_id,
        "worker": claim.worker,
        "claimed_revision": claim.revision,
        "now": now,
        "number": number,
    }
    if not session.execute(_statements().begin, values).rowcount:  # type: ignore[attr-defined]
        return None
    attempt = (
        insert(Attempt)
        .values(
            delivery_id=claim.delivery_id,
            number=number,
            worker=claim.worker,
            idempotency_key=idempotency_key,
            started_at=now,
        )
        .returning(Attempt.id)
    )
    return int(session.execute(attempt).scalar_one())


def end_attempt(
    session: Session,
    attempt_id: int,
    *,
    outcome: str,
    now: dt.datetime,
    remote_id: str | None = None,
    remote_url: str | None = None,
    error: BaseException | None = None,
) -> None:
    values = {
        "attempt_id": attempt_id,
        "now": now,
        "ended_as": outcome,
        "remote": remote_id,
        "url": remote_url,
        "error": type(error).__name__ if error else None,
        "message": str(error)[:2000] if error else None,
    }
    session.execute(_statements().end_attempt, values)


def finish(
    session: Session,
    claim: Claim,
    to: DeliveryState,
    now: dt.datetime,
    *,
    allowed_from: frozenset[DeliveryState] = frozenset({DeliveryState.SENDING}),
    **values: object,
) -> bool:
    """Record the outcome of this worker's call, guarded by its lease; the lease is released."""
    return bool(
        move(
            session,
            held(claim),
            to,
            allowed_from,
            now,
            lease_owner=None,
            lease_expires_at=None,
            **values,
        )
    )


def record_sent(
    session: Session,
    claim: Claim,
    now: dt.datetime,
    *,
    remote_id: str,
    remote_url: str | None,
    platform_sent_at: dt.datetime | None,
) -> bool:
    """:func:`finish` to sent, in the one statement every delivery runs (built once)."""
    values = {
        "delivery_id": claim.delivery_id,
        "worker": claim.worker,
        "claimed_revision": claim.revision,
        "now": now,
        "remote": remote_id,
        "url": remote_url,
        "platform_now": platform_sent_at,
    }
    return bool(session.execute(_statements().sent, values).rowcount)  # type: ignore[attr-defined]


def release(session: Session, worker: str, now: dt.datetime) -> int:
    """On shutdown: hand back every claim of ``worker`` that has not started a call."""
    return move(
        session,
        Delivery.lease_owner == worker,
        DeliveryState.SCHEDULED,
        frozenset({DeliveryState.CLAIMED}),
        now,
        lease_owner=None,
        lease_expires_at=None,
    )


def reap(session: Session, now: dt.datetime) -> tuple[int, int]:
    """Expired leases of dead workers: a claim that never called goes back to the schedule; a
    call that may have reached the platform becomes unknown, to be reconciled."""
    expired = and_(Delivery.lease_expires_at.is_not(None), Delivery.lease_expires_at < now)
    released = move(
        session, expired, DeliveryState.SCHEDULED, frozenset({DeliveryState.CLAIMED}), now,
        lease_owner=None, lease_expires_at=None,
    )  # fmt: skip
    unknown = move(
        session, expired, DeliveryState.UNKNOWN, frozenset({DeliveryState.SENDING}), now,
        lease_owner=None, lease_expires_at=None,
        error_class="OutcomeUnknown",
        error_message="the daemon stopped during the platform call",
    )  # fmt: skip
    return released, unknown
