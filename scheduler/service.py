"""What the CLI (and later the web dashboard) call: one function per job, no I/O formatting.

The path of a post: cli -> service -> loader / checks / planner -> (store -> dispatcher ->
adapter, in later layers).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.capabilities import Platform
from scheduler.checks import check_deliveries, check_structure
from scheduler.errors import CampaignFileError, ConfigurationError, PublishError, UsageError
from scheduler.loader import LoadedCampaign, LoadResult, load_data, load_file
from scheduler.model import ApprovalPolicy
from scheduler.planner import Plan, plan
from scheduler.problems import FieldPath, Problem, has_errors, sort_problems
from scheduler.salvage import Salvaged, salvage, without
from scheduler.sourcemap import Position, SourceMap
from scheduler.store import pauses, queries
from scheduler.store.alerts import AlertKind, raise_alert
from scheduler.store.approvals import approval_policy, approve
from scheduler.store.audit import record
from scheduler.store.database import Database
from scheduler.store.deliveries import PastDue, back_on_schedule, move, past_due
from scheduler.store.pauses import Scope
from scheduler.store.posts import (
    campaign_with,
    choose_campaign,
    find_post,
    free_slots,
    has_time,
    placement,
    post_listing,
    repeated_x_texts,
    stored_accounts,
)
from scheduler.store.queries import ReportData, StatusData
from scheduler.store.schema import Account, Campaign, Post
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.states import PENDING
from scheduler.store.states import DeliveryState as S
from scheduler.store.sync import (
    ORIGIN_QUEUE,
    SyncReport,
    apply_approval_policy,
    definition_digest,
    reconcile_deliveries,
    store_media,
    sync_campaign,
)
from scheduler.timing import ResolvedTime, describe_span

if TYPE_CHECKING:  # imported where used: they load adapters.registry, which imports this package
    from scheduler.onboarding import Ask, Authorized, Tell
    from scheduler.preflight import AccountRef, Preflight, Progress
    from scheduler.settings import Settings


@dataclass(frozen=True)
class Validation:
    file: Path
    problems: list[Problem]
    campaign: LoadedCampaign | None
    plan: Plan | None

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


def validate_file(path: Path) -> Validation:
    """Every problem of the file at once: structure first, then the expanded plan."""
    return validate_loaded(load_file(path), path)


def validate_loaded(
    loaded: LoadResult,
    path: Path,
    slots: Mapping[tuple[str, str], ResolvedTime] | None = None,
) -> Validation:
    """The checks and the plan of a loaded campaign, whether it came from a file or not."""
    if loaded.campaign is None:
        problems = list(loaded.problems)
        attempt = loaded.attempt
        salvaged = attempt and salvage(attempt.data, attempt.source, attempt.path, attempt.broken)
        if salvaged:
            found = _checked_despite_errors(salvaged, slots)
            problems += salvaged.restore(found)
        return Validation(path, sort_problems(problems), None, None)
    problems = [*loaded.problems, *check_structure(loaded.campaign)]
    if has_errors(problems):
        problems += _planned_despite_errors(loaded.campaign, problems, slots)
        return Validation(path, sort_problems(problems), loaded.campaign, None)
    planned = plan(loaded.campaign, slots)
    problems += [*planned.problems, *check_deliveries(planned, loaded.campaign)]
    return Validation(path, sort_problems(problems), loaded.campaign, planned)


_PLANNABLE_DESPITE = frozenset(
    {"handle", "instance", "secret-in-file", "credentials-name", "duplicate-language"}
)
"""Errors outside the posts and embassies that change no delivery: everything is planned and
checked with them present."""


def _checked_despite_errors(
    salvaged: Salvaged, slots: Mapping[tuple[str, str], ResolvedTime] | None
) -> list[Problem]:
    """The checks and the plan of what remains of a file whose shape is wrong."""
    loaded = salvaged.campaign
    found = check_structure(loaded)
    problems = [problem for problem in found if not salvaged.names_a_left_out_embassy(problem)]
    if has_errors(problems):
        return [*problems, *_planned_despite_errors(loaded, problems, slots)]
    planned = plan(loaded, slots)
    return [*problems, *planned.problems, *check_deliveries(planned, loaded)]


def _planned_despite_errors(
    loaded: LoadedCampaign,
    problems: list[Problem],
    slots: Mapping[tuple[str, str], ResolvedTime] | None,
) -> list[Problem]:
    """Every mistake at once: the posts and embassies without an error are planned and their
    deliveries checked (lengths, images...), unless an error elsewhere bears on every plan."""
    dropped: dict[str, set[int]] = {"posts": set(), "embassies": set()}
    for problem in problems:
        if not problem.is_error or problem.code in _PLANNABLE_DESPITE:
            continue
        path = problem.path
        if len(path) >= 2 and path[0] in dropped and isinstance(path[1], int):
            dropped[str(path[0])].add(path[1])
        else:
            return []
    if len(dropped["embassies"]) == len(loaded.spec.embassies):
        return []
    reduced, restore = without(loaded, dropped)
    planned = plan(reduced, slots)
    return restore([*planned.problems, *check_deliveries(planned, reduced)])


def plan_file(path: Path) -> tuple[Plan, list[Problem]]:
    """The plan of a valid file, with its warnings; raises CampaignFileError on any error."""
    result = valid_file(path)
    assert result.plan is not None
    return result.plan, result.problems


def valid_file(path: Path) -> Validation:
    """The validation of a file with no error: CampaignFileError (every problem) otherwise."""
    result = validate_file(path)
    if not result.ok or result.plan is None or result.campaign is None:
        raise CampaignFileError(str(path), result.problems)
    return result


CLOCK_ENV = "CAMPAIGN_CLOCK_FILE"


def now_utc() -> dt.datetime:
    """Campaign time for the commands: the wall clock; or, for rehearsals and tests, the instant
    in the file that CAMPAIGN_CLOCK_FILE names, read as `campaign run --clock-file` reads it."""
    clock_file = os.environ.get(CLOCK_ENV)
    if not clock_file:
        return dt.datetime.now(dt.UTC)
    from scheduler.stepping import read_instant

    try:
        return read_instant(Path(clock_file))
    except OSError as exc:
        raise ConfigurationError(
            f"{CLOCK_ENV}={clock_file}: cannot read it: {exc.strerror}"
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(f"{CLOCK_ENV}: {exc}") from exc


def sync_file(
    path: Path,
    database: Database,
    *,
    actor: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    step: Callable[[str], None] | None = None,
) -> tuple[SyncReport, list[Problem]]:
    """Bring the store in line with the file at ``path``: all of it, or (on any error) nothing.
    ``step`` is told what is being done, for a progress display (`campaign sync` on a
    terminal)."""
    (step or _quiet)(f"checking {path}")
    return sync_valid(valid_file(path), database, actor=actor, dry_run=dry_run, now=now, step=step)


def _quiet(_: str) -> None:
    """No progress display."""


def sync_valid(
    valid: Validation,
    database: Database,
    *,
    actor: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    step: Callable[[str], None] | None = None,
) -> tuple[SyncReport, list[Problem]]:
    """:func:`sync_file` for a file validated already (:func:`valid_file`)."""
    say = step or _quiet
    assert valid.campaign is not None and valid.plan is not None
    with database.transaction(commit=not dry_run) as session:
        report = sync_campaign(
            session, valid.campaign, valid.plan, actor=actor, now=now or now_utc(), step=step
        )
        say("rolling back (dry run)" if dry_run else "committing")
    return report, valid.problems


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
        if session.get(Post, (campaign.id, definition.get("id"))) is not None:
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
        definition = {**post.definition, **changes}
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
        ours = (StoredDelivery.campaign_id == campaign.id) & (StoredDelivery.post_id == post.id)
        return campaign.id, post.version, released, past_due(session, ours, moment)


def list_posts(
    database: Database, campaign_id: str | None = None, *, queued_only: bool = True
) -> list[dict[str, Any]]:
    """The posts of a campaign (queued ones only, by default) with their deliveries' states."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        return post_listing(session, campaign, queued_only=queued_only)


