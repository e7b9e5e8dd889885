"""Mastodon, through Mastodon.py: an access token and an instance URL per account.

What Mastodon.py does not do for us, and this adapter does:

- **Rate limits are thrown, never waited out** (``ratelimit_method="throw"``), and every request
  has a timeout (``settings.timeout``; the library's default is 300 s).
- **The API level is pinned, not detected.** Mastodon.py picks endpoints from the server's
  version, and servers that speak the Mastodon API (GoToSocial, Akkoma, Pleroma) report versions
  such as ``2.7.2 (compatible; Akkoma 3.13.2)`` that say little about what they serve. Worse,
  giving ``mastodon_version`` without a ``version_check_mode`` leaves the version at 1.0.0 and
  media goes to the old v1 endpoint. So we give a version (which stops the library from probing
  on its own), keep ``version_check_mode="none"`` (no endpoint is refused because of a version
  string) and set the version Mastodon.py compares against ourselves: v2 media. No version
  probe stands between a post and the server; should a server not have v2 media (404), the
  upload falls back to v1 once.
- **Media processing has a deadline.** v2 media answers 202 and processes in the background;
  we poll ``GET /api/v1/media/:id`` (206 while processing) until it has a URL or
  ``settings.media_deadline`` passes. ``media_post(synchronous=True)`` would poll forever.
- **Instance limits** come from ``GET /api/v2/instance`` ``configuration``, else ``GET
  /api/v1/instance`` (asked without the trailing slash Mastodon.py adds, which some servers do not
  serve; its ``configuration``, or Akkoma's ``max_toot_chars`` and ``upload_limit``), else the
  nodeinfo document (``/.well-known/nodeinfo``, then the newest 2.x schema it links: Akkoma and
  Pleroma state ``uploadLimits.general`` there, Mastodon and GoToSocial only who they are). What
  no source states is the capabilities' value, named in :attr:`AccountLimits.assumed` so that
  ``campaign check`` says it is assumed. Read once per adapter.
- **Idempotency-Key** is the part's key, so the same delivery sent twice within an hour gives
  Mastodon's first status back. Not every server honours it (GoToSocial ignores it).
- **An unknown outcome is settled by exact text** (:meth:`MastodonAdapter.find_published`): the
  account's own statuses are paged back to the first attempt, and a candidate is ours only if
  its source text (``GET /api/v1/statuses/:id/source``), content warning and reply target are
  exactly what was sent. A server without that endpoint is read from the status's HTML, turned
  back into text the way Mastodon rendered it (:func:`plain_text`).
- **Onboarding** (:class:`MastodonAuthorization`): an app registered on the instance with only
  the scopes a campaign needs, then the authorization-code flow with the out-of-band redirect
  (the instance shows the code to paste back). The granular scopes (:data:`SCOPES`) are asked
  for only where the server lists them in its OAuth metadata
  (``/.well-known/oauth-authorization-server``, Mastodon 4.3 and later); any other server gets
  the classic ``read write`` (:data:`CLASSIC_SCOPES`), which every server knows: one that knows
  only those refuses an app asking for more, or answers 403 "This action is outside the
  authorized scopes" to ``verify_credentials``.
- **Engagement counts** (:meth:`MastodonAdapter.fetch_metrics`) come from ``GET
  /api/v1/statuses?id[]=`` (Mastodon 4.3 and later, 20 a call), read without Mastodon.py, whose
  ``statuses()`` loses an error's text; a server without it (404) is read one status at a time.
- **The account's id** is read once per adapter (from ``verify_credentials``, by
  :meth:`MastodonAdapter.verify` or the first lookup), not before every lookup.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
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
from adapters.capabilities import MASTODON
from adapters.errors import (
    ConfigurationError,
    ContentRejected,
    CredentialsInvalid,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    ServerError,
)
from adapters.secrets import Secret

log = logging.getLogger(__name__)

API_LEVEL = (4, 0, 0)
"""The Mastodon version whose endpoints we speak (v2 media needs 3.1.4)."""
V1_MEDIA_LEVEL = (3, 0, 0)
MEDIA_POLL_INTERVAL = 0.1
"""Seconds before the first look at media still processing; doubled each time, up to 2 s."""
MEDIA_POLL_MAX = 2.0
APP_NAME = "campaign-scheduler"
SCOPES = ["write:statuses", "write:media", "read:accounts", "read:statuses"]
"""What the adapter uses, as granular scopes: post and delete statuses, upload media, verify,
list own statuses. Asked for where the server's OAuth metadata lists them all."""
CLASSIC_SCOPES = ["read", "write"]
"""The same, as the scopes every server knows: for servers that do not list granular ones."""
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2."
"""The nodeinfo schemas read (2.0 and 2.1); the newest a server links is taken."""
OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
OUT_OF_SCOPE = "This action is outside the authorized scopes"
"""Mastodon's 403 error for a token without the scope an endpoint needs."""
PAGE = 40
"""Statuses per page of an account's listing: Mastodon's maximum."""
MAX_PAGES = 25
"""How far back (pages of PAGE) a search for a lost post reads before it gives up and asks a
person: 1,000 statuses, days of any embassy's posting."""
METRICS = {"replies_count": "replies", "reblogs_count": "reblogs", "favourites_count": "favourites"}
"""The Status entity's counts, by our metric names."""
METRICS_BATCH = 20
"""Statuses per ``GET /api/v1/statuses?id[]=`` (Mastodon 4.3 and later): the most it takes."""


