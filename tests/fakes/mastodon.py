"""A fake Mastodon instance: the client API a campaign uses, with Mastodon's answers.

``flavour`` picks what the server says it is, because servers that speak the Mastodon API differ
exactly where clients trip: "mastodon" (mainline 4.3, instance v1 and v2), "gotosocial"
(``4.0.0 (compatible; GoToSocial 0.17.0)``, ignores Idempotency-Key) and "akkoma"
(``2.7.2 (compatible; Akkoma 3.13.2)``, no instance v2).

Several accounts can hold tokens (``add_account``); the API answers as the account whose bearer
token it gets, and a revoked token (``revoke``) gets Mastodon's 401. Statuses belong to the
account that posted them; ``GET /api/v1/accounts/:id/statuses`` lists that account's own,
newest first, 20 a page by default and 40 at most, paged with ``max_id``/``since_id``/``min_id``
and a ``Link`` header as Mastodon pages them. A status's ``content`` is HTML rendered the way
mainline Mastodon renders it (``render_html``: paragraphs, ``<br />``, links shortened with
invisible and ellipsis spans, hashtags and mentions as links), and ``GET
/api/v1/statuses/:id/source`` gives back the text as it was written (``source_api=False``: a
server without it). The OAuth flow a client
uses to get a token works as Mastodon's: ``POST /api/v1/apps`` registers an app, a person opens
``GET /oauth/authorize?client_id=...&response_type=code&redirect_uri=...&scope=...`` in a
browser, where the fake is logged in as ``browser_account`` (``login_as``) and, for the
out-of-band redirect ``urn:ietf:wg:oauth:2.0:oob``, shows the authorization code; ``POST
/oauth/token`` exchanges the code (once) for a bearer token of that account.

Scopes are Mastodon's: every API call needs one of the scopes Mastodon asks for it (``read`` or
``read:accounts`` for ``verify_credentials``, ``write`` or ``write:statuses`` to post...), else
403 "This action is outside the authorized scopes". ``scopes="granular"`` (the default) knows
Mastodon 4.3's scopes and, on the "mastodon" flavour, lists them in its OAuth metadata
(``GET /.well-known/oauth-authorization-server``, the documented shape); ``scopes="classic"``
knows only ``read write follow push``, has no metadata (404), refuses an app asking for any other
scope (422, Doorkeeper's "Scopes doesn't match configured on the server.") and an authorization
asking for one (Doorkeeper's ``invalid_scope``).

Instance information and nodeinfo come in the documented shapes (tests/data/platforms:
``GET /api/v2/instance`` and ``/api/v1/instance`` as in Mastodon's documentation, the nodeinfo
links and document as Pleroma documents them, with each flavour's own ``metadata``: Akkoma's
``uploadLimits``, Mastodon's ``nodeName`` and ``nodeDescription``, GoToSocial's none), with the
fake's own limits. ``absent`` names exact paths the server does not serve (404), e.g.
``{"/api/v2/instance", "/api/v1/instance/"}`` for a server that answers ``/api/v1/instance`` only
without the trailing slash Mastodon.py adds.

Every status carries its counts (``replies_count``, ``reblogs_count``, ``favourites_count``, as
the Status entity does: tests/data/platforms/mastodon_status_counts.json), which a test sets
with ``set_counts``. ``GET /api/v1/statuses/:id`` reads one status (404 once deleted) and ``GET
/api/v1/statuses?id[]=...`` up to 20 (Mastodon 4.3's batch: more is its 422, ids it does not
have are left out); ``batch_statuses=False`` is a server without the batch (Mastodon before 4.3,
and by default the GoToSocial and Akkoma flavours), which answers it 404.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import itertools
import json
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from adapters.capabilities import LengthRule
from adapters.textlength import text_length

from .server import Clock, FakeServer, Request, Response, route, utc_now

IDEMPOTENCY_WINDOW = dt.timedelta(hours=1)
OOB = "urn:ietf:wg:oauth:2.0:oob"
INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "Client authentication failed due to unknown client, no client "
    "authentication included, or unsupported authentication method.",
}
INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The provided authorization grant is invalid, expired, revoked, does "
    "not match the redirection URI used in the authorization request, or was issued to another "
    "client.",
}
INVALID_SCOPE = {
    "error": "invalid_scope",
    "error_description": "The requested scope is invalid, unknown, or malformed.",
}
INVALID_REDIRECT_URI = (
    "The requested redirect uri is malformed or doesn't match client redirect URI."
)
SCOPES_NOT_CONFIGURED = "Validation failed: Scopes doesn't match configured on the server."
OUT_OF_SCOPE = "This action is outside the authorized scopes"
VERSIONS = {
    "mastodon": "4.3.2",
    "gotosocial": "4.0.0 (compatible; GoToSocial 0.17.0)",
    "akkoma": "2.7.2 (compatible; Akkoma 3.13.2)",
}
SOFTWARE = {
    "mastodon": ("mastodon", "4.3.2"),
    "gotosocial": ("gotosocial", "0.17.0"),
    "akkoma": ("akkoma", "3.13.2"),
}
"""What each flavour's nodeinfo says it is."""
DOCUMENTED = Path(__file__).resolve().parent.parent / "data" / "platforms"
NODEINFO = "http://nodeinfo.diaspora.software/ns/schema/"
CLASSIC_SCOPES = ("read", "write", "follow", "push")
NEEDED_SCOPES: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (method, re.compile(path), frozenset(scopes))
    for method, path, scopes in (
        ("GET", r"/api/v1/accounts/verify_credentials", {"read", "read:accounts", "profile"}),
        ("GET", r"/api/v1/accounts/\d+/statuses", {"read", "read:statuses"}),
        ("GET", r"/api/v1/statuses/\d+/source", {"read", "read:statuses"}),
        ("GET", r"/api/v1/statuses(/\d+)?", {"read", "read:statuses"}),
        ("POST", r"/api/v1/statuses", {"write", "write:statuses"}),
        ("DELETE", r"/api/v1/statuses/\d+", {"write", "write:statuses"}),
        ("POST", r"/api/v[12]/media", {"write", "write:media"}),
        ("GET", r"/api/v1/media/\d+", {"write", "write:media"}),
    )
)
"""What Mastodon asks of a token for each call the adapter makes (its documentation's "OAuth:"
line): any one of them will do."""
STATUSES_BATCH = 20
"""``GET /api/v1/statuses``: Mastodon's ``DEFAULT_STATUSES_LIMIT`` (more ids: a 422 from its
``check_statuses_limit``, Mastodon::ValidationError)."""
COUNTS = ("replies_count", "reblogs_count", "favourites_count")


