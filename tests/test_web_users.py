"""The users page (``/users``, admins only) over real HTTP on SQLite and PostgreSQL: who may use
it, adding users, roles, disabling and enabling, new passwords, the last admin kept, sessions
ended, the audit log, and passwords never sent back or logged."""

from __future__ import annotations

import html
import logging
import re

import httpx
import pytest
from sqlalchemy import select
from web_fixtures import PASSWORD, USER_NAMES, Login, WebClient, WebServer

from scheduler.service import users
from scheduler.service.users import Role
from scheduler.store.database import Database
from scheduler.store.schema import AuditEntry

AUTHOR, APPROVER, ADMIN = (USER_NAMES[role] for role in Role)
NEW_PASSWORD = "a brand new password for ana"
SHORT = "short pw 11"

ACTIONS = [
    ("/users", {"name": "zoe", "role": "author", "password": NEW_PASSWORD}),
    (f"/users/{AUTHOR}/role", {"role": "admin"}),
    (f"/users/{AUTHOR}/disable", {}),
    (f"/users/{AUTHOR}/enable", {}),
    (f"/users/{AUTHOR}/password", {"password": NEW_PASSWORD}),
]


def _audit(database: Database) -> list[tuple[str, str, str | None]]:
    """The users' changes in the audit log, after the fixture's own (by "setup")."""
    with database.transaction() as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("user "), AuditEntry.actor != "setup")
            .order_by(AuditEntry.id)
        )
        return [(row.actor, row.action, row.subject) for row in rows]


def _people(database: Database) -> dict[str, tuple[Role, bool]]:
    return {user.name: (user.role, user.disabled) for user in users.list_users(database)}


def _flash(client: WebClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = re.search(r'<span class="flash-kind">Done:</span> (.*?)</p>', page.text)
    assert found, page.text
    return html.unescape(found[1])


def _logs_in(web: WebServer, name: str, password: str = PASSWORD) -> bool:
    return web.client().login(name, password).status_code == 303


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "author", "approver", "admin"])
def test_only_admins_see_the_users_page(web: WebServer, web_login: Login, role: str | None) -> None:
    client = web.client() if role is None else web_login(role)
    page = client.get("/users")
    if role is None:
        assert page.headers["location"] == "/login?next=%2Fusers"
    elif role == "admin":
        assert page.status_code == 200
        for name in USER_NAMES.values():
            assert f'<th scope="row">{name}' in page.text
        assert 'href="/users" aria-current="page"' in page.text
    else:
        assert page.status_code == 403
        assert "This needs the admin role (manage_users permission)" in page.text
        assert 'href="/users"' not in page.text  # not in the menu either


@pytest.mark.parametrize("role", [None, "author", "approver"])
@pytest.mark.parametrize(("path", "fields"), ACTIONS, ids=lambda v: str(v).split("/")[-1])
def test_nobody_but_an_admin_changes_users(
    web: WebServer,
    web_login: Login,
    database: Database,
    role: str | None,
    path: str,
    fields: dict[str, str],
) -> None:
    before = _people(database)
    client = web.client() if role is None else web_login(role)
    response = client.post_form(path, fields, csrf=role is not None)
    assert response.status_code == 403
    if role is not None:
        assert "This needs the admin role" in response.text
    assert _people(database) == before
    assert _audit(database) == []
    assert _logs_in(web, AUTHOR)  # the password is unchanged


# --- adding -------------------------------------------------------------------------------------


