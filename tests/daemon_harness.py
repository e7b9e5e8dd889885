"""Run the daemon as a real process against the fake platforms, and watch the store.

``Platforms`` starts the three fakes and gives every account of a campaign its credentials on
them; ``DaemonProcess`` runs ``campaign run`` in a subprocess with the environment that points
it at the fakes; ``wait_for`` polls the store with a deadline (the daemon is another process:
there is no event to wait on).

``SteppedTime`` gives a daemon a clock the test moves (``campaign run --clock-file``,
daemon/stepping.py): campaign time stands still while the daemon works, and jumps to its next
wakeup once it says it is idle. What such a test sees does not depend on the machine's speed or
load; its deadlines only catch a hung daemon.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fakes import FakeBluesky, FakeMastodon, FakeX
from sqlalchemy import func, select

from adapters.secrets import env_name
from scheduler.daemon.clock import SteppedClock
from scheduler.daemon.stepping import Status, read_status, write_instant
from scheduler.store.database import Database
from scheduler.store.schema import Account, Delivery

T = TypeVar("T")
X_CONSUMER = {"consumer_key": "consumer-key", "consumer_secret": "consumer-secret"}
HANG = 120.0
"""Seconds any one wait here may last: a deadline that catches a hung daemon, never one that
times a working daemon on a loaded machine."""
IDLE_STEP = dt.timedelta(minutes=1)
"""How far a stepped test moves campaign time when the daemon has no wakeup to offer."""
DAEMON = {
    "poll": "1s",
    "lease": "20s",
    "max_in_flight": 4,
    "retries": 3,
    "backoff": "1s",
    "shutdown_grace": "10s",
}
"""The daemon settings of the tests: short polls, leases and backoff, four calls at once."""


@dataclass
class Platforms:
    """The three fakes, and the environment that sends a daemon to them."""

    x: FakeX = field(default_factory=FakeX)
    mastodon: FakeMastodon = field(default_factory=FakeMastodon)
    bluesky: FakeBluesky = field(default_factory=FakeBluesky)
    env: dict[str, str] = field(default_factory=dict)
    _stack: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> Platforms:
        for fake in (self.x, self.mastodon, self.bluesky):
            self._stack.enter_context(fake)
        self.env.update(
            CAMPAIGN_X_API_URL=self.x.url,
            CAMPAIGN_MASTODON_URL=self.mastodon.url,
            CAMPAIGN_BLUESKY_URL=self.bluesky.url,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def follow(self, clock: Callable[[], dt.datetime]) -> None:
        """Stamp posts, ids and rate-limit resets with ``clock``: a stepped daemon's time."""
        for fake in (self.x, self.mastodon, self.bluesky):
            fake.clock = clock

    def enrol(self, database: Database) -> None:
        """Give every account of the synced campaign an identity and credentials on its fake."""
        with database.snapshot() as session:
            accounts = list(session.scalars(select(Account)))
        for account in accounts:
            for field_name, value in self._credentials(account).items():
                self.env[env_name(account.credentials, field_name)] = value

    def _credentials(self, account: Account) -> dict[str, str]:
        name = account.handle.lstrip("@")
        if account.platform == "x":
            self.x.add_user(name)
            token, secret = self.x.token_of(name)
            return {**X_CONSUMER, "access_token": token, "access_token_secret": secret}
        if account.platform == "mastodon":
            self.mastodon.add_account(name)
            return {"access_token": self.mastodon.token_of(name)}
        created = self.bluesky.add_account(account.handle)
        return {"app_password": created.app_password}

    def posted_by_platform(self) -> dict[str, list[str]]:
        return {
            "x": [tweet.text for tweet in self.x.posted],
            "mastodon": [status.text for status in self.mastodon.posted],
            "bluesky": [str(record.value.get("text", "")) for record in self.bluesky.posted],
        }

    def posted_texts(self) -> list[str]:
        return [text for texts in self.posted_by_platform().values() for text in texts]