@cache
def _documented(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DOCUMENTED / name).read_text(encoding="utf-8"))
    return {key: value for key, value in loaded.items() if not key.startswith("_")}


def documented(name: str) -> dict[str, Any]:
    """A documented body from tests/data/platforms, without its notes (``_source``): a copy
    for the fake to fill in with its own values."""
    return copy.deepcopy(_documented(name))


GRANULAR_SCOPES = tuple(documented("mastodon_oauth_server_metadata.json")["scopes_supported"])
"""Mastodon 4.3's scopes, as its OAuth metadata lists them."""


@dataclass
class Media:
    id: str
    description: str
    mime: str
    data: bytes
    polls_left: int
    """GETs answered 206 (still processing) before the media is ready."""
    endpoint: str

    def json(self, base: str) -> dict[str, Any]:
        ready = self.polls_left <= 0
        return {
            "id": self.id,
            "type": "image",
            "url": f"{base}/media/{self.id}" if ready else None,
            "preview_url": f"{base}/media/{self.id}/small",
            "description": self.description,
            "meta": {},
            "blurhash": None,
        }


@dataclass
class Account:
    id: str
    username: str
    display_name: str


@dataclass
class BearerToken:
    account: Account
    scopes: tuple[str, ...] = ("read", "write")
    revoked: bool = False


@dataclass
class App:
    name: str
    client_secret: str
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]


@dataclass
class Grant:
    """An authorization code, before it is exchanged for a token."""

    client_id: str
    account: Account
    scopes: tuple[str, ...]
    redirect_uri: str


@dataclass
class Status:
    id: str
    text: str
    created_at: dt.datetime
    visibility: str
    spoiler_text: str
    language: str | None
    in_reply_to_id: str | None
    media: list[Media]
    account: Account
    idempotency_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))


_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,:;!?)\]'])"
    r"|(?<![\w/])#(?P<tag>\w+)"
    r"|(?<![\w/])@(?P<user>[A-Za-z0-9_]+)(?:@(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,}))?"
)
_URL_PREFIX = re.compile(r"\Ahttps?://(www\.)?")


