"""Bring the store in line with the campaign file, in one transaction.

- new deliveries are stored, scheduled (or awaiting approval);
- changed deliveries not yet handed to a platform take the new version; a daemon that loaded the
  old one loses its claim, because every write it makes is guarded by state and revision;
- deliveries whose post (or embassy, or platform) left the file are cancelled;
- what was sent, or may have been, is never touched: a change to it is reported;
- posts queued from the CLI or the web are not in the file, and are left alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from scheduler.campaign.loader import LoadedCampaign
from scheduler.campaign.model import ApprovalPolicy, CampaignFile
from scheduler.campaign.planner import Delivery as PlannedDelivery
from scheduler.campaign.planner import Plan
from scheduler.errors import StoreError
from scheduler.store.approvals import initial_state, is_approved, withdraw_approval
from scheduler.store.audit import record
from scheduler.store.deliveries import (
    DELIVERIES,
    MANY,
    PastDue,
    current_states,
    delivery_key,
    mark_changed_after_sent,
    move,
    move_each,
    move_returning,
    past_due,
    planned_values,
)
from scheduler.store.documents import CampaignDefinition, PostDefinition
from scheduler.store.schema import Account, Campaign, Embassy, Media, Post
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.states import IN_FLIGHT, PENDING, DeliveryState

ORIGIN_FILE = "file"
ORIGIN_QUEUE = "queue"


class ChangeKind(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    CANCELLED = "cancelled"
    CHANGED_AFTER_SENT = "changed after it was sent"
    CHANGED_IN_FLIGHT = "changed while being sent"
    CHANGED_AFTER_FINISHING = "changed after it failed or was missed"
    REMOVED_AFTER_SENT = "removed from the file after it was sent"
    STAYS_CANCELLED = "back in the file, but stays cancelled (give the post a new id to send it)"


NEEDS_ATTENTION = frozenset(
    {
        ChangeKind.CHANGED_AFTER_SENT,
        ChangeKind.CHANGED_IN_FLIGHT,
        ChangeKind.CHANGED_AFTER_FINISHING,
        ChangeKind.REMOVED_AFTER_SENT,
        ChangeKind.STAYS_CANCELLED,
    }
)


@dataclass(frozen=True, slots=True)  # a first sync of 100,000 deliveries makes 100,000
class SyncChange:
    kind: ChangeKind
    key: str
    """campaign/post/embassy/platform/part"""
    due_at: dt.datetime
    state: str
    """The delivery's state after the sync."""


@dataclass
class SyncReport:
    campaign_id: str
    changes: list[SyncChange] = field(default_factory=list)
    unchanged: int = 0
    posts_added: list[str] = field(default_factory=list)
    posts_edited: list[str] = field(default_factory=list)
    posts_removed: list[str] = field(default_factory=list)
    awaiting_approval_again: int = 0
    past_due: PastDue | None = None
    """The campaign's (or the post's) waiting deliveries whose time has passed already."""

    def counts(self) -> Counter[ChangeKind]:
        return Counter(change.kind for change in self.changes)

    @property
    def changed_anything(self) -> bool:
        return bool(self.changes or self.posts_added or self.posts_edited or self.posts_removed)


def sync_campaign(
    session: Session,
    loaded: LoadedCampaign,
    plan: Plan,
    *,
    actor: str,
    now: dt.datetime,
    step: Callable[[str], None] | None = None,
) -> SyncReport:
    """Apply ``plan`` (of ``loaded``) to the store within ``session``'s transaction.
    ``step`` is told what is being done, for a progress display."""
    say = step or (lambda _: None)
    spec = loaded.spec
    report = SyncReport(spec.campaign.id)
    say("campaign, embassies and accounts")
    _upsert_campaign(session, loaded, actor, now)
    _replace_embassies(session, spec)
    accounts = _upsert_accounts(session, spec)
    say(f"{len(spec.posts)} posts")
    posts = _sync_posts(session, spec, report, actor, now)
    say("media")
    store_media(session, plan, loaded.folder)
    policy = spec.campaign.policies.approval
    say(f"{len(plan.deliveries)} deliveries")
    reconcile_deliveries(session, plan.deliveries, posts, accounts, policy, report, now)
    say("approvals")
    apply_approval_policy(session, policy.required, posts, report, now)
    record(
        session,
        now,
        actor,
        "sync",
        spec.campaign.id,
        str(loaded.path),
        changes={str(kind): n for kind, n in report.counts().items()},
        unchanged=report.unchanged,
    )
    report.past_due = past_due(session, StoredDelivery.campaign_id == spec.campaign.id, now)
    return report


