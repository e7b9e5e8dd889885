"""A fake X API v2: tweets, the v2 media upload and its metadata, with X's answers; and the
OAuth 1.0a PIN flow that gives an account's access token to an app.

Every request must carry a valid OAuth 1.0a signature (checked with oauthlib, against the URL
the client addressed), as X's user-context endpoints require. Tweet ids are snowflakes made
from the fake's clock, so they carry the platform's timestamp as X's do.

Several users can hold tokens (``add_user``); the API answers as the user whose access token
signed the request, and a revoked token (``revoke``) gets X's 401. The PIN flow works as X's:
``POST /oauth/request_token`` (signed by the app, ``oauth_callback=oob``), then a person opens
``GET /oauth/authorize?oauth_token=...`` in a browser, where the fake is logged in as
``browser_user`` (``login_as``) and shows the PIN, then ``POST /oauth/access_token`` (signed
with the request token, ``oauth_verifier`` = the PIN) issues that user's access token, which the
API then accepts. A request token serves once.

Posts are answered as X answers them: every link in ``text`` becomes a ``https://t.co/...``
link (its address in ``entities.urls[].expanded_url``) and ``&``, ``<``, ``>`` come back as
HTML entities. ``GET /2/users/:id/tweets`` lists that user's own posts, newest first, between
``start_time`` and ``end_time``, 5 to 100 a page (``max_results``, 10 by default), paged with
``meta.next_token`` / ``pagination_token``.

Media go through X's v2 endpoints as documented today: the one-request upload (``POST
/2/media/upload``, multipart or JSON, ``media`` and ``media_category``: ``tweet_image``,
``dm_image`` or ``subtitles``), and the chunked upload, ``POST /2/media/upload/initialize``
(JSON: ``media_type``, ``total_bytes``, ``media_category``), ``POST /2/media/upload/{id}/append``
(multipart: ``media``, ``segment_index``), ``POST /2/media/upload/{id}/finalize``, and the status,
``GET /2/media/upload?media_id=``. The deprecated form, ``command=INIT|APPEND|FINALIZE`` on ``POST
/2/media/upload``, is refused with X's 400. After finalize, a category X processes (``tweet_gif``
by default) answers ``processing_info`` as X does, one state per answer: ``pending``,
``in_progress`` with ``check_after_secs``, then ``succeeded`` or ``failed`` with its ``error``
(``process_media`` sets it per category: how many polls, whether it ever ends, whether it fails);
a media id still processing cannot be attached to a post.

Faults beyond the common ones: ``usage_cap()`` (429 ``UsageCapExceeded``, the monthly cap) and
``daily_limit()`` (429 with only the 24-hour ``x-user-limit-24hour-*`` / ``x-app-limit-24hour-*``
headers). Every other answer carries the 15-minute ``x-rate-limit-*`` headers.

Every post carries its counts: ``public_metrics`` (``retweet_count``, ``reply_count``,
``like_count``, ``quote_count``, ``bookmark_count``, ``impression_count``) and
``non_public_metrics`` (``impression_count``, ``url_link_clicks``, ``user_profile_clicks``),
which a test sets with ``set_counts`` (None removes a count: a post from before X counted it).
``GET /2/tweets?ids=`` looks up 1 to 100 posts (more or none: X's 400) with the fields asked in
``tweet.fields``; an id X no longer has is a ``resource-not-found`` problem in ``errors``, and
``non_public_metrics`` asked with a token not flagged for them (``private_metrics``: only the
author's own posts, with the app's own token) is X's 200 with a ``not-authorized-for-field``
problem per field and without the post (tests/data/platforms/x_tweets_*.json).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import html
import itertools
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from oauthlib.oauth1.rfc5849 import signature

from adapters.capabilities import LengthRule
from adapters.textlength import text_length

from .server import Clock, FakeServer, Fault, Request, Response, route, utc_now

TWITTER_EPOCH_MS = 1288834974657
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024
"""X's limits per file: images 5 MB, GIFs 15 MB (docs.x.com/x-api/media/introduction)."""
MEDIA_CATEGORIES = frozenset(
    {"amplify_video", "tweet_gif", "tweet_image", "tweet_video"}
    | {"dm_gif", "dm_image", "dm_video", "subtitles"}
)
ONE_REQUEST_CATEGORIES = frozenset({"tweet_image", "dm_image", "subtitles"})
"""What the one-request upload takes (docs.x.com/x-api/media/upload-media); GIFs and videos go
through the chunked upload."""
MEDIA_TYPES = frozenset(
    {"video/mp4", "video/webm", "video/mp2t", "video/quicktime", "text/srt", "text/vtt"}
    | {"image/jpeg", "image/gif", "image/bmp", "image/png", "image/webp", "image/pjpeg"}
    | {"image/tiff", "model/gltf-binary", "model/vnd.usdz+zip"}
)
"""``media_type`` values ``POST /2/media/upload/initialize`` accepts (X's OpenAPI spec)."""
COMMAND_REFUSED = (
    "The `command` parameter is deprecated: use POST /2/media/upload/initialize, "
    "POST /2/media/upload/{id}/append and POST /2/media/upload/{id}/finalize."
)
"""Our wording: X documents the deprecation, not the message it will answer with."""
PROCESSING_ERROR = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
"""A failed processing's ``error``, as X's status documentation shows it."""
REPLY_SETTINGS = {"following", "mentionedUsers", "subscribers", "verified"}
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
LOOKUP_MAX = 100
"""``GET /2/tweets``: ids per request."""
PUBLIC_METRICS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)
NON_PUBLIC_METRICS = ("impression_count", "url_link_clicks", "user_profile_clicks")
RATE_HEADERS = ("x-rate-limit-", "x-user-limit-24hour-", "x-app-limit-24hour-")
_LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,:;!?)\]']")


