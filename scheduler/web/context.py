"""What a request handler works with: ``Web``, shared by every request of one app, and
``Visit``, one request of a logged-in user (its user, form, campaign, and the ways to answer).

Handlers are plain functions ``(visit) -> Response`` run in a worker thread (the service is
synchronous); ``auth.require`` builds the Visit once the session, the CSRF token and the
permission are checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from scheduler.service import control
from scheduler.service.clock import now_utc
from scheduler.service.databases import Database
from scheduler.service.users import Permission, User
from scheduler.views.pages import render
from scheduler.views.reporting import WHY, label

FLASH_COOKIE = "campaign_flash"
FLASH_SECONDS = 60
FLASH_LIMIT = 300
"""Characters of a flash message kept: a sentence, never a page."""

_DIRECTIVES = {
    "default-src": "'none'",
    "style-src": "'self' 'unsafe-inline'",  # web.css, and base.html's inlined common.css
    "script-src": "'self'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}
POLICY = "; ".join(f"{name} {value}" for name, value in _DIRECTIVES.items())
"""The Content Security Policy of every response (the header)."""
META_POLICY = "; ".join(
    f"{name} {value}" for name, value in _DIRECTIVES.items() if name != "frame-ancestors"
)
"""The same in the page's <meta> (which cannot carry frame-ancestors), for a saved page."""


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    permission: Permission


NAV: tuple[NavItem, ...] = (
    NavItem("Overview", "/", Permission.VIEW),
    NavItem("Calendar", "/calendar", Permission.VIEW),
    NavItem("Posts", "/posts", Permission.VIEW),
    NavItem("Queue a post", "/queue/new", Permission.QUEUE),
    NavItem("Problems", "/problems", Permission.VIEW),
    NavItem("Kill switch", "/pauses", Permission.VIEW),
    NavItem("Report", "/report", Permission.VIEW),
    NavItem("Audit", "/audit", Permission.VIEW),
    NavItem("Users", "/users", Permission.MANAGE_USERS),
)
"""The menu of every page, in order; an item shows only to users with its permission."""


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Web:
    """What every request of one app shares: the database, campaign time (``clock``: actions
    are stamped with it), the time sessions and lockouts go by (``session_clock``: the wall
    clock, which a rehearsal does not move), and whether cookies are Secure."""

    database: Database
    clock: Callable[[], dt.datetime] = now_utc
    session_clock: Callable[[], dt.datetime] = wall_clock
    secure_cookies: bool = True

    def set_cookie(self, response: Response, name: str, value: str, **options: Any) -> None:
        """Every cookie of the dashboard: HttpOnly, SameSite=Strict, Secure unless told."""
        options.setdefault("path", "/")
        response.set_cookie(
            name, value, httponly=True, secure=self.secure_cookies, samesite="strict", **options
        )

    def delete_cookie(self, response: Response, name: str, *, path: str = "/") -> None:
        response.delete_cookie(
            name, path=path, httponly=True, secure=self.secure_cookies, samesite="strict"
        )


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def campaign_of(request: Request) -> str | None:
    """``?campaign=ID``: every page takes it, and every link and form of a page passes it on."""
    return request.query_params.get("campaign") or None


def url_for(path: str, campaign: str | None, /, **params: object) -> str:
    """``path`` with the query ``params`` (None left out) and the current campaign."""
    query = {name: str(value) for name, value in params.items() if value is not None}
    if campaign is not None and "campaign" not in query:
        query = {"campaign": campaign, **query}
    return f"{path}?{urlencode(query)}" if query else path


def flash_of(request: Request) -> str | None:
    """The message a POST left for the page it redirected to (shown once, escaped)."""
    text = unquote(request.cookies.get(FLASH_COOKIE, ""))[:FLASH_LIMIT]
    return text or None


def page_context(request: Request, user: User | None, csrf: str | None) -> dict[str, Any]:
    """What layout.html draws around every page; without a user (the login page, an error
    before login) no menu and no pauses."""
    campaign = campaign_of(request)
    pauses = control.active_pauses(web_of(request).database, campaign) if user else []
    nav = [item for item in NAV if user is not None and user.may(item.permission)]
    return {
        "user": user,
        "csrf_token": csrf,
        "pauses": pauses,
        "flash": flash_of(request),
        "nav": nav,
        "current_path": request.url.path,
        "campaign": campaign,
        "url": lambda path, **params: url_for(path, campaign, **params),
        "policy": META_POLICY,
        "state_label": label,
        "why": WHY,
    }


def render_page(
    request: Request,
    template: str,
    *,
    user: User | None = None,
    csrf: str | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` (under views/templates) inside the layout; a flash message shown is used up."""
    page = render(template, **page_context(request, user, csrf), **context)
    response = HTMLResponse(page, status_code=status)
    if FLASH_COOKIE in request.cookies:
        web_of(request).delete_cookie(response, FLASH_COOKIE)
    return response


@dataclass
class Visit:
    """One request of a logged-in user who holds the permission of the route."""

    request: Request
    user: User
    csrf: str
    """The CSRF token of this session: every POST form carries it as ``csrf_token``."""
    token: str = dataclasses.field(repr=False)
    """The session token (a secret: never logged, never shown)."""
    form: FormData = dataclasses.field(default_factory=FormData)

    @property
    def web(self) -> Web:
        return web_of(self.request)

    @property
    def database(self) -> Database:
        return self.web.database

    @property
    def campaign(self) -> str | None:
        return campaign_of(self.request)

    def now(self) -> dt.datetime:
        return self.web.clock()

    def field(self, name: str) -> str:
        """A text field of the posted form, stripped; '' when absent (a file is not text)."""
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def files(self, name: str) -> list[UploadFile]:
        return [value for value in self.form.getlist(name) if isinstance(value, UploadFile)]

    def url(self, path: str, **params: object) -> str:
        return url_for(path, self.campaign, **params)

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        return render_page(
            self.request, template, user=self.user, csrf=self.csrf, status=status, **context
        )

    def fragment(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        """A piece of a page for htmx to swap in (no layout; a flash message is left alone)."""
        page = render(
            template,
            user=self.user,
            csrf_token=self.csrf,
            campaign=self.campaign,
            url=self.url,
            state_label=label,
            why=WHY,
            **context,
        )
        return HTMLResponse(page, status_code=status)

    def redirect(self, path: str, *, flash: str | None = None, **params: object) -> Response:
        """303 to ``path`` (with the campaign), after a POST; ``flash`` is shown there once."""
        response = RedirectResponse(self.url(path, **params), status_code=303)
        if flash:
            self.web.set_cookie(
                response, FLASH_COOKIE, quote(flash[:FLASH_LIMIT]), max_age=FLASH_SECONDS
            )
        return response
