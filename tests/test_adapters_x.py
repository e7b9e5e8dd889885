"""X specifics: v2 media upload (simple and chunked) with alt text, reply settings, 402,
duplicate content, signatures, timeouts."""

from __future__ import annotations

import pytest
from fake_fixtures import x_adapter
from fakes import FakeX

from adapters.base import CredentialsInvalid, Duplicate, MediaItem, OutgoingPart, OutOfQuota


def test_small_images_upload_in_one_request(fake_x: FakeX) -> None:
    item = MediaItem(mime="image/png", alt="A card", data=b"\x89PNG" * 10)
    x_adapter(fake_x).publish(OutgoingPart("One card", "k", media=(item,)))
    [upload] = fake_x.uploads.values()
    assert (upload.commands, upload.alt_text, upload.data) == (["simple"], "A card", item.data)


def test_large_images_upload_in_chunks(fake_x: FakeX) -> None:
    data = bytes(range(256)) * 10  # 2,560 bytes, in chunks of 1,000
    item = MediaItem(mime="image/png", alt="A big card", data=data)
    published = x_adapter(fake_x, chunk_size=1000).publish(
        OutgoingPart("Big card", "k", media=(item,))
    )
    upload = fake_x.uploads[published.media_ids[0]]
    assert upload.commands == ["INIT", "APPEND", "APPEND", "APPEND", "FINALIZE"]
    assert upload.data == data and upload.alt_text == "A big card"
    assert fake_x.posted[0].media_ids == list(published.media_ids)


@pytest.mark.parametrize(
    ("replies", "sent"),
    [("everyone", None), ("following", "following"), ("mentioned", "mentionedUsers")],
)
def test_reply_settings(fake_x: FakeX, replies: str, sent: str | None) -> None:
    x_adapter(fake_x).publish(OutgoingPart("Replies", "k", replies=replies))
    assert fake_x.posted[0].reply_settings == sent


def test_out_of_credits_is_out_of_quota(fake_x: FakeX) -> None:
    fake_x.fail(402, path="/2/tweets")
    with pytest.raises(OutOfQuota, match="credits"):
        x_adapter(fake_x).publish(OutgoingPart("No credit", "k"))


def test_duplicate_content_is_a_duplicate(fake_x: FakeX) -> None:
    adapter = x_adapter(fake_x)
    adapter.publish(OutgoingPart("Same words", "k1"))
    with pytest.raises(Duplicate, match="duplicate content"):
        adapter.publish(OutgoingPart("Same words", "k2"))


def test_the_signature_is_checked(fake_x: FakeX) -> None:
    with pytest.raises(CredentialsInvalid):
        x_adapter(fake_x, credentials={"consumer_secret": "wrong"}).publish(
            OutgoingPart("Forged", "k")
        )
    assert fake_x.posted == []


def test_requests_go_to_the_base_url_with_a_timeout(fake_x: FakeX) -> None:
    adapter = x_adapter(fake_x, timeout=4)
    session = adapter.client.session
    assert session.timeout == 4  # type: ignore[attr-defined]
    adapter.verify()
    assert [r.path for r in fake_x.requests] == ["/2/users/me"]


def test_published_at_is_the_snowflake_time(fake_x: FakeX) -> None:
    published = x_adapter(fake_x).publish(OutgoingPart("When", "k"))
    assert published.published_at == fake_x.posted[0].created_at
