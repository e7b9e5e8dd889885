"""Mastodon specifics: the version trap, servers that are not mainline Mastodon, idempotency,
media processing with a deadline, instance limits (and where they come from when a server does
not give them), scopes, the account id read once, and ids as strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from fake_fixtures import TEST_TIMEOUT, mastodon_adapter, png
from fakes import FakeMastodon
from fakes.mastodon import documented
from fakes.server import Fault
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonNotFoundError

from adapters.base import MediaItem, OutgoingPart, PostMetrics
from adapters.errors import CredentialsInvalid, RateLimited, ServerError
from adapters.mastodon import (
    CLASSIC_SCOPES,
    OUT_OF_BAND,
    SCOPES,
    MastodonAuthorization,
    _reset_header,
    scopes_for,
)

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
    fake_mastodon.fail(500, path="instance|nodeinfo", times=None)
    adapter = mastodon_adapter(fake_mastodon)
    check = adapter.verify()
    assert check.limits.max_characters == 500 and check.server is None
    assert getattr(check.limits, "assumed", None) == {
        "max_characters", "max_media", "max_image_bytes", "max_alt_text"
    }  # fmt: skip
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


# --- where the limits come from -----------------------------------------------------------------

V1_ONLY_WITHOUT_SLASH = {"/api/v2/instance", "/api/v2/instance/", "/api/v1/instance/"}
NO_INSTANCE_INFORMATION = V1_ONLY_WITHOUT_SLASH | {"/api/v1/instance"}


def asked(fake: FakeMastodon) -> list[str]:
    return [r.path for r in fake.requests if "instance" in r.path or "nodeinfo" in r.path]


def test_v1_is_asked_without_the_slash_mastodon_py_adds() -> None:
    """A server that answers /api/v1/instance only as documented: 10 MiB images, not the
    16 MiB default."""
    with FakeMastodon(image_size_limit=10_485_760, absent=V1_ONLY_WITHOUT_SLASH) as fake:
        check = mastodon_adapter(fake).verify()
        assert asked(fake) == ["/api/v2/instance", "/api/v1/instance"]
    assert check.limits.max_image_bytes == 10_485_760
    # v1 has no description_limit: only the alt-text limit is the default
    assert getattr(check.limits, "assumed", None) == {"max_alt_text"}
    assert check.server == "4.3.2"


def test_the_sdk_asks_v1_with_a_slash(fake_mastodon: FakeMastodon) -> None:
    """Why the adapter asks itself: Mastodon.py's instance_v1 gets the server's 404."""
    fake_mastodon.absent.add("/api/v1/instance/")
    api = Mastodon(api_base_url=fake_mastodon.url, request_timeout=TEST_TIMEOUT)
    with pytest.raises(MastodonNotFoundError):
        api.instance_v1()
    assert asked(fake_mastodon) == ["/api/v1/instance/"]


def test_akkoma_limits_from_nodeinfo_when_no_instance_information_answers() -> None:
    with FakeMastodon(
        flavour="akkoma", image_size_limit=8_000_000, absent=NO_INSTANCE_INFORMATION
    ) as fake:
        check = mastodon_adapter(fake).verify()
        assert asked(fake)[-2:] == ["/.well-known/nodeinfo", "/nodeinfo/2.1.json"]
    assert check.limits.max_image_bytes == 8_000_000  # metadata.uploadLimits.general
    assert getattr(check.limits, "assumed", None) == {"max_characters", "max_media", "max_alt_text"}
    assert check.limits.max_characters == 500
    assert check.server == "akkoma 3.13.2"


@pytest.mark.parametrize(
    ("flavour", "server"), [("mastodon", "mastodon 4.3.2"), ("gotosocial", "gotosocial 0.17.0")]
)
def test_nodeinfo_without_limits_says_who_the_server_is(flavour: str, server: str) -> None:
    with FakeMastodon(flavour=flavour, absent=NO_INSTANCE_INFORMATION) as fake:
        check = mastodon_adapter(fake).verify()
        assert asked(fake)[-1] == "/nodeinfo/2.0"
    assert check.server == server
    assert len(getattr(check.limits, "assumed", ())) == 4


def test_nothing_answers_every_limit_is_assumed() -> None:
    absent = NO_INSTANCE_INFORMATION | {"/.well-known/nodeinfo"}
    with FakeMastodon(max_characters=5000, absent=absent) as fake:
        check = mastodon_adapter(fake).verify()
    assert (check.limits.max_characters, check.limits.max_image_bytes) == (500, 16_777_216)
    assert len(getattr(check.limits, "assumed", ())) == 4
    assert check.server is None


def test_a_web_page_where_the_instance_information_should_be(fake_mastodon: FakeMastodon) -> None:
    """Some servers answer 200 with their web app for paths they do not know."""
    fake_mastodon.fail(200, body="<!doctype html><title>Mastodon</title>", path="/api/v2/")
    fake_mastodon.image_size_limit = 9_000_000
    check = mastodon_adapter(fake_mastodon).verify()
    assert check.limits.max_image_bytes == 9_000_000
    assert asked(fake_mastodon) == ["/api/v2/instance", "/api/v1/instance"]


def test_a_rate_limited_instance_probe_is_not_taken_for_silence(
    fake_mastodon: FakeMastodon,
) -> None:
    reset = dt.datetime(2999, 1, 1, 12, 5, tzinfo=dt.UTC)
    fake_mastodon.rate_limit(reset, path="/api/v2/instance")
    with pytest.raises(RateLimited) as raised:
        mastodon_adapter(fake_mastodon).verify()
    assert raised.value.reset_at == reset  # X-RateLimit-Reset, as Mastodon sends it
    assert "nodeinfo" not in " ".join(asked(fake_mastodon))


@pytest.mark.parametrize(
    ("header", "reset"),
    [
        ("2026-11-25T12:05:00.000000Z", dt.datetime(2026, 11, 25, 12, 5, tzinfo=dt.UTC)),
        ("2026-11-25T12:04:59.250000Z", dt.datetime(2026, 11, 25, 12, 5, tzinfo=dt.UTC)),
        ("1795608300", dt.datetime(2026, 11, 25, 12, 5, tzinfo=dt.UTC)),
        ("soon", None),
        (None, None),
    ],
)
def test_rate_limit_reset_header(header: str | None, reset: dt.datetime | None) -> None:
    """Mastodon's ISO 8601 (to the next second) and GoToSocial's Unix seconds."""
    expected = None if reset is None else int(reset.timestamp())
    assert _reset_header(header) == expected


def test_alt_text_limit_from_the_instance(fake_mastodon: FakeMastodon) -> None:
    check = mastodon_adapter(fake_mastodon).verify()
    assert check.limits.max_alt_text == 1500  # configuration.media_attachments.description_limit
    assert getattr(check.limits, "assumed", None) == frozenset()


# --- scopes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "scopes"),
    [
        ({"scopes_supported": ["read", "write", *SCOPES, "profile"]}, SCOPES),
        ({"scopes_supported": ["read", "write", *SCOPES[:2]]}, CLASSIC_SCOPES),
        ({}, CLASSIC_SCOPES),
        ({"scopes_supported": "read write"}, CLASSIC_SCOPES),
    ],
)
def test_scopes_for_what_the_server_lists(metadata: dict[str, Any], scopes: list[str]) -> None:
    assert scopes_for(metadata) == scopes


def browser_code(fake: FakeMastodon, url: str) -> str:
    """What a person sees at ``url``: the code on the fake's authorize page."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200, page.text
    return page.text.split('value="')[1].split('"')[0]


