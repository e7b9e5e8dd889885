"""``/users`` (admins only): the dashboard's users, adding one, changing a role, disabling and
enabling, setting a new password. Everything goes through ``service.users`` with the admin's
name, so the audit log says who did it; the service keeps at least one enabled admin.

A password is never sent back: not in a re-shown form, not in a message. Setting a user's
password, or disabling them, ends their sessions at once (the next request of theirs finds no
session). An admin may disable themselves or give up the admin role while another enabled
admin remains; the page they land on says what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response

from scheduler.errors import UsageError
from scheduler.service import users
from scheduler.service.users import Permission, Role, User
from scheduler.web.auth import SESSION_COOKIE, require
from scheduler.web.context import Visit
from scheduler.web.errors import PageNotFound

PAGE = "/users"
LOGIN = "/login"
PASSWORD_RULE = (
    f"At least {users.MIN_PASSWORD} characters: a few words in a row are easy to remember. "
    "It is never shown again, here or anywhere."
)


@dataclass
class UserForms:
    """The forms of the page as typed (never the password), and what is wrong with them."""

    name: str = ""
    role: str = str(Role.AUTHOR)
    errors: dict[str, str] = field(default_factory=dict)
    """The add form's mistakes, by field name."""
    row_errors: dict[str, str] = field(default_factory=dict)
    """A refused new password, by user name."""
    error: str | None = None
    """A refused change of one user (the last admin, say)."""


@require(Permission.MANAGE_USERS)
def users_page(visit: Visit) -> Response:
    return _page(visit, UserForms())


@require(Permission.MANAGE_USERS)
def add_user(visit: Visit) -> Response:
    forms = UserForms(name=visit.field("name"), role=visit.field("role"))
    password = _password(visit)
    _check(forms.errors, "name", users.check_name, forms.name)
    _check(forms.errors, "role", users.parse_role, forms.role)
    _check(forms.errors, "password", users.check_password, password)
    if not forms.errors:
        try:
            added = users.add_user(
                visit.database,
                forms.name,
                Role(forms.role),
                password,
                actor=visit.user.name,
                now=visit.web.session_clock(),
            )
        except UsageError as exc:  # the name is taken
            forms.errors["name"] = str(exc)
        else:
            return visit.redirect(PAGE, flash=f"Added {added.name}, {added.role}.")
    return _page(visit, forms, status=400)


@require(Permission.MANAGE_USERS)
def set_role(visit: Visit) -> Response:
    name = _named(visit).name
    try:
        role = users.parse_role(visit.field("role"))
        changed = users.set_role(
            visit.database, name, role, actor=visit.user.name, now=visit.web.session_clock()
        )
    except UsageError as exc:  # the last admin, or no such role
        return _page(visit, UserForms(error=str(exc)), status=400)
    message = f"{name} is now {changed.role}."
    if name == visit.user.name and not changed.may(Permission.MANAGE_USERS):
        return visit.redirect("/", flash=f"{message} Managing users now needs another admin.")
    return visit.redirect(PAGE, flash=message)


@require(Permission.MANAGE_USERS)
def disable_user(visit: Visit) -> Response:
    name = _named(visit).name
    try:
        users.disable_user(
            visit.database, name, actor=visit.user.name, now=visit.web.session_clock()
        )
    except UsageError as exc:  # the last admin
        return _page(visit, UserForms(error=str(exc)), status=400)
    if name == visit.user.name:
        return _logged_out(visit, "You disabled your own account: your session has ended.")
    return visit.redirect(
        PAGE, flash=f"Disabled {name}: they cannot log in, and their sessions have ended."
    )


@require(Permission.MANAGE_USERS)
def enable_user(visit: Visit) -> Response:
    name = _named(visit).name
    users.enable_user(visit.database, name, actor=visit.user.name, now=visit.web.session_clock())
    return visit.redirect(PAGE, flash=f"Enabled {name}, and lifted any lock: they can log in.")


@require(Permission.MANAGE_USERS)
def set_password(visit: Visit) -> Response:
    name = _named(visit).name
    try:
        users.set_password(
            visit.database,
            name,
            _password(visit),
            actor=visit.user.name,
            now=visit.web.session_clock(),
        )
    except UsageError as exc:  # too short or too long; the message never repeats it
        return _page(visit, UserForms(row_errors={name: str(exc)}), status=400)
    if name == visit.user.name:
        return _logged_out(visit, "Your password is changed, and your sessions ended: log in.")
    return visit.redirect(
        PAGE, flash=f"New password set for {name}; their sessions have ended. Tell them."
    )


def _page(visit: Visit, forms: UserForms, *, status: int = 200) -> Response:
    return visit.render(
        "web/users.html",
        status=status,
        people=users.list_users(visit.database),
        locked=users.locked_users(visit.database, now=visit.web.session_clock()),
        roles=list(Role),
        forms=forms,
        password_rule=PASSWORD_RULE,
        min_password=users.MIN_PASSWORD,
    )


def _named(visit: Visit) -> User:
    """The user the address names; 404 when there is none."""
    name = str(visit.request.path_params["name"])
    for user in users.list_users(visit.database):
        if user.name == name:
            return user
    raise PageNotFound(f"There is no user {name[:64]!r}. The Users page lists them all.")


def _password(visit: Visit) -> str:
    """As typed: a password's spaces are part of it (``visit.field`` strips)."""
    value = visit.form.get("password")
    return value if isinstance(value, str) else ""


def _check(errors: dict[str, str], name: str, check: Callable[[str], object], value: str) -> None:
    try:
        check(value)
    except UsageError as exc:
        errors[name] = str(exc)


def _logged_out(visit: Visit, message: str) -> Response:
    """The admin's own session ended (the service revoked it): to the login page."""
    response = visit.redirect(LOGIN, flash=message)
    visit.web.delete_cookie(response, SESSION_COOKIE)
    return response
