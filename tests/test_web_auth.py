"""The dashboard's skeleton over real HTTP: logging in and out, sessions, CSRF and origins, the
role guard, security headers, error pages, static files, the overview, and serving it (its own
command, or beside the daemon)."""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from daemon_harness import DAEMON, DaemonProcess, SteppedTime, wait_for, write_config
from starlette.responses import Response
from starlette.routing import Route
from web_fixtures import PASSWORD, USER_NAMES, Login, StartWeb, WebClient, WebServer

from scheduler.cli import main
from scheduler.errors import UsageError
from scheduler.service import control, users
from scheduler.service.control import Scope
from scheduler.service.users import LOGIN_REFUSED, Permission, Role
from scheduler.store.database import Database
from scheduler.web.app import create_app
from scheduler.web.auth import require, safe_next
from scheduler.web.context import POLICY, Visit
from scheduler.web.server import LOOPBACK, listen, start_in_thread

SECURE_HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _error_text(response: httpx.Response) -> str:
    found = re.search(
        r'<div class="form-error" role="alert" id="login-error"><p>(.*?)</p>', response.text
    )
    assert found, response.text
    return found[1]


def _has_security_headers(response: httpx.Response) -> None:
    for name, value in SECURE_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name)


# --- logging in and out -------------------------------------------------------------------------


def test_anonymous_pages_go_to_the_login_form_and_back(
    web: WebServer, web_users: dict[Role, str]
) -> None:
    visitor = web.client()
    assert visitor.get("/").headers["location"] == "/login"
    asked = visitor.get("/?campaign=orange-2026&x=1")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=%2F%3Fcampaign%3Dorange-2026%26x%3D1"
    form = visitor.get(asked.headers["location"])
    assert 'name="next" value="/?campaign=orange-2026&amp;x=1"' in form.text
    logged_in = visitor.login(USER_NAMES[Role.AUTHOR], next_path="/?campaign=orange-2026&x=1")
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/?campaign=orange-2026&x=1"
    page = visitor.get("/")
    assert page.status_code == 200
    assert "Logged in as <strong>ana</strong>" in page.text
    assert "(author)" in page.text
    assert visitor.get("/login").headers["location"] == "/"  # already logged in


def test_wrong_name_and_wrong_password_get_the_same_answer(
    web: WebServer, web_users: dict[Role, str]
) -> None:
    unknown = web.client().login("nobody", PASSWORD)
    wrong = web.client().login(USER_NAMES[Role.AUTHOR], "not the password at all")
    for response in (unknown, wrong):
        assert response.status_code == 400
        assert "campaign_session" not in response.headers.get("set-cookie", "")
    assert _error_text(unknown) == _error_text(wrong) == LOGIN_REFUSED
    assert 'value="nobody"' in unknown.text  # the name is kept, never the password
    assert "not the password at all" not in wrong.text


def test_repeated_failures_lock_the_name_for_a_while(
    web: WebServer, web_users: dict[Role, str]
) -> None:
    name = USER_NAMES[Role.APPROVER]
    for _ in range(users.MAX_FAILURES):
        assert web.client().login(name, "a wrong password").status_code == 400
    assert web.client().login(name, PASSWORD).status_code == 400  # locked, same message
    web.clock.advance(users.LOCKOUT + dt.timedelta(seconds=1))
    assert web.client().login(name, PASSWORD).status_code == 303


def test_logging_out_ends_the_session_everywhere(web: WebServer, web_login: Login) -> None:
    author = web_login("author")
    stolen = dict(author.cookies)
    out = author.post_form("/logout", {})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert "campaign_session" not in author.cookies
    login_page = author.get("/login")
    assert "You are logged out." in login_page.text
    assert "You are logged out." not in author.get("/login").text  # shown once
    replay = web.client()
    replay.cookies.update(stolen)
    assert replay.get("/").headers["location"] == "/login"


def test_the_session_cookie_is_httponly_secure_strict(
    web: WebServer, web_users: dict[Role, str]
) -> None:
    response = web.client().login(USER_NAMES[Role.AUTHOR])
    [session] = [
        c for c in response.headers.get_list("set-cookie") if c.startswith("campaign_session=")
    ]
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags


def test_sessions_end_after_two_idle_hours(web: WebServer, web_login: Login) -> None:
    author = web_login("author")
    web.clock.advance(users.SESSION_IDLE - dt.timedelta(minutes=1))
    assert author.get("/").status_code == 200  # seen: idle time starts again
    web.clock.advance(users.SESSION_IDLE - dt.timedelta(minutes=1))
    assert author.get("/").status_code == 200
    web.clock.advance(users.SESSION_IDLE)
    assert author.get("/").headers["location"] == "/login"