def test_a_classic_scopes_server_is_asked_for_read_and_write() -> None:
    with FakeMastodon(scopes="classic") as fake:
        flow = MastodonAuthorization(base_url=fake.url, timeout=2)
        url = flow.authorization_url()
        token = flow.finish(browser_code(fake, url))["access_token"].reveal()
        (app,) = fake.apps.values()
        assert app.scopes == tuple(CLASSIC_SCOPES) == fake.tokens[token].scopes
        assert "scope=read+write" in url
        adapter = mastodon_adapter(fake, credentials={"access_token": token})
        assert adapter.verify().handle == "@BelgiumInJapan"


def test_a_modern_server_is_asked_for_the_granular_scopes(fake_mastodon: FakeMastodon) -> None:
    flow = MastodonAuthorization(base_url=fake_mastodon.url, timeout=2)
    url = flow.authorization_url()
    token = flow.finish(browser_code(fake_mastodon, url))["access_token"].reveal()
    assert fake_mastodon.tokens[token].scopes == tuple(SCOPES)
    assert "/.well-known/oauth-authorization-server" in [r.path for r in fake_mastodon.requests]
    credentials = {"access_token": token}
    published = mastodon_adapter(fake_mastodon, credentials=credentials).publish(
        OutgoingPart("Granular scopes are enough", "k")
    )
    since = fake_mastodon.posted[0].created_at - dt.timedelta(minutes=1)
    found = mastodon_adapter(fake_mastodon, credentials=credentials).find_published(
        OutgoingPart("Granular scopes are enough", "k"), since=since
    )
    assert found is not None and found.remote_id == published.remote_id


