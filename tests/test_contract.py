"""One contract for every adapter, run against its fake platform (and the dry-run adapter where
it applies): the success paths, then every fault class and the error it must become."""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
from typing import Any

import pytest
from fake_fixtures import (
    BLUESKY_CREDENTIALS,
    Kit,
    bluesky_adapter,
    mastodon_adapter,
    png,
    secrets_of,
    settings,
)
from fakes import FakeBluesky, FakeMastodon
from fakes.server import Request

from adapters.base import Adapter, MediaItem, OutgoingPart, PostMetrics, Published
from adapters.bluesky import BlueskyAdapter, _tid
from adapters.errors import (
    ContentRejected,
    CredentialsInvalid,
    NetworkError,
    OutcomeUnknown,
    OutOfQuota,
    PublishError,
    RateLimited,
    ServerError,
    Timeout,
)

CARD = png()


DUE = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def part(text: str, key: str | None = None, **more: object) -> OutgoingPart:
    """A part as the dispatcher makes one: with an idempotency key and the instant it was due."""
    return OutgoingPart(
        text=text,
        idempotency_key=key or f"k-{abs(hash(text))}",
        scheduled_at=DUE,
        **more,  # type: ignore[arg-type]
    )


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


def test_find_published_finds_what_was_posted(kit: Kit) -> None:
    adapter = kit.build()
    sent = part("Find me: https://www.un.org/en/observances/ending-violence-against-women-day")
    published = adapter.publish(sent)
    found = adapter.find_published(sent, since=now() - dt.timedelta(minutes=5))
    assert found is not None and found.remote_id == published.remote_id
    try:  # a post that settles another delivery is never found again for this one
        again = adapter.find_published(sent, since=now(), taken={published.remote_id})
    except OutcomeUnknown:  # Bluesky: its record key names one post, so taken is a contradiction
        again = None
    assert again is None


@pytest.mark.parametrize("kit", ["x", "mastodon", "bluesky"], indirect=True)
def test_find_published_by_a_new_adapter_before_any_other_call(kit: Kit) -> None:
    """A daemon started after a crash looks for its lost posts first thing: its adapter has no
    session yet (Bluesky read the account's DID from a session it had not opened)."""
    sent = part("Found by a newcomer")
    published = kit.build().publish(sent)
    found = kit.build().find_published(sent, since=now() - dt.timedelta(minutes=5))
    assert found is not None and found.remote_id == published.remote_id


def test_find_published_does_not_take_another_post_for_ours(kit: Kit) -> None:
    adapter = kit.build()
    adapter.publish(part("Day 3 of the 16 Days of Activism: know the signs.", "k-day3"))
    lost = part("Day 3 of the 16 Days of Activism: know where to find help.", "k-day3-b")
    assert adapter.find_published(lost, since=now() - dt.timedelta(minutes=5)) is None


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
def test_dropped_answer_after_commit_is_settled_by_what_was_sent(kit: Kit) -> None:
    """X and Mastodon cannot tell at once (OutcomeUnknown), and find the post afterwards by its
    text; Bluesky asks for the record at the key it chose, so it knows straight away."""
    assert kit.fake is not None
    adapter = kit.build()
    kit.fake.commit_then_drop(path=kit.create_path)
    lost = part("Did it go out?", "k-commit-drop")
    if kit.platform == "bluesky":
        published = adapter.publish(lost)
    else:
        with pytest.raises(OutcomeUnknown):
            adapter.publish(lost)
        found = adapter.find_published(lost, since=now() - dt.timedelta(minutes=5))
        assert found is not None
        published = found
    [sent] = kit.sent(adapter)
    assert sent.remote_id == published.remote_id


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


# --- the requests themselves: paths, content types, fields --------------------------------------

Shape = tuple[str, str, str, tuple[str, ...]]
"""Method, path (ids as ``{id}``), content type, and the body's top-level fields."""

_ID = re.compile(r"/(\d{6,}|[a-z0-9]{13})(?=/|$)")

