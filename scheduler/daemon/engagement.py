"""Collecting engagement, for `campaign engagement` (through ``scheduler.service.engagement``)
and the daemon's schedule: each sent post's public counts, asked for from its platform in
batches, one account at a time, and kept as snapshots.

Adapters are the daemon's (``scheduler.daemon.accounts.Accounts``): built the same way, from the
settings and the secrets store, and, in the daemon, the very ones its posts use, under the same
per-account lock. Each batch's answer is written at once, so a run stopped half-way keeps what it
got, and a run again within ``engagement.fresh`` asks only for what is left. An account that
refuses (401, 402) or is rate-limited (429) gets a note and is left for the next run; the other
accounts go on. Reading X costs money: the posts to read times ``engagement.x_cost_per_read`` is
estimated before anything is read, and X is skipped, with a note, when it is over the cap.

Only the engagement tables are written; the dispatcher's are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from adapters.base import Adapter
from adapters.capabilities import Platform
from adapters.errors import CredentialsInvalid, OutOfQuota, PublishError, RateLimited
from scheduler.daemon.accounts import Accounts
from scheduler.daemon.clock import CampaignClock
from scheduler.errors import CampaignError, ConfigurationError
from scheduler.settings import Settings
from scheduler.store.database import Database
from scheduler.store.documents import AccountNote as AccountNote  # in Progress, for its callers
from scheduler.store.documents import CollectionError, ErrorKind, RunNotes
from scheduler.store.engagement import (
    COMMAND,
    DAEMON,
    RunRecord,
    SentDelivery,
    accounts_by_id,
    last_run,
    record_batch,
    save_notes,
    sent_deliveries,
    start_run,
)
from scheduler.store.schema import Account

Progress = Callable[[AccountNote, bool], None]
"""Told of an account's note after each of its batches (False), and once it is done (True)."""
SCHEDULE_SLACK = dt.timedelta(days=1)
"""How late the daemon still collects a post's last scheduled point (after a downtime)."""
AdapterFor = Callable[[Account], AbstractContextManager[Adapter | None]]
"""An account's adapter for the duration of a block; None when it is busy (skip it now)."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a collection would ask for, before anything is asked."""

    posts: dict[str, int]
    """Platform -> sent posts to ask about."""
    accounts: int
    x_reads: int
    x_cost_per_read: float
    x_cost: float
    """USD: ``x_reads`` x ``x_cost_per_read``; an upper bound (X bills a post once a UTC day)."""
    x_max_cost: float

    @property
    def x_over_cap(self) -> bool:
        return self.x_cost > self.x_max_cost


@dataclass(frozen=True, slots=True)
class CollectionRun:
    """What a collection did (or, estimated only, would do)."""

    run_id: int | None
    """The stored run; None when only estimated (nothing is written)."""
    started_at: dt.datetime
    finished_at: dt.datetime | None
    estimate: Estimate
    notes: RunNotes

    @property
    def fetched(self) -> int:
        return sum(note.fetched for note in self.notes.accounts)

    @property
    def refused(self) -> list[AccountNote]:
        """The accounts that were refused, rate-limited, failed or skipped."""
        return self.notes.errors

    @property
    def complete(self) -> bool:
        return not self.refused


def collect(
    database: Database,
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime],
    campaign_id: str | None = None,
    platforms: Collection[str] | None = None,
    progress: Progress | None = None,
    accounts: Accounts | None = None,
    max_cost: float | None = None,
    estimate_only: bool = False,
    trigger: str = COMMAND,
    due: Sequence[SentDelivery] | None = None,
    stopping: Callable[[], bool] | None = None,
) -> CollectionRun:
    """Ask each platform for the counts of the sent posts (of ``campaign_id``, on
    ``platforms``) not asked about within ``engagement.fresh``, and keep them.

    ``clock``: campaign time, read at each batch (its snapshots' instant). ``accounts``: the
    daemon's adapters, each taken only when idle (otherwise this run's own, closed at its end).
    ``max_cost``: the cap on X for this run, in USD, instead of ``engagement.x_max_cost``.
    ``estimate_only``: count and price what would be read; nothing is asked or written.
    ``due``: the deliveries to ask about, chosen by the caller (the daemon's schedule).
    ``stopping``: asked between batches; once True, the run ends there (a daemon stopping)."""
    started = clock()
    if due is None:
        due = _due(database, settings, started, campaign_id, platforms)
    estimate = _estimate(due, settings, max_cost)
    notes = _notes(estimate)
    if estimate_only:
        return CollectionRun(None, started, None, estimate, notes)
    with database.transaction() as session:
        run_id = start_run(session, started, trigger=trigger, campaign_id=campaign_id)
    with _adapters(settings, accounts) as adapter_for:
        work = _Collection(database, run_id, clock, notes, progress, adapter_for, stopping)
        work.run(due, estimate)
    finished = clock()
    with database.transaction() as session:
        save_notes(session, run_id, notes, finished_at=finished)
    return CollectionRun(run_id, started, finished, estimate, notes)