class MastodonAuthorization(Authorization):
    """Register an app on the instance, then the authorization-code flow (out of band), with
    the scopes the server supports (:func:`scopes_for`)."""

    code_label: ClassVar[str] = "authorization code"
    instructions: ClassVar[str] = (
        "Open this URL in a browser, log in to the instance as {handle}, authorize the app, "
        "then paste the authorization code that the instance shows."
    )

    def __init__(self, *, base_url: str, timeout: float) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.scopes: list[str] = list(SCOPES)
        """The scopes asked for: :data:`SCOPES` or :data:`CLASSIC_SCOPES`, once the server's
        OAuth metadata is read (:meth:`authorization_url`)."""
        # Mastodon.py takes the OAuth endpoints from the server's metadata and refuses plain
        # http ones; an instance given as http (a test or staging server) is http throughout.
        self._allow_http = urlsplit(base_url).scheme == "http"
        self._api: Mastodon | None = None

    def authorization_url(self) -> str:
        with _authorization_errors(self.base_url, "read the OAuth metadata", self.scopes):
            self.scopes = scopes_for(self._client().oauth_authorization_server_info())
        with _authorization_errors(
            self.base_url,
            "register the app",
            self.scopes,
            refused="the OAuth endpoints in the instance's metadata are not https",
        ):
            client_id, client_secret = Mastodon.create_app(
                APP_NAME,
                scopes=self.scopes,
                redirect_uris=OUT_OF_BAND,
                api_base_url=self.base_url,
                request_timeout=self.timeout,
                user_agent=APP_NAME,
            )
            self._api = self._client(client_id=client_id, client_secret=client_secret)
            # force_login: the browser may be logged in as another embassy's account.
            return self._api.auth_request_url(
                redirect_uris=OUT_OF_BAND,
                scopes=self.scopes,
                force_login=True,
                allow_http=self._allow_http,
            )

    def finish(self, code: str) -> dict[str, Secret]:
        if self._api is None:
            raise RuntimeError("authorization_url() comes first")
        with _authorization_errors(self.base_url, "exchange the authorization code", self.scopes):
            token = self._api.log_in(
                code=code.strip(),
                redirect_uri=OUT_OF_BAND,
                scopes=self.scopes,
                allow_http=self._allow_http,
            )
        return {"access_token": Secret(token)}

    def _client(self, client_id: str | None = None, client_secret: str | None = None) -> Mastodon:
        return Mastodon(
            client_id=client_id,
            client_secret=client_secret,
            api_base_url=self.base_url,
            ratelimit_method="throw",
            request_timeout=self.timeout,
            mastodon_version=".".join(map(str, API_LEVEL)),
            version_check_mode="none",
            user_agent=APP_NAME,
        )


