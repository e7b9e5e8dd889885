"""X, through tweepy: OAuth 1.0a user context (the app's consumer key and secret, the account's
access token and secret).

What tweepy does not do for us, and this adapter does:

- **Base URL and timeouts.** ``tweepy.Client.request`` builds every URL from a host written
  inside the method (``https://api.twitter.com`` in 4.17) and sends it with no timeout. The
  client's ``session`` is the one seam: we give it a :class:`_PlatformSession` that rewrites that
  host to ``base_url`` and adds ``settings.timeout`` to every request. The OAuth signature is
  computed on the rewritten URL, so it stays valid.
- **Media.** ``Client`` has no v2 upload. We call X's v2 media endpoints ourselves, signed by
  tweepy's own ``OAuth1UserHandler`` through the same session. A still image that fits in one
  chunk goes up in one request (``POST /2/media/upload``, multipart: ``media`` and
  ``media_category=tweet_image``). Anything else, and every animated GIF (``tweet_gif``), takes
  the chunked endpoints: ``POST /2/media/upload/initialize`` (JSON), ``POST
  /2/media/upload/{id}/append`` (multipart: ``media``, ``segment_index``), ``POST
  /2/media/upload/{id}/finalize``, then ``GET /2/media/upload?media_id=`` while X processes
  (``pending``, ``in_progress`` with ``check_after_secs``, then ``succeeded`` or ``failed``),
  until ``settings.media_deadline``. The old form, ``command=INIT|APPEND|FINALIZE`` on ``POST
  /2/media/upload``, is deprecated and never sent. Then ``POST /2/media/metadata`` for the alt
  text.
- **Rate limits** are never slept through: a 429 becomes :class:`RateLimited`, reset at the
  latest reset among the limits its headers say are exhausted (the 15-minute
  ``x-rate-limit-*`` and the 24-hour ``x-user-limit-24hour-*`` / ``x-app-limit-24hour-*``).
  A 429 ``UsageCapExceeded`` is no rate limit but the monthly usage cap: :class:`OutOfQuota`,
  as a 402 is.
- **Reply settings** go on a thread's first post only: replies inherit the conversation's.
- **The platform's timestamp** comes from the tweet id: X ids are snowflakes whose high bits are
  milliseconds since X's epoch. ``POST /2/tweets`` answers nothing else with a time in it.
- **Engagement counts** (:meth:`XAdapter.fetch_metrics`): ``GET /2/tweets?ids=`` (100 a call)
  with ``public_metrics`` and ``non_public_metrics``; X refuses the latter (200, a
  ``not-authorized-for-field`` problem, the post left out) where the token may not read them,
  and the batch is asked again without them, which the adapter then never asks again.
- **Onboarding** (:class:`XPinAuthorization`) is tweepy's ``OAuth1UserHandler`` PIN flow. The
  handler writes ``https://api.twitter.com/oauth/`` inside ``_get_oauth_url`` and sends without
  a timeout through an ``OAuth1Session`` it replaces between steps; :class:`_PinHandler`
  overrides that one method with ``base_url`` and gives every session it is handed a transport
  with ``settings.timeout``.
- **Logs.** oauthlib and requests-oauthlib log access tokens, signature base strings and the
  token endpoint's answer (secrets included) at DEBUG; their DEBUG records are dropped.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import time
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import requests
import tweepy
from PIL import Image, UnidentifiedImageError
from requests.adapters import HTTPAdapter
from tweepy.errors import (
    Forbidden,
    HTTPException,
    TooManyRequests,
    TweepyException,
    TwitterServerError,
    Unauthorized,
)

from adapters._transport import network_error
from adapters.base import (
    CLOCK_SKEW,
    DEFAULT_BACKOFF,
    AccountCheck,
    AccountLimits,
    Adapter,
    AdapterSettings,
    Authorization,
    MediaItem,
    OutgoingPart,
    PostMetrics,
    Published,
    counts_of,
)
from adapters.capabilities import X
from adapters.errors import (
    ContentRejected,
    CredentialsInvalid,
    Duplicate,
    OutcomeUnknown,
    OutOfQuota,
    PublishError,
    RateLimited,
    ServerError,
    TransientError,
)
from adapters.secrets import Secret

TWEEPY_HOSTS = ("https://api.twitter.com", "https://api.x.com")
"""Where tweepy sends requests; rewritten to the adapter's base URL."""
TWITTER_EPOCH_MS = 1288834974657
CHUNK_SIZE = 4 * 1024 * 1024
"""Bytes per appended segment (X accepts up to 5 MB); a still image that fits in one goes up in
one request."""
UPLOAD = "/2/media/upload"
"""X's v2 media upload: the one-request upload (POST), the status (GET), and below it
``/initialize``, ``/{id}/append`` and ``/{id}/finalize``."""
STATUS_WAIT = 1.0
"""Seconds between status polls when X's answer gives no ``check_after_secs``."""
LIMIT_FAMILIES = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")
"""X's rate-limit headers, each family with ``-limit``, ``-remaining`` and ``-reset``: the
15-minute window, and the 24-hour limits of the user and of the app."""
DAILY_FAMILIES = LIMIT_FAMILIES[1:]
DAILY_CAP_BACKOFF = dt.timedelta(hours=24)
"""When a daily usage cap names no 24-hour reset."""
PREMIUM_LENGTH = 25_000
REPLY_SETTINGS = {"everyone": None, "following": "following", "mentioned": "mentionedUsers"}
PAGE = 100
"""Posts per page of an account's listing: X's maximum."""
MAX_PAGES = 10
"""How many pages a search for a lost post reads before it asks a person instead."""
METRICS_BATCH = 100
"""Posts per ``GET /2/tweets?ids=``: the most X takes."""
PUBLIC_METRICS = {
    "like_count": "likes",
    "retweet_count": "retweets",
    "reply_count": "replies",
    "quote_count": "quotes",
    "bookmark_count": "bookmarks",
    "impression_count": "impressions",
}
"""``public_metrics``, by our metric names (``impression_count`` only on posts since 2022)."""
PRIVATE_METRICS = {
    "impression_count": "impressions_private",
    "url_link_clicks": "url_clicks",
    "user_profile_clicks": "profile_clicks",
}
"""``non_public_metrics``: the author's own posts of the last 30 days, user context only."""
FIELD_REFUSED = "/problems/not-authorized-for-field"
"""The problem X reports, with 200 and without the post, for a field the token may not read."""
OAUTH_LOGGERS = (
    "oauthlib.oauth1.rfc5849",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
)
"""Their DEBUG records quote access tokens, signature base strings and token answers."""


