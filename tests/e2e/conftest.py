"""Browser fixtures: one Chromium for the tests of this folder (Debian's, through Playwright),
a fresh context per page, and a log of each test's console errors, uncaught errors, CSP
violations and attempts to leave 127.0.0.1, any of which fails the test.

Without the browser the tests skip, saying why; with CAMPAIGN_REQUIRE_BROWSER=1 (set by .ci/run)
they fail instead. Every test in this folder is marked ``e2e``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from e2e.browsing import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    REQUIRE_BROWSER,
    BrowserLog,
    launch_arguments,
    sandboxed,
)

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
def open_page(browser: Browser, browser_log: BrowserLog) -> Iterator[OpenPage]:
    """``open_page(size="desktop" | "phone")``: a page in a context of its own (1280x900, or a
    390x844 touch screen), watched by ``browser_log``; closed when the test ends."""
    contexts = []

    def opened(size: Literal["desktop", "phone"] = "desktop") -> Page:
        phone = size == "phone"
        context = browser.new_context(
            viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone
        )
        contexts.append(context)
        browser_log.watch(context)
        return context.new_page()

    yield opened
    for context in contexts:
        for page in context.pages:
            page.evaluate("0")  # reports the page sent before this round trip have arrived
        context.close()
    problems = browser_log.problems()
    assert not problems, "the browser saw:\n" + "\n".join(problems)


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A desktop page (1280x900)."""
    return open_page("desktop")


@pytest.fixture
def phone_page(open_page: OpenPage) -> Page:
    """A phone page (390x844, touch)."""
    return open_page("phone")