def test_sessions_end_after_twelve_hours_however_busy(web: WebServer, web_login: Login) -> None:
    author = web_login("author")
    for _ in range(11):
        web.clock.advance(dt.timedelta(hours=1))
        assert author.get("/").status_code == 200
    web.clock.advance(users.SESSION_LIFETIME - dt.timedelta(hours=11))
    assert author.get("/").headers["location"] == "/login"


def test_a_disabled_users_session_ends_at_once(
    web: WebServer, web_login: Login, database: Database
) -> None:
    author = web_login("author")
    users.disable_user(database, USER_NAMES[Role.AUTHOR], actor="ada")
    assert author.get("/").headers["location"] == "/login"
    assert author.post_form("/logout", {}).status_code == 403


def test_two_dashboards_on_one_database_share_sessions(
    web_servers: StartWeb, web_users: dict[Role, str]
) -> None:
    first, second = web_servers(), web_servers()
    author = first.client()
    assert author.login(USER_NAMES[Role.AUTHOR]).status_code == 303
    elsewhere = second.client()
    elsewhere.cookies.update(author.cookies)
    assert "Logged in as <strong>ana</strong>" in elsewhere.get("/").text
    assert elsewhere.post_form("/logout", {}).status_code == 303
    assert author.get("/").headers["location"] == "/login"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/calendar?days=3", "/calendar?days=3"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_a_local_path_only(given: str | None, kept: str) -> None:
    assert safe_next(given) == kept


def test_login_refuses_to_send_anyone_elsewhere(web: WebServer, web_users: dict[Role, str]) -> None:
    response = web.client().login(USER_NAMES[Role.AUTHOR], next_path="//evil.example/steal")
    assert response.headers["location"] == "/"


# --- CSRF and origins ---------------------------------------------------------------------------


def test_a_post_needs_the_sessions_csrf_token(web: WebServer, web_login: Login) -> None:
    author = web_login("author")
    missing = author.post_form("/logout", {}, csrf=False)
    wrong = author.post_form("/logout", {"csrf_token": "0" * 64})
    other = web_login("approver")
    borrowed = author.post_form("/logout", {"csrf_token": other.csrf})
    for response in (missing, wrong, borrowed):
        assert response.status_code == 403
        assert "nothing was done" in response.text
        _has_security_headers(response)
    assert author.get("/").status_code == 200  # still logged in
    by_header = author.post_form("/logout", {}, csrf=False, headers={"X-CSRF-Token": author.csrf})
    assert by_header.status_code == 303  # htmx sends it as a header


def test_a_post_from_another_origin_is_refused(web: WebServer, web_login: Login) -> None:
    author = web_login("author")
    foreign = author.post_form("/logout", {}, headers={"Origin": "https://evil.example"})
    opaque = author.post_form("/logout", {}, headers={"Origin": "null"})
    assert foreign.status_code == opaque.status_code == 403
    own = author.post_form("/logout", {}, headers={"Origin": web.base_url})
    assert own.status_code == 303


def test_a_post_without_a_session_is_refused(web: WebServer, web_users: dict[Role, str]) -> None:
    response = web.client().post_form("/logout", {"csrf_token": "x"})
    assert response.status_code == 403
    assert "Your session has ended" in response.text


