"""Browser fixtures: one Chromium for the tests of this folder (Debian's, through Playwright),
a fresh context per page, and a log of each test's console errors, uncaught errors, CSP
violations and attempts to leave 127.0.0.1, any of which fails the test.

Without the browser the tests skip, saying why; with CAMPAIGN_REQUIRE_BROWSER=1 (set by .ci/run)
they fail instead. Every test in this folder is marked ``e2e``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from campaign_builders import post, write_campaign
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from store_fixtures import fresh_postgres_schema
from web_fixtures import WebClock, WebServer

from e2e.browsing import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    REQUIRE_BROWSER,
    BrowserLog,
    launch_arguments,
    sandboxed,
)
from e2e.dashboard import FILE_POSTS, TWO_PERSON, Dashboard, MeetOfficer, Officer, OpenContext
from scheduler.service.sync import sync_file
from scheduler.service.users import Role
from scheduler.store.database import Database

HERE = Path(__file__).resolve().parent

OpenPage = Callable[..., Page]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium from ``CAMPAIGN_CHROMIUM`` (default /usr/bin/chromium), for every test
    of this package; stopped after them, since Playwright's sync API keeps an event loop
    running in the main thread while it runs (``asyncio.run`` would refuse to start)."""
    if not CHROMIUM.is_file():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CAMPAIGN_CHROMIUM)"
        if REQUIRE_BROWSER:
            pytest.fail(f"CAMPAIGN_REQUIRE_BROWSER=1 and {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=launch_arguments(),
            chromium_sandbox=sandboxed(),
        )
        yield chromium
        chromium.close()


@pytest.fixture
def browser_log() -> BrowserLog:
    """What went wrong in this test's pages (all of them); checked when the test ends."""
    return BrowserLog()


@pytest.fixture
def open_context(browser: Browser, browser_log: BrowserLog) -> Iterator[OpenContext]:
    """``open_context(size="desktop" | "phone", **options)``: a browser context of its own
    (1280x900, or a 390x844 touch screen; ``options`` as for ``Browser.new_context``, e.g.
    ``storage_state``), watched by ``browser_log``; closed when the test ends, and the log
    checked."""
    contexts: list[BrowserContext] = []

    def opened(size: Literal["desktop", "phone"] = "desktop", **options: Any) -> BrowserContext:
        phone = size == "phone"
        context = browser.new_context(
            viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone, **options
        )
        contexts.append(context)
        browser_log.watch(context)
        return context

    yield opened
    for context in contexts:
        for page in context.pages:
            page.evaluate("0")  # reports the page sent before this round trip have arrived
        context.close()
    problems = browser_log.problems()
    assert not problems, "the browser saw:\n" + "\n".join(problems)


@pytest.fixture
def open_page(open_context: OpenContext) -> OpenPage:
    """``open_page(size="desktop" | "phone") -> Page``: a page in a context of its own."""

    def opened(size: Literal["desktop", "phone"] = "desktop") -> Page:
        return open_context(size).new_page()

    return opened


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A desktop page (1280x900)."""
    return open_page("desktop")


@pytest.fixture
def phone_page(open_page: OpenPage) -> Page:
    """A phone page (390x844, touch)."""
    return open_page("phone")


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The dashboard's browser tests run on a SQLite file; a test that runs on PostgreSQL too
    says ``@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)``."""
    if request.param == "sqlite":
        return str(tmp_path / "campaign.db")
    url: str = request.getfixturevalue("postgres_server")
    fresh_postgres_schema(url)
    return url


@pytest.fixture
def dashboard(
    tmp_path: Path,
    database: Database,
    database_url: str,
    web: WebServer,
    web_users: dict[Role, str],
    web_clock: WebClock,
) -> Dashboard:
    """The real dashboard on 127.0.0.1 over the store: the builders' campaign (three
    embassies; posts ``launch`` on day 1 and ``day2``) synced by ines, with approval required
    and the two-person rule; users ana (author), ben (approver), ada (admin)."""
    posts = [post(post_id, day=day) for day, post_id in enumerate(FILE_POSTS, start=1)]
    path = write_campaign(tmp_path / "campaign", posts=posts, policies=TWO_PERSON)
    sync_file(path, database, actor="ines", now=web_clock.now())
    return Dashboard(web.base_url, database, database_url, path.parent)


@pytest.fixture
def officer(
    request: pytest.FixtureRequest, dashboard: Dashboard, open_context: OpenContext
) -> MeetOfficer:
    """``officer("ana")``: someone at the dashboard in a browser of their own (not yet logged
    in); screenshots named after the test."""
    tag = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def meet(name: str, size: str = "desktop") -> Officer:
        return Officer(name, dashboard, open_context, tag, size)

    return meet