def render_html(text: str, base: str) -> str:
    """A status's text as mainline Mastodon renders its ``content`` (TextFormatter): one ``<p>``
    per paragraph, ``<br />`` for a line break, links shown as their first 30 characters after
    the scheme (the rest in invisible spans), hashtags and mentions linked."""
    paragraphs = re.split(r"\n{2,}", text.strip("\n"))
    rendered = [
        "<br />".join(_render_line(line, base) for line in p.split("\n")) for p in paragraphs
    ]
    return "".join(f"<p>{p}</p>" for p in rendered)


def _render_line(line: str, base: str) -> str:
    out, last = [], 0
    for match in _TOKEN.finditer(line):
        out.append(html.escape(line[last : match.start()]))
        out.append(_render_token(match, base))
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def _render_token(match: re.Match[str], base: str) -> str:
    if match["url"]:
        return _shortened_link(match["url"])
    if match["tag"]:
        tag = match["tag"]
        return (
            f'<a href="{base}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(tag)}</span></a>"
        )
    user, host = match["user"], match["host"]
    href = f"https://{host}/@{user}" if host else f"{base}/@{user}"
    return (
        f'<span class="h-card" translate="no"><a href="{html.escape(href)}" '
        f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
    )


def _shortened_link(url: str) -> str:
    prefix = _URL_PREFIX.match(url)
    head = prefix.group(0) if prefix else ""
    rest = url[len(head) :]
    shown, hidden = rest[:30], rest[30:]
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(head)}</span>'
        f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


