"""Time for the daemon: the real clock, or a rehearsal clock that runs a campaign faster.

A rehearsal (``campaign run --rehearse-from 2026-11-25T00:00Z --speed 3600``) starts the clock
at the campaign's first day and runs it 3600 times faster: a 16-day campaign goes by in under two
hours, or in minutes at a higher speed, with every rule (late policy, spacing, retries) applied
in campaign time. It is how a team, or a test, runs the real campaign against the fakes.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field


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
        """A wall-clock instant (a platform's rate-limit reset) in campaign time."""
        return self.now() + (instant - dt.datetime.now(dt.UTC)) * self.speed

    @property
    def rehearsal(self) -> bool:
        return self.start is not None
