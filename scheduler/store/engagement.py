"""Engagement after posting: the sent deliveries whose counts to ask for, the counts as
snapshots over time, and the collections (runs) with their notes.

Only reads the dispatcher's tables (deliveries, accounts); writes go to ``engagement_runs``,
``engagement_snapshots`` and ``engagement_checks``, in short transactions (one per batch), so a
collection never holds what a daemon's claim needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler.store.documents import RunNotes
from scheduler.store.schema import (
    Account,
    Delivery,
    EngagementCheck,
    EngagementRun,
    EngagementSnapshot,
)
from scheduler.store.states import DeliveryState

COMMAND = "command"
DAEMON = "daemon"
"""What started a run (``engagement_runs.trigger``)."""


@dataclass(frozen=True, slots=True)
class SentDelivery:
    """A sent delivery whose counts may be asked for: where it is and what it was."""

    delivery_id: int
    key: str
    campaign_id: str
    post_id: str
    part: int
    embassy_id: str
    platform: str
    language: str
    account_id: int
    remote_id: str
    remote_url: str | None
    sent_at: dt.datetime | None
    checked_at: dt.datetime | None
    """When its counts were last asked for; None if never."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    trigger: str
    campaign_id: str | None
    notes: RunNotes


def sent_deliveries(
    session: Session,
    *,
    campaign_id: str | None = None,
    platforms: Collection[str] | None = None,
    not_checked_since: dt.datetime | None = None,
    sent_since: dt.datetime | None = None,
) -> list[SentDelivery]:
    """Sent deliveries with a remote id (retracted ones are gone: never asked for), by account
    then id; only those of ``campaign_id`` and ``platforms`` if given, those whose counts were
    not asked for since ``not_checked_since``, those sent since ``sent_since``."""
    query = (
        select(Delivery, EngagementCheck.checked_at)
        .outerjoin(EngagementCheck, EngagementCheck.delivery_id == Delivery.id)
        .where(Delivery.state == DeliveryState.SENT, Delivery.remote_id.is_not(None))
        .order_by(Delivery.account_id, Delivery.id)
    )
    if campaign_id is not None:
        query = query.where(Delivery.campaign_id == campaign_id)
    if platforms is not None:
        query = query.where(Delivery.platform.in_(sorted(platforms)))
    if not_checked_since is not None:
        query = query.where(
            or_(
                EngagementCheck.checked_at.is_(None), EngagementCheck.checked_at < not_checked_since
            )
        )
    if sent_since is not None:
        query = query.where(Delivery.sent_at >= sent_since)
    return [_sent(row, checked_at) for row, checked_at in session.execute(query)]


def _sent(row: Delivery, checked_at: dt.datetime | None) -> SentDelivery:
    assert row.remote_id is not None
    return SentDelivery(
        delivery_id=row.id, key=row.key, campaign_id=row.campaign_id, post_id=row.post_id,
        part=row.part, embassy_id=row.embassy_id, platform=row.platform, language=row.language,
        account_id=row.account_id, remote_id=row.remote_id, remote_url=row.remote_url,
        sent_at=row.sent_at, checked_at=checked_at,
    )  # fmt: skip


def accounts_by_id(session: Session, ids: Iterable[int]) -> dict[int, Account]:
    """The accounts of these ids (detached when the session ends, with every column loaded)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(wanted)))}


def record_batch(
    session: Session,
    *,
    run_id: int | None,
    now: dt.datetime,
    counts: Mapping[int, Mapping[str, int]],
    gone: Iterable[int] = (),
) -> int:
    """One batch's answer: a snapshot row per delivery and metric given (none for a metric not
    given), and every delivery asked about marked checked at ``now`` (``gone`` ones as no longer
    on the platform). Returns the snapshot rows written."""
    rows = [
        {"delivery_id": d, "fetched_at": now, "metric": m, "value": v, "run_id": run_id}
        for d, metrics in counts.items()
        for m, v in sorted(metrics.items())
    ]
    if rows:
        session.execute(insert(EngagementSnapshot), rows)
    checked = [
        {"delivery_id": d, "checked_at": now, "gone": d in gone, "run_id": run_id}
        for d in [*counts, *sorted(gone)]
    ]
    if checked:
        _upsert_checks(session, checked)
    return len(rows)


def _upsert_checks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or replace each delivery's check: two collections (a command and a daemon) may
    write the same delivery's at once; the last one stands."""
    upsert = (
        postgresql.insert(EngagementCheck)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(EngagementCheck)
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["delivery_id"],
            set_={
                "checked_at": upsert.excluded.checked_at,
                "gone": upsert.excluded.gone,
                "run_id": upsert.excluded.run_id,
            },
        ),
        rows,
    )


