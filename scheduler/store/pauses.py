"""The kill switch: pauses, and the accounts the daemon suspended.

A pause is a row; the claim statement itself checks for it (scheduler.store.claims.paused), so it
holds for every daemon from the moment its transaction commits. Resuming lifts pauses, and
releases the accounts that match, which the daemon suspends on invalid credentials or credit.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select, true, update
from sqlalchemy.orm import Session

from scheduler.errors import UsageError
from scheduler.store.alerts import AlertKind, raise_alert
from scheduler.store.audit import record
from scheduler.store.schema import Account, Campaign, Delivery, Embassy, Pause, Post
from scheduler.store.states import DeliveryState

UNSENT = tuple(
    str(state)
    for state in (
        DeliveryState.AWAITING_APPROVAL,
        DeliveryState.SCHEDULED,
        DeliveryState.RETRY_WAITING,
        DeliveryState.CLAIMED,
    )
)
"""What a pause holds back: a claimed delivery too, since its call starts only if no pause
covers it then (scheduler.store.claims)."""
IN_FLIGHT = (str(DeliveryState.SENDING),)
"""What a pause cannot stop: an attempt is recorded and the platform call may be under way."""


@dataclass(frozen=True)
class Scope:
    campaign_id: str | None = None
    embassy_id: str | None = None
    platform: str | None = None
    post_id: str | None = None

    def describe(self) -> str:
        parts = [
            f"{name} {value}"
            for name, value in (
                ("campaign", self.campaign_id),
                ("embassy", self.embassy_id),
                ("platform", self.platform),
                ("post", self.post_id),
            )
            if value
        ]
        return ", ".join(parts) or "everything"


def pause(session: Session, scope: Scope, *, reason: str, actor: str, now: dt.datetime) -> int:
    if not reason.strip():
        raise UsageError("--reason: say why, for the team and the audit log")
    check_targets(session, scope)
    row = Pause(
        campaign_id=scope.campaign_id,
        embassy_id=scope.embassy_id,
        platform=scope.platform,
        post_id=scope.post_id,
        reason=reason,
        author=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    message = f"paused {scope.describe()} by {actor}: {reason}"
    raise_alert(session, now, AlertKind.PAUSED, message, campaign_id=scope.campaign_id)
    record(session, now, actor, "pause", scope.campaign_id, scope.describe(), reason=reason)
    return row.id


def resume(
    session: Session, scope: Scope | None, *, pause_id: int | None, actor: str, now: dt.datetime
) -> tuple[int, int]:
    """Lift the pauses with exactly this scope (or the one with ``pause_id``); release the
    suspended accounts it covers. Returns (pauses lifted, accounts released)."""
    if pause_id is None:
        check_targets(session, scope or Scope(), paused=True)
    where = Pause.id == pause_id if pause_id is not None else _same_scope(scope or Scope())
    lifted = session.execute(
        update(Pause)
        .where(where, Pause.lifted_at.is_(None))
        .values(lifted_at=now, lifted_by=actor)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    released = _release(session, scope or Scope()) if pause_id is None else 0
    _resumed(session, _what(scope, pause_id), lifted, released, actor=actor, now=now)
    return lifted, released


def resume_all(
    session: Session, campaign_id: str | None, *, actor: str, now: dt.datetime
) -> tuple[int, int]:
    """Lift every pause that stops ``campaign_id`` (those of any scope inside it, and those
    that stop every campaign) and release its suspended accounts; with None, every campaign's.
    Returns (pauses lifted, accounts released)."""
    scope = Scope(campaign_id)
    check_targets(session, scope, paused=True)
    stops: ColumnElement[bool] = Pause.lifted_at.is_(None)
    if campaign_id is not None:
        stops &= Pause.campaign_id.is_(None) | (Pause.campaign_id == campaign_id)
    lifted = session.execute(
        update(Pause)
        .where(stops)
        .values(lifted_at=now, lifted_by=actor)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    released = _release(session, scope)
    description = "everything" + (f" in campaign {campaign_id}" if campaign_id else "")
    _resumed(session, description, lifted, released, actor=actor, now=now)
    return lifted, released


def _release(session: Session, scope: Scope) -> int:
    released: int = session.execute(
        update(Account)
        .where(_accounts(scope), Account.suspended_at.is_not(None))
        .values(suspended_at=None, suspended_reason=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return released


def _resumed(
    session: Session, description: str, lifted: int, released: int, *, actor: str, now: dt.datetime
) -> None:
    """Refuse a resume that changed nothing (so that it is not recorded as done); alert the
    team and write the audit log."""
    if not lifted and not released:
        raise UsageError(f"nothing to resume for {description}; `campaign status` lists pauses")
    message = f"resumed {description} by {actor}: {lifted} pause(s), {released} account(s)"
    raise_alert(session, now, AlertKind.RESUMED, message)
    record(session, now, actor, "resume", None, description, pauses=lifted, accounts=released)


def held(session: Session, scope: Scope) -> tuple[int, int]:
    """The deliveries a pause of ``scope`` covers: (not sent yet, so held; being sent now, which
    go out or fail whatever the pause)."""
    covered = and_(
        true(),
        *(
            column == value
            for column, value in (
                (Delivery.campaign_id, scope.campaign_id),
                (Delivery.embassy_id, scope.embassy_id),
                (Delivery.platform, scope.platform),
                (Delivery.post_id, scope.post_id),
            )
            if value is not None
        ),
    )
    query = (
        select(Delivery.state, func.count())
        .where(covered, Delivery.state.in_(UNSENT + IN_FLIGHT))
        .group_by(Delivery.state)
    )
    counts: dict[str, int] = {state: count for state, count in session.execute(query)}  # noqa: C416
    unsent = sum(counts.get(state, 0) for state in UNSENT)
    return unsent, sum(counts.get(state, 0) for state in IN_FLIGHT)


def targets(session: Session, campaign_id: str | None) -> tuple[list[str], list[str]]:
    """What a pause can name in ``campaign_id`` (None: in any campaign): its embassies, and the
    platforms its accounts are on."""
    embassies = select(Embassy.id).distinct().order_by(Embassy.id)
    platforms = select(Account.platform).distinct().order_by(Account.platform)
    if campaign_id is not None:
        embassies = embassies.where(Embassy.campaign_id == campaign_id)
        platforms = platforms.where(Account.campaign_id == campaign_id)
    return list(session.scalars(embassies)), list(session.scalars(platforms))


def check_targets(session: Session, scope: Scope, *, paused: bool = False) -> None:
    """Refuse a campaign, embassy or post that the database does not hold (UsageError, naming
    the ones it does): a typo in an emergency must not pause nothing while looking done. With
    ``paused``, an id that an active pause names is accepted too, so that such a pause can be
    lifted after its target left the campaign."""
    in_campaign = scope.campaign_id
    checks = (
        ("--campaign", "campaign", scope.campaign_id, select(Campaign.id), Pause.campaign_id),
        ("--embassy", "embassy", scope.embassy_id,
         select(Embassy.id).where(true() if in_campaign is None
                                  else Embassy.campaign_id == in_campaign),
         Pause.embassy_id),
        ("--post", "post", scope.post_id,
         select(Post.id).where(true() if in_campaign is None else Post.campaign_id == in_campaign),
         Pause.post_id),
    )  # fmt: skip
    for option, noun, value, query, paused_column in checks:
        if value is None:
            continue
        known = sorted(set(session.scalars(query)))
        if paused:
            active = select(paused_column).where(Pause.lifted_at.is_(None))
            known = sorted(set(known) | {v for v in session.scalars(active) if v is not None})
        if value in known:
            continue
        where = (
            f" in campaign {scope.campaign_id}" if noun != "campaign" and scope.campaign_id else ""
        )
        hint = difflib.get_close_matches(value, known, n=1)
        message = f"{option} {value}: no such {noun}{where}"
        if hint:
            message += f" (did you mean '{hint[0]}'?)"
        message += "; expected one of: " + (", ".join(known) or "(none synced yet)")
        raise UsageError(f"{message}; nothing was {'resumed' if paused else 'paused'}")


def suspend_account(
    session: Session, account: Account, reason: str, now: dt.datetime, *, subject: str | None = None
) -> bool:
    """The account stops posting, for every daemon, until `campaign resume` releases it; the
    team is alerted the first time. False when it was suspended already."""
    suspended = session.execute(
        update(Account)
        .where(Account.id == account.id, Account.suspended_at.is_(None))
        .values(suspended_at=now, suspended_reason=reason[:500])
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if suspended:
        message = f"{account.embassy_id} on {account.platform}: account suspended: {reason}"
        raise_alert(session, now, AlertKind.SUSPENDED, message, campaign_id=account.campaign_id,
                    subject=subject)  # fmt: skip
    return bool(suspended)


def active_pauses(session: Session) -> list[Pause]:
    return list(session.scalars(select(Pause).where(Pause.lifted_at.is_(None)).order_by(Pause.id)))


def _same_scope(scope: Scope) -> ColumnElement[bool]:
    return and_(
        *(
            column.is_(None) if value is None else column == value
            for column, value in (
                (Pause.campaign_id, scope.campaign_id),
                (Pause.embassy_id, scope.embassy_id),
                (Pause.platform, scope.platform),
                (Pause.post_id, scope.post_id),
            )
        )
    )


def _accounts(scope: Scope) -> ColumnElement[bool]:
    conditions = [
        column == value
        for column, value in (
            (Account.campaign_id, scope.campaign_id),
            (Account.embassy_id, scope.embassy_id),
            (Account.platform, scope.platform),
        )
        if value is not None
    ]
    return and_(true(), *conditions)


def _what(scope: Scope | None, pause_id: int | None) -> str:
    return f"pause {pause_id}" if pause_id is not None else (scope or Scope()).describe()
