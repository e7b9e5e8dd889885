"""Real response bodies from the platforms' documentation (tests/data/platforms, each with its
source): the adapters read them back to the text that was written, and the fakes answer in the
same shapes, so that a test passing against a fake says something about the platform.

X's media, quota and error answers are also served by the fake as recorded (a fault answering the
recorded body, after the fake has acted on the request), so the adapter parses X's own words."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_fixtures import TEST_TIMEOUT, Stopwatch, secrets_of, waiting_x_adapter, x_adapter
from fakes import FakeX, Fault
from fakes.mastodon import FakeMastodon, documented, render_html
from fakes.x import Processing, as_x_returns
from PIL import Image

from adapters.base import AdapterSettings, MediaItem, OutgoingPart
from adapters.errors import ContentRejected, CredentialsInvalid, Duplicate, OutOfQuota, RateLimited
from adapters.mastodon import (
    SCOPES,
    MastodonAdapter,
    _limits_from,
    _nodeinfo_href,
    _server,
    plain_text,
    scopes_for,
)
from adapters.x import _as_sent

BODIES = Path(__file__).parent / "data" / "platforms"


def _body(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((BODIES / name).read_text(encoding="utf-8"))
    return loaded


def _spans(content: str) -> list[tuple[str, str]]:
    return re.findall(r'<span class="([a-z]*)">([^<]*)</span>', content)


def test_mastodon_link_html_is_read_back_to_the_text_written() -> None:
    status = _body("mastodon_status_with_link.json")
    assert plain_text(status["content"], "mastodon.social") == status["_written"]


def test_the_fake_renders_a_link_as_mainline_mastodon_does() -> None:
    status = _body("mastodon_status_with_link.json")
    ours = render_html(status["_written"], "https://mastodon.social")
    assert _spans(ours) == _spans(status["content"])  # the same invisible / ellipsis split
    assert plain_text(ours, "mastodon.social") == status["_written"]


def test_mentions_hashtags_and_line_breaks_survive_the_round_trip() -> None:
    written = "Day 3 of #16Days\nwith @unwomen@mastodon.social & @local_team <3\n\nhttps://un.org"
    html = render_html(written, "https://diplo.social")
    assert "&amp;" in html and "<br />" in html and "</p><p>" in html
    assert plain_text(html, "diplo.social") == written


def test_mastodon_documented_mention_and_hashtag_are_read_back() -> None:
    bodies = _body("mastodon_content_mention_hashtag.json")
    for case in ("mention", "hashtag"):
        body = bodies[case]
        assert plain_text(body["content"], body["host"]) == body["_written"]
    mention = bodies["mention"]
    elsewhere = plain_text(mention["content"], "diplo.social")
    assert elsewhere == "@trwnh@mastodon.social sup!", "a remote mention keeps its server"


def test_the_fake_renders_mentions_and_hashtags_as_mainline_mastodon_does() -> None:
    """The documented mention, to the attribute (Mastodon 4.2 added translate="no" to it); a
    local hashtag is linked with the same class and inner markup as the documented one."""
    bodies = _body("mastodon_content_mention_hashtag.json")
    mention = bodies["mention"]
    ours = render_html(mention["_written"], "https://mastodon.social")
    assert ours.replace(' translate="no"', "") == mention["content"]
    hashtag = render_html("#cats", "https://mspsocial.net")
    tag = re.search(r'class="mention hashtag"[^>]*>(.*?)</a>', bodies["hashtag"]["content"])
    assert tag is not None and tag.group(1) == "#<span>cats</span>"
    assert 'href="https://mspsocial.net/tags/cats" class="mention hashtag"' in hashtag
    assert f">{tag.group(1)}</a>" in hashtag


# --- Mastodon: instance information, nodeinfo, OAuth metadata, errors ---------------------------


def test_mastodon_documented_instance_v2_limits() -> None:
    limits = _limits_from(_body("mastodon_instance_v2.json"), {})
    assert (limits.max_characters, limits.max_media, limits.max_image_bytes) == (500, 4, 16_777_216)
    assert (limits.characters_reserved_per_url, limits.max_alt_text) == (23, 1500)
    assert limits.assumed == frozenset()


def test_mastodon_documented_instance_v1_limits() -> None:
    """The documented v1 answer states 10 MiB images: what a server that only has v1 says."""
    v1 = _body("mastodon_instance_v1.json")
    limits = _limits_from(v1, {})
    assert (limits.max_characters, limits.max_image_bytes) == (500, 10_485_760)
    assert limits.assumed == {"max_alt_text"}  # v1 has no description_limit
    assert _server(v1, {}) == "3.5.3"


def test_mastodon_documented_nodeinfo_gives_the_upload_limit_and_the_software() -> None:
    href = _nodeinfo_href(_body("mastodon_nodeinfo_links.json"), "https://example.com")
    assert href == "https://example.com/nodeinfo/2.1.json"  # the newest schema linked
    nodeinfo = _body("mastodon_nodeinfo_2_1.json")
    limits = _limits_from({}, nodeinfo)
    assert limits.max_image_bytes == 16_000_000  # metadata.uploadLimits.general
    assert limits.assumed == {"max_characters", "max_media", "max_alt_text"}
    assert _server({}, nodeinfo) == "pleroma 2.4.1"


def test_mastodon_documented_oauth_metadata_lists_the_granular_scopes() -> None:
    assert scopes_for(_body("mastodon_oauth_server_metadata.json")) == SCOPES


@pytest.mark.parametrize(
    ("path", "documented_name"),
    [
        ("/api/v2/instance", "mastodon_instance_v2.json"),
        ("/api/v1/instance", "mastodon_instance_v1.json"),
        ("/.well-known/nodeinfo", "mastodon_nodeinfo_links.json"),
        ("/.well-known/oauth-authorization-server", "mastodon_oauth_server_metadata.json"),
    ],
)
def test_the_fake_mastodon_answers_in_the_documented_shapes(
    path: str, documented_name: str
) -> None:
    with FakeMastodon() as fake:
        answer = requests.get(fake.url + path, timeout=5).json()
    assert answer.keys() == documented(documented_name).keys()


def test_the_fake_akkoma_nodeinfo_has_the_documented_shape() -> None:
    with FakeMastodon(flavour="akkoma") as fake:
        answer = requests.get(fake.url + "/nodeinfo/2.1.json", timeout=5).json()
    expected = documented("mastodon_nodeinfo_2_1.json")
    assert answer.keys() == expected.keys()
    assert answer["metadata"].keys() == expected["metadata"].keys()
    assert answer["software"] == {"name": "akkoma", "version": "3.13.2"}


MASTODON_ERRORS = {
    "mastodon_error_401.json": (CredentialsInvalid, "401 The access token is invalid"),
    "mastodon_error_403_out_of_scope.json": (
        CredentialsInvalid,
        "403 This action is outside the authorized scopes: the token lacks a scope",
    ),
    "mastodon_error_422_validation.json": (
        ContentRejected,
        "422 Validation failed: Text can't be blank",
    ),
}


def _mastodon(fake: FakeMastodon, clock: dt.datetime) -> MastodonAdapter:
    return MastodonAdapter(
        settings=AdapterSettings(
            handle="@BelgiumInJapan", instance=fake.url, timeout=TEST_TIMEOUT, clock=lambda: clock
        ),
        credentials=secrets_of({"access_token": fake.token}),
    )


@pytest.mark.parametrize("name", sorted(MASTODON_ERRORS))
def test_mastodon_documented_errors_through_the_adapter(name: str) -> None:
    body = _body(name)
    error, message = MASTODON_ERRORS[name]
    with FakeMastodon() as fake:
        fake.fail(body["_status"], body={"error": body["error"]}, path="/api/v1/statuses")
        with pytest.raises(error) as raised:
            _mastodon(fake, DUE_AT).publish(OutgoingPart("Refused", "k-refused"))
        assert fake.posted == []
    assert f"could not post a status: {message}" in str(raised.value)


DUE_AT = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def test_mastodon_documented_rate_limit_gives_its_reset() -> None:
    """The documented 429 with Rack::Attack's headers. Mastodon.py keeps a reset only while it
    is ahead of the wall clock, so the test's reset is far ahead; the documented format
    (ISO 8601 with microseconds) is kept."""
    body = _body("mastodon_error_429.json")
    reset = dt.datetime(2999, 1, 1, 12, 5, tzinfo=dt.UTC)
    headers = {**body["_headers"], "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    assert len(body["_headers"]["X-RateLimit-Reset"]) == len(headers["X-RateLimit-Reset"])
    with FakeMastodon() as fake:
        fake.inject(
            Fault(status=429, body={"error": body["error"]}, headers=headers, path="statuses")
        )
        with pytest.raises(RateLimited) as raised:
            _mastodon(fake, DUE_AT).publish(OutgoingPart("Too many", "k-429"))
    # Mastodon.py moves the reset by the difference between our clock and the server's Date
    assert abs(raised.value.reset_at - reset) < dt.timedelta(minutes=1)
    assert "rate limited" in str(raised.value)


def test_x_links_and_entities_are_read_back_to_the_text_written() -> None:
    reply = _body("x_tweet_reply.json")
    assert _as_sent(reply["data"][0]) == reply["_written"]


def test_the_fake_shortens_links_as_x_does() -> None:
    reply = _body("x_tweet_reply.json")
    text, urls = as_x_returns(reply["_written"])
    [documented] = reply["data"][0]["entities"]["urls"]
    assert (urls[0]["start"], urls[0]["end"]) == (documented["start"], documented["end"])
    assert _as_sent({"text": text, "entities": {"urls": urls}}) == reply["_written"]


def test_x_escapes_only_between_links() -> None:
    written = "Q&A <live> at https://example.org/?a=1&copy=2 & more"
    text, urls = as_x_returns(written)
    assert "&amp;" in text and "&lt;live&gt;" in text
    assert _as_sent({"text": text, "entities": {"urls": urls}}) == written


# --- X: media, quotas and errors, as recorded ----------------------------------------------------


def _answer(recorded: dict[str, Any]) -> dict[str, Any]:
    """The body as the platform sent it: without our notes (``_source``, ``_status``, ...)."""
    return {key: value for key, value in recorded.items() if not key.startswith("_")}


def _looping_gif() -> MediaItem:
    frames = [Image.new("RGB", (40, 20), c) for c in ((255, 140, 0), (120, 40, 160))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    return MediaItem(mime="image/gif", alt="A looping card", data=buffer.getvalue())


def _answer_as_recorded(fake: FakeX, method: str, path: str, recorded: dict[str, Any]) -> None:
    """The fake acts on the next matching request, then answers X's recorded body."""
    fake.inject(Fault(status=200, body=recorded, commit_first=True, method=method, path=path))


