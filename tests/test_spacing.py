"""Spacing (``late.spacing``, docs/campaign-format.md): a minimum gap between an account's
separate posts, on time or catching up; never between the parts of one thread, which go out back
to back, each reply once its parent is sent. Against the fakes on the stepped clock
(tests/dispatch_world.py), on SQLite and PostgreSQL; the times are the platform's own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from campaign_builders import post
from dispatch_world import DUE, World, clock, fakes, world

__all__ = ["clock", "fakes", "world"]  # fixtures, used by name

MINUTE = dt.timedelta(minutes=1)
SPACING = 2 * MINUTE  # the World campaign's late.spacing
THREAD = [{"text": {"en": f"Part {n} of the thread from {{embassy}}."}} for n in (1, 2, 3)]


def _statuses(world: World) -> list[Any]:
    """What the Mastodon fake holds, in the order it made them."""
    return list(world.platforms.mastodon.posted)


def _send_at(world: World, instant: dt.datetime) -> None:
    world.clock.advance_to(instant)
    world.send()


def test_a_thread_goes_out_at_its_time_with_its_parts_back_to_back(world: World) -> None:
    world.sync([post("thread", time="09:00", thread=THREAD)], platforms=("mastodon",))
    _send_at(world, DUE)
    statuses = _statuses(world)
    assert [status.text.split(" of ")[0] for status in statuses] == ["Part 1", "Part 2", "Part 3"]
    assert [status.created_at for status in statuses] == [DUE] * 3
    assert [status.in_reply_to_id for status in statuses] == [None, statuses[0].id, statuses[1].id]
    assert world.states() == ["sent"] * 3


def test_two_posts_of_one_account_a_minute_apart_go_out_spacing_apart(world: World) -> None:
    posts = [post("first", time="09:00"), post("second", time="09:01")]
    world.sync(posts, platforms=("mastodon",))
    for minutes in (0, 1):
        _send_at(world, DUE + minutes * MINUTE)
    assert len(_statuses(world)) == 1  # the second is due, but inside the spacing
    _send_at(world, DUE + SPACING)
    first, second = _statuses(world)
    assert second.created_at - first.created_at == SPACING


def test_posts_of_different_accounts_are_not_spaced_against_each_other(world: World) -> None:
    posts = [post("first", time="09:00"), post("second", time="09:01")]
    world.sync(posts, platforms=("mastodon",), cities=("be-paris", "be-rome"))
    for minutes in (0, 1, 2):
        _send_at(world, DUE + minutes * MINUTE)
    by_time: dict[dt.datetime, int] = {}
    for status in _statuses(world):
        by_time[status.created_at] = by_time.get(status.created_at, 0) + 1
    # Paris and Rome at the same instants: each account spaced from its own posts only
    assert by_time == {DUE: 2, DUE + SPACING: 2}


def test_catching_up_spaces_the_posts_but_not_the_parts_of_a_thread(world: World) -> None:
    posts = [
        post("early", time="08:58"),
        post("thread", time="08:59", thread=THREAD),
        post("late", time="09:00"),
    ]
    world.sync(posts, platforms=("mastodon",))
    back = DUE + 30 * MINUTE  # the daemon was down from before 08:58 (Paris)
    for step in range(7):
        _send_at(world, back + step * MINUTE)
    times = [status.created_at for status in _statuses(world)]
    texts = [status.text for status in _statuses(world)]
    assert texts[0].endswith("(early)") and texts[4].endswith("(late)")
    assert [text.split(" of ")[0] for text in texts[1:4]] == ["Part 1", "Part 2", "Part 3"]
    assert times == [back] + [back + SPACING] * 3 + [back + 2 * SPACING]
