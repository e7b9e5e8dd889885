"""The fault matrix: every platform fault on every adapter, alone and then mixed at random
rates, through the dispatcher and its housekeeper in this process on a stepped clock
(tests/dispatch_world.py). Whatever the fault, every delivery ends on its platform exactly once,
or in an explicit state with its reason, counted from the fakes' side (docs/reliability.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from campaign_builders import post
from dispatch_world import CREATE, DUE, World, clock, fakes, world
from fakes import Fault
from fakes.x import DUPLICATE

from .checker import Verdict, judge, on_platforms, record
from .harness import sized

__all__ = ["clock", "fakes", "world"]  # fixtures, used by name

PLATFORMS = ("x", "mastodon", "bluesky")
SLOW = 1.5
"""Seconds a slow fake holds a create: past the adapters' 1 s timeout in dispatch_world."""

Inject = Callable[[Any, str], None]
FAULTS: dict[str, Inject] = {
    "500": lambda fake, path: fake.fail(500, path=path),
    "503": lambda fake, path: fake.fail(503, path=path),
    "timeout, then commit": lambda fake, path: fake.inject(Fault(delay=SLOW, path=path)),
    "reset before acting": lambda fake, path: fake.drop(path=path),
    "answer cut after acting": lambda fake, path: fake.commit_then_drop(path=path),
    "429 with reset": lambda fake, path: fake.rate_limit(
        fake.clock() + dt.timedelta(minutes=2), path=path
    ),
    "401": lambda fake, path: fake.fail(401, path=path),
    "402": lambda fake, path: fake.fail(402, path=path),
    "403 duplicate": lambda fake, path: fake.fail(403, fake.error_body(403, DUPLICATE), path=path),
    "422": lambda fake, path: fake.fail(422, path=path),
}
OUTCOME = {  # what the one delivery becomes, by fault, then by platform where they differ
    "401": "held",
    "402": {"x": "held", "mastodon": "failed", "bluesky": "failed"},
    "403 duplicate": {"x": "failed", "mastodon": "held", "bluesky": "held"},
    "422": "failed",
}


def _expected(fault: str, platform: str) -> str:
    outcome = OUTCOME.get(fault, "sent")
    return outcome if isinstance(outcome, str) else outcome[platform]


def _until_settled(world: World, *, step: dt.timedelta, rounds: int = 400) -> Verdict:
    """Send, keep house and move time until the verdict has nothing left in flight."""
    fakes = world.platforms
    for _ in range(rounds):
        world.send()
        world.dispatcher.housekeeping.maintain()
        verdict = judge(world.database, on_platforms(fakes.x, fakes.mastodon, fakes.bluesky))
        if not verdict.unsettled:
            return verdict
        world.clock.advance(step)
    raise AssertionError(f"still unsettled after {rounds} rounds:\n{verdict}")


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_one_fault_on_one_adapter(world: World, platform: str, fault: str) -> None:
    world.sync([post("d01", text={"en": "Orange the World, {embassy}."})], platforms=(platform,))
    FAULTS[fault](getattr(world.platforms, platform), CREATE[platform])
    world.clock.advance_to(DUE)
    verdict = _until_settled(world, step=dt.timedelta(minutes=1))
    assert verdict.clean, str(verdict)
    outcome = {"sent": verdict.on_platform_once, "held": verdict.held,
               "failed": verdict.explained}  # fmt: skip
    assert outcome[_expected(fault, platform)] == 1, str(verdict)
    record("fault matrix, one fault", {**verdict.figures(), "cases": 1})


RATES = {  # per create request, on every platform at once
    "500": 0.05,
    "timeout, then commit": 0.02,
    "reset before acting": 0.03,
    "answer cut after acting": 0.03,
    "429 with reset": 0.02,
    "422": 0.01,
    "401": 0.005,
}


def _mixed(fake: Any, path: str) -> None:
    reset = fake.clock() + dt.timedelta(minutes=2)
    headers = fake.rate_limit_headers(limit=100, remaining=0, reset_at=reset)
    where: dict[str, Any] = {"path": path, "times": None}
    fake.inject(Fault(status=500, chance=RATES["500"], **where))
    fake.inject(Fault(delay=SLOW, chance=RATES["timeout, then commit"], **where))
    fake.inject(Fault(drop=True, chance=RATES["reset before acting"], **where))
    fake.inject(Fault(commit_then_drop=True, chance=RATES["answer cut after acting"], **where))
    fake.inject(Fault(status=429, headers=headers, chance=RATES["429 with reset"], **where))
    fake.inject(Fault(status=422, chance=RATES["422"], **where))
    fake.inject(Fault(status=401, chance=RATES["401"], **where))


CITIES = sized(quick=2, full=6)
POSTS = sized(quick=4, full=12)


def test_faults_mixed_at_random_rates(world: World) -> None:
    cities = tuple(f"be-city{n:02d}" for n in range(CITIES))
    posts = [
        post(f"m{n:02d}", time="09:00", text={"en": f"{{embassy}}: message {n}, 16 Days."})
        for n in range(POSTS)
    ]
    world.sync(posts, platforms=PLATFORMS, cities=cities)
    for name in PLATFORMS:
        fake = getattr(world.platforms, name)
        fake.random.seed(16)
        _mixed(fake, CREATE[name])
    world.clock.advance_to(DUE)
    verdict = _until_settled(world, step=dt.timedelta(minutes=1))
    record("fault matrix, mixed at random rates", verdict.figures())
    assert verdict.clean, str(verdict)
    assert verdict.deliveries == CITIES * POSTS * len(PLATFORMS)
