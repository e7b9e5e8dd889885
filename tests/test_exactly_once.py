"""Exactly once (docs/architecture.md): every way the answer to a post can be lost, settled by
what was sent and never by resemblance, counted from the fakes' side as well as the store's.

The dispatcher runs in this process on a stepped clock that the fakes share
(tests/dispatch_world.py). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from campaign_builders import post
from daemon_harness import wait_for
from dispatch_world import CREATE, DUE, World, clock, fakes, world
from fakes.mastodon import Status
from fakes.x import Tweet, snowflake

from scheduler.errors import StoreError
from scheduler.store.reconciliation import record_found
from scheduler.store.schema import Delivery

__all__ = ["clock", "fakes", "world"]  # fixtures, used by name

ALIKE = (
    "Day 3 of the 16 Days of Activism against Gender-Based Violence, on digital violence: "
    "know the signs."
)
ALIKE_TOO = ALIKE.replace("know the signs.", "know where to find help.")


def _on_platform(world: World, platform: str) -> list[str]:
    return world.platforms.posted_by_platform()[platform]


def _at_nine(world: World) -> None:
    world.clock.advance_to(DUE)


# --- 1. two posts of one account that start alike ------------------------------------------------


@pytest.mark.parametrize("platform", ["x", "mastodon", "bluesky"])
def test_a_lost_post_is_not_taken_for_an_earlier_one_that_starts_alike(
    world: World, platform: str
) -> None:
    """Before: the second post's request was dropped, reconciliation found the first post by its
    first 60 letters, and recorded the second as sent with the first one's id. Nothing went out
    and nobody was told."""
    world.sync([post("d03-signs", time="09:00", text={"en": ALIKE}),
                post("d03-help", time="09:30", text={"en": ALIKE_TOO})],
               platforms=(platform,))  # fmt: skip
    _at_nine(world)
    world.send()
    getattr(world.platforms, platform).drop(path=CREATE[platform])
    world.later(dt.timedelta(minutes=30))
    assert world.states() == ["sent", "unknown"]
    assert world.settle() == 1
    assert world.states() == ["sent", "scheduled"]  # not on the account: it goes out again
    world.later()
    assert world.states() == ["sent", "sent"]
    assert sorted(_on_platform(world, platform)) == sorted([ALIKE, ALIKE_TOO])
    first, second = world.rows()
    assert first.remote_id != second.remote_id


# --- 2. Mastodon renders links, hashtags and mentions as HTML ------------------------------------

LINKED = (
    "Read more: https://www.un.org/en/observances/ending-violence-against-women-day "
    "and share #16Days with @unwomen@mastodon.social."
)


@pytest.mark.parametrize(
    "fakes",
    [{"flavour": "gotosocial"}, {"flavour": "gotosocial", "source_api": False}],
    ids=["source", "html"],
    indirect=True,
)
def test_a_mastodon_post_with_a_link_is_found_not_sent_twice(world: World) -> None:
    """Before: the status's HTML (a link cut into invisible and ellipsis spans) never matched
    the text, so a server that ignores Idempotency-Key got the post twice."""
    world.sync([post("d01-read", text={"en": LINKED})], platforms=("mastodon",))
    world.platforms.mastodon.commit_then_drop(path=CREATE["mastodon"])
    _at_nine(world)
    world.send()
    assert world.states() == ["unknown"]
    assert world.settle() == 1
    [status] = world.platforms.mastodon.posted
    [row] = world.rows()
    assert (row.state, row.remote_id) == ("sent", status.id)
    world.later()
    assert _on_platform(world, "mastodon") == [LINKED]


# --- 3. a Bluesky create that commits after the client gave up -----------------------------------


@pytest.mark.parametrize("lands", ["before the search", "after the resend"])
def test_a_bluesky_create_that_commits_late_is_not_posted_twice(world: World, lands: str) -> None:
    """Before: the search ran before the late commit landed, found nothing, and the resend made
    a second post (Bluesky takes no idempotency key). Now the record key is the delivery's, so
    whichever create lands second is refused, and the post is found by that key."""
    world.sync([post("d05-help", text={"en": "Help exists: call 1712."})], platforms=("bluesky",))
    landed = threading.Event()
    world.platforms.bluesky.late_commit(landed, path=CREATE["bluesky"])
    _at_nine(world)
    world.send()
    assert world.states() == ["unknown"]
    if lands == "before the search":
        landed.set()
        wait_for(lambda: world.platforms.bluesky.posted, what="the late commit")
        assert world.settle() == 1
        assert world.states() == ["sent"]
    else:
        assert world.settle() == 1
        assert world.states() == ["scheduled"]
        world.later()
        landed.set()  # the first create lands now, on a record key that is taken: refused
        wait_for(lambda: len(world.platforms.bluesky.requests) >= 2, what="the late commit's turn")
    world.later()
    assert _on_platform(world, "bluesky") == ["Help exists: call 1712."]
    [row] = world.rows()
    assert row.state == "sent" and row.remote_id == world.platforms.bluesky.posted[0].uri


# --- 4. "not in the listing" is not "not posted" -------------------------------------------------


@pytest.mark.parametrize("platform", ["x", "mastodon"])
def test_the_same_text_on_another_account_is_not_ours(world: World, platform: str) -> None:
    """Before: the fakes listed every account's posts to any account, and the search took
    another embassy's post with the same text for the lost one."""
    world.sync([post("d02-same", text={"en": "Orange the World: end digital violence."})],
               platforms=(platform,), cities=("be-paris", "be-rome"))  # fmt: skip
    getattr(world.platforms, platform).drop(path=CREATE[platform])
    _at_nine(world)
    world.send()
    assert sorted(world.states()) == ["sent", "unknown"]
    world.settle()
    assert sorted(world.states()) == ["scheduled", "sent"]
    world.later()
    assert world.states() == ["sent", "sent"]
    assert len(_on_platform(world, platform)) == 2


