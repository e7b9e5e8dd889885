"""One contract for every adapter, run against its fake platform (and the dry-run adapter where
it applies): the success paths, then every fault class and the error it must become."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from fake_fixtures import Kit, png

from adapters.base import (
    Adapter,
    ContentRejected,
    CredentialsInvalid,
    MediaItem,
    NetworkError,
    OutcomeUnknown,
    OutgoingPart,
    Published,
    PublishError,
    RateLimited,
    ServerError,
    Timeout,
)

CARD = png()


def part(text: str, key: str, **more: object) -> OutgoingPart:
    return OutgoingPart(text=text, idempotency_key=key, **more)  # type: ignore[arg-type]


def image(alt: str) -> MediaItem:
    return MediaItem(mime="image/png", alt=alt, data=CARD, width=1200, height=675)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- success paths ----------------------------------------------------------------------------


def test_publish_text(kit: Kit) -> None:
    adapter = kit.build()
    before = now() - dt.timedelta(seconds=1)
    published = adapter.publish(
        part("Orange the World: end digital violence against women.", "k-text")
    )
    assert published.platform == adapter.platform
    assert published.remote_id and published.url.startswith(("http://", "https://"))
    assert (
        published.published_at.tzinfo is dt.UTC
        or published.published_at.utcoffset() == dt.timedelta(0)
    )
    assert before <= published.published_at <= now() + dt.timedelta(seconds=1)
    [sent] = kit.sent(adapter)
    assert (sent.remote_id, sent.text, sent.alts, sent.in_reply_to) == (
        published.remote_id,
        "Orange the World: end digital violence against women.",
        (),
        None,
    )


def test_publish_media_with_alt_text(kit: Kit) -> None:
    adapter = kit.build()
    published = adapter.publish(
        part("Day 1 card", "k-media", media=(image("An orange card: 16 days"),))
    )
    assert len(published.media_ids) == 1
    [sent] = kit.sent(adapter)
    assert sent.alts == ("An orange card: 16 days",)


def test_thread_of_three_parts_with_images(kit: Kit) -> None:
    adapter = kit.build()
    first = adapter.publish(
        part("1/3 Digital violence is violence.", "k-1", media=(image("card one"),))
    )
    second = publish_reply(adapter, "2/3 Know the signs.", "k-2", first, first)
    third = publish_reply(adapter, "3/3 Where to find help.", "k-3", second, first)
    sent = kit.sent(adapter)
    assert [s.text[:3] for s in sent] == ["1/3", "2/3", "3/3"]
    assert [s.in_reply_to for s in sent] == [None, first.remote_id, second.remote_id]
    assert [s.alts for s in sent] == [("card one",), ("card 2/3",), ("card 3/3",)]
    assert len({first.remote_id, second.remote_id, third.remote_id}) == 3


def publish_reply(
    adapter: Adapter, text: str, key: str, parent: Published, root: Published
) -> Published:
    media = (image(f"card {text[:3]}"),)
    return adapter.publish(
        part(text, key, media=media, in_reply_to=parent.remote_id, thread_root=root.remote_id)
    )


def test_delete(kit: Kit) -> None:
    adapter = kit.build()
    published = adapter.publish(part("To be retracted", "k-delete"))
    adapter.delete(published.remote_id)
    assert kit.sent(adapter) == []
    adapter.delete(published.remote_id)  # already gone: not an error


def test_verify(kit: Kit) -> None:
    check = kit.build().verify()
    assert check.platform.value in kit.platform or kit.platform == "dry-run"
    assert check.handle.lstrip("@").lower().startswith("belgiuminjapan")
    assert check.account_id
    assert check.limits.max_characters >= 280 and check.limits.max_media == 4
    assert check.limits.max_image_bytes >= 1_000_000


def test_find_recent_lists_what_was_posted(kit: Kit) -> None:
    adapter = kit.build()
    published = adapter.publish(part("Find me", "k-find"))
    found = adapter.find_recent(since=now() - dt.timedelta(minutes=5))
    assert published.remote_id in [post.remote_id for post in found]


def test_text_over_the_limit_is_rejected(kit: Kit) -> None:
    adapter = kit.build()
    with pytest.raises(ContentRejected):
        adapter.publish(part("é" * 501, "k-long"))
    assert kit.sent(adapter) == []


# --- faults -----------------------------------------------------------------------------------

real = pytest.mark.parametrize("kit", ["x", "mastodon", "bluesky"], indirect=True)

STATUS_ERRORS = {
    # status: error class, for every platform unless overridden below
    400: ContentRejected,
    401: CredentialsInvalid,
    422: ContentRejected,
    500: ServerError,
    502: ServerError,
    503: ServerError,
}


@real
@pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
def test_status_becomes_its_error(kit: Kit, status: int) -> None:
    assert kit.fake is not None
    adapter = kit.build()
    kit.fake.fail(status, path=kit.create_path)
    with pytest.raises(STATUS_ERRORS[status]) as raised:
        adapter.publish(part("A post the platform refuses", f"k-{status}"))
    assert isinstance(raised.value.__cause__, Exception)  # raised from the SDK's error
    assert kit.sent(adapter) == []


@real
def test_rate_limit_reports_the_reset(kit: Kit) -> None:
    assert kit.fake is not None
    reset = (now() + dt.timedelta(minutes=7)).replace(microsecond=0)
    kit.fake.rate_limit(reset, path=kit.create_path)
    with pytest.raises(RateLimited) as raised:
        kit.build().publish(part("Too many", "k-429"))
    assert abs(raised.value.reset_at - reset) <= dt.timedelta(seconds=2)
    assert raised.value.reset_at.utcoffset() == dt.timedelta(0)


@real
def test_dropped_answer_after_commit_is_an_unknown_outcome(kit: Kit) -> None:
    assert kit.fake is not None
    adapter = kit.build()
    kit.fake.commit_then_drop(path=kit.create_path)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(part("Did it go out?", "k-commit-drop"))
    [sent] = kit.sent(adapter)  # it did: the reconciliation can find it
    assert sent.remote_id in [
        p.remote_id for p in adapter.find_recent(since=now() - dt.timedelta(minutes=5))
    ]


@real
def test_dropped_connection_on_create_is_an_unknown_outcome(kit: Kit) -> None:
    assert kit.fake is not None
    kit.fake.drop(path=kit.create_path)
    with pytest.raises(OutcomeUnknown):
        kit.build().publish(part("Dropped", "k-drop"))


@real
def test_slow_answer_on_create_is_an_unknown_outcome(kit: Kit) -> None:
    assert kit.fake is not None
    kit.fake.delay(5, path=kit.create_path)
    with pytest.raises(OutcomeUnknown):
        kit.build(timeout=0.2).publish(part("Slow", "k-slow"))


@real
def test_slow_answer_on_a_safe_call_is_a_timeout(kit: Kit) -> None:
    assert kit.fake is not None
    kit.fake.delay(5, path=kit.verify_path)
    with pytest.raises(Timeout):
        kit.build(timeout=0.2).verify()


@real
def test_dropped_connection_on_a_safe_call_is_a_network_error(kit: Kit) -> None:
    assert kit.fake is not None
    kit.fake.drop(path=kit.verify_path)
    with pytest.raises(NetworkError) as raised:
        kit.build().verify()
    assert not isinstance(raised.value, OutcomeUnknown)


@real
def test_unreachable_platform_is_a_network_error_even_for_a_post(kit: Kit) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(NetworkError) as raised:
        kit.build(base_url=url).publish(part("Nowhere", "k-refused"))
    assert not isinstance(raised.value, (OutcomeUnknown, Timeout))


@real
def test_wrong_credentials_are_invalid(kit: Kit) -> None:
    wrong = {
        "x": {"access_token_secret": "nope"},
        "mastodon": {"access_token": "nope"},
        "bluesky": {"app_password": "nope"},
    }
    with pytest.raises(CredentialsInvalid):
        kit.build(credentials=wrong[kit.platform]).verify()


def test_every_error_is_a_publish_error() -> None:
    for error in (
        ContentRejected,
        CredentialsInvalid,
        NetworkError,
        OutcomeUnknown,
        RateLimited,
        ServerError,
        Timeout,
    ):
        assert issubclass(error, PublishError)
    assert not issubclass(OutcomeUnknown, (NetworkError, ContentRejected))