def test_x_documented_media_answers_carry_a_chunked_upload(fake_x: FakeX) -> None:
    initialize, append, finalize, status = (
        _answer(_body(f"x_media_upload_{step}.json"))
        for step in ("initialize", "append", "finalize", "status")
    )
    media_id = initialize["data"]["id"]
    fake_x.upload_ids.append(media_id)  # the fake's upload is the one X's answers name
    fake_x.process_media(Processing(pending=1, in_progress=0))  # pending, then succeeded
    _answer_as_recorded(fake_x, "POST", "/initialize$", initialize)
    _answer_as_recorded(fake_x, "POST", "/append$", append)
    _answer_as_recorded(fake_x, "POST", "/finalize$", finalize)
    _answer_as_recorded(fake_x, "GET", "^/2/media/upload$", status)
    watch = Stopwatch()
    published = waiting_x_adapter(fake_x, watch, deadline=60).publish(
        OutgoingPart("Loop", "k", media=(_looping_gif(),))
    )
    assert published.media_ids == (media_id,)
    assert watch.sleeps == [finalize["data"]["processing_info"]["check_after_secs"]]
    assert fake_x.uploads[media_id].steps == ["initialize", "append", "finalize", "status"]
    assert fake_x.posted[0].media_ids == [media_id]


def test_x_documented_processing_states_in_progress_then_failed(fake_x: FakeX) -> None:
    recorded = _body("x_media_upload_status_v1.json")
    media_id = recorded["failed"]["media_id_string"]
    fake_x.upload_ids.append(media_id)
    for state in ("in_progress", "failed"):
        data = {"id": media_id, "processing_info": recorded[state]["processing_info"]}
        _answer_as_recorded(fake_x, "GET", "^/2/media/upload$", {"data": data})
    watch = Stopwatch()
    with pytest.raises(ContentRejected, match=r"Unsupported video format \(InvalidMedia\)"):
        adapter = waiting_x_adapter(fake_x, watch, deadline=60)
        adapter.publish(OutgoingPart("Loop", "k", media=(_looping_gif(),)))
    in_progress = recorded["in_progress"]["processing_info"]
    assert watch.sleeps == [1, in_progress["check_after_secs"]]  # the fake's pending, then X's
    assert fake_x.posted == []


