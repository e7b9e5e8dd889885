"""The dashboard as one ASGI app: every route in one place, the security headers on every
response, the error pages.

A page module holds handlers guarded by ``auth.require(permission)``; its routes are listed
in :func:`routes`, GET to show and POST to act (each POST answers 303 back to a page, with a
flash message).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduler.service.clock import now_utc
from scheduler.service.databases import Database
from scheduler.web import (
    audit,
    calendar,
    control,
    login,
    media,
    overview,
    posts,
    problems,
    queue,
    reports,
    static,
    users,
)
from scheduler.web.auth import csrf_token, current_user
from scheduler.web.context import POLICY, Web, wall_clock
from scheduler.web.errors import error_page, server_error

log = logging.getLogger("campaign.web")

SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: browsers then send "Origin: null" on our own form posts (refused).
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NOT_FOUND = "There is no page at this address. Check the link, or start from the overview."
NO_STORE = "no-store"
"""Pages are a user's own and change all the time: never kept by a browser or a proxy."""


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route, wrong method, a form it cannot parse), in the
    full layout for a logged-in user: the pauses in force show on every page."""
    assert isinstance(exc, HTTPException)
    message = NOT_FOUND if exc.status_code == 404 else str(exc.detail)
    found = await run_in_threadpool(current_user, request)
    user, csrf = (found[0], csrf_token(found[1])) if found else (None, None)
    return error_page(request, exc.status_code, message, user=user, csrf=csrf)


def routes() -> list[BaseRoute]:
    return [
        # The read-only pages (overview, problems, calendar, report, audit, images): VIEW.
        Route("/", overview.overview),
        Route("/problems", problems.problems_page, methods=["GET"]),
        Route("/calendar", calendar.calendar_page, methods=["GET"]),
        Route("/report", reports.report_page, methods=["GET"]),
        Route("/report.csv", reports.report_csv_download, methods=["GET"]),
        Route("/report.json", reports.report_json_download, methods=["GET"]),
        Route("/report.html", reports.report_html_download, methods=["GET"]),
        Route("/audit", audit.audit_page, methods=["GET"]),
        Route("/media/{sha256}", media.media, methods=["GET"]),
        # End of the read-only pages.
        Route("/login", login.login_form, methods=["GET"]),
        Route("/login", login.log_in, methods=["POST"]),
        Route("/logout", login.log_out, methods=["POST"]),
        # the kill switch and the users (admins)
        Route("/pauses", control.pauses_page, methods=["GET"]),
        Route("/pauses", control.pause, methods=["POST"]),
        Route("/pauses/resume", control.resume, methods=["POST"]),
        Route("/users", users.users_page, methods=["GET"]),
        Route("/users", users.add_user, methods=["POST"]),
        Route("/users/{name}/role", users.set_role, methods=["POST"]),
        Route("/users/{name}/disable", users.disable_user, methods=["POST"]),
        Route("/users/{name}/enable", users.enable_user, methods=["POST"]),
        Route("/users/{name}/password", users.set_password, methods=["POST"]),
        # end of the kill switch and the users
        # posts: the list, one post, approving and cancelling it, its images
        Route("/posts", posts.post_list, methods=["GET"]),
        Route("/posts/{post_id}", posts.post_view, methods=["GET"]),
        Route("/posts/{post_id}/approve", posts.approve, methods=["POST"]),
        Route("/posts/{post_id}/cancel", posts.cancel, methods=["POST"]),
        # end of posts
        # Queue a post, edit a queued one (scheduler/web/queue.py)
        Route("/queue/new", queue.new_post, methods=["GET"]),
        Route("/queue", queue.queue_post, methods=["POST"]),
        Route("/queue/check", queue.check, methods=["POST"]),
        Route("/posts/{post_id}/edit", queue.edit_form, methods=["GET"]),
        Route("/posts/{post_id}/edit", queue.save_edit, methods=["POST"]),
        Route("/static/{name}", static.serve_static, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]


def create_app(
    database: Database,
    *,
    clock: Callable[[], dt.datetime] = now_utc,
    session_clock: Callable[[], dt.datetime] = wall_clock,
    secure_cookies: bool = True,
) -> Starlette:
    """The dashboard on ``database``. ``clock`` is campaign time, which actions are stamped
    with (a rehearsal's clock file, as for the CLI); sessions and lockouts go by
    ``session_clock``, the wall clock. ``secure_cookies=False`` is for plain-http tests only."""
    app = Starlette(
        routes=routes(),
        middleware=[Middleware(Guarded)],
        exception_handlers={HTTPException: http_exception},
    )
    app.state.web = Web(database, clock, session_clock, secure_cookies)
    return app


class Guarded:
    """Around every request: the security headers on every response, and an unexpected error
    as the 500 page (logged with its traceback, shown without it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _add_headers(message)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            if started:
                raise
            await server_error(Request(scope))(scope, receive, send_with_headers)


def _add_headers(message: Message) -> None:
    headers = message.setdefault("headers", [])
    present = {name.lower() for name, _ in headers}
    for name, value in SECURITY_HEADERS.items():
        headers.append((name.lower().encode(), value.encode()))
    if b"cache-control" not in present:
        headers.append((b"cache-control", NO_STORE.encode()))
