"""Read-only questions to the store, for `campaign status` and `campaign report`.

Pure functions: each takes a session (and, where "now" matters, the instant to judge by) and
returns plain dataclasses. Nothing here prints or formats; ``scheduler.views.reporting`` does that.
Counts are grouped in SQL, so a campaign of tens of thousands of deliveries costs one query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from scheduler.errors import UsageError
from scheduler.store.schema import Account, Alert, Campaign, Pause
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.states import ATTENTION, DeliveryState

STATE_ORDER: tuple[DeliveryState, ...] = (
    *ATTENTION,
    DeliveryState.SCHEDULED,
    DeliveryState.CLAIMED,
    DeliveryState.SENDING,
    DeliveryState.RETRY_WAITING,
    DeliveryState.SENT,
    DeliveryState.RETRACTED,
    DeliveryState.CANCELLED,
)
"""How states are listed everywhere people read them: what needs attention first."""

REPORTED: tuple[DeliveryState, ...] = (
    DeliveryState.SENT,
    DeliveryState.RETRACTED,
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
    DeliveryState.NEEDS_REVIEW,
    DeliveryState.MISSED,
    DeliveryState.CANCELLED,
)
"""The states a report lists, in its order: what went out, what did not and why."""


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    window_start: dt.date
    window_end: dt.date
    synced_at: dt.datetime | None
    synced_by: str | None


@dataclass
class StateCounts:
    """How many deliveries are in each state; every state is present, zero or not."""

    counts: dict[DeliveryState, int] = field(default_factory=lambda: dict.fromkeys(STATE_ORDER, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, state: DeliveryState, count: int) -> None:
        self.counts[state] += count


@dataclass(frozen=True)
class AttentionItem:
    key: str
    campaign_id: str
    post_id: str
    embassy_id: str
    platform: str
    part: int
    parts: int
    state: DeliveryState
    state_since: dt.datetime
    due_at: dt.datetime
    local_time: str
    """The embassy's wall time, ISO 8601 without offset."""
    timezone: str
    error_class: str | None
    error_message: str | None
    attempts: int


@dataclass(frozen=True)
class ActivePause:
    id: int
    campaign_id: str | None
    embassy_id: str | None
    platform: str | None
    post_id: str | None
    reason: str
    author: str
    since: dt.datetime

    @property
    def scope(self) -> dict[str, str | None]:
        """What it stops; None means "any". All None: everything, in every campaign."""
        return {
            "campaign": self.campaign_id,
            "embassy": self.embassy_id,
            "platform": self.platform,
            "post": self.post_id,
        }


@dataclass(frozen=True)
class AccountIssue:
    """An account that cannot post right now: suspended, or rate-limited until a later time."""

    campaign_id: str
    embassy_id: str
    platform: str
    handle: str
    suspended_at: dt.datetime | None
    suspended_reason: str | None
    rate_limited_until: dt.datetime | None


@dataclass(frozen=True)
class Retraction:
    """The copies of one post that one person retracted, for one reason."""

    campaign_id: str
    post_id: str
    copies: int
    by: str
    reason: str
    at: dt.datetime
    """When the last of these copies was deleted."""


@dataclass(frozen=True)
class StatusData:
    campaigns: list[CampaignInfo]
    now: dt.datetime
    states: StateCounts
    per_day: dict[dt.date, StateCounts]
    """Keyed by the embassy's local date."""
    per_embassy: dict[str, StateCounts]
    per_platform: dict[str, StateCounts]
    attention: list[AttentionItem]
    """Most urgent first (the order of ``ATTENTION``), then by due time; at most the limit."""
    pauses: list[ActivePause]
    accounts: list[AccountIssue]
    retractions: list[Retraction] = field(default_factory=list)
    """Posts taken down with `campaign retract`, the latest first."""

    @property
    def attention_total(self) -> int:
        return sum(self.states.counts[state] for state in ATTENTION)

    @property
    def attention_more(self) -> int:
        """Deliveries needing attention that are not listed, because of the limit."""
        return max(self.attention_total - len(self.attention), 0)


@dataclass(frozen=True)
class ReportRow:
    key: str
    campaign_id: str
    post_id: str
    embassy_id: str
    platform: str
    account: str
    """The account's handle, with its instance for Mastodon: what people search for."""
    part: int
    parts: int
    language: str
    state: DeliveryState
    state_since: dt.datetime
    due_at: dt.datetime
    local_time: str
    timezone: str
    sent_at: dt.datetime | None
    """When we recorded it as sent, on our clock."""
    platform_sent_at: dt.datetime | None
    """When the platform accepted it, on its clock; None when the platform did not say."""
    remote_id: str | None
    remote_url: str | None
    """For a retracted copy, the address it had: it no longer works."""
    retracted_at: dt.datetime | None
    retracted_by: str | None
    retraction_reason: str | None
    error_class: str | None
    error_message: str | None
    """For failures, the platform's message; for missed or cancelled ones, the reason."""
    attempts: int
    changed_after_sent: bool
    text: str