def test_the_login_form_needs_its_double_submit_token(
    web: WebServer, web_users: dict[Role, str]
) -> None:
    visitor = web.client()
    visitor.get("/login")
    fields = {"name": USER_NAMES[Role.AUTHOR], "password": PASSWORD}
    assert (
        visitor.request("POST", "/login", data={**fields, "csrf_token": "forged"}).status_code
        == 403
    )
    assert visitor.request("POST", "/login", data=fields).status_code == 403
    stranger = web.client()  # the field, but no cookie
    assert (
        stranger.request("POST", "/login", data={**fields, "csrf_token": visitor.csrf}).status_code
        == 403
    )
    foreign = visitor.request(
        "POST",
        "/login",
        data={**fields, "csrf_token": visitor.csrf},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
    assert visitor.login(USER_NAMES[Role.AUTHOR]).status_code == 303


# --- the role guard and the error pages -----------------------------------------------------------


@require(Permission.APPROVE)
def _approve_something(visit: Visit) -> Response:
    return visit.redirect("/", flash="Approved <b>it</b>.")


@require(Permission.VIEW)
def _fails(visit: Visit) -> Response:
    raise RuntimeError("internal detail: password=hunter2")


@require(Permission.VIEW)
def _bad_input(visit: Visit) -> Response:
    raise UsageError("--reason: say why, for the team and the audit log")


TEST_ROUTES = [
    Route("/test/approve", _approve_something, methods=["GET", "POST"]),
    Route("/test/fails", _fails),
    Route("/test/bad", _bad_input, methods=["GET", "POST"]),
]


@pytest.fixture
def guarded(web_servers: StartWeb, web_users: dict[Role, str]) -> WebServer:
    """A dashboard with the test's own routes beside the real ones."""
    return web_servers(TEST_ROUTES)


def _login(server: WebServer, role: Role) -> WebClient:
    client = server.client()
    assert client.login(USER_NAMES[role]).status_code == 303
    return client


def test_a_missing_permission_is_a_403_naming_the_role(guarded: WebServer) -> None:
    author = _login(guarded, Role.AUTHOR)
    for response in (author.get("/test/approve"), author.post_form("/test/approve", {})):
        assert response.status_code == 403
        assert "This needs the approver role" in response.text
        assert "Logged in as <strong>ana</strong>" in response.text
        _has_security_headers(response)
    approver = _login(guarded, Role.APPROVER)
    done = approver.post_form("/test/approve", {})
    assert done.status_code == 303
    shown = approver.get("/")
    assert (
        '<div class="flash flash-success" role="status"><p><span class="flash-kind">Done:</span>'
        " Approved &lt;b&gt;it&lt;/b&gt;.</p></div>" in shown.text
    )


def test_an_error_is_a_500_page_without_its_details(
    guarded: WebServer, caplog: pytest.LogCaptureFixture
) -> None:
    author = _login(guarded, Role.AUTHOR)
    with caplog.at_level(logging.ERROR, logger="campaign.web"):
        response = author.get("/test/fails")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "hunter2" not in response.text and "Traceback" not in response.text
    _has_security_headers(response)
    assert "GET /test/fails failed" in caplog.text  # the operator's log has the traceback


def test_bad_input_is_a_400_page_with_the_services_message(guarded: WebServer) -> None:
    author = _login(guarded, Role.AUTHOR)
    response = author.post_form("/test/bad", {})
    assert response.status_code == 400
    assert "--reason: say why, for the team and the audit log" in response.text


def test_every_answer_carries_the_security_headers(web: WebServer, web_login: Login) -> None:
    visitor = web.client()
    author = web_login("author")
    answers = [
        visitor.get("/login"),
        visitor.get("/"),
        visitor.get("/no/such/page"),
        visitor.get("/healthz"),
        visitor.get("/static/common.css"),
        author.get("/"),
        author.get("/no/such/page"),
    ]
    for response in answers:
        _has_security_headers(response)
    assert answers[5].headers["cache-control"] == "no-store"
    assert answers[2].status_code == answers[6].status_code == 404
    assert "There is no page at this address" in answers[6].text


# --- static files ---------------------------------------------------------------------------------


def test_static_files_are_served_with_their_type_and_cache_headers(web: WebServer) -> None:
    client = web.client()
    css = client.get("/static/common.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert "max-age" in css.headers["cache-control"]
    again = client.get("/static/common.css", headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    script = client.get("/static/preview.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/static/nothing.css").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/../web/app.py",
        "/static/../../pyproject.toml",
        "/static/%2e%2e/pages.py",
        "/static/%2e%2e%2fpages.py",
        "/static/..%2F..%2Fweb%2Fapp.py",
        "/static/%2e%2e",
        "/static/.hidden.css",
        "/static/common.css%00.js",
        "/static/..%5cpages.py",
    ],
)
def test_static_paths_stay_in_the_static_folder(web: WebServer, path: str) -> None:
    """Sent as written (httpx would remove the dots before sending)."""
    host, port = web.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status in (400, 404), (path, response.status)
    assert b"import" not in body and b"[project]" not in body


# --- the overview and the campaign parameter ------------------------------------------------------


def test_the_overview_shows_the_campaign_and_the_pauses_on_every_page(
    web: WebServer, web_login: Login, synced_campaign: str, database: Database
) -> None:
    author = web_login("author")
    page = author.get("/")
    assert page.status_code == 200
    assert "Orange the World 2026" in page.text
    assert "Deliveries by state" in page.text
    assert "pause-banner" not in page.text
    control.pause(database, Scope(embassy_id="be-paris"), reason="storm <warning>", actor="ben")
    for response in (author.get("/"), author.get("/no/such/page")):
        assert 'class="pause-banner" role="status"' in response.text
        assert "embassy be-paris</strong>: storm &lt;warning&gt;" in response.text


def test_the_campaign_parameter_is_passed_on_and_checked(
    web: WebServer, web_login: Login, synced_campaign: str
) -> None:
    author = web_login("author")
    page = author.get(f"/?campaign={synced_campaign}")
    assert f'href="/calendar?campaign={synced_campaign}"' in page.text
    unknown = author.get("/?campaign=nope")
    assert unknown.status_code == 400
    assert "nope: no such campaign" in unknown.text


# --- serving ------------------------------------------------------------------------------------


def test_it_listens_on_loopback_unless_told(caplog: pytest.LogCaptureFixture) -> None:
    with listen(LOOPBACK, 0) as sock:
        assert sock.getsockname()[0] == "127.0.0.1"
    assert start_in_thread.__defaults__ == (LOOPBACK, 0)
    with caplog.at_level(logging.WARNING, logger="campaign.web"), listen("0.0.0.0", 0):
        pass
    assert "put a TLS reverse proxy in front" in caplog.text
    help_text = CliRunner().invoke(main, ["web", "--help"]).output
    assert "--host ADDRESS" in help_text and "[default: 127.0.0.1]" in help_text


def test_a_port_in_use_is_a_clear_error(database_url: str, database: Database) -> None:
    with listen(LOOPBACK, 0) as taken:
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(main, ["web", "--port", port, "--database", database_url])
    assert result.exit_code == 1
    assert f"--host 127.0.0.1 --port {port}: cannot listen there" in result.output


def test_the_access_log_shows_no_session(
    web: WebServer, web_login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        author = web_login("author")
        author.get("/")
    assert author.session and author.session not in caplog.text
    assert PASSWORD not in caplog.text


def test_a_stopped_server_refuses_connections(database: Database) -> None:
    _thread, port, stop = start_in_thread(create_app(database))
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").text == "ok\n"
    stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")


@pytest.mark.slow
def test_the_daemon_serves_the_dashboard_and_stops_it(
    tmp_path: Path,
    database_url: str,
    database: Database,
    synced_campaign: str,
    web_users: dict[Role, str],
) -> None:
    time = SteppedTime(tmp_path / "clock", dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    config = write_config(tmp_path / "d1.toml", daemon={**DAEMON, "worker_name": "d1"})
    daemon = DaemonProcess(
        {"CAMPAIGN_DATABASE": database_url},
        ["--config", str(config), *time.args, "--web-port", "0"],
        tmp_path / "d1.log",
    ).start()
    try:
        found = wait_for(
            lambda: re.search(r"dashboard on http://127\.0\.0\.1:(\d+)/", daemon.output()),
            what="the dashboard's address in the daemon's log",
        )
        client = WebClient(f"http://127.0.0.1:{found[1]}")
        assert client.login(USER_NAMES[Role.AUTHOR]).status_code == 303
        assert "Orange the World 2026" in client.get("/").text
        client.close()
        assert daemon.stop() == 0, daemon.output()
    finally:
        daemon.__exit__()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{found[1]}/healthz")
    assert client.session and client.session not in daemon.output()


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_campaign_web_serves_until_stopped(
    tmp_path: Path, database_url: str, database: Database, stop_with: signal.Signals
) -> None:
    log = tmp_path / "web.log"
    command = [sys.executable, "-c", "from scheduler.cli import main; main()", "web", "--port", "0"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--database", database_url], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        found = wait_for(
            lambda: re.search(r"dashboard on http://127\.0\.0\.1:(\d+)/", log.read_text()),
            what="the dashboard's address in its log",
        )
        assert httpx.get(f"http://127.0.0.1:{found[1]}/healthz").text == "ok\n"
        process.send_signal(stop_with)
        assert process.wait(timeout=60) == 0, log.read_text()
    finally:
        process.kill()
        process.wait()
    assert "Traceback" not in log.read_text()


def test_the_daemon_refuses_a_dashboard_on_a_dry_run() -> None:
    result = CliRunner().invoke(main, ["run", "--dry-run", "--web-port", "0"])
    assert result.exit_code == 2
    assert "--web-port and --dry-run" in result.output
