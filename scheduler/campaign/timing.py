"""Local wall-clock times to UTC instants, under an explicit policy for clock changes.

A local time can fall into a gap (spring forward: 02:30 does not exist) or a fold (fall back:
01:30 happens twice). Neither is ever resolved silently: the policy in the campaign file says
what to do, and the result carries a note that validation reports as a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.campaign.model import DstPolicy, FoldPolicy, GapPolicy

UTC = dt.UTC


class LocalTimeError(ValueError):
    """A local time that the clock-change policy refuses."""


@dataclass(frozen=True, slots=True)
class ResolvedTime:
    utc: dt.datetime
    """Aware, in UTC."""
    local: dt.datetime
    """Naive wall-clock time in the zone, as it will read on the embassy's clocks."""
    note: str | None = None
    """Why the instant differs from what was written, when it does."""


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo | None:
    """The IANA zone, or None when there is no such zone."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def resolve_local(day: dt.date, clock: dt.time, tz: ZoneInfo, policy: DstPolicy) -> ResolvedTime:
    wall = dt.datetime.combine(day, clock)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if _round_trips(first) and first.utcoffset() == second.utcoffset():
        return ResolvedTime(first.astimezone(UTC), wall)
    if not _round_trips(first):
        return _in_gap(wall, first, tz, policy.gap)
    return _in_fold(wall, first, second, tz, policy.fold)


def in_zone(instant: dt.datetime, tz: ZoneInfo) -> ResolvedTime:
    """An absolute instant, as seen on the wall clock of ``tz``."""
    utc = instant.astimezone(UTC)
    return ResolvedTime(utc, utc.astimezone(tz).replace(tzinfo=None))


def _round_trips(aware: dt.datetime) -> bool:
    back = aware.astimezone(UTC).astimezone(aware.tzinfo)
    return back.replace(tzinfo=None) == aware.replace(tzinfo=None)


def _in_gap(wall: dt.datetime, first: dt.datetime, tz: ZoneInfo, policy: GapPolicy) -> ResolvedTime:
    label = f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks jump forward)"
    if policy is GapPolicy.ERROR:
        raise LocalTimeError(label)
    # With the offset from before the jump, the instant lands as far past the gap as the wall
    # time was into it: 02:30 in a 02:00->03:00 gap becomes 03:30.
    utc = first.astimezone(UTC)
    local = utc.astimezone(tz).replace(tzinfo=None)
    return ResolvedTime(utc, local, f"{label}; moved forward to {local:%H:%M}")


def _in_fold(
    wall: dt.datetime, first: dt.datetime, second: dt.datetime, tz: ZoneInfo, policy: FoldPolicy
) -> ResolvedTime:
    label = f"{wall:%Y-%m-%d %H:%M} happens twice in {tz.key} (the clocks go back)"
    if policy is FoldPolicy.ERROR:
        raise LocalTimeError(label)
    chosen, which = (first, "first") if policy is FoldPolicy.EARLIER else (second, "second")
    offset = chosen.utcoffset()
    return ResolvedTime(
        chosen.astimezone(UTC), wall, f"{label}; using the {which} one (UTC{_offset(offset)})"
    )


def _offset(delta: dt.timedelta | None) -> str:
    minutes = int((delta or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def utc_offset_label(instant: dt.datetime, tz: ZoneInfo) -> str:
    """'UTC+05:45': the offset ``tz`` has at ``instant``."""
    return "UTC" + _offset(instant.astimezone(tz).utcoffset())


def describe_span(span: dt.timedelta) -> str:
    """'40 s', '20 min' or '2.5 h': how late something is, for people. Under a minute in
    seconds, never '0 min'."""
    seconds = span.total_seconds()
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def missed_message(late: dt.timedelta, grace: dt.timedelta, why: str = "not sent in time") -> str:
    """Why a delivery was missed, in one wording wherever it is decided:
    'not sent in time: 3.5 h late, beyond the grace of 30 min'."""
    return f"{why}: {describe_span(late)} late, beyond the grace of {describe_span(grace)}"


def past_grace(due_at: dt.datetime, grace: dt.timedelta, now: dt.datetime) -> bool:
    """Whether a delivery due at ``due_at`` is too late to send at ``now``: the one rule by which
    the dispatcher and housekeeping mark it missed, and commands warn of it beforehand."""
    return now > due_at + grace
