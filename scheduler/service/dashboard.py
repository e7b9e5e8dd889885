"""What the web dashboard's pages show: the calendar, the problems with their next actions, one
post with its deliveries and their counts against the platforms' limits, the next free slots.

Read-only, each in one snapshot. Problems come from the status query (its attention list and
its accounts that cannot post); "paused" from the claim's own condition; the counts from the
stored payload (counted by the planner with the adapters' rules, as the checks count) and the
adapters' ``too_long``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from adapters.capabilities import CAPABILITIES, Platform
from adapters.textlength import too_long, utf8_bytes
from scheduler.campaign.model import CampaignFile, Replies, Visibility
from scheduler.campaign.model import Post as PostSpec
from scheduler.campaign.planner import AccountFacts, Attachment, PostFacts
from scheduler.campaign.planner import Delivery as PlannedDelivery
from scheduler.campaign.timing import ResolvedTime
from scheduler.errors import UsageError
from scheduler.problems import FieldPath
from scheduler.service.clock import now_utc
from scheduler.service.queue import list_posts
from scheduler.store import calendar as store
from scheduler.store import queries
from scheduler.store.database import Database
from scheduler.store.documents import (
    CampaignDefinition,
    DeliveryPayload,
    PayloadMedia,
    PostDefinition,
)
from scheduler.store.posts import choose_campaign, free_slots
from scheduler.store.queries import AccountIssue, AttentionItem, CampaignInfo
from scheduler.store.states import DeliveryState

MAX_DAYS = 31
"""The most days one calendar page shows: a campaign of 2,000 embassies stays one query."""


class DisplayState(StrEnum):
    """A delivery's state as the dashboard shows it: the store's states, in a comms officer's
    words, with "paused" for a delivery that an active pause holds back."""

    SCHEDULED = "scheduled"
    AWAITING_APPROVAL = "awaiting approval"
    PAUSED = "paused"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown outcome"
    MISSED = "missed"
    CANCELLED = "cancelled"
    RETRACTED = "retracted"


_SHOWN: dict[DeliveryState, DisplayState] = {
    DeliveryState.AWAITING_APPROVAL: DisplayState.AWAITING_APPROVAL,
    DeliveryState.SCHEDULED: DisplayState.SCHEDULED,
    DeliveryState.CLAIMED: DisplayState.SENDING,
    DeliveryState.SENDING: DisplayState.SENDING,
    DeliveryState.RETRY_WAITING: DisplayState.SENDING,  # a transient error: it tries again
    DeliveryState.SENT: DisplayState.SENT,
    DeliveryState.FAILED: DisplayState.FAILED,
    DeliveryState.UNKNOWN: DisplayState.UNKNOWN,
    DeliveryState.NEEDS_REVIEW: DisplayState.UNKNOWN,
    DeliveryState.MISSED: DisplayState.MISSED,
    DeliveryState.CANCELLED: DisplayState.CANCELLED,
    DeliveryState.RETRACTED: DisplayState.RETRACTED,
}
_PAUSABLE = frozenset({DeliveryState.SCHEDULED, DeliveryState.CLAIMED, DeliveryState.RETRY_WAITING})
"""What a pause holds back: deliveries that would otherwise be claimed. One awaiting approval
waits for that first."""


def _display_state(state: DeliveryState, paused: bool) -> DisplayState:
    return DisplayState.PAUSED if paused and state in _PAUSABLE else _SHOWN[state]


def _web_link(url: str | None) -> str | None:
    """The address, if it is an http(s) one: anything else is never made a link (as
    ``views.pages.is_web_url`` decides for the templates)."""
    if url is None or urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return url


def _reason(error_class: str | None, message: str | None) -> str | None:
    if error_class and message:
        return f"{error_class}: {message}"
    return message or error_class


# --- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    """One delivery in a cell of the calendar."""

    key: str
    campaign_id: str
    post_id: str
    part: int
    parts: int
    embassy_id: str
    platform: str
    language: str
    account: str
    """The account's handle, with its instance on Mastodon."""
    local_time: dt.datetime
    """The embassy's wall time (naive)."""
    timezone: str
    due_at: dt.datetime
    """The UTC instant."""
    state: DisplayState
    stored_state: DeliveryState
    url: str | None
    """The sent post's address: an http(s) one only, else None."""
    reason: str | None
    """Why it failed, was missed, cancelled or is in doubt: the stored error."""


