"""The clocks (scheduler/daemon/clock.py) and a stepped daemon's exchange with its driver
(daemon/stepping.py): the stepper alone with a settle of our own, then a real daemon in this
process, on the dry-run adapters."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from campaign_builders import post, write_campaign
from sqlalchemy import select

from scheduler.daemon.clock import Clock, SteppedClock
from scheduler.daemon.runner import Daemon
from scheduler.daemon.stepping import (
    Status,
    Stepper,
    parse_instant,
    read_instant,
    read_status,
    status_path,
    write_instant,
)
from scheduler.errors import UsageError
from scheduler.service.daemon import campaign_clock as choose_clock
from scheduler.service.sync import sync_file
from scheduler.settings import DaemonSettings, Settings
from scheduler.store.database import open_database
from scheduler.store.schema import Delivery

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DEADLINE = 30.0
"""Seconds: only catches a stepper that never answers."""


# --- the clocks -------------------------------------------------------------------------------


def test_a_stepped_clock_stands_still_until_it_is_moved() -> None:
    clock = SteppedClock(T0)
    assert clock.now() == clock.now() == T0
    clock.advance(dt.timedelta(minutes=5))
    assert clock.now() == T0 + dt.timedelta(minutes=5)
    clock.advance_to(T0 + HOUR)
    clock.advance_to(T0 + HOUR)  # standing still is allowed
    assert clock.now() == T0 + HOUR


def test_a_stepped_clock_never_goes_back() -> None:
    clock = SteppedClock(T0 + HOUR)
    with pytest.raises(ValueError, match="never goes back"):
        clock.advance_to(T0)
    assert clock.now() == T0 + HOUR


def test_a_stepped_clock_takes_aware_instants_and_keeps_them_in_utc() -> None:
    with pytest.raises(ValueError, match="offset"):
        SteppedClock(dt.datetime(2026, 11, 25, 8, 0))
    clock = SteppedClock(T0.astimezone(ZoneInfo("Asia/Tokyo")))
    assert clock.now() == T0 and clock.now().tzinfo is dt.UTC


def test_wall_time_spans_count_one_for_one_on_a_stepped_clock() -> None:
    """The dispatcher turns leases and backoffs into campaign time as ``span * speed``: they
    keep their length. The fakes share the stepped time, so their instants need no mapping."""
    clock = SteppedClock(T0, source=Path("clock"))
    assert clock.speed == 1.0 and clock.rehearsal and clock.source == Path("clock")
    assert clock.real_seconds(dt.timedelta(minutes=2)) == 120.0
    assert clock.real_seconds(-HOUR) == 0.0
    reset = T0 + dt.timedelta(minutes=15)
    assert clock.from_real(reset) == reset and clock.to_real(reset) == reset


def test_the_sped_up_clock_still_maps_wall_and_campaign_instants() -> None:
    clock = Clock(start=T0, speed=3600)
    assert clock.rehearsal and not Clock().rehearsal
    assert clock.real_seconds(HOUR) == 1.0
    reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    there = clock.from_real(reset)  # two wall seconds are about two campaign hours ahead
    assert abs(there - (clock.now() + 2 * HOUR)) < dt.timedelta(minutes=30)
    assert abs(clock.to_real(there) - reset) < dt.timedelta(seconds=1)


# --- the clock file and the status ------------------------------------------------------------


def test_an_instant_is_written_whole_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_instant(path, T0.astimezone(ZoneInfo("Europe/Paris")))
    assert path.read_text(encoding="utf-8") == "2026-11-25T08:00:00+00:00\n"
    assert read_instant(path) == T0
    assert [found.name for found in tmp_path.iterdir()] == ["clock"]  # no temporary file left


def test_an_instant_needs_its_offset() -> None:
    assert parse_instant("2026-11-25T08:00Z") == T0
    assert parse_instant(" 2026-11-25T09:00+01:00\n") == T0
    with pytest.raises(ValueError, match="offset"):
        parse_instant("2026-11-25T08:00")
    with pytest.raises(ValueError):
        parse_instant("tomorrow morning")


def test_a_status_goes_through_json_unchanged(tmp_path: Path) -> None:
    status = Status(pid=7, seq=3, instant=T0, idle=True, next_wakeup=T0 + HOUR)
    assert Status.from_json(status.to_json()) == status
    failed = Status(pid=7, seq=4, instant=T0, idle=False, error="it broke")
    assert Status.from_json(failed.to_json()) == failed
    assert read_status(tmp_path / "clock") is None
    assert status_path(tmp_path / "clock") == tmp_path / "clock.status.json"


# --- the stepper, with a settle of our own ----------------------------------------------------


def _status(path: Path, *, after: int) -> Status:
    """The first status newer than ``after`` that is idle or says an error."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while time.monotonic() < deadline:
        found = read_status(path)
        if found is not None and found.seq > after and (found.idle or found.error):
            return found
        pause.wait(0.005)
    raise AssertionError(f"no status after seq {after}: {read_status(path)}")


