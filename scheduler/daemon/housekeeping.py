"""What a daemon does between sends: reap the leases of dead workers, mark what is too late as
missed, settle unknown outcomes by looking for the post on its account, and check the tokens of
accounts that will post soon."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from adapters.base import Published
from adapters.capabilities import Platform
from adapters.errors import CredentialsInvalid, OutcomeUnknown, OutOfQuota
from scheduler.campaign.timing import missed_message, past_grace
from scheduler.daemon.accounts import Accounts
from scheduler.daemon.clock import CampaignClock, from_platform, wall_span
from scheduler.daemon.outgoing import outgoing_part
from scheduler.errors import ConfigurationError, PublishError, StoreError
from scheduler.store.alerts import AlertKind
from scheduler.store.claims import accounts_posting_before, reap
from scheduler.store.database import Database
from scheduler.store.deliveries import (
    WAITING,
    back_on_schedule,
    get_delivery,
    mark_missed,
    move_and_alert,
    one_delivery,
    overdue,
)
from scheduler.store.reconciliation import (
    RELEASED,
    Unsettled,
    record_found,
    release_unsettled,
    take_unsettled,
    taken_remote_ids,
    unsettled,
)
from scheduler.store.schema import Account
from scheduler.store.states import DeliveryState

log = logging.getLogger("campaign.housekeeping")
REVIEW_AFTER = dt.timedelta(minutes=15)
"""An unknown outcome whose account cannot be asked (the platform is down) for this long after
it could first be looked for goes to a person (needs_review)."""
RECONCILE_BATCH = 200
RECONCILE_THREADS = 8
"""Accounts searched at once; each account's own deliveries are searched one by one."""


