"""Bluesky, through atproto: a handle and an app password per account.

What the SDK does not do for us, and this adapter does:

- **Sessions are kept.** ``createSession`` is limited to 30 per 5 minutes and 300 a day, so we
  never log in per post: the session (``export_session_string``, kept up to date through
  ``on_session_change``) goes to ``settings.state``, which the daemon backs with a private file
  beside the secrets file (never the database). A stored session is tied to the base URL it was
  made with. An access token the PDS calls expired (``ExpiredToken``) is refreshed, or failing
  that the adapter logs in again, and the rejected call is made once more.
- **Length**: at most 300 graphemes and 3,000 bytes of UTF-8 (the post lexicon's
  ``maxGraphemes`` and ``maxLength``), checked before anything is uploaded with the validator's
  own rule (``adapters.textlength.too_long``). The SDK checks neither: its model caps the text
  at 3,000 code points, and 130 family emoji are 910 code points but 3,250 bytes.
- **Facets** (links, hashtags, mentions) come from the SDK's ``detect_facets``, which gives UTF-8
  byte offsets and resolves mentioned handles to DIDs through the PDS.
- **A post and its threadgate are one commit** (``applyWrites``), so a post never goes out
  without the reply controls it was meant to have. Threadgates apply to a thread's first post.
- **A post's record key is derived from its delivery** (:func:`record_key`: a TID whose time is
  when the delivery was due and whose low bits come from its idempotency key). Bluesky takes no
  idempotency key, but a repo holds one record per key: a second create of the same delivery is
  refused (the reference PDS answers 500, others 409 ``RecordAlreadyExists``), and a failed
  create is followed by a ``getRecord`` of that key, which tells whether the post exists. An
  unknown outcome is settled the same way (:meth:`BlueskyAdapter.find_published`).
- **Replies** reference the thread's root and the parent by URI and CID; CIDs of posts made by
  this adapter are remembered, others are read with ``getRecord``.
- Timeouts: every request has ``settings.timeout`` (httpx's default is 5 s).
- **One HTTP client for all accounts** (per timeout): an httpx client costs ~35 ms and ~0.8 MB
  to make (its TLS context loads the CA bundle), which at 2,000 accounts was most of a daemon's
  memory and of a token check's time. The account's own state (its session's headers) is in the
  SDK's ``Request`` around it, one per adapter; the shared client keeps no cookies.

- **Engagement counts** come from ``app.bsky.feed.getPosts`` (25 URIs a call) on the AppView
  (``settings.appview``), without a session: no ``createSession`` is spent on reading.

The remote id of a post is its AT URI; the platform timestamp is the record's ``createdAt``.

Onboarding (:class:`BlueskyAppPassword`): the person creates an app password in Bluesky's
settings and pastes it; it is checked with a real ``createSession`` (never the account's main
password, which is refused by its shape), and the session is kept for the adapter that follows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import re
import secrets as random
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache, partial
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, ClassVar, TypeVar

import httpx
from atproto import Client, Session, SessionEvent, models
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    ModelError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.exceptions import (
    NetworkError as AtNetworkError,
)
from atproto_client.models.common import XrpcError
from atproto_client.models.utils import get_response_model
from atproto_client.request import Request as AtRequest
from atproto_client.request import RequestBase
from atproto_core.exceptions import AtProtocolError
from PIL import Image, UnidentifiedImageError

from adapters._transport import network_error
from adapters.base import (
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
from adapters.capabilities import BLUESKY
from adapters.errors import (
    ContentRejected,
    CredentialsInvalid,
    Duplicate,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    ServerError,
)
from adapters.secrets import Secret
from adapters.textlength import too_long

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
SESSION_VERSION = 1
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TOKEN_ERRORS = {"ExpiredToken", "InvalidToken"}
_ACCOUNT_ERRORS = {"AccountTakedown", "AccountDeactivated", "AuthenticationRequired"}
T = TypeVar("T")
APP_PASSWORDS_PAGE = "https://bsky.app/settings/app-passwords"
DEFAULT_APPVIEW = "https://public.api.bsky.app"
"""Bluesky's public AppView: reads posts and their counts without a session."""
METRICS = {
    "like_count": "likes",
    "repost_count": "reposts",
    "reply_count": "replies",
    "quote_count": "quotes",
    "bookmark_count": "bookmarks",
}
"""A postView's counts (``likeCount`` ...), by our metric names; the AppView added
``bookmarkCount`` in 2025 (an older one leaves it out: then it is absent, never 0)."""
METRICS_BATCH = 25
"""URIs per ``app.bsky.feed.getPosts``: the lexicon's ``maxLength``."""
APP_PASSWORD = re.compile(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}")