def test_the_classic_server_refuses_granular_scopes() -> None:
    """The fake as a server that knows only the classic scopes: what the adapter used to ask
    for is refused at app registration, as Doorkeeper refuses it."""
    with FakeMastodon(scopes="classic") as fake:
        answer = requests.post(
            f"{fake.url}/api/v1/apps",
            data={
                "client_name": "campaign-scheduler",
                "redirect_uris": OUT_OF_BAND,
                "scopes": " ".join(SCOPES),
            },
            timeout=5,
        )
        assert answer.status_code == 422
        assert answer.json() == {
            "error": "Validation failed: Scopes doesn't match configured on the server."
        }
        assert not fake.apps
        meta = requests.get(f"{fake.url}/.well-known/oauth-authorization-server", timeout=5)
        assert meta.status_code == 404


def test_a_token_without_read_is_refused_verify_credentials() -> None:
    with FakeMastodon(scopes="classic") as fake:
        fake.add_account("writeonly", token="write-only-token", scopes=("write",))
        adapter = mastodon_adapter(fake, credentials={"access_token": "write-only-token"})
        with pytest.raises(CredentialsInvalid) as refused:
            adapter.verify()
    message = str(refused.value)
    assert "403 This action is outside the authorized scopes" in message
    assert "campaign auth mastodon" in message


def test_reconciliation_on_a_classic_scopes_server() -> None:
    """A read write token settles a lost post: verify_credentials once, then the listing and
    each candidate's source."""
    with FakeMastodon(scopes="classic") as fake:
        flow = MastodonAuthorization(base_url=fake.url, timeout=2)
        token = flow.finish(browser_code(fake, flow.authorization_url()))["access_token"]
        credentials = {"access_token": token.reveal()}
        fake.commit_then_drop(path="/api/v1/statuses")
        lost = OutgoingPart("Orange the World: did it go out?", "k-lost")
        with pytest.raises(Exception, match="no answer"):
            mastodon_adapter(fake, credentials=credentials).publish(lost)
        since = fake.posted[0].created_at - dt.timedelta(minutes=1)
        adapter = mastodon_adapter(fake, credentials=credentials)
        found = adapter.find_published(lost, since=since)
        again = adapter.find_published(lost, since=since)
        assert found is not None and again == found
        assert found.remote_id == fake.posted[0].id
        verifies = [r for r in fake.requests if r.path.endswith("/verify_credentials")]
        assert len(verifies) == 1, "the account id is read once per adapter"


def test_verify_gives_the_account_id_to_later_lookups(fake_mastodon: FakeMastodon) -> None:
    adapter = mastodon_adapter(fake_mastodon)
    check = adapter.verify()
    adapter.find_published(OutgoingPart("Nothing sent", "k"), since=dt.datetime(2026, 1, 1))
    verifies = [r for r in fake_mastodon.requests if r.path.endswith("/verify_credentials")]
    assert len(verifies) == 1
    listed = [r.path for r in fake_mastodon.requests if r.path.endswith("/statuses")]
    assert listed == [f"/api/v1/accounts/{check.account_id}/statuses"]