def _upsert_campaign(
    session: Session, loaded: LoadedCampaign, actor: str, now: dt.datetime
) -> None:
    spec = loaded.spec
    campaign = session.get(Campaign, spec.campaign.id) or Campaign(id=spec.campaign.id)
    campaign.name = spec.campaign.name
    campaign.window_start = spec.campaign.window.start
    campaign.window_end = spec.campaign.window.end
    campaign.definition = CampaignDefinition.from_spec(spec).to_stored()
    campaign.source_file = str(loaded.path.resolve())
    campaign.synced_at, campaign.synced_by = now, actor
    session.add(campaign)
    session.flush()


def _replace_embassies(session: Session, spec: CampaignFile) -> None:
    session.execute(delete(Embassy).where(Embassy.campaign_id == spec.campaign.id))
    for embassy in spec.embassies:
        session.add(
            Embassy(
                campaign_id=spec.campaign.id,
                id=embassy.id,
                name=embassy.name,
                country=embassy.country,
                timezone=embassy.timezone,
                languages=list(embassy.languages),
                region=embassy.region,
                tags=list(embassy.tags),
            )
        )


def _upsert_accounts(session: Session, spec: CampaignFile) -> dict[tuple[str, str], Account]:
    """Accounts keep their rows (and the daemon's rate limits and suspensions) across syncs."""
    stored = {
        (account.embassy_id, account.platform): account
        for account in session.scalars(
            select(Account).where(Account.campaign_id == spec.campaign.id)
        )
    }
    for embassy in spec.embassies:
        for platform, written in embassy.accounts.by_platform().items():
            key = (embassy.id, str(platform))
            account = stored.get(key) or Account(
                campaign_id=spec.campaign.id, embassy_id=embassy.id, platform=str(platform)
            )
            account.handle = written.handle
            account.credentials = written.credentials
            account.instance = getattr(written, "instance", None)
            session.add(account)
            stored[key] = account
    session.flush()
    return stored


def save_queued_post(
    session: Session,
    campaign_id: str,
    post_id: str,
    definition: dict[str, Any],
    existing: Post | None,
    actor: str,
    now: dt.datetime,
) -> Post:
    """Store a post queued outside the file (new, or ``existing`` changed): a new version when
    its definition changed."""
    written = PostDefinition(definition)
    post = existing or Post(
        campaign_id=campaign_id, id=post_id, origin=ORIGIN_QUEUE, version=0, created_at=now
    )
    if existing is None or existing.definition_hash != written.digest:
        post.version += 1
    post.definition, post.definition_hash = written.to_stored(), written.digest
    post.author, post.updated_at = actor, now
    session.add(post)
    session.flush()
    return post


def _sync_posts(
    session: Session, spec: CampaignFile, report: SyncReport, actor: str, now: dt.datetime
) -> dict[str, Post]:
    campaign_id = spec.campaign.id
    stored = {
        post.id: post
        for post in session.scalars(select(Post).where(Post.campaign_id == campaign_id))
    }
    for written in spec.posts:
        definition = PostDefinition.from_spec(written)
        post = stored.get(written.id)
        if post is not None and post.origin != ORIGIN_FILE:
            raise StoreError(
                f"post id '{written.id}' in the file is already used by a post queued by "
                f"{post.author}; rename one of them"
            )
        if post is None:
            post = Post(campaign_id=campaign_id, id=written.id, origin=ORIGIN_FILE, version=1)
            post.created_at = now
            report.posts_added.append(written.id)
        elif post.definition_hash != definition.digest or post.cancelled_at is not None:
            post.version += 1
            report.posts_edited.append(written.id)
        else:
            continue
        post.definition, post.definition_hash = definition.to_stored(), definition.digest
        post.author, post.updated_at, post.cancelled_at = actor, now, None
        session.add(post)
        stored[written.id] = post
    in_file = {written.id for written in spec.posts}
    for post in stored.values():
        if post.origin == ORIGIN_FILE and post.id not in in_file and post.cancelled_at is None:
            post.cancelled_at, post.updated_at = now, now
            report.posts_removed.append(post.id)
    session.flush()
    return {post_id: post for post_id, post in stored.items() if post.origin == ORIGIN_FILE}


