"""Several daemons on one PostgreSQL store, and one daemon through a long outage: a daemon
killed for good mid-burst, the kill switch pulled mid-burst, three hours of downtime on a
campaign day. Counted from the fakes' side (docs/reliability.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from campaign_builders import post
from fakes import Request
from sqlalchemy import func, select

from scheduler.daemon.stepping import write_instant
from scheduler.service.control import pause, resume
from scheduler.store.pauses import Scope
from scheduler.store.schema import Attempt, Delivery

from .checker import record
from .daemons import Fleet, Killer, Scenario, burst_posts, scenario
from .harness import sized

__all__ = ["scenario"]  # a fixture, used by name
pytestmark = pytest.mark.slow
on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
MINUTE = dt.timedelta(minutes=1)


def _creates(scenario: Scenario) -> int:
    fakes = scenario.platforms
    return len(fakes.x.posted) + len(fakes.mastodon.posted) + len(fakes.bluesky.posted)


FLEET = sized(quick=3, full=4)
FLEET_EMBASSIES = sized(quick=2, full=16)
FLEET_POSTS = sized(quick=3, full=42)
"""Deliveries: 18 quick, 2,016 full."""


@on_postgresql
def test_daemons_share_a_burst_and_one_killed_for_good_loses_nothing(
    scenario: Scenario,
) -> None:
    deliveries = scenario.sync(burst_posts(FLEET_POSTS), FLEET_EMBASSIES)
    scenario.faults(slow=0.01, commit_then_drop=0.01, drop=0.01)
    killer = Killer(at={deliveries // 3})
    for name in ("x", "mastodon", "bluesky"):
        fake = getattr(scenario.platforms, name)
        fake.hooks.append(killer.hook(name, fake))
    fleet = Fleet(scenario, killer)
    fleet.start(FLEET)
    fleet.arm(victim=1)
    fleet.until(scenario.settled, max_step=MINUTE)
    verdict = scenario.verdict()
    with scenario.database.snapshot() as session:
        workers = session.scalar(select(func.count(func.distinct(Attempt.worker))))
    record(f"{FLEET} daemons on PostgreSQL, one killed for good",
           {**verdict.figures(), "daemons": FLEET, "kills": killer.kills})  # fmt: skip
    assert verdict.clean, str(verdict)
    assert killer.kills == 1 and len(fleet.members) == FLEET - 1
    assert verdict.deliveries == deliveries and workers == FLEET


@on_postgresql
def test_the_kill_switch_mid_burst_stops_every_daemon_at_once(scenario: Scenario) -> None:
    """Pulled while calls are in flight on every daemon: a call whose claim raced the pause
    may finish, none starts once the daemons have seen it, and after resume all goes out."""
    deliveries = scenario.sync(burst_posts(FLEET_POSTS), FLEET_EMBASSIES)
    pulled: list[int] = []

    def pull_the_switch(request: Request) -> None:
        if not pulled and request.method == "POST" and _creates(scenario) >= deliveries // 2:
            pause(scenario.database, Scope(), reason="drill", actor="ops",
                  now=scenario.time.now())  # fmt: skip
            pulled.append(_attempts(scenario))

    for name in ("x", "mastodon", "bluesky"):
        getattr(scenario.platforms, name).hooks.append(pull_the_switch)
    fleet = Fleet(scenario, Killer(at=set()))
    fleet.start(FLEET)
    fleet.until(lambda: bool(pulled), max_step=MINUTE)
    seen = _attempts(scenario)  # every daemon is idle: each has seen the pause
    on_platform = _creates(scenario)
    later = scenario.time.now() + 5 * MINUTE
    fleet.until(lambda: scenario.time.now() >= later, max_step=MINUTE)
    claims_after = _attempts(scenario) - seen
    racing = seen - pulled[0]
    assert claims_after == 0 and _creates(scenario) == on_platform
    assert racing <= FLEET * fleet.max_in_flight  # at most the calls in flight when pulled
    resume(scenario.database, actor="ops", now=scenario.time.now())
    fleet.until(scenario.settled, max_step=MINUTE)
    verdict = scenario.verdict()
    record("kill switch mid-burst", {**verdict.figures(), "claims after the pause": claims_after,
                                     "calls racing the pause": racing})  # fmt: skip
    assert verdict.clean, str(verdict)


def _attempts(scenario: Scenario) -> int:
    with scenario.database.snapshot() as session:
        return int(session.scalar(select(func.count(Attempt.id))) or 0)


DAY = {"09:00": "sent", "10:30": "missed", "11:00": "missed", "12:15": "sent",
       "13:30": "sent", "15:00": "sent"}  # fmt: skip
"""With a grace of one hour, what each post of the day becomes when the daemon is down from
10:00 to 13:00 local time (Brussels, UTC+1)."""


def test_three_hours_of_downtime_on_a_campaign_day(scenario: Scenario) -> None:
    posts = [post(f"t{at.replace(':', '')}", time=at,
                  text={"en": f"{{embassy}} at {at}: 16 Days."}) for at in DAY]  # fmt: skip
    scenario.sync(posts, 2, grace="1h")
    time = scenario.time
    first = scenario.daemon()
    time.advance_to(first, _local(9, 0))
    time.advance_to(first, _local(10, 0))  # the 09:00 posts are out; the daemon goes down
    assert first.stop() == 0
    time.clock.advance_to(_local(13, 0))  # nobody runs for three hours
    write_instant(time.path, time.now())
    second = scenario.daemon()
    time.until(second, lambda: scenario.settled() or None, max_step=dt.timedelta(hours=1))
    assert second.stop() == 0
    verdict = scenario.verdict()
    record("three hours of downtime", verdict.figures())
    assert verdict.clean, str(verdict)
    with scenario.database.snapshot() as session:
        rows = session.execute(select(Delivery.post_id, Delivery.state, Delivery.error_message))
        outcome = {(post_id, state, bool(why)) for post_id, state, why in rows}
    assert outcome == {
        (f"t{at.replace(':', '')}", state, state == "missed") for at, state in DAY.items()
    }


def _local(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 11, 25, hour - 1, minute, tzinfo=dt.UTC)  # Brussels is UTC+1
