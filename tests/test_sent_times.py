"""When a post went out is the platform's word (docs/architecture.md): the store keeps the
platform's time beside ours, and status and report show the platform's as "sent".

The fakes' clocks run ``SKEW`` ahead of ours here, so a time that equals ours could only have
come from our clock, and one that equals the fake's only from the platform's answer. The
dispatcher and reconciliation run in this process on a stepped clock (tests/dispatch_world.py),
against the fakes over HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from campaign_builders import post
from daemon_harness import wait_for
from dispatch_world import CREATE, DUE, SETTLED, World, clock, world
from fakes import FakeBluesky, FakeMastodon, FakeX

from scheduler.daemon.clock import Clock, SteppedClock, from_platform
from scheduler.service import reports
from scheduler.views.reporting import report_record

__all__ = ["clock", "world"]  # fixtures, used by name

SKEW = dt.timedelta(seconds=41, milliseconds=250)
"""How far ahead of ours the platforms' clocks are."""
MILLISECOND = dt.timedelta(milliseconds=1)
TEXT = "Orange the World: end digital violence against women and girls."


@pytest.fixture
def fakes(clock: SteppedClock) -> dict[str, Any]:
    """The fakes on a clock of their own: ours, plus SKEW."""

    def platform_now() -> dt.datetime:
        return clock.now() + SKEW

    return {
        "x": FakeX(clock=platform_now),
        "mastodon": FakeMastodon(clock=platform_now),
        "bluesky": FakeBluesky(clock=platform_now),
    }


def _platform_time(world: World, platform: str) -> dt.datetime:
    """When the fake says the post was made, from its own records where it keeps them."""
    if platform == "x":
        [tweet] = world.platforms.x.posted
        return tweet.created_at  # the snowflake's time
    if platform == "mastodon":
        [status] = world.platforms.mastodon.posted
        return status.created_at.replace(microsecond=status.created_at.microsecond // 1000 * 1000)
    raise AssertionError(platform)


@pytest.mark.parametrize("platform", ["x", "mastodon", "bluesky"])
def test_a_sent_post_keeps_the_platform_time_beside_ours(world: World, platform: str) -> None:
    world.sync([post("d01", time="09:00", text={"en": TEXT})], platforms=(platform,))
    world.clock.advance_to(DUE)
    world.send()
    [row] = world.rows()
    assert row.state == "sent"
    assert row.sent_at == DUE  # ours: the stepped clock
    assert row.platform_sent_at is not None
    # The fake stamped the post SKEW after our now (to the millisecond on X and Mastodon; a
    # Bluesky commit's TID adds a few microseconds of its own).
    assert DUE + SKEW - MILLISECOND < row.platform_sent_at < DUE + SKEW + MILLISECOND
    if platform != "bluesky":
        assert row.platform_sent_at == _platform_time(world, platform)
    [reported] = reports.report(world.database, now=DUE).rows
    record = report_record(reported)
    assert (record["sent_clock"], record["our_sent_at"]) == ("platform", "2026-11-25T08:00:00Z")
    assert record["sent_at"] == row.platform_sent_at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("platform", ["x", "mastodon"])
def test_reconciliation_records_when_the_post_was_made_not_when_it_was_found(
    world: World, platform: str
) -> None:
    """The answer was lost; two minutes later reconciliation finds the post: ours is the time
    it was found, the platform's the time the post was made."""
    world.sync([post("d01", time="09:00", text={"en": TEXT})], platforms=(platform,))
    getattr(world.platforms, platform).commit_then_drop(path=CREATE[platform])
    world.clock.advance_to(DUE)
    world.send()
    assert world.states() == ["unknown"]
    assert world.settle() == 1
    [row] = world.rows()
    assert row.state == "sent"
    assert row.sent_at == DUE + SETTLED
    assert row.platform_sent_at == _platform_time(world, platform)
    assert DUE + SKEW - MILLISECOND < row.platform_sent_at < DUE + SKEW + MILLISECOND


@pytest.mark.parametrize("found", ["at once", "by reconciliation"])
def test_a_bluesky_post_read_back_by_its_record_key_has_no_platform_time(
    world: World, found: str
) -> None:
    """The create's answer was lost and the record is read back (getRecord): at once, by the
    adapter, or later, by reconciliation. getRecord says nothing of when a record was made, and
    its createdAt is ours: the report falls back to our time and says so, rather than passing
    ours off as the platform's."""
    world.sync([post("d01", time="09:00", text={"en": TEXT})], platforms=("bluesky",))
    landed = threading.Event()
    if found == "at once":
        world.platforms.bluesky.commit_then_drop(path=CREATE["bluesky"])
    else:
        world.platforms.bluesky.late_commit(landed, path=CREATE["bluesky"])
    world.clock.advance_to(DUE)
    world.send()
    ours = DUE
    if found == "by reconciliation":
        assert world.states() == ["unknown"]
        landed.set()
        wait_for(lambda: world.platforms.bluesky.posted, what="the late commit")
        assert world.settle() == 1
        ours = DUE + SETTLED
    [row] = world.rows()
    assert (row.state, row.sent_at, row.platform_sent_at) == ("sent", ours, None)
    record = report_record(reports.report(world.database, now=DUE).rows[0])
    assert (record["sent_at"], record["sent_clock"]) == (
        ours.isoformat().replace("+00:00", "Z"),
        "ours",
    )


def test_outside_a_rehearsal_the_platform_time_is_kept_exactly() -> None:
    """The wall clock's from_real no longer goes through two readings of the clock, which moved
    the platform's instant by the microseconds between them."""
    instant = dt.datetime(2026, 11, 25, 8, 0, 41, 250_000, tzinfo=dt.UTC)
    assert from_platform(Clock(), instant) == instant
    assert from_platform(SteppedClock(DUE), instant) == instant
    assert from_platform(Clock(), None) is None