def store_media(session: Session, plan: Plan, folder: Path) -> None:
    """Image bytes go into the store, so that a daemon on another host needs no files."""
    wanted = {media.sha256: media for d in plan.deliveries for media in d.media}
    if not wanted:
        return
    present = set(session.scalars(select(Media.sha256).where(Media.sha256.in_(list(wanted)))))
    for sha256, media in wanted.items():
        if sha256 in present:
            continue
        data = (folder / media.file).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError(
                f"{media.file} changed while the campaign was being synced; sync again"
            )
        session.add(
            Media(
                sha256=sha256,
                mime=media.mime,
                size=len(data),
                width=media.width,
                height=media.height,
                data=data,
            )
        )


def reconcile_deliveries(
    session: Session,
    planned_deliveries: Iterable[PlannedDelivery],
    posts: dict[str, Post],
    accounts: dict[tuple[str, str], Account],
    policy: ApprovalPolicy,
    report: SyncReport,
    now: dt.datetime,
    *,
    cancel_reason: str = "removed from the campaign file",
) -> None:
    """Make the stored deliveries of ``posts`` those planned: add, update, cancel (saying why),
    or report what can no longer change.

    Written in batches of :data:`MANY` rows, compared by key with the stored rows' few columns
    that decide (no ORM objects): a sync of 100,000 deliveries holds the plan and those tuples,
    not the table."""
    campaign_id = report.campaign_id
    stored = _stored_deliveries(session, campaign_id, list(posts))
    starts = _InitialStates(session, policy)
    added: list[dict[str, Any]] = []
    updates: list[_Update] = []
    for planned in planned_deliveries:
        key = delivery_key(campaign_id, planned)
        row = stored.pop(key, None)
        post = posts[planned.post_id]
        if row is None:
            account = accounts[planned.embassy_id, str(planned.platform)]
            added.append(_new_row(key, campaign_id, planned, post, account, starts(post), now))
            change = SyncChange(ChangeKind.ADDED, key, planned.due_at, added[-1]["state"])
            report.changes.append(change)
            if len(added) == MANY:
                _insert(session, added)
        elif row.state == DeliveryState.CANCELLED:
            # Cancelled is final: a daemon may have seen the cancel, and people relied on it.
            change = SyncChange(ChangeKind.STAYS_CANCELLED, row.key, row.due_at, row.state)
            report.changes.append(change)
        elif row.content_hash == planned.content_hash:
            report.unchanged += 1
        else:
            updates.append(_Update(len(report.changes), row, planned, post))
            # The slot keeps the report in the plan's order; _apply_updates fills it in.
            report.changes.append(SyncChange(ChangeKind.UPDATED, key, planned.due_at, row.state))
            if len(updates) == MANY:
                _apply_updates(session, updates, starts, report, now)
    _insert(session, added)
    _apply_updates(session, updates, starts, report, now)
    _remove(session, list(stored.values()), report, now, cancel_reason)


class _StoredRow(NamedTuple):
    id: int
    key: str
    state: str
    content_hash: str
    revision: int
    due_at: dt.datetime


@dataclass(frozen=True)
class _Update:
    slot: int
    """Its change's index in the report."""
    row: _StoredRow
    planned: PlannedDelivery
    post: Post


class _InitialStates:
    """:func:`initial_state` of each post, asked once per post rather than once per delivery."""

    def __init__(self, session: Session, policy: ApprovalPolicy) -> None:
        self.session, self.policy = session, policy
        self.known: dict[tuple[str, str], DeliveryState] = {}

    def __call__(self, post: Post) -> DeliveryState:
        key = (post.campaign_id, post.id)
        if key not in self.known:
            self.known[key] = initial_state(self.session, post, self.policy)
        return self.known[key]


def _stored_deliveries(
    session: Session, campaign_id: str, post_ids: list[str]
) -> dict[str, _StoredRow]:
    columns = select(
        StoredDelivery.id,
        StoredDelivery.key,
        StoredDelivery.state,
        StoredDelivery.content_hash,
        StoredDelivery.revision,
        StoredDelivery.due_at,
    ).where(StoredDelivery.campaign_id == campaign_id, StoredDelivery.post_id.in_(post_ids))
    # Streamed, and each state one string shared by all the rows in it: 100,000 rows held in
    # some 50 MB.
    rows = session.execute(columns.execution_options(yield_per=MANY))
    return {row.key: _StoredRow(row.id, row.key, sys.intern(row.state), *row[3:]) for row in rows}