def _approval(campaign: Campaign) -> ApprovalPolicy:
    return approval_policy(campaign.definition)


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
    loaded = load_data(campaign_with(campaign, [checked]), _typed(checked), path)
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
    post = _save_post(session, campaign.id, spec.posts[0].id, definition, existing, actor, now)
    post.placement = placement(slots) if slots else None
    report = SyncReport(campaign.id)
    store_media(session, valid.plan, folder)
    policy = spec.campaign.policies.approval
    accounts = stored_accounts(session, campaign.id)
    reconcile_deliveries(
        session, valid.plan.deliveries, {post.id: post}, accounts, policy, report, now
    )
    apply_approval_policy(session, policy.required, {post.id: post}, report, now)
    ours = (StoredDelivery.campaign_id == campaign.id) & (StoredDelivery.post_id == post.id)
    report.past_due = past_due(session, ours, now)
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
        QUEUE_SOURCE, values=dict.fromkeys(_leaves(definition, ("posts", 0)), (0, 0))
    )


def _leaves(value: Any, path: FieldPath) -> Iterator[FieldPath]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _leaves(item, (*path, number))
    else:
        yield path


def _save_post(
    session: Session,
    campaign_id: str,
    post_id: str,
    definition: dict[str, Any],
    existing: Post | None,
    actor: str,
    now: dt.datetime,
) -> Post:
    digest = definition_digest(definition)
    post = existing or Post(
        campaign_id=campaign_id, id=post_id, origin=ORIGIN_QUEUE, version=0, created_at=now
    )
    if existing is None or existing.definition_hash != digest:
        post.version += 1
    post.definition, post.definition_hash = definition, digest
    post.author, post.updated_at = actor, now
    session.add(post)
    session.flush()
    return post