REQUEST_SHAPES: dict[str, list[Shape]] = {
    "x": [
        ("POST", "/2/media/upload", "multipart/form-data", ("media", "media_category")),
        ("POST", "/2/media/metadata", "application/json", ("id", "metadata")),
        ("POST", "/2/tweets", "application/json", ("media", "text")),
        ("POST", "/2/media/upload", "multipart/form-data", ("media", "media_category")),
        ("POST", "/2/media/metadata", "application/json", ("id", "metadata")),
        ("POST", "/2/tweets", "application/json", ("media", "reply", "text")),
        ("DELETE", "/2/tweets/{id}", "", ()),
    ],
    "mastodon": [
        ("POST", "/api/v2/media", "multipart/form-data", ("description", "file")),
        ("GET", "/api/v1/media/{id}", "", ()),
        (
            "POST",
            "/api/v1/statuses",
            "application/x-www-form-urlencoded",
            ("media_ids[]", "sensitive", "status", "visibility"),
        ),
        ("POST", "/api/v2/media", "multipart/form-data", ("description", "file")),
        ("GET", "/api/v1/media/{id}", "", ()),
        (
            "POST",
            "/api/v1/statuses",
            "application/x-www-form-urlencoded",
            ("in_reply_to_id", "media_ids[]", "sensitive", "status", "visibility"),
        ),
        ("DELETE", "/api/v1/statuses/{id}", "", ()),
    ],
    "bluesky": [
        ("POST", "/xrpc/com.atproto.repo.uploadBlob", "image/png", ()),
        ("POST", "/xrpc/com.atproto.repo.applyWrites", "application/json", ("repo", "writes")),
        ("POST", "/xrpc/com.atproto.repo.uploadBlob", "image/png", ()),
        ("POST", "/xrpc/com.atproto.repo.applyWrites", "application/json", ("repo", "writes")),
        # The post, then its threadgate (none here: deleting a missing record is no error).
        (
            "POST",
            "/xrpc/com.atproto.repo.deleteRecord",
            "application/json",
            ("collection", "repo", "rkey"),
        ),
        (
            "POST",
            "/xrpc/com.atproto.repo.deleteRecord",
            "application/json",
            ("collection", "repo", "rkey"),
        ),
    ],
}
"""What each adapter sends for a post with an image, a reply to it, and a delete: the current
endpoints of each platform (docs/adapters.md), checked request by request."""


def _shape(request: Request) -> Shape:
    content_type = request.headers.get("content-type", "").split(";")[0]
    if content_type == "application/json":
        fields = tuple(sorted(request.json()))
    else:
        fields = tuple(sorted(request.form()))
    return (request.method, _ID.sub("/{id}", request.path), content_type, fields)


def test_requests_have_the_platforms_current_shapes(kit: Kit) -> None:
    if kit.fake is None:
        pytest.skip("the dry run sends no requests")
    adapter = kit.build()
    adapter.verify()
    kit.fake.requests.clear()
    first = adapter.publish(part("1/2 Digital violence is violence.", "k-1",
                                 media=(image("card one"),)))  # fmt: skip
    publish_reply(adapter, "2/2 Know the signs.", "k-2", first, first)
    adapter.delete(first.remote_id)
    requests = list(kit.fake.requests)
    assert [_shape(request) for request in requests] == REQUEST_SHAPES[kit.platform]
    creates = [r for r in requests if re.search(kit.create_path, r.path)]
    assert len(creates) == 2
    if kit.platform == "x":
        assert creates[1].json()["reply"] == {"in_reply_to_tweet_id": first.remote_id}
        assert list(creates[0].json()["media"]) == ["media_ids"]
    elif kit.platform == "mastodon":
        keys = [r.headers.get("idempotency-key") for r in creates]
        assert all(keys) and len(set(keys)) == 2  # one key per part, kept across retries
        assert creates[1].field("in_reply_to_id") == first.remote_id
    else:
        writes = [r.json()["writes"] for r in creates]
        assert [w[0]["$type"] for w in writes] == ["com.atproto.repo.applyWrites#create"] * 2
        assert {w[0]["collection"] for w in writes} == {"app.bsky.feed.post"}
        assert all(w[0]["rkey"] for w in writes)  # the record key follows from the delivery
        reply = writes[1][0]["value"]["reply"]
        assert reply["root"]["uri"] == reply["parent"]["uri"] == first.remote_id
        assert {"text", "createdAt", "embed"} <= set(writes[0][0]["value"])


# --- engagement counts --------------------------------------------------------------------------

COUNTS: dict[str, tuple[dict[str, int], dict[str, int]]] = {
    # platform: (what the fake holds, by the platform's names; what fetch_metrics gives)
    "x": (
        {"like_count": 7, "retweet_count": 3, "reply_count": 2, "quote_count": 1}
        | {"bookmark_count": 4, "impression_count": 250},
        {"likes": 7, "retweets": 3, "replies": 2, "quotes": 1, "bookmarks": 4}
        | {"impressions": 250},
    ),
    "mastodon": (
        {"replies_count": 2, "reblogs_count": 3, "favourites_count": 7},
        {"replies": 2, "reblogs": 3, "favourites": 7},
    ),
    "bluesky": (
        {"replyCount": 2, "repostCount": 3, "likeCount": 7, "quoteCount": 1, "bookmarkCount": 4},
        {"replies": 2, "reposts": 3, "likes": 7, "quotes": 1, "bookmarks": 4},
    ),
}
LOOKUP_PATHS = {
    "x": r"^/2/tweets$",
    "mastodon": r"^/api/v1/statuses$",
    "bluesky": r"^/xrpc/app\.bsky\.feed\.getPosts$",
}
"""Where each platform's batch of counts is asked."""