def scopes_for(metadata: Mapping[str, Any]) -> list[str]:
    """The scopes to ask for, from the server's OAuth metadata (RFC 8414, which Mastodon serves
    from 4.3 on): the granular :data:`SCOPES` where ``scopes_supported`` lists them all, else the
    classic :data:`CLASSIC_SCOPES` (no metadata: Mastodon before 4.3, GoToSocial, Akkoma)."""
    supported = metadata.get("scopes_supported")
    if isinstance(supported, list) and set(SCOPES) <= set(supported):
        return list(SCOPES)
    return list(CLASSIC_SCOPES)


@contextmanager
def _authorization_errors(
    base_url: str,
    action: str,
    scopes: list[str],
    *,
    refused: str = "the instance refused the code (wrong, already used, or for another app: "
    "start again) or could not be reached",
) -> Iterator[None]:
    """The OAuth steps' errors. Mastodon.py's texts are left out: they may quote the request.
    ``refused``: what Mastodon.py's MastodonIllegalArgumentError means at this step."""
    where = f"Mastodon {base_url}: could not {action}"
    try:
        yield
    except MastodonIllegalArgumentError as exc:
        raise CredentialsInvalid(f"{where}: {refused}") from exc
    except MastodonNetworkError as exc:
        raise network_error(where, exc, creates=False) from exc
    except MastodonAPIError as exc:
        raise CredentialsInvalid(
            f"{where}: the instance did not grant every scope needed ({' '.join(scopes)})"
        ) from exc
    except (MastodonError, KeyError, ValueError) as exc:
        raise ContentRejected(f"{where}: unexpected answer ({type(exc).__name__})") from exc