@dataclass
class Housekeeper:
    database: Database
    clock: CampaignClock
    accounts: Accounts
    stats: Counter[str]
    worker: str

    _checked: dict[int, dt.datetime] = field(default_factory=dict)
    """Account id -> when its token was last checked (campaign time), within token_check."""

    def check_tokens(self, horizon: dt.timedelta = dt.timedelta(days=1)) -> int:
        """Verify the credentials of accounts with posts due within ``horizon``, so that a
        revoked token is found hours before its post rather than at it: at most
        ``daemon.token_check_batch`` accounts a round, one after another, never one whose post
        is near (the check must not delay it), nor one whose credentials a check or a sent post
        proved within ``daemon.token_check``, nor one in use. Returns how many were checked."""
        checked = 0
        for account in self.accounts_to_check(horizon):
            if self._check_token(account):
                self._checked[account.id] = self.clock.now()
                checked += 1
        return checked

    def accounts_to_check(self, horizon: dt.timedelta) -> list[Account]:
        """This round's accounts: due for a check, at most ``daemon.token_check_batch``."""
        settings = self.accounts.settings
        now = self.clock.now()
        near = now + self._check_margin()
        proven = now - wall_span(self.clock, settings.daemon.token_check)
        with self.database.snapshot() as session:
            upcoming = accounts_posting_before(session, now + horizon)
            soon = {account.id for account in accounts_posting_before(session, near)}
        self._checked = {i: at for i, at in self._checked.items() if at > proven}  # bounded
        due = [
            account
            for account in upcoming
            if account.id not in soon
            and account.id not in self._checked
            and not (account.last_sent_at is not None and account.last_sent_at > proven)
        ]
        return due[: settings.daemon.token_check_batch]

    def _check_margin(self) -> dt.timedelta:
        """How near a post keeps its account from a check: three platform timeouts (a check
        may log in, be refused and renew its session)."""
        settings = self.accounts.settings
        timeout = max(settings.platform(platform).timeout for platform in Platform)
        return wall_span(self.clock, dt.timedelta(seconds=3 * timeout))

    def _check_token(self, account: Account) -> bool:
        """Verify one account's credentials, unless it is in use (then False: a post or a
        reconciliation is testing them; the next round tries again)."""
        try:
            with self.accounts.using_if_idle(account) as adapter:
                if adapter is None:
                    return False
                adapter.verify()
        except (CredentialsInvalid, OutOfQuota, ConfigurationError) as error:
            with self.database.transaction() as session:
                self.accounts.suspend(session, account, error, self.clock.now())
            self.stats["suspended"] += 1
        except PublishError as error:  # the platform is down: the posts will say more
            log.warning(
                "%s on %s: token check failed: %s", account.embassy_id, account.platform, error
            )
        return True

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
        missed = 0
        with self.database.transaction() as session:
            for row in overdue(session, now, limit=1000):
                grace = dt.timedelta(seconds=row.grace_seconds)
                if not past_grace(row.due_at, grace, now):
                    continue
                why = (
                    "not approved in time"
                    if row.state == DeliveryState.AWAITING_APPROVAL
                    else "not sent in time"
                )
                message = missed_message(now - row.due_at, grace, why)
                if mark_missed(
                    session,
                    one_delivery(row.id),
                    WAITING,
                    now,
                    key=row.key,
                    campaign_id=row.campaign_id,
                    message=message,
                ):
                    missed += 1
        self.stats["missed"] += missed
        return missed

    def reconcile(self) -> int:
        """Settle unknown outcomes by looking for each post on its account, by what was sent
        (``Adapter.find_published``): found -> sent; surely absent -> back on the schedule;
        cannot tell -> a person (needs_review), told by an alert. Accounts are searched in
        parallel, each account's deliveries one after another. Returns how many were settled."""
        now = self.clock.now()
        with self.database.transaction() as session:
            taken = take_unsettled(
                session,
                worker=self.worker,
                now=now,
                lease=wall_span(self.clock, self.accounts.settings.daemon.lease),
                settled_before=now - self._settle_delay(),
                limit=RECONCILE_BATCH,
            )
            jobs = [unsettled(session, delivery_id) for delivery_id in taken]
        by_account: dict[int, list[Unsettled]] = {}
        # Each account's in the order of their first calls: with two lost posts of the same
        # text, the earlier call takes the earlier post.
        for job in sorted(jobs, key=lambda job: job.first_attempt):
            by_account.setdefault(job.account.id, []).append(job)
        if not by_account:
            return 0
        workers = min(RECONCILE_THREADS, len(by_account))
        with ThreadPoolExecutor(workers, thread_name_prefix="campaign-reconcile") as pool:
            settled = pool.map(self._reconcile_account, by_account.values())
            return sum(settled)

    def _settle_delay(self) -> dt.timedelta:
        """How long after a call started its post may still appear: a call that timed out on
        our side (after the platform timeout) can be committed by the platform later, so nobody
        looks before twice that timeout (a minute with the default 30 s)."""
        settings = self.accounts.settings
        timeout = max(settings.platform(platform).timeout for platform in Platform)
        return wall_span(self.clock, dt.timedelta(seconds=2 * timeout))

    def _reconcile_account(self, jobs: list[Unsettled]) -> int:
        settled = 0
        for job in jobs:
            try:
                settled += self._reconcile_one(job)
            except Exception:  # a bug must not leave the other deliveries leased
                log.exception("delivery %s: reconciliation failed unexpectedly", job.key)
                with self.database.transaction() as session:
                    release_unsettled(session, job.delivery_id, self.worker)
        return settled

    def _reconcile_one(self, job: Unsettled) -> int:
        with self.database.snapshot() as session:
            row = get_delivery(session, job.delivery_id)
            assert row is not None
            part = outgoing_part(session, row)
            taken = taken_remote_ids(session, job.account.id)
        try:
            with self.accounts.using(job.account) as adapter:
                found = adapter.find_published(
                    part, since=self.clock.to_real(job.first_attempt), taken=taken
                )
        except (OutcomeUnknown, ConfigurationError) as error:
            return self._to_a_person(job, f"cannot tell whether it was posted: {error}")
        except PublishError as error:
            waited = self.clock.now() - job.state_since - self._settle_delay()
            if waited < wall_span(self.clock, REVIEW_AFTER):
                with self.database.transaction() as session:
                    release_unsettled(session, job.delivery_id, self.worker)
                log.info("delivery %s: cannot look for it yet (%s)", job.key, error)
                return 0
            return self._to_a_person(job, f"cannot look for it on the account: {error}")
        if found is not None:
            return self._found(job, found)
        if job.refused_as_duplicate:
            return self._to_a_person(
                job,
                "the platform refused it as a duplicate of a post on the account, but no post "
                "since the first attempt has its text",
            )
        return self._absent(job)

    def _found(self, job: Unsettled, found: Published) -> int:
        now = self.clock.now()
        posted_at = from_platform(self.clock, found.published_at)  # the post's time, not now
        try:
            with self.database.transaction() as session:
                record_found(session, job.delivery_id, remote_id=found.remote_id,
                             remote_url=found.url, now=now, platform_sent_at=posted_at)  # fmt: skip
        except StoreError as error:
            return self._to_a_person(job, f"found {found.url}, but {error}")
        log.info("delivery %s: reconciled, it was posted: %s", job.key, found.url)
        return 1

    def _absent(self, job: Unsettled) -> int:
        with self.database.transaction() as session:
            moved = back_on_schedule(
                session, job.delivery_id, frozenset({DeliveryState.UNKNOWN}), self.clock.now(),
                **RELEASED, error_message="reconciled: not on the account; sending again",
            )  # fmt: skip
        if moved is DeliveryState.CANCELLED:
            log.info("delivery %s: reconciled, not posted; its post was cancelled", job.key)
        else:
            log.info("delivery %s: reconciled, not posted; it goes out again", job.key)
        return 1

    def _to_a_person(self, job: Unsettled, why: str) -> int:
        now = self.clock.now()
        message = f"{why}; check the account, then settle it (campaign settle)"
        with self.database.transaction() as session:
            move_and_alert(session, one_delivery(job.delivery_id), DeliveryState.NEEDS_REVIEW,
                           frozenset({DeliveryState.UNKNOWN}), now, alert=AlertKind.NEEDS_REVIEW,
                           key=job.key, campaign_id=job.campaign_id, message=message,
                           error_message=message, **RELEASED)  # fmt: skip
        log.warning("delivery %s: needs review: %s", job.key, message)
        return 1
