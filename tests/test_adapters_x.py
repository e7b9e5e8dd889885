"""X specifics: the v2 media upload (one request for a still image, the chunked endpoints for
large images and animated GIFs, X's processing states and its deadline) with alt text, reply
settings, the monthly usage cap, 24-hour limits, 402, duplicate content, signatures, timeouts."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from fake_fixtures import (
    Stopwatch,
    waiting_x_adapter,
    x_adapter,
)
from fakes import FakeX
from fakes.mastodon import documented
from fakes.server import Fault, Request
from fakes.x import COMMAND_REFUSED, Processing
from PIL import Image
from tweepy.errors import HTTPException

from adapters.base import MediaItem, OutgoingPart, PostMetrics
from adapters.errors import (
    ContentRejected,
    CredentialsInvalid,
    Duplicate,
    OutOfQuota,
    PermanentError,
    RateLimited,
    ServerError,
    TransientError,
)


def gif(frames: int = 2) -> bytes:
    colours = [(255, 140, 0), (120, 40, 160), (0, 0, 0)][:frames]
    images = [Image.new("RGB", (40, 20), colour) for colour in colours]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=frames > 1, append_images=images[1:], duration=100)
    return buffer.getvalue()


def media_requests(fake: FakeX) -> list[Request]:
    return [r for r in fake.requests if r.path.startswith("/2/media/upload")]


def no_command(request: Request) -> bool:
    """The deprecated ``command`` appears nowhere: not in the query, the form or a JSON body."""
    content_type = request.headers.get("content-type", "")
    body = request.json() if content_type.startswith("application/json") else {}
    return (
        "command" not in request.query
        and "command" not in request.form()
        and (not isinstance(body, dict) or "command" not in body)
    )


# --- media --------------------------------------------------------------------------------------


def test_small_images_upload_in_one_request(fake_x: FakeX) -> None:
    item = MediaItem(mime="image/png", alt="A card", data=b"\x89PNG" * 10)
    x_adapter(fake_x).publish(OutgoingPart("One card", "k", media=(item,)))
    [upload] = fake_x.uploads.values()
    assert (upload.steps, upload.alt_text, upload.data) == (["upload"], "A card", item.data)
    [request] = media_requests(fake_x)
    assert (request.method, request.path) == ("POST", "/2/media/upload")
    assert request.headers["content-type"].startswith("multipart/form-data")
    form = request.form()
    assert set(form) == {"media", "media_category"}
    assert form["media_category"] == [b"tweet_image"] and form["media"] == [item.data]


def test_large_images_upload_in_chunks(fake_x: FakeX) -> None:
    data = bytes(range(256)) * 10  # 2,560 bytes, in chunks of 1,000
    item = MediaItem(mime="image/png", alt="A big card", data=data)
    published = x_adapter(fake_x, chunk_size=1000).publish(
        OutgoingPart("Big card", "k", media=(item,))
    )
    media_id = published.media_ids[0]
    upload = fake_x.uploads[media_id]
    assert upload.steps == ["initialize", "append", "append", "append", "finalize"]
    assert upload.data == data and upload.alt_text == "A big card"
    assert fake_x.posted[0].media_ids == list(published.media_ids)

    initialize, *appends, finalize = media_requests(fake_x)
    assert (initialize.method, initialize.path) == ("POST", "/2/media/upload/initialize")
    assert initialize.headers["content-type"] == "application/json"
    assert initialize.json() == {
        "media_type": "image/png",
        "total_bytes": 2560,
        "media_category": "tweet_image",
    }
    assert [a.path for a in appends] == [f"/2/media/upload/{media_id}/append"] * 3
    for index, append in enumerate(appends):
        assert append.headers["content-type"].startswith("multipart/form-data")
        form = append.form()
        assert set(form) == {"media", "segment_index"}
        assert form["segment_index"] == [str(index).encode()]
        assert form["media"] == [data[index * 1000 : (index + 1) * 1000]]
    assert (finalize.method, finalize.path) == ("POST", f"/2/media/upload/{media_id}/finalize")
    assert finalize.body == b""
    assert all(no_command(r) for r in media_requests(fake_x))


def test_the_fake_refuses_the_deprecated_command_form(fake_x: FakeX) -> None:
    adapter = x_adapter(fake_x)
    init = {"command": "INIT", "media_type": "image/png", "total_bytes": "4"}
    with pytest.raises(HTTPException) as raised:
        adapter._signed("POST", "/2/media/upload", data=init, files={"_": (None, "")})
    answer = raised.value.response
    assert answer.status_code == 400
    assert answer.json() == {
        "errors": [{"message": COMMAND_REFUSED}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    with pytest.raises(HTTPException):
        adapter._signed("GET", "/2/media/upload", params={"command": "INIT", "media_id": "1"})
    assert fake_x.uploads == {}


def test_the_fake_takes_no_gif_in_one_request(fake_x: FakeX) -> None:
    with pytest.raises(HTTPException) as raised:
        x_adapter(fake_x)._signed(
            "POST",
            "/2/media/upload",
            data={"media_category": "tweet_gif"},
            files={"media": ("a.gif", gif(), "image/gif")},
        )
    assert raised.value.response.status_code == 400 and fake_x.uploads == {}


def test_animated_gifs_are_chunked_and_wait_for_processing(fake_x: FakeX) -> None:
    fake_x.process_media(Processing(pending=1, in_progress=2, check_after_secs=3))
    watch = Stopwatch()
    item = MediaItem(mime="image/gif", alt="A looping card", data=gif())
    adapter = waiting_x_adapter(fake_x, watch, deadline=30)
    published = adapter.publish(OutgoingPart("Loop", "k", media=(item,)))

    [media_id] = published.media_ids
    upload = fake_x.uploads[media_id]
    assert upload.category == "tweet_gif" and upload.data == item.data
    assert upload.steps == ["initialize", "append", "finalize", "status", "status", "status"]
    assert upload.processing_info == {"state": "succeeded", "progress_percent": 100}
    assert watch.sleeps == [3, 3, 3]  # X's check_after_secs, before each status request
    initialize = media_requests(fake_x)[0]
    assert initialize.json()["media_category"] == "tweet_gif"
    assert initialize.json()["media_type"] == "image/gif"
    statuses = [r for r in media_requests(fake_x) if r.method == "GET"]
    assert [(r.path, r.query) for r in statuses] == [
        ("/2/media/upload", {"media_id": [media_id]})
    ] * 3
    assert fake_x.posted[0].media_ids == [media_id]
    assert fake_x.uploads[media_id].alt_text == "A looping card"


def test_a_gif_that_does_not_move_is_an_image(fake_x: FakeX) -> None:
    item = MediaItem(mime="image/gif", alt="A still card", data=gif(frames=1))
    x_adapter(fake_x).publish(OutgoingPart("Still", "k", media=(item,)))
    [upload] = fake_x.uploads.values()
    assert (upload.steps, upload.category) == (["upload"], "tweet_image")


def test_processing_that_never_ends_stops_at_the_deadline(fake_x: FakeX) -> None:
    fake_x.process_media(Processing(in_progress=None, check_after_secs=1))
    watch = Stopwatch()
    item = MediaItem(mime="image/gif", alt="A card that never ends", data=gif())
    with pytest.raises(ServerError) as raised:
        waiting_x_adapter(fake_x, watch, deadline=5).publish(
            OutgoingPart("Never", "k", media=(item,))
        )
    assert isinstance(raised.value, TransientError)  # retried later, the GIF uploaded again
    message = str(raised.value)
    assert 'image 1 of 1 (image/gif, alt "A card that never ends")' in message
    assert "still processing" in message and "after 5 s" in message and "in_progress" in message
    [upload] = fake_x.uploads.values()
    assert upload.steps.count("status") == 5 and watch.sleeps == [1] * 5
    assert fake_x.posted == []


def test_the_last_wait_ends_at_the_deadline(fake_x: FakeX) -> None:
    """X may ask to check back later than the deadline allows: the adapter looks once more at
    the deadline, then gives up, rather than sleeping past it."""
    fake_x.process_media(Processing(in_progress=None, check_after_secs=60))
    watch = Stopwatch()
    item = MediaItem(mime="image/gif", alt="Slow", data=gif())
    with pytest.raises(ServerError):
        waiting_x_adapter(fake_x, watch, deadline=5).publish(
            OutgoingPart("Slow", "k", media=(item,))
        )
    assert watch.sleeps == [5]
    assert next(iter(fake_x.uploads.values())).steps.count("status") == 1


def test_failed_processing_is_a_permanent_error_naming_the_image(fake_x: FakeX) -> None:
    fake_x.process_media(Processing(pending=0, in_progress=1, fails=True))
    watch = Stopwatch()
    card = MediaItem(mime="image/png", alt="First card", data=b"\x89PNG" * 4)
    looping = MediaItem(mime="image/gif", alt="A looping card", data=gif())
    with pytest.raises(ContentRejected) as raised:
        waiting_x_adapter(fake_x, watch).publish(OutgoingPart("Two", "k", media=(card, looping)))
    assert isinstance(raised.value, PermanentError)
    message = str(raised.value)
    assert "@BelgiumInJapan" in message
    assert 'image 2 of 2 (image/gif, alt "A looping card")' in message
    assert "Unsupported video format (InvalidMedia)" in message
    assert fake_x.posted == []


def test_media_still_processing_cannot_be_posted(fake_x: FakeX) -> None:
    """The fake holds X's rule the wait exists for: a media id is usable once processed."""
    fake_x.process_media(Processing(in_progress=None))
    adapter = x_adapter(fake_x)
    data = gif()
    media_id = adapter._signed(
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": "image/gif", "total_bytes": len(data), "media_category": "tweet_gif"},
    )["data"]["id"]
    adapter._signed(
        "POST",
        f"/2/media/upload/{media_id}/append",
        data={"segment_index": "0"},
        files={"media": ("blob", data, "application/octet-stream")},
    )
    adapter._signed("POST", f"/2/media/upload/{media_id}/finalize")
    with pytest.raises(HTTPException) as raised:
        adapter.client.create_tweet(text="Too early", media_ids=[media_id])
    assert raised.value.response.status_code == 400 and fake_x.posted == []