@dataclass
class DaemonProcess:
    """``campaign run`` in a subprocess; its log goes to a file for the assertion messages."""

    env: dict[str, str]
    args: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        command = [
            sys.executable,
            "-c",
            "from scheduler.cli import main; main()",
            "run",
            *self.args,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def signal(self, number: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def stop(self, timeout: float = HANG) -> int:
        """SIGTERM, then the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # the daemon dumps its threads' stacks
            try:
                wait_for(lambda: "most recent call first" in self.output(), timeout=5)
            finally:
                self.kill()
            raise AssertionError(f"the daemon did not stop:\n{self.output()}") from None

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


class TimedOut(AssertionError):
    """A deadline of ``wait_for`` passed."""


@dataclass
class SteppedTime:
    """Campaign time of a daemon on a stepped clock, moved by the test through the clock file.

    ``now`` is the instant last written: give it to the fakes (``Platforms.follow``) so that
    the platforms live in the daemon's time. Each move waits for the daemon to be idle at the
    current instant first, then for it to be idle at the new one (see scheduler/daemon/stepping.py).
    """

    path: Path
    start: dt.datetime
    clock: SteppedClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = SteppedClock(self.start)
        write_instant(self.path, self.start)

    @property
    def args(self) -> list[str]:
        return ["--clock-file", str(self.path)]

    def now(self) -> dt.datetime:
        return self.clock.now()

    def idle(self, daemon: DaemonProcess, *, after: int = 0) -> Status:
        """Wait until ``daemon`` is idle at the current instant, in a status newer than
        ``after``; fail at once if it reports an error or exits."""
        process = daemon.process
        assert process is not None

        def check() -> Status | None:
            if process.poll() is not None:
                raise AssertionError(
                    f"the daemon exited ({process.returncode}):\n{daemon.output()}"
                )
            status = read_status(self.path)
            if status is None or status.pid != process.pid or status.seq <= after:
                return None
            if status.error:
                raise AssertionError(f"the daemon at {status.instant}: {status.error}")
            return status if status.idle and status.instant == self.now() else None

        what = f"the daemon to be idle at {self.now().isoformat()}"
        try:
            return wait_for(check, timeout=HANG, what=what, every=0.005)
        except TimedOut as exc:
            last = read_status(self.path)
            raise AssertionError(f"{exc}; its last status: {last}\n{daemon.output()}") from None

    def advance_to(self, daemon: DaemonProcess, instant: dt.datetime) -> Status:
        return self._move(daemon, self.idle(daemon), instant)

    def advance(self, daemon: DaemonProcess, span: dt.timedelta) -> Status:
        return self.advance_to(daemon, self.now() + span)

    def until(
        self,
        daemon: DaemonProcess,
        condition: Callable[[], T | None],
        *,
        max_step: dt.timedelta | None = None,
        steps: int = 10_000,
    ) -> T:
        """Move time from wakeup to wakeup (never more than ``max_step`` at once; by
        ``IDLE_STEP`` when the daemon offers none) until ``condition``, checked whenever the
        daemon is idle, holds; fail after ``steps`` moves."""
        status = self.idle(daemon)
        for _ in range(steps):
            found = condition()
            if found:
                return found
            target = status.next_wakeup or status.instant + IDLE_STEP
            if max_step is not None:
                target = min(target, status.instant + max_step)
            status = self._move(daemon, status, target)
        raise AssertionError(f"still not there after {steps} steps, at {self.now().isoformat()}")

    def _move(self, daemon: DaemonProcess, status: Status, instant: dt.datetime) -> Status:
        self.clock.advance_to(instant)  # the fakes first: nothing is in flight
        write_instant(self.path, instant)
        return self.idle(daemon, after=status.seq)


def wait_for(
    check: Callable[[], T | None], *, timeout: float = HANG, what: str = "", every: float = 0.05
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds, a
    deadline meant to catch a hang, not to time the daemon."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimedOut(f"timed out after {timeout}s waiting for {what or check}")
        pause.wait(every)


def states(database: Database) -> dict[str, str]:
    with database.snapshot() as session:
        return dict(session.execute(select(Delivery.key, Delivery.state)).all())


def all_in(database: Database, wanted: set[str]) -> Callable[[], dict[str, str] | None]:
    """A check that every delivery is in one of ``wanted``: counted in SQL, since it is asked
    often while the daemon works; the states are read only once it holds."""

    def check() -> dict[str, str] | None:
        with database.snapshot() as session:
            total = session.scalar(select(func.count(Delivery.id)))
            elsewhere = session.scalar(
                select(func.count(Delivery.id)).where(Delivery.state.not_in(sorted(wanted)))
            )
        return states(database) if total and not elsewhere else None

    return check


def write_config(path: Path, **sections: dict[str, Any]) -> Path:
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
