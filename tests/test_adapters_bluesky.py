"""Bluesky specifics: facets in UTF-8 bytes, threadgates, sessions kept and renewed, 300
graphemes, the createSession limit."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fake_fixtures import bluesky_adapter, png
from fakes import FakeBluesky

from adapters.base import ContentRejected, MediaItem, MemoryState, OutgoingPart, RateLimited


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


def test_the_login_limit_is_reported_with_its_reset(fake_bluesky: FakeBluesky) -> None:
    earlier = fake_bluesky.clock() - dt.timedelta(minutes=1)
    fake_bluesky.logins.extend([earlier] * 30)  # 30 logins in the last 5 minutes
    with pytest.raises(RateLimited) as raised:
        bluesky_adapter(fake_bluesky).verify()
    reset = earlier + dt.timedelta(minutes=5)
    assert abs(raised.value.reset_at - reset) < dt.timedelta(seconds=1)


def test_the_timeout_is_set(fake_bluesky: FakeBluesky) -> None:
    adapter = bluesky_adapter(fake_bluesky, timeout=3)
    assert adapter.client.request._client.timeout.read == 3
