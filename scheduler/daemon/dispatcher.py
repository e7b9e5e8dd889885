"""The dispatcher: claims due deliveries, calls the platforms, records what became of each call.

The database is the source of truth; this class holds nothing that a crash could lose. For each
delivery: claim (with a lease) -> record the attempt -> call the adapter -> record the outcome,
each step a guarded write (scheduler.store.claims). A claim lost on the way (cancelled, edited,
paused, reaped) is dropped before the platform is called.

What each outcome becomes:

    published                      sent, with its remote id and URL
    RateLimited                    retry at the platform's reset; the account waits, for all daemons
    other transient errors         retry with exponential backoff and jitter, within the late grace
    CredentialsInvalid, OutOfQuota the account is suspended (others go on); the delivery waits
    ContentRejected, Duplicate     failed, with the reason
    Duplicate after an earlier     unknown: the platform says the text is on the account already,
      attempt                      which an earlier attempt whose answer was lost can explain
    OutcomeUnknown                 unknown: reconciled (looked for on the account) before anything
    too late for the grace         missed, with how late
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from adapters.base import OutgoingPart, Published
from adapters.capabilities import Platform
from adapters.errors import (
    CredentialsInvalid,
    Duplicate,
    OutcomeUnknown,
    OutOfQuota,
    RateLimited,
    TransientError,
)
from scheduler.campaign.timing import missed_message, past_grace
from scheduler.daemon.accounts import Accounts
from scheduler.daemon.clock import CampaignClock, from_platform, wall_span
from scheduler.daemon.housekeeping import Housekeeper
from scheduler.daemon.outgoing import outgoing_part
from scheduler.errors import ConfigurationError, PublishError
from scheduler.settings import Settings
from scheduler.store.alerts import AlertKind, raise_alert
from scheduler.store.claims import (
    Claim,
    begin_attempt,
    campaigns_synced,
    claim_due,
    claimed_row,
    end_attempt,
    finish,
    held,
    mark_account_sent,
    next_wakeup,
    rate_limit_account,
    record_sent,
)
from scheduler.store.database import Database
from scheduler.store.deliveries import mark_missed, move, one_delivery
from scheduler.store.documents import CampaignDefinition
from scheduler.store.posts import campaign_definitions
from scheduler.store.reconciliation import RELEASED
from scheduler.store.schema import Account
from scheduler.store.states import DeliveryState

log = logging.getLogger("campaign.dispatcher")
CLAIMED_ONLY = frozenset({DeliveryState.CLAIMED})
CLAIM_BATCH = 16
"""Most deliveries one claim transaction takes: a burst is claimed in few transactions, and a
daemon never holds many leases it cannot start at once."""


@dataclass(frozen=True)
class Job:
    """Everything one platform call needs, read in one go after the claim."""

    claim: Claim
    key: str
    campaign_id: str
    platform: Platform
    account: Account
    due_at: dt.datetime
    grace: dt.timedelta
    part: OutgoingPart


class Dispatcher:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        worker: str,
        clock: CampaignClock,
        dry_run: bool = False,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.worker = worker
        self.clock = clock
        self.accounts = Accounts(settings, dry_run=dry_run, clock=clock)
        self.stats: Counter[str] = Counter()
        self.housekeeping = Housekeeper(database, clock, self.accounts, self.stats, worker)
        self._on_change = on_change or (lambda: None)
        # Fixed for the process, even on reload: the threads and slots are made once.
        self._capacity = settings.daemon.max_in_flight
        self._slots = threading.BoundedSemaphore(self._capacity)
        self._platform_limits = settings.calls_at_once()
        self._platform_calls: Counter[str] = Counter()
        self._platform_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(self._capacity, thread_name_prefix="campaign-send")
        self._claiming = True
        self._random = random.Random()
        self._spacings: tuple[list[tuple[str, dt.datetime | None]], dt.timedelta] | None = None

    # --- claiming -----------------------------------------------------------------------------

    def dispatch(self) -> int:
        """Claim and start every delivery that may go out now, up to the in-flight limits: the
        daemon's, and each platform's."""
        started = 0
        spacing: dt.timedelta | None = None  # read once a round, not once a claim
        while self._claiming:
            slots = self._take_slots(CLAIM_BATCH)
            room = self._room()
            claims: list[Claim] = []
            if slots and any(room.values()):
                spacing = spacing or self._spacing()
                claims = self._claim(spacing, room, slots)
            for _ in range(slots - len(claims)):
                self._slots.release()
            if not claims:
                break
            for claim in claims:
                with self._platform_lock:
                    self._platform_calls[claim.platform] += 1
                self._executor.submit(self._send, claim)
            started += len(claims)
        return started

    def _take_slots(self, most: int) -> int:
        taken = 0
        while taken < most and self._slots.acquire(blocking=False):
            taken += 1
        return taken

    def _room(self) -> dict[str, int]:
        """Calls each platform may still take now."""
        with self._platform_lock:
            return {
                platform: limit - self._platform_calls[platform]
                for platform, limit in self._platform_limits.items()
            }

    def _claim(self, spacing: dt.timedelta, room: dict[str, int], most: int) -> list[Claim]:
        now = self.clock.now()
        with self.database.transaction() as session:
            return claim_due(
                session,
                worker=self.worker,
                now=now,
                lease=wall_span(self.clock, self.settings.daemon.lease),
                spacing=spacing,
                room=room,
                limit=most,
            )

    def _spacing(self) -> dt.timedelta:
        # The campaign's late.spacing; with several campaigns, the widest one is kept for all.
        # Parsed again only when a campaign was synced since: a definition is large.
        with self.database.snapshot() as session:
            synced = campaigns_synced(session)
            if self._spacings is None or self._spacings[0] != synced:
                spacings = [
                    CampaignDefinition.from_stored(definition, "a campaign").policies.late.spacing
                    for definition in campaign_definitions(session)
                ]
                self._spacings = (synced, max(spacings, default=dt.timedelta(minutes=2)))
        return self._spacings[1]

    def next_wakeup(self) -> dt.datetime | None:
        """The earliest campaign instant at which something may become claimable; None while
        every slot is taken: then the next call to finish dispatches again anyway."""
        with self._platform_lock:
            if sum(self._platform_calls.values()) >= self._capacity:
                return None
        now = self.clock.now()
        with self.database.snapshot() as session:
            return next_wakeup(session, now)

    def stop_claiming(self) -> None:
        self._claiming = False

    def drain(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) for calls in flight; True when none is left."""
        deadline = time.monotonic() + timeout
        acquired = 0
        try:
            while acquired < self._capacity and self._slots.acquire(
                timeout=max(0.0, deadline - time.monotonic())
            ):
                acquired += 1
        finally:
            for _ in range(acquired):
                self._slots.release()
        return acquired == self._capacity

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.accounts.close()

    # --- one call -----------------------------------------------------------------------------

    def _send(self, claim: Claim) -> None:
        try:
            self._attempt(claim)
        except Exception:  # a bug must not silently kill the worker thread
            log.exception("delivery %s: unexpected error; its lease will expire", claim.key)
            self.stats["errors"] += 1
        finally:
            with self._platform_lock:
                self._platform_calls[claim.platform] -= 1
            self._slots.release()
            self._on_change()

    def _attempt(self, claim: Claim) -> None:
        job = self._job(claim)
        if job is None:
            self.stats["lost"] += 1
            return
        now = self.clock.now()
        if past_grace(job.due_at, job.grace, now):
            self._missed(job, now, allowed_from=CLAIMED_ONLY)
            return
        try:  # made before the attempt: missing credentials suspend the account, nothing is sent
            self.accounts.adapter(job.account)
        except ConfigurationError as exc:
            self._suspend(job, exc, allowed_from=CLAIMED_ONLY)
            return
        with self.database.transaction() as session:
            attempt_id = begin_attempt(
                session, claim, idempotency_key=job.part.idempotency_key, now=now
            )
        if attempt_id is None:
            log.info(
                "delivery %s: claim lost before the call (cancelled, edited or paused)", job.key
            )
            self.stats["lost"] += 1
            return
        try:
            with self.accounts.using(job.account) as adapter:
                published = adapter.publish(job.part)
        except PublishError as error:
            self._failed(job, attempt_id, error)
        except Exception as error:  # an adapter bug after the request may have gone out
            log.exception("delivery %s: the adapter failed unexpectedly", job.key)
            self._failed(job, attempt_id, OutcomeUnknown(f"unexpected {type(error).__name__}"))
        else:
            self._sent(job, attempt_id, published)

    def _job(self, claim: Claim) -> Job | None:
        # A read: it takes no writer's turn (begin_attempt checks the claim again as it writes).
        with self.database.snapshot() as session:
            claimed = claimed_row(session, claim)
            if claimed is None:
                return None
            row, account = claimed
            return Job(
                claim=claim,
                key=row.key,
                campaign_id=row.campaign_id,
                platform=Platform(row.platform),
                account=account,
                due_at=row.due_at,
                grace=dt.timedelta(seconds=row.grace_seconds),
                part=outgoing_part(session, row),
            )

    def _sent(self, job: Job, attempt_id: int, published: Published) -> None:
        now = self.clock.now()
        outcome: dict[str, Any] = {"remote_id": published.remote_id, "remote_url": published.url}
        with self.database.transaction() as session:
            end_attempt(
                session,
                attempt_id,
                outcome="sent",
                now=now,
                remote_id=published.remote_id,
                remote_url=published.url,
            )
            platform_now = from_platform(self.clock, published.published_at)
            if not record_sent(session, job.claim, now, platform_sent_at=platform_now, **outcome):
                # The lease ran out during a slow call and the reaper marked it unknown: we know
                # (and a reconciliation that took it meanwhile has nothing left to do).
                values: dict[str, Any] = {**outcome, "sent_at": now, "error_class": None}
                values.update(error_message=None, platform_sent_at=platform_now)
                move(
                    session,
                    one_delivery(job.claim.delivery_id),
                    DeliveryState.SENT,
                    frozenset({DeliveryState.UNKNOWN}),
                    now,
                    **values,
                    **RELEASED,
                )
            mark_account_sent(session, job.account.id, now)
        self.stats["sent"] += 1
        log.info("delivery %s: sent %s", job.key, published.url)

    def _failed(self, job: Job, attempt_id: int, error: PublishError) -> None:
        now = self.clock.now()
        with self.database.transaction() as session:
            end_attempt(session, attempt_id, outcome=_outcome(error), now=now, error=error)
        if isinstance(error, RateLimited):
            self._retry(job, error, self.clock.from_real(error.reset_at), rate_limited=True)
        elif isinstance(error, TransientError):
            self._retry(job, error, now + self._backoff(job.claim.attempt_count + 1))
        elif isinstance(error, CredentialsInvalid | OutOfQuota):
            self._suspend(job, error, allowed_from=frozenset({DeliveryState.SENDING}))
        elif isinstance(error, OutcomeUnknown) or _duplicate_of_an_earlier_attempt(job, error):
            self._finish(job, DeliveryState.UNKNOWN, error)
            self.stats["unknown"] += 1
        else:
            self._finish(job, DeliveryState.FAILED, error, alert=AlertKind.FAILED)
            self.stats["failed"] += 1
        log.warning("delivery %s: %s: %s", job.key, type(error).__name__, error)

    def _retry(
        self, job: Job, error: PublishError, at: dt.datetime, *, rate_limited: bool = False
    ) -> None:
        tries = job.claim.attempt_count + 1
        if past_grace(job.due_at, job.grace, at):
            self._missed(job, at, allowed_from=frozenset({DeliveryState.SENDING}), cause=error)
        elif not rate_limited and tries > self.settings.daemon.retries:
            self._finish(
                job,
                DeliveryState.FAILED,
                error,
                alert=AlertKind.FAILED,
                note=f" (gave up after {tries} tries)",
            )
            self.stats["failed"] += 1
        else:
            with self.database.transaction() as session:
                finish(
                    session,
                    job.claim,
                    DeliveryState.RETRY_WAITING,
                    self.clock.now(),
                    not_before=at,
                    **_error(error),
                )
                if rate_limited:
                    rate_limit_account(session, job.account.id, at)
            self.stats["retried"] += 1

    def _backoff(self, tries: int) -> dt.timedelta:
        first: dt.timedelta = wall_span(self.clock, self.settings.daemon.backoff)
        return first * (1 << (tries - 1)) * self._random.uniform(0.5, 1.5)

    def _suspend(
        self, job: Job, error: Exception, *, allowed_from: frozenset[DeliveryState]
    ) -> None:
        now = self.clock.now()
        with self.database.transaction() as session:
            finish(
                session,
                job.claim,
                DeliveryState.RETRY_WAITING,
                now,
                allowed_from=allowed_from,
                **_error(error),
            )
            self.accounts.suspend(session, job.account, error, now, subject=job.key)
        self.stats["suspended"] += 1

    def _missed(
        self,
        job: Job,
        at: dt.datetime,
        *,
        allowed_from: frozenset[DeliveryState],
        cause: Exception | None = None,
    ) -> None:
        late = at - job.due_at
        message = missed_message(late, job.grace)
        if cause is not None:
            message += f" (after {type(cause).__name__}: {cause})"
        now = self.clock.now()
        with self.database.transaction() as session:
            mark_missed(
                session,
                held(job.claim),
                allowed_from,
                now,
                key=job.key,
                campaign_id=job.campaign_id,
                message=message,
                lease_owner=None,
                lease_expires_at=None,
            )
        self.stats["missed"] += 1

    def _finish(
        self,
        job: Job,
        to: DeliveryState,
        error: Exception,
        *,
        alert: AlertKind | None = None,
        note: str = "",
    ) -> None:
        now = self.clock.now()
        with self.database.transaction() as session:
            values = _error(error)
            values["error_message"] = f"{values['error_message']}{note}"
            finish(session, job.claim, to, now, **values)
            if alert is not None:
                raise_alert(
                    session,
                    now,
                    alert,
                    f"{job.key}: {values['error_message']}",
                    campaign_id=job.campaign_id,
                    subject=job.key,
                )


def _duplicate_of_an_earlier_attempt(job: Job, error: PublishError) -> bool:
    """X refuses a text the account has posted: after an attempt whose outcome was lost, that
    is the likeliest reason, so the delivery is looked for rather than failed."""
    return isinstance(error, Duplicate) and job.claim.attempt_count > 0


def _error(error: Exception) -> dict[str, Any]:
    return {"error_class": type(error).__name__, "error_message": str(error)[:2000]}


def _outcome(error: PublishError) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()