@dataclass(frozen=True)
class ReportData:
    campaigns: list[CampaignInfo]
    now: dt.datetime
    states: StateCounts
    rows: list[ReportRow]
    """Ordered as ``REPORTED`` (sent first), then by due time and key."""

    def section(self, *states: DeliveryState) -> list[ReportRow]:
        return [row for row in self.rows if row.state in states]


# --- campaigns --------------------------------------------------------------------------------


def select_campaigns(session: Session, campaign_id: str | None) -> list[CampaignInfo]:
    """Every campaign (none when nothing was synced yet), or only ``campaign_id``."""
    found = [
        CampaignInfo(c.id, c.name, c.window_start, c.window_end, c.synced_at, c.synced_by)
        for c in session.scalars(select(Campaign).order_by(Campaign.id))
    ]
    if campaign_id is None:
        return found
    chosen = [campaign for campaign in found if campaign.id == campaign_id]
    if not chosen:
        known = ", ".join(campaign.id for campaign in found) or "none: nothing was synced yet"
        raise UsageError(f"--campaign {campaign_id}: no such campaign; the database holds {known}")
    return chosen


def _in_campaigns(column: QueryableAttribute[str], campaign_id: str | None) -> ColumnElement[bool]:
    return true() if campaign_id is None else column == campaign_id


# --- status -----------------------------------------------------------------------------------


def status(
    session: Session, campaign_id: str | None, now: dt.datetime, attention_limit: int | None
) -> StatusData:
    """Counts by state per local day, embassy and platform; what needs attention; the brakes.

    ``attention_limit`` caps how many deliveries needing attention are listed (None: all).
    """
    campaigns = select_campaigns(session, campaign_id)
    states, per_day, per_embassy, per_platform = _counts(session, campaign_id)
    return StatusData(
        campaigns=campaigns,
        now=now,
        states=states,
        per_day=dict(sorted(per_day.items())),
        per_embassy=dict(sorted(per_embassy.items())),
        per_platform=dict(sorted(per_platform.items())),
        attention=_attention(session, campaign_id, attention_limit),
        pauses=active_pauses(session, campaign_id),
        accounts=account_issues(session, campaign_id, now),
        retractions=retractions(session, campaign_id),
    )


def _counts(
    session: Session, campaign_id: str | None
) -> tuple[StateCounts, dict[dt.date, StateCounts], dict[str, StateCounts], dict[str, StateCounts]]:
    local_date = func.substr(StoredDelivery.local_time, 1, 10)
    columns = (local_date, StoredDelivery.embassy_id, StoredDelivery.platform)
    rows = session.execute(
        select(*columns, StoredDelivery.state, func.count())
        .where(_in_campaigns(StoredDelivery.campaign_id, campaign_id))
        .group_by(*columns, StoredDelivery.state)
    )
    states = StateCounts()
    per_day: dict[dt.date, StateCounts] = defaultdict(StateCounts)
    per_embassy: dict[str, StateCounts] = defaultdict(StateCounts)
    per_platform: dict[str, StateCounts] = defaultdict(StateCounts)
    for day, embassy_id, platform, state_name, count in rows:
        state = DeliveryState(state_name)
        states.add(state, count)
        per_day[dt.date.fromisoformat(day)].add(state, count)
        per_embassy[embassy_id].add(state, count)
        per_platform[platform].add(state, count)
    return states, per_day, per_embassy, per_platform


def _state_rank(states: Iterable[DeliveryState]) -> ColumnElement[int]:
    return case(
        {str(state): rank for rank, state in enumerate(states)},
        value=StoredDelivery.state,
        else_=len(STATE_ORDER),
    )


def _attention(session: Session, campaign_id: str | None, limit: int | None) -> list[AttentionItem]:
    query = (
        select(StoredDelivery)
        .where(
            _in_campaigns(StoredDelivery.campaign_id, campaign_id),
            StoredDelivery.state.in_([str(state) for state in ATTENTION]),
        )
        .order_by(_state_rank(ATTENTION), StoredDelivery.due_at, StoredDelivery.key)
        .limit(limit)
    )
    return [AttentionItem(**_delivery_fields(row)) for row in session.scalars(query)]


def _delivery_fields(row: StoredDelivery) -> dict[str, Any]:
    """The fields every listing of deliveries shows (:class:`AttentionItem`, :class:`ReportRow`)."""
    return {
        "key": row.key,
        "campaign_id": row.campaign_id,
        "post_id": row.post_id,
        "embassy_id": row.embassy_id,
        "platform": row.platform,
        "part": row.part,
        "parts": row.parts,
        "state": DeliveryState(row.state),
        "state_since": row.state_since,
        "due_at": row.due_at,
        "local_time": row.local_time,
        "timezone": row.timezone,
        "error_class": row.error_class,
        "error_message": row.error_message,
        "attempts": row.attempt_count,
    }