@dataclass(frozen=True)
class CalendarCell:
    embassy_id: str
    entries: list[CalendarEntry]


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date
    """A local day: each embassy's entries are those due on this date on its own clocks."""
    in_window: bool
    cells: list[CalendarCell]
    """One per embassy shown, in the order of ``CalendarData.embassies``."""


@dataclass(frozen=True)
class CalendarFilters:
    """What a calendar may be filtered by (the values present), and what it is filtered by."""

    embassies: list[str]
    platforms: list[str]
    languages: list[str]
    states: list[DisplayState]
    embassy: str | None
    platform: str | None
    language: str | None
    state: DisplayState | None


@dataclass(frozen=True)
class CalendarData:
    campaign: CampaignInfo
    start: dt.date
    days: int
    embassies: list[str]
    rows: list[CalendarDay]
    filters: CalendarFilters
    now: dt.datetime

    @property
    def entries(self) -> list[CalendarEntry]:
        return [entry for row in self.rows for cell in row.cells for entry in cell.entries]


def calendar(
    database: Database,
    *,
    campaign_id: str | None = None,
    start: dt.date | None = None,
    days: int = 7,
    platform: str | None = None,
    language: str | None = None,
    state: str | None = None,
    embassy: str | None = None,
    now: dt.datetime | None = None,
) -> CalendarData:
    """The local days ``start`` (default: today, within the campaign's window) to ``start +
    days - 1`` by the campaign's embassies, each cell the deliveries of that embassy due on that
    local day; filtered by platform, language, state (a :class:`DisplayState` value) and
    embassy. A value that is not one of those offered is refused (UsageError), naming it."""
    moment = now or now_utc()
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"days: {days} is not between 1 and {MAX_DAYS}")
    with database.snapshot() as session:
        chosen = choose_campaign(session, campaign_id)
        info = queries.select_campaigns(session, chosen.id)[0]
        values = store.filter_values(session, chosen.id)
        shown_state = _chosen_state(state)
        for name, value, offered in (
            ("embassy", embassy, values.embassies),
            ("platform", platform, values.platforms),
            ("language", language, values.languages),
        ):
            _check_offered(name, value, offered)
        first = start or min(max(moment.date(), info.window_start), info.window_end)
        last = first + dt.timedelta(days=days - 1)
        listed = store.deliveries_between(
            session, chosen.id, first, last, platform=platform, language=language, embassy=embassy
        )
    entries = [_entry(item) for item in listed]
    if shown_state is not None:
        entries = [entry for entry in entries if entry.state is shown_state]
    embassies = [embassy] if embassy is not None else values.embassies
    filters = CalendarFilters(
        values.embassies, values.platforms, values.languages, list(DisplayState),
        embassy, platform, language, shown_state,
    )  # fmt: skip
    return CalendarData(
        info, first, days, embassies, _rows(entries, embassies, first, days, info), filters, moment
    )


def _chosen_state(state: str | None) -> DisplayState | None:
    if state is None:
        return None
    try:  # "awaiting_approval" or "awaiting-approval" in an address
        return DisplayState(state.replace("_", " ").replace("-", " "))
    except ValueError:
        expected = ", ".join(str(value) for value in DisplayState)
        raise UsageError(f"state: {state!r} is not a state; expected one of: {expected}") from None


def _check_offered(name: str, value: str | None, offered: Sequence[str]) -> None:
    if value is not None and value not in offered:
        known = ", ".join(offered) or "(none)"
        raise UsageError(f"{name}: no {name} {value!r} in this campaign; expected one of: {known}")


def _entry(item: store.Listed) -> CalendarEntry:
    row = item.row
    stored = DeliveryState(row.state)
    return CalendarEntry(
        key=row.key,
        campaign_id=row.campaign_id,
        post_id=row.post_id,
        part=row.part,
        parts=row.parts,
        embassy_id=row.embassy_id,
        platform=row.platform,
        language=row.language,
        account=item.handle,
        local_time=dt.datetime.fromisoformat(row.local_time),
        timezone=row.timezone,
        due_at=row.due_at,
        state=_display_state(stored, item.paused),
        stored_state=stored,
        url=_web_link(row.remote_url),
        reason=_reason(row.error_class, row.error_message),
    )