def lookups(kit: Kit) -> list[Request]:
    assert kit.fake is not None
    return [
        r
        for r in kit.fake.requests
        if r.method == "GET" and re.search(LOOKUP_PATHS[kit.platform], r.path)
    ]


def ids_asked(kit: Kit, request: Request) -> list[str]:
    if kit.platform == "x":
        return (request.arg("ids") or "").split(",")
    return request.query.get("id[]" if kit.platform == "mastodon" else "uris", [])


def never_posted(published: Published, count: int) -> list[str]:
    """Ids the account never had (or no longer has), shaped as the platform's own."""
    if published.remote_id.startswith("at://"):
        repo = published.remote_id.removeprefix("at://").split("/")[0]
        start = 1_600_000_000_000_000
        return [f"at://{repo}/app.bsky.feed.post/{_tid(start + n, 0)}" for n in range(count)]
    return [str(int(published.remote_id) - 1000 - n) for n in range(count)]


def set_counts(kit: Kit, remote_id: str, **counts: Any) -> None:
    assert kit.fake is not None
    kit.fake.set_counts(remote_id, **counts)  # type: ignore[attr-defined]


@real
def test_fetch_metrics_gives_the_counts_the_platform_holds(kit: Kit) -> None:
    adapter = kit.build()
    published = adapter.publish(part("Orange Day: how many saw it?", "k-counts"))
    held, expected = COUNTS[kit.platform]
    set_counts(kit, published.remote_id, **held)
    assert adapter.fetch_metrics([published.remote_id]) == [
        PostMetrics(published.remote_id, expected)
    ]
    first = next(iter(held))  # and again, later: the counts as they are now
    set_counts(kit, published.remote_id, **{first: held[first] + 5})
    [later] = adapter.fetch_metrics([published.remote_id])
    assert later.counts[expected_name(kit, first)] == held[first] + 5


def expected_name(kit: Kit, held_name: str) -> str:
    held, expected = COUNTS[kit.platform]
    return list(expected)[list(held).index(held_name)]


@pytest.mark.parametrize(
    ("kit", "missing", "name"),
    [("x", "impression_count", "impressions"), ("bluesky", "quoteCount", "quotes")],
    indirect=["kit"],
)
def test_a_count_the_platform_does_not_give_is_absent_never_zero(
    kit: Kit, missing: str, name: str
) -> None:
    """X gives no impression_count for posts from before it counted views; a postView's counts
    are all optional. (Mastodon's Status entity always has its three.)"""
    adapter = kit.build()
    published = adapter.publish(part("Counted in part", "k-absent"))
    set_counts(kit, published.remote_id, **{missing: None})
    [metrics] = adapter.fetch_metrics([published.remote_id])
    assert name not in metrics.counts
    assert set(metrics.counts) == set(COUNTS[kit.platform][1]) - {name}


@real
def test_batches_are_split_at_metrics_batch(kit: Kit) -> None:
    adapter = kit.build()
    published = adapter.publish(part("One of many", "k-batch"))
    limit = type(adapter).metrics_batch
    assert limit == {"x": 100, "mastodon": 20, "bluesky": 25}[kit.platform]
    remote_ids = [published.remote_id, *never_posted(published, limit)]
    found = adapter.fetch_metrics(remote_ids)
    assert [m.remote_id for m in found] == [published.remote_id]
    asked = [ids_asked(kit, request) for request in lookups(kit)]
    if kit.platform == "x":  # the first call asked non_public_metrics, which the token may not
        asked = asked[1:]
    assert [len(ids) for ids in asked] == [limit, 1]
    assert [i for ids in asked for i in ids] == remote_ids


@real
def test_a_deleted_post_is_left_out(kit: Kit) -> None:
    adapter = kit.build()
    kept = adapter.publish(part("Still there", "k-kept"))
    gone = adapter.publish(part("Taken down", "k-gone"))
    adapter.delete(gone.remote_id)
    found = adapter.fetch_metrics([gone.remote_id, kept.remote_id])
    assert [m.remote_id for m in found] == [kept.remote_id]


def test_no_ids_no_call(kit: Kit) -> None:
    assert kit.build().fetch_metrics([]) == []
    if kit.fake is not None:
        assert lookups(kit) == []