class MastodonAdapter(Adapter):
    capabilities = MASTODON
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token",)
    metrics_batch: ClassVar[int] = METRICS_BATCH

    def __init__(
        self,
        *,
        settings: AdapterSettings,
        credentials: Mapping[str, Secret],
        base_url: str | None = None,
        media_poll_interval: float = MEDIA_POLL_INTERVAL,
    ) -> None:
        super().__init__(settings=settings, credentials=credentials, base_url=base_url)
        self.media_poll_interval = media_poll_interval
        self.api = Mastodon(
            access_token=self.secret("access_token"),
            api_base_url=self.base_url,
            ratelimit_method="throw",
            request_timeout=settings.timeout,
            mastodon_version=".".join(map(str, API_LEVEL)),
            version_check_mode="none",
            user_agent="campaign-scheduler",
        )
        _pin_api_level(self.api, API_LEVEL)
        self._limits: tuple[AccountLimits, str | None] | None = None
        self._account_id: str | None = None
        self._sources: dict[str, tuple[str, str]] = {}
        self._batch_statuses = True
        """Whether the server has ``GET /api/v1/statuses?id[]=`` (Mastodon 4.3 and later); a
        404 there turns it off for the adapter's life."""

    def _default_base_url(self, settings: AdapterSettings) -> str | None:
        return settings.instance

    @classmethod
    def authorization(
        cls,
        *,
        settings: AdapterSettings,
        app: Mapping[str, Secret],
        base_url: str | None = None,
    ) -> Authorization:
        url = base_url or settings.instance
        if not url:
            raise ConfigurationError(f"Mastodon account {settings.handle}: no instance URL")
        return MastodonAuthorization(base_url=url.rstrip("/"), timeout=settings.timeout)

    # --- the interface ----------------------------------------------------------------------

    def publish(self, part: OutgoingPart) -> Published:
        media_ids = [self._upload(item) for item in part.media]
        with self._errors("post a status", creates=True):
            status = self.api.status_post(
                part.text,
                in_reply_to_id=part.in_reply_to,
                media_ids=media_ids or None,
                visibility=part.visibility,
                spoiler_text=part.content_warning,
                language=part.language,
                idempotency_key=part.idempotency_key,
            )
        return Published(
            platform=self.platform,
            remote_id=str(status["id"]),
            url=str(status.get("url") or status["uri"]),
            published_at=_utc(status["created_at"]),
            media_ids=tuple(media_ids),
        )

    def delete(self, remote_id: str) -> None:
        try:
            with self._errors(f"delete status {remote_id}"):
                self.api.status_delete(remote_id)
        except ContentRejected as exc:
            if not isinstance(exc.__cause__, MastodonNotFoundError):
                raise  # gone already is what we wanted; anything else is not

    def verify(self) -> AccountCheck:
        with self._errors("verify the credentials"):
            account = self.api.account_verify_credentials()
        self._account_id = str(account["id"])  # lookups need it, and need not ask again
        limits, server = self.instance_limits()
        return AccountCheck(
            platform=self.platform,
            account_id=self._account_id,
            handle=f"@{account['acct']}",
            display_name=account.get("display_name") or None,
            limits=limits,
            server=server,
        )

    def find_published(
        self, part: OutgoingPart, *, since: dt.datetime, taken: Collection[str] = frozenset()
    ) -> Published | None:
        candidates = [
            status
            for status in self._statuses_since(since - CLOCK_SKEW)
            if str(status["id"]) not in taken
            and _str(status.get("in_reply_to_id")) == part.in_reply_to
        ]
        # The oldest first: of two lost posts with the same text, the earlier attempt made the
        # earlier status.
        for status in reversed(candidates):
            if self._is_ours(status, part):
                return Published(
                    platform=self.platform,
                    remote_id=str(status["id"]),
                    url=str(status.get("url") or status["uri"]),
                    published_at=_utc(status["created_at"]),
                )
        return None

    def _fetch_metrics_batch(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        return [
            PostMetrics(str(status["id"]), counts_of(status, METRICS))
            for status in self._statuses(remote_ids)
        ]

    def _statuses(self, remote_ids: Sequence[str]) -> list[Any]:
        """The statuses that still exist among ``remote_ids``: in one call where the server
        has the batch endpoint, else one ``GET /api/v1/statuses/:id`` each."""
        if self._batch_statuses:
            try:
                return self._statuses_batch(remote_ids)
            except ContentRejected as exc:
                if not isinstance(exc.__cause__, MastodonNotFoundError):
                    raise
                log.info(
                    "%s has no GET /api/v1/statuses (Mastodon before 4.3): one status a call",
                    self.base_url,
                )
                self._batch_statuses = False
        return self._statuses_one_by_one(remote_ids)

    def _statuses_batch(self, remote_ids: Sequence[str]) -> list[Any]:
        """``GET /api/v1/statuses?id[]=``, read with :meth:`_document`: Mastodon.py's
        ``statuses()`` casts an error body to the list it expected and loses the server's words
        (a token without ``read:statuses`` could not be told so)."""
        query = urlencode([("id[]", status_id) for status_id in remote_ids])
        with self._errors("read the statuses' counts"):
            found = self._document(f"{self.base_url}/api/v1/statuses?{query}", token=True)
        return (
            [status for status in found if isinstance(status, dict)]
            if isinstance(found, list)
            else []
        )

    def _statuses_one_by_one(self, remote_ids: Sequence[str]) -> list[Any]:
        found = []
        for status_id in remote_ids:
            try:
                with self._errors(f"read status {status_id}"):
                    found.append(self.api.status(status_id))
            except ContentRejected as exc:
                # A 404 is a deleted status, left out; anything else is no answer about it.
                if not isinstance(exc.__cause__, MastodonNotFoundError):
                    raise
        return found

    def _statuses_since(self, since: dt.datetime) -> Iterator[Any]:
        """The account's own statuses, newest first, back to ``since``; OutcomeUnknown when
        MAX_PAGES do not reach that far."""
        with self._errors("list the account's statuses"):
            account_id = self._own_id()
            max_id = None
            for _ in range(MAX_PAGES):
                page = self.api.account_statuses(account_id, max_id=max_id, limit=PAGE)
                for status in page:
                    if _utc(status["created_at"]) < since:
                        return
                    yield status
                if len(page) < PAGE:
                    return  # the account's first status: nothing older exists
                max_id = page[-1]["id"]
        raise OutcomeUnknown(
            f"Mastodon {self.base_url}: {MAX_PAGES * PAGE} statuses since the first attempt; "
            "the post cannot be looked for"
        )

    def _own_id(self) -> str:
        """The account's id: asked once per adapter (``verify_credentials`` needs ``read`` or
        ``read:accounts``), not before every lookup."""
        if self._account_id is None:
            self._account_id = str(self.api.account_verify_credentials()["id"])
        return self._account_id

    def _is_ours(self, status: Any, part: OutgoingPart) -> bool:
        text, warning = self._source(status)
        return _same(text, part.text) and _same(warning, part.content_warning or "")

    def _source(self, status: Any) -> tuple[str, str]:
        """The status as it was written: its source where the server gives it, else its HTML
        turned back into text. Kept: an account's statuses are read again for each lost post."""
        status_id = str(status["id"])
        if status_id not in self._sources:
            self._sources[status_id] = self._read_source(status)
        return self._sources[status_id]

    def _read_source(self, status: Any) -> tuple[str, str]:
        try:
            with self._errors("read a status's source"):
                source = self.api.status_source(status["id"])
            return str(source.get("text") or ""), str(source.get("spoiler_text") or "")
        except ContentRejected:  # 404: a server without the endpoint
            host = urlsplit(self.base_url).hostname or ""
            text = plain_text(str(status.get("content") or ""), host)
            return text, str(status.get("spoiler_text") or "")

    def close(self) -> None:
        self.api.session.close()

    # --- instance limits ----------------------------------------------------------------------

    def instance_limits(self) -> tuple[AccountLimits, str | None]:
        """The instance's limits and what it says it is, read once (module docstring); what it
        does not state is the capabilities' value, named in ``assumed``."""
        if self._limits is None:
            instance, nodeinfo = self._instance_info()
            self._limits = (_limits_from(instance, nodeinfo), _server(instance, nodeinfo))
        return self._limits

    def _instance_info(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(instance information, nodeinfo): v2, else v1, else nodeinfo; empty where none
        answered."""
        for path in ("/api/v2/instance", "/api/v1/instance"):
            found = self._optional(f"read {path}", self.base_url + path, token=True)
            if isinstance(found, dict):
                return found, {}
        well_known = self.base_url + "/.well-known/nodeinfo"
        links = self._optional("read /.well-known/nodeinfo", well_known)
        href = _nodeinfo_href(links, self.base_url)
        if href is None:
            return {}, {}
        nodeinfo = self._optional("read the nodeinfo document", href)
        return {}, nodeinfo if isinstance(nodeinfo, dict) else {}

    def _optional(self, action: str, url: str, *, token: bool = False) -> Any:
        """The document at ``url``, or None when the server does not give it (logged). Refused
        credentials and rate limits are raised: they are not the server's silence."""
        try:
            with self._errors(action):
                return self._document(url, token=token)
        except (CredentialsInvalid, RateLimited):
            raise
        except PublishError as exc:
            log.info("%s: %s", self.base_url, exc)
            return None

    def _document(self, url: str, *, token: bool) -> Any:
        """GET the JSON document at exactly ``url``: for what Mastodon.py asks at another path
        (``/api/v1/instance/``) or not at all (a nodeinfo document). ``token``: send the access
        token (instance information may need it on a server in limited federation mode; a
        nodeinfo address, given by the server, never gets it). Failures are raised as
        Mastodon.py raises them, so that ``_map_errors`` reads them all."""
        headers = {"User-Agent": APP_NAME, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {self.secret('access_token')}"
        try:
            # auth: as Mastodon.py does, so that a .netrc never replaces the header
            response = self.api.session.get(
                url, headers=headers, timeout=self.settings.timeout, auth=_as_is
            )
        except requests.RequestException as exc:
            raise MastodonNetworkError(f"Could not complete request: {exc}") from exc
        if response.status_code == 429:
            reset = _reset_header(response.headers.get("X-RateLimit-Reset"))
            if reset is not None:  # where Mastodon.py keeps its calls' reset, for _reset_at
                self.api.ratelimit_reset = reset
            raise MastodonRatelimitError("Hit rate limit.")
        if not response.ok:
            kind = _ERRORS.get(response.status_code) or (
                MastodonServerError if response.status_code >= 500 else MastodonAPIError
            )
            raise kind(
                "Mastodon API returned error",
                response.status_code,
                response.reason,
                _error_text(response),
            )
        try:
            return response.json()
        except ValueError as exc:  # a web page where the document should be
            raise MastodonAPIError(f"{url} answered {response.status_code}, not JSON") from exc

    # --- media --------------------------------------------------------------------------------

    def _upload(self, item: MediaItem) -> str:
        with self._errors(f"upload {item.filename}"):
            try:
                media = self._media_post(item)
            except MastodonNotFoundError:
                log.info("%s has no v2 media endpoint; using v1", self.base_url)
                _pin_api_level(self.api, V1_MEDIA_LEVEL)
                media = self._media_post(item)
            return self._processed(media, item)

    def _media_post(self, item: MediaItem) -> Any:
        return self.api.media_post(
            item.read(), mime_type=item.mime, description=item.alt, file_name=item.filename
        )

    def _processed(self, media: Any, item: MediaItem) -> str:
        deadline = time.monotonic() + self.settings.media_deadline
        interval = self.media_poll_interval
        while not media.get("url"):
            if time.monotonic() >= deadline:
                raise ServerError(
                    f"Mastodon {self.base_url}: {item.filename} still processing after "
                    f"{self.settings.media_deadline:g} s"
                )
            if interval:
                # A bounded poll, not a rate-limit wait: small images are ready within a second.
                time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
                interval = min(interval * 2, MEDIA_POLL_MAX)
            media = self.api.media(media["id"])
        return str(media["id"])

    # --- the one place Mastodon errors are interpreted ---------------------------------------

    @contextmanager
    def _map_errors(self, action: str, *, creates: bool = False) -> Iterator[None]:
        where = f"Mastodon {self.base_url}: could not {action}"
        try:
            yield
        except MastodonRatelimitError as exc:
            raise RateLimited(where + ": rate limited", reset_at=self._reset_at()) from exc
        except MastodonNetworkError as exc:
            raise network_error(where, exc, creates=creates) from exc
        except MastodonUnauthorizedError as exc:
            raise CredentialsInvalid(f"{where}: {_message(exc)}") from exc
        except MastodonServerError as exc:
            raise ServerError(f"{where}: {_message(exc)}") from exc
        except MastodonAPIError as exc:
            raise _client_error(where, exc) from exc
        except MastodonError as exc:
            raise ContentRejected(f"{where}: {exc}") from exc

    def _reset_at(self) -> dt.datetime:
        # Mastodon.py has read X-RateLimit-Reset (and the server's clock) before throwing.
        reset = self.api.ratelimit_reset
        if reset is None:
            return self.now() + DEFAULT_BACKOFF
        return dt.datetime.fromtimestamp(float(reset), dt.UTC)


def _pin_api_level(api: Mastodon, level: tuple[int, int, int]) -> None:
    """Set the version Mastodon.py compares against to choose endpoints (see module docstring)."""
    api.mastodon_major, api.mastodon_minor, api.mastodon_patch = level


def _status_code(exc: MastodonAPIError) -> int | None:
    return next((arg for arg in exc.args if isinstance(arg, int)), None)


def _message(exc: MastodonError) -> str:
    """The server's own error text (the last argument Mastodon.py gives), or the status."""
    texts = [arg for arg in exc.args[1:] if isinstance(arg, str)]
    status = _status_code(exc) if isinstance(exc, MastodonAPIError) else None
    return f"{status or ''} {texts[-1] if texts else exc}".strip()


def _client_error(where: str, exc: MastodonAPIError) -> PublishError:
    status = _status_code(exc)
    if status == 403 and OUT_OF_SCOPE in _message(exc):
        return CredentialsInvalid(
            f"{where}: {_message(exc)}: the token lacks a scope this needs; authorize the "
            "account again (campaign auth mastodon)"
        )
    if status == 403:  # a suspended or disabled account
        return CredentialsInvalid(f"{where}: {_message(exc)}")
    return ContentRejected(f"{where}: {_message(exc)}")


def _limits_from(instance: Mapping[str, Any], nodeinfo: Mapping[str, Any]) -> AccountLimits:
    """What the instance states (module docstring), the capabilities' values for the rest."""
    configuration = _mapping(instance.get("configuration"))
    statuses = _mapping(configuration.get("statuses"))
    media = _mapping(configuration.get("media_attachments"))
    uploads = _mapping(_mapping(nodeinfo.get("metadata")).get("uploadLimits"))
    stated = {
        "max_characters": _count(statuses.get("max_characters"), instance.get("max_toot_chars")),
        "max_media": _count(statuses.get("max_media_attachments")),
        "max_image_bytes": _count(
            media.get("image_size_limit"), instance.get("upload_limit"), uploads.get("general")
        ),
        "max_alt_text": _count(media.get("description_limit"), instance.get("description_limit")),
    }
    defaults = {
        "max_characters": MASTODON.max_length,
        "max_media": MASTODON.max_images,
        "max_image_bytes": MASTODON.max_image_bytes,
        "max_alt_text": MASTODON.max_alt_text,
    }
    return AccountLimits(
        max_characters=stated["max_characters"] or defaults["max_characters"],
        max_media=stated["max_media"] or defaults["max_media"],
        max_image_bytes=stated["max_image_bytes"] or defaults["max_image_bytes"],
        characters_reserved_per_url=int(statuses.get("characters_reserved_per_url") or 23),
        max_alt_text=stated["max_alt_text"] or defaults["max_alt_text"],
        assumed=frozenset(name for name, value in stated.items() if value is None),
    )


def _server(instance: Mapping[str, Any], nodeinfo: Mapping[str, Any]) -> str | None:
    """What the server says it is: the instance's version string, else nodeinfo's software."""
    if instance.get("version"):
        return str(instance["version"])
    software = _mapping(nodeinfo.get("software"))
    named = " ".join(str(software[key]) for key in ("name", "version") if software.get(key))
    return named or None


def _nodeinfo_href(links: Any, base_url: str) -> str | None:
    """The address of the newest nodeinfo 2.x document ``/.well-known/nodeinfo`` links to."""
    found = [
        (str(link["rel"]), urljoin(base_url + "/", str(link["href"])))
        for link in _mapping(links).get("links") or []
        if isinstance(link, dict)
        and str(link.get("rel", "")).startswith(NODEINFO_SCHEMA)
        and link.get("href")
    ]
    found = [(rel, href) for rel, href in found if urlsplit(href).scheme in {"http", "https"}]
    return max(found)[1] if found else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(*values: Any) -> int | None:
    """The first of ``values`` that is a positive whole number (servers send numbers, some as
    strings); None if none is."""
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value > 0:
            return value
        if isinstance(value, str) and value.isdigit() and int(value) > 0:
            return int(value)
    return None


def _as_is(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


_ERRORS: dict[int, type[MastodonAPIError]] = {
    401: MastodonUnauthorizedError,
    404: MastodonNotFoundError,
}


def _reset_header(value: str | None) -> int | None:
    """X-RateLimit-Reset as Unix seconds (the next whole one): Mastodon sends ISO 8601
    (Rack::Attack's ``iso8601(6)``), GoToSocial whole seconds."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        reset = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return math.ceil((reset if reset.tzinfo else reset.replace(tzinfo=dt.UTC)).timestamp())


def _error_text(response: requests.Response) -> str | None:
    """The ``error`` of a Mastodon error body, if the answer is one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error else None


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _same(theirs: str, ours: str) -> bool:
    """Exactly the same text, up to Unicode normalization (servers store NFC) and the line
    breaks and surrounding white space that a server trims."""

    def norm(text: str) -> str:
        return unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()

    return norm(theirs) == norm(ours)


def plain_text(content: str, host: str) -> str:
    """A status's HTML ``content`` back into the text that was written, for servers that do not
    give the source: Mastodon puts a link's whole address in the anchor's text (the hidden parts
    in invisible spans), breaks lines with ``<br>`` and paragraphs with ``<p>``, and shows a
    mention of another server's account as ``@user`` only, so that one is rebuilt from its link.
    """
    parser = _PlainText(host)
    parser.feed(content)
    parser.close()
    return "".join(parser.out).strip("\n")


class _PlainText(HTMLParser):
    def __init__(self, host: str) -> None:
        super().__init__(convert_charrefs=True)
        self.host = host
        self.out: list[str] = []
        self._mention: str | None = None  # the host of the mention being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "br":
            self.out.append("\n")
        elif tag == "p" and self.out:
            self.out.append("\n\n")
        elif tag == "a" and (found.get("class") or "").split() == ["u-url", "mention"]:
            self._mention = urlsplit(found.get("href") or "").hostname

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._mention is not None:
            if self._mention and self._mention != self.host:
                self.out.append(f"@{self._mention}")
            self._mention = None

    def handle_data(self, data: str) -> None:
        self.out.append(data)