def _rows(
    entries: list[CalendarEntry],
    embassies: list[str],
    first: dt.date,
    days: int,
    info: CampaignInfo,
) -> list[CalendarDay]:
    cells: dict[tuple[dt.date, str], list[CalendarEntry]] = {}
    for entry in entries:
        cells.setdefault((entry.local_time.date(), entry.embassy_id), []).append(entry)
    rows = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        row = [CalendarCell(e, cells.get((day, e), [])) for e in embassies]
        rows.append(CalendarDay(day, info.window_start <= day <= info.window_end, row))
    return rows


# --- problems -----------------------------------------------------------------------------------


class ProblemKind(StrEnum):
    FAILED = "failed"
    UNKNOWN = "unknown outcome"
    NEEDS_REVIEW = "needs review"
    MISSED = "missed"
    SUSPENDED = "account suspended"
    RATE_LIMITED = "account rate-limited"


@dataclass(frozen=True)
class ProblemItem:
    """Something that went wrong, what to do about it, and where."""

    kind: ProblemKind
    campaign_id: str
    post_id: str | None
    """None for an account's problem."""
    key: str | None
    """The delivery's whole key (campaign/post/embassy/platform/part), None for an account."""
    embassy_id: str
    platform: str
    account: str
    part: int | None
    when: dt.datetime
    """When it was due (a delivery), suspended, or rate-limited until (an account)."""
    local_time: str | None
    """The embassy's wall time it was due at, ISO 8601 without offset."""
    timezone: str | None
    reason: str | None
    """The stored error, or the reason the account was suspended."""
    next_action: str
    """What to do next, in plain words."""
    page: str | None
    """The dashboard page where it is done."""
    command: str
    """The command that does it."""


_DELIVERY_PROBLEMS: dict[DeliveryState, tuple[ProblemKind, str, str]] = {
    DeliveryState.FAILED: (
        ProblemKind.FAILED,
        "read the reason; fix the post or the account (edit the post, or renew the account's "
        "token), then put it back on the schedule",
        "campaign settle {id} --retry",
    ),
    DeliveryState.UNKNOWN: (
        ProblemKind.UNKNOWN,
        "wait a few minutes: the daemon checks the platform itself; if it stays unknown, open "
        "the account and check whether it went out, then settle it as posted or not posted",
        "campaign settle {id} --posted URL | --not-posted",
    ),
    DeliveryState.NEEDS_REVIEW: (
        ProblemKind.NEEDS_REVIEW,
        "open the account and check whether it went out; then settle it as posted (with its "
        "address) or not posted",
        "campaign settle {id} --posted URL | --not-posted",
    ),
    DeliveryState.MISSED: (
        ProblemKind.MISSED,
        "it was too late to send; if it should still go out, put it back on the schedule "
        "(it goes at once if within its grace) or queue a new post",
        "campaign settle {id} --retry",
    ),
}


@dataclass(frozen=True)
class Overview:
    """What the overview shows: `campaign status`'s counts and the problems, of one snapshot."""

    status: queries.StatusData
    """The counts (its ``attention`` lists every item: the problems come from it)."""
    problems: list[ProblemItem]


def overview(
    database: Database, *, campaign_id: str | None = None, now: dt.datetime | None = None
) -> Overview:
    """The status and its problems from one status query."""
    moment = now or now_utc()
    with database.snapshot() as session:
        found = queries.status(session, campaign_id, moment, None)
        handles = store.account_handles(session, campaign_id)
    items = [
        _delivery_problem(item, handles)
        for item in found.attention
        if item.state in _DELIVERY_PROBLEMS
    ]
    return Overview(found, items + [_account_problem(issue) for issue in found.accounts])


def problems(
    database: Database, *, campaign_id: str | None = None, now: dt.datetime | None = None
) -> list[ProblemItem]:
    """Failed, unknown, missed deliveries and accounts that cannot post, the most urgent first
    (the status query's order), each with its reason and its next action."""
    return overview(database, campaign_id=campaign_id, now=now).problems