# --- reply settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "sent"),
    [("everyone", None), ("following", "following"), ("mentioned", "mentionedUsers")],
)
def test_reply_settings(fake_x: FakeX, replies: str, sent: str | None) -> None:
    x_adapter(fake_x).publish(OutgoingPart("Replies", "k", replies=replies))
    assert fake_x.posted[0].reply_settings == sent


def test_reply_settings_go_on_the_first_post_of_a_thread_only(fake_x: FakeX) -> None:
    adapter = x_adapter(fake_x)
    first = adapter.publish(OutgoingPart("1/3 Who may answer", "k1", replies="following"))
    second = adapter.publish(
        OutgoingPart(
            "2/3 inherits it", "k2", replies="following", in_reply_to=first.remote_id,
            thread_root=first.remote_id,
        )
    )  # fmt: skip
    adapter.publish(
        OutgoingPart(
            "3/3 too", "k3", replies="following", in_reply_to=second.remote_id,
            thread_root=first.remote_id,
        )
    )  # fmt: skip
    assert [t.reply_settings for t in fake_x.posted] == ["following", None, None]
    bodies = [r.json() for r in fake_x.requests if r.path == "/2/tweets"]
    assert ["reply_settings" in body for body in bodies] == [True, False, False]


# --- quotas and rate limits ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["^/2/tweets$", "^/2/media/upload$"])
def test_the_monthly_usage_cap_is_out_of_quota_not_a_rate_limit(fake_x: FakeX, path: str) -> None:
    fake_x.usage_cap(path=path)
    item = MediaItem(mime="image/png", alt="A card", data=b"\x89PNG" * 4)
    with pytest.raises(OutOfQuota) as raised:
        x_adapter(fake_x).publish(OutgoingPart("Over the cap", "k", media=(item,)))
    assert not isinstance(raised.value, RateLimited)
    message = str(raised.value)
    assert "monthly usage cap" in message and "Usage cap exceeded: Monthly product cap" in message
    assert fake_x.posted == []


