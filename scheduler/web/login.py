"""``/login`` and ``/logout``.

Wrong name, wrong password, a disabled or locked-out name: one message for all
(``service.users.AuthenticationFailed``), so the form tells nobody which names exist.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.service import users
from scheduler.service.users import AuthenticationFailed, Permission
from scheduler.web.auth import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    STALE_FORM,
    current_user,
    new_login_token,
    posted_form,
    require,
    safe_next,
    same_origin,
    tokens_match,
)
from scheduler.web.context import Visit, render_page, web_of
from scheduler.web.errors import error_page

LOGIN_PATH = "/login"


async def login_form(request: Request) -> Response:
    """The form; someone already logged in goes straight on."""
    target = safe_next(request.query_params.get("next"))
    if await run_in_threadpool(current_user, request) is not None:
        return RedirectResponse(target, status_code=303)
    return await run_in_threadpool(_form, request, target, None, "", 200)


async def log_in(request: Request) -> Response:
    form = await posted_form(request)
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    await form.close()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if (
        not same_origin(request)
        or not expected
        or not tokens_match(expected, fields.get(CSRF_FIELD))
    ):
        return error_page(request, 403, STALE_FORM)
    name, target = fields.get("name", "").strip(), safe_next(fields.get("next"))
    web = web_of(request)
    try:
        _user, token = await run_in_threadpool(
            users.log_in, web.database, name, fields.get("password", ""), now=web.session_clock()
        )
    except AuthenticationFailed as exc:
        return await run_in_threadpool(_form, request, target, str(exc), name, 400)
    response = RedirectResponse(target, status_code=303)
    web.set_cookie(response, SESSION_COOKIE, token)
    web.delete_cookie(response, LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    return response


def _form(request: Request, target: str, error: str | None, name: str, status: int) -> Response:
    login_token = new_login_token()
    response = render_page(
        request,
        "web/login.html",
        status=status,
        login_token=login_token,
        next=target,
        error=error,
        name=name,
    )
    web_of(request).set_cookie(response, LOGIN_CSRF_COOKIE, login_token, path=LOGIN_PATH)
    return response


@require(Permission.VIEW)
def log_out(visit: Visit) -> Response:
    """Ends the session in the database (every process), not only in this browser."""
    users.log_out(visit.database, visit.token, now=visit.web.session_clock())
    response = visit.redirect(LOGIN_PATH, flash="You are logged out.")
    visit.web.delete_cookie(response, SESSION_COOKIE)
    return response