def _delivery_problem(
    item: AttentionItem, handles: Mapping[tuple[str, str, str], str]
) -> ProblemItem:
    kind, action, command = _DELIVERY_PROBLEMS[item.state]
    return ProblemItem(
        kind=kind,
        campaign_id=item.campaign_id,
        post_id=item.post_id,
        key=item.key,
        embassy_id=item.embassy_id,
        platform=item.platform,
        account=handles.get((item.campaign_id, item.embassy_id, item.platform), ""),
        part=item.part,
        when=item.due_at,
        local_time=item.local_time,
        timezone=item.timezone,
        reason=_reason(item.error_class, item.error_message),
        next_action=action,
        page=f"/posts/{item.post_id}?campaign={item.campaign_id}",
        command=command.format(id=item.key),
    )


def _account_problem(issue: AccountIssue) -> ProblemItem:
    scope = f"--embassy {issue.embassy_id} --platform {issue.platform}"
    if issue.suspended_at is not None:
        kind, when = ProblemKind.SUSPENDED, issue.suspended_at
        action = (
            "renew the account's token (or top up its credit), check it, then resume the "
            "account: its posts wait until then"
        )
        command = f"campaign auth {issue.platform} --account {issue.embassy_id}; "
        command += f"campaign check; campaign resume {scope}"
        page: str | None = f"/pauses?campaign={issue.campaign_id}"
    else:
        assert issue.rate_limited_until is not None, "account_issues lists only these two"
        kind, when = ProblemKind.RATE_LIMITED, issue.rate_limited_until
        action = "nothing to do: the platform limits the account for now; posts resume then"
        command, page = "campaign status", None
    return ProblemItem(
        kind=kind,
        campaign_id=issue.campaign_id,
        post_id=None,
        key=None,
        embassy_id=issue.embassy_id,
        platform=issue.platform,
        account=issue.handle,
        part=None,
        when=when,
        local_time=None,
        timezone=None,
        reason=issue.suspended_reason,
        next_action=action,
        page=page,
        command=command,
    )


# --- the posts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostSummary:
    """One post of the campaign in the list: who wrote which version, where its copies are."""

    post_id: str
    origin: str
    version: int
    author: str
    cancelled: bool
    states: dict[DeliveryState, int]
    """How many of its deliveries are in each stored state."""
    first_due: str | None
    """The first copy's local time and zone ('2026-11-25 09:00 Europe/Paris'), whatever its
    state."""
    first_due_utc: str | None
    next_due: str | None
    """The next copy still to go, the same way; None when none waits."""
    text: str
    """The start of its text."""

    @property
    def awaiting_approval(self) -> int:
        return 0 if self.cancelled else self.states.get(DeliveryState.AWAITING_APPROVAL, 0)


def post_list(database: Database, *, campaign_id: str | None = None) -> list[PostSummary]:
    """Every post of the campaign, from the file and queued: those awaiting approval first (an
    approver's to-do list), then by their first copy's time."""
    rows = list_posts(database, campaign_id, queued_only=False)
    found = [
        PostSummary(
            post_id=row["id"],
            origin=row["origin"],
            version=row["version"],
            author=row["author"],
            cancelled=row["cancelled"],
            states={DeliveryState(state): n for state, n in sorted(row["states"].items())},
            first_due=row["first_due"],
            first_due_utc=row["first_due_utc"],
            next_due=row["next_due"],
            text=row["text"],
        )
        for row in rows
    ]
    return sorted(found, key=lambda p: (not p.awaiting_approval, p.first_due_utc or "~", p.post_id))


# --- one post -----------------------------------------------------------------------------------


class NoSuchPost(UsageError):
    """The campaign has no post of that id (a 404 for the dashboard)."""


@dataclass(frozen=True)
class ApprovalInfo:
    approver: str
    at: dt.datetime
    version: int
    current: bool
    """For the post's current version (an edit makes earlier approvals not count)."""


@dataclass(frozen=True)
class AltCount:
    file: str
    length: int
    limit: int

    @property
    def over(self) -> bool:
        return self.length > self.limit