def active_pauses(session: Session, campaign_id: str | None) -> list[ActivePause]:
    """Pauses not lifted; for one campaign, also those that stop every campaign."""
    where: ColumnElement[bool] = Pause.lifted_at.is_(None)
    if campaign_id is not None:
        where &= Pause.campaign_id.is_(None) | (Pause.campaign_id == campaign_id)
    return [
        ActivePause(
            id=pause.id,
            campaign_id=pause.campaign_id,
            embassy_id=pause.embassy_id,
            platform=pause.platform,
            post_id=pause.post_id,
            reason=pause.reason,
            author=pause.author,
            since=pause.created_at,
        )
        for pause in session.scalars(select(Pause).where(where).order_by(Pause.created_at))
    ]


def retractions(session: Session, campaign_id: str | None) -> list[Retraction]:
    """Retracted copies, one entry per post, person and reason; the latest first."""
    columns = (
        StoredDelivery.campaign_id,
        StoredDelivery.post_id,
        StoredDelivery.retracted_by,
        StoredDelivery.retraction_reason,
    )
    latest = func.max(func.coalesce(StoredDelivery.retracted_at, StoredDelivery.state_since))
    query = (
        select(*columns, func.count(), latest)
        .where(
            _in_campaigns(StoredDelivery.campaign_id, campaign_id),
            StoredDelivery.state == str(DeliveryState.RETRACTED),
        )
        .group_by(*columns)
        .order_by(latest.desc(), *columns)
    )
    return [
        Retraction(campaign, post, copies, by or "unknown", reason or "not given", at)
        for campaign, post, by, reason, copies, at in session.execute(query)
    ]


def account_issues(
    session: Session, campaign_id: str | None, now: dt.datetime
) -> list[AccountIssue]:
    """Accounts that are suspended, or rate-limited beyond ``now``."""
    query = (
        select(Account)
        .where(
            _in_campaigns(Account.campaign_id, campaign_id),
            Account.suspended_at.is_not(None) | (Account.rate_limited_until > now),
        )
        .order_by(Account.campaign_id, Account.embassy_id, Account.platform)
    )
    return [
        AccountIssue(
            campaign_id=account.campaign_id,
            embassy_id=account.embassy_id,
            platform=account.platform,
            handle=display_handle(account.platform, account.handle, account.instance),
            suspended_at=account.suspended_at,
            suspended_reason=account.suspended_reason,
            rate_limited_until=(
                account.rate_limited_until
                if account.rate_limited_until is not None and account.rate_limited_until > now
                else None
            ),
        )
        for account in session.scalars(query)
    ]


def display_handle(platform: str, handle: str, instance: str | None) -> str:
    """``@name@host`` on Mastodon, where a bare ``@name`` says little; the handle elsewhere."""
    if platform == "mastodon" and instance and handle.lstrip("@").count("@") == 0:
        host = urlsplit(instance).hostname
        return f"@{handle.lstrip('@')}@{host}" if host else handle
    return handle


# --- report -----------------------------------------------------------------------------------


def report(session: Session, campaign_id: str | None, now: dt.datetime) -> ReportData:
    """What went out (with its URL), what failed and why, what was missed or cancelled."""
    campaigns = select_campaigns(session, campaign_id)
    states, _, _, _ = _counts(session, campaign_id)
    query = (
        select(StoredDelivery, Account.handle, Account.instance)
        .join(Account, Account.id == StoredDelivery.account_id)
        .where(
            _in_campaigns(StoredDelivery.campaign_id, campaign_id),
            StoredDelivery.state.in_([str(state) for state in REPORTED]),
        )
        .order_by(_state_rank(REPORTED), StoredDelivery.due_at, StoredDelivery.key)
    )
    rows = [
        _report_row(row, display_handle(row.platform, handle, instance))
        for row, handle, instance in session.execute(query)
    ]
    return ReportData(campaigns=campaigns, now=now, states=states, rows=rows)


def _report_row(row: StoredDelivery, account: str) -> ReportRow:
    # The documents' models load the campaign file's (pydantic): `campaign status` need not.
    from scheduler.store.documents import DeliveryPayload

    return ReportRow(
        **_delivery_fields(row),
        account=account,
        language=row.language,
        sent_at=row.sent_at,
        platform_sent_at=row.platform_sent_at,
        remote_id=row.remote_id,
        remote_url=row.remote_url,
        retracted_at=row.retracted_at,
        retracted_by=row.retracted_by,
        retraction_reason=row.retraction_reason,
        changed_after_sent=row.changed_after_sent,
        text=DeliveryPayload.of(row).text,
    )


# --- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gauges:
    """What the store holds right now, for a daemon's /metrics."""

    states: dict[str, int]
    """How many deliveries are in each state present, as stored (a state unknown to this version
    included)."""
    active_pauses: int
    suspended_accounts: int
    unsent_alerts: int


def gauges(session: Session) -> Gauges:
    query = select(StoredDelivery.state, func.count(StoredDelivery.id)).group_by(
        StoredDelivery.state
    )
    return Gauges(
        states={str(state): int(count) for state, count in session.execute(query)},
        active_pauses=_count(session, Pause.id, Pause.lifted_at.is_(None)),
        suspended_accounts=_count(session, Account.id, Account.suspended_at.is_not(None)),
        unsent_alerts=_count(session, Alert.id, Alert.sent_at.is_(None)),
    )


def _count(session: Session, column: QueryableAttribute[int], where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count(column)).where(where)) or 0)
