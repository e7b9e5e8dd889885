"""`campaign queue`: posts added, edited, cancelled and approved outside the file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.campaign.loader import load_data
from scheduler.campaign.model import ApprovalPolicy
from scheduler.campaign.sourcemap import Position, SourceMap, leaves
from scheduler.campaign.timing import describe_span
from scheduler.errors import CampaignFileError, UsageError
from scheduler.problems import FieldPath, Problem
from scheduler.service.clock import now_utc
from scheduler.service.validation import validate_loaded
from scheduler.store.approvals import approve
from scheduler.store.audit import record
from scheduler.store.database import Database, Session
from scheduler.store.deliveries import PastDue, post_past_due
from scheduler.store.documents import CampaignDefinition, PostDefinition
from scheduler.store.posts import (
    choose_campaign,
    find_post,
    free_slots,
    has_time,
    placement,
    post_exists,
    post_listing,
    repeated_x_texts,
    stored_accounts,
)
from scheduler.store.schema import Campaign, Post
from scheduler.store.sync import (
    ORIGIN_QUEUE,
    SyncReport,
    apply_approval_policy,
    reconcile_deliveries,
    save_queued_post,
    store_media,
)

QUEUE_SOURCE = "campaign queue"


@dataclass(frozen=True)
class PostChange:
    """What queueing, editing or cancelling a post did."""

    campaign_id: str
    post_id: str
    version: int
    report: SyncReport
    problems: list[Problem]
    placement: dict[str, str] | None = None
    """Local wall time chosen per embassy, for a post queued without a time."""
    already_cancelled: dt.datetime | None = None
    """When the post had been cancelled, for a cancel that found it so: nothing changed."""


def queue_add(
    database: Database,
    definition: dict[str, Any],
    *,
    actor: str,
    folder: Path,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> PostChange:
    """Queue a post written in the campaign file's shape, checked exactly like the file.

    Without a day, date or time it goes in each embassy's next free posting slot. Image paths
    are relative to ``folder``.
    """
    with database.transaction() as session:
        campaign = choose_campaign(session, campaign_id)
        if post_exists(session, campaign.id, definition.get("id")):
            raise UsageError(f"--id {definition.get('id')}: a post with this id already exists")
        return _write_post(
            session, campaign, definition, None, actor, folder, now or now_utc(),
            refuse_missed=has_time(definition),
        )  # fmt: skip


def queue_edit(
    database: Database,
    post_id: str,
    changes: dict[str, Any],
    *,
    actor: str,
    folder: Path,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> PostChange:
    """Change fields of a queued post; a new version, which needs approval again if required."""
    with database.transaction() as session:
        campaign = choose_campaign(session, campaign_id)
        post = find_post(session, campaign.id, post_id)
        if post.origin != ORIGIN_QUEUE:
            raise UsageError(
                f"post {post_id} comes from {campaign.source_file}: edit it there, then sync"
            )
        if post.cancelled_at is not None:
            raise UsageError(f"post {post_id} is cancelled; queue a new post instead")
        definition = {**PostDefinition.of(post).fields, **changes}
        if has_time(changes):
            for key in ("day", "date", "time", "at"):
                if key not in changes:
                    definition.pop(key, None)
        return _write_post(
            session, campaign, definition, post, actor, folder, now or now_utc(),
            refuse_missed=has_time(changes),
        )  # fmt: skip


def cancel_post(
    database: Database,
    post_id: str,
    *,
    actor: str,
    reason: str,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> PostChange:
    """Cancel every copy of a post that has not gone out; report those that have."""
    moment = now or now_utc()
    with database.transaction() as session:
        campaign = choose_campaign(session, campaign_id)
        post = find_post(session, campaign.id, post_id)
        if post.cancelled_at is not None:  # cancelling is final: a second time changes nothing
            return PostChange(
                campaign.id,
                post_id,
                post.version,
                SyncReport(campaign.id),
                [],
                already_cancelled=post.cancelled_at,
            )
        post.cancelled_at = post.updated_at = moment
        report = SyncReport(campaign.id)
        reconcile_deliveries(
            session,
            [],
            {post.id: post},
            {},
            _approval(campaign),
            report,
            moment,
            cancel_reason=f"cancelled by {actor}: {reason}",
        )
        record(session, moment, actor, "cancel", campaign.id, post_id, reason=reason)
        return PostChange(campaign.id, post_id, post.version, report, [])


def approve_post(
    database: Database,
    post_id: str,
    *,
    approver: str,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, int, int, PastDue]:
    """Approve the current version of a post: (campaign id, version, deliveries released, those
    of its deliveries whose time has passed already)."""
    moment = now or now_utc()
    with database.transaction() as session:
        campaign = choose_campaign(session, campaign_id)
        post = find_post(session, campaign.id, post_id)
        released = approve(session, post, _approval(campaign), approver, moment)
        past = post_past_due(session, campaign.id, post.id, moment)
        return campaign.id, post.version, released, past


def list_posts(
    database: Database, campaign_id: str | None = None, *, queued_only: bool = True
) -> list[dict[str, Any]]:
    """The posts of a campaign (queued ones only, by default) with their deliveries' states."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        return post_listing(session, campaign, queued_only=queued_only)


