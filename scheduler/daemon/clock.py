"""Time for the daemon: the real clock, a rehearsal clock that runs a campaign faster, or a
stepped clock that moves only when told.

A rehearsal (``campaign run --rehearse-from 2026-11-25T00:00Z --speed 3600``) starts the clock
at the campaign's first day and runs it 3600 times faster: a 16-day campaign goes by in under two
hours, or in minutes at a higher speed, with every rule (late policy, spacing, retries) applied
in campaign time. It is how a team demonstrates the real campaign against the fakes.

A stepped rehearsal (``campaign run --clock-file PATH``, see ``daemon.stepping``) is how the
tests run it: campaign time stands still while the daemon works and jumps when the test says, so
every platform call takes no campaign time and a result never depends on how fast the machine is.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class CampaignClock(Protocol):
    """What the daemon, the dispatcher and housekeeping ask of campaign time."""

    @property
    def speed(self) -> float:
        """How many campaign seconds a wall-clock second is worth, for spans meant in wall time
        (leases, backoffs)."""
        ...

    @property
    def rehearsal(self) -> bool:
        """Whether campaign time is something other than the wall clock."""
        ...

    def now(self) -> dt.datetime: ...

    def real_seconds(self, span: dt.timedelta) -> float:
        """How long ``span`` of campaign time lasts on the wall clock."""
        ...

    def from_real(self, instant: dt.datetime) -> dt.datetime:
        """A platform's instant (a rate-limit reset, when it accepted a post) in campaign
        time."""
        ...

    def to_real(self, instant: dt.datetime) -> dt.datetime:
        """A campaign instant on the platform's clock."""
        ...


def wall_span(clock: CampaignClock, span: dt.timedelta) -> dt.timedelta:
    """A span meant in wall-clock time (a lease against crashes, a platform's backoff or
    timeout), in campaign time: the same outside a rehearsal, ``speed`` times longer in one."""
    return span * clock.speed


def from_platform(clock: CampaignClock, instant: dt.datetime | None) -> dt.datetime | None:
    """When a platform says it accepted a post, in campaign time (the instant itself outside a
    rehearsal); None, when the platform said nothing, stays None."""
    return None if instant is None else clock.from_real(instant)


@dataclass(frozen=True)
class Clock:
    """Campaign time. Without a start, the wall clock; with one, a scaled clock from there."""

    start: dt.datetime | None = None
    speed: float = 1.0
    _real_start: float = field(default_factory=time.time)

    def now(self) -> dt.datetime:
        real = dt.datetime.now(dt.UTC)
        if self.start is None:
            return real
        elapsed = time.time() - self._real_start
        return self.start + dt.timedelta(seconds=elapsed * self.speed)

    def real_seconds(self, span: dt.timedelta) -> float:
        """How long ``span`` of campaign time lasts on the wall clock."""
        return max(0.0, span.total_seconds() / self.speed)

    def from_real(self, instant: dt.datetime) -> dt.datetime:
        """A wall-clock instant (a platform's rate-limit reset or post time) in campaign time:
        the instant itself outside a rehearsal."""
        if self.start is None:
            return instant
        return self.now() + (instant - dt.datetime.now(dt.UTC)) * self.speed

    def to_real(self, instant: dt.datetime) -> dt.datetime:
        """A campaign instant (an attempt's start) on the platform's clock, the wall clock."""
        return dt.datetime.now(dt.UTC) - (self.now() - instant) / self.speed

    @property
    def rehearsal(self) -> bool:
        return self.start is not None


class SteppedClock:
    """Campaign time that moves only when told (:meth:`advance_to`), never back.

    Wall-clock spans (leases, retry backoff) count one for one: ``speed`` is 1. Since campaign
    time stands still while a call is under way, and a driver moves it only once the daemon is
    idle, a daemon's own leases never run out under it, while a dead daemon's lease runs out
    when the driver moves past it, as it would on the wall clock. The platforms are assumed to
    live in the same stepped time (the test suite's fakes take this clock's ``now``), so a
    platform's instant is a campaign instant: ``from_real`` and ``to_real`` change nothing.
    """

    speed = 1.0
    rehearsal = True

    def __init__(self, start: dt.datetime, *, source: Path | None = None) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()
        self.source = source
        """The clock file a daemon follows (``campaign run --clock-file``); None when the owner
        moves the clock itself."""

    def now(self) -> dt.datetime:
        return self._now

    def advance_to(self, instant: dt.datetime) -> None:
        instant = _aware(instant)
        with self._lock:
            if instant < self._now:
                raise ValueError(
                    f"campaign time never goes back: {instant.isoformat()} is before "
                    f"{self._now.isoformat()}"
                )
            self._now = instant

    def advance(self, span: dt.timedelta) -> None:
        self.advance_to(self._now + span)

    def real_seconds(self, span: dt.timedelta) -> float:
        """Campaign time does not pass on its own; at ``speed`` 1, as long as on the wall clock
        (nothing in a stepped daemon waits on it: the steps drive dispatch and housekeeping)."""
        return max(0.0, span.total_seconds())

    def from_real(self, instant: dt.datetime) -> dt.datetime:
        return instant

    def to_real(self, instant: dt.datetime) -> dt.datetime:
        return instant


def _aware(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{instant.isoformat()}: an instant needs its offset (e.g. +00:00)")
    return instant.astimezone(dt.UTC)
