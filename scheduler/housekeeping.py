"""What a daemon does between sends: reap the leases of dead workers, mark what is too late as
missed, settle unknown outcomes by looking for the post on its account, and check the tokens of
accounts that will post soon."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from adapters.base import CredentialsInvalid, OutcomeUnknown, OutOfQuota
from scheduler.accounts import Accounts
from scheduler.clock import Clock
from scheduler.errors import ConfigurationError, PublishError
from scheduler.store.alerts import AlertKind, raise_alert
from scheduler.store.claims import CLAIMABLE, reap
from scheduler.store.database import Database
from scheduler.store.deliveries import mark_missed, move, read_payload
from scheduler.store.schema import Account, Delivery
from scheduler.store.states import DeliveryState
from scheduler.timing import describe_span

log = logging.getLogger("campaign.housekeeping")
S = DeliveryState
REVIEW_AFTER = dt.timedelta(minutes=15)
"""An unknown outcome that cannot be settled by looking for the post within this long goes to a
person (needs_review)."""
LOOKBACK = dt.timedelta(hours=2)
"""How far back (wall-clock time) reconciliation looks on the account for a lost post."""


@dataclass
class Housekeeper:
    database: Database
    clock: Clock
    accounts: Accounts
    stats: Counter[str]

    def check_tokens(self, horizon: dt.timedelta = dt.timedelta(days=1)) -> int:
        """Verify the credentials of every account with posts due within ``horizon``: a revoked
        token is found hours before its post rather than at it. Returns how many were checked."""
        now = self.clock.now()
        upcoming = select(Delivery.account_id).where(
            Delivery.state.in_([*CLAIMABLE, str(S.AWAITING_APPROVAL)]),
            Delivery.due_at < now + horizon,
        )
        with self.database.snapshot() as session:
            accounts = list(
                session.scalars(
                    select(Account).where(Account.suspended_at.is_(None), Account.id.in_(upcoming))
                )
            )
            session.expunge_all()
        for account in accounts:
            self._check_token(account)
        return len(accounts)

    def _check_token(self, account: Account) -> None:
        try:
            with self.accounts.using(account) as adapter:
                adapter.verify()
        except (CredentialsInvalid, OutOfQuota, ConfigurationError) as error:
            with self.database.transaction() as session:
                self.accounts.suspend(session, account, error, self.clock.now())
            self.stats["suspended"] += 1
        except PublishError as error:  # the platform is down: the posts will say more
            log.warning(
                "%s on %s: token check failed: %s", account.embassy_id, account.platform, error
            )

    def maintain(self) -> None:
        """Reap dead workers' leases, mark what is too late as missed, settle unknown outcomes."""
        now = self.clock.now()
        with self.database.transaction() as session:
            released, unknown = reap(session, now)
        if released or unknown:
            log.warning(
                "reaped expired leases: %d back to the schedule, %d unknown", released, unknown
            )
        self.sweep_missed()
        self.reconcile()

    def sweep_missed(self) -> int:
        now = self.clock.now()
        waiting = (S.SCHEDULED, S.RETRY_WAITING, S.AWAITING_APPROVAL)
        missed = 0
        with self.database.transaction() as session:
            rows = session.execute(
                select(
                    Delivery.id,
                    Delivery.key,
                    Delivery.campaign_id,
                    Delivery.due_at,
                    Delivery.grace_seconds,
                    Delivery.state,
                )
                .where(Delivery.state.in_([str(s) for s in waiting]), Delivery.due_at < now)
                .order_by(Delivery.due_at)  # the oldest first: the likeliest to be too late
                .limit(1000)
            ).all()
            for row in rows:
                grace = dt.timedelta(seconds=row.grace_seconds)
                if row.due_at + grace >= now:
                    continue
                why = (
                    "not approved in time"
                    if row.state == S.AWAITING_APPROVAL
                    else "not sent in time"
                )
                late = describe_span(now - row.due_at)
                message = f"{why}: {late} late, beyond the grace of {describe_span(grace)}"
                if mark_missed(
                    session,
                    Delivery.id == row.id,
                    frozenset(waiting),
                    now,
                    key=row.key,
                    campaign_id=row.campaign_id,
                    message=message,
                ):
                    missed += 1
        self.stats["missed"] += missed
        return missed

    def reconcile(self) -> int:
        """Look for each unknown outcome on its account: found -> sent; surely absent -> back on
        the schedule (Mastodon then receives the same idempotency key); cannot tell -> a person."""
        settled = 0
        with self.database.snapshot() as session:
            rows = session.scalars(
                select(Delivery)
                .where(Delivery.state == str(S.UNKNOWN), Delivery.lease_owner.is_(None))
                .limit(50)
            ).all()
            jobs = [
                (row.id, row.key, row.campaign_id, row.state_since, read_payload(row)["text"],
                 session.get(Account, row.account_id))
                for row in rows
            ]  # fmt: skip
        for delivery_id, key, campaign_id, since, text, account in jobs:
            assert account is not None
            settled += self._reconcile_one(delivery_id, key, campaign_id, since, text, account)
        return settled

    def _reconcile_one(
        self,
        delivery_id: int,
        key: str,
        campaign_id: str,
        since: dt.datetime,
        text: str,
        account: Account,
    ) -> int:
        now = self.clock.now()
        where = Delivery.id == delivery_id
        try:
            with self.accounts.using(account) as adapter:
                if not adapter.can_find_recent:
                    raise OutcomeUnknown(f"{account.platform} does not let us look for the post")
                recent = adapter.find_recent(since=dt.datetime.now(dt.UTC) - LOOKBACK, limit=50)
        except (PublishError, ConfigurationError) as error:
            if now - since < REVIEW_AFTER and not isinstance(error, OutcomeUnknown):
                return 0  # try again at the next round
            with self.database.transaction() as session:
                message = (
                    f"cannot tell whether it was posted: {error}; check the account, then mark it"
                )
                if move(
                    session,
                    where,
                    S.NEEDS_REVIEW,
                    frozenset({S.UNKNOWN}),
                    now,
                    error_message=message,
                ):
                    raise_alert(
                        session,
                        now,
                        AlertKind.NEEDS_REVIEW,
                        f"{key}: {message}",
                        campaign_id=campaign_id,
                        subject=key,
                    )
            return 1
        found = next((post for post in recent if _same_text(post.text, text)), None)
        with self.database.transaction() as session:
            if found is not None:
                move(
                    session,
                    where,
                    S.SENT,
                    frozenset({S.UNKNOWN}),
                    now,
                    remote_id=found.remote_id,
                    remote_url=found.url,
                    sent_at=now,
                    error_class=None,
                    error_message=None,
                )
                log.info("delivery %s: reconciled, it was posted: %s", key, found.url)
            else:
                move(session, where, S.SCHEDULED, frozenset({S.UNKNOWN}), now,
                     error_message="reconciled: not on the account; sending again")  # fmt: skip
                log.info("delivery %s: reconciled, not posted; it goes out again", key)
        return 1


def _same_text(remote: str, ours: str) -> bool:
    """Whether a post found on the account is ours: platforms shorten links and return HTML, so
    compare the words only, and the start of ours."""
    theirs, mine = _words(remote), _words(ours)
    return bool(mine) and mine[:60] in theirs


def _words(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    return "".join(ch for ch in text.casefold() if ch.isalnum())
