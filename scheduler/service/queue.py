"""`campaign queue`: posts added, edited, cancelled and approved outside the file."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.capabilities import Platform
from scheduler.campaign.loader import load_data
from scheduler.campaign.model import ApprovalPolicy
from scheduler.campaign.planner import Delivery as PlannedDelivery
from scheduler.campaign.sourcemap import Position, SourceMap, leaves
from scheduler.campaign.timing import ResolvedTime, describe_span, past_grace
from scheduler.errors import CampaignFileError, UsageError
from scheduler.problems import FieldPath, Problem, error, has_errors, sort_problems
from scheduler.service.clock import now_utc
from scheduler.service.validation import Validation, validate_loaded
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
    post_images,
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
TAKEN = "a post with this id already exists"


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
            raise UsageError(f"--id {definition.get('id')}: {TAKEN}")
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
    """Change fields of a queued post; a new version, which needs approval again if required.
    A field changed to None is removed (``{"date": None, "time": None}``: the next free slot)."""
    with database.transaction() as session:
        campaign = choose_campaign(session, campaign_id)
        post = _editable(session, campaign, post_id)
        return _write_post(
            session, campaign, _edited(post, changes), post, actor, folder, now or now_utc(),
            refuse_missed=has_time(changes),
        )  # fmt: skip


def _editable(session: Session, campaign: Campaign, post_id: str) -> Post:
    """The queued post ``post_id``; UsageError for one of the file's, or a cancelled one."""
    post = find_post(session, campaign.id, post_id)
    if post.origin != ORIGIN_QUEUE:
        raise UsageError(
            f"post {post_id} comes from {campaign.source_file}: edit it there, then sync"
        )
    if post.cancelled_at is not None:
        raise UsageError(f"post {post_id} is cancelled; queue a new post instead")
    return post


def _edited(post: Post, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The post's definition with ``changes``: a field changed to None is left out (its
    default then applies), and a new time replaces every field of the old one."""
    definition = {**PostDefinition.of(post).fields, **changes}
    if has_time(changes):
        for key in ("day", "date", "time", "at"):
            if key not in changes:
                definition.pop(key, None)
    return {key: value for key, value in definition.items() if value is not None}


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


@dataclass(frozen=True)
class QueueChoices:
    """What a form for queueing a post in a campaign offers, from its stored definition."""

    campaign_id: str
    default_language: str
    languages: list[str]
    """The default language first, then every embassy's, in the file's order."""
    embassies: list[tuple[str, str]]
    """(id, name) in the file's order."""
    platforms: list[str]
    """Those on which some embassy has an account, in the usual order."""


def queue_choices(database: Database, campaign_id: str | None = None) -> QueueChoices:
    """The languages, embassies and platforms of the campaign, for the queue form."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        chosen, stored = campaign.id, CampaignDefinition.of(campaign)
    languages = [stored.campaign.default_language]
    used: set[str] = set()
    for embassy in stored.embassies:
        languages += [str(x) for x in embassy.get("languages", []) if str(x) not in languages]
        used.update(str(platform) for platform in embassy.get("accounts", {}))
    return QueueChoices(
        chosen,
        stored.campaign.default_language,
        languages,
        [(str(e["id"]), str(e.get("name") or e["id"])) for e in stored.embassies],
        [str(platform) for platform in Platform if str(platform) in used],
    )


def queued_definition(
    database: Database, post_id: str, *, campaign_id: str | None = None
) -> dict[str, Any]:
    """The stored definition of a queued post, to edit it (UsageError for one of the file's,
    or a cancelled one: those cannot be edited here)."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        return dict(PostDefinition.of(_editable(session, campaign, post_id)).fields)