class FakeMastodon(FakeServer):
    name: ClassVar[str] = "mastodon"

    def __init__(
        self,
        *,
        token: str = "mastodon-token",
        username: str = "BelgiumInJapan",
        flavour: str = "mastodon",
        max_characters: int = 500,
        max_media: int = 4,
        processing_polls: int = 1,
        source_api: bool = True,
        image_size_limit: int = 16_777_216,
        scopes: str = "granular",
        oauth_metadata: bool | None = None,
        absent: Collection[str] = (),
        batch_statuses: bool | None = None,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(clock=clock)
        if scopes not in {"granular", "classic"}:
            raise ValueError(f"scopes {scopes!r} is not 'granular' or 'classic'")
        self.source_api = source_api
        self.image_size_limit = image_size_limit
        self.known_scopes = GRANULAR_SCOPES if scopes == "granular" else CLASSIC_SCOPES
        """The scopes the server knows; it refuses any other."""
        if oauth_metadata is None:
            oauth_metadata = flavour == "mastodon" and scopes == "granular"
        self.oauth_metadata = oauth_metadata
        """Whether it serves ``/.well-known/oauth-authorization-server`` (Mastodon 4.3 and
        later)."""
        self.absent = set(absent)
        """Exact paths answered 404, as by a server without them."""
        self.batch_statuses = flavour == "mastodon" if batch_statuses is None else batch_statuses
        """Whether ``GET /api/v1/statuses?id[]=`` is served (Mastodon 4.3 and later)."""
        self.token = token
        self.username = username
        self.flavour = flavour
        self.max_characters = max_characters
        self.max_media = max_media
        self.processing_polls = processing_polls
        self.accounts: dict[str, Account] = {}
        """By lower-cased username."""
        self.tokens: dict[str, BearerToken] = {}
        self.apps: dict[str, App] = {}
        self.grants: dict[str, Grant] = {}
        self._account_ids = itertools.count(109_000_000_000_000_001)
        self.browser_account = self.add_account(username, token=token)
        self.statuses: dict[str, Status] = {}
        self.media: dict[str, Media] = {}
        self.deleted: list[str] = []
        self._ids = itertools.count(113_000_000_000_000_001)

    # --- Mastodon's shapes --------------------------------------------------------------------

    def error_body(self, status: int, message: str | None = None) -> Any:
        defaults = {
            401: "The access token is invalid",
            403: "This action is not allowed",
            404: "Record not found",
            422: "Validation failed",
            429: "Too many requests",
        }
        return {"error": message or defaults.get(status, "We're sorry, but something went wrong")}

    def rate_limit_headers(
        self, *, limit: int, remaining: int, reset_at: dt.datetime
    ) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    # --- accounts and tokens ------------------------------------------------------------------

    def add_account(
        self,
        username: str,
        *,
        token: str | None = None,
        display_name: str | None = None,
        scopes: tuple[str, ...] = ("read", "write"),
    ) -> Account:
        """An account holding a bearer token (made up when not given: see ``token_of``) with
        ``scopes``."""
        account = self.accounts.get(username.lower())
        if account is None:
            account = Account(
                str(next(self._account_ids)), username, display_name or f"Embassy {username}"
            )
            self.accounts[username.lower()] = account
        with self.lock:
            self.tokens[token or secrets.token_urlsafe(32)] = BearerToken(account, scopes)
        return account

    def token_of(self, username: str) -> str:
        account = self.accounts[username.lower()]
        return next(
            token
            for token, entry in self.tokens.items()
            if entry.account is account and not entry.revoked
        )

    def revoke(self, token: str) -> None:
        """From now on the token gets Mastodon's 401, as after the user revokes the app."""
        self.tokens[token].revoked = True

    def login_as(self, username: str) -> Account:
        """The account whose browser session approves the next authorizations."""
        self.browser_account = self.accounts[username.lower()]
        return self.browser_account

    def _bearer(self, request: Request) -> BearerToken | None:
        header = request.headers.get("authorization", "")
        entry = (
            self.tokens.get(header.removeprefix("Bearer "))
            if header.startswith("Bearer ")
            else None
        )
        return entry if entry is not None and not entry.revoked else None

    def dispatch(self, request: Request) -> Response:
        public = (
            not request.path.startswith("/api/")
            or "/instance" in request.path
            or request.path == "/api/v1/apps"
        )
        if not public and self._bearer(request) is None:
            return self.error(401)
        response = super().dispatch(request)
        reset = self.clock() + dt.timedelta(minutes=5)
        response.headers = {
            **self.rate_limit_headers(limit=300, remaining=299, reset_at=reset),
            **response.headers,
        }
        return response

    @property
    def version(self) -> str:
        return VERSIONS[self.flavour]

    def _configuration(self, configuration: dict[str, Any]) -> dict[str, Any]:
        """A documented ``configuration`` with the fake's own limits."""
        configuration["statuses"] = {
            "max_characters": self.max_characters,
            "max_media_attachments": self.max_media,
            "characters_reserved_per_url": 23,
        }
        configuration["media_attachments"]["image_size_limit"] = self.image_size_limit
        return configuration

    def _route(self, request: Request) -> Response:
        if request.path in self.absent:
            return self.error(404)
        bearer = self._bearer(request)
        granted = set(bearer.scopes) if bearer is not None else set()
        for method, pattern, scopes in NEEDED_SCOPES:
            needed = request.method == method and pattern.fullmatch(request.path)
            if needed and bearer is not None and not scopes & granted:
                return self.error(403, OUT_OF_SCOPE)
        return super()._route(request)

    def _account(self, account: Account | None = None) -> dict[str, Any]:
        account = account or self.accounts[self.username.lower()]
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name,
            "url": f"{self.url}/@{account.username}",
            "created_at": "2022-11-01T00:00:00.000Z",
            "locked": False,
            "bot": False,
        }

    def _status_json(self, status: Status) -> dict[str, Any]:
        username = status.account.username
        return {
            "id": status.id,
            "created_at": status.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "in_reply_to_id": status.in_reply_to_id,
            "visibility": status.visibility,
            "spoiler_text": status.spoiler_text,
            "language": status.language,
            "uri": f"{self.url}/users/{username}/statuses/{status.id}",
            "url": f"{self.url}/@{username}/{status.id}",
            "content": render_html(status.text, self.url),
            "media_attachments": [media.json(self.url) for media in status.media],
            "account": self._account(status.account),
            "sensitive": bool(status.spoiler_text),
            **status.counts,
        }

    def set_counts(self, status_id: str, **counts: int) -> None:
        """Set a status's counts, by the Status entity's names (``favourites_count=3``)."""
        unknown = set(counts) - set(COUNTS)
        if unknown:
            raise ValueError(f"not a Status count: {sorted(unknown)}")
        with self.lock:
            self.statuses[status_id].counts.update(counts)

    # --- routes -----------------------------------------------------------------------------

    @route("GET", "/api/v1/instance/?")
    def instance_v1(self, request: Request) -> Response:
        body = documented("mastodon_instance_v1.json")
        body.update(uri=self.url.split("//")[1], title="Fake Mastodon", version=self.version)
        body["configuration"] = self._configuration(body["configuration"])
        if self.flavour == "akkoma":  # Pleroma's extras (its InstanceView)
            body.update(max_toot_chars=self.max_characters, upload_limit=self.image_size_limit)
        return Response(200, body)

    @route("GET", "/api/v2/instance/?")
    def instance_v2(self, request: Request) -> Response:
        if self.flavour == "akkoma":
            return self.error(404)
        body = documented("mastodon_instance_v2.json")
        body.update(domain=self.url.split("//")[1], title="Fake Mastodon", version=self.version)
        body["configuration"] = self._configuration(body["configuration"])
        if self.flavour != "mastodon":
            del body["api_versions"]
        return Response(200, body)

    @route("GET", "/.well-known/nodeinfo")
    def nodeinfo_links(self, request: Request) -> Response:
        """As each server links it: Akkoma 2.0 and 2.1 at ``/nodeinfo/2.x.json``, Mastodon and
        GoToSocial 2.0 at ``/nodeinfo/2.0``."""
        versions = ["2.0", "2.1"] if self.flavour == "akkoma" else ["2.0"]
        suffix = ".json" if self.flavour == "akkoma" else ""
        links = [
            {"href": f"{self.url}/nodeinfo/{version}{suffix}", "rel": NODEINFO + version}
            for version in versions
        ]
        return Response(200, {"links": links})

    @route("GET", r"/nodeinfo/(?P<version>2\.[01])(?:\.json)?")
    def nodeinfo(self, request: Request, version: str) -> Response:
        body = documented("mastodon_nodeinfo_2_1.json")
        name, number = SOFTWARE[self.flavour]
        body.update(version=version, software={"name": name, "version": number})
        if self.flavour == "akkoma":
            body["metadata"].update(nodeName="Fake Mastodon")
            body["metadata"]["uploadLimits"]["general"] = self.image_size_limit
        elif self.flavour == "mastodon":  # NodeInfo::Serializer
            body["metadata"] = {"nodeName": "Fake Mastodon", "nodeDescription": ""}
        else:  # GoToSocial's processing/fedi: an empty map
            body["metadata"] = {}
        return Response(200, body)

    @route("GET", "/.well-known/oauth-authorization-server")
    def oauth_server_metadata(self, request: Request) -> Response:
        if not self.oauth_metadata:
            return self.error(404)
        body = documented("mastodon_oauth_server_metadata.json")
        for key, value in list(body.items()):
            if isinstance(value, str) and value.startswith("https://social.example/"):
                body[key] = self.url + value.removeprefix("https://social.example")
        body["issuer"] = f"{self.url}/"
        body["scopes_supported"] = list(self.known_scopes)
        return Response(200, body)

    @route("GET", "/api/v1/accounts/verify_credentials")
    def verify_credentials(self, request: Request) -> Response:
        bearer = self._bearer(request)
        return Response(200, self._account(bearer.account if bearer else None))

    # --- OAuth: app registration and the authorization-code flow --------------------------------

    @route("POST", "/api/v1/apps")
    def create_app(self, request: Request) -> Response:
        name, scopes = request.field("client_name"), (request.field("scopes") or "read").split()
        redirect_uris = tuple((request.field("redirect_uris") or "").split())
        if not name or not redirect_uris:
            return self.error(
                422, "Validation failed: Name can't be blank, Redirect URI can't be blank"
            )
        if not set(scopes) <= set(self.known_scopes):
            return self.error(422, SCOPES_NOT_CONFIGURED)
        client_id = secrets.token_urlsafe(32)
        self.apps[client_id] = App(name, secrets.token_urlsafe(32), tuple(scopes), redirect_uris)
        return Response(
            200,
            {
                "id": str(len(self.apps)),
                "name": name,
                "website": None,
                "scopes": scopes,
                "redirect_uri": "\n".join(redirect_uris),
                "redirect_uris": list(redirect_uris),
                "client_id": client_id,
                "client_secret": self.apps[client_id].client_secret,
            },
        )

    @route("GET", "/oauth/authorize")
    def authorize(self, request: Request) -> Response:
        client_id, redirect_uri = request.arg("client_id") or "", request.arg("redirect_uri") or ""
        app = self.apps.get(client_id)
        scopes = tuple((request.arg("scope") or "read").split())
        if app is None or request.arg("response_type") != "code":
            return Response(400, "<p>Client authentication failed due to unknown client.</p>")
        if redirect_uri not in app.redirect_uris:
            return Response(400, f"<p>{INVALID_REDIRECT_URI}</p>")
        if not set(scopes) <= set(app.scopes) or not set(scopes) <= set(self.known_scopes):
            return Response(400, f"<p>{INVALID_SCOPE['error_description']}</p>")
        code = secrets.token_urlsafe(32)
        self.grants[code] = Grant(client_id, self.browser_account, scopes, redirect_uri)
        if redirect_uri != OOB:
            return Response(302, None, {"Location": f"{redirect_uri}?code={code}"})
        page = (
            f"<p>Authorized {html.escape(app.name)} "
            f"for @{html.escape(self.browser_account.username)}."
            " Copy this authorization code and paste it to the application.</p>"
            f'<input class="oauth-code" readonly type="text" value="{code}">'
        )
        return Response(200, page, {"Content-Type": "text/html; charset=utf-8"})

    @route("POST", "/oauth/token")
    def exchange_code(self, request: Request) -> Response:
        app = self.apps.get(request.field("client_id") or "")
        if app is None or request.field("client_secret") != app.client_secret:
            return Response(401, INVALID_CLIENT)
        grant = self.grants.pop(request.field("code") or "", None)
        if (
            request.field("grant_type") != "authorization_code"
            or grant is None
            or grant.client_id != request.field("client_id")
            or grant.redirect_uri != request.field("redirect_uri")
        ):
            return Response(400, INVALID_GRANT)
        token = secrets.token_urlsafe(32)
        self.tokens[token] = BearerToken(grant.account, grant.scopes)
        return Response(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": " ".join(grant.scopes),
                "created_at": int(self.clock().timestamp()),
            },
        )

    @route("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses")
    def account_statuses(self, request: Request, account_id: str) -> Response:
        limit = max(1, min(int(request.arg("limit", "20") or 20), 40))
        page = self._page(
            [s for s in self.statuses.values() if s.account.id == account_id], request, limit
        )
        headers = {}
        if page:
            path = f"{self.url}/api/v1/accounts/{account_id}/statuses?limit={limit}"
            newer, older = f"{path}&min_id={page[0].id}", f"{path}&max_id={page[-1].id}"
            headers["Link"] = f'<{older}>; rel="next", <{newer}>; rel="prev"'
        return Response(200, [self._status_json(s) for s in page], headers)

    @staticmethod
    def _page(statuses: list[Status], request: Request, limit: int) -> list[Status]:
        """Mastodon's id paging: below ``max_id``, above ``since_id`` (newest first), or the
        oldest just above ``min_id``."""
        newest = sorted(statuses, key=lambda s: int(s.id), reverse=True)
        max_id, since_id = request.arg("max_id"), request.arg("since_id")
        min_id = request.arg("min_id")
        if max_id:
            newest = [s for s in newest if int(s.id) < int(max_id)]
        if since_id:
            newest = [s for s in newest if int(s.id) > int(since_id)]
        if min_id:
            oldest = [s for s in reversed(newest) if int(s.id) > int(min_id)][:limit]
            return list(reversed(oldest))
        return newest[:limit]

    @route("GET", r"/api/v1/statuses/(?P<status_id>\d+)/source")
    def status_source(self, request: Request, status_id: str) -> Response:
        bearer = self._bearer(request)
        status = self.statuses.get(status_id)
        if not self.source_api or status is None or bearer is None:
            return self.error(404)
        if status.account is not bearer.account:
            return self.error(404)  # Mastodon: only the author may read a status's source
        return Response(
            200, {"id": status.id, "text": status.text, "spoiler_text": status.spoiler_text}
        )

    @route("GET", "/api/v1/statuses")
    def statuses_batch(self, request: Request) -> Response:
        if not self.batch_statuses:
            return self.error(404)
        ids = list(dict.fromkeys(request.query.get("id[]", [])))
        if len(ids) > STATUSES_BATCH:
            return self.error(422, "Mastodon::ValidationError")
        found = [self.statuses[i] for i in ids if i in self.statuses]
        return Response(200, [self._status_json(status) for status in found])

    @route("GET", r"/api/v1/statuses/(?P<status_id>\d+)")
    def get_status(self, request: Request, status_id: str) -> Response:
        status = self.statuses.get(status_id)
        if status is None:
            return self.error(404)
        return Response(200, self._status_json(status))

    @route("POST", "/api/v2/media")
    def media_v2(self, request: Request) -> Response:
        media = self._store_media(request, "v2")
        return Response(200 if media.polls_left <= 0 else 202, media.json(self.url))

    @route("POST", "/api/v1/media")
    def media_v1(self, request: Request) -> Response:
        media = self._store_media(request, "v1")
        media.polls_left = 0  # v1 processes before answering
        return Response(200, media.json(self.url))

    @route("GET", r"/api/v1/media/(?P<media_id>\d+)")
    def get_media(self, request: Request, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return self.error(404)
        media.polls_left -= 1
        return Response(206 if media.polls_left > 0 else 200, media.json(self.url))

    @route("POST", "/api/v1/statuses")
    def post_status(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        earlier = self._earlier_with_key(key, self._bearer(request))
        if earlier is not None:
            return Response(200, self._status_json(earlier))
        bearer = self._bearer(request)
        assert bearer is not None  # dispatch refused the request otherwise
        status = self._new_status(request, key, bearer.account)
        if isinstance(status, Response):
            return status
        self.statuses[status.id] = status
        return Response(200, self._status_json(status))

    @route("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)")
    def delete_status(self, request: Request, status_id: str) -> Response:
        bearer = self._bearer(request)
        status = self.statuses.get(status_id)
        if status is None or bearer is None or status.account is not bearer.account:
            return self.error(404)  # Mastodon looks among the caller's own statuses only
        del self.statuses[status_id]
        self.deleted.append(status_id)
        return Response(200, {**self._status_json(status), "text": status.text})

    # --- helpers ----------------------------------------------------------------------------

    def _store_media(self, request: Request, endpoint: str) -> Media:
        fields = request.form()
        data = fields.get("file", [b""])[0]
        description = (fields.get("description") or [b""])[0].decode()
        media = Media(
            str(next(self._ids)), description, "image/png", data, self.processing_polls, endpoint
        )
        self.media[media.id] = media
        return media

    def _earlier_with_key(self, key: str | None, bearer: BearerToken | None) -> Status | None:
        if key is None or bearer is None or self.flavour == "gotosocial":  # it ignores the header
            return None
        cutoff = self.clock() - IDEMPOTENCY_WINDOW
        for status in self.statuses.values():
            mine = status.account is bearer.account
            if mine and status.idempotency_key == key and status.created_at >= cutoff:
                return status
        return None

    def _new_status(self, request: Request, key: str | None, account: Account) -> Status | Response:
        fields = {name: [v.decode() for v in values] for name, values in request.form().items()}
        text = (fields.get("status") or [""])[0]
        if text_length(text, LengthRule.GRAPHEMES_URL_23) > self.max_characters:
            return self.error(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        media_ids = fields.get("media_ids[]", [])
        if len(media_ids) > self.max_media:
            return self.error(
                422, f"Validation failed: Media attachments limit of {self.max_media} exceeded"
            )
        media = [self.media.get(media_id) for media_id in media_ids]
        if any(m is None for m in media):
            return self.error(422, "Validation failed: Media attachments are invalid")
        if any(m is not None and m.polls_left > 0 for m in media):
            return self.error(
                422, "Cannot attach files that have not finished processing. Try again in a moment!"
            )
        reply_to = (fields.get("in_reply_to_id") or [None])[0]
        if reply_to is not None and reply_to not in self.statuses:
            return self.error(404)
        return Status(
            id=str(next(self._ids)),
            text=text,
            created_at=self.clock(),
            visibility=(fields.get("visibility") or ["public"])[0],
            spoiler_text=(fields.get("spoiler_text") or [""])[0],
            language=(fields.get("language") or [None])[0],
            in_reply_to_id=reply_to,
            media=[m for m in media if m is not None],
            account=account,
            idempotency_key=key,
        )

    @property
    def posted(self) -> list[Status]:
        """The statuses that exist, oldest first."""
        return sorted(self.statuses.values(), key=lambda s: int(s.id))