def collect_scheduled(
    database: Database,
    settings: Settings,
    accounts: Accounts,
    clock: CampaignClock,
    stopping: Callable[[], bool] | None = None,
) -> CollectionRun | None:
    """The daemon's round: the posts that passed one of ``engagement.schedule``'s spans since
    they were sent and were not asked about since, through the daemon's own adapters (an
    account posting now is skipped: a count never delays a post). None when nothing is due (no
    run is recorded)."""
    due = scheduled(database, settings, clock.now())
    if not due:
        return None
    return collect(database, settings, clock=clock.now, accounts=accounts, trigger=DAEMON,
                   due=due, stopping=stopping)  # fmt: skip


def scheduled(database: Database, settings: Settings, now: dt.datetime) -> list[SentDelivery]:
    """Sent posts for which one of ``engagement.schedule``'s spans after sending has passed and
    that were not asked about since that point. Only posts sent within the longest span and a
    day are looked at: a point missed by more than a day (the daemon was down) is left to
    `campaign engagement`."""
    spans = settings.engagement.schedule
    if not spans:
        return []
    since = now - max(spans) - SCHEDULE_SLACK
    with database.snapshot() as session:
        sent = sent_deliveries(session, sent_since=since)
    return [delivery for delivery in sent if _point_passed(delivery, spans, now)]


def _point_passed(delivery: SentDelivery, spans: Sequence[dt.timedelta], now: dt.datetime) -> bool:
    """Whether the latest of the post's scheduled points is past and it was not asked since."""
    if delivery.sent_at is None:
        return False
    points = [delivery.sent_at + span for span in spans if delivery.sent_at + span <= now]
    if not points:
        return False
    return delivery.checked_at is None or delivery.checked_at < max(points)


def _due(
    database: Database,
    settings: Settings,
    now: dt.datetime,
    campaign_id: str | None,
    platforms: Collection[str] | None,
) -> list[SentDelivery]:
    with database.snapshot() as session:
        return sent_deliveries(
            session,
            campaign_id=campaign_id,
            platforms=platforms,
            not_checked_since=now - settings.engagement.fresh,
        )


def _estimate(due: Sequence[SentDelivery], settings: Settings, max_cost: float | None) -> Estimate:
    posts: dict[str, int] = {}
    for delivery in due:
        posts[delivery.platform] = posts.get(delivery.platform, 0) + 1
    price = settings.engagement.x_cost_per_read
    x_reads = posts.get(Platform.X, 0)
    cap = settings.engagement.x_max_cost if max_cost is None else max_cost
    return Estimate(
        posts=dict(sorted(posts.items())),
        accounts=len({delivery.account_id for delivery in due}),
        x_reads=x_reads,
        x_cost_per_read=price,
        x_cost=round(x_reads * price, 6),
        x_max_cost=cap,
    )


def _notes(estimate: Estimate) -> RunNotes:
    return RunNotes(
        x_reads=estimate.x_reads,
        x_cost_per_read=estimate.x_cost_per_read,
        x_cost=estimate.x_cost,
        x_max_cost=estimate.x_max_cost,
    )


@contextmanager
def _adapters(settings: Settings, accounts: Accounts | None) -> Iterator[AdapterFor]:
    """The daemon's adapters, taken only when idle (a post never waits behind a count); or
    this command's own, closed at the end."""
    if accounts is not None:
        yield accounts.using_if_idle
        return
    own = Accounts(settings, dry_run=False)
    try:
        yield own.using
    finally:
        own.close()