@dataclass(frozen=True)
class LimitCounts:
    """One delivery against its platform's limits, counted as the checks count."""

    length: int
    """The platform's count of the text (X's weighted count, Mastodon's, Bluesky's graphemes),
    content warning included where the platform counts it."""
    limit: int
    """The account's limit (a Mastodon instance may raise it), else the platform's."""
    size: int
    """UTF-8 bytes of the text."""
    max_bytes: int | None
    """Where the platform caps bytes too (Bluesky)."""
    too_long: str | None
    """What the text is over, as the checks say it ("at most 280"); None when it fits."""
    images: int
    max_images: int
    alts: list[AltCount]

    @property
    def over(self) -> bool:
        return (
            self.too_long is not None
            or self.images > self.max_images
            or any(alt.over for alt in self.alts)
        )


@dataclass(frozen=True)
class DeliveryDetail:
    key: str
    embassy_id: str
    platform: str
    account: str
    language: str
    part: int
    parts: int
    local_time: dt.datetime
    timezone: str
    due_at: dt.datetime
    state: DisplayState
    stored_state: DeliveryState
    remote_url: str | None
    """As stored (for a retracted copy, an address that no longer works)."""
    url: str | None
    """``remote_url`` if it is http(s), for a link."""
    error: str | None
    """The last error, or why it was missed or cancelled."""
    text: str
    """Exactly what is (or was) sent."""
    content_warning: str | None
    visibility: str
    replies: str
    media: tuple[PayloadMedia, ...]
    counts: LimitCounts
    planned: PlannedDelivery
    """The delivery in the planner's shape, for the preview's cards (``render_cards``)."""


@dataclass(frozen=True)
class PostDetail:
    campaign_id: str
    post_id: str
    origin: str
    """"file" (the campaign file) or "queue" (queued from the CLI or the dashboard)."""
    version: int
    author: str
    created_at: dt.datetime
    updated_at: dt.datetime
    cancelled_at: dt.datetime | None
    definition: PostSpec
    """As written: texts per language (``definition.parts()``), images with alt text per
    language, targets, day/date/time/at, replies, visibility, content warning."""
    fields: Mapping[str, Any]
    """The fields written, as stored (what an edit form starts from)."""
    placement: Mapping[str, str] | None
    """For a queued post without a time, the slot chosen per embassy (local wall time)."""
    approvals: list[ApprovalInfo]
    approval_required: bool
    two_person_rule: bool
    deliveries: list[DeliveryDetail]
    now: dt.datetime

    @property
    def approved(self) -> bool:
        """Whether the current version is approved."""
        return any(approval.current for approval in self.approvals)

    @property
    def planned(self) -> list[PlannedDelivery]:
        return [delivery.planned for delivery in self.deliveries]


