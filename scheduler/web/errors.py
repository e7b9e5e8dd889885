"""The error pages: what went wrong in words, never a traceback.

400: the form's input was refused (the service's message names the field and what it expects);
403: not allowed (the role that would be, for a missing permission); 404: no such page or post;
500: our fault, logged with its traceback for the operator, shown without it.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import HTMLResponse

from scheduler.service.users import Permission, Role, User
from scheduler.web.context import render_page

log = logging.getLogger("campaign.web")

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    413: "Too large",
    500: "Something went wrong",
}


class PageNotFound(Exception):
    """A handler's 404: the post, the day or the user asked for does not exist."""


class Forbidden(Exception):
    """A handler's 403, with the sentence saying why."""


def role_needed(permission: Permission) -> Role:
    """The least role that holds ``permission``."""
    for role in Role:
        if User(name="", role=role, disabled=False).may(permission):
            return role
    raise ValueError(f"no role holds {permission}")  # pragma: no cover - Role.ADMIN holds all


def missing_permission(permission: Permission) -> Forbidden:
    role = role_needed(permission)
    return Forbidden(
        f"This needs the {role} role ({permission} permission). Ask an admin if you need it."
    )


def error_page(
    request: Request,
    status: int,
    message: str,
    *,
    user: User | None = None,
    csrf: str | None = None,
) -> HTMLResponse:
    """The error page: inside the full layout for a logged-in user, a bare one otherwise."""
    title = TITLES.get(status) or HTTPStatus(status).phrase
    return render_page(
        request,
        "web/error.html",
        user=user,
        csrf=csrf,
        status=status,
        title=title,
        code=status,
        message=message,
    )


def server_error(request: Request) -> HTMLResponse:
    return error_page(
        request,
        500,
        "The dashboard failed to do this. Nothing was shown of why here; the operator's log "
        "has the details. Try again, or tell the operator the time it happened.",
    )
