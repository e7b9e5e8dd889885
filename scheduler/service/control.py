"""The kill switch: pause and resume a campaign, an embassy, a platform or an account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from scheduler.service.clock import now_utc
from scheduler.store import pauses, queries
from scheduler.store.database import Database, Session
from scheduler.store.pauses import Scope as Scope  # for the commands
from scheduler.store.queries import AccountIssue as AccountIssue  # for the dashboard
from scheduler.store.queries import ActivePause as ActivePause  # for the dashboard


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


def resume_everything(
    database: Database,
    campaign_id: str | None = None,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Lift every pause that stops the campaign (any scope inside it, and those that stop every
    campaign) and release its suspended accounts; None: every campaign's. (pauses lifted,
    accounts released); UsageError when there was nothing to resume."""
    with database.transaction() as session:
        return pauses.resume_all(session, campaign_id, actor=actor, now=now or now_utc())


def active_pauses(database: Database, campaign_id: str | None = None) -> list[ActivePause]:
    """The pauses in force, oldest first; for one campaign, also those that stop every one:
    what the dashboard shows on every page."""
    with database.snapshot() as session:
        return queries.active_pauses(session, campaign_id)


@dataclass(frozen=True)
class Held:
    """The deliveries a pause covers."""

    unsent: int
    """Not sent yet: held until resumed (or missed, if too late by then)."""
    sending: int
    """Being sent now (the platform call may be under way): a pause cannot stop them."""


@dataclass(frozen=True)
class KillSwitch:
    """What the kill switch page shows and offers."""

    campaign_id: str | None
    """The campaign asked for, or the only one; None: several and none chosen (or none yet),
    so the page acts on every campaign."""
    campaigns: list[str]
    embassies: list[str]
    """What an embassy pause can name (the campaign's, or any campaign's)."""
    platforms: list[str]
    """The platforms the campaign's accounts are on."""
    pauses: list[ActivePause]
    held: dict[int, Held]
    """Per pause id."""
    suspended: list[AccountIssue]
    """Accounts the daemon suspended (invalid credentials, no credit); a resume that covers
    them releases them."""


def kill_switch(
    database: Database, campaign_id: str | None = None, *, now: dt.datetime | None = None
) -> KillSwitch:
    """The pauses in force (with what each holds), the suspended accounts, and the targets a
    new pause may name; UsageError for an unknown ``campaign_id``."""
    with database.snapshot() as session:
        campaigns = [campaign.id for campaign in queries.select_campaigns(session, None)]
        chosen = _chosen(session, campaign_id, campaigns)
        embassies, platforms = pauses.targets(session, chosen)
        active = queries.active_pauses(session, chosen)
        issues = queries.account_issues(session, chosen, now or now_utc())
        return KillSwitch(
            campaign_id=chosen,
            campaigns=campaigns,
            embassies=embassies,
            platforms=platforms,
            pauses=active,
            held={pause.id: _held(session, scope_of(pause)) for pause in active},
            suspended=[issue for issue in issues if issue.suspended_at is not None],
        )


def held(database: Database, scope: Scope) -> Held:
    with database.snapshot() as session:
        return _held(session, scope)


def _held(session: Session, scope: Scope) -> Held:
    return Held(*pauses.held(session, scope))


def _chosen(session: Session, campaign_id: str | None, campaigns: list[str]) -> str | None:
    if campaign_id is not None:
        queries.select_campaigns(session, campaign_id)  # UsageError naming the known ones
        return campaign_id
    return campaigns[0] if len(campaigns) == 1 else None


def scope_of(pause: ActivePause) -> Scope:
    return Scope(pause.campaign_id, pause.embassy_id, pause.platform, pause.post_id)


def covering(active: Iterable[ActivePause], scope: Scope) -> list[ActivePause]:
    """The pauses in ``active`` that already stop all of ``scope`` (each field empty or equal)."""
    wanted = (scope.campaign_id, scope.embassy_id, scope.platform, scope.post_id)
    return [
        pause
        for pause in active
        if all(
            have is None or have == want
            for have, want in zip(
                (pause.campaign_id, pause.embassy_id, pause.platform, pause.post_id),
                wanted,
                strict=True,
            )
        )
    ]