def test_a_daily_usage_cap_waits_a_day(fake_x: FakeX) -> None:
    fake_x.usage_cap(period="Daily", path="^/2/tweets$")
    before = dt.datetime.now(dt.UTC)
    with pytest.raises(RateLimited) as raised:
        x_adapter(fake_x).publish(OutgoingPart("Over today's cap", "k"))
    assert "daily usage cap" in str(raised.value)
    assert raised.value.reset_at - before >= dt.timedelta(hours=23, minutes=59)


def _in(hours: float) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).replace(microsecond=0)


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"user": 3}, 3),  # the user's 24-hour posting limit
        ({"app": 5}, 5),  # the app's
        ({"user": 3, "app": 7}, 7),  # both spent: the later reset
        ({"user": 3, "app": 7, "app_remaining": 40}, 3),  # only the user's is spent
    ],
)
def test_24_hour_limits_give_the_reset(
    fake_x: FakeX, limits: dict[str, int], expected: float
) -> None:
    resets: dict[str, Any] = {k: _in(v) for k, v in limits.items() if k in ("user", "app")}
    fake_x.daily_limit(**resets, app_remaining=limits.get("app_remaining", 0), path="^/2/tweets$")
    with pytest.raises(RateLimited) as raised:
        x_adapter(fake_x).publish(OutgoingPart("Too many today", "k"))
    headers = raised.value.__cause__.response.headers  # type: ignore[union-attr]
    assert "x-rate-limit-reset" not in headers  # the answer carried the 24-hour headers only
    assert abs(raised.value.reset_at - _in(expected)) <= dt.timedelta(seconds=2)


def test_an_exhausted_window_and_a_spent_day_wait_for_the_later(fake_x: FakeX) -> None:
    reset = _in(9)
    fake_x.daily_limit(user=reset, path="^/2/tweets$")
    fake_x.faults[-1].headers.update(
        fake_x.rate_limit_headers(limit=100, remaining=0, reset_at=_in(0.25))
    )
    with pytest.raises(RateLimited) as raised:
        x_adapter(fake_x).publish(OutgoingPart("Both", "k"))
    assert abs(raised.value.reset_at - reset) <= dt.timedelta(seconds=2)