class BlueskyAppPassword(Authorization):
    """An app password, created by the person and checked here with a new session."""

    code_label: ClassVar[str] = "app password"
    hide_code: ClassVar[bool] = True
    instructions: ClassVar[str] = (
        "Open this URL logged in to Bluesky as {handle}, add an app password "
        "(without access to direct messages), then paste it here."
    )

    def __init__(self, *, settings: AdapterSettings, base_url: str | None) -> None:
        self.settings = settings
        self.base_url = base_url

    def authorization_url(self) -> str:
        return APP_PASSWORDS_PAGE

    def finish(self, code: str) -> dict[str, Secret]:
        password = code.strip().lower()
        if not APP_PASSWORD.fullmatch(password):
            raise CredentialsInvalid(
                "Bluesky: that is not an app password (four groups of four letters or digits, "
                "xxxx-xxxx-xxxx-xxxx); never give the account's own password"
            )
        credentials = {"app_password": Secret(password)}
        adapter = BlueskyAdapter(
            settings=self.settings, credentials=credentials, base_url=self.base_url
        )
        try:
            adapter.log_in()
        finally:
            adapter.close()
        return credentials


class BlueskyAdapter(Adapter):
    capabilities = BLUESKY
    credential_fields: ClassVar[tuple[str, ...]] = ("app_password",)
    default_base_url: ClassVar[str | None] = "https://bsky.social"
    metrics_batch: ClassVar[int] = METRICS_BATCH

    def __init__(
        self,
        *,
        settings: AdapterSettings,
        credentials: Mapping[str, Secret],
        base_url: str | None = None,
    ) -> None:
        super().__init__(settings=settings, credentials=credentials, base_url=base_url)
        self.client = Client(base_url=self.base_url, request=_SharedRequest(settings.timeout))
        self.client.on_session_change(self._save_session)
        self.appview = (settings.appview or self._default_appview()).rstrip("/")
        self._appview = Client(base_url=self.appview, request=_SharedRequest(settings.timeout))
        """Reads counts without a session: a public AppView needs none, and no call here
        spends one of the PDS's few ``createSession``."""
        self._session: Session | None = None
        self._cids: dict[str, str] = {}
        self._clock_id = random.randbelow(1024)
        self._last_tid_us = 0

    def _default_appview(self) -> str:
        """Bluesky's public AppView for an account on Bluesky's own PDS; with another base URL
        (a staging network, a test's fake), that server: a post made there is not on Bluesky's
        AppView, and a rehearsal must not read the real network."""
        return DEFAULT_APPVIEW if self.base_url == self.default_base_url else self.base_url

    @classmethod
    def authorization(
        cls,
        *,
        settings: AdapterSettings,
        app: Mapping[str, Secret],
        base_url: str | None = None,
    ) -> Authorization:
        return BlueskyAppPassword(settings=settings, base_url=base_url)

    def log_in(self) -> None:
        """A new session from the app password, whatever session is stored (``createSession``
        is rate limited: for checking a new password, not for every call)."""
        with self._errors("log in"):
            self._login()

    # --- the interface ----------------------------------------------------------------------

    def publish(self, part: OutgoingPart) -> Published:
        over = too_long(part.text, BLUESKY)
        if over is not None:
            raise ContentRejected(f"Bluesky: the text is too long: expected {over.expected}")
        images = [
            self._authed(f"upload {item.filename}", partial(self._image, item))
            for item in part.media
        ]
        record = self._authed("build the post", lambda: self._post_record(part, images))
        rkey = record_key(part) if part.scheduled_at else self._next_rkey()
        uri = f"at://{self._did}/{POST}/{rkey}"
        writes = [_create(POST, rkey, record)]
        if part.replies != "everyone" and part.in_reply_to is None:
            writes.append(_create(THREADGATE, rkey, self._threadgate(uri, part.replies)))
        data = models.ComAtprotoRepoApplyWrites.Data(repo=self._did, writes=writes)
        try:
            result = self._authed(
                "create the post",
                lambda: self.client.com.atproto.repo.apply_writes(data),
                creates=True,
            )
        except (ServerError, Duplicate, OutcomeUnknown):
            existing = self._existing(rkey)
            if existing is None:
                raise
            log.info("Bluesky %s: %s exists already: it was this delivery's", self._handle, uri)
            return existing
        self._cids[uri] = _first_cid(result, uri)
        return self._published(uri, result.commit.rev if result.commit else None, images)

    def _published(
        self, uri: str, rev: str | None, images: Sequence[models.AppBskyEmbedImages.Image] = ()
    ) -> Published:
        """``rev``: the revision of the repo commit that created the record, a TID stamped with
        the PDS's clock; the record's own ``createdAt`` is ours, so without a rev, no time."""
        return Published(
            platform=self.platform,
            remote_id=uri,
            url=self.capabilities.post_url.format(handle=self._handle, id=uri.rsplit("/", 1)[1]),
            published_at=_tid_time(rev) if rev else None,
            media_ids=tuple(image.image.ref.link for image in images),
        )

    def _existing(self, rkey: str) -> Published | None:
        """The post at this record key of the account's repo, or None; after a failed create,
        so any error in asking is swallowed (the create's own error is the one to report)."""
        try:
            return self._post_at(rkey)
        except PublishError as exc:
            log.info("Bluesky %s: could not look for record %s: %s", self._handle, rkey, exc)
            return None

    def _post_at(self, rkey: str) -> Published | None:
        def get_record() -> Any:  # the account's DID is known once a session is
            params = models.ComAtprotoRepoGetRecord.Params(
                repo=self._did, collection=POST, rkey=rkey
            )
            return self.client.com.atproto.repo.get_record(params)

        try:
            found = self._authed(f"read record {rkey}", get_record)
        except ContentRejected as exc:
            if isinstance(exc.__cause__, BadRequestError) and (
                _xrpc_error(exc.__cause__) == "RecordNotFound"
            ):
                return None
            raise
        self._cids[found.uri] = str(found.cid)
        return self._published(found.uri, None)  # getRecord says nothing of when it was made

    def delete(self, remote_id: str) -> None:
        repo, collection, rkey = _split_uri(remote_id)
        for name in (collection, THREADGATE):  # the threadgate shares the post's record key
            data = models.ComAtprotoRepoDeleteRecord.Data(repo=repo, collection=name, rkey=rkey)
            delete = partial(self.client.com.atproto.repo.delete_record, data)
            self._authed(f"delete {remote_id}", delete)

    def _fetch_metrics_batch(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """``app.bsky.feed.getPosts`` on the AppView: the posts that exist, as postViews (a
        deleted post is left out of its answer)."""
        params = models.AppBskyFeedGetPosts.Params(uris=list(remote_ids))
        with self._errors(f"read the posts' counts from {self.appview}"):
            posts = self._appview.app.bsky.feed.get_posts(params).posts
        return [PostMetrics(str(post.uri), _counts(post)) for post in posts]

    def verify(self) -> AccountCheck:
        session = self._authed("verify the credentials", self.client.com.atproto.server.get_session)
        limits = AccountLimits(
            BLUESKY.max_length,
            BLUESKY.max_images,
            BLUESKY.max_image_bytes,
            None,
            BLUESKY.max_alt_text,
        )
        return AccountCheck(
            self.platform, session.did, f"@{session.handle}", None, limits, server=self.base_url
        )

    def find_published(
        self, part: OutgoingPart, *, since: dt.datetime, taken: Collection[str] = frozenset()
    ) -> Published | None:
        """By the record key derived from the delivery: one ``getRecord``, no search."""
        if part.scheduled_at is None:
            raise OutcomeUnknown("Bluesky: the post's record key is not known (no due time)")
        found = self._post_at(record_key(part))
        if found is not None and found.remote_id in taken:
            raise OutcomeUnknown(f"Bluesky: {found.remote_id} settles another delivery already")
        return found

    def close(self) -> None:
        """Nothing to release: the HTTP client is shared by every account (see the module
        docstring), and lives as long as the process."""

    # --- sessions ---------------------------------------------------------------------------

    def _secret_values(self) -> list[str]:
        tokens = [self._session.access_jwt, self._session.refresh_jwt] if self._session else []
        return [*super()._secret_values(), *tokens]

    def _authed(self, action: str, call: Callable[[], T], *, creates: bool = False) -> T:
        """Run ``call`` with a session, renewing it once if the PDS says the token expired."""
        with self._errors(action, creates=creates):
            self._ensure_session()
            try:
                return call()
            except (BadRequestError, UnauthorizedError) as exc:
                if _xrpc_error(exc) not in _TOKEN_ERRORS:
                    raise
                log.info(
                    "Bluesky %s: access token refused (%s); renewing the session",
                    self._handle,
                    _xrpc_error(exc),
                )
            self._renew_session()
            return call()

    def _ensure_session(self) -> None:
        if self._session is not None:
            return
        stored = self._stored_session()
        if stored is not None:
            self.client.login(session_string=stored, fetch_bsky_profile=False)
        else:
            self._login()

    def _login(self) -> None:
        # createSession: rate limited hard (30/5 min, 300/day); only when no session can be used.
        self.client.login(
            self.settings.handle.lstrip("@"), self.secret("app_password"), fetch_bsky_profile=False
        )

    def _renew_session(self) -> None:
        try:
            self.client._refresh_and_set_session()  # the SDK refreshes only ahead of expiry
        except (BadRequestError, UnauthorizedError, LoginRequiredError):
            self._login()

    def _save_session(self, event: SessionEvent, session: Session) -> None:
        self._session = session
        if event is not SessionEvent.IMPORT:
            payload = {
                "version": SESSION_VERSION,
                "base_url": self.base_url,
                "session": session.encode(),
            }
            self.settings.state.save(json.dumps(payload))

    def _stored_session(self) -> str | None:
        try:
            payload = json.loads(self.settings.state.load() or "null")
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("version") != SESSION_VERSION:
            return None
        if payload.get("base_url") != self.base_url:
            return None  # made against another server (a test fake, a moved PDS): log in afresh
        session = payload.get("session")
        return session if isinstance(session, str) else None

    @property
    def _did(self) -> str:
        assert self._session is not None
        return str(self._session.did)

    @property
    def _handle(self) -> str:
        return (
            self._session.handle if self._session is not None else self.settings.handle.lstrip("@")
        )

    # --- records ----------------------------------------------------------------------------

    def _image(self, item: MediaItem) -> models.AppBskyEmbedImages.Image:
        data = item.read()
        # Not repo.upload_blob: it hands httpx the bytes as ``data=``, which httpx 0.28 deprecates
        # (a DeprecationWarning on every upload). ``content=`` is the same request.
        response = self.client.invoke_procedure(
            "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": item.mime}
        )
        blob = get_response_model(response, models.ComAtprotoRepoUploadBlob.Response).blob
        return models.AppBskyEmbedImages.Image(
            alt=item.alt, image=blob, aspect_ratio=_aspect_ratio(item, data)
        )

    def _post_record(
        self, part: OutgoingPart, images: list[models.AppBskyEmbedImages.Image]
    ) -> models.AppBskyFeedPost.Record:
        return models.AppBskyFeedPost.Record(
            text=part.text,
            created_at=self._timestamp(),
            facets=self.client.detect_facets(part.text) or None,
            embed=models.AppBskyEmbedImages.Main(images=images) if images else None,
            reply=self._reply_ref(part),
            langs=[part.language] if part.language else None,
        )

    def _reply_ref(self, part: OutgoingPart) -> models.AppBskyFeedPost.ReplyRef | None:
        if part.in_reply_to is None:
            return None
        parent = self._strong_ref(part.in_reply_to)
        root = self._strong_ref(part.thread_root) if part.thread_root else parent
        return models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)

    def _strong_ref(self, uri: str) -> models.ComAtprotoRepoStrongRef.Main:
        if uri not in self._cids:
            repo, collection, rkey = _split_uri(uri)
            params = models.ComAtprotoRepoGetRecord.Params(
                repo=repo, collection=collection, rkey=rkey
            )
            self._cids[uri] = str(self.client.com.atproto.repo.get_record(params).cid)
        return models.ComAtprotoRepoStrongRef.Main(uri=uri, cid=self._cids[uri])

    def _threadgate(self, post_uri: str, replies: str) -> models.AppBskyFeedThreadgate.Record:
        rule: models.AppBskyFeedThreadgate.FollowingRule | models.AppBskyFeedThreadgate.MentionRule
        if replies == "following":
            rule = models.AppBskyFeedThreadgate.FollowingRule()
        else:
            rule = models.AppBskyFeedThreadgate.MentionRule()
        return models.AppBskyFeedThreadgate.Record(
            post=post_uri, allow=[rule], created_at=self._timestamp()
        )

    def _timestamp(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def _next_rkey(self) -> str:
        """A TID: microseconds since the epoch and a clock id, in base32-sortable."""
        micros = max(int(self.now().timestamp() * 1_000_000), self._last_tid_us + 1)
        self._last_tid_us = micros
        return _tid(micros, self._clock_id)

    # --- the one place Bluesky errors are interpreted -----------------------------------------

    @contextmanager
    def _map_errors(self, action: str, *, creates: bool = False) -> Iterator[None]:
        where = f"Bluesky account {self.settings.handle}: could not {action}"
        try:
            yield
        except RateLimitExceededError as exc:
            raise RateLimited(
                f"{where}: rate limited", reset_at=exc.reset_at or self.now() + DEFAULT_BACKOFF
            ) from exc
        except (UnauthorizedError, LoginRequiredError) as exc:
            raise CredentialsInvalid(f"{where}: {exc}") from exc
        except BadRequestError as exc:
            kind = (
                CredentialsInvalid
                if _xrpc_error(exc) in _TOKEN_ERRORS | _ACCOUNT_ERRORS
                else ContentRejected
            )
            raise kind(f"{where}: {exc}") from exc
        except AtNetworkError as exc:
            raise _status_error(where, exc, creates=creates) from exc
        except RequestException as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise (ServerError if status >= 500 else ContentRejected)(f"{where}: {exc}") from exc
        except httpx.HTTPError as exc:  # e.g. RemoteProtocolError, which the SDK lets through
            raise network_error(where, exc, creates=creates) from exc
        except (ModelError, AtProtocolError) as exc:
            unexpected: type[PublishError] = OutcomeUnknown if creates else ContentRejected
            raise unexpected(f"{where}: unexpected answer ({exc})") from exc


class _SharedRequest(AtRequest):  # type: ignore[misc]
    """The SDK's request wrapper on the process's shared HTTP client: one account's headers
    (its session), on connections every account uses. Closing it leaves the client open."""

    def __init__(self, timeout: float) -> None:
        RequestBase.__init__(self)
        self._client_kwargs = {"timeout": timeout}
        self._client = _http_client(timeout)

    def _new_instance(self) -> _SharedRequest:
        return _SharedRequest(self._client_kwargs["timeout"])

    def close(self) -> None:
        pass


_HTTP_CLIENTS_LOCK = threading.Lock()


def _http_client(timeout: float) -> httpx.Client:
    with _HTTP_CLIENTS_LOCK:
        return _make_http_client(timeout)


@cache
def _make_http_client(timeout: float) -> httpx.Client:
    """What ``atproto``'s own ``Request`` makes, once per timeout, without a cookie jar that
    one account's answers could fill for another."""
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.Client(follow_redirects=True, timeout=timeout, cookies=no_cookies)


def _status_error(where: str, exc: AtNetworkError, *, creates: bool) -> PublishError:
    """The SDK's NetworkError: a transport failure, or a 409, 413 or 502 answer."""
    status = exc.response.status_code if exc.response is not None else None
    if status is None:
        return network_error(where, exc, creates=creates)
    if status == 409:
        return Duplicate(f"{where}: {exc}")
    if status == 413:
        return ContentRejected(f"{where}: {exc}")
    return ServerError(f"{where}: {exc}")


def _counts(post: models.AppBskyFeedDefs.PostView) -> dict[str, int]:
    return counts_of({name: getattr(post, name, None) for name in METRICS}, METRICS)


def _xrpc_error(exc: RequestErrorBase) -> str | None:
    content = exc.response.content if exc.response is not None else None
    return content.error if isinstance(content, XrpcError) else None


def record_key(part: OutgoingPart) -> str:
    """The record key of the post a delivery makes: a TID (53 bits of microseconds since the
    epoch, 10 bits of clock id, in base32-sortable) whose second is when the delivery was due,
    so records sort by when they were meant to go out (a reply just after the part it answers),
    and whose microseconds and clock id come from the idempotency key. The same delivery always
    gets the same key; two deliveries of one account collide with a chance of one in 10⁹ even
    when due in the same second."""
    assert part.scheduled_at is not None
    digest = int.from_bytes(hashlib.sha256(part.idempotency_key.encode()).digest()[:8], "big")
    micros = int(part.scheduled_at.timestamp()) * 1_000_000 + digest % 1_000_000
    parent = _tid_micros(part.in_reply_to.rsplit("/", 1)[-1]) if part.in_reply_to else None
    if parent is not None and micros <= parent:
        micros = parent + 1 + digest % 1000
    return _tid(micros, (digest >> 20) & 1023)


def _tid(micros: int, clock_id: int) -> str:
    value = (micros << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _tid_micros(rkey: str) -> int | None:
    if len(rkey) != 13 or any(ch not in _TID_ALPHABET for ch in rkey):
        return None
    value = 0
    for ch in rkey:
        value = value * 32 + _TID_ALPHABET.index(ch)
    return value >> 10


def _tid_time(tid: str) -> dt.datetime | None:
    """The instant a TID carries (microseconds since the epoch), or None if it is not one."""
    micros = _tid_micros(tid)
    if micros is None:
        return None
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)


def _create(collection: str, rkey: str, value: Any) -> models.ComAtprotoRepoApplyWrites.Create:
    return models.ComAtprotoRepoApplyWrites.Create(collection=collection, rkey=rkey, value=value)


def _first_cid(result: models.ComAtprotoRepoApplyWrites.Response, uri: str) -> str:
    for item in result.results or []:
        if getattr(item, "uri", None) == uri:
            return str(item.cid)
    raise OutcomeUnknown(f"Bluesky: the PDS accepted the writes but did not return {uri}")


def _split_uri(uri: str) -> tuple[str, str, str]:
    """at://repo/collection/rkey -> (repo, collection, rkey)."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3:
        raise ContentRejected(f"Bluesky: {uri!r} is not a record URI")
    return parts[0], parts[1], parts[2]


def _aspect_ratio(item: MediaItem, data: bytes) -> models.AppBskyEmbedDefs.AspectRatio | None:
    width, height = item.width, item.height
    if not (width and height):
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError):
            return None
    return models.AppBskyEmbedDefs.AspectRatio(width=width, height=height)