def _crowd(world: World, platform: str, count: int) -> None:
    """``count`` posts on the Paris account since the attempt, made on the platform itself."""
    if platform == "x":
        fake_x = world.platforms.x
        author = fake_x.users["be_paris"].id
        for n in range(count):
            tweet_id = snowflake(world.clock.now(), 100 + n)
            fake_x.tweets[tweet_id] = Tweet(tweet_id, f"reply {n}", [], None, None, author)
        return
    fake = world.platforms.mastodon
    account = fake.accounts["be_paris"]
    for n in range(count):
        status_id = str(114_000_000_000_000_000 + n)
        fake.statuses[status_id] = Status(status_id, f"reply {n}", world.clock.now(), "public",
                                          "", "en", None, [], account)  # fmt: skip


@pytest.mark.parametrize("platform", ["x", "mastodon"])
def test_a_listing_that_cannot_reach_the_attempt_goes_to_a_person(
    world: World, platform: str
) -> None:
    """Before: only the newest 40-50 posts were read, and not finding the post there meant
    sending it again. Now the listing is paged back to the first attempt; when that is more
    than the adapter will read, a person is asked, and told by an alert."""
    world.sync([post("d04-vote", text={"en": "Vote for the resolution."})], platforms=(platform,))
    getattr(world.platforms, platform).drop(path=CREATE[platform])
    _at_nine(world)
    world.send()
    _crowd(world, platform, 1_001)
    assert world.settle() == 1
    [row] = world.rows()
    assert row.state == "needs_review" and "cannot tell" in (row.error_message or "")
    assert world.alerts() == ["needs_review"]
    assert _on_platform(world, platform).count("Vote for the resolution.") == 0


def test_a_listing_read_to_its_end_pages_back_to_the_attempt(world: World) -> None:
    """300 later posts on the account (8 pages of Mastodon's 40): the lost post is still found."""
    world.sync([post("d04-vote", text={"en": "Vote for the resolution."})],
               platforms=("mastodon",))  # fmt: skip
    world.platforms.mastodon.commit_then_drop(path=CREATE["mastodon"])
    _at_nine(world)
    world.send()
    world.clock.advance(dt.timedelta(seconds=1))
    _crowd(world, "mastodon", 300)
    assert world.settle() == 1
    assert world.states() == ["sent"]
    requests = world.platforms.mastodon.requests
    pages = [r for r in requests if r.method == "GET" and r.path.endswith("/statuses")]
    assert len(pages) == 8 and pages[-1].arg("max_id")


# --- 5. X's "duplicate content" after a lost answer ----------------------------------------------


def test_x_duplicate_after_an_attempt_that_went_out_is_sent_not_failed(world: World) -> None:
    """Before: the first call went out but answered 503; the retry got X's 403 duplicate, and
    the delivery was recorded failed with an alert, though it was on the account."""
    world.sync([post("d06-story", text={"en": "Her story, in her words."})], platforms=("x",))
    world.platforms.x.commit_then_fail(503, path=CREATE["x"])
    _at_nine(world)
    world.send()
    assert world.states() == ["retry_waiting"]
    world.later()
    [row] = world.rows()
    assert (row.state, row.error_class) == ("unknown", "Duplicate")
    assert world.settle() == 1
    [tweet] = world.platforms.x.posted
    [row] = world.rows()
    assert (row.state, row.remote_id) == ("sent", tweet.id)
    assert world.alerts() == []