@real
@pytest.mark.parametrize(("status", "error"), [(401, CredentialsInvalid), (503, ServerError)])
def test_a_refused_lookup_becomes_its_error(
    kit: Kit, status: int, error: type[PublishError]
) -> None:
    assert kit.fake is not None
    adapter = kit.build()
    published = adapter.publish(part("Asked about", f"k-lookup-{status}"))
    kit.fake.fail(status, method="GET", path=LOOKUP_PATHS[kit.platform], times=None)
    with pytest.raises(error) as raised:
        adapter.fetch_metrics([published.remote_id])
    assert isinstance(raised.value.__cause__, Exception)


@pytest.mark.parametrize("kit", ["x"], indirect=True)
def test_payment_required_is_out_of_quota(kit: Kit) -> None:
    """X's pay-per-use: reads without credits left are 402 CreditsDepleted."""
    assert kit.fake is not None
    adapter = kit.build()
    published = adapter.publish(part("Asked about", "k-lookup-402"))
    kit.fake.fail(402, method="GET", path=LOOKUP_PATHS["x"])
    with pytest.raises(OutOfQuota, match="credits"):
        adapter.fetch_metrics([published.remote_id])


@real
def test_a_rate_limited_lookup_reports_the_reset(kit: Kit) -> None:
    assert kit.fake is not None
    adapter = kit.build()
    published = adapter.publish(part("Asked too often", "k-lookup-429"))
    reset = (now() + dt.timedelta(minutes=9)).replace(microsecond=0)
    kit.fake.rate_limit(reset, method="GET", path=LOOKUP_PATHS[kit.platform])
    with pytest.raises(RateLimited) as raised:
        adapter.fetch_metrics([published.remote_id])
    assert abs(raised.value.reset_at - reset) <= dt.timedelta(seconds=2)


def test_the_dry_run_gives_no_counts_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    from fake_fixtures import _dry_run_kit

    adapter = _dry_run_kit().build()
    published = adapter.publish(part("Never sent", "k-dry"))
    with caplog.at_level(logging.INFO, logger="adapters.dryrun"):
        assert adapter.fetch_metrics([published.remote_id]) == []
    assert "dry run: no engagement counts for 1 posts" in caplog.text


def test_an_older_mastodon_is_asked_one_status_at_a_time(fake_mastodon: FakeMastodon) -> None:
    """GET /api/v1/statuses?id[]= is Mastodon 4.3's; an older server answers it 404, and the
    adapter reads each status instead (once it knows, it does not ask for the batch again)."""
    fake_mastodon.batch_statuses = False
    adapter = mastodon_adapter(fake_mastodon)
    first = adapter.publish(part("Old server, first", "k-old-1"))
    second = adapter.publish(part("Old server, second", "k-old-2"))
    fake_mastodon.set_counts(second.remote_id, favourites_count=4)
    gone = never_posted(first, 1)[0]
    for _ in range(2):
        found = adapter.fetch_metrics([first.remote_id, gone, second.remote_id])
        assert [(m.remote_id, m.counts["favourites"]) for m in found] == [
            (first.remote_id, 0),
            (second.remote_id, 4),
        ]
    reads = [r.path for r in fake_mastodon.requests if r.method == "GET"]
    single = [f"/api/v1/statuses/{i}" for i in (first.remote_id, gone, second.remote_id)]
    assert reads == ["/api/v1/statuses", *single, *single]


def test_bluesky_counts_come_from_the_appview_the_settings_name(
    fake_bluesky: FakeBluesky,
) -> None:
    with FakeBluesky(records_from=fake_bluesky) as appview:
        adapter = bluesky_adapter(fake_bluesky, appview=appview.url)
        published = adapter.publish(part("Seen through the AppView", "k-appview"))
        fake_bluesky.set_counts(published.remote_id, likeCount=12)
        [metrics] = adapter.fetch_metrics([published.remote_id])
        assert metrics.counts["likes"] == 12
        [asked] = [r for r in appview.requests if "getPosts" in r.path]
        assert asked.query["uris"] == [published.remote_id]
        assert "authorization" not in asked.headers  # a public AppView needs no session
        assert not [r for r in fake_bluesky.requests if "getPosts" in r.path]


def test_bluesky_reads_counts_from_its_base_url_when_that_is_not_bluesky(
    fake_bluesky: FakeBluesky,
) -> None:
    """A rehearsal against the fakes (or a staging network) never reads Bluesky's AppView."""
    adapter = BlueskyAdapter(
        settings=settings("@belgiuminjapan.bsky.social"),
        credentials=secrets_of(BLUESKY_CREDENTIALS),
        base_url=fake_bluesky.url,
    )
    assert adapter.appview == fake_bluesky.url
    default = BlueskyAdapter(
        settings=settings("@belgiuminjapan.bsky.social"),
        credentials=secrets_of(BLUESKY_CREDENTIALS),
    )
    assert default.appview == "https://public.api.bsky.app"
