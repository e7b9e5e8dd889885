"""Posts in the store that do not come from a sync: queued, edited, cancelled, approved.

A queued post is written in the campaign file's own shape and checked by the same loader,
checks and planner as the file; only its deliveries' times may come from the queue's slot search
(:func:`free_slots`) rather than from the post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.capabilities import Platform
from scheduler.campaign.model import CampaignFile, Embassy
from scheduler.campaign.model import Post as PostSpec
from scheduler.campaign.planner import Delivery as PlannedDelivery
from scheduler.campaign.planner import targeted_embassies
from scheduler.campaign.timing import LocalTimeError, ResolvedTime, parse_clock, resolve_local, zone
from scheduler.errors import StoreError, UsageError
from scheduler.problems import Problem, error
from scheduler.store.documents import DeliveryPayload, PostDefinition
from scheduler.store.schema import Account, Campaign, Media, Post
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.states import DeliveryState

SLOT_LEAD = dt.timedelta(minutes=5)
"""A slot closer than this to now is not free: there must be time to review and approve."""


def choose_campaign(session: Session, campaign_id: str | None) -> Campaign:
    """The campaign asked for, or the only one in the store."""
    if campaign_id is not None:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise UsageError(f"--campaign {campaign_id}: no such campaign; {_known(session)}")
        return campaign
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.id)))
    if len(campaigns) == 1:
        return campaigns[0]
    if not campaigns:
        raise UsageError("the database holds no campaign yet: run `campaign sync FILE` first")
    raise UsageError(f"the database holds several campaigns; give --campaign: {_known(session)}")


def _known(session: Session) -> str:
    ids = list(session.scalars(select(Campaign.id).order_by(Campaign.id)))
    return "expected one of: " + (", ".join(ids) or "(none synced yet)")


def find_post(session: Session, campaign_id: str, post_id: str) -> Post:
    post = session.get(Post, (campaign_id, post_id), with_for_update=True)
    if post is None:
        queued = session.scalars(
            select(Post.id).where(Post.campaign_id == campaign_id).order_by(Post.id)
        )
        raise UsageError(
            f"no post '{post_id}' in campaign {campaign_id}; expected one of: " + ", ".join(queued)
        )
    return post


def post_exists(session: Session, campaign_id: str, post_id: str | None) -> bool:
    return session.get(Post, (campaign_id, post_id)) is not None


def campaign_definitions(session: Session) -> list[dict[str, Any]]:
    """The stored definition of every campaign."""
    return list(session.scalars(select(Campaign.definition)))


def get_account(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def detached_account(session: Session, account_id: int) -> Account:
    """The account, detached from the session: its columns can be read after the session ends."""
    account = session.get(Account, account_id)
    assert account is not None, "a delivery's account is never deleted"
    session.expunge(account)
    return account


def stored_accounts(session: Session, campaign_id: str) -> dict[tuple[str, str], Account]:
    accounts = session.scalars(select(Account).where(Account.campaign_id == campaign_id))
    return {(account.embassy_id, account.platform): account for account in accounts}


def has_time(definition: Mapping[str, Any]) -> bool:
    return any(key in definition for key in ("day", "date", "at"))


def free_slots(
    session: Session,
    spec: CampaignFile,
    post: PostSpec,
    now: dt.datetime,
    keep: Mapping[str, str] | None = None,
) -> dict[tuple[str, str], ResolvedTime]:
    """The next free posting slot of each embassy that carries ``post``, in its local time.

    A slot is one of the embassy's posting times on a day of the window, at least
    :data:`SLOT_LEAD` ahead, where none of the embassy's deliveries (other than cancelled ones
    and this post's own) is due. ``keep`` holds slots chosen earlier, as local wall times, so
    that an edit does not move a post.
    """
    taken = _taken(session, spec.campaign.id, post.id)
    chosen: dict[tuple[str, str], ResolvedTime] = {}
    for embassy in targeted_embassies(post, spec.embassies):
        earlier = (keep or {}).get(embassy.id)
        slot = _resolve(spec, embassy, earlier) if earlier else None
        slot = slot or _next_slot(spec, embassy, taken.get(embassy.id, set()), now)
        chosen[post.id, embassy.id] = slot
    return chosen


def placement(slots: Mapping[tuple[str, str], ResolvedTime]) -> dict[str, str]:
    return {
        embassy: slot.local.isoformat(timespec="minutes") for (_, embassy), slot in slots.items()
    }


def _taken(session: Session, campaign_id: str, post_id: str) -> dict[str, set[dt.datetime]]:
    rows = session.execute(
        select(StoredDelivery.embassy_id, StoredDelivery.due_at).where(
            StoredDelivery.campaign_id == campaign_id,
            StoredDelivery.post_id != post_id,
            StoredDelivery.state != str(DeliveryState.CANCELLED),
        )
    )
    taken: dict[str, set[dt.datetime]] = {}
    for embassy_id, due_at in rows:
        taken.setdefault(embassy_id, set()).add(due_at)
    return taken


def _resolve(spec: CampaignFile, embassy: Embassy, local: str) -> ResolvedTime | None:
    tz = zone(embassy.timezone)
    if tz is None:
        return None
    wall = dt.datetime.fromisoformat(local)
    return resolve_local(wall.date(), wall.time(), tz, spec.campaign.policies.clock_changes)


def _next_slot(
    spec: CampaignFile, embassy: Embassy, taken: set[dt.datetime], now: dt.datetime
) -> ResolvedTime:
    tz = zone(embassy.timezone)
    if tz is None:
        raise StoreError(f"embassy {embassy.id}: unknown time zone {embassy.timezone}")
    clocks = sorted(
        parse_clock(c) for c in (embassy.posting_times or spec.campaign.posting_times).values()
    )
    window = spec.campaign.window
    day = max(window.start, now.astimezone(tz).date())
    while day <= window.end:
        for clock in clocks:
            try:
                slot = resolve_local(day, clock, tz, spec.campaign.policies.clock_changes)
            except LocalTimeError:  # a clock change swallows this slot, and the policy says so
                continue
            if slot.utc >= now + SLOT_LEAD and slot.utc not in taken:
                return slot
        day += dt.timedelta(days=1)
    raise UsageError(
        f"no free posting slot left for {embassy.id} before the campaign ends on {window.end}; "
        "give a time with --at"
    )


PENDING_NAMES = ("scheduled", "awaiting_approval", "retry_waiting")


def post_listing(
    session: Session, campaign: Campaign, *, queued_only: bool
) -> list[dict[str, Any]]:
    """One row per post: version, author, its deliveries' states, the next one due (local),
    the first one due (local, and UTC as ISO 8601)."""
    query = select(Post).where(Post.campaign_id == campaign.id).order_by(Post.created_at, Post.id)
    if queued_only:
        query = query.where(Post.origin == "queue")
    deliveries: dict[str, list[StoredDelivery]] = {}
    for row in session.scalars(
        select(StoredDelivery).where(StoredDelivery.campaign_id == campaign.id)
    ):
        deliveries.setdefault(row.post_id, []).append(row)
    return [_listed(post, deliveries.get(post.id, [])) for post in session.scalars(query)]


def _listed(post: Post, deliveries: list[StoredDelivery]) -> dict[str, Any]:
    pending = sorted(
        (d.due_at, f"{d.local_time.replace('T', ' ')} {d.timezone}")
        for d in deliveries
        if d.state in PENDING_NAMES
    )
    earliest = min(deliveries, key=lambda d: (d.due_at, d.key), default=None)
    first = next(iter((PostDefinition.of(post).post.text or {}).values()), "")
    states: dict[str, int] = {}
    for delivery in deliveries:
        states[delivery.state] = states.get(delivery.state, 0) + 1
    return {
        "id": post.id,
        "origin": post.origin,
        "version": post.version,
        "author": post.author,
        "cancelled": post.cancelled_at is not None,
        "states": states,
        "next_due": pending[0][1] if pending else None,
        "first_due": f"{earliest.local_time.replace('T', ' ')} {earliest.timezone}"
        if earliest
        else None,
        "first_due_utc": earliest.due_at.astimezone(dt.UTC).isoformat() if earliest else None,
        "text": first if len(first) <= 60 else first[:59] + "…",
    }


def repeated_x_texts(
    session: Session, campaign_id: str, planned: Iterable[PlannedDelivery]
) -> list[Problem]:
    """A queued post whose X text one of the accounts already posts in another post: X would
    refuse it as duplicate content, as the validator says of the file (repeated-x-text)."""
    mine = [d for d in planned if d.platform is Platform.X]
    if not mine:
        return []
    stored = session.execute(
        select(StoredDelivery.payload, StoredDelivery.post_id, StoredDelivery.embassy_id).where(
            StoredDelivery.campaign_id == campaign_id,
            StoredDelivery.platform == str(Platform.X),
            StoredDelivery.post_id != mine[0].post_id,
            StoredDelivery.state != str(DeliveryState.CANCELLED),
        )
    )
    earlier = {
        (embassy, DeliveryPayload.from_stored(payload, f"{post}/{embassy}").text): post
        for payload, post, embassy in stored
    }
    return [
        error(
            "repeated-x-text",
            delivery.source,
            f"{delivery.account} already posts this text in {other}; X refuses the second as "
            "duplicate content",
            "a different text for each post on one X account",
        )
        for delivery in mine
        if (other := earlier.get((delivery.embassy_id, delivery.text))) is not None
    ]


def post_images(session: Session, campaign_id: str, post_id: str) -> dict[str, bytes]:
    """The bytes of the images a post's deliveries carry, by the file name its definition gives
    them: what an edit needs in its folder to keep them. A delivery still to go out says what
    the current version carries; a cancelled one only fills in names no other gives."""
    rows = session.execute(
        select(StoredDelivery.state, StoredDelivery.payload).where(
            StoredDelivery.campaign_id == campaign_id, StoredDelivery.post_id == post_id
        )
    ).all()
    cancelled = str(DeliveryState.CANCELLED)
    hashes: dict[str, str] = {}
    for _state, payload in sorted(rows, key=lambda row: row.state != cancelled):
        for media in payload.get("media", []):
            hashes[str(media["file"])] = str(media["sha256"])
    found = session.execute(
        select(Media.sha256, Media.data).where(Media.sha256.in_(set(hashes.values())))
    ).all()
    data = {str(sha256): bytes(blob) for sha256, blob in found}
    return {file: data[sha256] for file, sha256 in hashes.items() if sha256 in data}