def test_the_fake_answers_media_in_x_documented_shapes(fake_x: FakeX) -> None:
    adapter, gif = x_adapter(fake_x), _looping_gif()
    data = gif.read()
    init = {"media_type": "image/gif", "total_bytes": len(data), "media_category": "tweet_gif"}
    ours = adapter._signed("POST", "/2/media/upload/initialize", json=init)
    media_id = ours["data"]["id"]
    appended = adapter._signed(
        "POST",
        f"/2/media/upload/{media_id}/append",
        data={"segment_index": "0"},
        files={"media": ("blob", data, "application/octet-stream")},
    )
    finalized = adapter._signed("POST", f"/2/media/upload/{media_id}/finalize")
    status = adapter._signed("GET", "/2/media/upload", params={"media_id": media_id})
    documented = {
        step: _answer(_body(f"x_media_upload_{step}.json"))["data"]
        for step in ("initialize", "append", "finalize", "status")
    }
    assert set(ours["data"]) == set(documented["initialize"])
    assert set(appended["data"]) == set(documented["append"])
    assert set(finalized["data"]) == set(documented["finalize"])
    assert finalized["data"]["processing_info"] == documented["finalize"]["processing_info"]
    assert set(status["data"]) == set(documented["status"])
    assert set(status["data"]["processing_info"]) == set(documented["status"]["processing_info"])
    assert status["data"]["processing_info"]["state"] == "in_progress"
    failed = _body("x_media_upload_status_v1.json")["failed"]["processing_info"]
    assert next(Processing(fails=True, pending=0, in_progress=0).states()) == {
        "state": "failed",
        "progress_percent": 0,
        "error": failed["error"],
    }