@dataclass
class Stepped:
    """A running stepper whose settle records what it saw and returns ``wakeup``."""

    path: Path
    clock: SteppedClock
    stopping: threading.Event = field(default_factory=threading.Event)
    seen: list[tuple[dt.datetime, Status | None]] = field(default_factory=list)
    wakeup: dt.datetime | None = None
    fail: Exception | None = None

    def settle(self) -> dt.datetime | None:
        self.seen.append((self.clock.now(), read_status(self.path)))
        if self.fail is not None:
            raise self.fail
        return self.wakeup

    def move(self, instant: dt.datetime | str, *, after: int) -> Status:
        if isinstance(instant, str):
            self.path.write_text(instant, encoding="utf-8")
        else:
            write_instant(self.path, instant)
        return _status(self.path, after=after)


@pytest.fixture
def stepped(tmp_path: Path) -> Iterator[Stepped]:
    path = tmp_path / "clock"
    write_instant(path, T0)
    clock = SteppedClock(T0, source=path)
    fixture = Stepped(path, clock, wakeup=T0 + HOUR)
    stepper = Stepper(clock, fixture.settle, fixture.stopping)
    stepper.start()
    yield fixture
    fixture.stopping.set()
    stepper._thread.join(timeout=DEADLINE)


def test_the_stepper_settles_each_instant_then_says_it_is_idle(stepped: Stepped) -> None:
    first = _status(stepped.path, after=0)
    assert first == Status(os.getpid(), 1, T0, idle=True, next_wakeup=T0 + HOUR)
    stepped.wakeup = None
    second = stepped.move(T0 + HOUR, after=first.seq)
    assert second == Status(os.getpid(), 2, T0 + HOUR, idle=True, next_wakeup=None)
    assert [instant for instant, _ in stepped.seen] == [T0, T0 + HOUR]
    assert stepped.clock.now() == T0 + HOUR


def test_the_new_instant_is_acknowledged_not_idle_while_it_settles(stepped: Stepped) -> None:
    first = _status(stepped.path, after=0)
    stepped.move(T0 + HOUR, after=first.seq)
    during = stepped.seen[-1][1]
    assert during is not None
    assert (during.seq, during.instant, during.idle) == (2, T0 + HOUR, False)


def test_rewriting_the_same_instant_settles_again(stepped: Stepped) -> None:
    """What a driver does after changing the store, to have it seen at the same instant."""
    first = _status(stepped.path, after=0)
    again = stepped.move(T0, after=first.seq)
    assert (again.seq, again.instant, again.idle) == (2, T0, True)
    assert [instant for instant, _ in stepped.seen] == [T0, T0]


def test_a_clock_file_going_back_is_refused_and_said(stepped: Stepped) -> None:
    first = _status(stepped.path, after=0)
    refused = stepped.move(T0 - HOUR, after=first.seq)
    assert not refused.idle and refused.instant == T0
    assert refused.error and "never goes back" in refused.error
    assert len(stepped.seen) == 1  # nothing settled
    later = stepped.move(T0 + HOUR, after=refused.seq)
    assert later.idle and later.instant == T0 + HOUR


def test_an_unreadable_clock_file_is_said(stepped: Stepped) -> None:
    first = _status(stepped.path, after=0)
    refused = stepped.move("tomorrow morning", after=first.seq)
    assert refused.error and "expected one instant" in refused.error
    assert stepped.clock.now() == T0


