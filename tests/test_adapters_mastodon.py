"""Mastodon specifics: the version trap, servers that are not mainline Mastodon, idempotency,
media processing with a deadline, instance limits."""

from __future__ import annotations

import pytest
from fake_fixtures import TEST_TIMEOUT, mastodon_adapter, png
from fakes import FakeMastodon
from mastodon import Mastodon

from adapters.base import MediaItem, OutgoingPart, ServerError

CARD = MediaItem(mime="image/png", alt="An orange card", data=png(40, 30))


def media_endpoints(fake: FakeMastodon) -> list[str]:
    return [media.endpoint for media in fake.media.values()]


def test_the_sdk_trap_sends_media_to_v1(fake_mastodon: FakeMastodon) -> None:
    """Why the adapter pins the API level: a version without a check mode stays 1.0.0."""
    api = Mastodon(
        access_token="mastodon-token",
        api_base_url=fake_mastodon.url,
        mastodon_version="4.3.2",
        request_timeout=TEST_TIMEOUT,
    )
    assert (api.mastodon_major, api.mastodon_minor) == (1, 0)
    api.media_post(png(4, 4), mime_type="image/png")
    assert media_endpoints(fake_mastodon) == ["v1"]


def test_the_adapter_uploads_to_v2_without_probing_the_version(fake_mastodon: FakeMastodon) -> None:
    mastodon_adapter(fake_mastodon).publish(OutgoingPart("With a card", "k", media=(CARD,)))
    assert media_endpoints(fake_mastodon) == ["v2"]
    assert not [r for r in fake_mastodon.requests if "instance" in r.path]


def test_a_failing_instance_probe_never_stops_a_post(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.fail(500, path="instance", times=None)
    adapter = mastodon_adapter(fake_mastodon)
    check = adapter.verify()
    assert check.limits.max_characters == 500 and check.server is None
    adapter.publish(OutgoingPart("Still goes out", "k", media=(CARD,)))
    assert [s.text for s in fake_mastodon.posted] == ["Still goes out"]


def test_a_server_without_v2_media_gets_v1(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.fail(404, path="/api/v2/media")
    mastodon_adapter(fake_mastodon).publish(OutgoingPart("Old server", "k", media=(CARD,)))
    assert media_endpoints(fake_mastodon) == ["v1"]


@pytest.mark.parametrize(
    ("flavour", "server"),
    [
        ("gotosocial", "4.0.0 (compatible; GoToSocial 0.17.0)"),
        ("akkoma", "2.7.2 (compatible; Akkoma 3.13.2)"),
    ],
)
def test_servers_that_are_not_mainline(flavour: str, server: str) -> None:
    with FakeMastodon(flavour=flavour, max_characters=5000) as fake:
        adapter = mastodon_adapter(fake)
        check = adapter.verify()
        assert check.server == server
        assert check.limits.max_characters == 5000
        published = adapter.publish(
            OutgoingPart("Hello from a Belgian embassy", "k", media=(CARD,))
        )
        assert published.remote_id == fake.posted[0].id
        assert media_endpoints(fake) == ["v2"]


def test_the_same_delivery_sends_the_same_key_and_gets_the_same_status(
    fake_mastodon: FakeMastodon,
) -> None:
    adapter = mastodon_adapter(fake_mastodon)
    first = adapter.publish(OutgoingPart("Once", "delivery-key"))
    again = mastodon_adapter(fake_mastodon).publish(OutgoingPart("Once", "delivery-key"))
    assert again.remote_id == first.remote_id
    assert len(fake_mastodon.posted) == 1
    keys = [
        r.headers.get("idempotency-key")
        for r in fake_mastodon.requests
        if r.path == "/api/v1/statuses"
    ]
    assert keys == ["delivery-key", "delivery-key"]


def test_gotosocial_ignores_the_key() -> None:
    """Documented limit: on such servers only the reconciliation prevents a double post."""
    with FakeMastodon(flavour="gotosocial") as fake:
        adapter = mastodon_adapter(fake)
        adapter.publish(OutgoingPart("Once", "delivery-key"))
        adapter.publish(OutgoingPart("Once", "delivery-key"))
        assert len(fake.posted) == 2


def test_fields_are_sent(fake_mastodon: FakeMastodon) -> None:
    adapter = mastodon_adapter(fake_mastodon)
    adapter.publish(
        OutgoingPart("Text", "k", content_warning="Violence", visibility="unlisted", language="nl")
    )
    [status] = fake_mastodon.posted
    assert (status.spoiler_text, status.visibility, status.language) == (
        "Violence",
        "unlisted",
        "nl",
    )


def test_media_processing_waits_for_the_url(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.processing_polls = 3
    mastodon_adapter(fake_mastodon).publish(OutgoingPart("Processed", "k", media=(CARD,)))
    polls = [r for r in fake_mastodon.requests if r.path.startswith("/api/v1/media/")]
    assert len(polls) == 3


def test_media_processing_has_a_deadline(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.processing_polls = 10**9
    adapter = mastodon_adapter(fake_mastodon)
    adapter.settings = type(adapter.settings)(
        handle="@a", instance=fake_mastodon.url, media_deadline=0.05
    )
    with pytest.raises(ServerError, match="still processing"):
        adapter.publish(OutgoingPart("Never ready", "k", media=(CARD,)))
    assert fake_mastodon.posted == []


def test_instance_limits_are_read_once(fake_mastodon: FakeMastodon) -> None:
    adapter = mastodon_adapter(fake_mastodon)
    adapter.verify()
    adapter.verify()
    assert len([r for r in fake_mastodon.requests if "instance" in r.path]) == 1


def test_the_timeout_is_set() -> None:
    with FakeMastodon() as fake:
        assert mastodon_adapter(fake, timeout=7).api.request_timeout == 7
        assert mastodon_adapter(fake).api.ratelimit_method == "throw"
