"""The adapters of the accounts a daemon posts for: one per account, made on first use and kept,
since each caches its platform session and limits; at most ``daemon.adapters_kept`` of them, the
least recently used dropped beyond that, so that memory does not grow with the number of
accounts (a Bluesky session is kept on disk, so an adapter made again does not log in again).
Dropped too when its account is suspended or the settings are reloaded, so that new credentials
and settings are read at the next post."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from adapters import registry
from adapters.base import Adapter, AdapterSettings
from adapters.capabilities import Platform
from adapters.secrets import load_credentials, session_state
from scheduler.daemon.clock import CampaignClock
from scheduler.settings import Settings
from scheduler.store.database import Session
from scheduler.store.pauses import suspend_account
from scheduler.store.schema import Account


def preload_adapters(platforms: Iterable[str]) -> None:
    """Import these platforms' SDKs now: the first post of the day must not wait a second or two
    for tweepy or atproto to load (nor a rehearsal clock lose hours to it)."""
    for name in platforms:
        registry.adapter_class(name)


class Accounts:
    """One adapter per account, made on first use and kept (sessions and instance limits are
    cached in it), the ``daemon.adapters_kept`` most recently used. SDK clients are not made for
    threads, so an adapter is used under its account's lock (:meth:`using`): a token check or a
    reconciliation never runs beside a post of the same account, and an adapter in use is never
    dropped."""

    def __init__(
        self, settings: Settings, *, dry_run: bool, clock: CampaignClock | None = None
    ) -> None:
        self.settings = settings
        self.dry_run = dry_run
        self.clock = clock
        self._adapters: OrderedDict[int, Adapter] = OrderedDict()  # least recently used first
        self._locks: dict[int, threading.Lock] = {}  # a few dozen bytes an account: kept
        self._lock = threading.Lock()

    @contextmanager
    def using(self, account: Account) -> Iterator[Adapter]:
        """The account's adapter, for this thread alone while the block runs."""
        lock = self._account_lock(account)
        with lock:
            yield self.adapter(account)

    @contextmanager
    def using_if_idle(self, account: Account) -> Iterator[Adapter | None]:
        """The account's adapter as :meth:`using` gives it, or None at once if another thread
        is using it (a post must never wait behind a check)."""
        lock = self._account_lock(account)
        if not lock.acquire(blocking=False):
            yield None
            return
        try:
            yield self.adapter(account)
        finally:
            lock.release()

    def _account_lock(self, account: Account) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(account.id, threading.Lock())

    def adapter(self, account: Account) -> Adapter:
        with self._lock:
            found = self._adapters.get(account.id)
            if found is None:
                found = self._adapters[account.id] = self._create(account)
                self._drop_least_used(keep=account.id)
            else:
                self._adapters.move_to_end(account.id)
            return found

    def _drop_least_used(self, keep: int) -> None:
        """Close the least recently used adapters beyond ``daemon.adapters_kept``, skipping any
        in use (it stays until a later call finds it idle). Holds ``self._lock``."""
        excess = len(self._adapters) - self.settings.daemon.adapters_kept
        for account_id in list(self._adapters):
            if excess <= 0:
                return
            lock = self._locks.get(account_id)
            if account_id == keep or (lock is not None and not lock.acquire(blocking=False)):
                continue
            try:
                self._adapters.pop(account_id).close()
            finally:
                if lock is not None:
                    lock.release()
            excess -= 1

    def __len__(self) -> int:
        """How many adapters are kept now."""
        with self._lock:
            return len(self._adapters)

    def _create(self, account: Account) -> Adapter:
        platform = Platform(account.platform)
        configured = self.settings.platform(platform)
        secrets_file = self.settings.secrets_file
        cls = registry.adapter_class(account.platform, dry_run=self.dry_run)
        credentials = (
            {}
            if self.dry_run
            else load_credentials(account.credentials, cls.credential_fields, file=secrets_file)
        )
        settings = AdapterSettings(
            handle=account.handle,
            instance=account.instance,
            timeout=configured.timeout,
            media_deadline=configured.media_deadline,
            state=session_state(account.credentials, file=secrets_file),
            clock=self._platform_now,
            appview=configured.appview,
        )
        return cls(settings=settings, credentials=credentials, base_url=configured.base_url)

    def _platform_now(self) -> dt.datetime:
        """Now on the platforms' clock: the wall clock, or a stepped daemon's time, which the
        fakes share (a Bluesky record's createdAt, a guessed rate-limit reset)."""
        if self.clock is None:
            return dt.datetime.now(dt.UTC)
        return self.clock.to_real(self.clock.now())

    def forget(self, account_id: int | None = None) -> None:
        """Drop cached adapters (one, or all): the next call builds them again, with the
        credentials and settings of that moment (after `campaign auth`, or a reload)."""
        with self._lock:
            ids = list(self._adapters) if account_id is None else [account_id]
            for found in [self._adapters.pop(i) for i in ids if i in self._adapters]:
                found.close()

    def close(self) -> None:
        self.forget()

    def suspend(
        self,
        session: Session,
        account: Account,
        error: Exception,
        now: dt.datetime,
        *,
        subject: str | None = None,
    ) -> None:
        """Stop the account for every daemon, and forget its adapter: when `campaign resume`
        releases it, the next post reads its credentials anew."""
        suspend_account(session, account, f"{type(error).__name__}: {error}", now, subject=subject)
        self.forget(account.id)