def test_a_failed_settle_is_said_rather_than_left_to_a_deadline(stepped: Stepped) -> None:
    first = _status(stepped.path, after=0)
    stepped.fail = RuntimeError("the database is gone")
    failed = stepped.move(T0 + HOUR, after=first.seq)
    assert not failed.idle
    assert failed.error == "RuntimeError: the database is gone"


# --- a daemon on a stepped clock --------------------------------------------------------------


@pytest.fixture
def daemon_at_t0(tmp_path: Path) -> Iterator[Callable[[dt.datetime], Status]]:
    """A daemon, in this process on the dry-run adapters, with posts at T0+1h and T0+3h;
    yields ``move(instant)``, which returns its idle status there."""
    campaign = write_campaign(
        tmp_path,
        posts=[post("launch", at=_at(1)), post("later", at=_at(3))],
    )
    database = open_database(str(tmp_path / "campaign.db"))
    sync_file(campaign, database, actor="ines", now=T0)
    path = tmp_path / "clock"
    write_instant(path, T0)
    settings = Settings(daemon=DaemonSettings(worker_name="stepped"))
    daemon = Daemon(settings, database, clock=SteppedClock(T0, source=path), dry_run=True)
    thread = threading.Thread(target=daemon.run, name="daemon")
    thread.start()
    last = [0]

    def move(instant: dt.datetime) -> Status:
        if instant != T0:
            write_instant(path, instant)
        status = _status(path, after=last[0])
        last[0] = status.seq
        return status

    try:
        yield move
    finally:
        daemon.stop()
        thread.join(timeout=DEADLINE)
    assert not thread.is_alive()


def _at(hours: int) -> str:
    return (T0 + hours * HOUR).isoformat()


def _sent_at(tmp_path: Path) -> dict[str, dt.datetime | None]:
    database = open_database(str(tmp_path / "campaign.db"))
    try:
        with database.snapshot() as session:
            return dict(session.execute(select(Delivery.key, Delivery.sent_at)).all())
    finally:
        database.close()


def test_a_stepped_daemon_is_idle_at_each_instant_and_names_the_next(
    daemon_at_t0: Callable[[dt.datetime], Status], tmp_path: Path
) -> None:
    move = daemon_at_t0
    start = move(T0)
    assert (start.pid, start.instant, start.idle) == (os.getpid(), T0, True)
    assert start.next_wakeup == T0 + HOUR
    assert set(_sent_at(tmp_path).values()) == {None}
    first = move(T0 + HOUR)
    assert first.next_wakeup == T0 + HOUR + dt.timedelta(minutes=2)  # the accounts' next turn
    sent = _sent_at(tmp_path)
    assert {sent[key] for key in sent if "/launch/" in key} == {T0 + HOUR}  # on the instant
    assert {sent[key] for key in sent if "/later/" in key} == {None}
    turn = move(T0 + 3 * HOUR).next_wakeup
    assert turn == T0 + 3 * HOUR + dt.timedelta(minutes=2)
    assert {sent_at for key, sent_at in _sent_at(tmp_path).items() if "/later/" in key} == {
        T0 + 3 * HOUR
    }
    assert move(turn).next_wakeup is None  # nothing left to wait for


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rehearse_from", "speed", "message"),
    [
        ("2026-11-25T00:00Z", 1.0, "choose one rehearsal clock"),
        (None, 60.0, "--speed needs --rehearse-from"),
    ],
)
def test_a_clock_file_is_the_only_clock_given(
    tmp_path: Path, rehearse_from: str | None, speed: float, message: str
) -> None:
    path = tmp_path / "clock"
    write_instant(path, T0)
    with pytest.raises(UsageError, match=message):
        choose_clock(rehearse_from, speed, path)


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot read it"), ("2026-11-25 08:00", "offset")]
)
def test_a_clock_file_must_hold_an_instant(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "clock"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        choose_clock(None, 1.0, path)


def test_campaign_run_follows_the_clock_file(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_instant(path, T0)
    clock = choose_clock(None, 1.0, path)
    assert isinstance(clock, SteppedClock)
    assert clock.now() == T0 and clock.source == path
