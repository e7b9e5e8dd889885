"""Who is asking, and may they: the session cookie, the current user, the role guard, CSRF.

The session cookie holds the token ``service.users.log_in`` gave (the database keeps only its
hash, so several dashboard processes share sessions). Nothing else is stored for CSRF: a form's
token is HMAC-SHA256 of "csrf" keyed by the session token, which an attacker's page can neither
read nor compute. The login form, before any session, uses a double-submit cookie instead.
Every POST must also come from the page's own origin when the browser says where it came from.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.errors import ConfigurationError
from scheduler.service import users
from scheduler.service.users import Permission, User
from scheduler.web.context import Visit, web_of
from scheduler.web.errors import Forbidden, PageNotFound, error_page, missing_permission

SESSION_COOKIE = "campaign_session"
LOGIN_CSRF_COOKIE = "campaign_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
FORM_LIMITS = {"max_files": 20, "max_fields": 200, "max_part_size": 1 << 20}
"""What one posted form may hold; a bigger one is refused (400) before any handler runs."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Handler = Callable[[Visit], Response]
Endpoint = Callable[[Request], Awaitable[Response]]

STALE_FORM = (
    "This form was out of date or did not come from this dashboard, so nothing was done. "
    "Reload the page and try again."
)
SESSION_ENDED = "Your session has ended, so nothing was done. Log in again, then try again."


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: the same on every page of it, useless without it."""
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


def tokens_match(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin (a missing Origin
    header is allowed: older browsers, and the CSRF token is checked anyway)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin != "null" and urlsplit(origin).netloc.lower() == host.lower()


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path of this site only, never another host."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(char) < 32 or char == "\\" for char in value):
        return "/"
    return value


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": here}) if here != "/" else "/login"


def current_user(request: Request) -> tuple[User, str] | None:
    """The user of the session cookie and its token, or None (none, unknown, expired, idle,
    revoked or disabled). Reads the database: call it in a worker thread."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    web = web_of(request)
    user = users.session_user(web.database, token, now=web.session_clock())
    return (user, token) if user is not None else None


async def posted_form(request: Request) -> FormData:
    return await request.form(**FORM_LIMITS)


def require(permission: Permission) -> Callable[[Handler], Endpoint]:
    """The guard of a route: the handler runs only for a logged-in user holding ``permission``,
    and for a POST only with the session's CSRF token (field ``csrf_token`` or header
    ``X-CSRF-Token``) from the page's own origin.

    Anonymous: a GET goes to the login page (and back afterwards), a POST gets 403. A
    handler's ``UsageError``/``ConfigurationError`` becomes a 400 page with its message,
    ``PageNotFound`` a 404, ``Forbidden`` a 403."""

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            posting = request.method not in SAFE_METHODS  # every other method acts: checked
            if posting and not same_origin(request):
                return error_page(request, 403, STALE_FORM)
            found = await run_in_threadpool(current_user, request)
            if found is None:
                if posting:
                    return error_page(request, 403, SESSION_ENDED)
                return RedirectResponse(login_url(request), status_code=303)
            user, token = found
            visit = Visit(request, user, csrf_token(token), token)
            if posting:
                visit.form = await posted_form(request)
                given = visit.field(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
                if not tokens_match(visit.csrf, given):
                    await visit.form.close()
                    return await run_in_threadpool(_refused, visit, STALE_FORM)
            try:
                return await run_in_threadpool(_answer, handler, visit, permission)
            finally:
                await visit.form.close()

        return endpoint

    return decorate


def _answer(handler: Handler, visit: Visit, permission: Permission) -> Response:
    try:
        if not visit.user.may(permission):
            raise missing_permission(permission)
        return handler(visit)
    except Forbidden as exc:
        return _refused(visit, str(exc))
    except PageNotFound as exc:
        return _error(visit, 404, str(exc))
    except ConfigurationError as exc:  # UsageError, a post's CampaignFileError: bad input
        return _error(visit, 400, str(exc))


def _refused(visit: Visit, message: str) -> Response:
    return _error(visit, 403, message)


def _error(visit: Visit, status: int, message: str) -> Response:
    return error_page(visit.request, status, message, user=visit.user, csrf=visit.csrf)