def test_an_admin_adds_a_user_who_can_then_log_in(
    web: WebServer, web_login: Login, database: Database
) -> None:
    admin = web_login("admin")
    added = admin.post_form("/users", {"name": "zoe", "role": "approver", "password": PASSWORD})
    assert _flash(admin, added) == "Added zoe, approver."
    assert _people(database)["zoe"] == (Role.APPROVER, False)
    assert _audit(database) == [(ADMIN, "user add", "zoe")]
    zoe = web.client()
    assert zoe.login("zoe").status_code == 303
    assert "Logged in as <strong>zoe</strong>" in zoe.get("/").text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "zoe", "role": "author", "password": SHORT}, "password", "at least 12"),
        ({"name": "zo e", "role": "author", "password": PASSWORD}, "name", "expected 1 to 64"),
        ({"name": "", "role": "author", "password": PASSWORD}, "name", "expected 1 to 64"),
        ({"name": "zoe", "role": "boss", "password": PASSWORD}, "role", "expected one of author"),
        ({"name": "ANA", "role": "author", "password": PASSWORD}, "name", "is taken ('ana')"),
    ],
    ids=["short-password", "bad-name", "no-name", "bad-role", "taken"],
)
def test_a_refused_user_comes_back_on_its_field_without_the_password(
    web: WebServer,
    web_login: Login,
    database: Database,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    admin = web_login("admin")
    before = _people(database)
    response = admin.post_form("/users", fields)
    assert response.status_code == 400
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', response.text)
    assert error and message in html.unescape(error[1]), response.text
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', response.text)
    assert fields["password"] not in response.text
    assert 'name="password" type="password" autocomplete="new-password"' in response.text
    assert not re.search(r'type="password"[^>]*value=', response.text)
    assert _people(database) == before
    assert _audit(database) == []


# --- changing -----------------------------------------------------------------------------------


def test_an_admin_changes_a_role_and_the_last_admin_is_kept(
    web: WebServer, web_login: Login, database: Database
) -> None:
    admin, author = web_login("admin"), web_login("author")
    promoted = admin.post_form(f"/users/{AUTHOR}/role", {"role": "approver"})
    assert _flash(admin, promoted) == f"{AUTHOR} is now approver."
    assert author.post_form("/pauses/resume", {"all": "1"}).status_code == 400  # allowed now
    refused = admin.post_form(f"/users/{ADMIN}/role", {"role": "author"})
    assert refused.status_code == 400
    assert "would leave no enabled admin; make another user admin first" in refused.text
    assert 'class="flash flash-error" role="alert"' in refused.text
    assert _people(database)[ADMIN] == (Role.ADMIN, False)
    assert _audit(database) == [(ADMIN, "user role", AUTHOR)]


def test_an_admin_who_steps_down_lands_on_the_overview(
    web: WebServer, web_login: Login, database: Database
) -> None:
    admin = web_login("admin")
    admin.post_form(f"/users/{APPROVER}/role", {"role": "admin"})
    down = admin.post_form(f"/users/{ADMIN}/role", {"role": "approver"})
    assert down.headers["location"] == "/"
    assert "Managing users now needs another admin." in _flash(admin, down)
    assert admin.get("/users").status_code == 403


def test_a_disabled_users_session_stops_at_the_next_request(
    web: WebServer, web_login: Login, database: Database
) -> None:
    admin, author = web_login("admin"), web_login("author")
    assert author.get("/").status_code == 200
    disabled = admin.post_form(f"/users/{AUTHOR}/disable", {})
    assert "Disabled ana: they cannot log in" in _flash(admin, disabled)
    assert author.get("/").headers["location"] == "/login"
    assert author.post_form("/pauses", {"scope": "all", "reason": "x"}).status_code == 403
    assert not _logs_in(web, AUTHOR)
    page = admin.get("/users")
    assert "<strong>Disabled</strong>" in page.text and f"Enable {AUTHOR}" in page.text
    enabled = admin.post_form(f"/users/{AUTHOR}/enable", {})
    assert _flash(admin, enabled).startswith(f"Enabled {AUTHOR}")
    assert _logs_in(web, AUTHOR)
    assert _audit(database) == [
        (ADMIN, "user disable", AUTHOR),
        (ADMIN, "user enable", AUTHOR),
    ]


def test_an_admin_may_disable_themselves_unless_the_last_one(
    web: WebServer, web_login: Login, database: Database
) -> None:
    admin = web_login("admin")
    last = admin.post_form(f"/users/{ADMIN}/disable", {})
    assert last.status_code == 400
    assert f"disabling {ADMIN} would leave no enabled admin" in last.text
    admin.post_form(f"/users/{APPROVER}/role", {"role": "admin"})
    gone = admin.post_form(f"/users/{ADMIN}/disable", {})
    assert gone.headers["location"] == "/login"
    assert "campaign_session" not in admin.cookies
    assert "You disabled your own account" in admin.get("/login").text
    assert _people(database)[ADMIN] == (Role.ADMIN, True)


def test_a_new_password_ends_the_users_sessions(
    web: WebServer, web_login: Login, database: Database
) -> None:
    admin, author = web_login("admin"), web_login("author")
    refused = admin.post_form(f"/users/{AUTHOR}/password", {"password": SHORT})
    assert refused.status_code == 400
    assert re.search(
        rf'id="user-{AUTHOR}-password"[^>]*aria-invalid="true"[^>]*'
        rf'aria-describedby="new-password-rule user-{AUTHOR}-password-error"',
        refused.text,
    )
    assert SHORT not in refused.text
    assert author.get("/").status_code == 200  # nothing changed
    done = admin.post_form(f"/users/{AUTHOR}/password", {"password": NEW_PASSWORD})
    assert "their sessions have ended" in _flash(admin, done)
    assert author.get("/").headers["location"] == "/login"
    assert not _logs_in(web, AUTHOR)
    assert _logs_in(web, AUTHOR, NEW_PASSWORD)
    assert _audit(database) == [(ADMIN, "user password", AUTHOR)]


def test_an_admins_own_new_password_logs_them_out(web: WebServer, web_login: Login) -> None:
    admin = web_login("admin")
    done = admin.post_form(f"/users/{ADMIN}/password", {"password": NEW_PASSWORD})
    assert done.headers["location"] == "/login"
    assert "Your password is changed" in admin.get("/login").text
    assert _logs_in(web, ADMIN, NEW_PASSWORD)


def test_a_locked_name_is_shown_and_unlocked(
    web: WebServer, web_login: Login, web_users: dict[Role, str]
) -> None:
    for _ in range(users.MAX_FAILURES):
        assert not _logs_in(web, APPROVER, "a wrong password!")
    admin = web_login("admin")
    page = admin.get("/users")
    assert "<strong>locked</strong> until" in page.text
    assert f"Unlock {APPROVER}" in page.text
    admin.post_form(f"/users/{APPROVER}/enable", {})
    assert _logs_in(web, APPROVER)


def test_an_unknown_user_is_a_404(web: WebServer, web_login: Login) -> None:
    response = web_login("admin").post_form("/users/nobody/disable", {})
    assert response.status_code == 404
    assert "There is no user &#x27;nobody&#x27;" in response.text


def test_passwords_are_never_sent_back_or_logged(
    web: WebServer, web_login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    bodies: list[str] = []
    with caplog.at_level(logging.DEBUG):
        admin = web_login("admin")
        for path, fields in [
            ("/users", {"name": "zoe", "role": "author", "password": NEW_PASSWORD}),
            ("/users", {"name": "zed", "role": "author", "password": SHORT}),
            ("/users", {"name": "zoe", "role": "author", "password": NEW_PASSWORD + "!"}),
            (f"/users/{AUTHOR}/password", {"password": SHORT}),
            (f"/users/{AUTHOR}/password", {"password": NEW_PASSWORD + "?"}),
        ]:
            response = admin.post_form(path, fields)
            bodies.append(response.text + str(response.headers))
            bodies.append(admin.get("/users").text)
    for secret in (NEW_PASSWORD, SHORT, PASSWORD):
        assert secret not in caplog.text
        assert not [body for body in bodies if secret in body]
