"""The queue form in Chromium: the live check beside it follows what is typed and ticked (htmx
under the dashboard's policy, without eval), on a desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from web_fixtures import PASSWORD, WebServer

from e2e.browsing import BrowserLog, screenshot
from scheduler.service import queue
from scheduler.service.users import Role

LONG = "{embassy} stands with survivors " * 12


def _log_in(page: Page, web: WebServer, name: str) -> None:
    page.goto(f"{web.base_url}/login")
    page.locator("[name=name]").fill(name)
    page.locator("[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Logged in as {name}")).to_be_visible()
    page.goto(f"{web.base_url}/queue/new")
    expect(page.get_by_role("heading", name="Queue a post")).to_be_visible()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_live_check_follows_the_form(
    size: str,
    open_page: object,
    browser_log: BrowserLog,
    web: WebServer,
    web_users: dict[Role, str],
    synced_campaign: str,
) -> None:
    assert callable(open_page)
    page: Page = open_page(size)
    _log_in(page, web, web_users[Role.AUTHOR])
    check = page.locator("#live-check")
    page.get_by_label("Text in en (the default language)").fill(LONG)
    expect(check).to_contain_text("too long", timeout=10_000)
    expect(check).to_contain_text("Next free slot")
    page.get_by_label("Text in en (the default language)").fill("{embassy} is with you.")
    expect(check).to_contain_text("No problems found", timeout=10_000)
    page.get_by_role("checkbox", name="bluesky").check()
    expect(check.locator("tbody tr")).to_have_count(1, timeout=10_000)  # bluesky, en only
    page.get_by_role("radio", name="At a time").check()
    expect(check).not_to_contain_text("Next free slot", timeout=10_000)
    screenshot(page, f"queue-live-check-{size}", full_page=True)
    assert queue.list_posts(web.database, synced_campaign) == []
