"""The dispatcher and its housekeeper in this process, against the fakes, on a stepped clock
that the fakes share: "since the first attempt" and "not before the call could have committed"
mean the same instant on both sides, and no result depends on the machine's speed.

``World`` syncs a small campaign, sends what is due, settles unknown outcomes and moves time;
the ``world`` fixture (with ``clock`` and ``fakes``) gives one per test, on SQLite and
PostgreSQL. Used by tests/test_exactly_once.py and the reliability fault matrix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import embassy, write_campaign
from daemon_harness import Platforms
from fakes import FakeBluesky, FakeMastodon, FakeX
from sqlalchemy import select

from scheduler.daemon.clock import SteppedClock
from scheduler.daemon.dispatcher import Dispatcher
from scheduler.service.sync import sync_file
from scheduler.settings import DaemonSettings, PlatformSettings, Settings
from scheduler.store.database import Database
from scheduler.store.schema import Alert, Delivery

DUE = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris and Rome on day 1
SETTLED = dt.timedelta(minutes=2)
"""Twice the platforms' timeout in these tests: reconciliation may look for a post by then."""
SPACED = dt.timedelta(minutes=5)
"""Past an account's spacing: its next delivery may go."""
CREATE = {"x": "^/2/tweets$", "mastodon": "^/api/v1/statuses$", "bluesky": "applyWrites"}


class World:
    """One test's campaign, store, fakes, and a dispatcher on the stepped clock."""

    def __init__(self, tmp_path: Path, database: Database, platforms: Platforms,
                 clock: SteppedClock, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
        self.tmp_path = tmp_path
        self.database = database
        self.platforms = platforms
        self.clock = clock
        self.monkeypatch = monkeypatch
        self._dispatcher: Dispatcher | None = None

    def sync(self, posts: list[dict[str, Any]], *, platforms: tuple[str, ...],
             cities: tuple[str, ...] = ("be-paris",),
             policies: dict[str, Any] | None = None) -> None:  # fmt: skip
        zones = {"be-paris": "Europe/Paris", "be-rome": "Europe/Rome", "be-oslo": "Europe/Oslo"}
        embassies = [
            embassy(city, zones.get(city, "Europe/Brussels"), ["en"], platforms=platforms)
            for city in cities
        ]
        path = write_campaign(self.tmp_path, embassies=embassies, posts=posts,
                              policies={"late": {"grace": "3h", "spacing": "2m"},
                                        **(policies or {})})  # fmt: skip
        sync_file(path, self.database, actor="ines", now=DUE - dt.timedelta(days=5))
        self.platforms.enrol(self.database)
        for name, value in self.platforms.env.items():
            self.monkeypatch.setenv(name, value)

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            fast = PlatformSettings(timeout=1.0)
            settings = Settings(
                platforms=dict.fromkeys(("x", "mastodon", "bluesky"), fast),  # type: ignore[misc]
                daemon=DaemonSettings(backoff="1s", retries=5),  # type: ignore[arg-type]
            )
            self._dispatcher = Dispatcher(self.database, settings, worker="w1", clock=self.clock)
        return self._dispatcher

    def send(self) -> None:
        """Claim and call until nothing more may go now."""
        while self.dispatcher.dispatch():
            assert self.dispatcher.drain(30)
        assert self.dispatcher.drain(30)

    def settle(self) -> int:
        """Let any late commit land, then look for every unknown outcome."""
        self.clock.advance(SETTLED)
        return self.dispatcher.housekeeping.reconcile()

    def later(self, span: dt.timedelta = SPACED) -> None:
        self.clock.advance(span)
        self.send()

    def rows(self) -> list[Delivery]:
        with self.database.snapshot() as session:
            return list(session.scalars(select(Delivery).order_by(Delivery.due_at, Delivery.key)))

    def states(self) -> list[str]:
        return [row.state for row in self.rows()]

    def alerts(self) -> list[str]:
        with self.database.snapshot() as session:
            return list(session.scalars(select(Alert.kind)))

    def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.close()


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock(DUE - dt.timedelta(minutes=1))


@pytest.fixture
def fakes(clock: SteppedClock, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The fakes to start; parametrized indirectly, the Mastodon fake's settings."""
    mastodon: dict[str, Any] = getattr(request, "param", {})
    return {"x": FakeX(clock=clock.now), "mastodon": FakeMastodon(clock=clock.now, **mastodon),
            "bluesky": FakeBluesky(clock=clock.now)}  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, database: Database, clock: SteppedClock, fakes: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:  # fmt: skip
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(tmp_path / "secrets" / "secrets.toml"))
    with Platforms(**fakes) as platforms:
        made = World(tmp_path, database, platforms, clock, monkeypatch)
        yield made
        made.close()