def status(
    database: Database,
    campaign_id: str | None = None,
    *,
    attention_limit: int | None = queries.ATTENTION_LIMIT,
    now: dt.datetime | None = None,
) -> StatusData:
    """Counts by state per local day, embassy and platform, what needs attention (at most
    ``attention_limit`` listed; None lists all), active pauses, accounts that cannot post."""
    with database.snapshot() as session:
        return queries.status(session, campaign_id, now or now_utc(), attention_limit)


def report(
    database: Database, campaign_id: str | None = None, *, now: dt.datetime | None = None
) -> ReportData:
    """What went out (with its URL), what failed and why, what was missed or cancelled."""
    with database.snapshot() as session:
        return queries.report(session, campaign_id, now or now_utc())


def account_in_file(path: Path, platform: Platform, embassy_id: str) -> AccountRef:
    """The account of embassy ``embassy_id`` on ``platform``, as the campaign file names it.

    Only the file's structure has to be valid: a post with a problem does not stop onboarding.
    """
    from scheduler.preflight import find_account

    loaded = load_file(path)
    if loaded.campaign is None:
        raise CampaignFileError(str(path), loaded.problems)
    return find_account(loaded.campaign.spec, platform, embassy_id)


def authorize_account(
    ref: AccountRef,
    settings: Settings,
    *,
    ask: Ask,
    tell: Tell,
    secrets_file: Path | None = None,
    store: bool = True,
    app_from: str | None = None,
) -> Authorized:
    """Get an account's credentials interactively and store them (or return export lines)."""
    from scheduler.onboarding import authorize
    from scheduler.preflight import secrets_location

    return authorize(
        ref,
        settings,
        ask=ask,
        tell=tell,
        secrets_file=secrets_location(settings, secrets_file),
        store=store,
        app_from=app_from,
    )