class _PlatformSession(requests.Session):
    """tweepy's session, sending to our base URL with a timeout on every request."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url
        self.timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        url = url.decode() if isinstance(url, bytes) else url
        for host in TWEEPY_HOSTS:
            if url.startswith(host):
                url = self.base_url + url[len(host) :]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class _TimeoutTransport(HTTPAdapter):
    """A requests transport that gives every request a timeout unless it has one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request, stream, self.timeout if timeout is None else timeout, verify, cert, proxies
        )


class _PinHandler(tweepy.OAuth1UserHandler):  # type: ignore[misc]
    """tweepy's PIN flow, sent to ``base_url`` with a timeout (see the module docstring)."""

    def __init__(self, consumer_key: str, consumer_secret: str, *, base_url: str, timeout: float):
        self._base_url = base_url
        self._timeout = timeout
        super().__init__(consumer_key, consumer_secret, callback="oob")

    def _get_oauth_url(self, endpoint: str) -> str:
        return f"{self._base_url}/oauth/{endpoint}"

    @property
    def oauth(self) -> requests.Session:
        return self._oauth

    @oauth.setter
    def oauth(self, session: requests.Session) -> None:  # a requests_oauthlib OAuth1Session
        # tweepy makes a new OAuth1Session for the access token: each gets the timeout.
        for scheme in ("https://", "http://"):
            session.mount(scheme, _TimeoutTransport(self._timeout))
        self._oauth = session