def stored_images(
    database: Database, post_id: str, folder: Path, *, campaign_id: str | None = None
) -> list[str]:
    """Write into ``folder`` the images a queued post carries, from the bytes the store keeps,
    under the names its definition gives them; the names written. An edit queued from that
    folder then keeps them as they are, wherever the files first came from."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        images = post_images(session, campaign.id, post_id)
    written = []
    for name, data in sorted(images.items()):
        relative = os.path.normpath(name)
        if os.path.isabs(relative) or relative == ".." or relative.startswith("../"):
            continue  # never stored (the checks refuse it), and never written outside
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(name)
    return written


def _approval(campaign: Campaign) -> ApprovalPolicy:
    return CampaignDefinition.of(campaign).policies.approval


@dataclass(frozen=True)
class QueueCheck:
    """What queueing a post would say, found without writing anything."""

    campaign_id: str
    problems: list[Problem]
    """Every problem, as `campaign queue add` would report them (errors refuse the post)."""
    deliveries: tuple[PlannedDelivery, ...]
    """What would go out (empty when the post cannot be planned), to count against limits."""
    slots: dict[str, ResolvedTime]
    """Embassy id -> the slot it would take, for a post without a time."""

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


def check_post(
    database: Database,
    definition: dict[str, Any],
    *,
    folder: Path,
    editing: str | None = None,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> QueueCheck:
    """The checks of :func:`queue_add` on ``definition`` (a post in the campaign file's shape)
    or, ``editing`` a post, of :func:`queue_edit` with ``definition`` as its changes, writing
    nothing: for a form's live validation. Image paths are relative to ``folder``. A time at
    which copies would be missed, and an id already taken, are problems here, as they are
    refusals there."""
    moment = now or now_utc()
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        chosen = campaign.id
        existing = None if editing is None else _editable(session, campaign, editing)
        post = definition if existing is None else _edited(existing, definition)
        checked = _check(session, campaign, post, existing, folder, moment)
        extra: list[Problem] = []
        if existing is None and post_exists(session, campaign.id, definition.get("id")):
            extra.append(error("duplicate-id", ("posts", 0, "id"), TAKEN))
    late = checked.late(moment) if has_time(definition) else None
    if late:
        extra.append(error("too-late", ("posts", 0, "at"), late))
    return QueueCheck(
        chosen,
        sort_problems([*checked.problems, *extra]),
        checked.deliveries,
        {embassy: slot for (_, embassy), slot in (checked.slots or {}).items()},
    )


@dataclass(frozen=True)
class _Checked:
    """A queued post checked against its campaign: the loaded post, its problems and plan."""

    problems: list[Problem]
    valid: Validation | None
    slots: dict[tuple[str, str], ResolvedTime] | None

    @property
    def deliveries(self) -> tuple[PlannedDelivery, ...]:
        plan = self.valid.plan if self.valid is not None else None
        return plan.deliveries if plan is not None else ()

    @property
    def ok(self) -> bool:
        return self.valid is not None and self.valid.plan is not None and self.valid.ok

    def late(self, now: dt.datetime) -> str | None:
        """Why the time given is too late, for a post all of whose copies are new."""
        grace = [d.post.grace for d in self.deliveries if past_grace(d.due_at, d.post.grace, now)]
        if not grace:
            return None
        return _too_late(PastDue(0, len(grace), max(grace)), now, "give no time")


def _check(
    session: Session,
    campaign: Campaign,
    definition: dict[str, Any],
    existing: Post | None,
    folder: Path,
    now: dt.datetime,
) -> _Checked:
    """The one checking path of queueing: load, free slots, the file's checks and plan, and
    X's rule against repeated texts. Reads the store, writes nothing."""
    path = folder / QUEUE_SOURCE
    # Without a time, the post goes in free slots; day 1 only lets it pass the file's rule that
    # every post says when, and the slots override it.
    checked = definition if has_time(definition) else {**definition, "day": 1}
    campaign_file = CampaignDefinition.of(campaign).with_posts([checked])
    loaded = load_data(campaign_file, _typed(checked), path)
    if loaded.campaign is None:
        return _Checked(list(loaded.problems), None, None)
    spec = loaded.campaign.spec
    slots = None
    if not has_time(definition):
        keep = existing.placement if existing is not None else None
        slots = free_slots(session, spec, spec.posts[0], now, keep)
    valid = validate_loaded(loaded, path, slots)
    problems = list(valid.problems)
    if valid.ok and valid.plan is not None:
        problems += repeated_x_texts(session, campaign.id, valid.plan.deliveries)
    return _Checked(problems, valid, slots)


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
    checked = _check(session, campaign, definition, existing, folder, now)
    if not checked.ok or has_errors(checked.problems):
        raise CampaignFileError(QUEUE_SOURCE, checked.problems)
    assert checked.valid is not None and checked.valid.plan is not None  # ok says so
    valid, slots, plan = checked.valid, checked.slots, checked.valid.plan
    spec = valid.campaign.spec if valid.campaign is not None else None
    assert spec is not None
    post = save_queued_post(
        session, campaign.id, spec.posts[0].id, definition, existing, actor, now
    )
    post.placement = placement(slots) if slots else None
    report = SyncReport(campaign.id)
    store_media(session, plan, folder)
    policy = spec.campaign.policies.approval
    accounts = stored_accounts(session, campaign.id)
    reconcile_deliveries(session, plan.deliveries, {post.id: post}, accounts, policy, report, now)
    apply_approval_policy(session, policy.required, {post.id: post}, report, now)
    report.past_due = post_past_due(session, campaign.id, post.id, now)
    if refuse_missed and report.past_due.missed:
        raise UsageError(f"--at: {_too_late(report.past_due, now)}")
    action = "queue edit" if existing else "queue add"
    record(session, now, actor, action, campaign.id, post.id, version=post.version)
    problems = [p for p in valid.problems if p.path[:1] == ("posts",)]
    return PostChange(campaign.id, post.id, post.version, report, problems, post.placement)


def _too_late(past: PastDue, now: dt.datetime, instead: str = "leave out --at") -> str:
    copies = "copy" if past.missed == 1 else "copies"
    return (
        f"{past.missed} {copies} would be due more than the grace "
        f"({describe_span(past.grace)}) before now ({now:%Y-%m-%d %H:%M} UTC) and never go out "
        f"(missed); give a later time, or {instead} for the next free slots"
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