def post_detail(
    database: Database,
    post_id: str,
    *,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> PostDetail:
    """One post: as written, who wrote and approved which version, and each of its deliveries
    with the exact text it sends, its state and its counts against the platform's limits."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        post, approvals = store.post_with_approvals(session, campaign.id, post_id)
        if post is None:
            raise NoSuchPost(f"no post '{post_id}' in campaign {campaign.id}")
        policy = CampaignDefinition.of(campaign).policies.approval
        written = PostDefinition.of(post)
        listed = store.post_deliveries(session, campaign.id, post_id)
        payloads = [DeliveryPayload.of(item.row) for item in listed]
        hashes = sorted({m.sha256 for payload in payloads for m in payload.media})
        sizes = store.media_sizes(session, hashes)
        return PostDetail(
            campaign_id=campaign.id,
            post_id=post.id,
            origin=post.origin,
            version=post.version,
            author=post.author,
            created_at=post.created_at,
            updated_at=post.updated_at,
            cancelled_at=post.cancelled_at,
            definition=written.post,
            fields=written.fields,
            placement=post.placement,
            approvals=[
                ApprovalInfo(a.approver, a.at, a.version, a.version == post.version)
                for a in approvals
            ],
            approval_required=policy.required,
            two_person_rule=policy.two_person_rule,
            deliveries=[
                _detail(item, payload, sizes)
                for item, payload in zip(listed, payloads, strict=True)
            ],
            now=now or now_utc(),
        )


def _detail(
    item: store.Listed, payload: DeliveryPayload, sizes: Mapping[str, int]
) -> DeliveryDetail:
    row = item.row
    stored = DeliveryState(row.state)
    planned = _planned(item, payload, sizes)
    return DeliveryDetail(
        key=row.key,
        embassy_id=row.embassy_id,
        platform=row.platform,
        account=item.handle,
        language=row.language,
        part=row.part,
        parts=row.parts,
        local_time=planned.local_time,
        timezone=row.timezone,
        due_at=row.due_at,
        state=_display_state(stored, item.paused),
        stored_state=stored,
        remote_url=row.remote_url,
        url=_web_link(row.remote_url),
        error=_reason(row.error_class, row.error_message),
        text=payload.text,
        content_warning=payload.content_warning,
        visibility=payload.visibility,
        replies=payload.replies,
        media=payload.media,
        counts=limit_counts(planned),
        planned=planned,
    )


def limit_counts(delivery: PlannedDelivery) -> LimitCounts:
    """The delivery against its platform's limits: the planner's count (made with the adapters'
    rules), ``too_long`` and the media limits, the numbers `campaign validate` checks."""
    capabilities = CAPABILITIES[delivery.platform]
    over = too_long(delivery.text, capabilities, length=delivery.length, limit=delivery.limit)
    return LimitCounts(
        length=delivery.length,
        limit=delivery.limit,
        size=utf8_bytes(delivery.text),
        max_bytes=capabilities.max_bytes,
        too_long=None if over is None else over.expected,
        images=len(delivery.media),
        max_images=capabilities.max_images,
        alts=[AltCount(m.file, len(m.alt), capabilities.max_alt_text) for m in delivery.media],
    )


def _planned(
    item: store.Listed, payload: DeliveryPayload, sizes: Mapping[str, int]
) -> PlannedDelivery:
    """The stored delivery in the planner's shape: what was planned, from what was stored."""
    row = item.row
    return PlannedDelivery(
        post=PostFacts(
            row.campaign_id,
            row.post_id,
            row.parts,
            Visibility(payload.visibility),
            Replies(payload.replies),
            dt.timedelta(seconds=row.grace_seconds),
        ),
        on=AccountFacts(
            row.embassy_id,
            Platform(row.platform),
            payload.account,
            payload.credentials,
            payload.instance,
            row.timezone,
            payload.limit,
        ),
        when=ResolvedTime(row.due_at, dt.datetime.fromisoformat(row.local_time)),
        part=row.part,
        language=row.language,
        text_utf8=payload.text.encode(),
        media=tuple(_attachment(m, sizes.get(m.sha256, 0)) for m in payload.media),
        content_warning=payload.content_warning,
        length=payload.length,
        source=_path(payload.source),
    )


def _attachment(media: PayloadMedia, size: int) -> Attachment:
    return Attachment(
        file=media.file,
        mime=media.mime,
        size=size,
        width=media.width,
        height=media.height,
        sha256=media.sha256,
        alt=media.alt,
        alt_language=media.alt_language,
    )


def _path(dotted: str) -> FieldPath:
    return tuple(int(step) if step.isdigit() else step for step in dotted.split("."))


# --- queueing without a time, images --------------------------------------------------------------


def next_free_slots(
    database: Database,
    definition: Mapping[str, Any],
    *,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, ResolvedTime]:
    """Embassy id -> the slot a post written as ``definition`` (the campaign file's shape, as
    far as it is filled in) would take if queued now without a time: the same search as
    `campaign queue add`. Only its id (an edit keeps its own slots free) and targets matter;
    targets that do not load yet give {}. No slot left before the campaign ends: UsageError."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        stored = CampaignDefinition.of(campaign)
        post_id = definition.get("id")
        # Only where it goes counts: a placeholder text and day let a half-filled form load.
        sketch = {
            "id": post_id if isinstance(post_id, str) and post_id else "new-post",
            "day": 1,
            "text": {stored.campaign.default_language: "-"},
            "targets": definition.get("targets", {}),
        }
        try:
            spec = CampaignFile.model_validate(stored.with_posts([sketch]))
        except ValidationError:
            return {}
        slots = free_slots(session, spec, spec.posts[0], now or now_utc())
    return {embassy: slot for (_, embassy), slot in slots.items()}


def media_bytes(database: Database, sha256: str) -> tuple[str, bytes] | None:
    """An image the store keeps, for the dashboard to serve at ``/media/{sha256}``: (its MIME
    type, its bytes), or None when the store holds no such image."""
    with database.snapshot() as session:
        return store.media_file(session, sha256)
