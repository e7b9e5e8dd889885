"""`campaign run`: the daemon. APScheduler drives time in this process; the database is the truth.

APScheduler 3 cannot share a persistent job store between processes, deletes a date job before
running it, and after downtime fires every overdue job at once or none (docs/architecture.md). So
no delivery is ever an APScheduler job. Four jobs drive the process instead:

- **dispatch**: claims what is due and starts the calls; then re-arms itself with
  ``modify_job(next_run_time=...)`` at the next instant something becomes due, at most one poll
  interval away so that work written by other processes (sync, queue, another daemon) is seen;
- **maintain**: reaps expired leases, marks what is too late as missed, reconciles unknown
  outcomes, and records that this worker is alive;
- **alerts**: sends the digest of new alerts;
- **tokens**: a round of credential checks a minute, in its own thread (never a send slot),
  a few accounts at a time (``Housekeeper.check_tokens``);
- **engagement** (with ``engagement.daemon``): every five minutes of campaign time, the counts
  of the posts that passed a point of ``engagement.schedule`` since they were sent, in its own
  thread (never a send slot), through the daemon's adapters, skipping an account in use
  (``daemon.engagement.collect_scheduled``).

On a stepped clock (``campaign run --clock-file``, daemon/stepping.py) there is no dispatch
or maintain job: each step of the clock runs housekeeping and dispatch at the new instant until
nothing is left to do at it, then reports the daemon idle with its next wakeup. Campaign time
stands still meanwhile, so what a test sees does not depend on how fast the machine is.

SIGTERM and SIGINT stop claiming, let calls in flight finish (within ``daemon.shutdown_grace``),
release the claims not yet started, and exit 0. SIGHUP reloads the settings file.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import logging
import os
import select
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.daemon.accounts import preload_adapters
from scheduler.daemon.clock import CampaignClock, SteppedClock, wall_span
from scheduler.daemon.dispatcher import Dispatcher
from scheduler.daemon.engagement import collect_scheduled
from scheduler.daemon.notify import send_digest
from scheduler.daemon.ops import HealthServer, SdNotify, metrics_text
from scheduler.daemon.stepping import Stepper
from scheduler.settings import Settings, load_settings
from scheduler.store.claims import (
    accounts_posting_before,
    awaiting_housekeeping,
    heartbeat,
    in_flight,
    release,
)
from scheduler.store.database import MIGRATIONS_LOGGER, Database

log = logging.getLogger("campaign.daemon")
# A dispatch that finds the previous one still running is skipped and coalesced by design.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
logging.getLogger(MIGRATIONS_LOGGER).setLevel(logging.WARNING)
MIN_INTERVAL = 0.05
"""Seconds: the shortest wall-clock interval between two runs of a job, even in a rehearsal."""
PRELOAD_HORIZON = dt.timedelta(days=1)
"""A platform's SDK is loaded once one of its accounts has a post due within this wall-clock
span (checked at start and every token round): tweepy, Mastodon.py and atproto weigh ~45 MB
together, which a daemon with nothing to send soon does without."""
TOKEN_ROUND = 60.0
"""Seconds between two rounds of token checks (each of at most ``daemon.token_check_batch``
accounts): spread out, so that thousands of accounts are never checked all at once."""
ENGAGEMENT_ROUND = dt.timedelta(minutes=5)
"""Campaign time between two rounds of scheduled engagement collection."""


class Daemon:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        clock: CampaignClock,
        dry_run: bool = False,
        config_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.config_path = config_path
        self.dry_run = dry_run
        self.worker = settings.daemon.worker_name or f"{socket.gethostname()}:{os.getpid()}"
        self.dispatcher = Dispatcher(
            database, settings, worker=self.worker, clock=clock, dry_run=dry_run,
            on_change=self.wake,
        )  # fmt: skip
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.notify = SdNotify()
        self.health: HealthServer | None = None
        self.last_dispatch: dt.datetime | None = None
        self._stop = threading.Event()
        self._signals = SignalPipe(self._stop)
        self._dispatch_lock = threading.Lock()
        self._again = False
        self._jobs = threading.Condition()
        self._jobs_running = 0
        self._calls = threading.Condition()
        self._calls_finished = 0  # what a stepped settle waits on between two dispatches
        self.stepper: Stepper | None = None
        if isinstance(clock, SteppedClock) and clock.source is not None:
            self.stepper = Stepper(clock, self._settle, self._stop)

    # --- lifecycle ----------------------------------------------------------------------------

    def run(self) -> int:
        self._install_signal_handlers()
        self._heartbeat(started=True)
        self._start_health()
        now = dt.datetime.now(dt.UTC)
        digest = max(MIN_INTERVAL, self.settings.alerts.digest.total_seconds())
        add = self.scheduler.add_job
        if self.stepper is None:  # on a stepped clock, its steps drive these two
            add(self._dispatch, "interval", seconds=self._poll(), id="dispatch", next_run_time=now)
            add(
                self._maintain,
                "interval",
                seconds=self._maintenance(),
                id="maintain",
                next_run_time=now,
            )
        add(self._send_alerts, "interval", seconds=digest, id="alerts")
        rounds = max(
            MIN_INTERVAL, min(TOKEN_ROUND, self.settings.daemon.token_check.total_seconds())
        )
        first_check = now + dt.timedelta(seconds=min(rounds, 10))  # after the first dispatch
        add(self._check_tokens, "interval", seconds=rounds, id="tokens", next_run_time=first_check)
        if self.settings.engagement.daemon:
            every = max(MIN_INTERVAL, self.clock.real_seconds(ENGAGEMENT_ROUND))
            first_round = now + dt.timedelta(seconds=min(every, 10))  # after the first dispatch
            add(self._collect_engagement, "interval", seconds=every, id="engagement",
                next_run_time=first_round)  # fmt: skip
        self.scheduler.start()
        if self.stepper is not None:
            self.stepper.start()
        self.notify.ready()
        threading.Thread(target=self._preload, name="campaign-preload", daemon=True).start()
        sped_up = self.clock.rehearsal and self.stepper is None
        rehearsal = f", rehearsal at {self.clock.speed:g}x" if sped_up else ""
        log.info("ready: worker %s, database %s%s", self.worker, self.database.name, rehearsal)
        self._wait_for_stop()
        return self._shutdown()

    def stop(self) -> None:
        self._stop.set()

    def _wait_for_stop(self) -> None:
        interval = min(self.notify.watchdog_interval or 1.0, 1.0)
        while not self._stop.is_set():
            for number in self._signals.wait(interval):
                log.info("received %s", signal.Signals(number).name)
                if number == signal.SIGHUP:
                    self._reload_settings()
                else:
                    self._stop.set()
            self.notify.watchdog()

    def _shutdown(self) -> int:
        log.info("stopping: no new claims; waiting for calls in flight")
        self.notify.stopping()
        self.dispatcher.stop_claiming()
        # Not shutdown(wait=True): a job re-arming itself with modify_job while APScheduler
        # shuts its executor down deadlocks on APScheduler's locks. Our jobs are waited for here.
        self.scheduler.shutdown(wait=False)
        grace = self.settings.daemon.shutdown_grace.total_seconds()
        with self._jobs:
            self._jobs.wait_for(lambda: self._jobs_running == 0, timeout=grace)
        drained = self.dispatcher.drain(grace)
        with self.database.transaction() as session:
            released = release(session, self.worker, self.clock.now())
        self._heartbeat(stopped=True)
        self._last_digest()
        if self.health is not None:
            self.health.stop()
        left = "" if drained else "; calls still in flight are left to the reaper"
        kept = f"; the dry run's scratch copy is left at {self._where()}" if self.dry_run else ""
        log.info("stopped: %d claims released%s%s", released, left, kept)
        if not drained:
            # A hung platform call must not hold the process: its delivery stays 'sending',
            # the reaper makes it 'unknown', and reconciliation settles it.
            logging.shutdown()
            os._exit(0)
        self.dispatcher.close()
        self.database.close()
        return 0

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # embedded (tests): the caller stops us with stop()
        self._signals.install((signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
        # `kill -USR1 PID` writes every thread's stack to the log: how to see what a hung
        # daemon is waiting for, without stopping it.
        faulthandler.register(signal.SIGUSR1, all_threads=True)

    def _reload_settings(self) -> None:
        self.notify.reloading()
        try:
            settings = load_settings(self.config_path)
        except Exception as exc:  # a bad edit must not stop a running daemon
            log.error("SIGHUP: settings not reloaded: %s", exc)
        else:
            self.settings = self.dispatcher.settings = self.dispatcher.accounts.settings = settings
            self.dispatcher.accounts.forget()  # new base URLs, timeouts, secrets file
            log.info("SIGHUP: settings reloaded from %s", self.config_path or "defaults")
        self.notify.ready()

    # --- jobs ---------------------------------------------------------------------------------

    @contextmanager
    def _job(self) -> Iterator[bool]:
        """Around every job: counted, so shutdown waits for it; False once stopping."""
        with self._jobs:
            self._jobs_running += 1
        try:
            yield not self._stop.is_set()
        finally:
            with self._jobs:
                self._jobs_running -= 1
                self._jobs.notify_all()

    def _dispatch(self) -> None:
        with self._job() as running:
            if running:
                self._dispatch_round()

    def _dispatch_round(self) -> None:
        with self._dispatch_lock:
            self._again = False
        while True:
            self.dispatcher.dispatch()
            self.last_dispatch = self.clock.now()
            with self._dispatch_lock:
                if not self._again:
                    break
                self._again = False
        self._arm(self.dispatcher.next_wakeup())

    def wake(self) -> None:
        """Something changed (a call finished): dispatch again now."""
        with self._dispatch_lock:
            self._again = True
        if self.stepper is not None:
            with self._calls:
                self._calls_finished += 1
                self._calls.notify_all()
        elif not self._stop.is_set():
            self._arm(self.clock.now())

    def _arm(self, at: dt.datetime | None) -> None:
        if self._stop.is_set():
            return
        delay = self._poll()
        if at is not None:
            delay = min(delay, self.clock.real_seconds(at - self.clock.now()))
        run_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max(0.0, delay))
        try:
            self.scheduler.modify_job("dispatch", next_run_time=run_at)
        except Exception:  # the scheduler is shutting down
            log.debug("dispatch not re-armed", exc_info=True)

    def _settle(self) -> dt.datetime | None:
        """A stepped clock has moved: housekeeping and dispatch at the new instant until a pass
        starts no call (calls may leave outcomes to settle at the same instant); the next wakeup."""
        with self._job() as running:
            if not running:
                return None
            while not self._stop.is_set():
                self._maintain()
                if not self._dispatch_until_quiet():
                    break
            return self._next_wakeup()

    def _dispatch_until_quiet(self) -> int:
        """Dispatch until a round finds nothing to claim with no call in flight; calls started."""
        started = 0
        while not self._stop.is_set():
            with self._calls:
                seen = self._calls_finished
            # Checked before the round: a call frees its slot only once its outcome is written,
            # so with every slot free the round sees every outcome.
            quiet = self.dispatcher.drain(0)
            round_started = self.dispatcher.dispatch()
            self.last_dispatch = self.clock.now()
            if quiet and not round_started:
                break
            started += round_started
            self._wait_for_a_call(seen)
        return started

    def _next_wakeup(self) -> dt.datetime | None:
        """When a stepped clock should come back: the next claimable instant, or the next
        maintenance round if sooner while something waits for one (an unknown outcome to
        reconcile, a lease of another worker that may run out)."""
        wakeup = self.dispatcher.next_wakeup()
        with self.database.snapshot() as session:
            waiting = awaiting_housekeeping(session)
        if waiting:
            span = dt.timedelta(seconds=self._maintenance()) * self.clock.speed
            soon = self.clock.now() + span
            wakeup = min(wakeup, soon) if wakeup else soon
        return wakeup

    def _wait_for_a_call(self, seen: int) -> None:
        """Until a call finishes after ``seen`` had; at most a second, in case none was left."""
        with self._calls:
            self._calls.wait_for(lambda: self._calls_finished != seen, timeout=1.0)

    def _maintain(self) -> None:
        with self._job() as running:
            if running:
                self.dispatcher.housekeeping.maintain()
                self._heartbeat()

    def _send_alerts(self) -> None:
        with self._job() as running:
            if running:
                send_digest(self.database, self.settings, self.clock.now(), dry_run=self.dry_run)

    def _check_tokens(self) -> None:
        with self._job() as running:
            if running:
                self._preload()
                checked = self.dispatcher.housekeeping.check_tokens()
                if checked:
                    log.info("token check: %d account(s) with posts in the next day", checked)

    def _collect_engagement(self) -> None:
        """A round of scheduled engagement collection: low priority, so it takes no send slot
        and skips any account in use; a failure is logged and the next round tries again."""
        with self._job() as running:
            if not running:
                return
            try:
                run = collect_scheduled(self.database, self.settings, self.dispatcher.accounts,
                                        self.clock, stopping=self._stop.is_set)  # fmt: skip
            except Exception:  # never let a count stop the daemon
                log.exception("engagement: the scheduled collection failed")
                return
            if run is not None:
                log.info("engagement: counts of %d posts fetched, %d accounts not collected",
                         run.fetched, len(run.refused))  # fmt: skip

    def _preload(self) -> None:
        """Import the SDKs of the platforms with posts due within a day (once ready, then every
        token round), so that a post does not wait a second or two for tweepy or atproto (nor
        a rehearsal lose hours to it); a post due at start imports its own meanwhile."""
        horizon = wall_span(self.clock, PRELOAD_HORIZON)  # a rehearsal's day passes in minutes
        try:
            with self.database.snapshot() as session:
                waiting = accounts_posting_before(session, self.clock.now() + horizon)
            preload_adapters(sorted({account.platform for account in waiting}))
        except Exception:  # the first post loads what it needs anyway
            log.warning("platform SDKs not preloaded", exc_info=True)

    def _last_digest(self) -> None:
        """What happened since the last digest goes out before the daemon does."""
        try:
            send_digest(self.database, self.settings, self.clock.now(), dry_run=self.dry_run)
        except Exception:  # never keep a stopping daemon from stopping
            log.exception("the last alert digest could not be sent")

    def _where(self) -> str:
        """The database as a person would open it: a SQLite file's path, else its name."""
        return self.database.engine.url.database or self.database.name

    def _poll(self) -> float:
        return max(MIN_INTERVAL, self.clock.real_seconds(self.settings.daemon.poll))

    def _maintenance(self) -> float:
        return max(MIN_INTERVAL, self.settings.daemon.lease.total_seconds() / 4)

    # --- visibility ---------------------------------------------------------------------------

    def _heartbeat(self, *, started: bool = False, stopped: bool = False) -> None:
        now = self.clock.now()
        with self.database.transaction() as session:
            heartbeat(session, self.worker, now, host=socket.gethostname(), pid=os.getpid(),
                      started=started, stopped=stopped)  # fmt: skip

    def _start_health(self) -> None:
        port = self.settings.daemon.health_port
        if port is None:
            return
        self.health = HealthServer(port, health=self._healthy, metrics=self._metrics)
        self.health.start()
        log.info("health and metrics on http://127.0.0.1:%d/", self.health.port)

    def _healthy(self) -> tuple[bool, str]:
        if not self.scheduler.running:
            return False, "scheduler not running"
        if self.last_dispatch is None:
            return False, "no dispatch yet"
        late = self.clock.now() - self.last_dispatch
        allowed = self.settings.daemon.poll * 3 + dt.timedelta(seconds=30) * self.clock.speed
        if late > allowed:
            return False, f"last dispatch {late.total_seconds():.0f}s ago"
        return True, f"worker {self.worker}"

    def _metrics(self) -> str:
        in_flight = self._in_flight()
        return metrics_text(self.database, self.dispatcher.stats, in_flight=in_flight,
                            last_dispatch=self.last_dispatch, worker=self.worker)  # fmt: skip

    def _in_flight(self) -> int:
        with self.database.snapshot() as session:
            return in_flight(session, self.worker)


class SignalPipe:
    """Signals handed from their handler to the main thread's loop through a pipe.

    A handler runs in the main thread between two of its bytecodes, possibly while that thread
    holds the lock of an Event, a Condition or a log handler: setting an Event or logging there
    can deadlock the process (two SIGTERMs in a row did). The handler only writes the signal's
    number to a pipe, which takes no lock; the loop reads it and acts in its own time."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._read_fd: int | None = None
        self._write_fd: int | None = None

    def install(self, numbers: tuple[signal.Signals, ...]) -> None:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        for number in numbers:
            signal.signal(number, self._handle)

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        assert self._write_fd is not None
        with suppress(BlockingIOError):  # a full pipe already holds a stop
            os.write(self._write_fd, bytes([number]))

    def wait(self, timeout: float) -> bytes:
        """The signals received, waiting at most ``timeout`` seconds for one; embedded (no
        handlers installed), the wait ends early when :meth:`Daemon.stop` is called."""
        if self._read_fd is None:
            self._stop.wait(timeout)
            return b""
        ready, _, _ = select.select([self._read_fd], [], [], timeout)
        return os.read(self._read_fd, 64) if ready else b""