def test_x_usage_cap_answer_is_out_of_quota(fake_x: FakeX) -> None:
    recorded = _body("x_usage_cap_exceeded.json")
    fake_x.fail(recorded["_status"], body=_answer(recorded), path="^/2/tweets$")
    with pytest.raises(OutOfQuota, match="monthly usage cap") as raised:
        x_adapter(fake_x).publish(OutgoingPart("Over the cap", "k"))
    assert recorded["detail"] in str(raised.value)
    ours = fake_x.usage_cap().body
    assert set(ours) == set(_answer(recorded))
    kept = ("title", "period", "scope", "detail", "type")
    assert {k: ours[k] for k in kept} == {k: recorded[k] for k in kept}


def test_x_documented_rate_limit_answer_gives_its_reset(fake_x: FakeX) -> None:
    recorded = _body("x_rate_limit_429.json")
    fake_x.inject(
        Fault(
            status=recorded["_status"],
            body=_answer(recorded),
            headers=recorded["_headers"],
            path="^/2/tweets$",
        )
    )
    with pytest.raises(RateLimited) as raised:
        x_adapter(fake_x).publish(OutgoingPart("Too many", "k"))
    reset = int(recorded["_headers"]["x-rate-limit-reset"])
    assert raised.value.reset_at == dt.datetime.fromtimestamp(reset, dt.UTC)


def test_x_duplicate_answer_is_a_duplicate_and_the_fake_gives_it(fake_x: FakeX) -> None:
    recorded = _body("x_duplicate_403.json")
    adapter = x_adapter(fake_x)
    fake_x.fail(recorded["_status"], body=_answer(recorded), path="^/2/tweets$")
    with pytest.raises(Duplicate):
        adapter.publish(OutgoingPart("Said once", "k1"))
    adapter.publish(OutgoingPart("Said twice", "k2"))
    with pytest.raises(Duplicate) as raised:
        adapter.publish(OutgoingPart("Said twice", "k3"))
    answer = raised.value.__cause__.response  # type: ignore[union-attr]
    assert (answer.status_code, answer.json()) == (recorded["_status"], _answer(recorded))
