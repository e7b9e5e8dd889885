"""`campaign retract`: take sent copies of a post down, and say which could not be."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scheduler.errors import ConfigurationError, PublishError, UsageError
from scheduler.service.clock import now_utc
from scheduler.service.queue import cancel_post
from scheduler.store.alerts import AlertKind, raise_alert
from scheduler.store.audit import record
from scheduler.store.database import Database
from scheduler.store.deliveries import count_pending, move, one_delivery, sent_deliveries
from scheduler.store.posts import (
    choose_campaign,
    find_post,
    get_account,
)
from scheduler.store.schema import Account
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.states import DeliveryState

if TYPE_CHECKING:
    from scheduler.settings import Settings


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
            for row in sent_deliveries(session, campaign.id, post_id)
        ]


def unsent_copies(database: Database, post_id: str, campaign_id: str | None = None) -> int:
    """How many copies of a post have not gone out yet: those a retraction cancels."""
    with database.snapshot() as session:
        campaign = choose_campaign(session, campaign_id)
        find_post(session, campaign.id, post_id)
        return count_pending(session, campaign.id, post_id)


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
        rows = sent_deliveries(session, campaign.id, post_id)
        accounts = {row.account_id: get_account(session, row.account_id) for row in rows}
    from scheduler.daemon.accounts import Accounts  # adapters load only when something is deleted

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
            move(session, one_delivery(row.id), DeliveryState.RETRACTED,
                 frozenset({DeliveryState.SENT}), now,
                 retracted_at=now, retracted_by=actor, retraction_reason=reason)  # fmt: skip
        record(session, now, actor, "retract", row.campaign_id, row.key, outcome=outcome,
               reason=reason)  # fmt: skip
    return Retraction(row.key, _account_name(row), row.remote_url, outcome)