def _approval(campaign: Campaign) -> ApprovalPolicy:
    return CampaignDefinition.of(campaign).policies.approval


def _write_post(
    session: Session,
    campaign: Campaign,
    definition: dict[str, Any],
    existing: Post | None,
    actor: str,
    folder: Path,
    now: dt.datetime,
    *,
    refuse_missed: bool = False,
) -> PostChange:
    """Check and store a queued post. With ``refuse_missed`` (a time was given), a time at which
    some copies would already be beyond the grace, and so missed, is refused (UsageError)."""
    path = folder / QUEUE_SOURCE
    # Without a time, the post goes in free slots; day 1 only lets it pass the file's rule that
    # every post says when, and the slots override it.
    checked = definition if has_time(definition) else {**definition, "day": 1}
    campaign_file = CampaignDefinition.of(campaign).with_posts([checked])
    loaded = load_data(campaign_file, _typed(checked), path)
    if loaded.campaign is None:
        raise CampaignFileError(QUEUE_SOURCE, loaded.problems)
    spec = loaded.campaign.spec
    slots = None
    if not has_time(definition):
        keep = existing.placement if existing is not None else None
        slots = free_slots(session, spec, spec.posts[0], now, keep)
    valid = validate_loaded(loaded, path, slots)
    if not valid.ok or valid.plan is None:
        raise CampaignFileError(QUEUE_SOURCE, valid.problems)
    repeated = repeated_x_texts(session, campaign.id, valid.plan.deliveries)
    if repeated:
        raise CampaignFileError(QUEUE_SOURCE, [*valid.problems, *repeated])
    post = save_queued_post(
        session, campaign.id, spec.posts[0].id, definition, existing, actor, now
    )
    post.placement = placement(slots) if slots else None
    report = SyncReport(campaign.id)
    store_media(session, valid.plan, folder)
    policy = spec.campaign.policies.approval
    accounts = stored_accounts(session, campaign.id)
    reconcile_deliveries(
        session, valid.plan.deliveries, {post.id: post}, accounts, policy, report, now
    )
    apply_approval_policy(session, policy.required, {post.id: post}, report, now)
    report.past_due = post_past_due(session, campaign.id, post.id, now)
    if refuse_missed and report.past_due.missed:
        raise UsageError(_too_late(report.past_due, now))
    action = "queue edit" if existing else "queue add"
    record(session, now, actor, action, campaign.id, post.id, version=post.version)
    problems = [p for p in valid.problems if p.path[:1] == ("posts",)]
    return PostChange(campaign.id, post.id, post.version, report, problems, post.placement)


def _too_late(past: PastDue, now: dt.datetime) -> str:
    copies = "copy" if past.missed == 1 else "copies"
    return (
        f"--at: {past.missed} {copies} would be due more than the grace "
        f"({describe_span(past.grace)}) before now ({now:%Y-%m-%d %H:%M} UTC) and never go out "
        "(missed); give a later time, or leave out --at for the next free slots"
    )


@dataclass
class _TypedSource(SourceMap):
    """Where a queued post comes from: no file, so nothing has a line or a column."""

    def position(self, path: FieldPath, *, key: bool = False) -> Position | None:
        return None


def _typed(definition: Mapping[str, Any]) -> SourceMap:
    """The source of a queued post: a person typed every one of its fields, so the checks that
    look only at what was written (a pasted secret) look at all of them, as in a file."""
    return _TypedSource(
        QUEUE_SOURCE, values={path: (0, 0) for path, _ in leaves(definition, ("posts", 0))}
    )