# --- ids are strings ------------------------------------------------------------------------------


def test_reply_targets_and_ids_are_strings(fake_mastodon: FakeMastodon) -> None:
    """A reply is recognised by its target, compared as the string the part holds (Mastodon.py
    gives ids as its own str subclass, and its 1.x releases gave ints)."""
    adapter = mastodon_adapter(fake_mastodon)
    first = adapter.publish(OutgoingPart("Thread one", "k1"))
    second = adapter.publish(OutgoingPart("Thread two", "k2"))
    adapter.publish(OutgoingPart("Read more below", "k3", in_reply_to=first.remote_id))
    reply = adapter.publish(OutgoingPart("Read more below", "k4", in_reply_to=second.remote_id))
    since = fake_mastodon.posted[0].created_at - dt.timedelta(minutes=1)
    lost = OutgoingPart("Read more below", "k4", in_reply_to=second.remote_id)
    found = mastodon_adapter(fake_mastodon).find_published(lost, since=since)
    assert found is not None and found.remote_id == reply.remote_id
    check = adapter.verify()
    for value in (found.remote_id, reply.remote_id, check.account_id):
        assert type(value) is str
    assert fake_mastodon.posted[-1].in_reply_to_id == second.remote_id


# --- engagement counts ----------------------------------------------------------------------


def test_mastodon_counts_are_read_from_the_documented_status(fake_mastodon: FakeMastodon) -> None:
    status = documented("mastodon_status_counts.json")
    fake_mastodon.inject(Fault(200, [status], method="GET", path="^/api/v1/statuses$"))
    found = mastodon_adapter(fake_mastodon).fetch_metrics([status["id"]])
    assert found == [PostMetrics(status["id"], {"replies": 5, "reblogs": 6, "favourites": 11})]


def test_the_fakes_status_has_the_documented_counts(fake_mastodon: FakeMastodon) -> None:
    adapter = mastodon_adapter(fake_mastodon)
    published = adapter.publish(OutgoingPart(text="Counted", idempotency_key="k-counted"))
    fake_mastodon.set_counts(published.remote_id, reblogs_count=2)
    status = adapter.api.status(published.remote_id)
    counts = {k: v for k, v in documented("mastodon_status_counts.json").items() if "count" in k}
    assert {name: status[name] for name in counts} == {
        "replies_count": 0,
        "reblogs_count": 2,
        "favourites_count": 0,
    }


def test_the_fake_refuses_more_statuses_than_mastodon_takes(fake_mastodon: FakeMastodon) -> None:
    adapter = mastodon_adapter(fake_mastodon)
    with pytest.raises(MastodonAPIError) as raised:
        adapter.api.statuses([str(113_000_000_000_100_000 + n) for n in range(21)])
    assert 422 in raised.value.args


@pytest.mark.parametrize("flavour", ["gotosocial", "akkoma"])
def test_servers_without_the_batch_are_read_one_status_at_a_time(flavour: str) -> None:
    with FakeMastodon(flavour=flavour) as fake:
        adapter = mastodon_adapter(fake)
        published = adapter.publish(OutgoingPart(text="Counted", idempotency_key="k"))
        fake.set_counts(published.remote_id, favourites_count=1, replies_count=2)
        [metrics] = adapter.fetch_metrics([published.remote_id])
        assert metrics.counts == {"replies": 2, "reblogs": 0, "favourites": 1}


def test_a_token_that_may_not_read_statuses_is_told_to_authorize_again(
    fake_mastodon: FakeMastodon,
) -> None:
    fake_mastodon.add_account("WriteOnly", token="write-only", scopes=("write:statuses",))
    adapter = mastodon_adapter(fake_mastodon, credentials={"access_token": "write-only"})
    with pytest.raises(CredentialsInvalid, match="authorize the account again"):
        adapter.fetch_metrics(["113000000000000001"])