def test_x_duplicate_of_an_older_post_after_an_attempt_goes_to_a_person(world: World) -> None:
    """The text is on the account from before the first attempt (posted by hand): it is not
    this delivery's post, so a person decides."""
    world.sync([post("d06-story", text={"en": "Her story, in her words."})], platforms=("x",))
    author = world.platforms.x.users["be_paris"].id
    older = snowflake(DUE - dt.timedelta(days=2), 1)
    world.platforms.x.tweets[older] = Tweet(older, "Her story, in her words.", [], None, None,
                                            author)  # fmt: skip
    world.platforms.x.fail(503, path=CREATE["x"])
    _at_nine(world)
    world.send()
    world.later()
    world.settle()
    [row] = world.rows()
    assert row.state == "needs_review" and "duplicate" in (row.error_message or "")
    assert world.alerts() == ["needs_review"]


def test_x_duplicate_on_a_first_attempt_is_failed(world: World) -> None:
    world.sync([post("d06-story", text={"en": "Her story, in her words."})], platforms=("x",))
    author = world.platforms.x.users["be_paris"].id
    older = snowflake(DUE - dt.timedelta(days=2), 1)
    world.platforms.x.tweets[older] = Tweet(older, "Her story, in her words.", [], None, None,
                                            author)  # fmt: skip
    _at_nine(world)
    world.send()
    [row] = world.rows()
    assert (row.state, row.error_class) == ("failed", "Duplicate")


# --- a remote post settles one delivery only -----------------------------------------------------


def test_two_lost_posts_with_the_same_text_take_one_post_each(world: World) -> None:
    world.sync([post("d07-a", time="09:00", text={"en": "Say no to online abuse."}),
                post("d07-b", time="09:30", text={"en": "Say no to online abuse."})],
               platforms=("mastodon",))  # fmt: skip
    world.platforms.mastodon.commit_then_drop(path=CREATE["mastodon"], times=2)
    _at_nine(world)
    world.send()
    world.later(dt.timedelta(minutes=30))
    assert world.states() == ["unknown", "unknown"]
    assert world.settle() == 2
    first, second = world.rows()
    assert (first.state, second.state) == ("sent", "sent")
    assert {first.remote_id, second.remote_id} == {s.id for s in world.platforms.mastodon.posted}


def test_the_store_refuses_one_post_for_two_deliveries(world: World) -> None:
    world.sync([post("d07-a", time="09:00", text={"en": "Say no to online abuse."}),
                post("d07-b", time="09:30", text={"en": "Say no to online abuse."})],
               platforms=("mastodon",))  # fmt: skip
    first, second = world.rows()
    with world.database.transaction() as session:
        session.get(Delivery, first.id).state = "unknown"  # type: ignore[union-attr]
        session.get(Delivery, second.id).state = "unknown"  # type: ignore[union-attr]
    with world.database.transaction() as session:
        assert record_found(session, first.id, remote_id="1", remote_url="u", now=DUE) == 1
    with pytest.raises(StoreError), world.database.transaction() as session:
        record_found(session, second.id, remote_id="1", remote_url="u", now=DUE)
    assert world.states() == ["sent", "unknown"]


# --- 6. a backlog, in parallel across accounts ---------------------------------------------------


def test_a_backlog_is_settled_in_one_round_in_parallel_one_call_per_account_at_a_time(
    world: World,
) -> None:
    """Before: one delivery at a time, at most 50 a round, while up to 160 waited. Now every
    account is searched at once (the fake holds the first four listings until four arrive
    together: one at a time would time out), each account's deliveries one after another."""
    cities = tuple(f"be-city{n:02d}" for n in range(12))
    world.sync([post("d08-a", time="09:00", text={"en": "Stop digital violence, {embassy}."}),
                post("d08-b", time="09:30", text={"en": "Find help, {embassy}."})],
               platforms=("mastodon",), cities=cities)  # fmt: skip
    fake = world.platforms.mastodon
    fake.commit_then_drop(path=CREATE["mastodon"], times=None)
    _at_nine(world)
    world.send()
    world.later(dt.timedelta(minutes=30))
    assert Counter(world.states()) == {"unknown": 24}
    fake.faults.clear()
    fake.in_flight_peak.clear()
    fake.together(4, path=r"/accounts/\d+/statuses$", times=4)
    assert world.settle() == 24
    assert Counter(world.states()) == {"sent": 24}
    assert len(fake.posted) == 24
    assert max(fake.in_flight_peak.values()) == 1  # per account: never two calls at once