@dataclass
class _Collection:
    database: Database
    run_id: int
    clock: Callable[[], dt.datetime]
    notes: RunNotes
    progress: Progress | None
    adapter_for: AdapterFor
    stopping: Callable[[], bool] | None = None
    _limited: dict[int, dt.datetime] = field(default_factory=dict)
    """Account id -> the end of a rate limit a previous run was told of, still ahead."""
    _x_refused: str | None = field(default=None)
    """Why X stopped for every account (out of credits: they are the app's, not an account's)."""

    def run(self, due: Sequence[SentDelivery], estimate: Estimate) -> None:
        by_account: dict[int, list[SentDelivery]] = {}
        for delivery in due:
            by_account.setdefault(delivery.account_id, []).append(delivery)
        with self.database.snapshot() as session:
            accounts = accounts_by_id(session, by_account)
            self._limited = _rate_limited(last_run(session, finished=True), self.clock())
        if estimate.x_over_cap:
            self._x_refused = (
                f"X skipped: {estimate.x_reads} posts to read at ${estimate.x_cost_per_read:g} "
                f"would cost ${estimate.x_cost:.2f}, over the cap of ${estimate.x_max_cost:.2f} "
                "(engagement.x_max_cost, or --max-cost)"
            )
        for account_id, deliveries in by_account.items():
            if self._stopping():
                return
            account = accounts[account_id]
            note = self._note(account, len(deliveries))
            self.notes.accounts.append(note)
            index = len(self.notes.accounts) - 1
            self._account(account, deliveries, index)

    def _stopping(self) -> bool:
        return self.stopping is not None and self.stopping()

    def _note(self, account: Account, asked: int) -> AccountNote:
        return AccountNote(
            account_id=account.id,
            platform=account.platform,
            embassy_id=account.embassy_id,
            handle=account.handle,
            asked=asked,
        )

    def _account(self, account: Account, deliveries: list[SentDelivery], index: int) -> None:
        try:
            if account.platform == Platform.X and self._x_refused is not None:
                self._update(index, skipped=self._x_refused)
                return
            if account.id in self._limited:
                until = self._limited[account.id]
                self._update(index, skipped=f"rate-limited until {until:%Y-%m-%d %H:%M:%S} UTC "
                             "(429 in the previous run): not asked before then")  # fmt: skip
                return
            with self.adapter_for(account) as adapter:
                if adapter is None:
                    self._update(index, skipped="the account is posting: left for the next run")
                    return
                self._batches(adapter, deliveries, index)
        except (PublishError, ConfigurationError) as error:
            self._failed(account, index, error)
        finally:
            self._tell(index, done=True)

    def _batches(self, adapter: Adapter, deliveries: list[SentDelivery], index: int) -> None:
        size = max(1, adapter.metrics_batch)
        for start in range(0, len(deliveries), size):
            if self._stopping():
                return
            batch = deliveries[start : start + size]
            by_remote = {delivery.remote_id: delivery.delivery_id for delivery in batch}
            found = adapter.fetch_metrics(list(by_remote))
            counts = {
                by_remote[m.remote_id]: dict(m.counts) for m in found if m.remote_id in by_remote
            }
            gone = [d for d in by_remote.values() if d not in counts]
            with self.database.transaction() as session:
                record_batch(
                    session, run_id=self.run_id, now=self.clock(), counts=counts, gone=gone
                )
            note = self.notes.accounts[index]
            self._update(
                index,
                fetched=note.fetched + len(counts),
                gone=note.gone + len(gone),
                reads=note.reads + len(found),  # X bills the posts it returns
            )
            if start + size < len(deliveries):
                self._tell(index, done=False)

    def _failed(self, account: Account, index: int, error: CampaignError) -> None:
        kind = _kind(error)
        reset_at = error.reset_at if isinstance(error, RateLimited) else None
        self._update(index, error=CollectionError(kind=kind, message=str(error), reset_at=reset_at))
        if kind == "402" and account.platform == Platform.X:
            self._x_refused = f"X skipped: X refused another account: out of credits ({error})"

    def _update(self, index: int, **changes: object) -> None:
        self.notes.accounts[index] = self.notes.accounts[index].model_copy(update=changes)

    def _tell(self, index: int, *, done: bool) -> None:
        """Notes kept after each account and batch, so that an interrupted run says how far it
        got; then the caller hears of it."""
        with self.database.transaction() as session:
            save_notes(session, self.run_id, self.notes)
        if self.progress is not None:
            self.progress(self.notes.accounts[index], done)


def _rate_limited(previous: RunRecord | None, now: dt.datetime) -> dict[int, dt.datetime]:
    """The accounts a previous run found rate-limited, whose limit has not ended yet."""
    if previous is None:
        return {}
    return {
        note.account_id: note.error.reset_at
        for note in previous.notes.accounts
        if note.error is not None and note.error.reset_at is not None and note.error.reset_at > now
    }


def _kind(error: CampaignError) -> ErrorKind:
    if isinstance(error, CredentialsInvalid):
        return "401"
    if isinstance(error, OutOfQuota):
        return "402"
    if isinstance(error, RateLimited):
        return "429"
    return "other"