def check_file(
    path: Path,
    settings: Settings,
    *,
    secrets_file: Path | None = None,
    workers: int = 8,
    progress: Progress | None = None,
) -> tuple[Preflight, list[Problem]]:
    """The preflight of a valid campaign file (raises CampaignFileError on any error): every
    account verified and compared with its planned posts, every image read."""
    from scheduler.preflight import run_preflight

    valid = valid_file(path)
    assert valid.campaign is not None and valid.plan is not None
    result = run_preflight(
        valid.campaign,
        valid.plan,
        settings,
        secrets_file=secrets_file,
        workers=workers,
        progress=progress,
    )
    return result, valid.problems


def pause(
    database: Database,
    scope: Scope,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
) -> int:
    """Stop every delivery in ``scope`` from being claimed, by every daemon, from commit on."""
    with database.transaction() as session:
        return pauses.pause(session, scope, reason=reason, actor=actor, now=now or now_utc())


def resume(
    database: Database,
    scope: Scope | None = None,
    *,
    pause_id: int | None = None,
    actor: str,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Lift pauses and release suspended accounts: (pauses lifted, accounts released)."""
    with database.transaction() as session:
        return pauses.resume(session, scope, pause_id=pause_id, actor=actor, now=now or now_utc())


@dataclass(frozen=True)
class Retraction:
    delivery: str
    account: str
    url: str | None
    outcome: str
    """'deleted', or why not."""


def sent_copies(
    database: Database, post_id: str, campaign_id: str | None = None
) -> list[tuple[str, str, str | None]]:
    """The copies of a post on the platforms: (delivery, account, URL), for a confirmation."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        find_post(session, campaign.id, post_id)
        return [
            (row.key, _account_name(row), row.remote_url)
            for row in _sent(session, campaign.id, post_id)
        ]


def unsent_copies(database: Database, post_id: str, campaign_id: str | None = None) -> int:
    """How many copies of a post have not gone out yet: those a retraction cancels."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        find_post(session, campaign.id, post_id)
        return len(
            session.scalars(
                select(StoredDelivery.id).where(
                    StoredDelivery.campaign_id == campaign.id,
                    StoredDelivery.post_id == post_id,
                    StoredDelivery.state.in_([str(state) for state in PENDING]),
                )
            ).all()
        )


def retract(
    database: Database,
    settings: Settings,
    post_id: str,
    *,
    actor: str,
    reason: str,
    campaign_id: str | None = None,
    now: dt.datetime | None = None,
) -> list[Retraction]:
    """Cancel what has not gone out, then delete every sent copy of the post from its platform,
    last thread part first. Each copy deleted becomes ``retracted``, with who, when and why;
    one that could not be deleted stays ``sent``, and the failure is reported, not raised."""
    reason = retraction_reason(reason)
    moment = now or now_utc()
    cancel_post(
        database,
        post_id,
        actor=actor,
        reason=f"retracted: {reason}",
        campaign_id=campaign_id,
        now=moment,
    )
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        rows = _sent(session, campaign.id, post_id)
        accounts = {row.account_id: session.get(Account, row.account_id) for row in rows}
    from scheduler.accounts import Accounts  # adapters load only when something is deleted

    pool = Accounts(settings, dry_run=False)
    try:
        done = [
            _retract_one(database, pool, row, accounts[row.account_id], actor, reason, moment)
            for row in rows
        ]
    finally:
        pool.close()
    _alert_retraction(database, campaign.id, post_id, actor, reason, done, moment)
    return done


def retraction_reason(reason: str) -> str:
    """The reason given for a retraction, refused when blank: the team, the report and the
    audit log say why a post was taken down."""
    if not reason.strip():
        raise UsageError("--reason: say why the post is retracted, for the team and the report")
    return reason.strip()


def _alert_retraction(
    database: Database,
    campaign_id: str,
    post_id: str,
    actor: str,
    reason: str,
    done: list[Retraction],
    now: dt.datetime,
) -> None:
    """The team hears of every retraction, who made it and why, and of the copies that could
    not be deleted."""
    failed = [item for item in done if item.outcome != "deleted"]
    message = (
        f"{post_id}: retracted by {actor} (reason: {reason}); "
        f"{len(done) - len(failed)} sent copies deleted"
    )
    if failed:
        message += f", {len(failed)} not deleted: " + "; ".join(
            f"{item.delivery} ({item.outcome})" for item in failed
        )
    with database.transaction() as session:
        raise_alert(session, now, AlertKind.RETRACTED, message, campaign_id=campaign_id,
                    subject=post_id)  # fmt: skip


def _sent(session: Session, campaign_id: str, post_id: str) -> list[StoredDelivery]:
    query = (
        select(StoredDelivery)
        .where(
            StoredDelivery.campaign_id == campaign_id,
            StoredDelivery.post_id == post_id,
            StoredDelivery.state == str(S.SENT),
        )
        .order_by(StoredDelivery.embassy_id, StoredDelivery.platform, StoredDelivery.part.desc())
    )
    return list(session.scalars(query))


def _account_name(row: StoredDelivery) -> str:
    return f"{row.embassy_id}/{row.platform}"


def _retract_one(
    database: Database,
    pool: Any,
    row: StoredDelivery,
    account: Account | None,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> Retraction:
    assert account is not None and row.remote_id is not None
    try:
        pool.adapter(account).delete(row.remote_id)
    except (PublishError, ConfigurationError) as error:
        outcome = f"not deleted: {type(error).__name__}: {error}"
    else:
        outcome = "deleted"
    with database.transaction() as session:
        if outcome == "deleted":
            move(session, StoredDelivery.id == row.id, S.RETRACTED, frozenset({S.SENT}), now,
                 retracted_at=now, retracted_by=actor, retraction_reason=reason)  # fmt: skip
        record(session, now, actor, "retract", row.campaign_id, row.key, outcome=outcome,
               reason=reason)  # fmt: skip
    return Retraction(row.key, _account_name(row), row.remote_url, outcome)


SETTLEMENTS = {
    "posted": (S.SENT, frozenset({S.UNKNOWN, S.NEEDS_REVIEW})),
    "not-posted": (S.SCHEDULED, frozenset({S.UNKNOWN, S.NEEDS_REVIEW})),
    "retry": (S.SCHEDULED, frozenset({S.FAILED, S.MISSED})),
    "give-up": (S.FAILED, frozenset({S.UNKNOWN, S.NEEDS_REVIEW})),
}
"""What a person may decide about a delivery the daemon could not settle, and from which states."""


def settle(
    database: Database,
    delivery_key: str,
    decision: str,
    *,
    actor: str,
    url: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, str]:
    """A person's decision on one delivery; returns its whole key and its new state."""
    target, allowed = SETTLEMENTS[decision]
    moment = now or now_utc()
    values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None, "not_before": None}
    if decision == "posted":
        values.update(remote_url=url, sent_at=moment, error_class=None, error_message=None)
    else:
        values.update(error_message=f"{decision} decided by {actor}")
    with database.transaction() as session:
        row = _delivery_by_key(session, delivery_key)
        delivery_key = row.key
        moved = _settle_one(session, row.id, target, allowed, moment, values)
        if moved is None:
            states = ", ".join(sorted(allowed))
            raise UsageError(f"{delivery_key} is {row.state}; --{decision} applies to: {states}")
        record(
            session,
            moment,
            actor,
            "settle",
            row.campaign_id,
            delivery_key,
            decision=decision,
            url=url,
        )
    return delivery_key, str(moved)


def _delivery_by_key(session: Session, given: str) -> StoredDelivery:
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


def _settle_one(
    session: Session,
    delivery_id: int,
    target: S,
    allowed: frozenset[S],
    moment: dt.datetime,
    values: dict[str, Any],
) -> S | None:
    """The state the delivery moved to (back on the schedule may mean cancelled, when its post
    was cancelled meanwhile), or None when it is in none of ``allowed``."""
    if target is S.SCHEDULED:
        return back_on_schedule(session, delivery_id, allowed, moment, **values)
    moved = move(session, StoredDelivery.id == delivery_id, target, allowed, moment, **values)
    return target if moved else None