def tco(url: str) -> str:
    """The t.co address X gives a link (made up, but the same link gets the same one)."""
    return "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]


def as_x_returns(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A post's text as X's API returns it (links shortened, & < > escaped) and its URL
    entities, whose ``start``/``end`` count code points of the returned text."""
    out, urls, last = "", [], 0
    for match in _LINK.finditer(text):
        out += _escape(text[last : match.start()])
        short = tco(match.group(0))
        display = re.sub(r"\Ahttps?://(www\.)?", "", match.group(0))
        urls.append(
            {
                "start": len(out),
                "end": len(out) + len(short),
                "url": short,
                "expanded_url": match.group(0),
                "display_url": display[:23] + ("…" if len(display) > 23 else ""),
            }
        )
        out += short
        last = match.end()
    return out + _escape(text[last:]), urls


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def snowflake(instant: dt.datetime, sequence: int) -> str:
    milliseconds = int(instant.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((milliseconds << 22) | (sequence & 0xFFF))


def snowflake_time(tweet_id: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, dt.UTC)


@dataclass(frozen=True)
class Processing:
    """How X processes an upload after finalize. The finalize answer and each status answer
    after it take the next state: ``pending`` answers of ``pending``, then ``in_progress``
    answers of ``in_progress`` (None: it never ends), each asking to check again after
    ``check_after_secs``; then ``succeeded``, or ``failed`` with ``error`` when ``fails``. The
    last state is answered again to any later status request."""

    pending: int = 1
    in_progress: int | None = 1
    check_after_secs: int = 1
    fails: bool = False
    error: dict[str, Any] = field(default_factory=lambda: dict(PROCESSING_ERROR))

    def states(self) -> Iterator[dict[str, Any]]:
        for _ in range(self.pending):
            yield {"state": "pending", "check_after_secs": self.check_after_secs}
        polls = itertools.count() if self.in_progress is None else range(self.in_progress)
        percent = 0
        for n in polls:
            if self.in_progress is None:
                percent = min(99, 10 * (n + 1))
            else:
                percent = 100 * (n + 1) // (self.in_progress + 1)
            yield {
                "state": "in_progress",
                "check_after_secs": self.check_after_secs,
                "progress_percent": percent,
            }
        if self.fails:
            yield {"state": "failed", "progress_percent": percent, "error": dict(self.error)}
        else:
            yield {"state": "succeeded", "progress_percent": 100}


@dataclass
class Upload:
    id: str
    media_type: str
    total_bytes: int
    chunks: dict[int, bytes] = field(default_factory=dict)
    finalized: bool = False
    alt_text: str | None = None
    steps: list[str] = field(default_factory=list)
    """What the client did, in order: ``upload`` (the one request), or ``initialize``,
    ``append``..., ``finalize``, then ``status`` for each status request."""
    category: str = "tweet_image"
    processing: Iterator[dict[str, Any]] | None = None
    processing_info: dict[str, Any] | None = None
    """The latest processing state answered; None when X does not process this category."""

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks[index] for index in sorted(self.chunks))

    @property
    def ready(self) -> bool:
        """Whether a post may carry it: finalized, and processed if X processes it."""
        info = self.processing_info
        return self.finalized and (info is None or info.get("state") == "succeeded")

    def next_state(self) -> dict[str, Any] | None:
        if self.processing is not None:
            self.processing_info = next(self.processing, self.processing_info)
        return self.processing_info


@dataclass
class User:
    id: str
    username: str
    name: str
    subscription_type: str = "None"


@dataclass
class Token:
    secret: str
    user: User
    revoked: bool = False
    private_metrics: bool = False
    """Whether it may read ``non_public_metrics`` of its user's posts."""


@dataclass
class RequestToken:
    secret: str
    pin: str
    authorized_by: User | None = None


@dataclass
class Tweet:
    id: str
    text: str
    media_ids: list[str]
    in_reply_to: str | None
    reply_settings: str | None
    author_id: str | None = None
    public_metrics: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PUBLIC_METRICS, 0))
    non_public_metrics: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(NON_PUBLIC_METRICS, 0)
    )

    @property
    def created_at(self) -> dt.datetime:
        return snowflake_time(self.id)


