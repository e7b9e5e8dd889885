"""kill -9 in the middle of a burst, again and again, on all three platforms, while the fakes
are slow, cut answers after acting and drop requests before acting: every delivery must end on
its platform exactly once or in an explicit state with its reason (docs/reliability.md)."""

from __future__ import annotations

import random

import pytest

from .checker import record
from .daemons import Killer, Scenario, burst_posts, run_with_kills, scenario
from .harness import sized

__all__ = ["scenario"]  # a fixture, used by name
pytestmark = pytest.mark.slow

EMBASSIES = sized(quick=3, full=12)
POSTS = sized(quick=3, full=14)
"""Deliveries: embassies x 3 platforms x posts: 27 quick, 504 full."""
KILLS = sized(quick=3, full=50)


def test_kill_9_at_random_points_of_a_burst_loses_nothing_and_sends_nothing_twice(
    scenario: Scenario, database_url: str
) -> None:
    deliveries = scenario.sync(burst_posts(POSTS), EMBASSIES)
    scenario.faults(slow=0.03, commit_then_drop=0.03, drop=0.02)
    picks = random.Random(8).sample(range(1, deliveries), KILLS)
    killer = Killer(at=set(picks))
    daemons = run_with_kills(scenario, killer)
    verdict = scenario.verdict()
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    record(f"kill -9 in a burst ({kind})",
           {**verdict.figures(), "kills": killer.kills, "daemons": daemons})  # fmt: skip
    assert verdict.clean, str(verdict)
    assert killer.kills == KILLS and verdict.deliveries == deliveries