class _NoDebug(logging.Filter):
    """Drops DEBUG records: the OAuth libraries quote tokens in them (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


for _name in OAUTH_LOGGERS:
    logging.getLogger(_name).addFilter(_NoDebug())


class XPinAuthorization(Authorization):
    """OAuth 1.0a with a PIN: the app's request token, the person's approval, the access token."""

    code_label: ClassVar[str] = "PIN"
    instructions: ClassVar[str] = (
        "Open this URL in a browser logged in to X as {handle}, authorize the app, "
        "then enter the PIN that X shows."
    )

    def __init__(self, *, app: Mapping[str, Secret], base_url: str, timeout: float) -> None:
        self.app = dict(app)
        self._handler = _PinHandler(
            app["consumer_key"].reveal(),
            app["consumer_secret"].reveal(),
            base_url=base_url,
            timeout=timeout,
        )

    def authorization_url(self) -> str:
        with _oauth_errors("get a request token (check the consumer key and secret)"):
            return str(self._handler.get_authorization_url())

    def finish(self, code: str) -> dict[str, Secret]:
        with _oauth_errors("exchange the PIN for an access token"):
            token, secret = self._handler.get_access_token(code.strip())
        return {**self.app, "access_token": Secret(token), "access_token_secret": Secret(secret)}


class XAdapter(Adapter):
    capabilities = X
    credential_fields: ClassVar[tuple[str, ...]] = (
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    )
    app_fields: ClassVar[tuple[str, ...]] = ("consumer_key", "consumer_secret")
    default_base_url: ClassVar[str | None] = "https://api.x.com"
    metrics_batch: ClassVar[int] = METRICS_BATCH

    @classmethod
    def authorization(
        cls,
        *,
        settings: AdapterSettings,
        app: Mapping[str, Secret],
        base_url: str | None = None,
    ) -> Authorization:
        return XPinAuthorization(
            app=app,
            base_url=(base_url or cls.default_base_url or "").rstrip("/"),
            timeout=settings.timeout,
        )

    def __init__(
        self,
        *,
        settings: AdapterSettings,
        credentials: Mapping[str, Secret],
        base_url: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        status_poll_interval: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``status_poll_interval`` caps the wait between media status polls (None: as long as
        X's ``check_after_secs`` asks); ``sleep`` and ``monotonic`` are that wait and the clock
        ``settings.media_deadline`` is measured on (a test passes a clock it moves itself)."""
        super().__init__(settings=settings, credentials=credentials, base_url=base_url)
        self.chunk_size = chunk_size
        self.status_poll_interval = status_poll_interval
        self._sleep = sleep
        self._monotonic = monotonic
        self.client = tweepy.Client(
            consumer_key=self.secret("consumer_key"),
            consumer_secret=self.secret("consumer_secret"),
            access_token=self.secret("access_token"),
            access_token_secret=self.secret("access_token_secret"),
            return_type=requests.Response,
        )
        self.client.session = _PlatformSession(self.base_url, settings.timeout)
        self._user_id: str | None = None
        self._private_metrics = True
        """Whether to ask for ``non_public_metrics``: until X refuses the field once."""

    # --- the interface ----------------------------------------------------------------------

    def publish(self, part: OutgoingPart) -> Published:
        media_ids = [
            self._upload(item, _describe(item, number, len(part.media)))
            for number, item in enumerate(part.media, 1)
        ]
        with self._errors("create the post", creates=True):
            response = self.client.create_tweet(
                text=part.text,
                media_ids=media_ids or None,
                in_reply_to_tweet_id=part.in_reply_to,
                reply_settings=_reply_settings(part),
            )
        return self._published(str(response.json()["data"]["id"]), tuple(media_ids))

    def _published(self, tweet_id: str, media_ids: tuple[str, ...] = ()) -> Published:
        return Published(
            platform=self.platform,
            remote_id=tweet_id,
            url=self.capabilities.post_url.format(
                handle=self.settings.handle.lstrip("@"), id=tweet_id
            ),
            published_at=snowflake_time(tweet_id),
            media_ids=media_ids,
        )

    def delete(self, remote_id: str) -> None:
        try:
            with self._errors(f"delete post {remote_id}"):
                self.client.delete_tweet(remote_id)
        except ContentRejected as exc:
            if _status(exc.__cause__) != 404:
                raise  # a post that is gone already is what we wanted

    def verify(self) -> AccountCheck:
        with self._errors("verify the credentials"):
            user = self.client.get_me(user_fields=["subscription_type"]).json()["data"]
        self._user_id = str(user["id"])
        premium = user.get("subscription_type") in {"Premium", "PremiumPlus"}
        limits = AccountLimits(
            max_characters=PREMIUM_LENGTH if premium else X.max_length,
            max_media=X.max_images,
            max_image_bytes=X.max_image_bytes,
            characters_reserved_per_url=23,
            max_alt_text=X.max_alt_text,
        )
        return AccountCheck(
            self.platform, self._user_id, f"@{user['username']}", user.get("name"), limits
        )

    def find_published(
        self, part: OutgoingPart, *, since: dt.datetime, taken: Collection[str] = frozenset()
    ) -> Published | None:
        wanted = _normalized(part.text)
        candidates = [
            tweet
            for tweet in self._posts_since(since - CLOCK_SKEW)
            if str(tweet["id"]) not in taken and _replied_to(tweet) == part.in_reply_to
        ]
        for tweet in reversed(candidates):  # the oldest first, as for Mastodon
            if _normalized(_as_sent(tweet)) == wanted:
                return self._published(str(tweet["id"]))
        return None

    def _fetch_metrics_batch(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        return [
            PostMetrics(
                str(tweet["id"]),
                {
                    **counts_of(tweet.get("public_metrics") or {}, PUBLIC_METRICS),
                    **counts_of(tweet.get("non_public_metrics") or {}, PRIVATE_METRICS),
                },
            )
            for tweet in self._tweets_with_metrics(remote_ids)
        ]

    def _tweets_with_metrics(self, remote_ids: Sequence[str]) -> list[dict[str, Any]]:
        """``GET /2/tweets?ids=`` with ``public_metrics`` and, while the token may read them,
        ``non_public_metrics``. X answers a field the token may not read (another app's token,
        a post older than 30 days) with 200, a ``not-authorized-for-field`` problem and without
        the post: the batch is asked again without the field, which is then left out for the
        adapter's life. A deleted post is a ``resource-not-found`` problem: left out."""
        with self._errors("read the posts' counts"):
            body = self._tweets(remote_ids, private=self._private_metrics)
            if self._private_metrics and any(
                str(problem.get("type", "")).endswith(FIELD_REFUSED)
                for problem in body.get("errors") or []
            ):
                self._private_metrics = False
                body = self._tweets(remote_ids, private=False)
        return [tweet for tweet in body.get("data") or [] if isinstance(tweet, dict)]

    def _tweets(self, remote_ids: Sequence[str], *, private: bool) -> dict[str, Any]:
        fields = ["public_metrics", "non_public_metrics"] if private else ["public_metrics"]
        response = self.client.get_tweets(list(remote_ids), tweet_fields=fields, user_auth=True)
        return _json_body(response)

    def _posts_since(self, since: dt.datetime) -> Iterator[dict[str, Any]]:
        """The account's own posts created since ``since``, every page of them; OutcomeUnknown
        when there are more than MAX_PAGES."""
        token = None
        with self._errors("list the account's posts"):
            user_id = self._user_id or self.verify().account_id
            for _ in range(MAX_PAGES):
                body = self.client.get_users_tweets(
                    user_id,
                    start_time=since,
                    max_results=PAGE,
                    pagination_token=token,
                    tweet_fields=["created_at", "entities", "referenced_tweets"],
                    user_auth=True,
                ).json()
                yield from body.get("data", [])
                token = body.get("meta", {}).get("next_token")
                if not token:
                    return
        raise OutcomeUnknown(
            f"X account {self.settings.handle}: over {MAX_PAGES * PAGE} posts since the first "
            "attempt; the post cannot be looked for"
        )

    def close(self) -> None:
        self.client.session.close()

    # --- media ------------------------------------------------------------------------------

    def _upload(self, item: MediaItem, label: str) -> str:
        """Upload one image and give it its alt text; its media id. ``label`` names the image in
        errors (``image 2 of 3 (image/gif, alt "...")``)."""
        data = item.read()
        with self._errors(f"upload {label}"):
            animated = _animated_gif(item.mime, data)
            if not animated and len(data) <= self.chunk_size:
                media_id = self._one_request_upload(item, data)
            else:
                media_id = self._chunked_upload(
                    item, data, "tweet_gif" if animated else "tweet_image", label
                )
            if item.alt:
                metadata = {"id": media_id, "metadata": {"alt_text": {"text": item.alt}}}
                self._signed("POST", "/2/media/metadata", json=metadata)
        return media_id

    def _one_request_upload(self, item: MediaItem, data: bytes) -> str:
        """``POST /2/media/upload``, multipart: the file and its category (X documents no other
        field for it but ``additional_owners``; it reads the type from the file)."""
        body = self._signed(
            "POST",
            UPLOAD,
            data={"media_category": "tweet_image"},
            files={"media": (item.filename, data, item.mime)},
        )
        return str(body["data"]["id"])

    def _chunked_upload(self, item: MediaItem, data: bytes, category: str, label: str) -> str:
        """Initialize (JSON), append each segment (multipart), finalize, then wait while X
        processes the media, if its answer says it does."""
        init = {"media_type": item.mime, "total_bytes": len(data), "media_category": category}
        media_id = str(self._signed("POST", f"{UPLOAD}/initialize", json=init)["data"]["id"])
        for index, start in enumerate(range(0, len(data), self.chunk_size)):
            self._signed(
                "POST",
                f"{UPLOAD}/{media_id}/append",
                data={"segment_index": str(index)},
                files={
                    "media": (
                        "blob",
                        data[start : start + self.chunk_size],
                        "application/octet-stream",
                    )
                },
            )
        final = self._signed("POST", f"{UPLOAD}/{media_id}/finalize")
        self._wait_for_processing(media_id, final["data"].get("processing_info"), label)
        return media_id

    def _wait_for_processing(self, media_id: str, info: dict[str, Any] | None, label: str) -> None:
        """Poll the upload's status until X says ``succeeded`` (no ``processing_info`` at all
        means ready too), waiting ``check_after_secs`` between polls, never past
        ``settings.media_deadline``: then a ServerError (transient: the delivery is retried, the
        media uploaded again). ``failed`` is permanent: ContentRejected, with X's reason."""
        where = f"X account {self.settings.handle}"
        deadline = self._monotonic() + self.settings.media_deadline
        while info is not None and info.get("state") != "succeeded":
            if info.get("state") == "failed":
                raise ContentRejected(
                    f"{where}: X could not process {label}: {_processing_error(info)}"
                )
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise ServerError(
                    f"{where}: X was still processing {label} after "
                    f"{self.settings.media_deadline:g} s ({_progress(info)}); it is uploaded "
                    "again on the next attempt"
                )
            self._sleep(min(self._poll_wait(info), remaining))  # a bounded poll, not a rate limit
            status = self._signed("GET", UPLOAD, params={"media_id": media_id})
            info = status["data"].get("processing_info")

    def _poll_wait(self, info: dict[str, Any]) -> float:
        try:
            wait = max(0.0, float(info.get("check_after_secs", STATUS_WAIT)))
        except (TypeError, ValueError):
            wait = STATUS_WAIT
        cap = self.status_poll_interval
        return wait if cap is None else min(wait, cap)

    def _signed(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request signed as tweepy signs its own, raising tweepy's errors, for one error map."""
        auth = tweepy.OAuth1UserHandler(
            self.secret("consumer_key"),
            self.secret("consumer_secret"),
            self.secret("access_token"),
            self.secret("access_token_secret"),
        ).apply_auth()
        response = self.client.session.request(method, self.base_url + path, auth=auth, **kwargs)
        _raise_for_status(response)
        return response.json() if response.content else {}

    # --- the one place X errors are interpreted -----------------------------------------------

    @contextmanager
    def _map_errors(self, action: str, *, creates: bool = False) -> Iterator[None]:
        where = f"X account {self.settings.handle}: could not {action}"
        try:
            yield
        except TooManyRequests as exc:
            raise self._too_many_requests(where, exc) from exc
        except Unauthorized as exc:
            raise CredentialsInvalid(f"{where}: {_detail(exc)}") from exc
        except Forbidden as exc:
            raise _forbidden(where, exc) from exc
        except TwitterServerError as exc:
            raise ServerError(f"{where}: {_detail(exc)}") from exc
        except HTTPException as exc:
            kind = OutOfQuota if _status(exc) == 402 else ContentRejected
            raise kind(f"{where}: {_detail(exc)}") from exc
        except requests.RequestException as exc:
            raise network_error(where, exc, creates=creates) from exc
        except (TweepyException, ValueError, KeyError) as exc:
            raise ContentRejected(f"{where}: unexpected answer ({type(exc).__name__})") from exc

    def _too_many_requests(self, where: str, exc: TooManyRequests) -> PublishError:
        """A 429: a rate limit (reset read from the headers), or a usage cap, which X answers
        with the same status and a ``UsageCapExceeded`` problem. The monthly cap is a quota, not
        a window: OutOfQuota, which suspends the account until a person acts, as a 402 does."""
        headers = exc.response.headers
        body = _json_body(exc.response)
        if not _usage_capped(body):
            reset = _rate_limit_reset(headers, self.now() + DEFAULT_BACKOFF)
            return RateLimited(f"{where}: rate limited", reset_at=reset)
        detail = body.get("detail") or body.get("title")
        if str(body.get("period", "")).lower() == "daily":
            reset = _rate_limit_reset(headers, self.now() + DAILY_CAP_BACKOFF, DAILY_FAMILIES)
            return RateLimited(
                f"{where}: X's daily usage cap was reached ({detail})", reset_at=reset
            )
        return OutOfQuota(
            f"{where}: the monthly usage cap of the X API was reached ({detail}); nothing more "
            "can be posted with this app until the cap resets with the next billing month or "
            "the plan is raised"
        )


@contextmanager
def _oauth_errors(action: str) -> Iterator[None]:
    """The OAuth endpoints' errors: tweepy wraps requests-oauthlib's in TweepyException."""
    where = f"X: could not {action}"
    try:
        yield
    except TweepyException as exc:
        cause: BaseException = exc
        while isinstance(cause, TweepyException) and cause.args:
            if not isinstance(cause.args[0], BaseException):
                break
            cause = cause.args[0]
        raise _oauth_error(where, cause) from None  # the cause's text quotes X's answer


def _oauth_error(where: str, cause: BaseException) -> PublishError | TransientError:
    if isinstance(cause, requests.RequestException):
        return network_error(where, cause, creates=False)
    status = _status(cause)
    if status in (401, 403):
        return CredentialsInvalid(
            f"{where}: X answered {status} (a wrong consumer key or secret, or a PIN that is "
            "wrong, already used or expired: start again)"
        )
    if status is not None and status >= 500:
        return ServerError(f"{where}: X answered {status}")
    return ContentRejected(f"{where}: unexpected answer ({status or type(cause).__name__})")


def snowflake_time(tweet_id: str) -> dt.datetime:
    """The instant encoded in an X id."""
    return dt.datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, dt.UTC)


def _as_sent(tweet: dict[str, Any]) -> str:
    """A post's text as it was sent: X's t.co links put back to their addresses (from the post's
    own URL entities, whose offsets count code points) and, between them, its HTML entities
    undone."""
    text = str(tweet.get("text", ""))
    pieces, last = [], 0
    urls = (tweet.get("entities") or {}).get("urls") or []
    for url in sorted(urls, key=lambda u: int(u["start"])):
        start, end = int(url["start"]), int(url["end"])
        if start < last or text[start:end] != url.get("url"):
            continue  # an entity that does not point at its link: leave the text as it is
        pieces += [html.unescape(text[last:start]), str(url.get("expanded_url") or url["url"])]
        last = end
    return "".join([*pieces, html.unescape(text[last:])])


def _normalized(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _replied_to(tweet: dict[str, Any]) -> str | None:
    references = tweet.get("referenced_tweets") or []
    return next((str(r["id"]) for r in references if r.get("type") == "replied_to"), None)


def _reply_settings(part: OutgoingPart) -> str | None:
    """Who may reply, for a thread's first post only: X's replies inherit the restrictions of the
    conversation's root post (docs/adapters.md, "Platform notes")."""
    return REPLY_SETTINGS[part.replies] if part.in_reply_to is None else None


def _animated_gif(mime: str, data: bytes) -> bool:
    """Whether X must process the image as an animated GIF (``tweet_gif``, the chunked upload).
    A GIF that cannot be read goes that way too: X's processing then says what is wrong."""
    if mime != "image/gif":
        return False
    try:
        with Image.open(io.BytesIO(data)) as image:
            return bool(getattr(image, "is_animated", False))
    except (UnidentifiedImageError, OSError):
        return True


def _describe(item: MediaItem, number: int, count: int) -> str:
    """An image as a person can find it in the campaign: its place in the post, its file (or
    type) and the start of its alt text."""
    name = item.path.name if item.path is not None else item.mime
    alt = item.alt if len(item.alt) <= 40 else item.alt[:39] + "…"
    return f"image {number} of {count} ({name}" + (f', alt "{alt}")' if alt else ")")


def _processing_error(info: dict[str, Any]) -> str:
    """X's reason for a failed processing (``error``: ``code``, ``name``, ``message``)."""
    error = info.get("error")
    if not isinstance(error, dict):
        return "processing failed, and X gave no reason"
    message = error.get("message") or "no message"
    return f"{message} ({error['name']})" if error.get("name") else str(message)


def _progress(info: dict[str, Any]) -> str:
    state = str(info.get("state") or "no state")
    percent = info.get("progress_percent")
    return f"{state}, {percent}%" if percent is not None else state


def _json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _usage_capped(body: Mapping[str, Any]) -> bool:
    """X's ``UsageCapExceeded`` problem (type ``.../2/problems/usage-capped``)."""
    return body.get("title") == "UsageCapExceeded" or str(body.get("type", "")).endswith(
        "/problems/usage-capped"
    )


def _epoch(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value or ""), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _rate_limit_reset(
    headers: Mapping[str, str],
    fallback: dt.datetime,
    families: tuple[str, ...] = LIMIT_FAMILIES,
) -> dt.datetime:
    """When X lets the call through again: the latest reset among the limits (of ``families``)
    the headers say are exhausted (``-remaining`` 0), since each of them holds the call back
    until it resets. If none says so, the 15-minute window's reset, else the latest 24-hour
    reset, else ``fallback``."""
    exhausted, given = [], []
    for family in families:
        reset = _epoch(headers.get(f"{family}-reset"))
        if reset is None:
            continue
        given.append(reset)
        remaining = headers.get(f"{family}-remaining", "").strip()
        if remaining.lstrip("-").isdigit() and int(remaining) <= 0:
            exhausted.append(reset)
    if exhausted:
        return max(exhausted)
    window = _epoch(headers.get("x-rate-limit-reset")) if "x-rate-limit" in families else None
    return window or (max(given) if given else fallback)


def _raise_for_status(response: requests.Response) -> None:
    """What ``tweepy.Client.request`` raises for the same status."""
    status = response.status_code
    errors: dict[int, type[HTTPException]] = {
        401: Unauthorized,
        403: Forbidden,
        429: TooManyRequests,
    }
    if status in errors:
        raise errors[status](response)
    if status >= 500:
        raise TwitterServerError(response)
    if not 200 <= status < 300:
        raise HTTPException(response)


def _status(exc: BaseException | None) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _detail(exc: HTTPException) -> str:
    """X's own words: the problem's detail, else its messages, else the status."""
    try:
        body = exc.response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"{_status(exc)} {detail or '; '.join(exc.api_messages) or exc.response.reason}"


def _forbidden(where: str, exc: Forbidden) -> PublishError:
    detail = _detail(exc)
    if "duplicate content" in detail.lower():
        return Duplicate(f"{where}: {detail}")
    if "oauth1 app permissions" in detail.lower() or "client-not-enrolled" in str(
        exc.response.text
    ):
        return CredentialsInvalid(f"{where}: {detail}")
    return ContentRejected(f"{where}: {detail}")
