"""Real daemons against the fakes, for the reliability scenarios: a burst campaign, daemons
started, killed with SIGKILL and started again, and the platforms' faults, on a stepped clock
so that no result depends on the machine's speed (scheduler/daemon/stepping.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import embassy, post, write_campaign
from daemon_harness import DaemonProcess, Platforms, SteppedTime, wait_for, write_config
from fakes import Fault, Request
from sqlalchemy import func, select

from scheduler.daemon.stepping import Status, read_status, write_instant
from scheduler.service.sync import sync_file
from scheduler.store.database import Database, open_database
from scheduler.store.schema import Delivery

from .checker import Verdict, judge, on_platforms

START = dt.datetime(2026, 11, 25, 7, 59, tzinfo=dt.UTC)
"""A minute before the burst: 09:00 in Brussels on the campaign's first day."""
CREATES = {"x": r"^/2/tweets$", "mastodon": r"^/api/v1/statuses$", "bluesky": "applyWrites"}
SETTLED = ("sent", "failed", "missed", "cancelled", "needs_review")
DAEMON = {
    "poll": "1s",
    "lease": "30s",
    "max_in_flight": 4,
    "retries": 5,
    "backoff": "2s",
    "shutdown_grace": "5s",
}
PLATFORM_TIMEOUT = 1.0
"""Seconds: a fake held longer than this is a timeout, for the daemon an unknown outcome."""


def burst_posts(count: int) -> list[dict[str, Any]]:
    """``count`` posts all due at 09:00, each with a text of its own on every account."""
    return [
        post(f"b{n:03d}", time="09:00",
             text={"en": f"{{embassy}}, 16 Days, message {n:03d}: digital violence is violence."})
        for n in range(count)
    ]  # fmt: skip


def embassies(count: int) -> list[dict[str, Any]]:
    return [embassy(f"be-post{n:02d}", "Europe/Brussels", ["en"]) for n in range(count)]


@dataclass
class Killer:
    """Kills the running daemon with SIGKILL when the fakes receive chosen create requests:
    half of the time the platform then acts on the request (the post exists, its answer is
    lost with the daemon), half of the time it drops it unacted."""

    at: set[int]
    pid: int | None = None
    seen: int = 0
    owed: int = 0
    """Kill points reached while no daemon of ours was running: paid at the next create."""
    kills: int = 0
    killed: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, platform: str, fake: Any) -> Callable[[Request], None]:
        def on_request(request: Request) -> None:
            if request.method != "POST" or not _matches(CREATES[platform], request.path):
                return
            with self._lock:
                self.seen += 1
                self.owed += self.seen in self.at
                if not self.owed or self.pid is None:
                    return  # between two daemons: the next one's first create pays
                os.kill(self.pid, signal.SIGKILL)
                self.killed.append(self.pid)
                self.pid, self.kills, self.owed = None, self.kills + 1, self.owed - 1
                if self.kills % 2:
                    fake.inject(Fault(drop=True, path=CREATES[platform]))

        return on_request


def _matches(pattern: str, path: str) -> bool:
    return re.search(pattern, path) is not None


@dataclass
class Scenario:
    """One run: a store, the fakes, a stepped clock, and the daemons started so far."""

    folder: Path
    url: str
    database: Database
    platforms: Platforms
    time: SteppedTime = field(init=False)
    started: list[DaemonProcess] = field(default_factory=list)
    _names: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.time = SteppedTime(self.folder / "clock", START)
        self.platforms.follow(self.time.now)

    def sync(self, posts: list[dict[str, Any]], embassy_count: int, grace: str = "12h") -> int:
        path = write_campaign(
            self.folder, posts=posts, embassies=embassies(embassy_count),
            policies={"late": {"grace": grace, "spacing": "1m"}},
        )  # fmt: skip
        sync_file(path, self.database, actor="reliability", now=self.time.now())
        self.platforms.enrol(self.database)
        with self.database.snapshot() as session:
            return int(session.scalar(select(func.count(Delivery.id))) or 0)

    def faults(self, *, slow: float, commit_then_drop: float, drop: float) -> None:
        """Faults on every create, at these rates: slow past the timeout (an unknown outcome
        whose post exists), answered then cut, cut before acting."""
        for name in ("x", "mastodon", "bluesky"):
            fake = getattr(self.platforms, name)
            where = {"path": CREATES[name], "times": None}
            fake.inject(Fault(delay=PLATFORM_TIMEOUT * 1.5, chance=slow, **where))
            fake.inject(Fault(commit_then_drop=True, chance=commit_then_drop, **where))
            fake.inject(Fault(drop=True, chance=drop, **where))

    def daemon(
        self, clock_file: Path | None = None, *, max_in_flight: int | None = None
    ) -> DaemonProcess:
        name = f"daemon-{next(self._names)}"
        in_flight = {} if max_in_flight is None else {"max_in_flight": max_in_flight}
        platforms = {p: {"timeout": PLATFORM_TIMEOUT} for p in ("x", "mastodon", "bluesky")}
        config = write_config(
            self.folder / f"{name}.toml",
            daemon={**DAEMON, **in_flight, "worker_name": name},
            **{f"platforms.{p}": values for p, values in platforms.items()},
        )
        env = {
            **self.platforms.env,
            "CAMPAIGN_DATABASE": self.url,
            "CAMPAIGN_SECRETS_FILE": str(self.folder / "secrets" / "secrets.toml"),
        }
        clock = ["--clock-file", str(clock_file)] if clock_file else self.time.args
        process = DaemonProcess(env, ["--config", str(config), *clock], self.folder / f"{name}.log")
        self.started.append(process.start())
        return process

    def settled(self) -> bool:
        with self.database.snapshot() as session:
            left = session.scalar(
                select(func.count(Delivery.id)).where(Delivery.state.not_in(SETTLED))
            )
        return not left

    def verdict(self) -> Verdict:
        fakes = self.platforms
        return judge(self.database, on_platforms(fakes.x, fakes.mastodon, fakes.bluesky))

    def close(self) -> None:
        for process in self.started:
            process.__exit__()


