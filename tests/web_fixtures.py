"""The dashboard served for real: uvicorn on 127.0.0.1 (a free port) in a thread, on the
``database`` fixture (SQLite and PostgreSQL), with a clock the test moves; its users; and
``WebClient``, which logs in through the real form and posts forms with the page's CSRF token.

    def test_x(web: WebServer, web_login: Login) -> None:
        author = web_login("author")                  # a WebClient logged in as the author
        page = author.get("/")                        # the session cookie goes with it
        done = author.post_form("/pauses", {"scope": "all", "reason": "why"})
        assert done.status_code == 303
        anonymous = web.client()                      # nobody logged in

The cookies are Secure, and httpx keeps a Secure cookie off plain http, so ``WebClient``
keeps the dashboard's cookies itself and sends them explicitly. ``web.clock`` is both clocks
of the app (campaign time and the sessions' wall time): ``web.clock.advance(...)``.
``synced_campaign`` puts the builders' campaign (tests/campaign_builders.py) in the store.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from campaign_builders import write_campaign
from starlette.routing import BaseRoute

from scheduler.service import users
from scheduler.service.sync import sync_file
from scheduler.service.users import Role
from scheduler.store.database import Database
from scheduler.web.app import create_app
from scheduler.web.server import start_in_thread

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
"""The test clock's first instant: the day before the builders' campaign window opens."""
PASSWORD = "correct horse battery staple"
"""Every test user's password."""
USER_NAMES = {Role.AUTHOR: "ana", Role.APPROVER: "ben", Role.ADMIN: "ada"}
"""The user of each role that ``web_users`` creates."""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class WebClock:
    """Time that moves only when the test says."""

    instant: dt.datetime = START

    def now(self) -> dt.datetime:
        return self.instant

    def advance(self, delta: dt.timedelta) -> None:
        self.instant += delta


@dataclass
class WebClient:
    """A browser of sorts: real HTTP, its own cookies, no redirects followed."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None
    """The CSRF token read from the last page that carried one."""
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30)

    @property
    def session(self) -> str | None:
        return self.cookies.get("campaign_session")

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = dict(options.pop("headers", None) or {})
        if self.cookies and "Cookie" not in headers:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **options)
        self.http.cookies.clear()  # ours are in self.cookies, sent explicitly
        self._keep_cookies(response)
        found = (
            _CSRF.search(response.text)
            if "html" in response.headers.get("content-type", "")
            else None
        )
        if found:
            self.csrf = found[1]
        return response

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post_form(
        self, path: str, data: dict[str, Any], *, csrf: bool = True, **options: Any
    ) -> httpx.Response:
        """POST ``data`` as a form, with the CSRF token of the last page seen (read from the
        overview first if no page gave one yet); ``csrf=False`` sends none."""
        if csrf and "csrf_token" not in data:
            if self.csrf is None:
                self.get("/")
            data = {**data, "csrf_token": self.csrf}
        return self.request("POST", path, data=data, **options)

    def login(
        self, name: str, password: str = PASSWORD, next_path: str | None = None
    ) -> httpx.Response:
        """Through the real form (with its double-submit token); the response to the POST."""
        form = self.get("/login")
        assert form.status_code == 200, form.text
        fields = {"name": name, "password": password, "csrf_token": self.csrf or ""}
        if next_path is not None:
            fields["next"] = next_path
        self.csrf = None
        return self.request("POST", "/login", data=fields)

    def _keep_cookies(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def close(self) -> None:
        self.http.close()


@dataclass
class WebServer:
    """One dashboard process, as far as a test can tell: an app served on a port."""

    database: Database
    clock: WebClock
    base_url: str
    stop: Callable[[], None]
    clients: list[WebClient] = field(default_factory=list)

    def client(self) -> WebClient:
        made = WebClient(self.base_url)
        self.clients.append(made)
        return made

    def close(self) -> None:
        for made in self.clients:
            made.close()
        self.stop()


def serve_dashboard(
    database: Database, clock: WebClock, routes: Iterable[BaseRoute] = ()
) -> WebServer:
    """A dashboard on ``database`` (with ``routes`` added: a test's own handlers)."""
    app = create_app(database, clock=clock.now, session_clock=clock.now)
    app.router.routes.extend(routes)
    _thread, port, stop = start_in_thread(app, "127.0.0.1", 0)
    return WebServer(database, clock, f"http://127.0.0.1:{port}", stop)


@pytest.fixture
def web_clock() -> WebClock:
    return WebClock()


StartWeb = Callable[..., WebServer]
"""``web_servers(routes=())``: another dashboard on the test's database."""


@pytest.fixture
def web_servers(database: Database, web_clock: WebClock) -> Iterator[StartWeb]:
    """Starts dashboards on the test's database (several: as several processes would), with
    a test's own ``routes`` if given; all stopped at the end."""
    started: list[WebServer] = []

    def start(routes: Iterable[BaseRoute] = ()) -> WebServer:
        started.append(serve_dashboard(database, web_clock, routes))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def web(web_servers: StartWeb) -> WebServer:
    """A dashboard on the test's database."""
    return web_servers()


@pytest.fixture
def web_users(database: Database, web_clock: WebClock) -> dict[Role, str]:
    """An author, an approver and an admin (``USER_NAMES``), all with ``PASSWORD``."""
    for role, name in USER_NAMES.items():
        users.add_user(database, name, role, PASSWORD, actor="setup", now=web_clock.now())
    return dict(USER_NAMES)


Login = Callable[[str], WebClient]


@pytest.fixture
def web_login(web: WebServer, web_users: dict[Role, str]) -> Login:
    """``web_login("author")`` (or "approver", "admin"): a client logged in with that role."""

    def login(role: str) -> WebClient:
        client = web.client()
        response = client.login(web_users[Role(role)])
        assert response.status_code == 303, response.text
        assert client.session, "no session cookie after logging in"
        return client

    return login


@pytest.fixture
def synced_campaign(tmp_path: Path, database: Database, web_clock: WebClock) -> str:
    """The builders' campaign (three embassies, one post) synced into the store; its id."""
    path = write_campaign(tmp_path / "campaign")
    sync_file(path, database, actor="ines", now=web_clock.now())
    return "orange-2026"
