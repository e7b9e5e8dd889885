"""Run the daemon as a real process against the fake platforms, and watch the store.

``Platforms`` starts the three fakes and gives every account of a campaign its credentials on
them; ``DaemonProcess`` runs ``campaign run`` in a subprocess with the environment that points
it at the fakes; ``wait_for`` polls the store with a deadline (the daemon is another process:
there is no event to wait on).
"""

from __future__ import annotations

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
from scheduler.store.database import Database
from scheduler.store.schema import Account, Delivery

T = TypeVar("T")
X_CONSUMER = {"consumer_key": "consumer-key", "consumer_secret": "consumer-secret"}


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

    def stop(self, timeout: float = 30) -> int:
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


def wait_for(
    check: Callable[[], T | None], *, timeout: float = 30, what: str = "", every: float = 0.05
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
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