def _new_row(
    key: str,
    campaign_id: str,
    planned: PlannedDelivery,
    post: Post,
    account: Account,
    state: DeliveryState,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "key": key,
        "campaign_id": campaign_id,
        "post_version": post.version,
        "account_id": account.id,
        "state": str(state),
        "state_since": now,
        "revision": 1,
        **planned_values(planned),
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` in one batch, and empty the list."""
    if rows:
        session.execute(insert(DELIVERIES), rows)
        rows.clear()


def _apply_updates(
    session: Session,
    updates: list[_Update],
    starts: _InitialStates,
    report: SyncReport,
    now: dt.datetime,
) -> None:
    """Give ``updates``' rows their new version where they are still pending, and report the
    others (sent, or on their way: never changed). Empties the list."""
    pending = [update for update in updates if DeliveryState(update.row.state) in PENDING]
    moved = _edit(session, pending, starts, now)
    current = current_states(session, [u.row.id for u in updates if u.row.id not in moved])
    for update in updates:
        if update.row.id in moved:
            due_at, state = update.planned.due_at, str(starts(update.post))
            kind = ChangeKind.UPDATED
        else:
            state, due_at = current[update.row.id]
            kind = _change_to_finished(DeliveryState(state))
        report.changes[update.slot] = SyncChange(kind, update.row.key, due_at, state)
    sent = [row_id for row_id, (state, _) in current.items() if state == DeliveryState.SENT]
    mark_changed_after_sent(session, sent)
    updates.clear()


def _edit(
    session: Session, pending: list[_Update], starts: _InitialStates, now: dt.datetime
) -> set[int]:
    """The new version of each pending delivery, one guarded UPDATE per row in batches; the
    ids of those that took it (a daemon may have begun sending the others meanwhile)."""
    by_target: dict[DeliveryState, list[_Update]] = {}
    for update in pending:
        by_target.setdefault(starts(update.post), []).append(update)
    moved: set[int] = set()
    for target, group in by_target.items():
        values = [
            {
                "id": update.row.id,
                "post_version": update.post.version,
                "revision": update.row.revision + 1,
                "lease_owner": None,
                "lease_expires_at": None,
                **planned_values(update.planned),
            }
            for update in group
        ]
        moved |= move_each(session, values, target, PENDING, now)
    return moved


def _change_to_finished(state: DeliveryState) -> ChangeKind:
    if state is DeliveryState.SENT:
        return ChangeKind.CHANGED_AFTER_SENT
    if state in IN_FLIGHT:
        return ChangeKind.CHANGED_IN_FLIGHT
    if state is DeliveryState.CANCELLED:
        return ChangeKind.STAYS_CANCELLED
    return ChangeKind.CHANGED_AFTER_FINISHING


def _remove(
    session: Session, rows: list[_StoredRow], report: SyncReport, now: dt.datetime, reason: str
) -> None:
    """Cancel those of ``rows`` still pending; report those sent or on their way."""
    rows = [row for row in rows if row.state != DeliveryState.CANCELLED]
    cancelled = move_returning(
        session,
        [row.id for row in rows],
        DeliveryState.CANCELLED,
        PENDING,
        now,
        lease_owner=None,
        lease_expires_at=None,
        error_message=reason,
    )
    current = current_states(session, [row.id for row in rows if row.id not in cancelled])
    for row in rows:
        if row.id in cancelled:
            change = SyncChange(ChangeKind.CANCELLED, row.key, row.due_at, DeliveryState.CANCELLED)
            report.changes.append(change)
            continue
        state, due_at = current[row.id]
        if DeliveryState(state) in (DeliveryState.SENT, *IN_FLIGHT):
            report.changes.append(SyncChange(ChangeKind.REMOVED_AFTER_SENT, row.key, due_at, state))


def apply_approval_policy(
    session: Session,
    required: bool,
    posts: dict[str, Post],
    report: SyncReport,
    now: dt.datetime,
) -> None:
    """Pending copies of a post wait for approval exactly when the policy says they must."""
    for post in posts.values():
        if post.cancelled_at is not None:
            continue
        if required and not is_approved(session, post):
            report.awaiting_approval_again += withdraw_approval(session, post, now)
        elif not required:
            move(
                session,
                (StoredDelivery.campaign_id == post.campaign_id)
                & (StoredDelivery.post_id == post.id),
                DeliveryState.SCHEDULED,
                frozenset({DeliveryState.AWAITING_APPROVAL}),
                now,
            )