def run_with_kills(scenario: Scenario, killer: Killer, *, steps: int = 5_000) -> int:
    """Step the campaign until every delivery is settled, restarting the daemon each time the
    killer strikes. Returns how many daemons ran."""
    for name in ("x", "mastodon", "bluesky"):
        fake = getattr(scenario.platforms, name)
        fake.hooks.append(killer.hook(name, fake))
    daemons = 0
    while True:
        daemon = scenario.daemon()
        daemons += 1
        assert daemon.process is not None
        killer.pid = daemon.process.pid
        try:
            scenario.time.until(
                daemon, lambda: scenario.settled() or None, max_step=dt.timedelta(minutes=1),
                steps=steps,
            )  # fmt: skip
        except AssertionError:
            if killer.pid is not None:  # not killed by us: a real failure
                raise
            daemon.process.wait(timeout=30)
            continue
        killer.pid = None
        daemon.stop()
        return daemons


@dataclass
class Fleet:
    """Several daemons sharing one store and one stepped time: each follows a clock file of
    its own, and time moves once every daemon still alive is idle at the current instant."""

    scenario: Scenario
    killer: Killer
    members: dict[int, tuple[DaemonProcess, Path]] = field(default_factory=dict)
    max_in_flight: int = 2
    """Per daemon. A daemon claims again the moment one of its calls ends, while an idle one
    waits for its next poll or step: with room for every account's call, the first daemon
    to wake would keep the whole burst. Two each leaves work for the others at every instant."""

    def start(self, count: int) -> None:
        for n in range(count):
            path = self.scenario.folder / f"clock-{n}"
            write_instant(path, self.scenario.time.now())
            daemon = self.scenario.daemon(path, max_in_flight=self.max_in_flight)
            assert daemon.process is not None
            self.members[daemon.process.pid] = (daemon, path)

    def arm(self, victim: int) -> None:
        """The next kill takes the ``victim``-th daemon started, for good."""
        self.killer.pid = list(self.members)[victim]

    def until(self, condition: Callable[[], bool], *, max_step: dt.timedelta) -> None:
        seqs = self._idle({})
        for _ in range(10_000):
            if condition():
                return
            wakeups = [s.next_wakeup for s in seqs.values() if s.next_wakeup is not None]
            now = self.scenario.time.now()
            target = min([*wakeups, now + max_step])
            self.scenario.time.clock.advance_to(max(target, now + dt.timedelta(seconds=1)))
            for _daemon, path in self.members.values():
                write_instant(path, self.scenario.time.now())
            seqs = self._idle({pid: status.seq for pid, status in seqs.items()})
        raise AssertionError("the fleet never got there")

    def _idle(self, after: dict[int, int]) -> dict[int, Status]:
        def check() -> dict[int, Status] | None:
            found: dict[int, Status] = {}
            for pid, (daemon, path) in list(self.members.items()):
                assert daemon.process is not None
                if daemon.process.poll() is not None:
                    if pid not in self.killer.killed:
                        raise AssertionError(f"a daemon exited:\n{daemon.output()}")
                    del self.members[pid]  # killed for good: the others take over its work
                    continue
                status = read_status(path)
                now = self.scenario.time.now()
                if status is None or status.pid != pid or status.seq <= after.get(pid, 0):
                    return None
                if status.error:
                    raise AssertionError(f"{daemon.log}: {status.error}")
                if not (status.idle and status.instant == now):
                    return None
                found[pid] = status
            return found

        return wait_for(check, what="every daemon idle", every=0.005)


@pytest.fixture
def scenario(tmp_path: Path, database_url: str) -> Iterator[Scenario]:
    """A store (SQLite or PostgreSQL), the three fakes and a stepped clock for one test."""
    database = open_database(database_url)
    with Platforms() as platforms:
        made = Scenario(tmp_path, database_url, database, platforms)
        yield made
        made.close()
    database.close()