def latest_counts(
    session: Session,
    *,
    delivery_ids: Collection[int] | None = None,
    campaign_id: str | None = None,
) -> dict[int, dict[str, int]]:
    """The newest value of each metric of each delivery: delivery id -> metric -> value."""
    newest = select(
        EngagementSnapshot.delivery_id,
        EngagementSnapshot.metric,
        func.max(EngagementSnapshot.fetched_at).label("at"),
    ).group_by(EngagementSnapshot.delivery_id, EngagementSnapshot.metric)
    if delivery_ids is not None:
        newest = newest.where(EngagementSnapshot.delivery_id.in_(sorted(delivery_ids)))
    if campaign_id is not None:
        newest = newest.join(Delivery, Delivery.id == EngagementSnapshot.delivery_id).where(
            Delivery.campaign_id == campaign_id
        )
    last = newest.subquery()
    query = (
        select(EngagementSnapshot.delivery_id, EngagementSnapshot.metric, EngagementSnapshot.value)
        .join(
            last,
            and_(
                EngagementSnapshot.delivery_id == last.c.delivery_id,
                EngagementSnapshot.metric == last.c.metric,
                EngagementSnapshot.fetched_at == last.c.at,
            ),
        )
        .order_by(EngagementSnapshot.delivery_id, EngagementSnapshot.metric, EngagementSnapshot.id)
    )
    found: dict[int, dict[str, int]] = {}
    for delivery_id, metric, value in session.execute(query):
        found.setdefault(delivery_id, {})[metric] = value  # the last row of an instant wins
    return found


def series(session: Session, delivery_id: int) -> dict[str, list[tuple[dt.datetime, int]]]:
    """Each metric of one delivery over time, oldest first: metric -> [(fetched_at, value)]."""
    query = (
        select(EngagementSnapshot.metric, EngagementSnapshot.fetched_at, EngagementSnapshot.value)
        .where(EngagementSnapshot.delivery_id == delivery_id)
        .order_by(EngagementSnapshot.metric, EngagementSnapshot.fetched_at, EngagementSnapshot.id)
    )
    found: dict[str, list[tuple[dt.datetime, int]]] = {}
    for metric, at, value in session.execute(query):
        found.setdefault(metric, []).append((at, value))
    return found


def gone_deliveries(session: Session, delivery_ids: Collection[int]) -> set[int]:
    """Those of ``delivery_ids`` the platform no longer had when last asked."""
    query = select(EngagementCheck.delivery_id).where(
        EngagementCheck.gone.is_(True), EngagementCheck.delivery_id.in_(sorted(delivery_ids))
    )
    return set(session.scalars(query))


def start_run(
    session: Session, now: dt.datetime, *, trigger: str, campaign_id: str | None = None
) -> int:
    run = EngagementRun(
        started_at=now, trigger=trigger, campaign_id=campaign_id, notes=RunNotes().to_stored()
    )
    session.add(run)
    session.flush()
    return run.id


def save_notes(
    session: Session, run_id: int, notes: RunNotes, *, finished_at: dt.datetime | None = None
) -> None:
    """The run's notes so far (written after each account, so an interrupted run keeps them);
    with ``finished_at``, the run is over."""
    values: dict[str, object] = {"notes": notes.to_stored()}
    if finished_at is not None:
        values["finished_at"] = finished_at
    session.execute(update(EngagementRun).where(EngagementRun.id == run_id).values(**values))


def last_run(
    session: Session, *, campaign_id: str | None = None, finished: bool = False
) -> RunRecord | None:
    """The newest run (of ``campaign_id``, or of every campaign, if given; only one that
    finished, if asked: one under way or interrupted has incomplete notes)."""
    query = select(EngagementRun).order_by(EngagementRun.started_at.desc(), EngagementRun.id.desc())
    if finished:
        query = query.where(EngagementRun.finished_at.is_not(None))
    if campaign_id is not None:
        query = query.where(
            or_(EngagementRun.campaign_id == campaign_id, EngagementRun.campaign_id.is_(None))
        )
    run = session.scalars(query.limit(1)).first()
    return None if run is None else _record(run)


def _record(run: EngagementRun) -> RunRecord:
    notes = RunNotes.from_stored(run.notes, f"engagement run {run.id}")
    return RunRecord(run.id, run.started_at, run.finished_at, run.trigger, run.campaign_id, notes)
