"""Bluesky specifics: facets in UTF-8 bytes, replies with root and parent, threadgates, images
with alt text and aspect ratio, sessions kept and renewed, 300 graphemes and 3,000 bytes, the
createSession limit."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from fake_fixtures import TEST_TIMEOUT, bluesky_adapter, png, secrets_of, settings
from fakes import FakeBluesky
from fakes.mastodon import documented
from fakes.server import Fault

from adapters.base import MediaItem, MemoryState, OutgoingPart, PostMetrics
from adapters.bluesky import BlueskyAdapter
from adapters.errors import ContentRejected, RateLimited

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
"""One grapheme, 7 code points, 25 bytes of UTF-8."""


def test_facets_use_utf8_byte_offsets(fake_bluesky: FakeBluesky) -> None:
    text = "Café 🇧🇪 — #OrangeTheWorld avec @unwomen.org : https://unwomen.org/fr/16-jours ✊🏽"
    bluesky_adapter(fake_bluesky).publish(OutgoingPart(text, "k"))
    [post] = fake_bluesky.posted
    encoded = text.encode()
    spans = {
        feature["$type"].rsplit("#", 1)[1]: encoded[
            f["index"]["byteStart"] : f["index"]["byteEnd"]
        ].decode()
        for f in post.value["facets"]
        for feature in f["features"]
    }
    assert spans == {
        "tag": "#OrangeTheWorld",
        "mention": "@unwomen.org",
        "link": "https://unwomen.org/fr/16-jours",
    }
    mention = next(f for f in post.value["facets"] if "did" in f["features"][0])
    assert mention["features"][0]["did"] == "did:plc:unwomen0000000000000000"


def test_unknown_mentions_are_left_as_text(fake_bluesky: FakeBluesky) -> None:
    bluesky_adapter(fake_bluesky).publish(OutgoingPart("Hello @nobody.example.com", "k"))
    assert "facets" not in fake_bluesky.posted[0].value


@pytest.mark.parametrize(
    ("replies", "rule"), [("following", "followingRule"), ("mentioned", "mentionRule")]
)
def test_reply_controls_are_a_threadgate_in_the_same_commit(
    fake_bluesky: FakeBluesky, replies: str, rule: str
) -> None:
    adapter = bluesky_adapter(fake_bluesky)
    root = adapter.publish(OutgoingPart("Root", "k1", replies=replies))
    adapter.publish(
        OutgoingPart(
            "Reply", "k2", replies=replies, in_reply_to=root.remote_id, thread_root=root.remote_id
        )
    )
    first, second = fake_bluesky.posted
    gate = fake_bluesky.threadgate(first)
    assert gate is not None and gate.value["post"] == root.remote_id
    assert [r["$type"] for r in gate.value["allow"]] == [f"app.bsky.feed.threadgate#{rule}"]
    assert fake_bluesky.threadgate(second) is None  # threadgates belong to a thread's root
    assert [r.path for r in fake_bluesky.requests].count("/xrpc/com.atproto.repo.createRecord") == 0


def test_everyone_may_reply_means_no_threadgate(fake_bluesky: FakeBluesky) -> None:
    bluesky_adapter(fake_bluesky).publish(OutgoingPart("Open", "k"))
    assert fake_bluesky.threadgate(fake_bluesky.posted[0]) is None


def test_images_carry_alt_text_and_aspect_ratio(fake_bluesky: FakeBluesky) -> None:
    item = MediaItem(
        mime="image/png", alt="Orange card", data=png(1200, 675)
    )  # size read from the file
    bluesky_adapter(fake_bluesky).publish(OutgoingPart("Card", "k", media=(item,), language="fr"))
    value = fake_bluesky.posted[0].value
    [img] = value["embed"]["images"]
    assert (img["alt"], img["aspectRatio"]["width"], img["aspectRatio"]["height"]) == (
        "Orange card",
        1200,
        675,
    )
    assert value["langs"] == ["fr"]


def test_sessions_are_reused_not_logged_in_per_post(fake_bluesky: FakeBluesky) -> None:
    state = MemoryState()
    for n in range(3):
        bluesky_adapter(fake_bluesky, state=state).publish(OutgoingPart(f"Post {n}", f"k{n}"))
    assert len(fake_bluesky.logins) == 1
    stored = json.loads(state.value or "")
    assert stored["version"] == 1 and stored["base_url"] == fake_bluesky.url


def test_a_session_from_another_server_is_not_used(fake_bluesky: FakeBluesky) -> None:
    state = MemoryState(
        json.dumps(
            {"version": 1, "base_url": "https://bsky.social", "session": "a:::b:::c:::d:::e"}
        )
    )
    bluesky_adapter(fake_bluesky, state=state).verify()
    assert len(fake_bluesky.logins) == 1


def test_an_expired_token_is_refreshed_and_the_call_made_again(fake_bluesky: FakeBluesky) -> None:
    adapter = bluesky_adapter(fake_bluesky)
    adapter.verify()
    fake_bluesky.expire_tokens()
    adapter.publish(OutgoingPart("After refresh", "k"))
    assert len(fake_bluesky.posted) == 1
    assert (len(fake_bluesky.logins), fake_bluesky.refreshes) == (1, 1)


def test_300_graphemes_are_enforced_before_sending(fake_bluesky: FakeBluesky) -> None:
    adapter = bluesky_adapter(fake_bluesky)
    adapter.publish(OutgoingPart("e\u0301" * 300, "k-300"))  # 600 code points, 300 graphemes
    with pytest.raises(ContentRejected, match="301 graphemes"):
        adapter.publish(OutgoingPart("e\u0301" * 301, "k-301"))
    assert len(fake_bluesky.posted) == 1


def _writes(fake: FakeBluesky) -> list[str]:
    """Requests that create something: blobs, records."""
    creates = ("uploadBlob", "applyWrites", "createRecord")
    return [r.path for r in fake.requests if r.path.rsplit(".", 1)[-1] in creates]


def test_3000_bytes_are_enforced_before_sending(fake_bluesky: FakeBluesky) -> None:
    """130 family emoji: 130 graphemes, 3,250 bytes; the PDS refuses them (the fake as well:
    test_platform_bodies_bluesky), so the adapter does not send them, nor upload their images."""
    adapter = bluesky_adapter(fake_bluesky)
    adapter.publish(OutgoingPart(FAMILY * 120, "k-3000"))  # 3,000 bytes exactly
    sent = len(_writes(fake_bluesky))
    image = MediaItem(mime="image/png", alt="Card", data=png(60, 40))
    with pytest.raises(ContentRejected) as raised:
        adapter.publish(OutgoingPart(FAMILY * 130, "k-3250", media=(image,)))
    assert "at most 300 graphemes and 3,000 bytes of UTF-8 (this text is 3,250 bytes)" in str(
        raised.value
    )
    assert len(_writes(fake_bluesky)) == sent  # nothing went out
    assert [len(p.value["text"].encode()) for p in fake_bluesky.posted] == [3000]


def test_a_reply_names_the_threads_root_and_its_parent(fake_bluesky: FakeBluesky) -> None:
    """Part 3 of a thread: root is part 1, parent part 2, each with its CID; the third part is
    sent by a new adapter (the daemon restarted), which reads both CIDs back with getRecord."""
    adapter = bluesky_adapter(fake_bluesky)
    first = adapter.publish(OutgoingPart("1/3 Café ☕", "k-1", language="fr"))
    second = adapter.publish(
        OutgoingPart("2/3", "k-2", in_reply_to=first.remote_id, thread_root=first.remote_id)
    )
    bluesky_adapter(fake_bluesky).publish(
        OutgoingPart("3/3", "k-3", in_reply_to=second.remote_id, thread_root=first.remote_id)
    )
    one, two, three = fake_bluesky.posted

    def refs(reply: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
        return [(reply[end]["uri"], reply[end]["cid"]) for end in ("root", "parent")]

    assert refs(two.value["reply"]) == [(one.uri, one.cid), (one.uri, one.cid)]
    assert refs(three.value["reply"]) == [(one.uri, one.cid), (two.uri, two.cid)]
    assert "reply" not in one.value
    assert (one.value["langs"], "langs" in two.value) == (["fr"], False)


def test_a_given_size_is_the_aspect_ratio_and_an_unreadable_file_has_none(
    fake_bluesky: FakeBluesky,
) -> None:
    given = MediaItem(mime="image/png", alt="Portrait", data=png(1200, 675), width=4, height=5)
    unreadable = MediaItem(mime="image/png", alt="Not decodable", data=b"\x89PNG not really")
    bluesky_adapter(fake_bluesky).publish(OutgoingPart("Cards", "k", media=(given, unreadable)))
    first, second = fake_bluesky.posted[0].value["embed"]["images"]
    ratio = first["aspectRatio"]
    assert (first["alt"], ratio["width"], ratio["height"]) == ("Portrait", 4, 5)
    assert second["alt"] == "Not decodable" and "aspectRatio" not in second


def test_a_refused_refresh_token_means_logging_in_again() -> None:
    """Access and refresh tokens both expired (90 days on the PDS's clock): the adapter logs in
    again with the app password and makes the call once more."""
    now = [dt.datetime(2100, 1, 1, tzinfo=dt.UTC)]  # the fake's clock, ahead of the SDK's
    with FakeBluesky(clock=lambda: now[0]) as fake:
        adapter = bluesky_adapter(fake)
        adapter.verify()
        now[0] += dt.timedelta(days=91)
        adapter.publish(OutgoingPart("After 91 days", "k"))
        refreshes = [r for r in fake.requests if r.path.endswith("refreshSession")]
        assert (len(fake.logins), len(refreshes), fake.refreshes) == (2, 1, 0)
        assert [p.value["text"] for p in fake.posted] == ["After 91 days"]


def test_the_login_limit_is_reported_with_its_reset(fake_bluesky: FakeBluesky) -> None:
    earlier = fake_bluesky.clock() - dt.timedelta(minutes=1)
    # 30 logins in the last 5 minutes
    fake_bluesky.logins_by_identifier[fake_bluesky.handle] = [earlier] * 30
    with pytest.raises(RateLimited) as raised:
        bluesky_adapter(fake_bluesky).verify()
    reset = earlier + dt.timedelta(minutes=5)
    assert abs(raised.value.reset_at - reset) < dt.timedelta(seconds=1)


def test_the_login_limit_is_per_account(fake_bluesky: FakeBluesky) -> None:
    """30 logins of one account leave another's untouched, as on the real PDS."""
    other = fake_bluesky.add_account("belgiuminrome.bsky.social")
    earlier = fake_bluesky.clock() - dt.timedelta(minutes=1)
    fake_bluesky.logins_by_identifier[fake_bluesky.handle] = [earlier] * 30
    rome = BlueskyAdapter(
        settings=settings(f"@{other.handle}"),
        credentials=secrets_of({"app_password": other.app_password}),
        base_url=fake_bluesky.url,
    )
    assert rome.verify().handle == "@belgiuminrome.bsky.social"
    with pytest.raises(RateLimited):
        bluesky_adapter(fake_bluesky).verify()
    assert len(fake_bluesky.logins_by_identifier[other.handle]) == 1


def test_closing_one_account_leaves_the_others_connected(fake_bluesky: FakeBluesky) -> None:
    """Accounts share one HTTP client (making one per account cost ~35 ms and ~0.8 MB each):
    an adapter dropped from the daemon's cache must not close it under the others."""
    first, second = bluesky_adapter(fake_bluesky), bluesky_adapter(fake_bluesky)
    first.verify()
    first.close()
    assert second.verify().handle == "@belgiuminjapan.bsky.social"
    assert first.client.request._client.timeout.read == TEST_TIMEOUT


def test_the_timeout_is_set(fake_bluesky: FakeBluesky) -> None:
    adapter = bluesky_adapter(fake_bluesky, timeout=3)
    assert adapter.client.request._client.timeout.read == 3


# --- engagement counts ----------------------------------------------------------------------


def test_bluesky_counts_are_read_from_a_post_view_as_the_lexicon_shapes_it(
    fake_bluesky: FakeBluesky,
) -> None:
    body = documented("bluesky_get_posts.json")
    fake_bluesky.inject(Fault(200, body, method="GET", path="getPosts"))
    first, second = (post["uri"] for post in body["posts"])
    found = bluesky_adapter(fake_bluesky).fetch_metrics([first, second, first[:-3] + "aaa"])
    assert found == [
        PostMetrics(first, {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0, "bookmarks": 0}),
        PostMetrics(second, {"likes": 3, "reposts": 1, "replies": 2, "quotes": 0, "bookmarks": 0}),
    ]


def test_reading_counts_spends_no_session(fake_bluesky: FakeBluesky) -> None:
    """createSession is limited hard (30 per 5 minutes): counts are read without one."""
    uri = f"at://{fake_bluesky.did}/app.bsky.feed.post/3lbv3urcj3s2t"
    assert bluesky_adapter(fake_bluesky).fetch_metrics([uri]) == []
    assert fake_bluesky.logins == []


def test_the_fakes_post_view_has_the_lexicons_fields(fake_bluesky: FakeBluesky) -> None:
    adapter = bluesky_adapter(fake_bluesky)
    published = adapter.publish(OutgoingPart(text="Viewed", idempotency_key="k-view"))
    answer = httpx.get(
        f"{fake_bluesky.url}/xrpc/app.bsky.feed.getPosts", params={"uris": published.remote_id}
    ).json()
    [view] = answer["posts"]
    assert set(documented("bluesky_get_posts.json")["posts"][0]) <= set(view)


def test_the_fake_refuses_more_uris_than_get_posts_takes(fake_bluesky: FakeBluesky) -> None:
    uris = [f"at://{fake_bluesky.did}/app.bsky.feed.post/3lbv3urcj3s{n:02d}" for n in range(26)]
    answer = httpx.get(f"{fake_bluesky.url}/xrpc/app.bsky.feed.getPosts", params={"uris": uris})
    assert answer.status_code == 400 and answer.json()["error"] == "InvalidRequest"