class FakeX(FakeServer):
    name: ClassVar[str] = "x"

    def __init__(
        self,
        *,
        consumer_key: str = "consumer-key",
        consumer_secret: str = "consumer-secret",
        access_token: str = "1-access-token",
        access_token_secret: str = "access-token-secret",
        username: str = "BelgiumInJapan",
        name: str = "Belgium in Japan",
        private_metrics: bool = False,
        clock: Clock = utc_now,
    ) -> None:
        """``private_metrics``: the account's token may read its posts' ``non_public_metrics``."""
        super().__init__(clock=clock)
        self.consumer = (consumer_key, consumer_secret)
        self.token = (access_token, access_token_secret)
        self.username = username
        self.user_id = "1000000000000000001"
        self.users: dict[str, User] = {}
        """By lower-cased username."""
        self.tokens: dict[str, Token] = {}
        self.request_tokens: dict[str, RequestToken] = {}
        self._user_ids = itertools.count(1000000000000000001)
        self.browser_user = self.add_user(
            username, access_token=access_token, access_token_secret=access_token_secret, name=name
        )
        self.tokens[access_token].private_metrics = private_metrics
        self.tweets: dict[str, Tweet] = {}
        self.uploads: dict[str, Upload] = {}
        self.processing: dict[str, Processing] = {"tweet_gif": Processing()}
        """How X processes each media category after finalize (``process_media``); a category
        not here is ready at once, as X answers still images (no ``processing_info``)."""
        self.upload_ids: list[str] = []
        """Ids the next uploads take, in order (a test replaying X's documented answers, whose
        ids are fixed); snowflakes after them."""
        self.deleted: list[str] = []
        self._sequence = itertools.count(1)

    # --- X's shapes -------------------------------------------------------------------------

    def error_body(self, status: int, message: str | None = None) -> Any:
        if status == 402:
            return {
                "title": "CreditsDepleted",
                "detail": "Your enrolled account [1000000000000000001] does not have any "
                "credits to fulfill this request.",
                "type": "https://api.twitter.com/2/problems/credits",
            }
        if status == 400:
            return {
                "errors": [{"message": message or "Invalid Request"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            }
        titles = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found Error",
            429: "Too Many Requests",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }
        title = titles.get(status, "Error")
        return {"title": title, "detail": message or title, "type": "about:blank", "status": status}

    def rate_limit_headers(
        self, *, limit: int, remaining: int, reset_at: dt.datetime
    ) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(reset_at.timestamp())),
        }

    def usage_cap(self, *, period: str = "Monthly", **where: Any) -> Fault:
        """429 ``UsageCapExceeded``: the app's usage cap is spent (its ``period``, ``Monthly`` or
        ``Daily``), in the body X answers (tests/data/platforms/x_usage_cap_exceeded.json)."""
        body = {
            "account_id": "1000000000000000001",
            "product_name": "standard-basic",
            "title": "UsageCapExceeded",
            "period": period,
            "scope": "Product",
            "detail": f"Usage cap exceeded: {period} product cap",
            "type": "https://api.twitter.com/2/problems/usage-capped",
        }
        return self.inject(Fault(status=429, body=body, **where))

    def daily_limit(
        self,
        *,
        user: dt.datetime | None = None,
        app: dt.datetime | None = None,
        user_remaining: int = 0,
        app_remaining: int = 0,
        **where: Any,
    ) -> Fault:
        """429 carrying only the 24-hour headers: ``x-user-limit-24hour-*`` when ``user`` (its
        reset) is given, ``x-app-limit-24hour-*`` when ``app`` is; no 15-minute ones."""
        headers: dict[str, str] = {}
        for family, reset, remaining, limit in (
            ("x-user-limit-24hour", user, user_remaining, 17),
            ("x-app-limit-24hour", app, app_remaining, 10000),
        ):
            if reset is not None:
                headers[f"{family}-limit"] = str(limit)
                headers[f"{family}-remaining"] = str(remaining)
                headers[f"{family}-reset"] = str(int(reset.timestamp()))
        return self.inject(Fault(status=429, headers=headers, **where))

    def process_media(self, processing: Processing | None, *, category: str = "tweet_gif") -> None:
        """How X processes the next finalized uploads of ``category`` (None: not at all)."""
        if processing is None:
            self.processing.pop(category, None)
        else:
            self.processing[category] = processing

    def set_counts(
        self,
        tweet_id: str,
        *,
        non_public: dict[str, int | None] | None = None,
        **counts: int | None,
    ) -> None:
        """Set a post's ``public_metrics`` (``like_count=3``) and ``non_public_metrics``; a
        count given as None is removed (X leaves it out)."""
        with self.lock:
            tweet = self.tweets[tweet_id]
            for metrics, given, names in (
                (tweet.public_metrics, counts, PUBLIC_METRICS),
                (tweet.non_public_metrics, non_public or {}, NON_PUBLIC_METRICS),
            ):
                unknown = set(given) - set(names)
                if unknown:
                    raise ValueError(f"not an X metric: {sorted(unknown)}")
                for name, value in given.items():
                    if value is None:
                        metrics.pop(name, None)
                    else:
                        metrics[name] = value

    # --- users and tokens ---------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        name: str | None = None,
    ) -> User:
        """A user holding an access token (made up when not given: see ``token_of``)."""
        user = self.users.get(username.lower())
        if user is None:
            user = User(str(next(self._user_ids)), username, name or username)
            self.users[username.lower()] = user
        self.issue_token(user, access_token, access_token_secret)
        return user

    def issue_token(
        self, user: User, token: str | None = None, secret: str | None = None
    ) -> tuple[str, str]:
        with self.lock:
            token = token or f"{user.id}-{secrets.token_urlsafe(24)}"
            secret = secret or secrets.token_urlsafe(32)
            self.tokens[token] = Token(secret, user)
        return token, secret

    def token_of(self, username: str) -> tuple[str, str]:
        """The first live access token and secret of ``username``."""
        user = self.users[username.lower()]
        return next(
            (token, entry.secret)
            for token, entry in self.tokens.items()
            if entry.user is user and not entry.revoked
        )

    def revoke(self, access_token: str) -> None:
        """From now on the token gets X's 401, as after the user revokes the app."""
        self.tokens[access_token].revoked = True

    def login_as(self, username: str) -> User:
        """The user whose browser session approves the next PIN authorizations."""
        self.browser_user = self.users[username.lower()]
        return self.browser_user

    def dispatch(self, request: Request) -> Response:
        # The authorize page is opened by a person in a browser: not a signed API call.
        if request.path != "/oauth/authorize" and not self._signed(request):
            return self.error(401)
        response = super().dispatch(request)
        if not any(name.lower().startswith(RATE_HEADERS) for name in response.headers):
            # An answer that states its own limits (a rate-limit fault) carries only those.
            reset = self.clock() + dt.timedelta(minutes=15)
            response.headers = {
                **self.rate_limit_headers(limit=300, remaining=299, reset_at=reset),
                **response.headers,
            }
        return response

    def _signed(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("OAuth "):
            return False
        urlencoded = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        body = request.body.decode() if urlencoded else ""
        headers = {"Authorization": header}
        query = urlsplit(request.url).query
        oauth = dict(signature.collect_parameters(headers=headers, exclude_oauth_signature=False))
        token_secret = self._token_secret(request.path, oauth.get("oauth_token"))
        if oauth.get("oauth_consumer_key") != self.consumer[0] or token_secret is None:
            return False
        signed = SimpleNamespace(
            uri=request.url,
            http_method=request.method,
            params=signature.collect_parameters(uri_query=query, body=body, headers=headers),
            signature=oauth.get("oauth_signature", ""),
        )
        return bool(signature.verify_hmac_sha1(signed, self.consumer[1], token_secret))

    def _token_secret(self, path: str, token: str | None) -> str | None:
        """The secret the request must be signed with, or None when its token is not valid."""
        if path == "/oauth/request_token":
            return "" if token is None else None  # signed by the app alone
        if path == "/oauth/access_token":
            pending = self.request_tokens.get(token or "")
            return pending.secret if pending is not None else None
        entry = self.tokens.get(token or "")
        return entry.secret if entry is not None and not entry.revoked else None

    def _oauth(self, request: Request) -> dict[str, str]:
        header = {"Authorization": request.headers.get("authorization", "")}
        return dict(signature.collect_parameters(headers=header, exclude_oauth_signature=False))

    def _user(self, request: Request) -> User:
        return self.tokens[self._oauth(request)["oauth_token"]].user

    # --- the PIN flow -------------------------------------------------------------------------

    @route("POST", "/oauth/request_token")
    def request_token(self, request: Request) -> Response:
        if self._oauth(request).get("oauth_callback") != "oob":
            return self.error(400, "oauth_callback must be 'oob' for the PIN flow")
        token, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
        self.request_tokens[token] = RequestToken(secret, f"{secrets.randbelow(10**7):07d}")
        return Response(
            200,
            urlencode(
                {
                    "oauth_token": token,
                    "oauth_token_secret": secret,
                    "oauth_callback_confirmed": "true",
                }
            ),
        )

    @route("GET", "/oauth/authorize")
    def authorize(self, request: Request) -> Response:
        pending = self.request_tokens.get(request.arg("oauth_token") or "")
        if pending is None:
            return Response(
                403, "<p>This page is no longer valid.</p>", {"Content-Type": "text/html"}
            )
        pending.authorized_by = self.browser_user  # the person clicked "Authorize app"
        page = (
            f"<p>You've granted access to your account @{html.escape(self.browser_user.username)}."
            f' Enter this PIN to complete the authorization process:</p><div id="oauth_pin">'
            f"<kbd><code>{pending.pin}</code></kbd></div>"
        )
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    @route("POST", "/oauth/access_token")
    def access_token(self, request: Request) -> Response:
        oauth = self._oauth(request)
        pending = self.request_tokens.pop(oauth["oauth_token"])
        user = pending.authorized_by
        if user is None or oauth.get("oauth_verifier") != pending.pin:
            return Response(
                401, "Error processing your OAuth request: Invalid oauth_verifier parameter"
            )
        token, secret = self.issue_token(user)
        return Response(
            200,
            urlencode(
                {
                    "oauth_token": token,
                    "oauth_token_secret": secret,
                    "user_id": user.id,
                    "screen_name": user.username,
                }
            ),
        )

    # --- tweets -----------------------------------------------------------------------------

    @route("POST", "/2/tweets")
    def create_tweet(self, request: Request) -> Response:
        body = request.json() or {}
        text = body.get("text", "")
        media_ids = (body.get("media") or {}).get("media_ids", [])
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        author = self._user(request).id
        problem = self._tweet_problem(text, media_ids, reply_to, body.get("reply_settings"), author)
        if problem is not None:
            return problem
        tweet = Tweet(
            snowflake(self.clock(), next(self._sequence)),
            text,
            media_ids,
            reply_to,
            body.get("reply_settings"),
            author,
        )
        self.tweets[tweet.id] = tweet
        shown, _ = as_x_returns(text)
        return Response(
            201, {"data": {"id": tweet.id, "text": shown, "edit_history_tweet_ids": [tweet.id]}}
        )

    def _tweet_problem(
        self,
        text: str,
        media_ids: list[str],
        reply_to: str | None,
        settings: str | None,
        author: str | None,
    ) -> Response | None:
        if not text and not media_ids:
            return self.error(400, "The `text` field is required when no media is attached.")
        if text_length(text, LengthRule.TWITTER_WEIGHTED) > 280:
            return self.error(400, "The text of your Tweet is too long.")
        # X refuses the same text twice from one account; other accounts may post it.
        if any(t.text == text and text and t.author_id == author for t in self.tweets.values()):
            return self.error(403, DUPLICATE)
        if len(media_ids) > 4 or any(not self._ready(m) for m in media_ids):
            return self.error(400, "Your media IDs are invalid.")
        if reply_to is not None and reply_to not in self.tweets:
            return self.error(
                400, "The Tweet you are replying to has been deleted or is not visible to you."
            )
        if settings is not None and settings not in REPLY_SETTINGS:
            return self.error(
                400, f"reply_settings {settings!r} is not one of {sorted(REPLY_SETTINGS)}"
            )
        return None

    def _ready(self, media_id: str) -> bool:
        upload = self.uploads.get(media_id)
        return upload is not None and upload.ready

    @route("GET", "/2/tweets")
    def lookup(self, request: Request) -> Response:
        """Posts by id, up to 100, as X answers them (see the module docstring)."""
        given = request.arg("ids") or ""
        ids = [i for i in given.split(",") if i]
        if not 1 <= len(ids) <= LOOKUP_MAX:
            return self._lookup_refused(given, len(ids))
        fields = set((request.arg("tweet.fields") or "").split(","))
        token = self.tokens[self._oauth(request)["oauth_token"]]
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for tweet_id in ids:
            tweet = self.tweets.get(tweet_id)
            if tweet is None:
                errors.append(_not_found(tweet_id))
            elif "non_public_metrics" in fields and not (
                token.private_metrics and tweet.author_id == token.user.id
            ):
                errors.extend(_field_refused(tweet_id, name) for name in NON_PUBLIC_METRICS)
            else:
                data.append(self._tweet_json(tweet, fields))
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return Response(200, body)

    def _lookup_refused(self, given: str, count: int) -> Response:
        return Response(
            400,
            {
                "errors": [
                    {
                        "parameters": {"ids": [given]},
                        "message": f"The number of values in the `ids` query parameter list "
                        f"[{count}] is not between 1 and {LOOKUP_MAX}",
                    }
                ],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
        )

    @route("DELETE", r"/2/tweets/(?P<tweet_id>\d+)")
    def delete_tweet(self, request: Request, tweet_id: str) -> Response:
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            return self.error(404, f"Could not find tweet with id: [{tweet_id}].")
        if tweet.author_id != self._user(request).id:
            return self.error(403, "You are not allowed to delete a Tweet you did not create.")
        del self.tweets[tweet_id]
        self.deleted.append(tweet_id)
        return Response(200, {"data": {"deleted": True}})

    @route("GET", "/2/users/me")
    def me(self, request: Request) -> Response:
        found = self._user(request)
        user = {"id": found.id, "name": found.name, "username": found.username}
        if "subscription_type" in (request.arg("user.fields") or ""):
            user["subscription_type"] = found.subscription_type
        return Response(200, {"data": user})

    @route("GET", r"/2/users/(?P<user_id>\d+)/tweets")
    def timeline(self, request: Request, user_id: str) -> Response:
        limit = int(request.arg("max_results", "10") or 10)
        if not 5 <= limit <= 100:
            return self.error(
                400, f"The `max_results` query parameter value [{limit}] is not between 5 and 100"
            )
        newest = self._timeline(user_id, request)
        token = request.arg("pagination_token")
        start = next((i for i, t in enumerate(newest) if t.id == token), -1) + 1 if token else 0
        page = newest[start : start + limit]
        fields = set((request.arg("tweet.fields") or "").split(","))
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if start + limit < len(newest):
            meta["next_token"] = page[-1].id
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._tweet_json(t, fields) for t in page]
        return Response(200, body)

    def _timeline(self, user_id: str, request: Request) -> list[Tweet]:
        """The user's own posts, newest first, within ``start_time`` and ``end_time``."""
        bounds = [_instant(request.arg(name)) for name in ("start_time", "end_time")]
        return [
            t
            for t in sorted(self.tweets.values(), key=lambda t: int(t.id), reverse=True)
            if t.author_id == user_id
            and (bounds[0] is None or t.created_at >= bounds[0])
            and (bounds[1] is None or t.created_at <= bounds[1])
        ]

    @staticmethod
    def _tweet_json(tweet: Tweet, fields: set[str]) -> dict[str, Any]:
        text, urls = as_x_returns(tweet.text)
        data: dict[str, Any] = {
            "id": tweet.id,
            "text": text,
            "edit_history_tweet_ids": [tweet.id],
        }
        if "created_at" in fields:
            data["created_at"] = tweet.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if "entities" in fields and urls:
            data["entities"] = {"urls": urls}
        if "referenced_tweets" in fields and tweet.in_reply_to:
            data["referenced_tweets"] = [{"type": "replied_to", "id": tweet.in_reply_to}]
        if "public_metrics" in fields:
            data["public_metrics"] = dict(tweet.public_metrics)
        if "non_public_metrics" in fields:
            data["non_public_metrics"] = dict(tweet.non_public_metrics)
        return data

    # --- media ------------------------------------------------------------------------------

    @route("POST", "/2/media/upload")
    def upload(self, request: Request) -> Response:
        """The one-request upload; the deprecated ``command`` form is refused."""
        fields = _fields(request)
        if "command" in fields or request.arg("command") is not None:
            return self.error(400, COMMAND_REFUSED)
        data = fields.get("media", b"")
        category = fields.get("media_category", b"").decode()
        if not data or not category:
            return self.error(400, "The `media` and `media_category` fields are required.")
        if category not in ONE_REQUEST_CATEGORIES:
            return self.error(
                400,
                f"media_category {category!r} is not one of {sorted(ONE_REQUEST_CATEGORIES)}: "
                "use the chunked upload (POST /2/media/upload/initialize)",
            )
        if len(data) > MAX_IMAGE_BYTES:
            return self.error(400, f"File size exceeds {MAX_IMAGE_BYTES} bytes.")
        upload = self._new_upload(fields.get("media_type", b"").decode(), len(data), category)
        upload.steps.append("upload")
        upload.chunks[0] = data
        upload.finalized = True
        return Response(200, {"data": self._media_json(upload)})

    @route("POST", "/2/media/upload/initialize")
    def initialize(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self.error(400, "The request body must be JSON (application/json).")
        body = request.json()
        if not isinstance(body, dict):
            return self.error(400, "The request body must be a JSON object.")
        unknown = set(body) - {
            "media_type",
            "total_bytes",
            "media_category",
            "additional_owners",
            "shared",
        }
        if unknown:
            return self.error(400, f"Unknown fields: {', '.join(sorted(unknown))}")
        total, media_type = body.get("total_bytes"), body.get("media_type")
        category = body.get("media_category", "tweet_image")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            return self.error(400, "`total_bytes` must be a non-negative integer.")
        if media_type not in MEDIA_TYPES:
            return self.error(400, f"`media_type` {media_type!r} is not supported.")
        if category not in MEDIA_CATEGORIES:
            return self.error(400, f"`media_category` {category!r} is not supported.")
        limit = MAX_GIF_BYTES if category.endswith("_gif") else MAX_IMAGE_BYTES
        if total > limit:
            return self.error(400, f"File size exceeds {limit} bytes.")
        upload = self._new_upload(media_type, total, category)
        upload.steps.append("initialize")
        return Response(
            200,
            {"data": {"id": upload.id, "media_key": f"3_{upload.id}", "expires_after_secs": 86400}},
        )

    @route("POST", r"/2/media/upload/(?P<media_id>\d+)/append")
    def append(self, request: Request, media_id: str) -> Response:
        upload = self.uploads.get(media_id)
        if upload is None or upload.finalized:
            return self.error(400, f"Invalid media id: [{media_id}].")
        fields = _fields(request)
        data, index = fields.get("media"), fields.get("segment_index", b"").decode()
        if not data or not index.isdigit() or not 0 <= int(index) <= 999:
            return self.error(400, "`media` and a `segment_index` from 0 to 999 are required.")
        upload.chunks[int(index)] = data
        upload.steps.append("append")
        return Response(200, {"data": {"expires_at": int(self.clock().timestamp()) + 86400}})

    @route("POST", r"/2/media/upload/(?P<media_id>\d+)/finalize")
    def finalize(self, request: Request, media_id: str) -> Response:
        upload = self.uploads.get(media_id)
        if upload is None or upload.finalized:
            return self.error(400, f"Invalid media id: [{media_id}].")
        if len(upload.data) != upload.total_bytes:
            return self.error(
                400,
                f"File size {len(upload.data)} does not match total_bytes {upload.total_bytes}.",
            )
        upload.finalized = True
        upload.steps.append("finalize")
        processing = self.processing.get(upload.category)
        if processing is not None:
            upload.processing = processing.states()
            upload.next_state()
        return Response(200, {"data": self._media_json(upload)})

    @route("GET", "/2/media/upload")
    def status(self, request: Request) -> Response:
        """The status; ``command=STATUS`` is still documented as optional, so it is accepted."""
        upload = self.uploads.get(request.arg("media_id") or "")
        if request.arg("command") not in (None, "STATUS"):
            return self.error(400, f"Unknown command {request.arg('command')}")
        if upload is None:
            return self.error(400, f"Invalid media id: [{request.arg('media_id')}].")
        upload.steps.append("status")
        upload.next_state()
        return Response(200, {"data": self._media_json(upload)})

    @route("POST", "/2/media/metadata")
    def metadata(self, request: Request) -> Response:
        body = request.json() or {}
        upload = self.uploads.get(str(body.get("id")))
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if upload is None:
            return self.error(400, "Invalid media id")
        if alt is None or len(alt) > 1000:
            return self.error(400, "alt_text.text must be 1 to 1000 characters.")
        upload.alt_text = alt
        return Response(
            200, {"data": {"id": upload.id, "associated_metadata": {"alt_text": {"text": alt}}}}
        )

    def _new_upload(self, media_type: str, total: int, category: str) -> Upload:
        media_id = (
            self.upload_ids.pop(0)
            if self.upload_ids
            else snowflake(self.clock(), next(self._sequence))
        )
        upload = Upload(media_id, media_type, total, category=category)
        self.uploads[upload.id] = upload
        return upload

    def _media_json(self, upload: Upload) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": upload.id,
            "media_key": f"3_{upload.id}",
            "size": upload.total_bytes,
            "expires_after_secs": 86400,
        }
        if upload.processing_info is not None:
            data["processing_info"] = dict(upload.processing_info)
        return data

    @property
    def posted(self) -> list[Tweet]:
        """The posts that exist, oldest first, as they were sent (links not shortened)."""
        return sorted(self.tweets.values(), key=lambda t: int(t.id))


def _not_found(tweet_id: str) -> dict[str, Any]:
    """X's problem for an id it does not have
    (tests/data/platforms/x_tweets_public_metrics.json)."""
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with ids: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": tweet_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def _field_refused(tweet_id: str, name: str) -> dict[str, Any]:
    """X's problem for a field the token may not read
    (tests/data/platforms/x_tweets_non_public_metrics_refused.json)."""
    field_name = f"non_public_metrics.{name}"
    return {
        "resource_type": "tweet",
        "field": field_name,
        "parameter": "id",
        "resource_id": tweet_id,
        "title": "Field Authorization Error",
        "section": "data",
        "detail": f"Sorry, you are not authorized to access '{field_name}' on the Tweet with "
        f"id : [{tweet_id}].",
        "value": tweet_id,
        "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
    }


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _fields(request: Request) -> dict[str, bytes]:
    """A media request's fields, each once: from a multipart or urlencoded form, or from a JSON
    object (where ``media`` is base64, as X's reference says)."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        return {name: values[-1] for name, values in request.form().items()}
    body = request.json()
    if not isinstance(body, dict):
        return {}
    fields = {name: str(value).encode() for name, value in body.items() if name != "media"}
    if "media" in body:
        try:
            fields["media"] = base64.b64decode(str(body["media"]), validate=True)
        except (binascii.Error, ValueError):
            fields["media"] = b""
    return fields