def test_out_of_credits_is_out_of_quota(fake_x: FakeX) -> None:
    fake_x.fail(402, path="/2/tweets")
    with pytest.raises(OutOfQuota, match="credits"):
        x_adapter(fake_x).publish(OutgoingPart("No credit", "k"))


# --- the rest -----------------------------------------------------------------------------------


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


def test_signed_json_bodies_reach_the_fake_intact(fake_x: FakeX) -> None:
    """The JSON initialize is signed as tweepy signs (the body is not a signed parameter)."""
    body = x_adapter(fake_x)._signed(
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": "image/png", "total_bytes": 4, "media_category": "tweet_image"},
    )
    assert set(body["data"]) == {"id", "media_key", "expires_after_secs"}
    assert json.loads(media_requests(fake_x)[0].body)["total_bytes"] == 4


# --- engagement counts ----------------------------------------------------------------------


def lookups(fake: FakeX) -> list[Request]:
    return [r for r in fake.requests if r.method == "GET" and r.path == "/2/tweets"]


def test_x_counts_are_read_from_xs_documented_answer(fake_x: FakeX) -> None:
    fake_x.inject(
        Fault(200, documented("x_tweets_public_metrics.json"), method="GET", path="^/2/tweets$")
    )
    found = x_adapter(fake_x).fetch_metrics(["1263150595717730305", "1276230436478386177"])
    assert found == [
        PostMetrics(
            "1263150595717730305", {"likes": 49, "retweets": 12, "replies": 14, "quotes": 7}
        )
    ]  # no impression_count in that answer: no impressions, not 0 of them; the deleted left out


def test_x_refusing_non_public_metrics_is_asked_again_without_them_once(fake_x: FakeX) -> None:
    adapter = x_adapter(fake_x)
    published = adapter.publish(OutgoingPart(text="Counted publicly", idempotency_key="k-pub"))
    fake_x.inject(
        Fault(
            200,
            documented("x_tweets_non_public_metrics_refused.json"),
            method="GET",
            path="^/2/tweets$",
        )
    )
    [first] = adapter.fetch_metrics([published.remote_id])
    [again] = adapter.fetch_metrics([published.remote_id])
    assert first == again and "impressions" in first.counts
    assert not {"impressions_private", "url_clicks", "profile_clicks"} & set(first.counts)
    assert [r.arg("tweet.fields") for r in lookups(fake_x)] == [
        "public_metrics,non_public_metrics",
        "public_metrics",
        "public_metrics",
    ]


def test_x_non_public_metrics_where_the_token_may_read_them() -> None:
    with FakeX(private_metrics=True) as fake:
        adapter = x_adapter(fake)
        published = adapter.publish(OutgoingPart(text="Counted privately", idempotency_key="k"))
        private = {"impression_count": 900, "url_link_clicks": 12, "user_profile_clicks": 3}
        fake.set_counts(published.remote_id, impression_count=None, non_public=private)
        [metrics] = adapter.fetch_metrics([published.remote_id])
        assert metrics.counts == {
            "likes": 0,
            "retweets": 0,
            "replies": 0,
            "quotes": 0,
            "bookmarks": 0,
            "impressions_private": 900,
            "url_clicks": 12,
            "profile_clicks": 3,
        }
        assert len(lookups(fake)) == 1


def test_the_fake_answers_lookups_in_xs_shapes(fake_x: FakeX) -> None:
    adapter = x_adapter(fake_x)
    published = adapter.publish(OutgoingPart(text="Shaped as X's", idempotency_key="k-shape"))
    public = documented("x_tweets_public_metrics.json")
    gone = public["errors"][0]["value"]
    body = adapter.client.get_tweets(
        [published.remote_id, gone], tweet_fields=["public_metrics"], user_auth=True
    ).json()
    assert body["errors"] == public["errors"]
    assert set(public["data"][0]["public_metrics"]) < set(body["data"][0]["public_metrics"])
    refused = documented("x_tweets_non_public_metrics_refused.json")
    body = adapter.client.get_tweets(
        [published.remote_id], tweet_fields=["non_public_metrics"], user_auth=True
    ).json()
    recorded = json.dumps(refused["errors"]).replace("1387820661742112771", published.remote_id)
    assert body == {"errors": json.loads(recorded)}


def test_the_fake_refuses_more_ids_than_x_takes(fake_x: FakeX) -> None:
    adapter = x_adapter(fake_x)
    with pytest.raises(HTTPException) as raised:
        adapter.client.get_tweets([str(10**18 + n) for n in range(101)], user_auth=True)
    assert raised.value.response.status_code == 400
    assert "is not between 1 and 100" in raised.value.response.text
